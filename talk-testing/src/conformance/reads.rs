//! Every read: order, filters and keyset pages.

use super::support::*;

/// Every read answers `None` or an empty list for what does not exist.
pub async fn reads_of_missing_rows_answer_none_or_empty(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (nobody, thumbs) = (agent("nobody"), emoji("👍"));
    let pair = AgentPair::new(agent("a"), agent("b")).unwrap_or_else(|| panic!("two agents"));
    assert_eq!(store.head().await.must("head"), 0);
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 0);
    assert!(store.talk(talk_id()).await.must("talk").is_none());
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none());
    assert!(store.talks_of_agent(&nobody, None, None, ALL).await.must("talks_of_agent").is_empty());
    assert!(store.participant(participant_id()).await.must("participant").is_none());
    assert!(store.agent_records(talk_id(), &nobody).await.must("agent_records").is_empty());
    assert!(store.agent_memberships(&nobody, 0).await.must("agent_memberships").is_empty());
    assert!(store.participants(talk_id(), None, None, ALL).await.must("participants").is_empty());
    assert!(store.message(message_id(), LISTED).await.must("message").is_none());
    assert!(store.messages(talk_id(), true, None, ALL, LISTED).await.must("messages").is_empty());
    assert!(store.replies(message_id(), None, ALL, LISTED).await.must("replies").is_empty());
    assert!(store.reaction(message_id(), &thumbs, &nobody).await.must("reaction").is_none());
    assert!(store.reactions(message_id(), &thumbs, None, ALL).await.must("reactions").is_empty());
    assert!(store.events(0, ALL).await.must("events").is_empty());
    assert!(store.agent_events(&nobody, None, 0, ALL).await.must("agent_events").is_empty());
    let group = seed_group(store, "alice", &[]).await;
    assert!(store.agent_records(group.talk.id, &nobody).await.must("agent_records").is_empty());
    assert!(store.messages(group.talk.id, true, None, ALL, LISTED).await.must("messages").is_empty());
    assert!(store.agent_events(&nobody, Some(group.talk.id), 0, ALL).await.must("agent_events").is_empty());
}

/// `direct_talk` finds a direct talk by its pair, whichever agent is named
/// first; group talks are never found by it.
pub async fn direct_talk_is_found_by_its_pair(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (alice, bob) = (agent("alice"), agent("bob"));
    let talk = direct_talk(&bob, &alice);
    apply(store, create_talk(&talk, &[participant(talk.id, &bob), participant(talk.id, &alice)]), "direct").await;
    seed_group(store, "alice", &["carol"]).await;
    let stored = read_talk(store, talk.id).await;
    for pair in [AgentPair::new(alice.clone(), bob.clone()), AgentPair::new(bob.clone(), alice.clone())] {
        let pair = pair.unwrap_or_else(|| panic!("two agents"));
        assert_eq!(store.direct_talk(&pair).await.must("direct_talk"), Some(stored.clone()));
    }
    let pair = AgentPair::new(alice, agent("carol")).unwrap_or_else(|| panic!("two agents"));
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none(), "a group talk has no pair");
}

/// `talks_of_agent` lists newest first (descending `created_seq`), keyset on
/// `created_seq < before`, at most `limit`.
pub async fn talks_of_agent_are_newest_first_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mut created = Vec::new();
    for i in 0..7 {
        let others: &[&str] = if i % 2 == 0 { &["bob"] } else { &[] };
        created.push(seed_group(store, "alice", others).await.talk);
        seed_group(store, "carol", &[]).await;
    }
    let alice = agent("alice");
    let all = store.talks_of_agent(&alice, None, None, ALL).await.must("talks_of_agent");
    let expected: Vec<Talk> = created.iter().rev().cloned().collect();
    assert_eq!(all, expected, "talks are newest first, each as stored");
    let bob_talks = store.talks_of_agent(&agent("bob"), None, None, ALL).await.must("talks_of_agent");
    assert_eq!(ids(&bob_talks, |t| t.id), [created[6].id, created[4].id, created[2].id, created[0].id]);
    let fetch =
        |before, limit| async move { store.talks_of_agent(&agent("alice"), None, before, limit).await.must("talks") };
    let paged = read_pages("talks_of_agent", Order::Descending, 3, |t: &Talk| t.created_seq, fetch).await;
    assert_eq!(paged, all, "pages of talks read the list once, in order");
    assert!(store.talks_of_agent(&alice, None, None, 0).await.must("talks_of_agent").is_empty());
    let oldest = Some(created[0].created_seq);
    assert!(store.talks_of_agent(&alice, None, oldest, ALL).await.must("talks_of_agent").is_empty());
}

/// `talks_of_agent` with a status lists only the talks in that status, with
/// the same order and keyset.
pub async fn talks_of_agent_filter_by_status(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mut talks = Vec::new();
    for i in 0..6 {
        let group = seed_group(store, "alice", &[]).await;
        let talk = if i % 3 == 0 {
            let shut = closed(&group.talk, at(i));
            apply(store, ChangeSetBuilder::new().close_talk(&shut).build(), "close").await;
            read_talk(store, group.talk.id).await
        } else {
            group.talk
        };
        talks.push(talk);
    }
    talks.reverse();
    let alice = agent("alice");
    for status in [TalkStatus::Active, TalkStatus::Closed] {
        let expected: Vec<Talk> = talks.iter().filter(|t| t.status == status).cloned().collect();
        let listed = store.talks_of_agent(&alice, Some(status), None, ALL).await.must("talks_of_agent");
        assert_eq!(listed, expected, "the {status:?} talks, newest first");
        let fetch = |before, limit| async move {
            store.talks_of_agent(&agent("alice"), Some(status), before, limit).await.must("talks")
        };
        let paged = read_pages("talks_of_agent by status", Order::Descending, 1, |t: &Talk| t.created_seq, fetch).await;
        assert_eq!(paged, expected, "pages of {status:?} talks read the list once");
    }
    assert_eq!(store.talks_of_agent(&alice, None, None, ALL).await.must("talks_of_agent"), talks);
}

/// `talks_of_agent` lists a talk only while the agent has an active record
/// in it: not after the record ends, again once the agent is back.
pub async fn talks_of_agent_list_only_talks_with_an_active_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let first = seed_group(store, "alice", &["bob"]).await;
    let second = seed_group(store, "alice", &["bob"]).await;
    let bob = agent("bob");
    let listed = |status| async move {
        let talks = store.talks_of_agent(&agent("bob"), status, None, ALL).await.must("talks_of_agent");
        ids(&talks, |t| t.id)
    };
    assert_eq!(listed(None).await, [second.talk.id, first.talk.id]);
    end_member(store, &first.members[1], LeftReason::Removed).await;
    assert_eq!(listed(None).await, [second.talk.id], "a talk whose record of bob ended is not listed");
    assert_eq!(listed(Some(TalkStatus::Active)).await, [second.talk.id]);
    add_member(store, first.talk.id, "bob").await;
    assert_eq!(listed(None).await, [second.talk.id, first.talk.id], "a talk bob is back in is listed, in its place");
    end_member(store, &second.members[1], LeftReason::Left).await;
    let records = store.agent_records(first.talk.id, &bob).await.must("agent_records");
    end_member(store, &records[1], LeftReason::Left).await;
    assert!(listed(None).await.is_empty(), "an agent with only ended records is in no talk");
    let alice = store.talks_of_agent(&agent("alice"), None, None, ALL).await.must("talks_of_agent");
    assert_eq!(alice.len(), 2, "other agents' listings are untouched");
}

/// `participants` lists a talk's records in the order they joined
/// (ascending `seq`), with a status filter, keyset on `seq > after`.
pub async fn participants_are_listed_in_join_order_with_status_filter_and_keyset(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol", "dave"]).await;
    let other = seed_group(store, "erin", &["bob"]).await;
    end_member(store, &group.members[1], LeftReason::Left).await;
    let bob_again = add_member(store, group.talk.id, "bob").await;
    add_member(store, other.talk.id, "frank").await;
    let mut all: Vec<Participant> = Vec::new();
    for record in group.members.iter().chain([&bob_again]) {
        all.push(read_participant(store, record).await);
    }
    let listed = store.participants(group.talk.id, None, None, ALL).await.must("participants");
    assert_eq!(listed, all, "every record, in join order, as stored");
    for status in [ParticipantStatus::Active, ParticipantStatus::Left] {
        let expected: Vec<Participant> = all.iter().filter(|p| p.status == status).cloned().collect();
        let listed = store.participants(group.talk.id, Some(status), None, ALL).await.must("participants");
        assert_eq!(listed, expected, "the {status:?} records, in join order");
    }
    let talk = group.talk.id;
    let fetch = |after, limit| async move { store.participants(talk, None, after, limit).await.must("participants") };
    let paged = read_pages("participants", Order::Ascending, 2, |p: &Participant| p.seq, fetch).await;
    assert_eq!(paged, all, "pages of participants read the list once, in order");
    let active_after = store
        .participants(group.talk.id, Some(ParticipantStatus::Active), Some(all[1].seq), 2)
        .await
        .must("participants");
    assert_eq!(ids(&active_after, |p| p.id), [all[2].id, all[3].id], "the filter applies after the cursor");
    assert!(store.participants(group.talk.id, None, None, 0).await.must("participants").is_empty());
}

/// `agent_records` lists every record of one agent in one talk, active or
/// not, in join order; no other agent's, no other talk's.
pub async fn agent_records_list_every_record_of_the_agent_in_join_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol"]).await;
    let other = seed_group(store, "bob", &[]).await;
    let first = end_member(store, &group.members[1], LeftReason::Left).await;
    let second = add_member(store, group.talk.id, "bob").await;
    let second = end_member(store, &second, LeftReason::Removed).await;
    let third = add_member(store, group.talk.id, "bob").await;
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [first, second, third], "every record of bob in the talk, in join order");
    let records = store.agent_records(other.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [other.members[0].clone()]);
}

/// `talk_and_records` answers what `talk` and `agent_records` answer, read
/// together: the talk with every record of the agent in it (none for an
/// agent never in it), and `None` for a talk that does not exist.
pub async fn talk_and_records_answer_the_talk_with_the_agents_records(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let first = end_member(store, &group.members[1], LeftReason::Left).await;
    let second = add_member(store, group.talk.id, "bob").await;
    let talk = read_talk(store, group.talk.id).await;
    let found = store.talk_and_records(group.talk.id, &agent("bob")).await.must("talk_and_records");
    let found = found.unwrap_or_else(|| panic!("the talk exists"));
    assert_eq!(found.talk, talk, "the talk as `talk` reads it");
    assert_eq!(found.records, [first, second], "every record of bob in the talk, in join order");
    let stranger = store.talk_and_records(group.talk.id, &agent("carol")).await.must("talk_and_records");
    assert_eq!(stranger.map(|f| f.records), Some(Vec::new()), "a stranger sees the talk with no records");
    let missing = store.talk_and_records(talk_id(), &agent("bob")).await.must("talk_and_records");
    assert_eq!(missing, None, "a missing talk");
}

/// `message_and_talk` answers what `message` answers (reactions and reply
/// count current, at most `reactors_listed` reactors) with what
/// `talk_and_records` answers for its talk; `None` for a missing message.
pub async fn message_and_talk_answer_the_message_with_its_talk_and_the_agents_records(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    send_reply(store, &m, "bob", "hi").await;
    react(store, &m, "👍", "bob", at(10)).await;
    react(store, &m, "👍", "carol", at(11)).await;
    let found = store.message_and_talk(m.id, &agent("bob"), 1).await.must("message_and_talk");
    let (message, talk) = found.unwrap_or_else(|| panic!("the message exists"));
    assert_eq!(message, store.message(m.id, 1).await.must("message").unwrap_or_else(|| panic!("the message")));
    assert_eq!(message.reply_count, 1, "the reply count is current");
    assert_eq!(message.reactions, [summary("👍", 2, &["bob"])], "reactions current, one reactor listed");
    assert_eq!(talk.talk, read_talk(store, group.talk.id).await, "its talk");
    assert_eq!(talk.records, [group.members[1].clone()], "bob's records in its talk");
    let stranger = store.message_and_talk(m.id, &agent("dave"), 1).await.must("message_and_talk");
    assert_eq!(stranger.map(|(_, t)| t.records), Some(Vec::new()), "a stranger gets no records");
    let missing = store.message_and_talk(message_id(), &agent("bob"), 1).await.must("message_and_talk");
    assert_eq!(missing, None, "a missing message");
}

/// `agent_memberships` lists an agent's records in every talk that are
/// active or ended after `after` (`left_seq > after`), ascending `seq`.
pub async fn agent_memberships_list_active_records_and_those_ended_after_a_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &["bob"]).await;
    let t2 = seed_group(store, "carol", &["bob"]).await;
    let t3 = seed_group(store, "dave", &["bob"]).await;
    seed_group(store, "erin", &[]).await;
    let ended_t2 = end_member(store, &t2.members[1], LeftReason::Left).await;
    let ended_t3 = end_member(store, &t3.members[1], LeftReason::Removed).await;
    let back_t3 = add_member(store, t3.talk.id, "bob").await;
    let bob = agent("bob");
    let (left2, left3) = (ended_t2.left_seq.unwrap_or(0), ended_t3.left_seq.unwrap_or(0));
    let memberships = |after| async move { store.agent_memberships(&agent("bob"), after).await.must("memberships") };
    let all = [t1.members[1].clone(), ended_t2.clone(), ended_t3.clone(), back_t3.clone()];
    assert_eq!(memberships(0).await, all, "every record active or ended after 0, ascending seq");
    assert_eq!(memberships(left2 - 1).await, all, "a record that ended after the cursor is listed");
    assert_eq!(memberships(left2).await, [t1.members[1].clone(), ended_t3.clone(), back_t3.clone()]);
    assert_eq!(memberships(left3).await, [t1.members[1].clone(), back_t3.clone()], "only active ones remain");
    assert_eq!(store.agent_memberships(&bob, u64::MAX).await.must("memberships"), [t1.members[1].clone(), back_t3]);
}

/// `messages` lists newest first (descending `seq`), top-level only unless
/// `include_replies`, keyset on `seq < before`, at most `limit`.
pub async fn messages_are_newest_first_and_top_level_unless_replies_are_included(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let other = seed_group(store, "carol", &[]).await;
    let m1 = send(store, group.talk.id, "alice", "m1").await;
    send(store, other.talk.id, "carol", "elsewhere").await;
    let m2 = send(store, group.talk.id, "bob", "m2").await;
    let r1 = send_reply(store, &m1, "bob", "r1").await;
    let m3 = send(store, group.talk.id, "alice", "m3").await;
    let r2 = send_reply(store, &m3, "alice", "r2").await;
    let (m1, m3) = (read_message(store, m1.id).await, read_message(store, m3.id).await);
    let top = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(top, [m3.clone(), m2.clone(), m1.clone()], "top-level messages, newest first, as stored");
    let with_replies = store.messages(group.talk.id, true, None, ALL, LISTED).await.must("messages");
    assert_eq!(with_replies, [r2, m3.clone(), r1, m2.clone(), m1.clone()], "all messages, newest first");
    for include_replies in [false, true] {
        let talk = group.talk.id;
        let fetch = |before, limit| async move {
            store.messages(talk, include_replies, before, limit, LISTED).await.must("messages")
        };
        let paged = read_pages("messages", Order::Descending, 2, |m: &Message| m.seq, fetch).await;
        let expected = if include_replies { &with_replies } else { &top };
        assert_eq!(&paged, expected, "pages of messages (replies: {include_replies}) read the list once");
    }
    let before_m2 = store.messages(group.talk.id, false, Some(m2.seq), ALL, LISTED).await.must("messages");
    assert_eq!(before_m2, [m1], "the cursor is exclusive");
    assert!(store.messages(group.talk.id, true, None, 0, LISTED).await.must("messages").is_empty());
}

/// `replies` lists one message's replies oldest first (ascending `seq`),
/// keyset on `seq > after`, at most `limit`.
pub async fn replies_are_oldest_first_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let parent = send(store, group.talk.id, "alice", "parent").await;
    let other = send(store, group.talk.id, "alice", "other parent").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(send_reply(store, &parent, "bob", &format!("reply {i}")).await);
        send_reply(store, &other, "alice", "noise").await;
    }
    let all = store.replies(parent.id, None, ALL, LISTED).await.must("replies");
    assert_eq!(all, expected, "replies oldest first, as stored");
    let parent_id = parent.id;
    let fetch = |after, limit| async move { store.replies(parent_id, after, limit, LISTED).await.must("replies") };
    let paged = read_pages("replies", Order::Ascending, 2, |m: &Message| m.seq, fetch).await;
    assert_eq!(paged, expected, "pages of replies read the list once, in order");
    assert!(store.replies(parent.id, None, 0, LISTED).await.must("replies").is_empty());
    assert!(store.replies(expected[0].id, None, ALL, LISTED).await.must("replies").is_empty(), "a reply has none");
}

/// The store's secret: 32 bytes, not all alike, the same at every call.
pub async fn the_secret_key_is_made_once_and_kept(store: Arc<dyn Store>) {
    let key = store.secret_key().await.must("secret_key");
    assert!(key.iter().any(|&b| b != key[0]), "32 random bytes, not {key:?}");
    seed_group(store.as_ref(), "alice", &[]).await;
    assert_eq!(store.secret_key().await.must("secret_key"), key, "the same key at every call");
}
