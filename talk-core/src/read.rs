//! Read state: each participant record's read marker, the unread and
//! mention counts derived from it, and read receipts.
//!
//! A marker is the `seq` up to which the record's agent has read. It starts
//! at the record's own `participant_joined`, moves forward with `read` and
//! with the agent's own sends, back with `unread` (never below the join), and
//! stays where it is once the record ends.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{AgentId, MessageId, ParticipantId, TalkId};

/// A participant record's read marker, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarker {
    /// The record.
    pub participant_id: ParticipantId,
    /// Its talk.
    pub talk_id: TalkId,
    /// Its agent.
    pub agent_id: AgentId,
    /// The record's `seq` (its `participant_joined`): markers are listed in
    /// join order by it.
    pub participant_seq: u64,
    /// The `seq` up to which the agent has read.
    pub read_seq: u64,
    /// The newest message of the talk, of any type, at or below `read_seq`.
    pub read_message_id: Option<MessageId>,
    /// When the marker last moved (the join, sends included).
    pub tm_read: Timestamp,
}

/// The numbers a store keeps for one marker, from which its counts follow
/// (see [`ReadNumbers::counts`]); all of them are about the marker's talk
/// and count messages with `seq` above the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadNumbers {
    /// The talk.
    pub talk_id: TalkId,
    /// Normal messages above the marker, deleted or not, by anyone.
    pub normal_after: u64,
    /// Of those, the ones the marker's agent wrote, deleted or not.
    pub own_after: u64,
    /// Of those, the deleted ones other agents wrote.
    pub deleted_after: u64,
    /// Messages above the marker, not deleted, written by another agent,
    /// whose mentions name the marker's agent.
    pub mentions_after: u64,
}

impl ReadNumbers {
    /// The counts: unread are the normal messages above the marker, not
    /// deleted, written by another agent; mentions are those of them that
    /// mention the agent.
    pub fn counts(&self) -> ReadCounts {
        let unread = self.normal_after.saturating_sub(self.own_after).saturating_sub(self.deleted_after);
        ReadCounts { unread_count: unread, mention_count: self.mentions_after.min(unread) }
    }
}

/// An agent's counts in one talk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadCounts {
    /// Normal messages above the marker, not deleted, written by another agent.
    pub unread_count: u64,
    /// Unread messages that mention the agent.
    pub mention_count: u64,
}

/// An agent's read state in a talk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadState {
    /// The talk.
    pub talk_id: TalkId,
    /// The agent.
    pub agent_id: AgentId,
    /// The `seq` up to which it has read.
    pub last_read_seq: u64,
    /// The newest message of any type at or below `last_read_seq`.
    pub last_read_message_id: Option<MessageId>,
    /// When the marker last moved.
    pub tm_read: Timestamp,
    /// The counts; `None` where a list leaves them out (read receipts).
    pub counts: Option<ReadCounts>,
}

impl ReadState {
    /// The state of a marker, with `counts` if given.
    pub fn of(marker: &ReadMarker, counts: Option<ReadCounts>) -> Self {
        Self {
            talk_id: marker.talk_id,
            agent_id: marker.agent_id.clone(),
            last_read_seq: marker.read_seq,
            last_read_message_id: marker.read_message_id,
            tm_read: marker.tm_read,
            counts,
        }
    }
}

/// An agent's totals over its active talks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnreadTotals {
    /// Talks with at least one unread message.
    pub talks: u64,
    /// Unread messages in all of them.
    pub messages: u64,
    /// Unread messages that mention the agent.
    pub mentions: u64,
}

impl UnreadTotals {
    /// The totals of these counts.
    pub fn of(counts: impl IntoIterator<Item = ReadCounts>) -> Self {
        let mut totals = Self::default();
        for c in counts {
            totals.talks += u64::from(c.unread_count > 0);
            totals.messages += c.unread_count;
            totals.mentions += c.mention_count;
        }
        totals
    }
}

/// Who receives a `talk_read` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptAudience {
    /// Everyone who sees the talk's events (a talk of at most
    /// [`Limits::read_receipts_participants_max`](crate::Limits) active participants).
    Talk,
    /// Only the reader's own subscriptions (its other devices).
    Reader,
}

/// The payload of a `talk_read` event: a marker moved by `read` or `unread`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    /// The talk.
    pub talk_id: TalkId,
    /// The reader.
    pub agent_id: AgentId,
    /// Its record.
    pub participant_id: ParticipantId,
    /// Where the marker is now.
    pub last_read_seq: u64,
    /// The newest message at or below it.
    pub last_read_message_id: Option<MessageId>,
    /// When it moved.
    pub tm_read: Timestamp,
    /// Who receives the event.
    pub audience: ReceiptAudience,
}
