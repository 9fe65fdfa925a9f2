//! The wire format: the JSON the API reads and writes, kept apart from
//! talk-core's domain types. Internal fields (versions, `seq` of rows,
//! request digests, direct pairs, membership spans) never appear here.
//!
//! Conventions:
//! - Timestamps are RFC 3339 UTC with exactly six fractional digits and `Z`
//!   (`2026-11-23T10:30:00.123456Z`); one that has not happened is `null`.
//! - Every field is always present: an absent value is `null`, never a
//!   missing key. So a normal message carries `"system": null`.
//! - Request bodies refuse unknown fields (`400 invalid_request`); an
//!   optional field may be given as `null`, which means absent.

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize, Serializer};
use talk_core::{
    AgentId, Event, EventData, LeftReason, Media, Message, MessageKind, Participant, ParticipantStatus, Reaction,
    ReactionChange, ReactionSummary, SystemEvent, SystemInfo, Talk, TalkKind, TalkStatus, Timestamp,
};
use utoipa::ToSchema;
use uuid::Uuid;

// ------------------------------------------------------------- timestamps

/// Writes a timestamp as RFC 3339 UTC with microseconds and `Z`.
fn timestamp<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Writes an optional timestamp, `null` when absent.
fn optional_timestamp<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => timestamp(t, s),
        None => s.serialize_none(),
    }
}

// ------------------------------------------------------------------ talks

/// `direct` (two agents, private; one per pair) or `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkType {
    /// Two agents.
    Direct,
    /// Any number of agents.
    Group,
}

impl From<TalkKind> for TalkType {
    fn from(kind: TalkKind) -> Self {
        match kind {
            TalkKind::Direct => Self::Direct,
            TalkKind::Group => Self::Group,
        }
    }
}

impl From<TalkType> for TalkKind {
    fn from(kind: TalkType) -> Self {
        match kind {
            TalkType::Direct => Self::Direct,
            TalkType::Group => Self::Group,
        }
    }
}

/// `active` or `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkState {
    /// Open for messages and changes.
    Active,
    /// Readable, refuses changes.
    Closed,
}

impl From<TalkStatus> for TalkState {
    fn from(status: TalkStatus) -> Self {
        match status {
            TalkStatus::Active => Self::Active,
            TalkStatus::Closed => Self::Closed,
        }
    }
}

/// A talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TalkDto {
    /// Its id.
    pub id: Uuid,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub kind: TalkType,
    /// Its name (`""` allowed for a direct talk).
    pub name: String,
    /// Free text about the talk.
    pub detail: String,
    /// `active` or `closed`.
    pub status: TalkState,
    /// The agent that created it.
    pub creator_id: String,
    /// Number of active participants.
    pub member_count: u32,
    /// When it was created.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_create: Timestamp,
    /// When its name, detail, status or membership last changed.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_update: Timestamp,
    /// When it was last closed; `null` while active.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tm_close: Option<Timestamp>,
}

impl From<&Talk> for TalkDto {
    fn from(talk: &Talk) -> Self {
        Self {
            id: talk.id.as_uuid(),
            kind: talk.kind.into(),
            name: talk.name.clone(),
            detail: talk.detail.clone(),
            status: talk.status.into(),
            creator_id: talk.creator_id.as_str().to_owned(),
            member_count: talk.member_count,
            tm_create: talk.tm_create,
            tm_update: talk.tm_update,
            tm_close: talk.tm_close,
        }
    }
}

// ----------------------------------------------------------- participants

/// `active` or `left`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantState {
    /// The agent is in the talk through this record.
    Active,
    /// The record ended; it stays as history.
    Left,
}

/// How a participant record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeftReasonDto {
    /// The agent left.
    Left,
    /// Another participant removed it.
    Removed,
}

/// A participant record: one membership span of an agent in a talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ParticipantDto {
    /// Its id.
    pub id: Uuid,
    /// The talk.
    pub talk_id: Uuid,
    /// The agent.
    pub agent_id: String,
    /// `active` or `left`.
    pub status: ParticipantState,
    /// `null`, `left` or `removed`.
    pub left_reason: Option<LeftReasonDto>,
    /// When it joined.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_joined: Timestamp,
    /// When it left; `null` while active.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tm_left: Option<Timestamp>,
}

impl From<&Participant> for ParticipantDto {
    fn from(p: &Participant) -> Self {
        Self {
            id: p.id.as_uuid(),
            talk_id: p.talk_id.as_uuid(),
            agent_id: p.agent_id.as_str().to_owned(),
            status: match p.status {
                ParticipantStatus::Active => ParticipantState::Active,
                ParticipantStatus::Left => ParticipantState::Left,
            },
            left_reason: p.left_reason.map(|reason| match reason {
                LeftReason::Left => LeftReasonDto::Left,
                LeftReason::Removed => LeftReasonDto::Removed,
            }),
            tm_joined: p.tm_joined,
            tm_left: p.tm_left,
        }
    }
}

// --------------------------------------------------------------- messages

/// `normal` (sent by an agent) or `system` (made by the library).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// Sent by an agent.
    Normal,
    /// Made by the library to record a change of the talk.
    System,
}

/// A file or link attached to a message. Its URL is never fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaDto {
    /// A MIME type, `type/subtype`.
    #[serde(rename = "type")]
    pub media_type: String,
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// A file name, without `/` or `\`.
    pub name: String,
}

impl From<&Media> for MediaDto {
    fn from(m: &Media) -> Self {
        Self { media_type: m.media_type.clone(), url: m.url.clone(), name: m.name.clone() }
    }
}

impl From<MediaDto> for Media {
    fn from(m: MediaDto) -> Self {
        Self { media_type: m.media_type, url: m.url, name: m.name }
    }
}

/// The reactions of one emoji on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReactionSummaryDto {
    /// The emoji, in canonical (fully qualified) form.
    pub emoji: String,
    /// How many agents reacted with it (exact).
    pub count: u32,
    /// The agents that reacted, in the order they did, at most the first 100.
    pub agent_ids: Vec<String>,
}

impl From<&ReactionSummary> for ReactionSummaryDto {
    fn from(r: &ReactionSummary) -> Self {
        Self {
            emoji: r.emoji.as_str().to_owned(),
            count: r.count,
            agent_ids: r.agent_ids.iter().map(|a| a.as_str().to_owned()).collect(),
        }
    }
}

/// What a system message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemEventDto {
    /// An agent was added.
    ParticipantJoined,
    /// An agent left.
    ParticipantLeft,
    /// An agent was removed by another.
    ParticipantRemoved,
    /// The talk was closed.
    TalkClosed,
    /// The talk was reopened.
    TalkReopened,
    /// The talk was renamed.
    TalkRenamed,
}

impl From<SystemEvent> for SystemEventDto {
    fn from(e: SystemEvent) -> Self {
        match e {
            SystemEvent::ParticipantJoined => Self::ParticipantJoined,
            SystemEvent::ParticipantLeft => Self::ParticipantLeft,
            SystemEvent::ParticipantRemoved => Self::ParticipantRemoved,
            SystemEvent::TalkClosed => Self::TalkClosed,
            SystemEvent::TalkReopened => Self::TalkReopened,
            SystemEvent::TalkRenamed => Self::TalkRenamed,
        }
    }
}

/// The structured part of a system message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SystemDto {
    /// What happened.
    pub event: SystemEventDto,
    /// Whom it is about; for the talk events, who did it.
    pub agent_id: String,
    /// Who did it; `null` for the automatic close when the last participant leaves.
    pub actor_id: Option<String>,
    /// The new name, for `talk_renamed`; else `null`.
    pub name: Option<String>,
}

impl From<&SystemInfo> for SystemDto {
    fn from(s: &SystemInfo) -> Self {
        Self {
            event: s.event.into(),
            agent_id: s.agent_id.as_str().to_owned(),
            actor_id: s.actor_id.as_ref().map(|a| a.as_str().to_owned()),
            name: s.name.clone(),
        }
    }
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageDto {
    /// Its id.
    pub id: Uuid,
    /// Its talk.
    pub talk_id: Uuid,
    /// The top-level message it replies to; `null` for a top-level message.
    pub parent_id: Option<Uuid>,
    /// `normal` or `system`.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The author; `null` for a system message.
    pub agent_id: Option<String>,
    /// Its text (`""` once deleted).
    pub text: String,
    /// Its medias (`[]` once deleted).
    pub medias: Vec<MediaDto>,
    /// One entry per emoji, in the order the emoji was first used.
    pub reactions: Vec<ReactionSummaryDto>,
    /// Number of replies to it.
    pub reply_count: u32,
    /// When it was sent.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_create: Timestamp,
    /// When it was last edited, deleted or reacted to.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_update: Timestamp,
    /// When it was last edited; `null` if never.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tm_edit: Option<Timestamp>,
    /// When it was deleted; `null` if it is not.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tm_delete: Option<Timestamp>,
    /// For a system message, what it records; `null` for a normal message.
    pub system: Option<SystemDto>,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.as_uuid(),
            talk_id: m.talk_id.as_uuid(),
            parent_id: m.parent_id.map(|p| p.as_uuid()),
            kind: match m.kind {
                MessageKind::Normal => MessageType::Normal,
                MessageKind::System => MessageType::System,
            },
            agent_id: m.agent_id.as_ref().map(|a| a.as_str().to_owned()),
            text: m.text.clone(),
            medias: m.medias.iter().map(MediaDto::from).collect(),
            reactions: m.reactions.iter().map(ReactionSummaryDto::from).collect(),
            reply_count: m.reply_count,
            tm_create: m.tm_create,
            tm_update: m.tm_update,
            tm_edit: m.tm_edit,
            tm_delete: m.tm_delete,
            system: m.system.as_ref().map(SystemDto::from),
        }
    }
}

// -------------------------------------------------------------- reactions

/// One agent's reaction with one emoji: an entry of the reactors list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReactorDto {
    /// The agent.
    pub agent_id: String,
    /// When it reacted.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub tm_create: Timestamp,
}

impl From<&Reaction> for ReactorDto {
    fn from(r: &Reaction) -> Self {
        Self { agent_id: r.agent_id.as_str().to_owned(), tm_create: r.tm_create }
    }
}

/// The `data` of `reaction_added` and `reaction_removed` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReactionEventDto {
    /// The message.
    pub message_id: Uuid,
    /// The emoji, in canonical form.
    pub emoji: String,
    /// The agent that reacted or took its reaction back.
    pub agent_id: String,
}

impl From<&ReactionChange> for ReactionEventDto {
    fn from(r: &ReactionChange) -> Self {
        Self {
            message_id: r.message_id.as_uuid(),
            emoji: r.emoji.as_str().to_owned(),
            agent_id: r.agent_id.as_str().to_owned(),
        }
    }
}

// ----------------------------------------------------------------- events

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
        };
        Self { kind, seq: event.seq, talk_id: event.talk_id.as_uuid(), tm_create: event.tm_create, data }
    }
}

// ------------------------------------------------------------------ lists

macro_rules! list {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
        pub struct $name {
            /// The items of this page.
            pub result: Vec<$item>,
            /// Continues the list (pass it as `page_token`); `""` when there is nothing more.
            pub next_page_token: String,
        }
    };
}

list!(
    /// A page of talks, newest first.
    TalkList, TalkDto
);
list!(
    /// A page of participant records, in the order they joined.
    ParticipantList, ParticipantDto
);
list!(
    /// A page of messages: the main view newest first, a thread oldest first.
    MessageList, MessageDto
);
list!(
    /// A page of the agents that reacted with one emoji, in the order they did.
    ReactorList, ReactorDto
);

/// A page of the caller's events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EventList {
    /// The events, as the WebSocket sends them.
    pub result: Vec<EventFrame>,
    /// The `seq` (decimal) to pass as `since` for the next page: the last
    /// event's, or the `since` asked for when there was none.
    pub next_page_token: String,
}

// --------------------------------------------------------------- requests

/// `POST /v1.0/talks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTalkRequest {
    /// 1–200 characters for a `group` talk; optional (default `""`) for a `direct` one.
    #[serde(default)]
    pub name: Option<String>,
    /// 0–2000 characters (default `""`).
    #[serde(default)]
    pub detail: Option<String>,
    /// `group` (the default) or `direct`.
    #[serde(default, rename = "type")]
    pub kind: Option<TalkType>,
    /// The other agents (the caller joins anyway; duplicates are merged). A
    /// `direct` talk names exactly one other agent.
    #[schema(value_type = Vec<String>)]
    pub participant_ids: Vec<AgentId>,
}

impl From<CreateTalkRequest> for talk_core::NewTalk {
    fn from(r: CreateTalkRequest) -> Self {
        Self {
            kind: r.kind.unwrap_or(TalkType::Group).into(),
            name: r.name,
            detail: r.detail,
            participant_ids: r.participant_ids,
        }
    }
}

/// `PATCH /v1.0/talks/{id}`: at least one of the fields.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTalkRequest {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new detail.
    #[serde(default)]
    pub detail: Option<String>,
}

impl From<UpdateTalkRequest> for talk_core::TalkChanges {
    fn from(r: UpdateTalkRequest) -> Self {
        Self { name: r.name, detail: r.detail }
    }
}

/// `POST /v1.0/talks/{id}/participants`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddParticipantRequest {
    /// The agent to add.
    #[schema(value_type = String)]
    pub agent_id: AgentId,
}

/// `POST /v1.0/talks/{id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// 0–4000 characters; empty only with medias.
    pub text: String,
    /// A top-level message of the same talk to reply to.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// At most 10 attachments.
    #[serde(default)]
    pub medias: Option<Vec<MediaDto>>,
    /// A client-chosen id that makes the send safe to retry.
    #[serde(default)]
    pub id: Option<Uuid>,
}

impl From<SendMessageRequest> for talk_core::NewMessage {
    fn from(r: SendMessageRequest) -> Self {
        Self {
            text: r.text,
            parent_id: r.parent_id.map(talk_core::MessageId::from_uuid),
            medias: r.medias.unwrap_or_default().into_iter().map(Media::from).collect(),
            id: r.id.map(talk_core::MessageId::from_uuid),
        }
    }
}

/// `PATCH /v1.0/messages/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The new text.
    pub text: String,
}

/// `POST /v1.0/messages/{id}/reactions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReactionRequest {
    /// A Unicode emoji (`"👍"`) or a shortcode (`"thumbsup"`, `":thumbsup:"`, `"+1"`).
    pub emoji: String,
}

// -------------------------------------------------------------- websocket

/// A frame a client sends on `/v1.0/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Follows one talk (`talk_id`) or every talk of the agent (`"*"`),
    /// replaying the events after `since` first.
    Subscribe {
        /// A talk id, or `"*"`.
        talk_id: String,
        /// The last `seq` the client saw.
        #[serde(default)]
        since: Option<u64>,
    },
    /// Ends a subscription of this connection.
    Unsubscribe {
        /// A talk id, or `"*"`.
        talk_id: String,
    },
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnsubscribeReason {
    /// The client asked.
    Request,
    /// The agent's own `participant_left` was delivered (single-talk subscriptions only).
    Left,
}

/// A frame the server sends on `/v1.0/ws` besides events ([`EventFrame`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlFrame {
    /// The replay (if any) is done: live events after `seq` follow.
    Subscribed {
        /// The talk id, or `"*"`.
        talk_id: String,
        /// The position live delivery goes on after.
        seq: u64,
    },
    /// A subscription ended.
    Unsubscribed {
        /// The talk id, or `"*"`.
        talk_id: String,
        /// `request` or `left`.
        reason: UnsubscribeReason,
    },
    /// `since` was older than the events the store keeps: events after `seq` follow; reload over HTTP.
    ResyncRequired {
        /// The talk id, or `"*"`.
        talk_id: String,
        /// The position live delivery goes on after.
        seq: u64,
    },
    /// A client frame the server could not use; the socket stays open.
    Error {
        /// `invalid_json`, `invalid_request`, `not_found`, `not_participant`, `already_subscribed`.
        code: String,
        /// What went wrong.
        message: String,
    },
}

// ------------------------------------------------------------------ misc

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The stable code (`talk_closed`, `not_found`, …).
    pub code: String,
    /// What went wrong, naming the field or resource.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn timestamps_have_six_fractional_digits_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 10, 30, 0).single().expect("a valid time");
        let value = serde_json::to_value(ReactorDto { agent_id: "a".into(), tm_create: t }).expect("serialises");
        assert_eq!(value["tm_create"], "2026-11-23T10:30:00.000000Z");
    }
}
