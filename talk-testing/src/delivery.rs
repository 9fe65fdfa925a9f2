//! Live delivery on a store: cases that drive a [`Hub`] on the store and
//! check what subscriptions receive against what the store says each agent
//! sees ([`Store::agent_events`]). They depend on the store's head, its
//! notifier path and its reads under concurrent writes, so every store runs
//! them: [`delivery_tests!`](crate::delivery_tests) expands to one test per
//! case, like the conformance suite.
//!
//! ```no_run
//! use std::sync::Arc;
//! use talk_core::Store;
//!
//! fn fresh_store() -> Arc<dyn Store> {
//!     unimplemented!("make your store")
//! }
//!
//! talk_testing::delivery_tests!(fresh_store);
//! # fn main() {}
//! ```

use std::sync::Arc;
use std::time::Duration;

use talk_core::{
    AgentId, Delivery, Hub, ManualClock, NewMessage, NewTalk, ParticipantRef, Scope, Store, Subscription, TalkId,
    TalkKind,
};

/// Runs the delivery cases against a store: one test per case, named after
/// it, in a module `delivery`. Takes a factory, and attributes for every
/// test, as [`store_conformance_tests!`](crate::store_conformance_tests) does.
#[macro_export]
macro_rules! delivery_tests {
    ($($input:tt)*) => {
        $crate::__store_case_tests! { @attrs "The live delivery cases of talk-testing, one test per case." delivery [
            readded_agent_single_talk_subscription_continues_through_every_span,
            subscribe_since_racing_writers_and_membership_changes_has_no_gap_or_duplicate,
        ] [] $($input)* }
    };
}

/// How long a case waits for something that should come at once.
const PATIENCE: Duration = Duration::from_secs(30);

fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn text(body: &str) -> NewMessage {
    NewMessage { text: body.to_owned(), ..NewMessage::default() }
}

fn hub_on(store: &Arc<dyn Store>) -> Hub {
    Hub::builder(store.clone()).clock(Arc::new(ManualClock::default())).build()
}

async fn group(hub: &Hub, creator: &str, others: &[&str]) -> TalkId {
    let input = NewTalk {
        kind: TalkKind::Group,
        name: Some("delivery".into()),
        detail: None,
        participant_ids: others.iter().map(|a| agent(a)).collect(),
    };
    hub.create_talk(&agent(creator), input).await.unwrap_or_else(|e| panic!("create a talk: {e}")).resource.id
}

async fn send(hub: &Hub, author: &str, talk: TalkId, body: &str) {
    hub.send_message(&agent(author), talk, text(body)).await.unwrap_or_else(|e| panic!("{author} sends: {e}"));
}

async fn next(subscription: &mut Subscription) -> Option<Delivery> {
    tokio::time::timeout(PATIENCE, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("nothing came for {PATIENCE:?}: the subscription hangs"))
}

/// What the store says `who` sees after `since` (in one talk, if given).
async fn visible(store: &dyn Store, who: &str, talk: Option<TalkId>, since: u64) -> Vec<u64> {
    let events =
        store.agent_events(&agent(who), talk, since, usize::MAX).await.unwrap_or_else(|e| panic!("read events: {e}"));
    events.iter().map(|e| e.seq).collect()
}

/// What a subscription delivered until it ended or delivered `last`.
#[derive(Debug, Default)]
struct Received {
    /// The events' `seq`s, in order.
    seqs: Vec<u64>,
    /// Where it went live (`subscribed`), if it did.
    live_after: Option<u64>,
    /// Whether it ended (`left`).
    ended: bool,
}

/// Takes what `subscription` delivers until it ends, or until it delivered
/// the event `last` (and went live); with no event to wait for (`last` 0),
/// until it goes live or ends.
async fn receive(subscription: &mut Subscription, last: u64) -> Received {
    let mut got = Received::default();
    loop {
        let done = got.live_after.is_some() && got.seqs.last().copied().unwrap_or(0) >= last;
        if done {
            return got;
        }
        match next(subscription).await {
            Some(Delivery::Event(shared)) => got.seqs.push(shared.event.seq),
            Some(Delivery::Subscribed { seq }) => got.live_after = Some(seq),
            Some(Delivery::Ended(talk_core::EndReason::Left)) => {
                got.ended = true;
                return got;
            }
            other => panic!("unexpected {other:?} after {got:?}"),
        }
    }
}

/// An agent that left a talk, was added again, and subscribes to that one
/// talk with a `since` before its first leave: the replay runs through both
/// spans (the gap between them excluded) and the subscription goes on live;
/// it ends only at the leave of its latest record. The same for a
/// replay-only subscription after the agent left for good.
pub async fn readded_agent_single_talk_subscription_continues_through_every_span(store: Arc<dyn Store>) {
    let hub = hub_on(&store);
    let talk = group(&hub, "alice", &["bob"]).await;
    send(&hub, "alice", talk, "first span").await;
    let since = store.head().await.unwrap_or_else(|e| panic!("head: {e}"));
    send(&hub, "bob", talk, "still in").await;
    hub.remove_participant(&agent("bob"), talk, ParticipantRef::Me).await.unwrap_or_else(|e| panic!("leave: {e}"));
    send(&hub, "alice", talk, "in the gap").await;
    hub.add_participant(&agent("alice"), talk, &agent("bob")).await.unwrap_or_else(|e| panic!("re-add: {e}"));
    send(&hub, "alice", talk, "second span").await;

    let want = visible(store.as_ref(), "bob", Some(talk), since).await;
    let mut live = hub.subscribe(&agent("bob"), Scope::Talk(talk), Some(since)).await.unwrap_or_else(|e| panic!("{e}"));
    let replayed = receive(&mut live, *want.last().unwrap_or(&0)).await;
    assert!(!replayed.ended, "the subscription ended at the old leave: {replayed:?}");
    assert_eq!(replayed.seqs, want, "the replay runs through both spans, then goes live");
    send(&hub, "alice", talk, "live").await;
    let head = store.head().await.unwrap_or_else(|e| panic!("head: {e}"));
    let (live_seqs, ended) = match next(&mut live).await {
        Some(Delivery::Event(shared)) => (shared.event.seq, false),
        other => panic!("expected the live event, got {other:?}"),
    };
    assert_eq!((live_seqs, ended), (head, false), "and live events follow");

    // Bob leaves for good: a replay-only subscription from the same `since`
    // runs through both spans up to the latest leave, and ends there.
    hub.remove_participant(&agent("bob"), talk, ParticipantRef::Me).await.unwrap_or_else(|e| panic!("leave: {e}"));
    let want = visible(store.as_ref(), "bob", Some(talk), since).await;
    let mut replay =
        hub.subscribe(&agent("bob"), Scope::Talk(talk), Some(since)).await.unwrap_or_else(|e| panic!("{e}"));
    let replayed = receive(&mut replay, u64::MAX).await;
    assert_eq!(replayed.seqs, want, "the replay-only subscription runs through every span");
    assert!(replayed.ended, "and ends at the latest leave");
}

/// Subscriptions with a `since` while writers send and the subscriber is
/// removed, added again and leaves: what a subscription delivers is exactly
/// what the store says the agent sees after `since` (for a single talk, up
/// to the leave that ends it), with no gap and no duplicate, whatever the
/// timing; and it never hangs.
pub async fn subscribe_since_racing_writers_and_membership_changes_has_no_gap_or_duplicate(store: Arc<dyn Store>) {
    let hub = hub_on(&store);
    for round in 0_u64..24 {
        let talk = group(&hub, "alice", &["bob"]).await;
        let other = group(&hub, "bob", &[]).await;
        let mut writers = Vec::new();
        for w in 0..2_u64 {
            let hub = hub.clone();
            writers.push(tokio::spawn(async move {
                for i in 0..20_u64 {
                    let (who, target) = if (i + w) % 3 == 0 { ("bob", other) } else { ("alice", talk) };
                    send(&hub, who, target, &format!("w{w}-{i}")).await;
                    if i % 5 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        let membership = {
            let hub = hub.clone();
            tokio::spawn(async move {
                let (alice, bob) = (agent("alice"), agent("bob"));
                for step in 0..6_u64 {
                    let bob_leaves = step % 2 == round % 2;
                    let (actor, whose) =
                        if bob_leaves { (&bob, ParticipantRef::Me) } else { (&alice, ParticipantRef::Me) };
                    if bob_leaves {
                        hub.remove_participant(actor, talk, whose).await.unwrap_or_else(|e| panic!("leave: {e}"));
                    } else {
                        let records = hub
                            .participants(&alice, talk, talk_core::ParticipantFilter::Active, &Default::default())
                            .await
                            .unwrap_or_else(|e| panic!("participants: {e}"));
                        let record = records.items.iter().find(|p| p.agent_id == bob).map(|p| p.id);
                        let record = record.unwrap_or_else(|| panic!("bob is active"));
                        hub.remove_participant(&alice, talk, ParticipantRef::Id(record))
                            .await
                            .unwrap_or_else(|e| panic!("remove: {e}"));
                    }
                    tokio::task::yield_now().await;
                    hub.add_participant(&alice, talk, &bob).await.unwrap_or_else(|e| panic!("re-add: {e}"));
                }
            })
        };
        tokio::task::yield_now().await;
        let since = store.head().await.unwrap_or_else(|e| panic!("head: {e}")).saturating_sub(round % 5);
        let scope = if round % 2 == 0 { Scope::All } else { Scope::Talk(talk) };
        let subscribed = hub.subscribe(&agent("bob"), scope, Some(since)).await;
        for writer in writers {
            writer.await.unwrap_or_else(|e| panic!("a writer failed: {e}"));
        }
        membership.await.unwrap_or_else(|e| panic!("the membership changes failed: {e}"));
        let mut subscription = match subscribed {
            Ok(subscription) => subscription,
            // Bob was between a leave and its re-add, with no record
            // spanning `since`: refusing is right.
            Err(error) if error.code() == "not_participant" => continue,
            Err(error) => panic!("round {round}: subscribe failed: {error}"),
        };
        let scope_talk = match scope {
            Scope::Talk(talk) => Some(talk),
            Scope::All => None,
        };
        let want = visible(store.as_ref(), "bob", scope_talk, since).await;
        let got = receive(&mut subscription, want.last().copied().unwrap_or(0)).await;
        if !got.ended {
            assert_eq!(got.seqs, want, "round {round}: since {since}, scope {scope:?}");
            continue;
        }
        assert!(scope_talk.is_some(), "round {round}: only a single-talk subscription ends");
        assert!(want.starts_with(&got.seqs), "round {round}: since {since}: got {got:?}, a prefix of {want:?}");
        let leaves = bob_leaves(store.as_ref(), talk).await;
        let end = got.seqs.last().copied().unwrap_or(0);
        assert!(leaves.contains(&end), "round {round}: it ends at a leave of bob: {got:?}, leaves {leaves:?}");
        if let Some(live_after) = got.live_after {
            let first_after = leaves.iter().find(|&&leave| leave > live_after);
            assert_eq!(first_after, Some(&end), "round {round}: live at {live_after}, it ends at the next leave");
        }
    }
}

/// The `seq`s of bob's `participant_left` events in `talk`.
async fn bob_leaves(store: &dyn Store, talk: TalkId) -> Vec<u64> {
    let events = store.events(0, usize::MAX).await.unwrap_or_else(|e| panic!("read the log: {e}"));
    events
        .iter()
        .filter(|e| {
            e.talk_id == talk
                && matches!(&e.data, talk_core::EventData::ParticipantLeft(p) if p.agent_id.as_str() == "bob")
        })
        .map(|e| e.seq)
        .collect()
}
