//! Which events each agent sees, through its participant records.

use super::support::*;

/// A late joiner sees the events of its talk from the first event of the
/// change set that added it, nothing before.
pub async fn agent_events_of_a_late_joiner_start_at_its_joining_change(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    send(store, group.talk.id, "alice", "before bob").await; // 3
    let bob = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .update_talk(&Talk { member_count: 2, ..touched(&group.talk, at(1)) }) // 4
        .insert_participant(&bob) // 5
        .insert_message(&message(group.talk.id, &agent("alice"), "bob joined")) // 6
        .build();
    apply(store, changes, "adding bob").await;
    send(store, group.talk.id, "alice", "after bob").await; // 7
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&seen), [4, 5, 6, 7], "bob's feed starts with the change that added him");
    let in_talk = store.agent_events(&agent("bob"), Some(group.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(in_talk, seen);
    let alice = store.agent_events(&agent("alice"), None, 0, ALL).await.must("agent_events");
    assert_eq!(alice, all_events(store).await, "the creator sees every event of its talk");
}

/// An ended record's agent sees up to its own `participant_left`, not the
/// events after it, even in the same change set.
pub async fn agent_events_of_an_ended_record_stop_at_its_participant_left(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    send(store, group.talk.id, "bob", "hello").await; // 4
    let left = ended(&group.members[1], LeftReason::Removed, at(1));
    let changes = ChangeSetBuilder::new()
        .insert_message(&message(group.talk.id, &agent("alice"), "bob was removed")) // 5
        .end_participant(&left) // 6
        .update_talk(&touched(&group.talk, at(1))) // 7
        .build();
    apply(store, changes, "removing bob").await;
    send(store, group.talk.id, "alice", "after bob").await; // 8
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&seen), [1, 2, 3, 4, 5, 6], "bob sees up to his own participant_left");
    assert_eq!(seen.last().map(|e| e.data.type_name()), Some("participant_left"));
    let alice = store.agent_events(&agent("alice"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&alice), (1..=8).collect::<Vec<_>>());
}

/// An agent added again sees both of its spans, not the gap between them.
pub async fn agent_events_of_a_readded_agent_cover_both_spans_but_not_the_gap(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    send(store, group.talk.id, "alice", "one").await; // 4
    end_member(store, &group.members[1], LeftReason::Left).await; // 5
    send(store, group.talk.id, "alice", "gap 1").await; // 6
    send(store, group.talk.id, "alice", "gap 2").await; // 7
    let talk = read_talk(store, group.talk.id).await;
    let back = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new()
        .update_talk(&touched(&talk, at(1))) // 8
        .insert_participant(&back) // 9
        .build();
    apply(store, changes, "adding bob again").await;
    send(store, group.talk.id, "alice", "two").await; // 10
    let bob = agent("bob");
    let feed =
        |after, limit| async move { seqs(&store.agent_events(&agent("bob"), None, after, limit).await.must("feed")) };
    assert_eq!(feed(0, ALL).await, [1, 2, 3, 4, 5, 8, 9, 10], "both spans, not the gap");
    assert_eq!(feed(4, ALL).await, [5, 8, 9, 10]);
    assert_eq!(feed(5, ALL).await, [8, 9, 10], "a cursor at the end of the first span resumes at the second");
    assert_eq!(feed(3, 2).await, [4, 5], "at most `limit` events");
    assert_eq!(feed(5, 1).await, [8]);
    let in_talk = store.agent_events(&bob, Some(group.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&in_talk), [1, 2, 3, 4, 5, 8, 9, 10]);
}

/// An agent's feed merges its talks in `seq` order; the talk filter keeps
/// one talk; talks it was never in are never seen.
pub async fn agent_events_filter_by_talk_and_merge_talks_in_seq_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &[]).await;
    let t2 = seed_group(store, "bob", &["alice"]).await;
    let t3 = seed_group(store, "carol", &[]).await;
    for i in 0..4 {
        for talk in [&t1.talk, &t2.talk, &t3.talk] {
            let author = talk.creator_id.as_str().to_owned();
            send(store, talk.id, &author, &format!("message {i}")).await;
        }
    }
    let log = all_events(store).await;
    let of =
        |talks: &[TalkId]| -> Vec<u64> { log.iter().filter(|e| talks.contains(&e.talk_id)).map(|e| e.seq).collect() };
    let alice = agent("alice");
    let feed = store.agent_events(&alice, None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&feed), of(&[t1.talk.id, t2.talk.id]), "alice's two talks, merged in seq order");
    let only_t1 = store.agent_events(&alice, Some(t1.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&only_t1), of(&[t1.talk.id]), "the talk filter keeps one talk");
    assert!(store.agent_events(&alice, Some(t3.talk.id), 0, ALL).await.must("agent_events").is_empty());
    let bob = store.agent_events(&agent("bob"), Some(t1.talk.id), 0, ALL).await.must("agent_events");
    assert!(bob.is_empty(), "bob was never in t1");
    let bob_all = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&bob_all), of(&[t2.talk.id]));
}

/// `agent_events` pages chained on the last seq read an agent's feed once,
/// in order, at most `limit` each.
pub async fn agent_events_page_after_a_cursor(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &["bob"]).await;
    let t2 = seed_group(store, "bob", &[]).await;
    let t3 = seed_group(store, "alice", &[]).await;
    for i in 0..5 {
        send(store, t1.talk.id, "alice", &format!("t1 {i}")).await;
        send(store, t2.talk.id, "bob", &format!("t2 {i}")).await;
        send(store, t3.talk.id, "alice", &format!("t3 {i}")).await;
    }
    let alice = agent("alice");
    let all = store.agent_events(&alice, None, 0, ALL).await.must("agent_events");
    let fetch = |after: Option<u64>, limit| async move {
        store.agent_events(&agent("alice"), None, after.unwrap_or(0), limit).await.must("agent_events")
    };
    let paged = read_pages("agent_events", Order::Ascending, 4, |e: &Event| e.seq, fetch).await;
    assert_eq!(paged, all, "pages of the feed read it once, in order");
    assert!(all.iter().all(|e| e.talk_id != t2.talk.id));
    let head = store.head().await.must("head");
    assert!(store.agent_events(&alice, None, head, ALL).await.must("agent_events").is_empty());
    assert!(store.agent_events(&alice, None, 0, 0).await.must("agent_events").is_empty());
}
