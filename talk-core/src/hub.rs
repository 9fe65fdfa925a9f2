//! The [`Hub`]: the service an application calls. Every command takes the
//! acting agent first and goes four steps: read what the rule needs, decide
//! in pure code ([`rules`](crate::rules)), apply the change set atomically
//! through the store, and (with live delivery) notify.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::delivery::{
    DeliveryOptions, Dispatcher, EventEncoder, JsonEncoder, LocalNotifier, Notifier, Scope, Start, Subscription,
};
use crate::directory::{AgentDirectory, AnyAgent};
use crate::error::{Error, Result, StoreError};
use crate::event::{Event, EventData};
use crate::id::{AgentId, IdGenerator, MessageId, ParticipantId, TalkId, UuidV7Generator};
use crate::limits::Limits;
use crate::message::Message;
use crate::page::{ListKey, Page, PageRequest};
use crate::participant::{Participant, ParticipantStatus};
use crate::reaction::{Emoji, Reaction};
use crate::rules::{self, Actor, Decision, Fresh, NewMessage, NewTalk, TalkChanges};
use crate::store::{ChangeSet, Store, TalkAndRecords};
use crate::talk::{AgentPair, Talk, TalkKind, TalkStatus};

/// The answer of a command that may create or find its resource: `created`
/// tells which (HTTP `201` or `200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The resource.
    pub resource: T,
    /// Whether this call created it.
    pub created: bool,
}

/// A page of an agent's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The `since` of the next page: the last event's `seq`, or the `since`
    /// asked for when there was none.
    pub next_since: u64,
}

/// Which participant record a `remove_participant` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantRef {
    /// A record by id.
    Id(ParticipantId),
    /// The caller's latest record in the talk.
    Me,
}

/// Which records `participants` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParticipantFilter {
    /// Active records (the default).
    #[default]
    Active,
    /// Records that ended.
    Left,
    /// All records.
    All,
}

/// How often a command whose change set conflicted reads and decides again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all before the command answers `unavailable`.
    pub max_attempts: u32,
    /// The longest pause between two attempts (pauses grow from a few
    /// microseconds, with jitter).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 100, max_backoff: Duration::from_millis(20) }
    }
}

/// Builds a [`Hub`].
pub struct HubBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    directory: Arc<dyn AgentDirectory>,
    limits: Limits,
    retry: RetryPolicy,
    notifier: Arc<dyn Notifier>,
    encoder: Arc<dyn EventEncoder>,
    delivery: DeliveryOptions,
    retention: Option<u64>,
}

impl HubBuilder {
    /// Uses this notifier to announce commits to the dispatcher (default: an
    /// in-process one; several processes on one store need a cross-process one).
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Encodes each event once for every subscriber with this encoder
    /// (default: talk-core's JSON).
    pub fn encoder(mut self, encoder: Arc<dyn EventEncoder>) -> Self {
        self.encoder = encoder;
        self
    }

    /// Sets the queue bound and page size of live delivery.
    pub fn delivery(mut self, options: DeliveryOptions) -> Self {
        self.delivery = options;
        self
    }

    /// Keeps only about the last `events` events of the log: older ones are
    /// pruned as new ones commit, and a `since` below the low-water mark
    /// answers `resync_required`. Off by default: the log keeps everything.
    pub fn retain_events(mut self, events: Option<u64>) -> Self {
        self.retention = events;
        self
    }

    /// Uses this clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses this id generator (default: UUID v7).
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    /// Uses this agent directory (default: every well-formed id exists).
    pub fn directory(mut self, directory: Arc<dyn AgentDirectory>) -> Self {
        self.directory = directory;
        self
    }

    /// Uses these limits (default: the documented ones).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Uses this retry policy for conflicting writes.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The Hub.
    pub fn build(self) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                store: self.store,
                clock: self.clock,
                ids: self.ids,
                directory: self.directory,
                limits: self.limits,
                retry: self.retry,
                notifier: self.notifier,
                encoder: self.encoder,
                delivery: self.delivery,
                retention: self.retention,
                next_prune: AtomicU64::new(0),
                dispatcher: tokio::sync::OnceCell::new(),
            }),
        }
    }
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    directory: Arc<dyn AgentDirectory>,
    limits: Limits,
    retry: RetryPolicy,
    notifier: Arc<dyn Notifier>,
    encoder: Arc<dyn EventEncoder>,
    delivery: DeliveryOptions,
    retention: Option<u64>,
    /// The head at which the log is pruned next, when a retention is set.
    next_prune: AtomicU64,
    dispatcher: tokio::sync::OnceCell<Arc<Dispatcher>>,
}

/// The chat service: every command and query of Talk. Cheap to clone; all
/// clones share one store.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("limits", &self.inner.limits).finish_non_exhaustive()
    }
}

/// Counts attempts of one command and pauses between them.
struct Attempts {
    policy: RetryPolicy,
    done: u32,
}

impl Attempts {
    async fn pause(&mut self, conflict: StoreError) -> Result<()> {
        self.done += 1;
        if self.done >= self.policy.max_attempts {
            return Err(conflict.into());
        }
        let ceiling = Duration::from_micros(50u64 << self.done.min(10)).min(self.policy.max_backoff);
        let pause = ceiling.mul_f64(rand::random::<f64>());
        if pause.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(pause).await;
        }
        Ok(())
    }
}

impl TalkAndRecords {
    /// The acting agent, with its records in the talk.
    fn actor<'a>(&'a self, agent: &'a AgentId) -> Actor<'a> {
        Actor { agent, records: &self.records }
    }
}

/// The outcome of trying to apply one decision.
enum Applied<T> {
    Repeat(T),
    Committed(Vec<Event>),
    Conflict(StoreError),
}

impl Hub {
    /// A Hub on `store` with the defaults: system clock, UUID v7 ids, every
    /// agent known, the documented limits.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::builder(store).build()
    }

    /// A builder for a Hub on `store`.
    pub fn builder(store: Arc<dyn Store>) -> HubBuilder {
        HubBuilder {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Generator),
            directory: Arc::new(AnyAgent),
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            notifier: Arc::new(LocalNotifier::new()),
            encoder: Arc::new(JsonEncoder),
            delivery: DeliveryOptions::default(),
            retention: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The name of the format the Hub's [`EventEncoder`] encodes events in
    /// ([`SharedEvent::encoded`](crate::SharedEvent::encoded)).
    pub fn event_format(&self) -> &'static str {
        self.inner.encoder.format()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    fn store_ref(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    fn attempts(&self) -> Attempts {
        Attempts { policy: self.inner.retry, done: 0 }
    }

    fn fresh(&self) -> Fresh<'_> {
        Fresh { now: self.inner.clock.now(), ids: self.inner.ids.as_ref() }
    }

    async fn apply<T>(&self, decision: Decision<T>) -> Result<Applied<T>> {
        match decision {
            Decision::Repeat(value) => Ok(Applied::Repeat(value)),
            Decision::Change(changes) => self.apply_changes(changes).await,
        }
    }

    async fn apply_changes<T>(&self, changes: ChangeSet) -> Result<Applied<T>> {
        match self.inner.store.apply(changes).await {
            Ok(events) => {
                if let Some(last) = events.last() {
                    self.committed(last.seq).await;
                }
                Ok(Applied::Committed(events))
            }
            Err(conflict @ StoreError::Conflict(_)) => Ok(Applied::Conflict(conflict)),
            Err(other) => Err(other.into()),
        }
    }

    /// Step 5: the talk exists and the caller has (had) a record in it.
    async fn visible(&self, actor: &AgentId, talk_id: TalkId) -> Result<TalkAndRecords> {
        match self.store_ref().talk_and_records(talk_id, actor).await? {
            Some(visible) if !visible.records.is_empty() => Ok(visible),
            _ => Err(Error::NotFound("talk")),
        }
    }

    /// Step 5 for a message: it exists and the caller has (had) a record in its talk.
    async fn visible_message(&self, actor: &AgentId, message_id: MessageId) -> Result<(TalkAndRecords, Message)> {
        let listed = self.inner.limits.reactors_listed_per_emoji;
        match self.store_ref().message_and_talk(message_id, actor, listed).await? {
            Some((message, visible)) if !visible.records.is_empty() => Ok((visible, message)),
            _ => Err(Error::NotFound("message")),
        }
    }

    /// Whether `agent` reacted to `message` (as read) with `emoji`. The
    /// message's summary of that emoji lists its first reactors: when the
    /// list is whole, it tells; otherwise the store is asked.
    async fn reacted(&self, message: &Message, emoji: Emoji, agent: &AgentId) -> Result<bool> {
        let Some(summary) = message.reactions.iter().find(|r| r.emoji == emoji) else { return Ok(false) };
        if summary.agent_ids.contains(agent) {
            return Ok(true);
        }
        if summary.agent_ids.len() >= summary.count as usize {
            return Ok(false);
        }
        Ok(self.store_ref().reaction(message.id, &emoji, agent).await?.is_some())
    }

    async fn current_message(&self, id: MessageId) -> Result<Message> {
        let listed = self.inner.limits.reactors_listed_per_emoji;
        self.store_ref().message(id, listed).await?.ok_or(Error::NotFound("message"))
    }

    /// Step 4 of every command: tell the dispatcher, and prune the log when
    /// a retention is set.
    async fn committed(&self, head: u64) {
        self.inner.notifier.publish(head);
        if let Some(keep) = self.inner.retention {
            // Prune in steps, not on every commit.
            let due = self.inner.next_prune.load(Ordering::Relaxed);
            if head > keep && head >= due {
                let step = (keep / 8).max(64);
                self.inner.next_prune.fetch_max(head + step, Ordering::Relaxed);
                // A failed prune only keeps more history than asked.
                let _ = self.inner.store.prune_events(head - keep).await;
            }
        }
    }

    async fn dispatcher(&self) -> Result<Arc<Dispatcher>> {
        let inner = &self.inner;
        let dispatcher = inner
            .dispatcher
            .get_or_try_init(|| {
                Dispatcher::start(inner.store.clone(), inner.notifier.as_ref(), inner.encoder.clone(), inner.delivery)
            })
            .await?;
        Ok(dispatcher.clone())
    }

    /// Subscribes `agent` to the events it sees, in one talk or in all its
    /// talks (including talks it joins later): with `since`, the events after
    /// it are replayed from the log first, then [`Delivery::Subscribed`]
    /// marks where live delivery goes on, with no gap and no duplicate.
    ///
    /// A single-talk subscription ends after the agent's own
    /// `participant_left`. Subscribing to a talk the agent has left works only
    /// with a `since` before its own `participant_left`: the replay runs up to
    /// it and ends. A `since` below the log's low-water mark gives
    /// [`Delivery::ResyncRequired`], then live events.
    ///
    /// # Errors
    /// `not_found` for a talk that does not exist or that the agent was never
    /// in; `not_participant` for a talk it has left (without a usable `since`).
    ///
    /// [`Delivery::Subscribed`]: crate::Delivery::Subscribed
    /// [`Delivery::ResyncRequired`]: crate::Delivery::ResyncRequired
    pub async fn subscribe(&self, agent: &AgentId, scope: Scope, since: Option<u64>) -> Result<Subscription> {
        let store = self.inner.store.clone();
        let low_water = store.low_water_mark().await?;
        let resync = since.is_some_and(|since| since < low_water);
        if let Scope::Talk(talk_id) = scope {
            let visible = self.visible(agent, talk_id).await?;
            if visible.actor(agent).active().is_none() {
                let until = since
                    .filter(|_| !resync)
                    .and_then(|since| visible.records.iter().filter_map(|r| r.left_seq).find(|&left| left > since));
                let Some(until) = until else { return Err(Error::NotParticipant) };
                let start = Start::ReplayOnly { since: since.unwrap_or(0), until };
                return Ok(self.subscription(agent, scope, start));
            }
        }
        let dispatcher = self.dispatcher().await?;
        let mut attempts = self.attempts();
        loop {
            let earliest = dispatcher.position();
            let head = store.head().await?;
            let memberships = store.agent_memberships(agent, earliest).await?;
            if let Some(registration) = dispatcher.register(agent, scope, &memberships, head) {
                let start = Start::Live { registration, dispatcher, since, resync };
                return Ok(self.subscription(agent, scope, start));
            }
            attempts.pause(StoreError::Unavailable("the dispatcher kept moving".into())).await?;
        }
    }

    fn subscription(&self, agent: &AgentId, scope: Scope, start: Start) -> Subscription {
        Subscription::new(
            agent.clone(),
            scope,
            self.inner.store.clone(),
            self.inner.encoder.clone(),
            self.inner.delivery.page,
            start,
        )
    }

    /// The events `agent` sees after `since`, oldest first, at most a page:
    /// the catch-up read without a subscription. The answer's `next_since`
    /// is the `since` to pass next.
    ///
    /// # Errors
    /// `resync_required` when `since` is below the log's low-water mark;
    /// `invalid_request` for a page size out of range.
    pub async fn events(&self, agent: &AgentId, since: u64, page_size: Option<u32>) -> Result<EventPage> {
        let limits = &self.inner.limits;
        let size = page_size.unwrap_or(limits.page_size_default);
        if size == 0 || size > limits.page_size_max {
            return Err(Error::invalid_request(format!("page_size must be between 1 and {}", limits.page_size_max)));
        }
        let store = self.store_ref();
        if since < store.low_water_mark().await? {
            return Err(Error::ResyncRequired { since });
        }
        let events = store.agent_events(agent, None, since, size as usize).await?;
        let next_since = events.last().map_or(since, |e| e.seq);
        Ok(EventPage { events, next_since })
    }

    /// Removes the events with `seq ≤ through` from the log and moves the
    /// low-water mark there (see [`HubBuilder::retain_events`] for automatic
    /// retention).
    pub async fn prune_events(&self, through: u64) -> Result<()> {
        Ok(self.inner.store.prune_events(through).await?)
    }

    // ------------------------------------------------------------ talks

    /// Creates a talk (`created`), or for a direct talk whose pair already
    /// has one, answers that talk, reopened and with both agents re-added.
    ///
    /// Events: `talk_created`, then `participant_joined` for the creator and
    /// each listed agent in request order. A found direct talk:
    /// `talk_reopened` and its system message if it was closed, then
    /// `participant_joined` and its system message for the caller, then for
    /// the other agent, each only if not active.
    pub async fn create_talk(&self, actor: &AgentId, input: NewTalk) -> Result<Created<Talk>> {
        let limits = &self.inner.limits;
        let plan = rules::plan_talk(actor, input, limits)?;
        let mut unknown = None;
        for agent in plan.members.iter().skip(1) {
            if !self.inner.directory.contains(agent).await {
                unknown = Some(agent.clone());
                break;
            }
        }
        let mut attempts = self.attempts();
        loop {
            if plan.kind == TalkKind::Direct && unknown.is_none() {
                let other = &plan.members[1];
                let pair = AgentPair::new(actor.clone(), other.clone())
                    .ok_or_else(|| Error::invariant("a direct talk needs two agents"))?;
                if let Some(talk) = self.store_ref().direct_talk(&pair).await? {
                    let mut active = [false; 2];
                    for (slot, agent) in active.iter_mut().zip([actor, other]) {
                        let records = self.store_ref().agent_records(talk.id, agent).await?;
                        *slot = records.iter().any(Participant::is_active);
                    }
                    let decision = rules::revive_direct_talk(&talk, actor, other, active, &self.fresh());
                    match self.apply(decision).await? {
                        Applied::Repeat(talk) => return Ok(Created { resource: talk, created: false }),
                        Applied::Committed(_) => {
                            let talk = self.store_ref().talk(talk.id).await?.ok_or(Error::NotFound("talk"))?;
                            return Ok(Created { resource: talk, created: false });
                        }
                        Applied::Conflict(conflict) => {
                            attempts.pause(conflict).await?;
                            continue;
                        }
                    }
                }
            }
            let decision = rules::create_talk(plan.clone(), unknown.clone(), limits, &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(talk) => return Ok(Created { resource: talk, created: false }),
                Applied::Committed(events) => {
                    let talk = created_talk(events)?;
                    return Ok(Created { resource: talk, created: true });
                }
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// The talks in which the caller is an active participant, newest first,
    /// with `status` if given.
    pub async fn talks(&self, actor: &AgentId, status: Option<TalkStatus>, page: &PageRequest) -> Result<Page<Talk>> {
        let key = ListKey { kind: "t", scope: format!("{actor}|{status:?}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let talks = self.store_ref().talks_of_agent(actor, status, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(talks, &keyset, |t| t.created_seq))
    }

    /// One talk; a former participant may read it too.
    pub async fn talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        Ok(self.visible(actor, talk_id).await?.talk)
    }

    /// Renames a talk or changes its detail. Events: `talk_updated`, and on a
    /// new name a system message `talk_renamed`.
    pub async fn update_talk(&self, actor: &AgentId, talk_id: TalkId, input: TalkChanges) -> Result<Talk> {
        rules::check_talk_changes(&input, &self.inner.limits)?;
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let decision = rules::update_talk(&visible.talk, &visible.actor(actor), input.clone(), &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(talk) => return Ok(talk),
                Applied::Committed(events) => return talk_of(events),
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// Closes a talk. Events: `talk_closed`, system message `talk_closed`.
    pub async fn close_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let decision = rules::close_talk(&visible.talk, &visible.actor(actor), &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(talk) => return Ok(talk),
                Applied::Committed(events) => return talk_of(events),
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// Reopens a talk: any active participant may; a talk without active
    /// participants, a former participant whose latest record left by itself,
    /// who joins again. Events: `talk_reopened`, `participant_joined` for a
    /// former participant, system message `talk_reopened`.
    pub async fn reopen_talk(&self, actor: &AgentId, talk_id: TalkId) -> Result<Talk> {
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let decision = rules::reopen_talk(&visible.talk, &visible.actor(actor), &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(talk) => return Ok(talk),
                Applied::Committed(events) => return talk_of(events),
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    // ----------------------------------------------------- participants

    /// The participant records of a talk, in the order they joined.
    pub async fn participants(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        filter: ParticipantFilter,
        page: &PageRequest,
    ) -> Result<Page<Participant>> {
        let key = ListKey { kind: "p", scope: format!("{talk_id}|{filter:?}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let visible = self.visible(actor, talk_id).await?;
        visible.actor(actor).require_active()?;
        let status = match filter {
            ParticipantFilter::Active => Some(ParticipantStatus::Active),
            ParticipantFilter::Left => Some(ParticipantStatus::Left),
            ParticipantFilter::All => None,
        };
        let items = self.store_ref().participants(talk_id, status, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(items, &keyset, |p| p.seq))
    }

    /// Adds an agent to a talk. Events: `participant_joined`, system message
    /// `participant_joined`.
    pub async fn add_participant(&self, actor: &AgentId, talk_id: TalkId, agent: &AgentId) -> Result<Participant> {
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let agent_records = self.store_ref().agent_records(talk_id, agent).await?;
            let known = self.inner.directory.contains(agent).await;
            let decision = rules::add_participant(
                &visible.talk,
                &visible.actor(actor),
                agent,
                &agent_records,
                known,
                &self.inner.limits,
                &self.fresh(),
            )?;
            match self.apply(decision).await? {
                Applied::Repeat(participant) => return Ok(participant),
                Applied::Committed(events) => return participant_of(events),
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// Ends a record: the caller's own (it leaves) or another's (removed).
    /// Events: system message `participant_left` / `participant_removed`,
    /// `participant_left`, and when no active participant remains in an
    /// active talk: `talk_closed` and its system message.
    pub async fn remove_participant(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        target: ParticipantRef,
    ) -> Result<Participant> {
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let record = match target {
                ParticipantRef::Me => visible.records.last().cloned(),
                ParticipantRef::Id(id) => self.store_ref().participant(id).await?.filter(|p| p.talk_id == talk_id),
            };
            let record = record.ok_or(Error::NotFound("participant"))?;
            let decision = rules::remove_participant(&visible.talk, &visible.actor(actor), &record, &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(participant) => return Ok(participant),
                Applied::Committed(events) => return participant_of(events),
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    // ---------------------------------------------------------- messages

    /// Sends a message (`created`), or answers the stored one for a retried
    /// client-chosen id. Event: `message_created`.
    pub async fn send_message(&self, actor: &AgentId, talk_id: TalkId, input: NewMessage) -> Result<Created<Message>> {
        crate::validate::message_content(&input.text, &input.medias, &self.inner.limits)?;
        let mut attempts = self.attempts();
        loop {
            let visible = self.visible(actor, talk_id).await?;
            let listed = self.inner.limits.reactors_listed_per_emoji;
            let taken = match input.id {
                Some(id) => self.store_ref().message(id, listed).await?,
                None => None,
            };
            let parent = match input.parent_id {
                Some(id) => self.store_ref().message(id, 0).await?,
                None => None,
            };
            let decision = rules::send_message(
                &visible.talk,
                &visible.actor(actor),
                input.clone(),
                taken,
                parent.as_ref(),
                &self.fresh(),
            )?;
            match self.apply(decision).await? {
                Applied::Repeat(message) => return Ok(Created { resource: message, created: false }),
                Applied::Committed(events) => {
                    return Ok(Created { resource: message_of(events)?, created: true });
                }
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// The messages of a talk, newest first: top-level ones, or all with
    /// `include_replies`.
    pub async fn messages(
        &self,
        actor: &AgentId,
        talk_id: TalkId,
        include_replies: bool,
        page: &PageRequest,
    ) -> Result<Page<Message>> {
        let key = ListKey { kind: "m", scope: format!("{talk_id}|{include_replies}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let visible = self.visible(actor, talk_id).await?;
        visible.actor(actor).require_active()?;
        let listed = self.inner.limits.reactors_listed_per_emoji;
        let items = self.store_ref().messages(talk_id, include_replies, keyset.cursor, keyset.size + 1, listed).await?;
        Ok(key.page(items, &keyset, |m| m.seq))
    }

    /// One message.
    pub async fn message(&self, actor: &AgentId, message_id: MessageId) -> Result<Message> {
        let (visible, message) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        Ok(message)
    }

    /// The replies to a message, oldest first.
    pub async fn replies(&self, actor: &AgentId, message_id: MessageId, page: &PageRequest) -> Result<Page<Message>> {
        let key = ListKey { kind: "r", scope: message_id.to_string() };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let (visible, _) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        let listed = self.inner.limits.reactors_listed_per_emoji;
        let items = self.store_ref().replies(message_id, keyset.cursor, keyset.size + 1, listed).await?;
        Ok(key.page(items, &keyset, |m| m.seq))
    }

    /// Edits the text of one's own message. Event: `message_updated`.
    pub async fn edit_message(&self, actor: &AgentId, message_id: MessageId, text: String) -> Result<Message> {
        crate::validate::text_field("text", &text, 0, self.inner.limits.message_text_max)?;
        let mut attempts = self.attempts();
        loop {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let decision = rules::edit_message(
                &visible.talk,
                &visible.actor(actor),
                &message,
                text.clone(),
                &self.inner.limits,
                &self.fresh(),
            )?;
            match self.apply(decision).await? {
                Applied::Repeat(message) => return Ok(message),
                Applied::Committed(_) => return self.current_message(message_id).await,
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// Deletes one's own message, leaving a tombstone; its content goes from
    /// every earlier event too. Event: `message_deleted`.
    pub async fn delete_message(&self, actor: &AgentId, message_id: MessageId) -> Result<Message> {
        let mut attempts = self.attempts();
        loop {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let decision = rules::delete_message(&visible.actor(actor), &message, &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(message) => return Ok(message),
                Applied::Committed(_) => return self.current_message(message_id).await,
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    // --------------------------------------------------------- reactions

    /// Adds the caller's reaction; answers the message. Event: `reaction_added`.
    pub async fn add_reaction(&self, actor: &AgentId, message_id: MessageId, emoji: &str) -> Result<Message> {
        let emoji = Emoji::parse(emoji)?;
        let mut attempts = self.attempts();
        loop {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let exists = self.reacted(&message, emoji, actor).await?;
            let decision = rules::add_reaction(
                &visible.talk,
                &visible.actor(actor),
                &message,
                emoji,
                exists,
                &self.inner.limits,
                &self.fresh(),
            )?;
            match self.apply(decision).await? {
                Applied::Repeat(()) | Applied::Committed(_) => return self.current_message(message_id).await,
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// Removes the caller's reaction; answers the message. Event: `reaction_removed`.
    pub async fn remove_reaction(&self, actor: &AgentId, message_id: MessageId, emoji: &str) -> Result<Message> {
        let emoji = Emoji::parse(emoji)?;
        let mut attempts = self.attempts();
        loop {
            let (visible, message) = self.visible_message(actor, message_id).await?;
            let exists = self.reacted(&message, emoji, actor).await?;
            let decision =
                rules::remove_reaction(&visible.talk, &visible.actor(actor), &message, emoji, exists, &self.fresh())?;
            match self.apply(decision).await? {
                Applied::Repeat(()) | Applied::Committed(_) => return self.current_message(message_id).await,
                Applied::Conflict(conflict) => attempts.pause(conflict).await?,
            }
        }
    }

    /// The agents that reacted to a message with one emoji, in order.
    pub async fn reactions(
        &self,
        actor: &AgentId,
        message_id: MessageId,
        emoji: &str,
        page: &PageRequest,
    ) -> Result<Page<Reaction>> {
        let emoji = Emoji::parse(emoji)?;
        let key = ListKey { kind: "e", scope: format!("{message_id}|{emoji}") };
        let keyset = key.keyset(page, &self.inner.limits)?;
        let (visible, _) = self.visible_message(actor, message_id).await?;
        visible.actor(actor).require_active()?;
        let items = self.store_ref().reactions(message_id, &emoji, keyset.cursor, keyset.size + 1).await?;
        Ok(key.page(items, &keyset, |r| r.seq))
    }
}

fn created_talk(events: Vec<Event>) -> Result<Talk> {
    events
        .into_iter()
        .rev()
        .find_map(|e| match e.data {
            EventData::TalkCreated(talk) => Some(talk),
            _ => None,
        })
        .ok_or_else(|| Error::invariant("a talk creation committed without its talk_created event"))
}

fn talk_of(events: Vec<Event>) -> Result<Talk> {
    events
        .into_iter()
        .find_map(|e| match e.data {
            EventData::TalkUpdated(t) | EventData::TalkClosed(t) | EventData::TalkReopened(t) => Some(t),
            _ => None,
        })
        .ok_or_else(|| Error::invariant("a talk change committed without its talk event"))
}

fn participant_of(events: Vec<Event>) -> Result<Participant> {
    events
        .into_iter()
        .find_map(|e| e.data.into_participant())
        .ok_or_else(|| Error::invariant("a membership change committed without its participant event"))
}

fn message_of(events: Vec<Event>) -> Result<Message> {
    events
        .into_iter()
        .find_map(|e| match e.data {
            EventData::MessageCreated(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| Error::invariant("a send committed without its message_created event"))
}
