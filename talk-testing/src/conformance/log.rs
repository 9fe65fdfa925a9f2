//! Numbering of the event log, and `ChangeSet::resolve` filling every `seq`.

use super::support::*;

/// An empty store has head 0 and an empty log; the first change set's events
/// are numbered 1, 2, 3… in their order, with their talk and time kept.
pub async fn first_change_set_is_numbered_from_one(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert_eq!(store.head().await.must("head"), 0, "the head of an empty store is 0");
    assert!(all_events(store).await.is_empty(), "the log of an empty store is empty");
    let alice = agent("alice");
    let talk = group_talk(&alice, "Plans");
    let changes = ChangeSetBuilder::new()
        .at(at(7))
        .insert_talk(&talk)
        .insert_participant(&participant(talk.id, &alice))
        .insert_participant(&participant(talk.id, &agent("bob")))
        .build();
    let events = apply(store, changes, "creating a talk").await;
    assert_eq!(seqs(&events), [1, 2, 3], "the first events are numbered from 1, consecutively");
    assert_eq!(types(&events), ["talk_created", "participant_joined", "participant_joined"], "events keep their order");
    assert!(events.iter().all(|e| e.talk_id == talk.id && e.tm_create == at(7)), "events keep their talk and time");
    assert_eq!(store.head().await.must("head"), 3, "the head is the last committed seq");
}

/// `apply` answers the events exactly as the log then keeps them, and each
/// change set continues where the previous one ended.
pub async fn apply_returns_the_events_as_stored(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let alice = agent("alice");
    let talk = group_talk(&alice, "Plans");
    let first = apply(store, create_talk(&talk, &[participant(talk.id, &alice)]), "creating a talk").await;
    let talk = read_talk(store, talk.id).await;
    let (m1, m2) = (message(talk.id, &alice, "one"), message(talk.id, &alice, "two"));
    let changes = ChangeSetBuilder::new()
        .at(at(3))
        .guard_talk_version(&talk)
        .update_talk(&Talk { name: "Renamed".into(), ..touched(&talk, at(3)) })
        .insert_message(&m1)
        .insert_message(&m2)
        .build();
    let second = apply(store, changes, "renaming and sending").await;
    assert_eq!(seqs(&first), [1, 2]);
    assert_eq!(seqs(&second), [3, 4, 5], "the next change set continues at head + 1");
    assert_eq!(types(&second), ["talk_updated", "message_created", "message_created"]);
    let log = all_events(store).await;
    assert_eq!(log, [first, second].concat(), "apply answers the events as the log keeps them");
}

/// A change set refused by a guard or a unique key takes no seq: the next
/// one committed gets head + 1, and the log has no hole.
pub async fn refused_change_set_uses_no_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let stale = Talk { version: group.talk.version + 5, ..group.talk.clone() };
    let m = message(group.talk.id, &agent("alice"), "refused");
    let guarded = ChangeSetBuilder::new().guard_talk_version(&stale).insert_message(&m).build();
    refuse(store, guarded, Conflict::TalkVersion, "a change set with a stale guard").await;
    let sent = send(store, group.talk.id, "alice", "first").await;
    assert_eq!(sent.seq, 4, "the change set after a refused one takes head + 1");
    let duplicate = ChangeSetBuilder::new().insert_message(&Message { text: "again".into(), ..sent.clone() }).build();
    refuse(store, duplicate, Conflict::MessageIdTaken, "a change set with a taken message id").await;
    let next = send(store, group.talk.id, "bob", "second").await;
    assert_eq!(next.seq, 5, "the change set after a refused one takes head + 1");
    assert_log_without_holes(store, "after refused change sets").await;
}

/// An empty change set answers an empty list and changes nothing.
pub async fn empty_change_set_answers_nothing_and_changes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let log = all_events(store).await;
    let events = apply(store, ChangeSet::default(), "an empty change set").await;
    assert!(events.is_empty(), "an empty change set answers no events");
    assert_eq!(store.head().await.must("head"), 2, "an empty change set takes no seq");
    assert_eq!(all_events(store).await, log, "an empty change set leaves the log as it was");
    assert_eq!(read_talk(store, group.talk.id).await, group.talk);
    let m = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(m.seq, 3);
}

/// A change set with writes but no events applies its writes and takes no seq.
pub async fn change_set_without_events_takes_no_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    let events = apply(
        store,
        ChangeSet { writes: vec![Write::IncrementReplyCount(m.id)], ..ChangeSet::default() },
        "a write alone",
    )
    .await;
    assert!(events.is_empty(), "a change set without events answers no events");
    assert_eq!(store.head().await.must("head"), 3, "a change set without events takes no seq");
    assert_eq!(read_message(store, m.id).await.reply_count, 1, "its writes are applied");
    assert_eq!(send(store, group.talk.id, "alice", "next").await.seq, 4);
}

/// `events(after, limit)` answers the events with `seq > after`, ascending,
/// at most `limit`; pages chained on the last seq read the whole log.
pub async fn events_are_read_in_order_after_a_cursor(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    for i in 0..5 {
        send(store, group.talk.id, "alice", &format!("message {i}")).await;
    }
    assert_eq!(store.head().await.must("head"), 8);
    let log = all_events(store).await;
    assert_eq!(seqs(&log), (1..=8).collect::<Vec<_>>());
    assert_eq!(seqs(&store.events(2, 3).await.must("events")), [3, 4, 5]);
    assert_eq!(seqs(&store.events(5, 100).await.must("events")), [6, 7, 8]);
    assert!(store.events(8, 10).await.must("events").is_empty(), "nothing after the head");
    assert!(store.events(100, 10).await.must("events").is_empty(), "nothing after a cursor above the head");
    assert!(store.events(0, 0).await.must("events").is_empty(), "a limit of 0 answers nothing");
    let fetch = |after: Option<u64>, limit| async move { store.events(after.unwrap_or(0), limit).await.must("events") };
    let paged = read_pages("events", Order::Ascending, 3, |e: &Event| e.seq, fetch).await;
    assert_eq!(paged, log, "pages of events read the whole log once, in order");
}

// ========================================================= resolve

/// An inserted talk's `created_seq` is the seq of its `talk_created` event,
/// in the row and in the payloads of its change set.
pub async fn inserted_talk_takes_the_seq_of_its_talk_created_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed_group(store, "alice", &["bob"]).await;
    let carol = agent("carol");
    let talk = group_talk(&carol, "Second");
    let changes = ChangeSetBuilder::new()
        .insert_talk(&talk)
        .insert_participant(&participant(talk.id, &carol))
        .update_talk(&touched(&talk, at(1)))
        .build();
    let events = apply(store, changes, "creating and updating a talk").await;
    assert_eq!(seqs(&events), [4, 5, 6]);
    assert_eq!(read_talk(store, talk.id).await.created_seq, 4, "created_seq is the seq of talk_created");
    for event in &events {
        if let EventData::TalkCreated(t) | EventData::TalkUpdated(t) = &event.data {
            assert_eq!(t.created_seq, 4, "the {} payload carries the talk's created_seq", event.data.type_name());
        }
    }
}

/// An inserted record spans from the first event of its change set
/// (`joined_seq`), is listed by its own `participant_joined` (`seq`), in the
/// row and in the payload.
pub async fn inserted_participant_spans_from_the_first_event_of_its_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    assert_eq!((group.members[0].joined_seq, group.members[0].seq), (1, 2), "a creator spans from talk_created");
    let bob = participant(group.talk.id, &agent("bob"));
    let system = message(group.talk.id, &agent("alice"), "bob joined");
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .update_talk(&Talk { member_count: 2, ..touched(&group.talk, at(1)) })
        .insert_participant(&bob)
        .insert_message(&system)
        .build();
    let events = apply(store, changes, "adding a participant").await;
    assert_eq!(seqs(&events), [3, 4, 5]);
    let stored = read_participant(store, &bob).await;
    assert_eq!(
        Participant { seq: 4, joined_seq: 3, ..bob.clone() },
        stored,
        "seq is its own event's, joined_seq the first"
    );
    let EventData::ParticipantJoined(payload) = &events[1].data else { panic!("expected participant_joined") };
    assert_eq!((payload.seq, payload.joined_seq), (4, 3), "the participant_joined payload carries both seqs");
}

/// An ended record's `left_seq` is the seq of its own `participant_left`,
/// wherever it stands in the change set; its other seqs stay.
pub async fn ended_participant_takes_the_seq_of_its_participant_left_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let left = ended(bob, LeftReason::Removed, at(9));
    let changes = ChangeSetBuilder::new()
        .guard_active(bob)
        .insert_message(&message(group.talk.id, &agent("alice"), "bob was removed"))
        .end_participant(&left)
        .update_talk(&touched(&group.talk, at(9)))
        .build();
    let events = apply(store, changes, "removing a participant").await;
    assert_eq!(types(&events), ["message_created", "participant_left", "talk_updated"]);
    let stored = read_participant(store, bob).await;
    assert_eq!(stored, Participant { left_seq: Some(5), ..left }, "left_seq is the seq of its own participant_left");
    assert_eq!((stored.joined_seq, stored.seq), (1, 3), "an ended record keeps its joined_seq and seq");
    let EventData::ParticipantLeft(payload) = &events[1].data else { panic!("expected participant_left") };
    assert_eq!(payload.left_seq, Some(5), "the participant_left payload carries left_seq");
}

/// An inserted message's `seq` is the seq of its `message_created` event, in
/// the row and in every payload of its change set.
pub async fn inserted_message_takes_the_seq_of_its_message_created_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let alice = agent("alice");
    let (m1, m2) = (message(group.talk.id, &alice, "one"), message(group.talk.id, &alice, "two"));
    let changes = ChangeSetBuilder::new()
        .insert_message(&m1)
        .insert_message(&m2)
        .update_message(&edited(&m1, "one!", at(1)))
        .build();
    let events = apply(store, changes, "sending two messages").await;
    assert_eq!(seqs(&events), [3, 4, 5]);
    assert_eq!(read_message(store, m1.id).await.seq, 3);
    assert_eq!(read_message(store, m2.id).await.seq, 4);
    for event in &events {
        if let EventData::MessageCreated(m) | EventData::MessageUpdated(m) = &event.data {
            let expected = if m.id == m1.id { 3 } else { 4 };
            assert_eq!(m.seq, expected, "the {} payload carries the message's seq", event.data.type_name());
        }
    }
}

/// An inserted reaction's `seq` is the seq of its `reaction_added` event.
pub async fn inserted_reaction_takes_the_seq_of_its_reaction_added_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let thumbs = emoji("thumbsup");
    let (r1, r2) = (reaction(m.id, &thumbs, &agent("alice"), at(1)), reaction(m.id, &thumbs, &agent("bob"), at(1)));
    let changes = ChangeSetBuilder::new().insert_reaction(m.talk_id, &r1).insert_reaction(m.talk_id, &r2).build();
    let events = apply(store, changes, "adding two reactions").await;
    assert_eq!(seqs(&events), [5, 6]);
    assert_eq!(read_reaction(store, &r1).await, Reaction { seq: 5, ..r1 });
    assert_eq!(read_reaction(store, &r2).await, Reaction { seq: 6, ..r2 });
}

/// A change set that inserts a row without the event that numbers it (see
/// `ChangeSet::resolve`) is refused with `StoreError::Backend`, applies
/// nothing and takes no `seq`; the next change set is numbered on.
pub async fn inserted_row_without_its_event_is_refused_whole(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let head = store.head().await.must("head");
    let alice = agent("alice");
    let other = group_talk(&alice, "unnumbered");
    let unnumbered = [
        Write::InsertTalk(other.clone()),
        Write::InsertParticipant(participant(group.talk.id, &agent("carol"))),
        Write::InsertMessage(message(group.talk.id, &alice, "no event")),
        Write::InsertReaction(reaction(m.id, &emoji("tada"), &alice, at(1))),
    ];
    for write in unnumbered {
        // A numbered write first: it must not stay behind either.
        let fine = message(group.talk.id, &alice, "numbered");
        let mut changes = ChangeSetBuilder::new().insert_message(&fine).build();
        changes.writes.push(write.clone());
        let refused = store.apply(changes).await;
        assert!(matches!(refused, Err(StoreError::Backend(_))), "{write:?} without its event: {refused:?}");
        assert_eq!(store.message(fine.id, 0).await.must("message"), None, "nothing of a refused change set stays");
        assert_eq!(store.head().await.must("head"), head, "a refused change set takes no seq");
    }
    assert_eq!(store.talk(other.id).await.must("talk"), None);
    assert_eq!(read_message(store, m.id).await.reactions, Vec::new());
    let next = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(next.seq, head + 1, "the next change set is numbered on");
}
