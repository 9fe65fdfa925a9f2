//! Live delivery: subscriptions see exactly the events of their spans,
//! replayed then live, with no gap and no duplicate.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use talk_core::{
    Delivery, DeliveryOptions, EndReason, EventData, Hub, ManualClock, PageRequest, ParticipantFilter, ParticipantRef,
    Scope, Store, Subscription,
};
use talk_store_memory::MemoryStore;
use talk_testing::{ForwardingStore, StoreMethod};

/// The next item, failing the test instead of hanging when none comes.
async fn next(sub: &mut Subscription) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an item within 10 s")
        .expect("the subscription goes on")
}

/// Items until the subscription has delivered the event `seq` (or ended).
async fn items_through(sub: &mut Subscription, seq: u64) -> Vec<Delivery> {
    let mut items = Vec::new();
    while sub.last_seq() < seq {
        let item = next(sub).await;
        let ended = matches!(item, Delivery::Ended(_));
        items.push(item);
        if ended {
            break;
        }
    }
    items
}

fn seqs(items: &[Delivery]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|item| match item {
            Delivery::Event(shared) => Some(shared.event.seq),
            _ => None,
        })
        .collect()
}

/// What the log says the agent sees after `since` (optionally in one talk).
async fn expected(hub: &TestHub, who: &str, talk: Option<talk_core::TalkId>, since: u64) -> Vec<u64> {
    hub.store
        .agent_events(&agent(who), talk, since, usize::MAX)
        .await
        .expect("read the agent's events")
        .iter()
        .map(|e| e.seq)
        .collect()
}

#[tokio::test]
async fn event_in_quiet_talk_after_subscribe_is_delivered() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let mut sub = hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await.unwrap();
    assert_eq!(next(&mut sub).await, Delivery::Subscribed { seq: head(&hub).await });
    let m = send(&hub, "a", talk.id, "hello").await;
    let Delivery::Event(shared) = next(&mut sub).await else { panic!("expected an event") };
    assert_eq!(shared.event.seq, m.seq);
}

/// A format that counts how often it encodes.
struct Counting(std::sync::atomic::AtomicUsize);

impl talk_core::EventFormat for Counting {
    type Encoded = Arc<str>;

    fn encode(&self, event: &talk_core::Event) -> Result<Arc<str>, talk_core::EncodeError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Arc::from(format!("{}:{}", event.seq, event.data.type_name())))
    }
}

#[tokio::test]
async fn an_event_is_encoded_once_for_every_subscriber() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let mut subs = Vec::new();
    for who in ["a", "b", "c", "b"] {
        let mut sub = hub.subscribe(&agent(who), Scope::All, None).await.unwrap();
        assert!(matches!(next(&mut sub).await, Delivery::Subscribed { .. }));
        subs.push(sub);
    }
    let m = send(&hub, "a", talk.id, "hello").await;
    let format = Counting(std::sync::atomic::AtomicUsize::new(0));
    let mut texts = Vec::new();
    for sub in &mut subs {
        let Delivery::Event(shared) = next(sub).await else { panic!("expected the message") };
        texts.push(shared.encoded(&format).expect("encodes"));
    }
    assert_eq!(format.0.load(std::sync::atomic::Ordering::SeqCst), 1, "one encoding for four subscriptions");
    assert!(texts.iter().all(|t| Arc::ptr_eq(t, &texts[0])), "every subscriber shares the same text");
    assert_eq!(&*texts[0], format!("{}:message_created", m.seq));
}

#[tokio::test]
async fn late_joiner_stream_starts_at_own_join() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    send(&hub, "a", talk.id, "before c joined").await;
    let mut star = hub.subscribe(&agent("c"), Scope::All, None).await.unwrap();
    next(&mut star).await;
    let join_from = head(&hub).await;
    hub.add_participant(&agent("a"), talk.id, &agent("c")).await.unwrap();
    let m = send(&hub, "a", talk.id, "after").await;
    let live = items_through(&mut star, m.seq).await;
    assert_eq!(seqs(&live), (join_from + 1..=m.seq).collect::<Vec<_>>());
    let Delivery::Event(first) = &live[0] else { panic!() };
    assert_eq!(first.event.data.type_name(), "participant_joined");
    // Replay from the beginning gives the same: nothing before the join.
    let mut replay = hub.subscribe(&agent("c"), Scope::Talk(talk.id), Some(0)).await.unwrap();
    let replayed = items_through(&mut replay, m.seq).await;
    assert_eq!(seqs(&replayed), seqs(&live));
}

#[tokio::test]
async fn initial_participants_see_talk_created() {
    let hub = hub();
    let mut star = hub.subscribe(&agent("b"), Scope::All, None).await.unwrap();
    next(&mut star).await;
    let talk = group(&hub, "a", &["c", "b"]).await;
    let live = items_through(&mut star, head(&hub).await).await;
    assert_eq!(seqs(&live), [1, 2, 3, 4]);
    let Delivery::Event(first) = &live[0] else { panic!() };
    assert_eq!(first.event.data.type_name(), "talk_created");
    assert_eq!(first.event.talk_id, talk.id);
    assert_eq!(seqs(&live), expected(&hub, "b", None, 0).await);
}

#[tokio::test]
async fn removed_agent_replay_stops_at_own_left() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    send(&hub, "a", talk.id, "one").await;
    let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let b = page.items.iter().find(|p| p.agent_id == agent("b")).unwrap().id;
    let removed = hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    send(&hub, "a", talk.id, "after b left").await;
    let mut sub = hub.subscribe(&agent("b"), Scope::Talk(talk.id), Some(0)).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = sub.next().await {
        items.push(item);
    }
    assert_eq!(items.last(), Some(&Delivery::Ended(EndReason::Left)));
    assert_eq!(seqs(&items).last(), removed.left_seq.as_ref());
    assert_eq!(seqs(&items), expected(&hub, "b", Some(talk.id), 0).await);
    // Without a since before the leave, there is nothing to replay.
    let refused = hub.subscribe(&agent("b"), Scope::Talk(talk.id), removed.left_seq).await;
    assert_eq!(refused.err().map(|e| e.code()), Some("not_participant"));
    assert_eq!(
        hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await.err().map(|e| e.code()),
        Some("not_participant")
    );
    assert_eq!(hub.subscribe(&agent("z"), Scope::Talk(talk.id), None).await.err().map(|e| e.code()), Some("not_found"));
}

#[tokio::test]
async fn live_single_talk_subscription_ends_after_own_participant_left() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let mut sub = hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await.unwrap();
    next(&mut sub).await;
    let left = hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    send(&hub, "a", talk.id, "b does not see this").await;
    let mut items = Vec::new();
    while let Some(item) = sub.next().await {
        items.push(item);
    }
    assert_eq!(seqs(&items).last(), left.left_seq.as_ref());
    assert_eq!(items.last(), Some(&Delivery::Ended(EndReason::Left)));
}

#[tokio::test]
async fn star_scope_follows_talks_joined_later() {
    let hub = hub();
    let mut star = hub.subscribe(&agent("b"), Scope::All, None).await.unwrap();
    next(&mut star).await;
    let t1 = group(&hub, "a", &["b"]).await;
    let t2 = group(&hub, "c", &[]).await;
    send(&hub, "c", t2.id, "b is not here yet").await;
    hub.add_participant(&agent("c"), t2.id, &agent("b")).await.unwrap();
    send(&hub, "c", t2.id, "now b is").await;
    hub.remove_participant(&agent("b"), t1.id, ParticipantRef::Me).await.unwrap();
    send(&hub, "a", t1.id, "b left t1").await;
    let last = send(&hub, "c", t2.id, "star goes on").await;
    let live = items_through(&mut star, last.seq).await;
    assert_eq!(seqs(&live), expected(&hub, "b", None, 0).await);
    assert!(!live.iter().any(|i| matches!(i, Delivery::Ended(_))));
}

#[tokio::test]
async fn readded_agent_sees_both_spans_but_not_the_gap() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let mut star = hub.subscribe(&agent("b"), Scope::All, None).await.unwrap();
    next(&mut star).await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    send(&hub, "a", talk.id, "gap").await;
    hub.add_participant(&agent("a"), talk.id, &agent("b")).await.unwrap();
    let last = send(&hub, "a", talk.id, "back").await;
    let live = items_through(&mut star, last.seq).await;
    assert_eq!(seqs(&live), expected(&hub, "b", None, 3).await);
    let texts: Vec<String> = live
        .iter()
        .filter_map(|i| match i {
            Delivery::Event(e) => match &e.event.data {
                EventData::MessageCreated(m) if m.agent_id.is_some() => Some(m.text.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["back"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribe_since_racing_writers_has_no_gap_or_duplicate() {
    for round in 0_u64..60 {
        let hub = hub();
        let talk = group(&hub, "a", &["b"]).await;
        let other = group(&hub, "b", &[]).await;
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let hub = hub.clone();
                tokio::spawn(async move {
                    for i in 0..40 {
                        let target = if (i + w) % 3 == 0 { other.id } else { talk.id };
                        let who = if target == other.id { "b" } else { "a" };
                        hub.send_message(&agent(who), target, text(&format!("w{w}-{i}"))).await.unwrap();
                        if i % 7 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        let since = head(&hub).await.saturating_sub(round % 5);
        let scope = if round % 2 == 0 { Scope::All } else { Scope::Talk(talk.id) };
        let mut sub = hub.subscribe(&agent("b"), scope, Some(since)).await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        let final_head = head(&hub).await;
        let scope_talk = match scope {
            Scope::Talk(t) => Some(t),
            Scope::All => None,
        };
        let want = expected(&hub, "b", scope_talk, since).await;
        let target = want.last().copied().unwrap_or(since);
        let got = items_through(&mut sub, target).await;
        assert_eq!(seqs(&got), want, "round {round}: since {since}, head {final_head}");
        let subscribed = got.iter().filter(|i| matches!(i, Delivery::Subscribed { .. })).count();
        if subscribed == 0 {
            // Everything came by replay: the hand-over mark comes next.
            assert!(matches!(next(&mut sub).await, Delivery::Subscribed { .. }), "round {round}");
        } else {
            assert_eq!(subscribed, 1, "round {round}");
        }
    }
}

#[tokio::test]
async fn slow_subscriber_is_lagged_and_others_are_not_delayed() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hub = Hub::builder(store)
        .clock(Arc::new(ManualClock::default()))
        .delivery(DeliveryOptions { queue_bound: 8, ..DeliveryOptions::default() })
        .build();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let mut slow = hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await.unwrap();
    let mut fast = hub.subscribe(&agent("c"), Scope::Talk(talk.id), None).await.unwrap();
    next(&mut slow).await;
    next(&mut fast).await;
    let mut last = 0;
    for i in 0..40 {
        last = send(&hub, "a", talk.id, &format!("m{i}")).await.seq;
        // The fast subscriber keeps up; the slow one reads nothing.
        let got = items_through(&mut fast, last).await;
        assert_eq!(seqs(&got), [last]);
    }
    let mut drained = Vec::new();
    loop {
        let item = next(&mut slow).await;
        let ended = matches!(item, Delivery::Ended(_));
        drained.push(item);
        if ended {
            break;
        }
    }
    let got = seqs(&drained);
    assert_eq!(got.len(), 8, "the queue bound holds");
    let Some(Delivery::Ended(EndReason::Lagged { resume_after })) = drained.last() else { panic!("{drained:?}") };
    assert_eq!(Some(resume_after), got.last());
    // Resuming from there gives the rest, without a gap.
    let mut resumed = hub.subscribe(&agent("b"), Scope::Talk(talk.id), Some(*resume_after)).await.unwrap();
    let rest = items_through(&mut resumed, last).await;
    assert_eq!(seqs(&rest), ((resume_after + 1)..=last).collect::<Vec<_>>());
}

#[tokio::test]
async fn resync_required_below_low_water_mark() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    for i in 0..5 {
        send(&hub, "a", talk.id, &format!("m{i}")).await;
    }
    hub.prune_events(4).await.unwrap();
    assert_eq!(
        hub.events(&agent("b"), 2, &PageRequest::first()).await.err().map(|e| e.code()),
        Some("resync_required")
    );
    assert!(hub.events(&agent("b"), 4, &PageRequest::first()).await.is_ok());
    let mut sub = hub.subscribe(&agent("b"), Scope::All, Some(1)).await.unwrap();
    let position = head(&hub).await;
    assert_eq!(next(&mut sub).await, Delivery::ResyncRequired { seq: position });
    let m = send(&hub, "a", talk.id, "live").await;
    let Delivery::Event(shared) = next(&mut sub).await else { panic!() };
    assert_eq!(shared.event.seq, m.seq);
}

#[tokio::test]
async fn retention_prunes_old_events_as_new_ones_commit() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hub = TestHub::new(Hub::builder(store.clone()).retain_events(Some(100)).build(), store);
    let talk = group(&hub, "a", &[]).await;
    for i in 0..300 {
        send(&hub, "a", talk.id, &format!("m{i}")).await;
    }
    let low = hub.store.low_water_mark().await.unwrap();
    assert!(low > 0 && head(&hub).await - low >= 100, "low water {low}");
    assert_eq!(
        hub.events(&agent("a"), 0, &PageRequest::first()).await.err().map(|e| e.code()),
        Some("resync_required")
    );
}

#[tokio::test]
async fn events_page_through_what_the_agent_sees() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let hidden = group(&hub, "a", &[]).await;
    for i in 0..5 {
        send(&hub, "a", talk.id, &format!("m{i}")).await;
        send(&hub, "a", hidden.id, "not for b").await;
    }
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let page = hub.events(&agent("b"), since, &PageRequest::of_size(2)).await.unwrap();
        if page.events.is_empty() {
            assert_eq!(page.next_since, since);
            break;
        }
        seen.extend(page.events.iter().map(|e| e.seq));
        since = page.next_since;
    }
    assert_eq!(seen, expected(&hub, "b", None, 0).await);
    let final_head = head(&hub).await;
    assert!(seen.iter().all(|&s| s <= final_head));
    assert_eq!(
        hub.events(&agent("b"), 0, &PageRequest::of_size(0)).await.err().map(|e| e.code()),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn a_commit_whose_announcement_never_came_is_delivered_by_the_poll() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let subscribed_hub = Hub::builder(store.clone()).build();
    // A second Hub on the same store announces only to its own dispatcher,
    // like a command cancelled between commit and notify, or another process.
    let writing_hub = Hub::builder(store).build();
    let talk = group(&writing_hub, "a", &["b"]).await;
    let mut sub = subscribed_hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await.unwrap();
    next(&mut sub).await;
    // One announced event first, so that the dispatcher has run and waits.
    let announced = send(&subscribed_hub, "a", talk.id, "announced").await;
    let Delivery::Event(shared) = next(&mut sub).await else { panic!("expected the first message") };
    assert_eq!(shared.event.seq, announced.seq);
    let m = send(&writing_hub, "a", talk.id, "unannounced here").await;
    let Delivery::Event(shared) = next(&mut sub).await else { panic!("expected the message") };
    assert_eq!(shared.event.seq, m.seq);
}

/// A Hub on a [`ForwardingStore`] over a MemoryStore, and that store.
fn hooked_hub(builder: impl FnOnce(talk_core::HubBuilder) -> talk_core::HubBuilder) -> (Hub, Arc<ForwardingStore>) {
    let store = Arc::new(ForwardingStore::new(Arc::new(MemoryStore::new())));
    let hub = builder(Hub::builder(store.clone()).clock(Arc::new(ManualClock::default()))).build();
    (hub, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_racing_own_leave_never_hangs() {
    let (hub, store) = hooked_hub(|b| b);
    let talk = group(&hub, "a", &["b"]).await;
    let mut watcher = hub.subscribe(&agent("a"), Scope::Talk(talk.id), None).await.unwrap();
    assert!(matches!(next(&mut watcher).await, Delivery::Subscribed { .. }));
    // After b's subscribe has checked that b is in the talk and noted the
    // dispatcher's position, before it reads the head and registers: b
    // leaves, and the dispatcher routes the leave.
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (leaver, watched) = (hub.clone(), Arc::new(tokio::sync::Mutex::new(watcher)));
    let hook_watched = watched.clone();
    store.set_async_hook(move |method| {
        let fire = method == StoreMethod::Head && armed.swap(false, std::sync::atomic::Ordering::SeqCst);
        let (leaver, watched) = (leaver.clone(), hook_watched.clone());
        Box::pin(async move {
            if fire {
                leaver.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.expect("b leaves");
                let mut watcher = watched.lock().await;
                while !matches!(next(&mut watcher).await, Delivery::Event(e) if e.event.data.type_name() == "participant_left")
                {}
            }
            Ok(())
        })
    });
    match hub.subscribe(&agent("b"), Scope::Talk(talk.id), None).await {
        Err(error) => assert_eq!(error.code(), "not_participant"),
        Ok(mut subscription) => loop {
            match next(&mut subscription).await {
                Delivery::Ended(EndReason::Left) => break,
                Delivery::Subscribed { .. } | Delivery::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_never_prunes_past_the_dispatcher() {
    // Keep nothing: every commit prunes through the head, as far as it may.
    let (hub, store) = hooked_hub(|b| b.retain_events(Some(0)));
    let talk = group(&hub, "a", &["b"]).await;
    let mut sub = hub.subscribe(&agent("b"), Scope::All, None).await.unwrap();
    assert!(matches!(next(&mut sub).await, Delivery::Subscribed { .. }));
    // The dispatcher falls behind: its reads of the log wait at a gate.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let hook_gate = gate.clone();
    store.set_async_hook(move |method| {
        let gate = hook_gate.clone();
        Box::pin(async move {
            if method == StoreMethod::Events {
                drop(gate.acquire().await);
            }
            Ok(())
        })
    });
    // More than one pruning step (the Hub prunes every 64 commits or so).
    let mut sent = Vec::new();
    for i in 0..150 {
        sent.push(send(&hub, "a", talk.id, &format!("m{i}")).await.seq);
    }
    gate.add_permits(1_000);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        match next(&mut sub).await {
            Delivery::Event(shared) => got.push(shared.event.seq),
            other => panic!("after {got:?}: {other:?}, not the events the dispatcher had not read yet"),
        }
    }
    assert_eq!(got, sent, "every event reaches the live subscriber, none pruned under the dispatcher");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_racing_replay_answers_resync_not_gap() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(ForwardingStore::new(inner.clone()));
    let hub = Hub::builder(store.clone())
        .clock(Arc::new(ManualClock::default()))
        .delivery(DeliveryOptions { page: 4, ..DeliveryOptions::default() })
        .build();
    let talk = group(&hub, "a", &["b"]).await;
    for i in 0..20 {
        send(&hub, "a", talk.id, &format!("m{i}")).await;
    }
    let want = inner.agent_events(&agent("b"), None, 0, usize::MAX).await.unwrap();
    let want: Vec<u64> = want.iter().map(|e| e.seq).collect();
    let through = want[want.len() - 3];
    // Between the first page of the replay and the second, retention prunes
    // past where the replay is.
    let pages = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (hook_pages, hook_inner) = (pages.clone(), inner.clone());
    store.set_async_hook(move |method| {
        let second_page =
            method == StoreMethod::AgentEvents && hook_pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1;
        let inner = hook_inner.clone();
        Box::pin(async move {
            if second_page {
                inner.prune_events(through).await?;
            }
            Ok(())
        })
    });
    let mut sub = hub.subscribe(&agent("b"), Scope::All, Some(0)).await.unwrap();
    let mut got = Vec::new();
    loop {
        match next(&mut sub).await {
            Delivery::Event(shared) => got.push(shared.event.seq),
            Delivery::ResyncRequired { .. } => break,
            other => panic!("after {got:?}: {other:?}: the replay went on past pruned events"),
        }
    }
    assert!(want.starts_with(&got), "what came before the resync has no gap: {got:?} of {want:?}");
}
