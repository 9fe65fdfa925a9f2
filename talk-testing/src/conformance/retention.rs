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

/// A live hold bounds every prune: events after its position stay, whatever
/// `through` says; the lowest of several holds is the bound; moving a hold
/// forward lets the next prune go on to it.
pub async fn prune_never_passes_a_live_hold(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    for i in 0..6 {
        send(store, group.talk.id, "alice", &format!("m{i}")).await; // 3 ..= 8
    }
    store.hold_events("reader-a", 4, None).await.must("hold_events");
    store.hold_events("reader-b", 6, Some(Duration::from_secs(3600))).await.must("hold_events");
    store.prune_events(8).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4, "the lowest hold bounds the prune");
    assert_eq!(seqs(&all_events(store).await), [5, 6, 7, 8]);
    store.hold_events("reader-a", 7, None).await.must("move the hold");
    store.prune_events(8).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 6, "then the next lowest");
    store.hold_events("reader-b", 5, Some(Duration::from_secs(3600))).await.must("move a hold back");
    store.prune_events(8).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 6, "a hold behind the mark changes nothing");
    assert_eq!(seqs(&all_events(store).await), [7, 8]);
}

/// A released hold, or one whose lease ran out, holds nothing back.
pub async fn released_or_expired_holds_hold_nothing_back(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    for i in 0..4 {
        send(store, group.talk.id, "alice", &format!("m{i}")).await; // 3 ..= 6
    }
    store.hold_events("released", 2, None).await.must("hold_events");
    store.hold_events("expired", 3, Some(Duration::from_millis(1))).await.must("hold_events");
    store.release_events("released").await.must("release_events");
    store.release_events("never held").await.must("releasing what is not held");
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.prune_events(5).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 5);
    assert_eq!(seqs(&all_events(store).await), [6]);
}
