//! Talks: one-on-one (`direct`), `group` or `public`, `active` or `closed`.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{AgentId, TalkId};

/// Whether a talk is between exactly two agents or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TalkKind {
    /// Two agents, private; one per pair of agents, ever.
    Direct,
    /// Any number of agents up to the participant limit.
    Group,
    /// A group talk that every agent finds in the directory
    /// ([`Hub::public_talks`](crate::Hub::public_talks)) and may join
    /// without an invitation ([`Hub::join_talk`](crate::Hub::join_talk)).
    /// Any agent may read the talk itself; its messages, participants and
    /// events are for its participants, as in a group talk.
    Public,
}

/// Whether a talk takes new messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TalkStatus {
    /// Open for messages and changes.
    Active,
    /// Closed: readable, but refuses sends, edits, reactions, renames and additions.
    Closed,
}

/// The unordered pair of agents of a direct talk, kept sorted so that each
/// pair has one spelling. A store keeps it unique: one direct talk per pair, ever.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgentPair {
    low: AgentId,
    high: AgentId,
}

impl AgentPair {
    /// The pair of two agents, in either order. `None` when they are the same agent.
    pub fn new(a: AgentId, b: AgentId) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// The two agents, the lesser first.
    pub fn agents(&self) -> [&AgentId; 2] {
        [&self.low, &self.high]
    }

    /// Whether `agent` is one of the pair.
    pub fn contains(&self, agent: &AgentId) -> bool {
        &self.low == agent || &self.high == agent
    }
}

/// A talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Talk {
    /// Its id.
    pub id: TalkId,
    /// Direct, group or public; never changes.
    pub kind: TalkKind,
    /// For a direct talk, its pair of agents.
    pub direct_pair: Option<AgentPair>,
    /// Its name (may be empty for a direct talk only).
    pub name: String,
    /// Free text about the talk.
    pub detail: String,
    /// Active or closed.
    pub status: TalkStatus,
    /// The agent that created it.
    pub creator_id: AgentId,
    /// Number of active participants.
    pub member_count: u32,
    /// The state version: moved by membership changes, close, reopen and
    /// rename, never by messages or reactions. Change sets guard on it.
    pub version: u64,
    /// The `seq` of its `talk_created` event: talks are listed by it.
    pub created_seq: u64,
    /// When it was created.
    pub tm_create: Timestamp,
    /// When its name, detail, status or membership last changed.
    pub tm_update: Timestamp,
    /// When it was last closed; `None` while active.
    pub tm_close: Option<Timestamp>,
}

/// The input of `create_talk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTalk {
    /// Direct, group or public.
    pub kind: TalkKind,
    /// Required (1 to [`Limits::talk_name_max`](crate::Limits) characters)
    /// for a group or public talk; optional for a direct one.
    pub name: Option<String>,
    /// Optional detail.
    pub detail: Option<String>,
    /// The other agents. The creator joins anyway; duplicates are merged.
    pub participant_ids: Vec<AgentId>,
}

/// The input of `update_talk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TalkChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new detail.
    pub detail: Option<String>,
}
