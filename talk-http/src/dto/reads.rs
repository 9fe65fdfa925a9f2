//! Read state: the ReadState resource, read receipts, the unread totals,
//! and the bodies of `read` and `unread`.

use serde::{Deserialize, Serialize};
use talk_core::{ReadReceipt, ReadState, Timestamp, UnreadTotals};
use utoipa::ToSchema;
use uuid::Uuid;

use super::timestamp;

/// An agent's read state in a talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadStateDto {
    /// The talk.
    pub talk_id: Uuid,
    /// The agent.
    pub agent_id: String,
    /// The `seq` up to which the agent has read.
    pub last_read_seq: u64,
    /// The newest message of any type at or below `last_read_seq`; `null` if none.
    pub last_read_message_id: Option<Uuid>,
    /// Normal messages above the marker, not deleted, written by other agents.
    pub unread_count: u64,
    /// Of those, the ones that mention the agent.
    pub mention_count: u64,
    /// When the marker last moved (sends included).
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_read: Timestamp,
}

impl From<&ReadState> for ReadStateDto {
    fn from(s: &ReadState) -> Self {
        let counts = s.counts.unwrap_or_default();
        Self {
            talk_id: s.talk_id.as_uuid(),
            agent_id: s.agent_id.as_str().to_owned(),
            last_read_seq: s.last_read_seq,
            last_read_message_id: s.last_read_message_id.map(|m| m.as_uuid()),
            unread_count: counts.unread_count,
            mention_count: counts.mention_count,
            tm_read: s.tm_read,
        }
    }
}

/// A read receipt: an agent's read state without the counts (the items of
/// `GET /v1.0/talks/{id}/reads` and the `data` of `talk_read`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadReceiptDto {
    /// The talk.
    pub talk_id: Uuid,
    /// The agent.
    pub agent_id: String,
    /// The `seq` up to which the agent has read.
    pub last_read_seq: u64,
    /// The newest message of any type at or below `last_read_seq`; `null` if none.
    pub last_read_message_id: Option<Uuid>,
    /// When the marker last moved (sends included).
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_read: Timestamp,
}

impl From<&ReadState> for ReadReceiptDto {
    fn from(s: &ReadState) -> Self {
        Self {
            talk_id: s.talk_id.as_uuid(),
            agent_id: s.agent_id.as_str().to_owned(),
            last_read_seq: s.last_read_seq,
            last_read_message_id: s.last_read_message_id.map(|m| m.as_uuid()),
            tm_read: s.tm_read,
        }
    }
}

impl From<&ReadReceipt> for ReadReceiptDto {
    fn from(r: &ReadReceipt) -> Self {
        Self {
            talk_id: r.talk_id.as_uuid(),
            agent_id: r.agent_id.as_str().to_owned(),
            last_read_seq: r.last_read_seq,
            last_read_message_id: r.last_read_message_id.map(|m| m.as_uuid()),
            tm_read: r.tm_read,
        }
    }
}

list!(
    /// A page of read receipts, in the order the participants joined.
    ReadReceiptList, ReadReceiptDto
);

/// The caller's totals over its active talks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnreadTotalsDto {
    /// Talks with at least one unread message.
    pub talks: u64,
    /// Unread messages in all of them.
    pub messages: u64,
    /// Unread messages that mention the caller.
    pub mentions: u64,
}

impl From<UnreadTotals> for UnreadTotalsDto {
    fn from(t: UnreadTotals) -> Self {
        Self { talks: t.talks, messages: t.messages, mentions: t.mentions }
    }
}

/// `POST /v1.0/talks/{id}/read` (an empty body counts as `{}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// A message of this talk (a deleted one is fine); default: the talk's newest message.
    #[serde(default)]
    pub message_id: Option<Uuid>,
}

/// `POST /v1.0/talks/{id}/unread`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnreadRequest {
    /// A message of this talk: the marker moves to just before it (required).
    pub message_id: Uuid,
}
