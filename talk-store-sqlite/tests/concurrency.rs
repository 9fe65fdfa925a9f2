//! Many agents at once through one Hub on SqliteStore: 16 agents send,
//! react, add, leave, close and reopen across four talks on a multi-thread
//! runtime, each with a `Scope::All` subscription started before the load.
//! Afterwards: every acknowledged write is visible by reading, no event is
//! duplicated, the log is `1..=head` without holes, rows and events agree,
//! and every subscriber received exactly the events of its spans
//! (`agent_events(agent, None, 0, ..)`), each once, in `seq` order. Bounded
//! in operations; nothing asserts a duration.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talk_core::{
    AgentId, Delivery, DeliveryOptions, ErrorKind, Event, EventData, Hub, Message, MessageId, NewMessage, NewTalk,
    PageRequest, Participant, ParticipantRef, ParticipantStatus, Scope, Store, Subscription, Talk, TalkId, TalkKind,
    TalkStatus,
};
use talk_store_sqlite::{SqliteOptions, SqliteStore};
use talk_testing::faults::{Universe, check_consistency, receive_through, snapshot};
use tokio::sync::oneshot;

const AGENTS: usize = 16;
const TALKS: usize = 4;
const OPS_PER_AGENT: usize = 80;
const EMOJI: [&str; 4] = ["👍", "🎉", "❤️", "👀"];
const ALL: usize = 1_000_000;

fn agent(i: usize) -> AgentId {
    AgentId::parse(&format!("agent-{i:02}")).expect("agent id")
}

/// What one acknowledged operation answered.
#[derive(Debug)]
enum Acked {
    Sent(Message),
    Reacted { message: MessageId, emoji: &'static str, agent: AgentId },
    Added(Participant),
    Left(Participant),
    Closed(Talk),
    Reopened(Talk),
}

/// Receives everything until told the last `seq` to expect, then up to it.
async fn drain(mut subscription: Subscription, mut last: oneshot::Receiver<u64>) -> Vec<Event> {
    let mut received = Vec::new();
    let last = loop {
        tokio::select! {
            biased;
            last = &mut last => break last.expect("the last seq"),
            item = subscription.next() => match item {
                Some(Delivery::Event(shared)) => received.push(shared.event.clone()),
                Some(Delivery::Subscribed { .. }) => {}
                other => panic!("{}'s subscription ended during the load: {other:?}", subscription.agent()),
            },
        }
    };
    received.extend(receive_through(&mut subscription, last).await);
    received
}

/// One agent's load: `OPS_PER_AGENT` random operations, mostly in the
/// talks it is in (it lists them first, as a client would), now and then in
/// any talk.
async fn load(
    hub: Hub,
    me: usize,
    talks: Vec<TalkId>,
    messages: Arc<Mutex<Vec<(TalkId, MessageId)>>>,
) -> (Vec<Acked>, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(0x7a1c + me as u64);
    let actor = agent(me);
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    // A talk found closed is reopened next, as a client would.
    let mut closed: Option<TalkId> = None;
    for op in 0..OPS_PER_AGENT {
        let mine = hub.talks(&actor, None, &PageRequest::first()).await.expect("list my talks").items;
        let talk = if mine.is_empty() || rng.random_range(0..100) < 10 {
            talks[rng.random_range(0..talks.len())]
        } else {
            mine[rng.random_range(0..mine.len())].id
        };
        let reopen = closed.take();
        let (talk, roll) = match reopen {
            Some(closed) => (closed, 99),
            None => (talk, rng.random_range(0..100)),
        };
        let answer = match roll {
            0..45 => {
                let text = NewMessage { text: format!("{actor} #{op}"), ..NewMessage::default() };
                hub.send_message(&actor, talk, text).await.map(|sent| {
                    if let Ok(mut ids) = messages.lock() {
                        ids.push((talk, sent.resource.id));
                    }
                    Acked::Sent(sent.resource)
                })
            }
            45..62 => {
                let in_talk: Vec<MessageId> = messages
                    .lock()
                    .map(|ids| ids.iter().filter(|(t, _)| *t == talk).map(|(_, m)| *m).collect())
                    .unwrap_or_default();
                if in_talk.is_empty() {
                    continue;
                }
                let message = in_talk[rng.random_range(0..in_talk.len())];
                let emoji = EMOJI[rng.random_range(0..EMOJI.len())];
                hub.add_reaction(&actor, message, emoji).await.map(|_| Acked::Reacted {
                    message,
                    emoji,
                    agent: actor.clone(),
                })
            }
            62..82 => {
                let other = agent(rng.random_range(0..AGENTS));
                hub.add_participant(&actor, talk, &other).await.map(Acked::Added)
            }
            82..87 => hub.remove_participant(&actor, talk, ParticipantRef::Me).await.map(Acked::Left),
            87..90 => hub.close_talk(&actor, talk).await.map(Acked::Closed),
            _ => hub.reopen_talk(&actor, talk).await.map(Acked::Reopened),
        };
        match answer {
            Ok(done) => acked.push(done),
            Err(error) => {
                assert!(
                    !matches!(error.kind(), ErrorKind::Internal | ErrorKind::Unavailable),
                    "{actor}: operation {op} failed in the store: {error}"
                );
                if matches!(error, talk_core::Error::TalkClosed(_)) {
                    closed = Some(talk);
                }
                refused.push(error.code().to_owned());
            }
        }
    }
    (acked, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_agents_at_once_lose_nothing_duplicate_nothing_and_every_subscriber_gets_its_events() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(SqliteStore::open(dir.path().join("talk.db"), SqliteOptions::default()).expect("open"));
    // Queues large enough that no subscriber lags in this bounded run:
    // lagging has tests of its own.
    let delivery = DeliveryOptions { queue_bound: 1 << 16, ..DeliveryOptions::default() };
    let hub = Hub::builder(store.clone()).delivery(delivery).build();

    // One subscription per agent, before anything happens.
    let mut subscribers = Vec::new();
    for i in 0..AGENTS {
        let subscription = hub.subscribe(&agent(i), Scope::All, None).await.expect("subscribe");
        let (last, told) = oneshot::channel();
        subscribers.push((agent(i), last, tokio::spawn(drain(subscription, told))));
    }

    // Four talks; each agent starts in two of them.
    let mut talks = Vec::new();
    for k in 0..TALKS {
        let members = (1..AGENTS).filter(|j| j % TALKS == k || (j + 1) % TALKS == k).map(agent).collect();
        let input =
            NewTalk { kind: TalkKind::Group, name: Some(format!("talk {k}")), detail: None, participant_ids: members };
        talks.push(hub.create_talk(&agent(0), input).await.expect("create talk").resource.id);
    }

    // The load.
    let messages = Arc::new(Mutex::new(Vec::new()));
    let mut agents = Vec::new();
    for me in 0..AGENTS {
        agents.push(tokio::spawn(load(hub.clone(), me, talks.clone(), messages.clone())));
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    for task in agents {
        let (ok, no) = task.await.expect("agent task");
        acked.extend(ok);
        refused.extend(no);
    }

    // The log: 1..=head, no holes, nothing twice.
    let head = store.head().await.expect("head");
    let log = common::whole_log(store.as_ref()).await;
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "the log is 1..=head without holes");
    let mut made = HashSet::new();
    for event in &log {
        let key = match &event.data {
            EventData::TalkCreated(t) => Some(format!("talk {}", t.id)),
            EventData::ParticipantJoined(p) => Some(format!("joined {}", p.id)),
            EventData::ParticipantLeft(p) => Some(format!("left {}", p.id)),
            EventData::MessageCreated(m) => Some(format!("message {}", m.id)),
            EventData::ReactionAdded(r) => Some(format!("reaction {} {} {}", r.message_id, r.emoji, r.agent_id)),
            _ => None,
        };
        if let Some(key) = key {
            assert!(made.insert(key.clone()), "duplicated event: {key} again at {}", event.seq);
        }
    }
    let at = |seq: u64| log.get(usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)).unwrap_or(usize::MAX));

    // Every acknowledged write is there.
    for done in &acked {
        match done {
            Acked::Sent(m) => {
                let stored = store.message(m.id, 0).await.expect("read");
                assert!(stored.is_some_and(|s| s.talk_id == m.talk_id && s.text == m.text), "sent {} is stored", m.id);
                assert!(
                    matches!(at(m.seq).map(|e| &e.data), Some(EventData::MessageCreated(c)) if c.id == m.id),
                    "sent {} has its message_created at {}",
                    m.id,
                    m.seq
                );
            }
            Acked::Reacted { message, emoji, agent } => {
                let emoji = talk_core::Emoji::parse(emoji).expect("emoji");
                let stored = store.reaction(*message, &emoji, agent).await.expect("read");
                let Some(reaction) = stored else { panic!("{agent}'s {emoji} on {message} is stored") };
                assert!(
                    matches!(at(reaction.seq).map(|e| &e.data), Some(EventData::ReactionAdded(r))
                        if r.message_id == *message && r.emoji == emoji && &r.agent_id == agent),
                    "{agent}'s {emoji} on {message} has its reaction_added"
                );
            }
            Acked::Added(p) => {
                let stored = store.participant(p.id).await.expect("read");
                assert!(stored.is_some_and(|s| s.talk_id == p.talk_id && s.agent_id == p.agent_id), "record {}", p.id);
                assert!(
                    matches!(at(p.seq).map(|e| &e.data), Some(EventData::ParticipantJoined(j)) if j.id == p.id),
                    "added {} has its participant_joined at {}",
                    p.id,
                    p.seq
                );
            }
            Acked::Left(p) => {
                let stored = store.participant(p.id).await.expect("read").expect("the record that left");
                assert_eq!(stored.status, ParticipantStatus::Left, "{} left", p.id);
                let left = stored.left_seq.expect("left_seq");
                assert!(
                    matches!(at(left).map(|e| &e.data), Some(EventData::ParticipantLeft(l)) if l.id == p.id),
                    "{} has its participant_left at {left}",
                    p.id
                );
            }
            Acked::Closed(t) => {
                assert_eq!(t.status, TalkStatus::Closed);
                assert!(
                    log.iter()
                        .any(|e| matches!(&e.data, EventData::TalkClosed(c) if c.id == t.id && c.version <= t.version)),
                    "closed {} has a talk_closed",
                    t.id
                );
            }
            Acked::Reopened(t) => assert_eq!(t.status, TalkStatus::Active),
        }
    }

    // Rows and events agree.
    let everyone: Vec<AgentId> = (0..AGENTS).map(agent).collect();
    let universe = Universe::from_log(&log, everyone);
    let state = snapshot(store.as_ref(), &universe).await.expect("snapshot");
    check_consistency(&state).unwrap_or_else(|e| panic!("{e}"));

    // Every subscriber: exactly the events of its spans, once each, in order.
    let mut delivered = 0;
    for (agent, last, task) in subscribers {
        let expected = store.agent_events(&agent, None, 0, ALL).await.expect("agent events");
        let _ = last.send(expected.last().map_or(0, |e| e.seq));
        let received = task.await.expect("subscriber task");
        assert!(received.windows(2).all(|w| w[0].seq < w[1].seq), "{agent} received in seq order, each once");
        assert_eq!(received, expected, "{agent} received exactly the events of its spans");
        delivered += received.len();
    }

    let mut codes: Vec<(String, usize)> = Vec::new();
    for code in &refused {
        match codes.iter_mut().find(|(c, _)| c == code) {
            Some((_, n)) => *n += 1,
            None => codes.push((code.clone(), 1)),
        }
    }
    eprintln!(
        "concurrency: {} operations ({} acknowledged, {} refused by the rules), {} events in the log, {} deliveries to {AGENTS} subscribers checked; refusals: {codes:?}",
        acked.len() + refused.len(),
        acked.len(),
        refused.len(),
        log.len(),
        delivered
    );
}
