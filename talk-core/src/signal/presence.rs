//! Presence on one node: its own connections, what the other nodes told it,
//! and the watchers of changes.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::runtime::Signals;
use super::{Presence, PresenceStatus, SignalMessage, SignalOptions, to_chrono};
use crate::clock::Timestamp;
use crate::delivery::lock;
use crate::id::AgentId;

/// An agent's connections on this node.
#[derive(Debug)]
struct Local {
    sockets: usize,
    /// When the last one closed, while the agent is in its reconnect grace.
    closed_at: Option<Timestamp>,
}

/// Another node, as last heard.
#[derive(Debug, Default)]
struct Remote {
    heard: Option<Timestamp>,
    agents: HashSet<AgentId>,
    /// The heartbeat round being received, and its agents so far.
    round: Option<u64>,
    pending: HashSet<AgentId>,
}

#[derive(Debug, Default)]
struct State {
    local: HashMap<AgentId, Local>,
    remote: HashMap<String, Remote>,
    last_seen: HashMap<AgentId, Timestamp>,
    /// Agents the watchers were last told are online.
    shown_online: HashSet<AgentId>,
    /// For each watched agent, the queues of its watchers.
    watchers: HashMap<AgentId, Vec<Arc<WatchQueue>>>,
}

impl State {
    fn online(&self, agent: &AgentId) -> bool {
        self.local.contains_key(agent) || self.remote.values().any(|node| node.agents.contains(agent))
    }

    fn presence(&self, agent: &AgentId) -> Presence {
        let online = self.online(agent);
        Presence {
            agent_id: agent.clone(),
            status: if online { PresenceStatus::Online } else { PresenceStatus::Offline },
            tm_last_seen: if online { None } else { self.last_seen.get(agent).copied() },
        }
    }

    fn saw(&mut self, agent: &AgentId, at: Timestamp) {
        let seen = self.last_seen.entry(agent.clone()).or_insert(at);
        *seen = (*seen).max(at);
    }

    /// Tells the agent's watchers when its status changed.
    fn changed(&mut self, agent: &AgentId) {
        let online = self.online(agent);
        let was = self.shown_online.contains(agent);
        if online == was {
            return;
        }
        if online {
            self.shown_online.insert(agent.clone());
        } else {
            self.shown_online.remove(agent);
        }
        if let Some(queues) = self.watchers.get(agent) {
            let presence = self.presence(agent);
            for queue in queues {
                queue.push(presence.clone());
            }
        }
    }
}

/// Presence as this node knows it.
#[derive(Debug)]
pub(super) struct PresenceBoard {
    node: String,
    state: Mutex<State>,
    grace: chrono::Duration,
    node_timeout: chrono::Duration,
}

impl PresenceBoard {
    pub(super) fn new(node: String, options: &SignalOptions) -> Self {
        Self {
            node,
            state: Mutex::new(State::default()),
            grace: to_chrono(options.reconnect_grace),
            node_timeout: to_chrono(options.node_timeout),
        }
    }

    /// A connection of `agent` opened: what to tell the other nodes.
    pub(super) fn connected(&self, agent: &AgentId) -> Option<SignalMessage> {
        let mut state = lock(&self.state);
        let announce = match state.local.entry(agent.clone()) {
            MapEntry::Occupied(mut local) => {
                // A reconnect within the grace: never offline.
                let local = local.get_mut();
                local.sockets += 1;
                local.closed_at = None;
                None
            }
            MapEntry::Vacant(vacant) => {
                vacant.insert(Local { sockets: 1, closed_at: None });
                Some(SignalMessage::Online { node: self.node.clone(), agent_id: agent.clone() })
            }
        };
        state.changed(agent);
        announce
    }

    /// A connection of `agent` closed at `now`; answers whether it was its
    /// last one on this node (its grace begins).
    pub(super) fn disconnected(&self, agent: &AgentId, now: Timestamp) -> bool {
        let mut state = lock(&self.state);
        let Some(local) = state.local.get_mut(agent) else { return false };
        local.sockets = local.sockets.saturating_sub(1);
        if local.sockets > 0 {
            return false;
        }
        local.closed_at = Some(now);
        true
    }

    /// Applies what another node said (this node's own messages are
    /// ignored: its own state is here already).
    pub(super) fn apply(&self, message: &SignalMessage, now: Timestamp) {
        let mut state = lock(&self.state);
        match message {
            SignalMessage::Online { node, agent_id } if *node != self.node => {
                let remote = state.remote.entry(node.clone()).or_default();
                remote.heard = Some(now);
                remote.agents.insert(agent_id.clone());
                if remote.round.is_some() {
                    remote.pending.insert(agent_id.clone());
                }
                state.changed(agent_id);
            }
            SignalMessage::Offline { node, agent_id, last_seen } if *node != self.node => {
                let remote = state.remote.entry(node.clone()).or_default();
                remote.heard = Some(now);
                remote.agents.remove(agent_id);
                remote.pending.remove(agent_id);
                state.saw(agent_id, *last_seen);
                state.changed(agent_id);
            }
            SignalMessage::Heartbeat { node, round, last, agents } if *node != self.node => {
                let remote = state.remote.entry(node.clone()).or_default();
                remote.heard = Some(now);
                if remote.round != Some(*round) {
                    remote.round = Some(*round);
                    remote.pending.clear();
                }
                remote.pending.extend(agents.iter().cloned());
                if !*last {
                    return;
                }
                // The round is whole: it is the node's list of agents.
                let now_online = std::mem::take(&mut remote.pending);
                remote.round = None;
                let before = std::mem::replace(&mut remote.agents, now_online);
                let touched: Vec<AgentId> = before.symmetric_difference(&remote.agents).cloned().collect();
                for agent in touched {
                    if !state.online(&agent) {
                        state.saw(&agent, now);
                    }
                    state.changed(&agent);
                }
            }
            _ => {}
        }
    }

    /// Ends the graces that ran out and forgets the nodes not heard in
    /// time: what to tell the other nodes.
    pub(super) fn sweep(&self, now: Timestamp) -> Vec<SignalMessage> {
        let mut state = lock(&self.state);
        let gone: Vec<(AgentId, Timestamp)> = state
            .local
            .iter()
            .filter_map(|(agent, local)| {
                local.closed_at.filter(|at| *at + self.grace <= now).map(|at| (agent.clone(), at))
            })
            .collect();
        let mut told = Vec::with_capacity(gone.len());
        for (agent, closed_at) in gone {
            state.local.remove(&agent);
            state.saw(&agent, closed_at);
            state.changed(&agent);
            told.push(SignalMessage::Offline { node: self.node.clone(), agent_id: agent, last_seen: closed_at });
        }
        let dead: Vec<String> = state
            .remote
            .iter()
            .filter(|(_, remote)| remote.heard.is_none_or(|heard| heard + self.node_timeout <= now))
            .map(|(node, _)| node.clone())
            .collect();
        for node in dead {
            if let Some(remote) = state.remote.remove(&node) {
                let heard = remote.heard.unwrap_or(now);
                for agent in remote.agents {
                    if !state.online(&agent) {
                        state.saw(&agent, heard);
                    }
                    state.changed(&agent);
                }
            }
        }
        told
    }

    /// Whether a sweep has anything to do (a grace running, another node
    /// to time out), and whether this node has agents to tell of.
    pub(super) fn busy(&self) -> (bool, bool) {
        let state = lock(&self.state);
        let graces = state.local.values().any(|local| local.closed_at.is_some());
        (graces || !state.remote.is_empty(), !state.local.is_empty())
    }

    /// The agents online on this node (those in their grace included), for a heartbeat.
    pub(super) fn local_agents(&self) -> Vec<AgentId> {
        lock(&self.state).local.keys().cloned().collect()
    }

    pub(super) fn presence(&self, agent: &AgentId) -> Presence {
        lock(&self.state).presence(agent)
    }

    /// Replaces what `queue` watches with `agents`, and queues their presence now.
    fn watch(&self, queue: &Arc<WatchQueue>, old: &[AgentId], agents: &[AgentId]) {
        let mut state = lock(&self.state);
        unwatch(&mut state, queue, old);
        // What is queued from before is stale: what follows says what is now.
        queue.clear();
        for agent in agents {
            state.watchers.entry(agent.clone()).or_default().push(queue.clone());
            queue.push(state.presence(agent));
        }
    }
}

fn unwatch(state: &mut State, queue: &Arc<WatchQueue>, agents: &[AgentId]) {
    for agent in agents {
        if let Some(queues) = state.watchers.get_mut(agent) {
            queues.retain(|q| !Arc::ptr_eq(q, queue));
            if queues.is_empty() {
                state.watchers.remove(agent);
            }
        }
    }
}

/// The changes a watcher has not taken yet: at most one per agent (the
/// latest), so it never grows past the agents watched.
#[derive(Debug, Default)]
struct WatchQueue {
    pending: Mutex<(VecDeque<AgentId>, HashMap<AgentId, Presence>)>,
    notify: Notify,
}

impl WatchQueue {
    fn push(&self, presence: Presence) {
        let mut pending = lock(&self.pending);
        let (order, latest) = &mut *pending;
        let agent = presence.agent_id.clone();
        if latest.insert(agent.clone(), presence).is_none() {
            order.push_back(agent);
        }
        drop(pending);
        self.notify.notify_one();
    }

    fn pop(&self) -> Option<Presence> {
        let mut pending = lock(&self.pending);
        let (order, latest) = &mut *pending;
        let agent = order.pop_front()?;
        latest.remove(&agent)
    }

    fn clear(&self) {
        let mut pending = lock(&self.pending);
        pending.0.clear();
        pending.1.clear();
    }
}

/// One open connection of an agent, for presence: the agent is online while
/// it holds one on some node. Dropping it closes the connection (the agent
/// goes offline after the reconnect grace, if it was its last), and stops
/// its typing when it was its last on this node.
#[derive(Debug)]
pub struct Connection {
    signals: Arc<Signals>,
    agent: AgentId,
}

impl Connection {
    pub(crate) fn open(signals: Arc<Signals>, agent: AgentId) -> Self {
        signals.connected(&agent);
        Self { signals, agent }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.signals.disconnected(&self.agent);
    }
}

/// A watcher of some agents' presence (see
/// [`Hub::watch_presence`](crate::Hub::watch_presence)): it hears each of
/// their changes between online and offline, the latest per agent if it
/// falls behind.
#[derive(Debug)]
pub struct PresenceWatch {
    signals: Arc<Signals>,
    queue: Arc<WatchQueue>,
    watched: Mutex<Vec<AgentId>>,
}

impl PresenceWatch {
    pub(crate) fn new(signals: Arc<Signals>) -> Self {
        Self { signals, queue: Arc::new(WatchQueue::default()), watched: Mutex::new(Vec::new()) }
    }

    /// Watches `agents` instead of what it watched, and queues their
    /// presence now. (The Hub filters them first; see `Hub::watch_presence`.)
    pub(crate) fn replace(&self, agents: Vec<AgentId>) {
        let mut watched = lock(&self.watched);
        self.signals.presence_board().watch(&self.queue, &watched, &agents);
        *watched = agents;
    }

    /// The agents watched.
    pub fn watched(&self) -> Vec<AgentId> {
        lock(&self.watched).clone()
    }

    /// The next presence of a watched agent: each one's presence when it
    /// began to be watched, then each change (the latest per agent, if the
    /// watcher falls behind).
    pub async fn next(&self) -> Presence {
        loop {
            let notified = self.queue.notify.notified();
            if let Some(presence) = self.queue.pop() {
                return presence;
            }
            notified.await;
        }
    }
}

impl Drop for PresenceWatch {
    fn drop(&mut self) {
        let mut state = lock(&self.signals.presence_board().state);
        unwatch(&mut state, &self.queue, &lock(&self.watched));
    }
}
