//! The agent directory: which agent ids exist. Identity belongs to the
//! embedding application; Talk only asks.

use std::collections::HashSet;

use async_trait::async_trait;

use crate::id::AgentId;

/// Tells whether an agent exists. Consulted when a talk is created and when
/// an agent is added (`unknown_agent` otherwise).
#[async_trait]
pub trait AgentDirectory: Send + Sync + 'static {
    /// Whether the agent exists.
    async fn contains(&self, agent: &AgentId) -> bool;
}

/// The default directory: every well-formed agent id exists.
#[derive(Debug, Default, Clone, Copy)]
pub struct AnyAgent;

#[async_trait]
impl AgentDirectory for AnyAgent {
    async fn contains(&self, _agent: &AgentId) -> bool {
        true
    }
}

/// A fixed set of agents.
#[derive(Debug, Default, Clone)]
pub struct StaticDirectory {
    agents: HashSet<AgentId>,
}

impl StaticDirectory {
    /// A directory of exactly these agents.
    pub fn new(agents: impl IntoIterator<Item = AgentId>) -> Self {
        Self { agents: agents.into_iter().collect() }
    }
}

#[async_trait]
impl AgentDirectory for StaticDirectory {
    async fn contains(&self, agent: &AgentId) -> bool {
        self.agents.contains(agent)
    }
}
