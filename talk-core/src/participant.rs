//! Participant records: one agent's membership span in one talk.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{AgentId, ParticipantId, TalkId};

/// Whether a participant record is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    /// The agent is in the talk through this record.
    Active,
    /// The record ended; it stays as history and is never reactivated.
    Left,
}

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// The agent left by itself.
    Left,
    /// Another participant removed it.
    Removed,
}

/// One membership span of an agent in a talk. Adding an agent again after it
/// left makes a new record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Its id.
    pub id: ParticipantId,
    /// The talk.
    pub talk_id: TalkId,
    /// The agent.
    pub agent_id: AgentId,
    /// Active or left.
    pub status: ParticipantStatus,
    /// Why it ended, once it has.
    pub left_reason: Option<LeftReason>,
    /// The `seq` of its own `participant_joined` event: participants are
    /// listed in this order.
    pub seq: u64,
    /// The first `seq` of its span: the first event of the change that added it.
    pub joined_seq: u64,
    /// The last `seq` of its span: its own `participant_left`; `None` while active.
    pub left_seq: Option<u64>,
    /// When it joined.
    pub tm_joined: Timestamp,
    /// When it left.
    pub tm_left: Option<Timestamp>,
}

impl Participant {
    /// Whether this record is active.
    pub fn is_active(&self) -> bool {
        self.status == ParticipantStatus::Active
    }

    /// Whether the event numbered `seq` lies in this record's span.
    pub fn spans(&self, seq: u64) -> bool {
        self.joined_seq <= seq && self.left_seq.is_none_or(|left| seq <= left)
    }
}
