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
//! Replay ([`Store::agent_events`](crate::store::Store::agent_events)) and live routing compute the same
//! function, so a subscription that replays `(since, D]` and then goes live
//! after `D` has no gap and no duplicate.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

mod dispatcher;
mod subscription;

pub(crate) use dispatcher::{Dispatcher, Refused, Standing, TypingPath};
pub(crate) use subscription::Start;
pub use subscription::Subscription;

use crate::error::Result;
use crate::event::Event;
use crate::id::TalkId;
use crate::signal::SharedTyping;

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
            // Without a receiver nobody is woken: the head is stored all the
            // same, and a receiver made later starts from it. (A receiver
            // counts from the moment it is made, before it reads anything.)
            newer && self.sender.receiver_count() > 0
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
    /// Another agent started or stopped typing in a talk the subscription
    /// covers: ephemeral, never replayed, and dropped when the
    /// subscription's typing queue is full (events never are).
    Typing(Arc<SharedTyping>),
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
    /// How long the dispatcher's hold on the log lives without renewal: it
    /// renews it while it runs, and retention never prunes an event it has
    /// not routed; a process that dies (or freezes) longer than this stops
    /// holding the log back. (On one shared store, every node has its own.)
    pub hold_lease: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            queue_bound: 1024,
            page: 512,
            poll_interval: Duration::from_millis(500),
            hold_lease: Duration::from_secs(30),
        }
    }
}

/// The end reason the dispatcher leaves for a subscription it dropped.
#[derive(Debug, Default)]
pub(super) struct EndSlot(Mutex<Option<EndReason>>);

impl EndSlot {
    pub(super) fn set(&self, reason: EndReason) {
        *lock(&self.0) = Some(reason);
    }

    pub(super) fn take(&self) -> Option<EndReason> {
        lock(&self.0).take()
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_head_published_without_receivers_is_where_a_later_receiver_starts() {
        let notifier = LocalNotifier::new();
        notifier.publish(3);
        let mut wake = notifier.watch();
        assert_eq!(*wake.borrow_and_update(), 3);
        notifier.publish(2);
        assert!(!wake.has_changed().unwrap_or(true), "a lower head changes nothing");
        notifier.publish(5);
        wake.changed().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*wake.borrow_and_update(), 5);
    }
}
