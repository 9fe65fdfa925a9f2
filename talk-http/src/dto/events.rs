//! Events: the frame of an event (WebSocket and `GET /v1.0/events`) and
//! the catch-up list.

use serde::Serialize;
use talk_core::{Event, EventData, Timestamp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::messages::MessageDto;
use super::participants::ParticipantDto;
use super::reactions::ReactionEventDto;
use super::reads::ReadReceiptDto;
use super::talks::TalkDto;
use super::timestamp;

/// The type of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A talk was created (`data`: Talk).
    TalkCreated,
    /// A talk's name or detail changed (`data`: Talk).
    TalkUpdated,
    /// A talk was closed (`data`: Talk).
    TalkClosed,
    /// A talk was reopened (`data`: Talk).
    TalkReopened,
    /// A participant record began (`data`: Participant).
    ParticipantJoined,
    /// A participant record ended (`data`: Participant).
    ParticipantLeft,
    /// A message was sent, system messages too (`data`: Message).
    MessageCreated,
    /// A message was edited (`data`: Message).
    MessageUpdated,
    /// A message was deleted (`data`: the tombstone).
    MessageDeleted,
    /// A reaction was added (`data`: `{message_id, emoji, agent_id}`).
    ReactionAdded,
    /// A reaction was removed (`data`: `{message_id, emoji, agent_id}`).
    ReactionRemoved,
    /// A read marker moved by `read` or `unread` (`data`: ReadState without the counts).
    TalkRead,
}

/// The `data` of an event: the resource as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventPayload {
    /// For `talk_*` events.
    Talk(TalkDto),
    /// For `participant_*` events.
    Participant(ParticipantDto),
    /// For `message_*` events.
    Message(MessageDto),
    /// For `reaction_*` events.
    Reaction(ReactionEventDto),
    /// For `talk_read`.
    Read(ReadReceiptDto),
}

/// An event, as a WebSocket server frame and as an entry of `GET /v1.0/events`:
/// `{"type", "seq", "talk_id", "tm_create", "data"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EventFrame {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The event's number: store-wide, strictly increasing.
    pub seq: u64,
    /// The talk it belongs to.
    pub talk_id: Uuid,
    /// When it happened (informational: order is `seq`).
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_create: Timestamp,
    /// The resource as it was then.
    pub data: EventPayload,
}

impl From<&Event> for EventFrame {
    fn from(event: &Event) -> Self {
        let (kind, data) = match &event.data {
            EventData::TalkCreated(t) => (EventType::TalkCreated, EventPayload::Talk(t.into())),
            EventData::TalkUpdated(t) => (EventType::TalkUpdated, EventPayload::Talk(t.into())),
            EventData::TalkClosed(t) => (EventType::TalkClosed, EventPayload::Talk(t.into())),
            EventData::TalkReopened(t) => (EventType::TalkReopened, EventPayload::Talk(t.into())),
            EventData::ParticipantJoined(p) => (EventType::ParticipantJoined, EventPayload::Participant(p.into())),
            EventData::ParticipantLeft(p) => (EventType::ParticipantLeft, EventPayload::Participant(p.into())),
            EventData::MessageCreated(m) => (EventType::MessageCreated, EventPayload::Message(m.into())),
            EventData::MessageUpdated(m) => (EventType::MessageUpdated, EventPayload::Message(m.into())),
            EventData::MessageDeleted(m) => (EventType::MessageDeleted, EventPayload::Message(m.into())),
            EventData::ReactionAdded(r) => (EventType::ReactionAdded, EventPayload::Reaction(r.into())),
            EventData::ReactionRemoved(r) => (EventType::ReactionRemoved, EventPayload::Reaction(r.into())),
            EventData::TalkRead(r) => (EventType::TalkRead, EventPayload::Read(r.into())),
        };
        Self { kind, seq: event.seq, talk_id: event.talk_id.as_uuid(), tm_create: event.tm_create, data }
    }
}

/// A page of the caller's events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EventList {
    /// The events, as the WebSocket sends them.
    pub result: Vec<EventFrame>,
    /// The `seq` (decimal) to pass as `since` for the next page: the last
    /// event's, or the `since` asked for when there was none.
    pub next_page_token: String,
}
