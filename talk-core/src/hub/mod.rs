//! The [`Hub`]: the service an application calls. Every command takes the
//! acting agent first and goes four steps: read what the rule needs, decide
//! in pure code ([`rules`](crate::rules), which ask the embedder's
//! [`Policy`] at their step), apply the change set atomically
//! through the store, and (with live delivery) notify. The loop that does
//! this, retrying on conflict, is [`Hub::run`]; the commands and reads are in
//! one file per resource, as the rules and the HTTP routes.

mod consumers;
mod events;
mod messages;
mod outcome;
mod participants;
mod reactions;
mod reads;
mod search;
mod signals;
mod talks;

pub use consumers::{Consumer, ConsumerLag};
pub use events::EventPage;
pub use messages::MessageFilter;
pub use participants::{ParticipantFilter, ParticipantRef};
pub use reads::WithCounts;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::delivery::{DeliveryOptions, Dispatcher, LocalNotifier, Notifier, TypingPath};
use crate::directory::{AgentDirectory, AnyAgent};
use crate::error::{Error, Result, StoreError};
use crate::event::Event;
use crate::id::{AgentId, IdGenerator, MessageId, TalkId, UuidV7Generator};
use crate::limits::Limits;
use crate::message::Message;
use crate::policy::{AllowAll, Policy};
use crate::reaction::Emoji;
use crate::rules::{Actor, Decision, Fresh};
use crate::signal::{LocalSignalBus, SignalBus, SignalOptions, Signals};
use crate::store::{Store, TalkAndRecords};

/// The answer of a command that may create or find its resource: `created`
/// tells which (HTTP `201` or `200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The resource.
    pub resource: T,
    /// Whether this call created it.
    pub created: bool,
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
    delivery: DeliveryOptions,
    retention: Option<u64>,
    policy: Arc<dyn Policy>,
    signal_bus: Arc<dyn SignalBus>,
    signals: SignalOptions,
}

impl HubBuilder {
    /// Carries typing and presence through this bus (default: an in-process
    /// one; several processes on one store need a cross-process one, such
    /// as the PostgreSQL store's). See [`signal`](crate::signal).
    pub fn signal_bus(mut self, bus: Arc<dyn SignalBus>) -> Self {
        self.signal_bus = bus;
        self
    }

    /// Sets the expiries, graces and queue of typing and presence.
    pub fn signals(mut self, options: SignalOptions) -> Self {
        self.signals = options;
        self
    }

    /// Asks this policy before every command is decided (default:
    /// [`AllowAll`]). See [`policy`](crate::policy).
    pub fn policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = policy;
        self
    }

    /// Uses this notifier to announce commits to the dispatcher (default: an
    /// in-process one; several processes on one store need a cross-process one).
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
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
        let signals = Arc::new(Signals::new(self.signal_bus, self.clock.clone(), self.signals));
        Hub {
            inner: Arc::new(Inner {
                signals,
                store: self.store,
                clock: self.clock,
                ids: self.ids,
                directory: self.directory,
                limits: self.limits,
                retry: self.retry,
                notifier: self.notifier,
                delivery: self.delivery,
                retention: self.retention,
                policy: self.policy,
                next_prune: AtomicU64::new(0),
                committed_head: AtomicU64::new(0),
                dispatcher: tokio::sync::OnceCell::new(),
                secret_key: tokio::sync::OnceCell::new(),
            }),
        }
    }
}

struct Inner {
    /// Typing and presence.
    signals: Arc<Signals>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    directory: Arc<dyn AgentDirectory>,
    limits: Limits,
    retry: RetryPolicy,
    notifier: Arc<dyn Notifier>,
    delivery: DeliveryOptions,
    retention: Option<u64>,
    policy: Arc<dyn Policy>,
    /// The head at which the log is pruned next, when a retention is set.
    next_prune: AtomicU64,
    /// The newest `seq` this Hub committed: the dispatcher's routes reflect
    /// this node's own writes once it has routed that far.
    committed_head: AtomicU64,
    dispatcher: tokio::sync::OnceCell<Arc<Dispatcher>>,
    /// The store's secret ([`Store::secret_key`]), once read.
    secret_key: tokio::sync::OnceCell<[u8; 32]>,
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

/// What a command came to once applied.
enum Applied<T> {
    /// The state already held: the rule's answer.
    Repeat(T),
    /// The change set committed: its events, as stored.
    Committed(Vec<Event>),
}

impl<T> Applied<T> {
    /// The answer: a repeat's, or the one `committed` makes of the events.
    fn answer(self, committed: impl FnOnce(Vec<Event>) -> Result<T>) -> Result<T> {
        match self {
            Self::Repeat(value) => Ok(value),
            Self::Committed(events) => committed(events),
        }
    }
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
            delivery: DeliveryOptions::default(),
            retention: None,
            policy: Arc::new(AllowAll),
            signal_bus: Arc::new(LocalSignalBus::new()),
            signals: SignalOptions::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Runs one command: `attempt` reads what the rule needs and decides
    /// (with this attempt's time and ids); a change is applied atomically
    /// and announced; a conflict reads and decides again, after a pause that
    /// grows with jitter, until the retry policy gives up (`unavailable`).
    ///
    /// `attempt` makes a new future per attempt (`|fresh| async move { … }`
    /// over references), so that the command's future stays `Send`.
    async fn run<'h, T, F, Fut>(&'h self, mut attempt: F) -> Result<Applied<T>>
    where
        F: FnMut(Fresh<'h>) -> Fut,
        Fut: Future<Output = Result<Decision<T>>>,
    {
        let mut attempts = Attempts { policy: self.inner.retry, done: 0 };
        loop {
            let inner = &self.inner;
            let fresh = Fresh {
                now: inner.clock.now(),
                ids: inner.ids.as_ref(),
                policy: inner.policy.as_ref(),
                limits: &inner.limits,
            };
            let changes = match attempt(fresh).await? {
                Decision::Repeat(value) => return Ok(Applied::Repeat(value)),
                Decision::Change(changes) => changes,
            };
            let witness = outcome::Witness::of(&changes);
            match self.inner.store.apply(changes).await {
                Ok(events) => {
                    if let Some(last) = events.last() {
                        self.committed(last.seq).await;
                    }
                    return Ok(Applied::Committed(events));
                }
                Err(conflict @ StoreError::Conflict(_)) => attempts.pause(conflict).await?,
                Err(StoreError::OutcomeUnknown(_)) => return self.settle(witness).await.map(Applied::Committed),
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Step 5: the talk exists and the caller has (had) a record in it.
    async fn visible(&self, actor: &AgentId, talk_id: TalkId) -> Result<TalkAndRecords> {
        match self.store().talk_and_records(talk_id, actor).await? {
            Some(visible) if !visible.records.is_empty() => Ok(visible),
            _ => Err(Error::NotFound("talk")),
        }
    }

    /// Step 5 for a message: it exists and the caller has (had) a record in its talk.
    async fn visible_message(&self, actor: &AgentId, message_id: MessageId) -> Result<(TalkAndRecords, Message)> {
        let listed = self.inner.limits.reactors_listed_per_emoji;
        match self.store().message_and_talk(message_id, actor, listed).await? {
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
        Ok(self.store().reaction(message.id, &emoji, agent).await?.is_some())
    }

    /// The first of `agents` the agent directory does not know, if any.
    async fn first_unknown<'a>(&self, agents: &'a [AgentId]) -> Option<&'a AgentId> {
        for agent in agents {
            if !self.inner.directory.contains(agent).await {
                return Some(agent);
            }
        }
        None
    }

    /// The store's secret, read once.
    async fn secret_key(&self) -> Result<[u8; 32]> {
        let store = &self.inner.store;
        Ok(*self.inner.secret_key.get_or_try_init(|| store.secret_key()).await?)
    }

    async fn current_message(&self, id: MessageId) -> Result<Message> {
        let listed = self.inner.limits.reactors_listed_per_emoji;
        self.store().message(id, listed).await?.ok_or(Error::NotFound("message"))
    }

    /// Step 4 of every command: tell the dispatcher, and prune the log when
    /// a retention is set.
    async fn committed(&self, head: u64) {
        self.inner.committed_head.fetch_max(head, Ordering::Release);
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
            .get_or_try_init(|| async {
                let typing = TypingPath {
                    typists: inner.signals.typists().clone(),
                    clock: inner.clock.clone(),
                    queue: inner.signals.options().typing_queue,
                };
                let dispatcher =
                    Dispatcher::start(inner.store.clone(), inner.notifier.as_ref(), inner.delivery, typing).await?;
                inner.signals.attach(dispatcher.clone());
                inner.signals.start();
                Ok::<_, Error>(dispatcher)
            })
            .await?;
        Ok(dispatcher.clone())
    }
}

/// The event of `events` that `pick` finds, or an invariant error naming `what`.
fn find_event<T>(events: Vec<Event>, what: &str, pick: impl FnMut(Event) -> Option<T>) -> Result<T> {
    events.into_iter().find_map(pick).ok_or_else(|| Error::invariant(format!("a {what} committed without its event")))
}
