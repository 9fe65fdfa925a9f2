//! The one dispatcher of a Hub: reads each new range of the log once and
//! routes each event to the subscriptions it concerns.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{DeliveryOptions, EndReason, EndSlot, Notifier, Scope, SharedEvent, lock};
use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::event::{Event, EventData};
use crate::id::{AgentId, TalkId};
use crate::message::MessageKind;
use crate::participant::Participant;
use crate::signal::{SharedTyping, Typing, TypingEnd, Typists};
use crate::store::Store;

/// A subscription as the dispatcher routes to it.
struct LiveSub {
    id: u64,
    scope: Scope,
    sender: mpsc::Sender<Arc<SharedEvent>>,
    /// Its typing frames: a queue of their own, read after the events,
    /// that drops what does not fit.
    typing: mpsc::Sender<Arc<SharedTyping>>,
    end: Arc<EndSlot>,
    last_queued: u64,
}

/// The talks a subscribed agent is in now (as of the dispatcher's
/// position), and its subscriptions.
struct AgentRoute {
    talks: HashSet<TalkId>,
    subs: Vec<LiveSub>,
}

struct Routes {
    /// The last `seq` routed.
    position: u64,
    next_id: u64,
    agents: HashMap<AgentId, AgentRoute>,
    /// For each talk, the subscribed agents active in it.
    members: HashMap<TalkId, HashSet<AgentId>>,
    /// Whether talks of `members` are closed, where known: from the talk
    /// events routed, or read once by a typist's check.
    closed: HashMap<TalkId, bool>,
}

/// The typing path beside the events: the node's typists, who ends their
/// typing as events are routed.
pub(crate) struct TypingPath {
    pub(crate) typists: Arc<Typists>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Typing frames a subscription may hold unread.
    pub(crate) queue: usize,
}

/// What the dispatcher knows of an agent's place in a talk, for typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Not known as active in the talk: the agent has no subscription here,
    /// or is not active in it (the store tells a stranger from a former
    /// participant).
    Unknown,
    /// Active in the talk, which is closed (`Some(true)`), open, or of a
    /// status not known here yet (`None`).
    Member { closed: Option<bool> },
}

/// The one dispatcher of a Hub.
pub(crate) struct Dispatcher {
    routes: Mutex<Routes>,
    store: Arc<dyn Store>,
    options: DeliveryOptions,
    /// The name of its hold on the log ([`Store::hold_events`]): retention
    /// never prunes an event this dispatcher has not routed yet.
    holder: String,
    /// When the hold was last renewed, and at what position.
    held: Mutex<(Instant, u64)>,
    typing: TypingPath,
}

/// Why the dispatcher did not register a subscription.
pub(crate) enum Refused {
    /// It moved past the head the caller read: read again.
    Moved,
    /// The agent is not active in the single talk asked for at the
    /// dispatcher's position.
    NotMember,
}

/// A registration: what a new subscription needs from the dispatcher.
pub(crate) struct Registration {
    pub(crate) id: u64,
    pub(crate) position: u64,
    pub(super) receiver: mpsc::Receiver<Arc<SharedEvent>>,
    pub(super) typing: mpsc::Receiver<Arc<SharedTyping>>,
    pub(super) end: Arc<EndSlot>,
}

impl Dispatcher {
    /// Starts the dispatcher at the store's current head, holding the log
    /// from there on, and spawns its loop.
    pub(crate) async fn start(
        store: Arc<dyn Store>,
        notifier: &dyn Notifier,
        options: DeliveryOptions,
        typing: TypingPath,
    ) -> Result<Arc<Self>> {
        let mut wake = notifier.watch();
        wake.borrow_and_update();
        let holder = format!("dispatcher {}", uuid::Uuid::now_v7());
        // Hold from the low-water mark before reading the head, so that
        // nothing after the head can be pruned before the hold is there.
        let low_water = store.low_water_mark().await?;
        store.hold_events(&holder, low_water, Some(options.hold_lease)).await?;
        let position = store.head().await?;
        store.hold_events(&holder, position, Some(options.hold_lease)).await?;
        let dispatcher = Arc::new(Self {
            routes: Mutex::new(Routes {
                position,
                next_id: 0,
                agents: HashMap::new(),
                members: HashMap::new(),
                closed: HashMap::new(),
            }),
            store,
            options,
            holder,
            held: Mutex::new((Instant::now(), position)),
            typing,
        });
        let weak = Arc::downgrade(&dispatcher);
        tokio::spawn(async move {
            loop {
                let Some(dispatcher) = weak.upgrade() else { return };
                let caught_up = match dispatcher.catch_up().await {
                    Ok(()) => dispatcher.renew_hold().await,
                    failed => failed,
                };
                if let Err(error) = caught_up {
                    // The store failed: try again shortly; nothing is lost,
                    // the log still holds every event after the position.
                    drop(dispatcher);
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let poll = dispatcher.options.poll_interval;
                drop(dispatcher);
                tokio::select! {
                    changed = wake.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(poll) => {}
                }
            }
        });
        Ok(dispatcher)
    }

    pub(crate) fn position(&self) -> u64 {
        lock(&self.routes).position
    }

    /// Moves the hold on the log to the position, at most once a second
    /// while the position moves, and often enough within the lease while it
    /// does not (a hold that lags behind only keeps more of the log).
    async fn renew_hold(&self) -> Result<(), StoreError> {
        let position = self.position();
        let (renewed, at) = *lock(&self.held);
        let due = self.options.hold_lease / 3;
        let elapsed = renewed.elapsed();
        if elapsed < due && (position == at || elapsed < Duration::from_secs(1)) {
            return Ok(());
        }
        self.store.hold_events(&self.holder, position, Some(self.options.hold_lease)).await?;
        *lock(&self.held) = (Instant::now(), position);
        Ok(())
    }

    /// Ends every subscription as lagged: the events after `position` up to
    /// `through` are gone from the log (pruned under a hold that expired, as
    /// when this node was frozen past its lease), so a live subscriber's
    /// next event is missing. Each resumes with `since` and learns to
    /// resync; routing goes on after `through`.
    fn lost(&self, through: u64) {
        let mut routes = lock(&self.routes);
        for route in routes.agents.values() {
            for sub in &route.subs {
                sub.end.set(EndReason::Lagged { resume_after: 0 });
            }
        }
        routes.agents.clear();
        routes.members.clear();
        routes.closed.clear();
        routes.position = routes.position.max(through);
    }

    /// Routes every event after the position up to the store's head.
    async fn catch_up(&self) -> Result<(), StoreError> {
        loop {
            let position = self.position();
            let batch = self.store.events(position, self.options.page).await?;
            let Some(first) = batch.first().map(|e| e.seq) else { return Ok(()) };
            if first > position + 1 {
                // The log has no holes: the events between were pruned.
                self.lost(first - 1);
                continue;
            }
            // A participant's span starts at the first event of the change
            // that added it, which may lie before this batch: read those too.
            let span_start = batch
                .iter()
                .filter_map(|e| match &e.data {
                    EventData::ParticipantJoined(p) => Some(p.joined_seq),
                    _ => None,
                })
                .min()
                .unwrap_or(first);
            let mut context = if span_start < first {
                let count = usize::try_from(first - span_start).unwrap_or(usize::MAX);
                self.store.events(span_start - 1, count).await?
            } else {
                Vec::new()
            };
            context.retain(|e| e.seq < first);
            if context.first().is_some_and(|e| e.seq > span_start) {
                // The start of a joining change was pruned: its joiner's span
                // cannot be delivered whole.
                self.lost(position);
                continue;
            }
            let skip = context.len();
            context.extend(batch);
            self.route(&context, skip);
        }
    }

    /// Routes `events[skip..]`; `events[..skip]` are earlier events kept for
    /// the spans of participants who join in this batch.
    fn route(&self, events: &[Event], skip: usize) {
        let mut encoded: Vec<Option<Arc<SharedEvent>>> = vec![None; events.len()];
        let mut encode = |i: usize| -> Arc<SharedEvent> {
            encoded[i].get_or_insert_with(|| Arc::new(SharedEvent::new(events[i].clone()))).clone()
        };
        let mut ends = Vec::new();
        let mut routes = lock(&self.routes);
        let Routes { position, agents, members, closed, .. } = &mut *routes;
        for (i, event) in events.iter().enumerate().skip(skip) {
            if event.seq <= *position {
                continue;
            }
            let talk = event.talk_id;
            if let Some(end) = typing_end(&event.data) {
                ends.push(end);
            }
            match &event.data {
                EventData::TalkClosed(_) if members.contains_key(&talk) => {
                    closed.insert(talk, true);
                }
                EventData::TalkReopened(_) if members.contains_key(&talk) => {
                    closed.insert(talk, false);
                }
                _ => {}
            }
            if let EventData::ParticipantJoined(p) = &event.data
                && let Some(route) = agents.get_mut(&p.agent_id)
                && route.talks.insert(talk)
            {
                members.entry(talk).or_default().insert(p.agent_id.clone());
                // Deliver the events of the same change before the join: the span starts there.
                for (j, earlier) in events.iter().enumerate().take(i) {
                    if earlier.seq >= p.joined_seq && earlier.talk_id == talk {
                        let shared = encode(j);
                        deliver(route, talk, &shared);
                    }
                }
            }
            if let Some(subscribed) = members.get(&talk) {
                for agent in subscribed.iter().filter(|agent| event.data.reaches(agent)) {
                    if let Some(route) = agents.get_mut(agent) {
                        let shared = encode(i);
                        deliver(route, talk, &shared);
                    }
                }
            }
            if let EventData::ParticipantLeft(p) = &event.data
                && let Some(route) = agents.get_mut(&p.agent_id)
            {
                route.talks.remove(&talk);
                if let Some(set) = members.get_mut(&talk) {
                    set.remove(&p.agent_id);
                    if set.is_empty() {
                        members.remove(&talk);
                        closed.remove(&talk);
                    }
                }
                route.subs.retain(|sub| {
                    let ends = sub.scope == Scope::Talk(talk);
                    if ends {
                        sub.end.set(EndReason::Left);
                    }
                    !ends
                });
            }
            *position = event.seq;
        }
        // Forget agents whose every subscription ended.
        let gone: Vec<AgentId> =
            agents.iter().filter(|(_, route)| route.subs.is_empty()).map(|(agent, _)| agent.clone()).collect();
        for agent in gone {
            forget(agents, members, &agent);
        }
        closed.retain(|talk, _| members.contains_key(talk));
        drop(routes);
        // Typing that the events ended stops (after the events are queued).
        if !ends.is_empty() && !self.typing.typists.is_empty() {
            let now = self.typing.clock.now();
            let frames: Vec<Typing> = ends.iter().flat_map(|end| self.typing.typists.end(end, now)).collect();
            self.deliver_typing(frames);
        }
    }

    /// Queues typing frames for the subscriptions of the other agents active
    /// in their talks; answers how many were queued and how many dropped
    /// (a full typing queue drops the frame, never an event).
    pub(crate) fn deliver_typing(&self, frames: Vec<Typing>) -> (u64, u64) {
        let (mut queued, mut dropped) = (0, 0);
        let routes = lock(&self.routes);
        for typing in frames {
            let Some(subscribed) = routes.members.get(&typing.talk_id) else { continue };
            let talk = typing.talk_id;
            let shared = Arc::new(SharedTyping::new(typing));
            for agent in subscribed.iter().filter(|agent| **agent != shared.typing.agent_id) {
                let Some(route) = routes.agents.get(agent) else { continue };
                for sub in route.subs.iter().filter(|sub| sub.scope.covers(talk)) {
                    match sub.typing.try_send(shared.clone()) {
                        Ok(()) => queued += 1,
                        Err(mpsc::error::TrySendError::Full(_)) => dropped += 1,
                        Err(mpsc::error::TrySendError::Closed(_)) => {}
                    }
                }
            }
        }
        (queued, dropped)
    }

    /// The agent's standing in a talk as the routes know it: whether it may
    /// type there, without a store read.
    pub(crate) fn standing(&self, agent: &AgentId, talk: TalkId) -> Standing {
        let routes = lock(&self.routes);
        match routes.agents.get(agent) {
            Some(route) if route.talks.contains(&talk) => {
                Standing::Member { closed: routes.closed.get(&talk).copied() }
            }
            _ => Standing::Unknown,
        }
    }

    /// Notes a talk's status read from the store, unless the routes learnt
    /// it since (a routed close or reopen is newer than the read).
    pub(crate) fn note_closed(&self, talk: TalkId, is_closed: bool) {
        let mut routes = lock(&self.routes);
        if routes.members.contains_key(&talk) {
            routes.closed.entry(talk).or_insert(is_closed);
        }
    }

    /// Registers a subscription at the current position `D`, with the
    /// agent's `memberships` (its records active or ended after a position
    /// at or before `D`, read when the store's head was `head`).
    ///
    /// # Errors
    /// [`Refused::Moved`] when the dispatcher has moved past `head` (read
    /// again); [`Refused::NotMember`] for a single talk the agent is not
    /// active in at `D` (it left since the caller looked).
    pub(crate) fn register(
        &self,
        agent: &AgentId,
        scope: Scope,
        memberships: &[Participant],
        head: u64,
    ) -> Result<Registration, Refused> {
        let mut routes = lock(&self.routes);
        let position = routes.position;
        if position > head {
            return Err(Refused::Moved);
        }
        let Routes { next_id, agents, members, .. } = &mut *routes;
        let covered = |talks: &HashSet<TalkId>| match scope {
            Scope::Talk(talk) => talks.contains(&talk),
            Scope::All => true,
        };
        if let Some(route) = agents.get(agent) {
            if !covered(&route.talks) {
                return Err(Refused::NotMember);
            }
        } else {
            let talks: HashSet<TalkId> = memberships
                .iter()
                .filter(|p| p.joined_seq <= position && p.left_seq.is_none_or(|left| left > position))
                .map(|p| p.talk_id)
                .collect();
            if !covered(&talks) {
                return Err(Refused::NotMember);
            }
            for talk in &talks {
                members.entry(*talk).or_default().insert(agent.clone());
            }
            agents.insert(agent.clone(), AgentRoute { talks, subs: Vec::new() });
        }
        let Some(route) = agents.get_mut(agent) else { return Err(Refused::Moved) };
        *next_id += 1;
        let id = *next_id;
        let (sender, receiver) = mpsc::channel(self.options.queue_bound.max(1));
        let (typing_sender, typing) = mpsc::channel(self.typing.queue.max(1));
        let end = Arc::new(EndSlot::default());
        route.subs.push(LiveSub { id, scope, sender, typing: typing_sender, end: end.clone(), last_queued: position });
        Ok(Registration { id, position, receiver, typing, end })
    }

    /// Removes a subscription (when it is dropped or ends).
    pub(crate) fn unregister(&self, agent: &AgentId, id: u64) {
        let mut routes = lock(&self.routes);
        let Routes { agents, members, .. } = &mut *routes;
        if let Some(route) = agents.get_mut(agent) {
            route.subs.retain(|sub| sub.id != id);
            if route.subs.is_empty() {
                forget(agents, members, agent);
            }
        }
    }
}

impl Drop for Dispatcher {
    /// Ends the hold on the log (best effort: an unreleased hold expires
    /// with its lease).
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, holder) = (self.store.clone(), std::mem::take(&mut self.holder));
            runtime.spawn(async move { store.release_events(&holder).await });
        }
    }
}

fn forget(agents: &mut HashMap<AgentId, AgentRoute>, members: &mut HashMap<TalkId, HashSet<AgentId>>, agent: &AgentId) {
    if let Some(route) = agents.remove(agent) {
        for talk in route.talks {
            if let Some(set) = members.get_mut(&talk) {
                set.remove(agent);
                if set.is_empty() {
                    members.remove(&talk);
                }
            }
        }
    }
}

/// What an event ends of typing: a normal message ends its author's typing
/// in its thread; a leave or removal ends the agent's typing in the talk; a
/// close ends all typing in the talk.
fn typing_end(data: &EventData) -> Option<TypingEnd> {
    match data {
        EventData::MessageCreated(message) if message.kind == MessageKind::Normal => {
            message.agent_id.as_ref().map(|agent| TypingEnd::Sent {
                talk_id: message.talk_id,
                parent_id: message.parent_id,
                agent_id: agent.clone(),
            })
        }
        EventData::ParticipantLeft(p) => Some(TypingEnd::Left { talk_id: p.talk_id, agent_id: p.agent_id.clone() }),
        EventData::TalkClosed(talk) => Some(TypingEnd::Closed { talk_id: talk.id }),
        _ => None,
    }
}

/// Queues an event for every subscription of `route` that covers `talk`;
/// a full queue ends its subscription as lagged.
fn deliver(route: &mut AgentRoute, talk: TalkId, shared: &Arc<SharedEvent>) {
    let seq = shared.event.seq;
    route.subs.retain_mut(|sub| {
        if !sub.scope.covers(talk) || sub.last_queued >= seq {
            return true;
        }
        match sub.sender.try_send(shared.clone()) {
            Ok(()) => {
                sub.last_queued = seq;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                sub.end.set(EndReason::Lagged { resume_after: 0 });
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
}
