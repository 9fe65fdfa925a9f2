//! Ephemeral signals: typing indicators and presence.
//!
//! Signals never enter the event log: they have no `seq`, are not durable
//! and are not replayed. They travel on their own path beside the
//! dispatcher, through a [`SignalBus`] that carries them to every node of a
//! deployment (in process: [`LocalSignalBus`]; on PostgreSQL: a `NOTIFY`
//! channel of its own). Every node applies what the bus brings with the
//! same rules, so each one shows the same typists and the same presence.
//!
//! - **Typing**: an agent types in a talk (and a thread, `parent_id`). The
//!   subscribers of the talk (other active participants) get
//!   [`TypingState::Started`] once; repeats within [`SignalOptions::typing_expiry`]
//!   only renew it; [`TypingState::Stopped`] follows a stop, a message sent
//!   in that thread, a leave or removal, the talk's close, the typist's last
//!   socket closing, or the expiry. At most one frame per typist, talk and
//!   thread per [`SignalOptions::typing_coalesce`]: what changes faster is
//!   coalesced. Typing frames go to each subscription's own small queue,
//!   read after its events: a storm of them never delays an event, and a
//!   full queue drops the frame.
//! - **Presence**: an agent is online while it has a connection open
//!   ([`Hub::connect`](crate::Hub::connect)) on any node; a reconnect within
//!   [`SignalOptions::reconnect_grace`] is not an offline. Nodes tell each
//!   other their agents on every change and in a heartbeat; a node not heard
//!   for [`SignalOptions::node_timeout`] is gone with its agents. Watchers
//!   ([`PresenceWatch`]) hear changes of the agents they watch.
//!
//! Expiries and graces are measured on the Hub's [`Clock`](crate::Clock),
//! checked every [`SignalOptions::tick`], so tests move a manual clock
//! instead of sleeping.

mod presence;
mod runtime;
mod typing;

use std::any::Any;
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::clock::Timestamp;
use crate::id::{AgentId, MessageId, TalkId};

pub use presence::{Connection, PresenceWatch};
pub(crate) use runtime::Signals;
pub(crate) use typing::{TypingEnd, TypingKey, Typists};

/// Whether an agent is typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypingState {
    /// It began typing.
    Started,
    /// It stopped (or its typing expired).
    Stopped,
}

/// A typing frame: who types (or stopped typing) where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    /// The talk.
    pub talk_id: TalkId,
    /// The thread, if it types a reply.
    pub parent_id: Option<MessageId>,
    /// The typist.
    pub agent_id: AgentId,
    /// Started or stopped.
    pub state: TypingState,
}

/// A typing frame as delivered: shared by every subscription it goes to,
/// with its wire encoding made once, by the first subscriber that asks.
pub struct SharedTyping {
    /// The frame.
    pub typing: Typing,
    encoded: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl SharedTyping {
    pub(crate) fn new(typing: Typing) -> Self {
        Self { typing, encoded: OnceLock::new() }
    }

    /// The frame encoded by `encode`: encoded at the first call, a clone of
    /// that encoding at every later one. (An adapter uses one encoding;
    /// asking for another type encodes again on each call.)
    pub fn encoded<E, F>(&self, encode: F) -> E
    where
        E: Clone + Send + Sync + 'static,
        F: Fn(&Typing) -> E,
    {
        let cached = self.encoded.get_or_init(|| Box::new(encode(&self.typing)));
        match cached.downcast_ref::<E>() {
            Some(encoded) => encoded.clone(),
            None => encode(&self.typing),
        }
    }
}

impl std::fmt::Debug for SharedTyping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTyping").field("typing", &self.typing).finish_non_exhaustive()
    }
}

impl PartialEq for SharedTyping {
    fn eq(&self, other: &Self) -> bool {
        self.typing == other.typing
    }
}

impl Eq for SharedTyping {}

/// Online or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// At least one connection open on some node.
    Online,
    /// None.
    Offline,
}

/// An agent's presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The agent.
    pub agent_id: AgentId,
    /// Online or offline.
    pub status: PresenceStatus,
    /// When its last connection closed: `None` while online, or if it never
    /// connected (as far as the nodes up now know).
    pub tm_last_seen: Option<Timestamp>,
}

/// What nodes tell each other on the [`SignalBus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum SignalMessage {
    /// An agent types (`typing`: true) or stopped typing (false).
    Typing {
        /// The talk.
        talk_id: TalkId,
        /// The thread.
        parent_id: Option<MessageId>,
        /// The typist.
        agent_id: AgentId,
        /// Whether it types.
        typing: bool,
    },
    /// The agent's last connection on a node closed: its typing stops.
    TypingGone {
        /// The agent.
        agent_id: AgentId,
    },
    /// An agent opened its first connection on `node`.
    Online {
        /// The node.
        node: String,
        /// The agent.
        agent_id: AgentId,
    },
    /// An agent's last connection on `node` closed at `last_seen` (and did
    /// not come back within the grace).
    Offline {
        /// The node.
        node: String,
        /// The agent.
        agent_id: AgentId,
        /// When its last connection closed.
        last_seen: Timestamp,
    },
    /// A node is alive, with (some of) the agents online on it. A node's
    /// agents may take several heartbeats of one round (`round`), each
    /// bounded in size; the round's `last` one closes it.
    Heartbeat {
        /// The node.
        node: String,
        /// The round: one per heartbeat interval.
        round: u64,
        /// Whether this is the round's last part.
        last: bool,
        /// Agents online on the node.
        agents: Vec<AgentId>,
    },
}

/// Carries [`SignalMessage`]s to every node of a deployment, this one
/// included. Best effort: a message may be lost (presence heals at the next
/// heartbeat; typing expires).
pub trait SignalBus: Send + Sync + 'static {
    /// Sends a message to every node (this one included).
    fn publish(&self, message: SignalMessage);

    /// A receiver of what every node publishes, this one's included.
    fn receive(&self) -> broadcast::Receiver<SignalMessage>;
}

/// The in-process [`SignalBus`]: one node.
#[derive(Debug)]
pub struct LocalSignalBus {
    sender: broadcast::Sender<SignalMessage>,
}

impl LocalSignalBus {
    /// A bus of one node.
    pub fn new() -> Self {
        Self { sender: broadcast::Sender::new(4096) }
    }
}

impl Default for LocalSignalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl SignalBus for LocalSignalBus {
    fn publish(&self, message: SignalMessage) {
        // No receiver yet: nobody to tell.
        let _ = self.sender.send(message);
    }

    fn receive(&self) -> broadcast::Receiver<SignalMessage> {
        self.sender.subscribe()
    }
}

/// The tunables of signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalOptions {
    /// How long typing lasts without a renewal.
    pub typing_expiry: Duration,
    /// At most one typing frame per typist, talk and thread this often.
    pub typing_coalesce: Duration,
    /// Typing frames a subscription may hold unread before new ones are dropped.
    pub typing_queue: usize,
    /// A reconnect within this long after the last connection closed is not an offline.
    pub reconnect_grace: Duration,
    /// How often a node tells the others it is alive, with its agents.
    pub heartbeat: Duration,
    /// A node not heard for this long is gone, and its agents with it.
    pub node_timeout: Duration,
    /// How often expiries, graces and heartbeats are checked.
    pub tick: Duration,
}

impl Default for SignalOptions {
    fn default() -> Self {
        Self {
            typing_expiry: Duration::from_secs(6),
            typing_coalesce: Duration::from_secs(1),
            typing_queue: 64,
            reconnect_grace: Duration::from_secs(5),
            heartbeat: Duration::from_secs(10),
            node_timeout: Duration::from_secs(25),
            tick: Duration::from_millis(100),
        }
    }
}

/// What signals came to since the Hub started, on this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalCounts {
    /// Typing frames queued for subscribers.
    pub typing_delivered: u64,
    /// Typing frames dropped because a subscriber's typing queue was full.
    pub typing_dropped: u64,
    /// Typing changes not sent because they came within the coalescing
    /// interval of the previous frame (the last state is sent when it ends).
    pub typing_coalesced: u64,
    /// Bus messages missed because this node read the bus too slowly.
    pub bus_lagged: u64,
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
