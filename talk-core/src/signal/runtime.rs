//! The signals of one Hub: the bus, the typists, presence, and the task
//! that applies what the bus brings and keeps time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::broadcast;

use super::presence::PresenceBoard;
use super::typing::{TypingEnd, TypingKey, Typists};
use super::{Presence, SignalBus, SignalCounts, SignalMessage, SignalOptions, Typing, to_chrono};
use crate::clock::{Clock, Timestamp};
use crate::delivery::{Dispatcher, lock};
use crate::id::AgentId;

/// The most bytes of agent ids in one heartbeat message: well inside
/// PostgreSQL's 8 000-byte `NOTIFY` payload.
const HEARTBEAT_BYTES: usize = 4_000;

/// The signals of one Hub (one node).
pub(crate) struct Signals {
    node: String,
    bus: Arc<dyn SignalBus>,
    clock: Arc<dyn Clock>,
    options: SignalOptions,
    typists: Arc<Typists>,
    presence: PresenceBoard,
    /// Where typing frames go: set when the Hub's dispatcher starts.
    dispatcher: OnceLock<Arc<Dispatcher>>,
    /// The bus receiver, taken by the task when it starts.
    receiver: Mutex<Option<broadcast::Receiver<SignalMessage>>>,
    started: OnceLock<()>,
    delivered: AtomicU64,
    dropped: AtomicU64,
    bus_lagged: AtomicU64,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals").field("node", &self.node).finish_non_exhaustive()
    }
}

impl Signals {
    pub(crate) fn new(bus: Arc<dyn SignalBus>, clock: Arc<dyn Clock>, options: SignalOptions) -> Self {
        let node = uuid::Uuid::now_v7().to_string();
        let receiver = bus.receive();
        Self {
            presence: PresenceBoard::new(node.clone(), &options),
            typists: Arc::new(Typists::new(&options)),
            node,
            bus,
            clock,
            options,
            dispatcher: OnceLock::new(),
            receiver: Mutex::new(Some(receiver)),
            started: OnceLock::new(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            bus_lagged: AtomicU64::new(0),
        }
    }

    pub(crate) fn options(&self) -> &SignalOptions {
        &self.options
    }

    pub(crate) fn typists(&self) -> &Arc<Typists> {
        &self.typists
    }

    pub(super) fn presence_board(&self) -> &PresenceBoard {
        &self.presence
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Starts the task that applies the bus and keeps time (once; needs a
    /// Tokio runtime).
    pub(crate) fn start(self: &Arc<Self>) {
        self.started.get_or_init(|| {
            let Some(mut receiver) = lock(&self.receiver).take() else { return };
            let weak = Arc::downgrade(self);
            let tick = self.options.tick.max(std::time::Duration::from_millis(1));
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(tick);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut heartbeat = Heartbeat::default();
                loop {
                    tokio::select! {
                        message = receiver.recv() => {
                            let Some(signals) = weak.upgrade() else { return };
                            match message {
                                Ok(message) => signals.apply(&message),
                                Err(broadcast::error::RecvError::Lagged(missed)) => {
                                    signals.bus_lagged.fetch_add(missed, Ordering::Relaxed);
                                }
                                Err(broadcast::error::RecvError::Closed) => return,
                            }
                        }
                        _ = ticks.tick() => {
                            let Some(signals) = weak.upgrade() else { return };
                            signals.tick(&mut heartbeat);
                        }
                    }
                }
            });
        });
    }

    /// Sets where typing frames go.
    pub(crate) fn attach(&self, dispatcher: Arc<Dispatcher>) {
        let _ = self.dispatcher.set(dispatcher);
    }

    pub(crate) fn publish(&self, message: SignalMessage) {
        self.bus.publish(message);
    }

    /// Applies one message of the bus.
    fn apply(&self, message: &SignalMessage) {
        let now = self.now();
        match message {
            SignalMessage::Typing { talk_id, parent_id, agent_id, typing } => {
                let key = TypingKey { talk_id: *talk_id, parent_id: *parent_id, agent_id: agent_id.clone() };
                let frames: Vec<Typing> = self.typists.set(key, *typing, now).into_iter().collect();
                self.deliver(frames);
            }
            SignalMessage::TypingGone { agent_id } => {
                let frames = self.typists.end(&TypingEnd::Gone { agent_id: agent_id.clone() }, now);
                self.deliver(frames);
            }
            presence => self.presence.apply(presence, now),
        }
    }

    /// Expiries, graces, the heartbeat. With none of them under way the
    /// clock is not read at all (a manual clock moves at every reading).
    fn tick(&self, heartbeat: &mut Heartbeat) {
        let typing = !self.typists.is_empty();
        let (pending, agents) = self.presence.busy();
        if !typing && !pending && !agents {
            return;
        }
        let now = self.now();
        if typing {
            let frames = self.typists.sweep(now);
            self.deliver(frames);
        }
        if pending {
            for message in self.presence.sweep(now) {
                self.publish(message);
            }
        }
        if agents && heartbeat.due(now, to_chrono(self.options.heartbeat)) {
            for message in heartbeat.messages(&self.node, self.presence.local_agents()) {
                self.publish(message);
            }
        }
    }

    /// Sends typing frames to the subscribers of their talks.
    pub(crate) fn deliver(&self, frames: Vec<Typing>) {
        if frames.is_empty() {
            return;
        }
        if let Some(dispatcher) = self.dispatcher.get() {
            let (delivered, dropped) = dispatcher.deliver_typing(frames);
            self.delivered.fetch_add(delivered, Ordering::Relaxed);
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }

    pub(crate) fn connected(&self, agent: &AgentId) {
        if let Some(online) = self.presence.connected(agent) {
            self.publish(online);
        }
    }

    pub(crate) fn disconnected(&self, agent: &AgentId) {
        if self.presence.disconnected(agent, self.now()) {
            self.publish(SignalMessage::TypingGone { agent_id: agent.clone() });
        }
    }

    pub(crate) fn presence(&self, agent: &AgentId) -> Presence {
        self.presence.presence(agent)
    }

    pub(crate) fn counts(&self) -> SignalCounts {
        SignalCounts {
            typing_delivered: self.delivered.load(Ordering::Relaxed),
            typing_dropped: self.dropped.load(Ordering::Relaxed),
            typing_coalesced: self.typists.coalesced(),
            bus_lagged: self.bus_lagged.load(Ordering::Relaxed),
        }
    }
}

/// When this node last told the others its agents.
#[derive(Debug, Default)]
struct Heartbeat {
    last: Option<Timestamp>,
    round: u64,
}

impl Heartbeat {
    fn due(&mut self, now: Timestamp, every: chrono::Duration) -> bool {
        if self.last.is_some_and(|last| now - last < every) {
            return false;
        }
        self.last = Some(now);
        self.round += 1;
        true
    }

    /// The round's messages: the agents in parts of bounded size, the last
    /// one marked.
    fn messages(&self, node: &str, agents: Vec<AgentId>) -> Vec<SignalMessage> {
        let mut parts: Vec<Vec<AgentId>> = vec![Vec::new()];
        let mut bytes = 0;
        for agent in agents {
            let size = agent.as_str().len() + 3;
            if bytes + size > HEARTBEAT_BYTES {
                parts.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            if let Some(part) = parts.last_mut() {
                part.push(agent);
            }
        }
        let count = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(i, agents)| SignalMessage::Heartbeat {
                node: node.to_owned(),
                round: self.round,
                last: i + 1 == count,
                agents,
            })
            .collect()
    }
}
