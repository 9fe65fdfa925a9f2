//! Pruning the log and its low-water mark.

use super::support::*;

/// `prune_events` removes the events through a seq and moves the low-water
/// mark there; the head, the rows and later events stay; a `through` below
/// the mark changes nothing.
pub async fn prune_events_removes_events_through_a_seq_and_moves_the_low_water_mark(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(store, group.talk.id, "alice", &format!("m{i}")).await); // 4, 5, 6
    }
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 0);
    store.prune_events(4).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4);
    assert_eq!(store.head().await.must("head"), 6, "pruning does not move the head");
    assert_eq!(seqs(&all_events(store).await), [5, 6], "events through 4 are gone");
    assert_eq!(seqs(&store.events(2, ALL).await.must("events")), [5, 6]);
    let feed = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&feed), [5, 6], "pruned events are gone from every feed");
    assert_eq!(read_talk(store, group.talk.id).await, group.talk, "rows are untouched");
    assert_eq!(store.participants(group.talk.id, None, None, ALL).await.must("participants"), group.members);
    for m in &sent {
        assert_eq!(read_message(store, m.id).await, *m);
    }
    store.prune_events(2).await.must("prune_events below the mark");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4, "a prune below the mark changes nothing");
    assert_eq!(seqs(&all_events(store).await), [5, 6]);
    let next = send(store, group.talk.id, "bob", "after pruning").await;
    assert_eq!(next.seq, 7);
    assert_eq!(seqs(&all_events(store).await), [5, 6, 7]);
}

/// Pruning through a seq above the head prunes through the head; `seq`
/// values are never reused afterwards.
pub async fn prune_events_never_lets_a_seq_be_reused(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    send(store, group.talk.id, "alice", "m").await; // 3
    store.prune_events(100).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 3, "a prune above the head stops at the head");
    assert_eq!(store.head().await.must("head"), 3);
    assert!(all_events(store).await.is_empty());
    let next = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(next.seq, 4, "the next event takes head + 1, never a pruned seq");
    assert_eq!(seqs(&all_events(store).await), [4]);
    assert_log_without_holes(store, "after pruning everything").await;
}
