//! How each write replaces its row, the counters the store keeps, reactions and redaction.

use super::support::*;

/// `UpdateTalk` replaces everything but `id`, `kind`, `direct_pair`,
/// `creator_id`, `created_seq` and `tm_create`.
pub async fn update_talk_replaces_all_but_the_identity_of_the_talk(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let pair = AgentPair::new(agent("x"), agent("y"));
    let update = Talk {
        id: group.talk.id,
        kind: TalkKind::Direct,
        direct_pair: pair.clone(),
        name: "New name".into(),
        detail: "New detail".into(),
        status: TalkStatus::Closed,
        creator_id: agent("mallory"),
        member_count: 7,
        version: 9,
        created_seq: 99,
        tm_create: at(100),
        tm_update: at(101),
        tm_close: Some(at(102)),
    };
    apply(store, ChangeSetBuilder::new().update_talk(&update).build(), "an update of every field").await;
    let expected = Talk {
        id: group.talk.id,
        kind: group.talk.kind,
        direct_pair: None,
        creator_id: group.talk.creator_id.clone(),
        created_seq: group.talk.created_seq,
        tm_create: group.talk.tm_create,
        ..update
    };
    assert_eq!(read_talk(store, group.talk.id).await, expected);
    let pair = pair.unwrap_or_else(|| panic!("two agents"));
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none(), "an update does not give a talk a pair");
}

/// `UpdateParticipant` replaces only status, reason, `left_seq` and `tm_left`.
pub async fn update_participant_replaces_only_how_the_record_ended(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let update = Participant {
        id: bob.id,
        talk_id: talk_id(),
        agent_id: agent("mallory"),
        status: ParticipantStatus::Left,
        left_reason: Some(LeftReason::Removed),
        seq: 99,
        joined_seq: 98,
        left_seq: None,
        tm_joined: at(100),
        tm_left: Some(at(101)),
    };
    let events =
        apply(store, ChangeSetBuilder::new().end_participant(&update).build(), "an update of every field").await;
    let expected = Participant {
        status: ParticipantStatus::Left,
        left_reason: Some(LeftReason::Removed),
        left_seq: Some(events[0].seq),
        tm_left: Some(at(101)),
        ..bob.clone()
    };
    assert_eq!(read_participant(store, bob).await, expected);
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [expected], "the record stays bob's, in its talk");
    assert!(store.agent_records(group.talk.id, &agent("mallory")).await.must("agent_records").is_empty());
}

/// `UpdateMessage` replaces only `text`, `medias`, `version`,
/// `request_digest`, `tm_update`, `tm_edit`, `tm_delete`; the counters the
/// store keeps stay as they are.
pub async fn update_message_replaces_only_the_messages_own_fields(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let original = Message { request_digest: Some("digest".into()), ..message(group.talk.id, &agent("alice"), "v1") };
    apply(store, ChangeSetBuilder::new().insert_message(&original).build(), "send").await;
    let m = read_message(store, original.id).await;
    send_reply(store, &m, "bob", "a reply").await;
    react(store, &m, "👍", "bob", at(1)).await;
    let m = read_message(store, m.id).await;
    let update = Message {
        id: m.id,
        talk_id: talk_id(),
        parent_id: Some(message_id()),
        kind: MessageKind::System,
        agent_id: Some(agent("mallory")),
        text: "v2".into(),
        medias: vec![media("photo.png")],
        mentions: Vec::new(),
        system: Some(SystemInfo {
            event: SystemEvent::TalkRenamed,
            agent_id: agent("mallory"),
            actor_id: None,
            name: Some("x".into()),
        }),
        reactions: Vec::new(),
        reply_count: 42,
        version: 5,
        seq: 999,
        request_digest: None,
        tm_create: at(50),
        tm_update: at(51),
        tm_edit: Some(at(52)),
        tm_delete: Some(at(53)),
    };
    apply(store, ChangeSetBuilder::new().update_message(&update).build(), "an update of every field").await;
    let expected = Message {
        text: "v2".into(),
        medias: vec![media("photo.png")],
        version: 5,
        request_digest: None,
        tm_update: at(51),
        tm_edit: Some(at(52)),
        tm_delete: Some(at(53)),
        ..m.clone()
    };
    assert_eq!(read_message(store, m.id).await, expected, "only the message's own fields were replaced");
    assert_eq!(expected.reply_count, 1);
    assert_eq!(expected.reactions, [summary("👍", 1, &["bob"])]);
    let listed = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(listed, [expected], "the message stays where it was listed");
}

/// `InsertMessage` stores the message as given, but with empty reactions and
/// a zero reply count whatever the value says.
pub async fn inserted_message_is_stored_as_given_with_empty_counters(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let info = SystemInfo {
        event: SystemEvent::ParticipantJoined,
        agent_id: agent("alice"),
        actor_id: Some(agent("alice")),
        name: None,
    };
    let system = Message {
        kind: MessageKind::System,
        agent_id: None,
        system: Some(info),
        ..message(group.talk.id, &agent("alice"), "alice joined the talk.")
    };
    let normal = Message {
        medias: vec![media("a.png"), media("b.png")],
        request_digest: Some("abc".into()),
        reactions: vec![summary("👍", 3, &["x", "y", "z"])],
        reply_count: 9,
        version: 3,
        tm_create: at(1),
        tm_update: at(2),
        tm_edit: Some(at(3)),
        ..message(group.talk.id, &agent("alice"), "with everything")
    };
    for (m, seq) in [(system, 3), (normal, 4)] {
        apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "send").await;
        let expected = Message { reactions: Vec::new(), reply_count: 0, seq, ..m.clone() };
        assert_eq!(read_message(store, m.id).await, expected, "a message is stored as given, counters empty");
    }
}

/// `IncrementReplyCount` adds one per write, several in one change set too.
pub async fn increment_reply_count_adds_one_per_write(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    for i in 0..3 {
        send_reply(store, &m, "bob", &format!("reply {i}")).await;
    }
    assert_eq!(read_message(store, m.id).await.reply_count, 3);
    let twice = ChangeSet {
        writes: vec![Write::IncrementReplyCount(m.id), Write::IncrementReplyCount(m.id)],
        ..ChangeSet::default()
    };
    apply(store, twice, "two increments in one change set").await;
    assert_eq!(read_message(store, m.id).await.reply_count, 5);
    let other = send(store, group.talk.id, "alice", "no replies").await;
    assert_eq!(read_message(store, other.id).await.reply_count, 0, "other messages keep their count");
}

/// `SetMessageVersion` sets the version and leaves every other field, the
/// reactions and the reply count as they are.
pub async fn set_message_version_moves_only_the_version(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    send_reply(store, &m, "bob", "reply").await;
    react(store, &m, "👍", "bob", at(5)).await;
    let before = read_message(store, m.id).await;
    let set = Write::SetMessageVersion { message_id: m.id, version: before.version + 3 };
    apply(store, ChangeSetBuilder::new().write(set).build(), "set the version").await;
    let after = read_message(store, m.id).await;
    assert_eq!(after, Message { version: before.version + 3, ..before }, "only the version moved");
}

// ============================================================ reactions

/// Each emoji's summary counts its reactions exactly and lists its reactors
/// in the order they reacted, in `message`, `messages` and `replies` alike.
pub async fn reaction_summaries_count_and_list_reactors_in_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol", "dave"]).await;
    let m = send(store, group.talk.id, "alice", "top").await;
    let r = send_reply(store, &m, "bob", "reply").await;
    for target in [&m, &r] {
        for who in ["bob", "carol", "alice"] {
            react(store, target, "👍", who, at(1)).await;
        }
        react(store, target, "heart", "dave", at(2)).await;
    }
    let expected = [summary("👍", 3, &["bob", "carol", "alice"]), summary("heart", 1, &["dave"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected);
    let top = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(top[0].reactions, expected, "messages answers each message as message does");
    let replies = store.replies(m.id, None, ALL, LISTED).await.must("replies");
    assert_eq!(replies[0].reactions, expected, "replies answers each message as message does");
}

/// `reactors_listed` caps the agents listed per emoji (the first ones); the
/// count stays exact.
pub async fn reaction_summaries_list_at_most_reactors_listed(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "popular").await;
    let reply_to = send_reply(store, &m, "alice", "reply").await;
    let agents = ["a1", "a2", "a3", "a4", "a5"];
    for who in agents {
        react(store, &m, "👍", who, at(1)).await;
        react(store, &reply_to, "👍", who, at(1)).await;
    }
    react(store, &m, "tada", "a9", at(2)).await;
    let two = store.message(m.id, 2).await.must("message").unwrap_or_else(|| panic!("message"));
    assert_eq!(two.reactions, [summary("👍", 5, &["a1", "a2"]), summary("tada", 1, &["a9"])]);
    let none = store.message(m.id, 0).await.must("message").unwrap_or_else(|| panic!("message"));
    assert_eq!(none.reactions, [summary("👍", 5, &[]), summary("tada", 1, &[])], "0 lists no agent, counts stay");
    let listed = store.messages(group.talk.id, true, None, ALL, 3).await.must("messages");
    for each in &listed {
        assert_eq!(reactor_names(&each.reactions[0]), ["a1", "a2", "a3"], "messages caps the listed reactors");
        assert_eq!(each.reactions[0].count, 5);
    }
    let replies = store.replies(m.id, None, ALL, 1).await.must("replies");
    assert_eq!(replies[0].reactions, [summary("👍", 5, &["a1"])], "replies caps the listed reactors");
}

/// Emoji are listed in the order of their first use; later reactions and
/// the removal of a reaction that is not an emoji's last keep that order.
pub async fn emoji_keep_the_order_of_their_first_use(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let first = react(store, &m, "👍", "a", at(1)).await;
    react(store, &m, "heart", "b", at(2)).await;
    react(store, &m, "tada", "c", at(3)).await;
    react(store, &m, "👍", "d", at(4)).await;
    react(store, &m, "tada", "e", at(5)).await;
    react(store, &m, "heart", "f", at(6)).await;
    let expected = [summary("👍", 2, &["a", "d"]), summary("heart", 2, &["b", "f"]), summary("tada", 2, &["c", "e"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected);
    unreact(store, &m, &first, at(7)).await;
    let expected = [summary("👍", 1, &["d"]), summary("heart", 2, &["b", "f"]), summary("tada", 2, &["c", "e"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "an emoji with reactions left keeps its place");
}

/// An emoji whose last reaction is removed loses its place; a later reaction
/// with it takes the last place.
pub async fn emoji_whose_last_reaction_goes_loses_its_place(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let thumbs = react(store, &m, "👍", "a", at(1)).await;
    react(store, &m, "heart", "b", at(2)).await;
    react(store, &m, "tada", "c", at(3)).await;
    unreact(store, &m, &thumbs, at(4)).await;
    assert_eq!(read_message(store, m.id).await.reactions, [summary("heart", 1, &["b"]), summary("tada", 1, &["c"])]);
    assert!(store.reactions(m.id, &emoji("👍"), None, ALL).await.must("reactions").is_empty());
    react(store, &m, "👍", "d", at(5)).await;
    let expected = [summary("heart", 1, &["b"]), summary("tada", 1, &["c"]), summary("👍", 1, &["d"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "the emoji used again takes the last place");
}

/// Inserting a reaction sets the message's `tm_update` to the reaction's
/// `tm_create`; deleting one sets it to the given time; neither moves the
/// message's version.
pub async fn reaction_changes_set_the_message_tm_update(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    assert_eq!(m.tm_update, epoch());
    let first = react(store, &m, "👍", "a", at(10)).await;
    assert_eq!(read_message(store, m.id).await.tm_update, at(10));
    react(store, &m, "👍", "b", at(20)).await;
    assert_eq!(read_message(store, m.id).await.tm_update, at(20));
    unreact(store, &m, &first, at(30)).await;
    let stored = read_message(store, m.id).await;
    assert_eq!((stored.tm_update, stored.version), (at(30), m.version), "the store never moves a message's version");
}

/// `DeleteAllReactions` removes every reaction of one message (none is
/// fine), and frees their keys; other messages keep theirs.
pub async fn delete_all_reactions_removes_every_reaction_of_one_message(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "cleared").await;
    let kept = send(store, group.talk.id, "alice", "kept").await;
    for target in [&m, &kept] {
        react(store, target, "👍", "a", at(1)).await;
        react(store, target, "👍", "b", at(1)).await;
        react(store, target, "heart", "a", at(1)).await;
    }
    let all = ChangeSet { writes: vec![Write::DeleteAllReactions(m.id)], ..ChangeSet::default() };
    apply(store, all.clone(), "deleting every reaction").await;
    assert!(read_message(store, m.id).await.reactions.is_empty());
    assert!(store.reaction(m.id, &emoji("👍"), &agent("a")).await.must("reaction").is_none());
    assert!(store.reactions(m.id, &emoji("heart"), None, ALL).await.must("reactions").is_empty());
    assert_eq!(read_message(store, kept.id).await.reactions.len(), 2, "another message keeps its reactions");
    apply(store, all, "deleting every reaction of a message that has none").await;
    react(store, &m, "👍", "a", at(2)).await;
    assert_eq!(read_message(store, m.id).await.reactions, [summary("👍", 1, &["a"])]);
    let again = reaction(m.id, &emoji("👍"), &agent("a"), at(3));
    let changes = ChangeSetBuilder::new()
        .write(Write::DeleteAllReactions(m.id))
        .insert_reaction(m.talk_id, &again)
        .insert_reaction(m.talk_id, &reaction(m.id, &emoji("tada"), &agent("b"), at(3)))
        .build();
    apply(store, changes, "deleting every reaction, then reacting again in the same change set").await;
    let expected = [summary("👍", 1, &["a"]), summary("tada", 1, &["b"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "the keys were freed for the later writes");
    assert_eq!(read_reaction(store, &again).await.tm_create, at(3));
}

/// `reaction` answers one reaction as stored, and `None` for any other key.
pub async fn reaction_reads_one_reaction_or_none(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let other = send(store, group.talk.id, "alice", "other").await;
    let r = react(store, &m, "👍", "bob", at(5)).await;
    assert_eq!(r, Reaction { message_id: m.id, emoji: emoji("👍"), agent_id: agent("bob"), seq: 5, tm_create: at(5) });
    let (thumbs, bob) = (emoji("👍"), agent("bob"));
    assert!(store.reaction(m.id, &emoji("heart"), &bob).await.must("reaction").is_none(), "another emoji");
    assert!(store.reaction(m.id, &thumbs, &agent("carol")).await.must("reaction").is_none(), "another agent");
    assert!(store.reaction(other.id, &thumbs, &bob).await.must("reaction").is_none(), "another message");
}

/// `reactions` lists one emoji's reactions in the order they were added,
/// keyset on `seq > after`, at most `limit`.
pub async fn reactions_are_listed_in_the_order_added_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let order = ["g", "c", "e", "a", "f", "b", "d"];
    for (i, who) in order.iter().enumerate() {
        react(store, &m, "👍", who, at(i as i64)).await;
        react(store, &m, "heart", who, at(i as i64)).await;
    }
    let thumbs = emoji("👍");
    let all = store.reactions(m.id, &thumbs, None, ALL).await.must("reactions");
    assert_eq!(ids(&all, |r| r.agent_id.as_str().to_owned()), order, "reactions are in the order they were added");
    assert!(all.iter().all(|r| r.emoji == thumbs && r.message_id == m.id));
    let fetch = |after, limit| async move { store.reactions(m.id, &thumbs, after, limit).await.must("reactions") };
    let paged = read_pages("reactions", Order::Ascending, 3, |r: &Reaction| r.seq, fetch).await;
    assert_eq!(paged, all, "pages of reactions read the list once, in order");
    assert!(store.reactions(m.id, &thumbs, None, 0).await.must("reactions").is_empty());
    let last = all.last().map(|r| r.seq);
    assert!(store.reactions(m.id, &thumbs, last, ALL).await.must("reactions").is_empty());
}

// ============================================================ redaction

/// `RedactMessage` removes the message's content from every event already in
/// the log; other messages' events keep theirs.
pub async fn redact_message_removes_its_content_from_earlier_events(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let original = Message { medias: vec![media("secret.png")], ..message(group.talk.id, &agent("alice"), "secret") };
    apply(store, ChangeSetBuilder::new().insert_message(&original).build(), "send").await;
    react(store, &read_message(store, original.id).await, "👍", "bob", at(1)).await;
    let m = read_message(store, original.id).await;
    apply(store, ChangeSetBuilder::new().update_message(&edited(&m, "still secret", at(2))).build(), "edit").await;
    let other = send(store, group.talk.id, "bob", "not secret").await;
    let answer = send_reply(store, &m, "bob", "a reply").await;
    let gone = tombstone(&read_message(store, m.id).await, at(3));
    apply(store, ChangeSetBuilder::new().delete_message(&gone).build(), "delete").await;
    let payloads = |events: &[Event]| -> Vec<Message> {
        events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::MessageCreated(p) | EventData::MessageUpdated(p) | EventData::MessageDeleted(p) => {
                    Some(p.clone())
                }
                _ => None,
            })
            .collect()
    };
    let log = all_events(store).await;
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    for (what, events) in [("events", &log), ("agent_events", &seen)] {
        let messages = payloads(events);
        let of_m: Vec<&Message> = messages.iter().filter(|p| p.id == m.id).collect();
        assert_eq!(of_m.len(), 3, "{what}: message_created, message_updated and message_deleted of the message");
        for payload in of_m {
            assert!(
                payload.text.is_empty() && payload.medias.is_empty() && payload.reactions.is_empty(),
                "{what}: a payload of the deleted message kept content: {payload:?}"
            );
        }
        let texts: Vec<&str> = messages.iter().filter(|p| p.id != m.id).map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["not secret", "a reply"], "{what}: other messages keep their content");
    }
    assert_eq!(read_message(store, other.id).await.text, "not secret");
    assert_eq!(read_message(store, answer.id).await.parent_id, Some(m.id), "replies keep pointing at the tombstone");
    let stored = read_message(store, m.id).await;
    assert!(stored.text.is_empty() && stored.medias.is_empty() && stored.reactions.is_empty());
}
