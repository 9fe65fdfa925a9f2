//! Read state: the marker every participant record keeps, the numbers a
//! store keeps so that counts never scan a talk (`Store::read_numbers`),
//! mentions, and the marker guard.

use super::support::*;
use talk_core::{ReadMarker, ReadNumbers};

/// The marker of `record`, which must exist.
async fn marker(store: &dyn Store, record: &Participant) -> ReadMarker {
    store
        .read_marker(record.id)
        .await
        .must("reading a read marker")
        .unwrap_or_else(|| panic!("the marker of record {} should exist", record.id))
}

/// Moves `record`'s marker to `read_seq` at `now`, guarded on where it is.
fn move_marker(record: &Participant, from: u64, read_seq: u64, now: Timestamp) -> ChangeSet {
    ChangeSetBuilder::new()
        .guard(Guard::MarkerAt { participant_id: record.id, read_seq: from })
        .write(Write::SetReadMarker { participant_id: record.id, read_seq, sent: None, tm_read: now })
        .build()
}

/// Sends a message of `record`'s agent that mentions `mentions`, and marks
/// it read for its author, as one change set.
async fn send_read(store: &dyn Store, record: &Participant, text: &str, mentions: &[&str]) -> Message {
    let m = Message {
        mentions: mentions.iter().map(|a| agent(a)).collect(),
        ..message(record.talk_id, &record.agent_id, text)
    };
    let changes = ChangeSetBuilder::new()
        .insert_message(&m)
        .write(Write::SetReadMarker { participant_id: record.id, read_seq: 0, sent: Some(m.id), tm_read: at(7) })
        .build();
    apply(store, changes, "sending a message that marks it read").await;
    read_message(store, m.id).await
}

/// Sends a message that mentions `mentions`, without moving any marker.
async fn send_mentioning(store: &dyn Store, talk: TalkId, author: &str, mentions: &[&str]) -> Message {
    let m = Message { mentions: mentions.iter().map(|a| agent(a)).collect(), ..message(talk, &agent(author), "hi") };
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a message with mentions").await;
    read_message(store, m.id).await
}

/// The numbers of `who` in `talk`, as the store answers them for that talk
/// alone and among all of the agent's talks (they must agree).
async fn numbers(store: &dyn Store, who: &str, talk: TalkId) -> Option<ReadNumbers> {
    let alone = store.read_numbers(&agent(who), Some(&[talk])).await.must("read numbers of one talk");
    assert!(alone.len() <= 1, "one entry per talk at most: {alone:?}");
    let all = store.read_numbers(&agent(who), None).await.must("read numbers of every talk");
    let among = all.iter().find(|n| n.talk_id == talk).copied();
    assert_eq!(alone.first().copied(), among, "the numbers of one talk, asked alone or among all");
    among
}

/// The numbers the contract defines for `who`'s marker at `read_seq` in
/// `talk`, recounted from the talk's messages as the store lists them.
async fn recount(store: &dyn Store, who: &str, talk: TalkId, read_seq: u64) -> ReadNumbers {
    let me = agent(who);
    let messages = store.messages(talk, true, None, ALL, 0).await.must("every message of a talk");
    let above: Vec<&Message> = messages.iter().filter(|m| m.kind == MessageKind::Normal && m.seq > read_seq).collect();
    let others = || above.iter().filter(|m| m.agent_id.as_ref() != Some(&me));
    ReadNumbers {
        talk_id: talk,
        normal_after: above.len() as u64,
        own_after: above.iter().filter(|m| m.agent_id.as_ref() == Some(&me)).count() as u64,
        deleted_after: others().filter(|m| m.is_deleted()).count() as u64,
        mentions_after: others().filter(|m| !m.is_deleted() && m.mentions.contains(&me)).count() as u64,
    }
}

/// A record's marker starts at its own `participant_joined`, names the
/// newest message at or below it, and moved at the record's `tm_joined`.
pub async fn inserted_record_marker_starts_at_its_join(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let first = marker(store.as_ref(), &group.members[0]).await;
    assert_eq!(
        (first.read_seq, first.read_message_id, first.participant_seq),
        (group.members[0].seq, None, group.members[0].seq),
        "a record of a talk without messages"
    );
    assert_eq!((first.talk_id, first.agent_id.clone()), (group.talk.id, agent("alice")));
    assert_eq!(first.tm_read, group.members[0].tm_joined);
    let before = send(store.as_ref(), group.talk.id, "alice", "before bob").await;
    let bob = add_member(store.as_ref(), group.talk.id, "bob").await;
    let joined = marker(store.as_ref(), &bob).await;
    assert_eq!((joined.read_seq, joined.read_message_id), (bob.seq, Some(before.id)));
    assert_eq!(
        numbers(store.as_ref(), "bob", group.talk.id).await,
        Some(recount(store.as_ref(), "bob", group.talk.id, bob.seq).await)
    );
}

/// `SetReadMarker` moves a marker forward and back; the marker names the
/// newest message of any type at or below it; `sent` moves it to a message
/// of the same change set.
pub async fn set_read_marker_moves_the_marker_and_names_the_newest_message_at_or_below(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let (talk, bob) = (group.talk.id, &group.members[1]);
    let one = send(store.as_ref(), talk, "alice", "one").await;
    let two = send(store.as_ref(), talk, "alice", "two").await;
    apply(store.as_ref(), move_marker(bob, bob.seq, two.seq, at(5)), "reading forward").await;
    let read = marker(store.as_ref(), bob).await;
    assert_eq!((read.read_seq, read.read_message_id, read.tm_read), (two.seq, Some(two.id), at(5)));
    apply(store.as_ref(), move_marker(bob, two.seq, two.seq - 1, at(6)), "marking unread back").await;
    let back = marker(store.as_ref(), bob).await;
    assert_eq!((back.read_seq, back.read_message_id), (two.seq - 1, Some(one.id)), "between messages: the one below");
    let mine = send_read(store.as_ref(), bob, "bob's answer", &[]).await;
    let sent = marker(store.as_ref(), bob).await;
    assert_eq!((sent.read_seq, sent.read_message_id, sent.tm_read), (mine.seq, Some(mine.id), at(7)));
}

/// The marker guard holds at the marker as stored and refuses a marker that
/// moved or a missing record; `SetReadMarker` on a missing record conflicts.
pub async fn guard_on_marker_refuses_a_moved_marker_and_a_missing_record(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let bob = &group.members[1];
    let m = send(store.as_ref(), group.talk.id, "alice", "one").await;
    apply(store.as_ref(), move_marker(bob, bob.seq, m.seq, at(1)), "a guard at the marker holds").await;
    refuse(store.as_ref(), move_marker(bob, bob.seq, bob.seq, at(2)), Conflict::MarkerMoved, "a stale marker").await;
    let stranger = participant(group.talk.id, &agent("nobody"));
    refuse(store.as_ref(), move_marker(&stranger, 0, 1, at(2)), Conflict::MarkerMoved, "a guard on a missing record")
        .await;
    let unguarded = ChangeSetBuilder::new()
        .write(Write::SetReadMarker { participant_id: stranger.id, read_seq: 1, sent: None, tm_read: at(2) })
        .build();
    refuse(store.as_ref(), unguarded, Conflict::RowMismatch, "moving the marker of a missing record").await;
    assert_eq!(marker(store.as_ref(), bob).await.read_seq, m.seq, "refused change sets moved nothing");
}

/// `read_markers` lists the markers of a talk's active records in join
/// order, keyset on the record's `seq`.
pub async fn read_markers_list_active_records_in_join_order_with_keyset(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob", "carol", "dave"]).await;
    end_member(store.as_ref(), &group.members[2], LeftReason::Left).await;
    let listed = read_pages(
        "read_markers",
        Order::Ascending,
        2,
        |m: &ReadMarker| m.participant_seq,
        |after, limit| {
            let store = store.clone();
            async move { store.read_markers(group.talk.id, after, limit).await.must("read markers") }
        },
    )
    .await;
    let names: Vec<&str> = listed.iter().map(|m| m.agent_id.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "dave"], "active records only, in join order");
    assert!(store.read_markers(talk_id(), None, ALL).await.must("an unknown talk").is_empty());
    assert_eq!(store.read_marker(participant_id()).await.must("an unknown record"), None);
}

/// Unread numbers: normal messages of other agents above the marker;
/// system messages never, one's own apart, replies included.
pub async fn unread_counts_other_agents_normal_messages_after_marker(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let (talk, bob) = (group.talk.id, &group.members[1]);
    let one = send(store.as_ref(), talk, "alice", "one").await;
    send_reply(store.as_ref(), &one, "alice", "a reply").await;
    let system = Message { kind: MessageKind::System, agent_id: None, ..message(talk, &agent("alice"), "system") };
    apply(store.as_ref(), ChangeSetBuilder::new().insert_message(&system).build(), "a system message").await;
    let got = numbers(store.as_ref(), "bob", talk).await.expect("bob is active");
    assert_eq!(got, recount(store.as_ref(), "bob", talk, bob.seq).await);
    assert_eq!((got.normal_after, got.own_after, got.deleted_after), (2, 0, 0));
    apply(store.as_ref(), move_marker(bob, bob.seq, one.seq, at(1)), "reading the first").await;
    assert_eq!(numbers(store.as_ref(), "bob", talk).await.map(|n| n.normal_after), Some(1));
    // A marker moved back above one's own messages counts them apart.
    let mine = send_read(store.as_ref(), bob, "mine", &[]).await;
    apply(store.as_ref(), move_marker(bob, mine.seq, bob.seq, at(2)), "unread from the start").await;
    let got = numbers(store.as_ref(), "bob", talk).await.expect("bob is active");
    assert_eq!(got, recount(store.as_ref(), "bob", talk, bob.seq).await);
    assert_eq!((got.normal_after, got.own_after), (3, 1));
}

/// Sending with `sent` marks one's own message read: nothing above it.
pub async fn own_send_marks_read(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let talk = group.talk.id;
    send(store.as_ref(), talk, "alice", "one").await;
    send(store.as_ref(), talk, "alice", "two").await;
    assert_eq!(numbers(store.as_ref(), "bob", talk).await.map(|n| n.normal_after), Some(2));
    send_read(store.as_ref(), &group.members[1], "answer", &[]).await;
    let got = numbers(store.as_ref(), "bob", talk).await.expect("bob is active");
    assert_eq!((got.normal_after, got.own_after, got.mentions_after), (0, 0, 0));
}

/// Mentions of the agent above the marker count; a message's mention of
/// its own author does not; a deleted message leaves both counts.
pub async fn deleted_unread_message_leaves_the_count(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let (talk, bob) = (group.talk.id, &group.members[1]);
    let gone = send_mentioning(store.as_ref(), talk, "alice", &["bob", "alice"]).await;
    assert_eq!(gone.mentions, [agent("bob"), agent("alice")], "mentions are stored as given");
    send_mentioning(store.as_ref(), talk, "alice", &[]).await;
    let before = numbers(store.as_ref(), "bob", talk).await.expect("bob is active");
    assert_eq!((before.normal_after, before.deleted_after, before.mentions_after), (2, 0, 1));
    assert_eq!(numbers(store.as_ref(), "alice", talk).await.map(|n| n.mentions_after), Some(0), "not one's own");
    let dead = tombstone(&gone, at(3));
    apply(store.as_ref(), ChangeSetBuilder::new().delete_message(&dead).build(), "deleting the unread message").await;
    let after = numbers(store.as_ref(), "bob", talk).await.expect("bob is active");
    assert_eq!(after, recount(store.as_ref(), "bob", talk, bob.seq).await);
    assert_eq!((after.normal_after, after.deleted_after, after.mentions_after), (2, 1, 0));
    assert!(read_message(store.as_ref(), gone.id).await.mentions.is_empty(), "the tombstone mentions no one");
}

/// An edit that changes the mentions changes the mention numbers.
pub async fn edit_removing_mention_lowers_mention_count(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob", "carol"]).await;
    let talk = group.talk.id;
    let m = send_mentioning(store.as_ref(), talk, "alice", &["bob", "carol"]).await;
    let mentions = |who: &'static str| {
        let store = store.clone();
        async move { numbers(store.as_ref(), who, talk).await.map(|n| n.mentions_after) }
    };
    assert_eq!((mentions("bob").await, mentions("carol").await), (Some(1), Some(1)));
    let edit = Message { mentions: vec![agent("carol")], ..edited(&m, "carol only", at(2)) };
    apply(store.as_ref(), ChangeSetBuilder::new().update_message(&edit).build(), "editing the mentions").await;
    assert_eq!((mentions("bob").await, mentions("carol").await), (Some(0), Some(1)));
    assert_eq!(read_message(store.as_ref(), m.id).await.mentions, [agent("carol")]);
    let again = Message { mentions: vec![agent("bob")], ..edited(&edit, "bob again", at(3)) };
    apply(store.as_ref(), ChangeSetBuilder::new().update_message(&again).build(), "editing them back").await;
    assert_eq!((mentions("bob").await, mentions("carol").await), (Some(1), Some(0)));
}

/// Numbers exist only for active records, in the talks asked for; an ended
/// record's marker stays where it was.
pub async fn left_participant_counts_freeze_at_leave(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let other = seed_group(store.as_ref(), "bob", &[]).await;
    let (talk, bob) = (group.talk.id, &group.members[1]);
    send(store.as_ref(), talk, "alice", "one").await;
    let left = end_member(store.as_ref(), bob, LeftReason::Left).await;
    send(store.as_ref(), talk, "alice", "after bob left").await;
    assert_eq!(numbers(store.as_ref(), "bob", talk).await, None, "no numbers without an active record");
    assert_eq!(marker(store.as_ref(), &left).await.read_seq, bob.seq, "the marker stays where it was");
    let all = store.read_numbers(&agent("bob"), None).await.must("every talk of bob");
    assert_eq!(ids(&all, |n| n.talk_id), [other.talk.id], "only the talks with an active record");
    let none = store.read_numbers(&agent("bob"), Some(&[])).await.must("no talk asked for");
    assert!(none.is_empty());
}

/// A record added again starts at its new join.
pub async fn readded_participant_starts_at_new_join(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let talk = group.talk.id;
    send(store.as_ref(), talk, "alice", "one").await;
    end_member(store.as_ref(), &group.members[1], LeftReason::Removed).await;
    send(store.as_ref(), talk, "alice", "while bob was away").await;
    let back = add_member(store.as_ref(), talk, "bob").await;
    assert_eq!(marker(store.as_ref(), &back).await.read_seq, back.seq);
    assert_eq!(numbers(store.as_ref(), "bob", talk).await.map(|n| n.normal_after), Some(0));
    send(store.as_ref(), talk, "alice", "welcome back").await;
    assert_eq!(numbers(store.as_ref(), "bob", talk).await, Some(recount(store.as_ref(), "bob", talk, back.seq).await));
}

/// Many writers at once: some send (marking their own message read), some
/// move their markers guarded on where they read them (retrying when a send
/// moved it, as the Hub does). At the end, every agent's numbers are exactly
/// those recounted from the messages.
pub async fn counts_exact_under_concurrent_sends_and_reads(store: Arc<dyn Store>) {
    const AGENTS: [&str; 4] = ["alice", "bob", "carol", "dave"];
    let group = seed_group(store.as_ref(), AGENTS[0], &AGENTS[1..]).await;
    let talk = group.talk.id;
    let mut tasks = Vec::new();
    for (i, record) in group.members.iter().cloned().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..RACERS / 2 {
                if (round + i) % 3 == 0 {
                    // Read up to the newest message, guarded on the marker as read.
                    for _ in 0..1000 {
                        let at_marker = marker(store.as_ref(), &record).await.read_seq;
                        let newest = store.messages(talk, true, None, 1, 0).await.must("the newest message");
                        let Some(newest) = newest.first().filter(|m| m.seq > at_marker) else { break };
                        match store.apply(move_marker(&record, at_marker, newest.seq, at(9))).await {
                            Ok(_) => break,
                            Err(StoreError::Conflict(Conflict::MarkerMoved)) => tokio::task::yield_now().await,
                            Err(e) => panic!("a guarded read failed: {e:?}"),
                        }
                    }
                } else {
                    let mention = AGENTS[(i + round) % AGENTS.len()];
                    send_read(store.as_ref(), &record, "racing", &[mention]).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("a racing writer failed: {e}"));
    }
    for record in &group.members {
        let who = record.agent_id.as_str();
        let read_seq = marker(store.as_ref(), record).await.read_seq;
        let got = numbers(store.as_ref(), who, talk).await.expect("every racer is active");
        assert_eq!(got, recount(store.as_ref(), who, talk, read_seq).await, "{who}'s numbers after the race");
    }
    assert_log_without_holes(store.as_ref(), "sends and reads racing").await;
}
