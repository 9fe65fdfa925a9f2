//! Durable consumers on the Hub: batches after the stored cursor, at least
//! once across crashes, one holder at a time, and retention that waits.

mod common;

use std::time::Duration;

use common::*;
use talk_core::{ConsumerLag, Event};

/// Long enough that no test sees a lease run out unless it waits for it.
const LONG: Duration = Duration::from_secs(3600);
/// Short enough for a test to wait it out.
const SHORT: Duration = Duration::from_millis(100);

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_new_consumer_starts_at_the_head() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut push = hub.consumer_with_lease("push", LONG).await.unwrap();
    let sent = send(&hub, "a", talk.id, "after").await;
    let batch = push.next(10).await.unwrap();
    assert_eq!(seqs(&batch), [sent.seq], "only what came after the consumer was made");
}

#[tokio::test]
async fn consumer_resumes_after_last_ack() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut push = hub.consumer_with_lease("push", LONG).await.unwrap();
    let sent: Vec<u64> =
        [send(&hub, "a", talk.id, "1").await, send(&hub, "a", talk.id, "2").await].iter().map(|m| m.seq).collect();
    let third = send(&hub, "a", talk.id, "3").await.seq;
    let batch = push.next(2).await.unwrap();
    assert_eq!(seqs(&batch), sent, "at most the batch size, in seq order");
    push.ack(sent[1]).await.unwrap();
    push.release().await.unwrap();

    let mut restarted = hub.consumer_with_lease("push", LONG).await.unwrap();
    assert_eq!(seqs(&restarted.next(10).await.unwrap()), [third], "after the last ack, nothing skipped");
}

#[tokio::test]
async fn consumer_redelivers_unacked_after_crash() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut push = hub.consumer_with_lease("push", SHORT).await.unwrap();
    let first = send(&hub, "a", talk.id, "1").await.seq;
    let second = send(&hub, "a", talk.id, "2").await.seq;
    assert_eq!(seqs(&push.next(10).await.unwrap()), [first, second]);
    push.ack(first).await.unwrap();
    drop(push); // a crash: delivered, not acknowledged, lease left to run out

    let mut restarted = hub.consumer_with_lease("push", SHORT).await.unwrap();
    assert_eq!(seqs(&restarted.next(10).await.unwrap()), [second], "delivered again once the lease ran out");
}

#[tokio::test]
async fn one_handle_holds_a_consumer_and_another_takes_over() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut holder = hub.consumer_with_lease("push", SHORT).await.unwrap();
    let mut waiting = hub.consumer_with_lease("push", SHORT).await.unwrap();
    let first = send(&hub, "a", talk.id, "1").await.seq;
    assert_eq!(seqs(&holder.next(10).await.unwrap()), [first]);
    holder.ack(first).await.unwrap();
    let second = send(&hub, "a", talk.id, "2").await.seq;
    // The holder keeps reading; the other waits, and gets nothing meanwhile.
    assert_eq!(seqs(&holder.next(10).await.unwrap()), [second]);
    assert!(tokio::time::timeout(SHORT / 4, waiting.next(10)).await.is_err(), "held by another handle");
    drop(holder); // dies before acknowledging `second`
    assert_eq!(seqs(&waiting.next(10).await.unwrap()), [second], "taken over after the last ack");
}

#[tokio::test]
async fn an_ack_after_a_takeover_is_unavailable() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut slow = hub.consumer_with_lease("push", SHORT).await.unwrap();
    let first = send(&hub, "a", talk.id, "1").await.seq;
    assert_eq!(seqs(&slow.next(10).await.unwrap()), [first]);
    let mut other = hub.consumer_with_lease("push", SHORT).await.unwrap();
    assert_eq!(seqs(&other.next(10).await.unwrap()), [first], "the slow holder's lease ran out");
    assert_eq!(code(slow.ack(first).await), "unavailable");
    other.ack(first).await.unwrap();
}

#[tokio::test]
async fn an_ack_past_what_was_handed_out_is_refused() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut push = hub.consumer_with_lease("push", LONG).await.unwrap();
    let first = send(&hub, "a", talk.id, "1").await.seq;
    assert_eq!(code(push.ack(first).await), "invalid_request");
}

#[tokio::test]
async fn consumer_names_are_checked() {
    let hub = hub();
    for bad in ["", "has space", "ü", &"x".repeat(101)] {
        assert_eq!(code(hub.consumer(bad).await), "invalid_request", "{bad:?}");
    }
    assert!(hub.consumer(&"x".repeat(100)).await.is_ok());
}

#[tokio::test]
async fn retention_keeps_events_for_slowest_consumer() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut slow = hub.consumer_with_lease("slow", LONG).await.unwrap();
    let start = head(&hub).await;
    let sent: Vec<u64> = [send(&hub, "a", talk.id, "1").await.seq, send(&hub, "a", talk.id, "2").await.seq].to_vec();
    hub.store.prune_events(head(&hub).await).await.unwrap();
    assert_eq!(hub.store.low_water_mark().await.unwrap(), start, "pruned up to the consumer's cursor, not past");
    assert_eq!(seqs(&slow.next(10).await.unwrap()), sent);
    slow.ack(sent[1]).await.unwrap();
    hub.store.prune_events(head(&hub).await).await.unwrap();
    assert_eq!(hub.store.low_water_mark().await.unwrap(), sent[1], "acknowledged: prunable");
    // A removed consumer holds nothing back.
    let _idle = hub.consumer_with_lease("idle", LONG).await.unwrap();
    let third = send(&hub, "a", talk.id, "3").await.seq;
    assert_eq!(seqs(&slow.next(10).await.unwrap()), [third]);
    slow.ack(third).await.unwrap();
    hub.store.prune_events(head(&hub).await).await.unwrap();
    assert_eq!(hub.store.low_water_mark().await.unwrap(), sent[1], "the idle consumer holds the log");
    hub.remove_consumer("idle").await.unwrap();
    hub.store.prune_events(head(&hub).await).await.unwrap();
    assert_eq!(hub.store.low_water_mark().await.unwrap(), head(&hub).await);
}

#[tokio::test]
async fn consumers_are_listed_with_their_lag() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut push = hub.consumer_with_lease("push", LONG).await.unwrap();
    let idle = hub.consumer_with_lease("idle", LONG).await.unwrap();
    idle.release().await.unwrap();
    let first = send(&hub, "a", talk.id, "1").await.seq;
    send(&hub, "a", talk.id, "2").await;
    push.next(1).await.unwrap();
    push.ack(first).await.unwrap();
    let listed = hub.consumers().await.unwrap();
    assert_eq!(
        listed,
        [
            ConsumerLag { name: "idle".into(), cursor: first - 1, lag: 2, held: false },
            ConsumerLag { name: "push".into(), cursor: first, lag: 1, held: true },
        ]
    );
}
