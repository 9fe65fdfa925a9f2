//! Durable consumers: the lease one owner holds at a time, the cursor that
//! only moves forward, and retention that waits for it.

use std::time::Duration;

use talk_core::store::ConsumerRecord;

use super::support::*;

const HOUR: Duration = Duration::from_secs(3600);
const BRIEF: Duration = Duration::from_millis(50);

/// A claim creates the consumer at `start` and answers its cursor; the same
/// owner's claim renews it; another owner's claim is refused while the
/// lease lives; a later `start` never moves an existing cursor.
pub async fn claim_consumer_holds_one_owner_at_a_time(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert_eq!(store.claim_consumer("push", "node-a", HOUR, 5).await.must("claim"), Some(5), "created at start");
    assert_eq!(store.claim_consumer("push", "node-a", HOUR, 9).await.must("renew"), Some(5), "renewed, not moved");
    assert_eq!(store.claim_consumer("push", "node-b", HOUR, 9).await.must("claim"), None, "held by node-a");
    assert_eq!(store.claim_consumer("other", "node-b", HOUR, 0).await.must("claim"), Some(0), "names are separate");
    let listed = store.consumers().await.must("consumers");
    assert_eq!(
        listed,
        [
            ConsumerRecord { name: "other".into(), cursor: 0, owner: Some("node-b".into()) },
            ConsumerRecord { name: "push".into(), cursor: 5, owner: Some("node-a".into()) },
        ],
        "by name, with their live owners"
    );
}

/// Once the owner's lease runs out, another owner takes the consumer over,
/// at its acknowledged cursor; the former owner's acks are refused.
pub async fn an_expired_consumer_lease_is_taken_over(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert_eq!(store.claim_consumer("push", "node-a", BRIEF, 0).await.must("claim"), Some(0));
    assert!(store.ack_consumer("push", "node-a", 3, BRIEF).await.must("ack"));
    tokio::time::sleep(BRIEF * 3).await;
    let listed = store.consumers().await.must("consumers");
    assert_eq!(listed, [ConsumerRecord { name: "push".into(), cursor: 3, owner: None }], "no live owner");
    assert_eq!(store.claim_consumer("push", "node-b", HOUR, 0).await.must("take over"), Some(3));
    assert!(!store.ack_consumer("push", "node-a", 4, HOUR).await.must("stale ack"), "node-a lost it");
    assert_eq!(store.consumers().await.must("consumers")[0].cursor, 3, "a refused ack changes nothing");
}

/// An ack moves the cursor forward only; an ack of an unknown consumer is
/// refused; a lease of zero lets another owner in at once.
pub async fn ack_consumer_moves_the_cursor_forward_only(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert!(!store.ack_consumer("push", "node-a", 1, HOUR).await.must("ack"), "no such consumer");
    store.claim_consumer("push", "node-a", HOUR, 2).await.must("claim");
    assert!(store.ack_consumer("push", "node-a", 7, HOUR).await.must("ack"));
    assert!(store.ack_consumer("push", "node-a", 4, HOUR).await.must("ack back"));
    assert_eq!(store.consumers().await.must("consumers")[0].cursor, 7, "never back");
    assert!(store.ack_consumer("push", "node-a", 0, Duration::ZERO).await.must("release"));
    assert_eq!(store.claim_consumer("push", "node-b", HOUR, 0).await.must("claim"), Some(7), "released at once");
}

/// Retention never passes a consumer's cursor, held or not; a removed
/// consumer holds nothing back, and its owner's acks are refused.
pub async fn prune_never_passes_a_consumer_cursor(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    store.claim_consumer("push", "node-a", BRIEF, 2).await.must("claim");
    for i in 0..4 {
        send(store, group.talk.id, "alice", &format!("m{i}")).await; // 3 ..= 6
    }
    store.prune_events(6).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 2, "the cursor bounds the prune");
    tokio::time::sleep(BRIEF * 3).await;
    store.prune_events(6).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 2, "also once its lease ran out");
    assert!(store.ack_consumer("push", "node-a", 4, BRIEF).await.must("ack"));
    store.prune_events(6).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4);
    assert_eq!(seqs(&all_events(store).await), [5, 6]);
    store.remove_consumer("push").await.must("remove_consumer");
    store.remove_consumer("push").await.must("remove a removed consumer");
    assert!(store.consumers().await.must("consumers").is_empty());
    assert!(!store.ack_consumer("push", "node-a", 5, BRIEF).await.must("ack"), "removed");
    store.prune_events(6).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 6);
}

/// Many owners claim one consumer at once: exactly one holds it.
pub async fn concurrent_claims_make_one_owner(store: Arc<dyn Store>) {
    let mut claims = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            store.claim_consumer("push", &format!("node-{i}"), HOUR, 0).await.must("claim").is_some()
        }));
    }
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.expect("the claim task"));
    }
    assert_eq!(winners, 1, "exactly one owner");
}
