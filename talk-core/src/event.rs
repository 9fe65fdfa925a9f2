//! Events: what each command changed, in the store's event log, numbered by
//! one store-wide strictly increasing `seq`.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{AgentId, MessageId, ParticipantId, TalkId};
use crate::message::Message;
use crate::participant::Participant;
use crate::reaction::ReactionChange;
use crate::read::{ReadReceipt, ReceiptAudience};
use crate::talk::Talk;

/// What an event says happened, with the resource as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum EventData {
    /// A talk was created.
    TalkCreated(Talk),
    /// A talk's name or detail changed.
    TalkUpdated(Talk),
    /// A talk was closed.
    TalkClosed(Talk),
    /// A talk was reopened.
    TalkReopened(Talk),
    /// A participant record began.
    ParticipantJoined(Participant),
    /// A participant record ended (left or removed).
    ParticipantLeft(Participant),
    /// A message was sent (system messages too).
    MessageCreated(Message),
    /// A message was edited.
    MessageUpdated(Message),
    /// A message was deleted (the payload is the tombstone).
    MessageDeleted(Message),
    /// A reaction was added.
    ReactionAdded(ReactionChange),
    /// A reaction was removed.
    ReactionRemoved(ReactionChange),
    /// A read marker moved by `read` or `unread`.
    TalkRead(ReadReceipt),
}

impl EventData {
    /// The event's type name, as in the API (`message_created`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::TalkCreated(_) => "talk_created",
            Self::TalkUpdated(_) => "talk_updated",
            Self::TalkClosed(_) => "talk_closed",
            Self::TalkReopened(_) => "talk_reopened",
            Self::ParticipantJoined(_) => "participant_joined",
            Self::ParticipantLeft(_) => "participant_left",
            Self::MessageCreated(_) => "message_created",
            Self::MessageUpdated(_) => "message_updated",
            Self::MessageDeleted(_) => "message_deleted",
            Self::ReactionAdded(_) => "reaction_added",
            Self::ReactionRemoved(_) => "reaction_removed",
            Self::TalkRead(_) => "talk_read",
        }
    }

    /// The message the event is about, for message events.
    pub fn message_id(&self) -> Option<MessageId> {
        match self {
            Self::MessageCreated(m) | Self::MessageUpdated(m) | Self::MessageDeleted(m) => Some(m.id),
            Self::ReactionAdded(r) | Self::ReactionRemoved(r) => Some(r.message_id),
            _ => None,
        }
    }

    /// For `participant_joined` and `participant_left`, the record.
    pub fn participant(&self) -> Option<&Participant> {
        match self {
            Self::ParticipantJoined(p) | Self::ParticipantLeft(p) => Some(p),
            _ => None,
        }
    }

    /// For `participant_joined` and `participant_left`, the record, taken out.
    pub fn into_participant(self) -> Option<Participant> {
        match self {
            Self::ParticipantJoined(p) | Self::ParticipantLeft(p) => Some(p),
            _ => None,
        }
    }

    /// For `participant_left`, the agent and record whose span it ends.
    pub fn left_participant(&self) -> Option<(&AgentId, ParticipantId)> {
        match self {
            Self::ParticipantLeft(p) => Some((&p.agent_id, p.id)),
            _ => None,
        }
    }

    /// Whether `agent`, who sees the talk's events, receives this one: a
    /// read receipt of a large talk goes to its reader only.
    pub fn reaches(&self, agent: &AgentId) -> bool {
        match self {
            Self::TalkRead(receipt) => receipt.audience == ReceiptAudience::Talk || &receipt.agent_id == agent,
            _ => true,
        }
    }

    /// Removes the content of message `id` from the payload, if the payload
    /// is that message: what deleting a message does to every earlier event.
    /// Returns whether the payload changed.
    pub fn redact_message(&mut self, id: MessageId) -> bool {
        match self {
            Self::MessageCreated(m) | Self::MessageUpdated(m) | Self::MessageDeleted(m) if m.id == id => {
                let before = (m.text.len(), m.medias.len(), m.reactions.len(), m.mentions.len());
                m.redact();
                before != (0, 0, 0, 0)
            }
            _ => false,
        }
    }
}

/// An event as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its number: one store-wide, strictly increasing sequence without holes.
    pub seq: u64,
    /// The talk it belongs to.
    pub talk_id: TalkId,
    /// When it happened (informational: order is `seq`).
    pub tm_create: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub data: EventData,
}
