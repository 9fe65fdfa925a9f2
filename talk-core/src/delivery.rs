//! Live delivery: the notifier, the one dispatcher per process, and
//! subscriptions.
//!
//! After each commit the Hub publishes the committed head through a
//! [`Notifier`]. One dispatcher per Hub waits on it (a level, not a message,
//! so a wake-up cannot be lost), reads each new range of the event log once,
//! encodes each event once, and routes the shared bytes to bounded
//! per-subscription queues through a map of which subscribed agent is in
//! which talk, kept current by the participant events themselves in `seq`
//! order. It never waits for a subscriber: one whose queue is full is ended
//! as lagged.
//!
//! Which events an agent sees: an event of talk T is the agent's if one of
//! its participant records in T spans it (`joined_seq ≤ seq ≤ left_seq`).
//! Replay ([`Store::agent_events`]) and live routing compute the same
//! function, so a subscription that replays `(since, D]` and then goes live
//! after `D` has no gap and no duplicate.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::error::{Result, StoreError};
use crate::event::{Event, EventData};
use crate::id::{AgentId, TalkId};
use crate::participant::Participant;
use crate::store::Store;

/// Publishes the committed head of the event log and lets the dispatcher
/// wait for it.
pub trait Notifier: Send + Sync + 'static {
    /// Announces that every event up to `head` is committed. A lower value
    /// than one announced before changes nothing.
    fn publish(&self, head: u64);

    /// A receiver of the latest announced head.
    fn watch(&self) -> watch::Receiver<u64>;
}

/// The in-process [`Notifier`]: a `tokio::sync::watch` channel.
#[derive(Debug)]
pub struct LocalNotifier {
    sender: watch::Sender<u64>,
}

impl LocalNotifier {
    /// A notifier that has announced nothing yet.
    pub fn new() -> Self {
        Self { sender: watch::Sender::new(0) }
    }
}

impl Default for LocalNotifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Notifier for LocalNotifier {
    fn publish(&self, head: u64) {
        self.sender.send_if_modified(|current| {
            let newer = head > *current;
            if newer {
                *current = head;
            }
            newer
        });
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }
}

/// A wire format for events: how an adapter turns an event into what its
/// frame carries. The adapter asks each [`SharedEvent`] for its encoding
/// ([`SharedEvent::encoded`]); the first subscriber to ask encodes it, every
/// other one gets a clone of the same value.
pub trait EventFormat: Send + Sync + 'static {
    /// An encoded event: cheap to clone (shared bytes), since every
    /// subscriber of the event gets a clone.
    type Encoded: Clone + Send + Sync + 'static;

    /// The event in this format.
    ///
    /// # Errors
    /// When the event cannot be encoded; the adapter then tells its client
    /// rather than send a frame that is not the event.
    fn encode(&self, event: &Event) -> Result<Self::Encoded, EncodeError>;
}

/// An event could not be encoded in a wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} could not be encoded: {reason}")]
pub struct EncodeError {
    /// The event's `seq`.
    pub seq: u64,
    /// What went wrong.
    pub reason: String,
}

/// An event as delivered: shared by every subscription it goes to, with its
/// wire encoding made once, by the first subscriber that asks, and shared
/// by the others.
pub struct SharedEvent {
    /// The event.
    pub event: Event,
    /// The encoding in the first format asked for: a
    /// `Result<F::Encoded, EncodeError>` of that format `F`.
    encoded: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl SharedEvent {
    /// `event`, not encoded yet.
    pub fn new(event: Event) -> Self {
        Self { event, encoded: OnceLock::new() }
    }

    /// The event in `format`: encoded at the first call, a clone of that
    /// encoding at every later one. (An adapter uses one format; asking in a
    /// second format encodes again on each call.)
    ///
    /// # Errors
    /// The format's [`EncodeError`], the same for every caller.
    pub fn encoded<F: EventFormat>(&self, format: &F) -> Result<F::Encoded, EncodeError> {
        let cached = self.encoded.get_or_init(|| Box::new(format.encode(&self.event)));
        match cached.downcast_ref::<Result<F::Encoded, EncodeError>>() {
            Some(encoded) => encoded.clone(),
            None => format.encode(&self.event),
        }
    }
}

impl Clone for SharedEvent {
    fn clone(&self) -> Self {
        Self::new(self.event.clone())
    }
}

impl std::fmt::Debug for SharedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedEvent").field("event", &self.event).finish_non_exhaustive()
    }
}

impl PartialEq for SharedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event
    }
}

impl Eq for SharedEvent {}

/// What a subscription follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One talk.
    Talk(TalkId),
    /// Every talk of the agent, including talks it joins later.
    All,
}

impl Scope {
    fn covers(self, talk: TalkId) -> bool {
        match self {
            Self::Talk(t) => t == talk,
            Self::All => true,
        }
    }
}

/// Why a subscription ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// A single-talk subscription delivered the agent's own `participant_left`.
    Left,
    /// The subscriber did not keep up and its queue overflowed. Subscribe
    /// again with `since` = `resume_after` to go on without a gap.
    Lagged {
        /// The last `seq` this subscription delivered.
        resume_after: u64,
    },
    /// Reading the store failed; subscribe again with `since` = `resume_after`.
    Unavailable {
        /// The last `seq` this subscription delivered.
        resume_after: u64,
    },
    /// The Hub shut down.
    Shutdown,
}

/// One item of a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// An event, in `seq` order, each once.
    Event(Arc<SharedEvent>),
    /// The replay (if any) is done: live events after `seq` follow.
    Subscribed {
        /// The dispatcher's position when the subscription was registered.
        seq: u64,
    },
    /// `since` was below the low-water mark of the log: the events between
    /// are gone. Live events after `seq` follow; reload what you show.
    ResyncRequired {
        /// The position live delivery starts after.
        seq: u64,
    },
    /// The subscription ended; nothing follows.
    Ended(EndReason),
}

/// The tunables of live delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Events a subscription may hold undelivered before it is ended as lagged.
    pub queue_bound: usize,
    /// Events read from the store per page, by the dispatcher and by replays.
    pub page: usize,
    /// How often an idle dispatcher looks at the log without being told: the
    /// safety net for a commit whose announcement was lost (a command
    /// cancelled between its commit and its notify, another process's
    /// notifier failing).
    pub poll_interval: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self { queue_bound: 1024, page: 512, poll_interval: Duration::from_millis(500) }
    }
}

/// The end reason the dispatcher leaves for a subscription it dropped.
#[derive(Debug, Default)]
struct EndSlot(Mutex<Option<EndReason>>);

impl EndSlot {
    fn set(&self, reason: EndReason) {
        *lock(&self.0) = Some(reason);
    }

    fn take(&self) -> Option<EndReason> {
        lock(&self.0).take()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A subscription as the dispatcher routes to it.
struct LiveSub {
    id: u64,
    scope: Scope,
    sender: mpsc::Sender<Arc<SharedEvent>>,
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
}

/// The one dispatcher of a Hub.
pub(crate) struct Dispatcher {
    routes: Mutex<Routes>,
    store: Arc<dyn Store>,
    options: DeliveryOptions,
}

/// A registration: what a new subscription needs from the dispatcher.
pub(crate) struct Registration {
    pub(crate) id: u64,
    pub(crate) position: u64,
    receiver: mpsc::Receiver<Arc<SharedEvent>>,
    end: Arc<EndSlot>,
}

impl Dispatcher {
    /// Starts the dispatcher at the store's current head and spawns its loop.
    pub(crate) async fn start(
        store: Arc<dyn Store>,
        notifier: &dyn Notifier,
        options: DeliveryOptions,
    ) -> Result<Arc<Self>> {
        let mut wake = notifier.watch();
        wake.borrow_and_update();
        let position = store.head().await?;
        let dispatcher = Arc::new(Self {
            routes: Mutex::new(Routes { position, next_id: 0, agents: HashMap::new(), members: HashMap::new() }),
            store,
            options,
        });
        let weak = Arc::downgrade(&dispatcher);
        tokio::spawn(async move {
            loop {
                let Some(dispatcher) = weak.upgrade() else { return };
                if let Err(error) = dispatcher.catch_up().await {
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

    /// Routes every event after the position up to the store's head.
    async fn catch_up(&self) -> Result<(), StoreError> {
        loop {
            let position = self.position();
            let batch = self.store.events(position, self.options.page).await?;
            let Some(first) = batch.first().map(|e| e.seq) else { return Ok(()) };
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
        let mut routes = lock(&self.routes);
        let Routes { position, agents, members, .. } = &mut *routes;
        for (i, event) in events.iter().enumerate().skip(skip) {
            if event.seq <= *position {
                continue;
            }
            let talk = event.talk_id;
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
                for agent in subscribed {
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
    }

    /// Registers a subscription at the current position `D`, with the
    /// agent's `memberships` (its records active or ended after a position
    /// at or before `D`, read when the store's head was `head`). Answers
    /// `None` when the dispatcher has moved past `head`: read again.
    pub(crate) fn register(
        &self,
        agent: &AgentId,
        scope: Scope,
        memberships: &[Participant],
        head: u64,
    ) -> Option<Registration> {
        let mut routes = lock(&self.routes);
        let position = routes.position;
        if position > head {
            return None;
        }
        let Routes { next_id, agents, members, .. } = &mut *routes;
        *next_id += 1;
        let id = *next_id;
        let route = agents.entry(agent.clone()).or_insert_with(|| {
            let talks: HashSet<TalkId> = memberships
                .iter()
                .filter(|p| p.joined_seq <= position && p.left_seq.is_none_or(|left| left > position))
                .map(|p| p.talk_id)
                .collect();
            for talk in &talks {
                members.entry(*talk).or_default().insert(agent.clone());
            }
            AgentRoute { talks, subs: Vec::new() }
        });
        let (sender, receiver) = mpsc::channel(self.options.queue_bound.max(1));
        let end = Arc::new(EndSlot::default());
        route.subs.push(LiveSub { id, scope, sender, end: end.clone(), last_queued: position });
        Some(Registration { id, position, receiver, end })
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

/// Where a subscription is.
enum Phase {
    /// Replaying `(after, until]` from the store.
    Replay { after: u64, until: u64 },
    /// Receiving from the dispatcher.
    Live,
    /// Nothing more.
    Done,
}

/// A stream of the events an agent sees, replayed then live. Get items with
/// [`Subscription::next`]; dropping it unsubscribes.
pub struct Subscription {
    agent: AgentId,
    scope: Scope,
    store: Arc<dyn Store>,
    page: usize,
    dispatcher: Option<(Arc<Dispatcher>, u64)>,
    receiver: Option<mpsc::Receiver<Arc<SharedEvent>>>,
    end: Option<Arc<EndSlot>>,
    phase: Phase,
    /// Announced when the replay is done.
    after_replay: Option<Delivery>,
    buffer: VecDeque<Delivery>,
    /// The last `seq` queued in `buffer` (or the `since` asked for): nothing
    /// at or below it is queued again.
    queued_through: u64,
    /// The last `seq` handed to the caller (or the `since` asked for).
    last_seq: u64,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("agent", &self.agent)
            .field("scope", &self.scope)
            .field("last_seq", &self.last_seq)
            .field("queued_through", &self.queued_through)
            .finish_non_exhaustive()
    }
}

/// How a subscription starts.
pub(crate) enum Start {
    /// Registered live at `registration.position`; replay from `since` first.
    Live { registration: Registration, dispatcher: Arc<Dispatcher>, since: Option<u64>, resync: bool },
    /// A talk the agent has left: replay `(since, until]` and end.
    ReplayOnly { since: u64, until: u64 },
}

impl Subscription {
    pub(crate) fn new(agent: AgentId, scope: Scope, store: Arc<dyn Store>, page: usize, start: Start) -> Self {
        let mut subscription = Self {
            agent,
            scope,
            store,
            page: page.max(1),
            dispatcher: None,
            receiver: None,
            end: None,
            phase: Phase::Done,
            after_replay: None,
            buffer: VecDeque::new(),
            queued_through: 0,
            last_seq: 0,
        };
        match start {
            Start::Live { registration, dispatcher, since, resync } => {
                let position = registration.position;
                subscription.dispatcher = Some((dispatcher, registration.id));
                subscription.receiver = Some(registration.receiver);
                subscription.end = Some(registration.end);
                match since {
                    Some(since) if !resync => {
                        subscription.queued_through = since;
                        subscription.last_seq = since;
                        subscription.phase = Phase::Replay { after: since, until: position };
                        subscription.after_replay = Some(Delivery::Subscribed { seq: position });
                    }
                    _ => {
                        subscription.queued_through = position;
                        subscription.last_seq = position;
                        subscription.phase = Phase::Live;
                        subscription.buffer.push_back(if resync {
                            Delivery::ResyncRequired { seq: position }
                        } else {
                            Delivery::Subscribed { seq: position }
                        });
                    }
                }
            }
            Start::ReplayOnly { since, until } => {
                subscription.queued_through = since;
                subscription.last_seq = since;
                subscription.phase = Phase::Replay { after: since, until };
            }
        }
        subscription
    }

    /// The agent.
    pub fn agent(&self) -> &AgentId {
        &self.agent
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The `seq` of the last event [`next`](Subscription::next) returned (or
    /// where the subscription started: its `since`, or the position it went
    /// live at). Subscribing again with it as `since` goes on without a gap.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The next item: events in `seq` order, each once, with `Subscribed`
    /// after the replay; `Ended` last, then `None`.
    pub async fn next(&mut self) -> Option<Delivery> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                if let Delivery::Event(shared) = &item {
                    self.last_seq = shared.event.seq;
                }
                return Some(item);
            }
            match self.phase {
                Phase::Done => return None,
                Phase::Replay { after, until } => self.replay_page(after, until).await,
                Phase::Live => self.receive().await,
            }
        }
    }

    /// Queues one item: an event (ending a single-talk subscription after
    /// the agent's own `participant_left`).
    fn push_event(&mut self, shared: Arc<SharedEvent>) {
        if shared.event.seq <= self.queued_through {
            return;
        }
        self.queued_through = shared.event.seq;
        let own_left = matches!(
            (&shared.event.data, self.scope),
            (EventData::ParticipantLeft(p), Scope::Talk(talk)) if p.agent_id == self.agent && p.talk_id == talk
        );
        self.buffer.push_back(Delivery::Event(shared));
        if own_left {
            self.finish(EndReason::Left);
        }
    }

    fn finish(&mut self, reason: EndReason) {
        self.buffer.push_back(Delivery::Ended(reason));
        self.phase = Phase::Done;
        self.receiver = None;
        self.unregister();
    }

    fn unregister(&mut self) {
        if let Some((dispatcher, id)) = self.dispatcher.take() {
            dispatcher.unregister(&self.agent, id);
        }
    }

    async fn replay_page(&mut self, after: u64, until: u64) {
        if after >= until {
            if self.receiver.is_none() {
                // A replay-only subscription that did not meet the agent's
                // own `participant_left` (the log was pruned): it ends anyway.
                self.finish(EndReason::Left);
                return;
            }
            self.phase = Phase::Live;
            if let Some(announce) = self.after_replay.take() {
                self.buffer.push_back(announce);
            }
            return;
        }
        let talk = match self.scope {
            Scope::Talk(talk) => Some(talk),
            Scope::All => None,
        };
        match self.store.agent_events(&self.agent, talk, after, self.page).await {
            Ok(events) => {
                let mut next = until;
                if let Some(last) = events.last() {
                    next = last.seq.min(until);
                }
                for event in events.into_iter().take_while(|e| e.seq <= until) {
                    self.push_event(Arc::new(SharedEvent::new(event)));
                    if matches!(self.phase, Phase::Done) {
                        return;
                    }
                }
                self.phase = Phase::Replay { after: next, until };
            }
            Err(_) => {
                let resume_after = self.queued_through;
                self.finish(EndReason::Unavailable { resume_after });
            }
        }
    }

    async fn receive(&mut self) {
        let Some(receiver) = self.receiver.as_mut() else {
            self.phase = Phase::Done;
            return;
        };
        match receiver.recv().await {
            Some(shared) => self.push_event(shared),
            None => {
                let reason = match self.end.as_ref().and_then(|slot| slot.take()) {
                    Some(EndReason::Lagged { .. }) => EndReason::Lagged { resume_after: self.queued_through },
                    Some(reason) => reason,
                    None => EndReason::Shutdown,
                };
                if !matches!(self.phase, Phase::Done) {
                    self.finish(reason);
                }
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.unregister();
    }
}
