//! Typing and presence on one node: ephemeral signals beside the event log.
//!
//! Time is a manual clock for the expiries and graces, and Tokio's paused
//! clock for the Hub's tick: no test sleeps.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use common::*;
use talk_core::signal::SignalOptions;
use talk_core::{
    Clock, Delivery, Hub, ManualClock, PageRequest, ParticipantRef, Presence, PresenceStatus, PresenceWatch, Scope,
    Store, Subscription, TalkId, TypingState,
};
use talk_store_memory::MemoryStore;

struct Clocked {
    hub: TestHub,
    clock: Arc<ManualClock>,
}

fn clocked_with(options: SignalOptions) -> Clocked {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::default());
    let hub = Hub::builder(store.clone()).clock(clock.clone()).signals(options).build();
    Clocked { hub: TestHub::new(hub, store), clock }
}

fn clocked() -> Clocked {
    clocked_with(SignalOptions::default())
}

impl Clocked {
    /// Lets the Hub apply what it was told, moves the manual clock, then
    /// lets the Hub's tick run (paused Tokio time advances at once).
    async fn pass(&self, millis: i64) {
        settle().await;
        self.clock.advance(Span::milliseconds(millis));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Lets the Hub's tasks (the signal loop, the dispatcher) take what waits for them.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// A subscription that has delivered its `subscribed`.
async fn subscribed(hub: &Hub, who: &str, scope: Scope) -> Subscription {
    let mut sub = hub.subscribe(&agent(who), scope, None).await.expect("subscribe");
    settle().await;
    assert!(matches!(next(&mut sub).await, Delivery::Subscribed { .. }));
    sub
}

async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(Duration::from_secs(30), sub.next())
        .await
        .expect("an item in time")
        .expect("the subscription goes on")
}

/// The next item if one is ready after the Hub had time to deliver it.
async fn ready(sub: &mut Subscription) -> Option<Delivery> {
    tokio::time::timeout(Duration::from_millis(300), sub.next()).await.ok().flatten()
}

/// The next item, which must be a typing frame: `(agent, parent, state)`.
async fn typing(sub: &mut Subscription) -> (String, Option<talk_core::MessageId>, TypingState) {
    match next(sub).await {
        Delivery::Typing(shared) => {
            (shared.typing.agent_id.as_str().to_owned(), shared.typing.parent_id, shared.typing.state)
        }
        other => panic!("expected a typing frame, got {other:?}"),
    }
}

async fn watched(watch: &PresenceWatch) -> Presence {
    tokio::time::timeout(Duration::from_secs(30), watch.next()).await.expect("a presence in time")
}

/// The next typing frame, past any events.
async fn next_typing(sub: &mut Subscription) -> (String, TypingState) {
    loop {
        if let Delivery::Typing(shared) = next(sub).await {
            return (shared.typing.agent_id.as_str().to_owned(), shared.typing.state);
        }
    }
}

/// Items until the event `seq` was delivered (the dispatcher has routed it).
async fn through(sub: &mut Subscription, seq: u64) {
    while sub.last_seq() < seq {
        next(sub).await;
    }
}

async fn types(hub: &Hub, who: &str, talk: TalkId) {
    hub.typing(&agent(who), talk, None, true).await.expect("typing");
}

#[tokio::test(start_paused = true)]
async fn typing_reaches_other_subscribers_not_the_typist() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b", "c"]).await;
    let mut a = subscribed(&t.hub, "a", Scope::All).await;
    let mut b = subscribed(&t.hub, "b", Scope::Talk(talk.id)).await;
    let mut c = subscribed(&t.hub, "c", Scope::All).await;
    types(&t.hub, "a", talk.id).await;
    assert_eq!(typing(&mut b).await, ("a".into(), None, TypingState::Started));
    assert_eq!(typing(&mut c).await, ("a".into(), None, TypingState::Started));
    // Renewals only renew: nothing more reaches the others.
    t.pass(2_000).await;
    types(&t.hub, "a", talk.id).await;
    assert_eq!(ready(&mut b).await, None);
    // The typist hears nothing of its own typing: its next item is the event.
    let message = send(&t.hub, "b", talk.id, "hi").await;
    match next(&mut a).await {
        Delivery::Event(shared) => assert_eq!(shared.event.seq, message.seq),
        other => panic!("the typist got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn typing_expires_after_six_seconds() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b"]).await;
    let mut b = subscribed(&t.hub, "b", Scope::All).await;
    types(&t.hub, "a", talk.id).await;
    assert_eq!(typing(&mut b).await.2, TypingState::Started);
    t.pass(5_900).await;
    assert_eq!(ready(&mut b).await, None, "not expired before six seconds");
    // A renewal at 5.9 s: six more seconds from there.
    types(&t.hub, "a", talk.id).await;
    t.pass(5_900).await;
    assert_eq!(ready(&mut b).await, None, "renewed");
    t.pass(200).await;
    assert_eq!(typing(&mut b).await, ("a".into(), None, TypingState::Stopped));
    t.pass(10_000).await;
    assert_eq!(ready(&mut b).await, None, "stopped once");
}

#[tokio::test(start_paused = true)]
async fn send_stops_typing() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b"]).await;
    let root = send(&t.hub, "b", talk.id, "root").await;
    let mut b = subscribed(&t.hub, "b", Scope::Talk(talk.id)).await;
    t.hub.typing(&agent("a"), talk.id, Some(root.id), true).await.unwrap();
    types(&t.hub, "a", talk.id).await;
    let started = [typing(&mut b).await, typing(&mut b).await];
    assert!(started.contains(&("a".into(), Some(root.id), TypingState::Started)));
    assert!(started.contains(&("a".into(), None, TypingState::Started)));
    // A reply in the thread stops the typing in the thread, not in the main view.
    t.pass(1_500).await;
    let sent = t.hub.send_message(&agent("a"), talk.id, reply("done", root.id)).await.unwrap().resource;
    match next(&mut b).await {
        Delivery::Event(shared) => assert_eq!(shared.event.seq, sent.seq),
        other => panic!("expected the message first, got {other:?}"),
    }
    assert_eq!(typing(&mut b).await, ("a".into(), Some(root.id), TypingState::Stopped));
    assert_eq!(ready(&mut b).await, None);
    // A message in the main view stops the typing there.
    send(&t.hub, "a", talk.id, "main").await;
    assert!(matches!(next(&mut b).await, Delivery::Event(_)));
    assert_eq!(typing(&mut b).await, ("a".into(), None, TypingState::Stopped));
}

#[tokio::test(start_paused = true)]
async fn typing_in_closed_talk_is_refused() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b", "c"]).await;
    let other = group(&t.hub, "d", &["e"]).await;
    let mut b = subscribed(&t.hub, "b", Scope::All).await;
    let _a = subscribed(&t.hub, "a", Scope::All).await;
    // Closing the talk stops its typists, then refuses typing there.
    types(&t.hub, "a", talk.id).await;
    assert_eq!(typing(&mut b).await.2, TypingState::Started);
    t.pass(1_500).await;
    t.hub.close_talk(&agent("b"), talk.id).await.unwrap();
    assert_eq!(next_typing(&mut b).await, ("a".into(), TypingState::Stopped));
    through(&mut b, head(&t.hub).await).await;
    assert_eq!(code(t.hub.typing(&agent("a"), talk.id, None, true).await), "talk_closed");
    // Without a subscription the store answers, the same way.
    assert_eq!(code(t.hub.typing(&agent("c"), talk.id, None, true).await), "talk_closed");
    // A stranger (subscribed elsewhere, or not at all) and a former participant.
    assert_eq!(code(t.hub.typing(&agent("a"), other.id, None, true).await), "not_found");
    assert_eq!(code(t.hub.typing(&agent("f"), other.id, None, true).await), "not_found");
    t.hub.reopen_talk(&agent("b"), talk.id).await.unwrap();
    t.hub.remove_participant(&agent("c"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(code(t.hub.typing(&agent("c"), talk.id, None, true).await), "not_participant");
    // Reopened (once the routes have seen it): typing works again, and a leave stops it.
    through(&mut b, head(&t.hub).await).await;
    types(&t.hub, "a", talk.id).await;
    // Within a second of its stop: shown when the second ends.
    t.pass(1_500).await;
    assert_eq!(next_typing(&mut b).await, ("a".into(), TypingState::Started));
    t.pass(1_500).await;
    t.hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(next_typing(&mut b).await, ("a".into(), TypingState::Stopped));
}

#[tokio::test(start_paused = true)]
async fn typing_never_enters_the_event_log() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b"]).await;
    let mut b = subscribed(&t.hub, "b", Scope::All).await;
    let before = all_events(&t.hub).await;
    types(&t.hub, "a", talk.id).await;
    assert_eq!(typing(&mut b).await.2, TypingState::Started);
    t.pass(1_500).await;
    t.hub.typing(&agent("a"), talk.id, None, false).await.unwrap();
    assert_eq!(typing(&mut b).await.2, TypingState::Stopped);
    assert_eq!(all_events(&t.hub).await, before);
    // Nor in a replay.
    let mut replay = t.hub.subscribe(&agent("b"), Scope::All, Some(0)).await.unwrap();
    let mut items = Vec::new();
    loop {
        let item = next(&mut replay).await;
        if matches!(item, Delivery::Subscribed { .. }) {
            break;
        }
        items.push(item);
    }
    assert_eq!(items.len(), before.len());
    assert!(items.iter().all(|item| matches!(item, Delivery::Event(_))));
}

#[tokio::test(start_paused = true)]
async fn presence_online_while_any_socket_open() {
    let t = clocked();
    group(&t.hub, "a", &["b"]).await;
    let presence = |who: &'static str| {
        let hub = &t.hub;
        async move { hub.presence(&agent("b"), &agent(who)).await.unwrap() }
    };
    assert_eq!((presence("a").await.status, presence("a").await.tm_last_seen), (PresenceStatus::Offline, None));
    let first = t.hub.connect(&agent("a"));
    let second = t.hub.connect(&agent("a"));
    assert_eq!(presence("a").await.status, PresenceStatus::Online);
    drop(first);
    t.pass(10_000).await;
    assert_eq!(presence("a").await.status, PresenceStatus::Online, "one socket is still open");
    let closed_at = t.clock.now();
    drop(second);
    t.pass(4_000).await;
    assert_eq!(presence("a").await.status, PresenceStatus::Online, "within the reconnect grace");
    t.pass(1_500).await;
    let gone = presence("a").await;
    assert_eq!(gone.status, PresenceStatus::Offline);
    let seen = gone.tm_last_seen.expect("last seen when its last socket closed");
    assert!(seen >= closed_at && seen < closed_at + Span::milliseconds(10), "{seen} against {closed_at}");
}

#[tokio::test(start_paused = true)]
async fn quick_reconnect_is_not_offline() {
    let t = clocked();
    group(&t.hub, "a", &["b"]).await;
    let watch = t.hub.presence_watch();
    t.hub.watch_presence(&agent("b"), &watch, &[agent("a")]).await.unwrap();
    assert_eq!(watched(&watch).await.status, PresenceStatus::Offline);
    let socket = t.hub.connect(&agent("a"));
    assert_eq!(watched(&watch).await.status, PresenceStatus::Online);
    drop(socket);
    t.pass(3_000).await;
    let socket = t.hub.connect(&agent("a"));
    t.pass(10_000).await;
    assert!(tokio::time::timeout(Duration::from_millis(500), watch.next()).await.is_err(), "no offline, no online");
    drop(socket);
    t.pass(6_000).await;
    assert_eq!(watched(&watch).await.status, PresenceStatus::Offline);
}

#[tokio::test(start_paused = true)]
async fn presence_hidden_from_strangers() {
    let t = clocked();
    let talk = group(&t.hub, "a", &["b"]).await;
    group(&t.hub, "c", &["d"]).await;
    let _online = t.hub.connect(&agent("c"));
    assert_eq!(code(t.hub.presence(&agent("a"), &agent("c")).await), "not_found");
    assert_eq!(code(t.hub.presence(&agent("a"), &agent("nobody")).await), "not_found");
    // Itself, always.
    assert_eq!(t.hub.presence(&agent("a"), &agent("a")).await.unwrap().status, PresenceStatus::Offline);
    // A talk whose records ended is shared no more.
    t.hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(code(t.hub.presence(&agent("a"), &agent("b")).await), "not_found");
    // A closed talk is still shared while both are active in it.
    let closed = group(&t.hub, "a", &["c"]).await;
    t.hub.close_talk(&agent("a"), closed.id).await.unwrap();
    assert_eq!(t.hub.presence(&agent("a"), &agent("c")).await.unwrap().status, PresenceStatus::Online);
    // The talk's list: its participants only.
    assert_eq!(code(t.hub.talk_presence(&agent("d"), closed.id, &PageRequest::first()).await), "not_found");
    let list = t.hub.talk_presence(&agent("a"), closed.id, &PageRequest::first()).await.unwrap();
    let statuses: Vec<(&str, PresenceStatus)> = list.items.iter().map(|p| (p.agent_id.as_str(), p.status)).collect();
    assert_eq!(statuses, [("a", PresenceStatus::Offline), ("c", PresenceStatus::Online)]);
}

#[tokio::test(start_paused = true)]
async fn presence_subscribe_gets_current_then_changes() {
    let t = clocked();
    group(&t.hub, "a", &["b", "c"]).await;
    let b_online = t.hub.connect(&agent("b"));
    let watch = t.hub.presence_watch();
    let asked = [agent("b"), agent("stranger"), agent("c"), agent("b")];
    t.hub.watch_presence(&agent("a"), &watch, &asked).await.unwrap();
    let now = [watched(&watch).await, watched(&watch).await];
    assert_eq!(
        now.iter().map(|p| (p.agent_id.as_str(), p.status)).collect::<Vec<_>>(),
        [("b", PresenceStatus::Online), ("c", PresenceStatus::Offline)]
    );
    let c = t.hub.connect(&agent("c"));
    assert_eq!((watched(&watch).await.agent_id.as_str(), PresenceStatus::Online), ("c", PresenceStatus::Online));
    drop(c);
    t.pass(5_500).await;
    let offline = watched(&watch).await;
    assert_eq!((offline.agent_id.as_str(), offline.status), ("c", PresenceStatus::Offline));
    assert!(offline.tm_last_seen.is_some());
    // A new set replaces the old one.
    t.hub.watch_presence(&agent("a"), &watch, &[agent("c")]).await.unwrap();
    assert_eq!(watched(&watch).await.agent_id.as_str(), "c");
    drop(b_online);
    t.pass(6_000).await;
    assert!(tokio::time::timeout(Duration::from_millis(500), watch.next()).await.is_err(), "b is not watched now");
    // Over the limit: refused, the set unchanged.
    let many: Vec<_> = (0..201).map(|i| agent(&format!("x{i}"))).collect();
    assert_eq!(code(t.hub.watch_presence(&agent("a"), &watch, &many).await), "invalid_request");
    assert_eq!(watch.watched(), [agent("c")]);
}

#[tokio::test(start_paused = true)]
async fn typing_is_coalesced_and_never_delays_events() {
    let t = clocked_with(SignalOptions { typing_queue: 4, ..SignalOptions::default() });
    let typists: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let names: Vec<&str> = typists.iter().map(String::as_str).collect();
    let talk = group(&t.hub, "b", &names).await;
    let mut b = subscribed(&t.hub, "b", Scope::All).await;
    for typist in &names {
        types(&t.hub, typist, talk.id).await;
    }
    // One typist starts and stops ten times within a second: coalesced.
    for _ in 0..10 {
        t.hub.typing(&agent("t0"), talk.id, None, false).await.unwrap();
        t.hub.typing(&agent("t0"), talk.id, None, true).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let message = send(&t.hub, "t1", talk.id, "an event among the typing").await;
    settle().await;
    // The event comes before the typing frames queued ahead of it.
    match next(&mut b).await {
        Delivery::Event(shared) => assert_eq!(shared.event.seq, message.seq),
        other => panic!("expected the event first, got {other:?}"),
    }
    let mut frames = 0;
    while let Some(item) = ready(&mut b).await {
        assert!(matches!(item, Delivery::Typing(_)), "only typing after the event: {item:?}");
        frames += 1;
    }
    assert!(frames <= 4, "at most the typing queue: {frames}");
    let counts = t.hub.signal_counts();
    assert!(counts.typing_dropped >= 16, "{counts:?}");
    assert!(counts.typing_coalesced >= 10, "{counts:?}");
}
