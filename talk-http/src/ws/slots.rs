//! The cap on each agent's open WebSockets on this server node
//! ([`Options::max_sockets_per_agent`](crate::Options::max_sockets_per_agent)).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use talk_core::AgentId;

use crate::error::ApiError;

/// How many WebSockets each agent has open on this node. Only agents with
/// at least one open socket are held.
#[derive(Debug)]
pub(crate) struct SocketSlots {
    cap: usize,
    open: Mutex<HashMap<AgentId, usize>>,
}

impl SocketSlots {
    pub(crate) fn new(cap: usize) -> Self {
        Self { cap, open: Mutex::new(HashMap::new()) }
    }

    /// Takes one of the agent's slots for a new socket, or answers
    /// `429 rate_limited` when the agent has its cap open already. The slot
    /// is given back when the [`SocketSlot`] drops, with its socket.
    pub(crate) fn take(self: &Arc<Self>, agent: &AgentId) -> Result<SocketSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.get(agent).copied().unwrap_or(0);
        if count >= self.cap {
            return Err(ApiError::too_many_sockets(self.cap));
        }
        open.insert(agent.clone(), count + 1);
        Ok(SocketSlot { slots: self.clone(), agent: agent.clone() })
    }

    /// The sockets the agent has open.
    #[cfg(test)]
    fn open(&self, agent: &AgentId) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).get(agent).copied().unwrap_or(0)
    }
}

/// One open (or opening) WebSocket of an agent; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct SocketSlot {
    slots: Arc<SocketSlots>,
    agent: AgentId,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        // The map is never left half-changed: a poisoned lock is still usable.
        let mut open = self.slots.open.lock().unwrap_or_else(PoisonError::into_inner);
        match open.get_mut(&self.agent) {
            Some(count) if *count > 1 => *count -= 1,
            _ => {
                open.remove(&self.agent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn each_agent_has_its_cap_and_a_dropped_slot_is_free_again() {
        let slots = Arc::new(SocketSlots::new(2));
        let (a, b) = (AgentId::parse("agent-a").unwrap(), AgentId::parse("agent-b").unwrap());
        let first = slots.take(&a).unwrap();
        let _second = slots.take(&a).unwrap();
        let refused = slots.take(&a).unwrap_err();
        assert_eq!((refused.status().as_u16(), refused.code()), (429, "rate_limited"));
        assert!(refused.retry_after().is_some());
        let _other = slots.take(&b).unwrap();
        drop(first);
        assert_eq!(slots.open(&a), 1);
        let _third = slots.take(&a).unwrap();
        assert_eq!(slots.open(&a), 2);
    }

    #[test]
    fn agents_without_sockets_are_not_held() {
        let slots = Arc::new(SocketSlots::new(1));
        let a = AgentId::parse("agent-a").unwrap();
        drop(slots.take(&a).unwrap());
        assert!(slots.open.lock().unwrap().is_empty());
        assert!(Arc::new(SocketSlots::new(0)).take(&a).is_err());
    }
}
