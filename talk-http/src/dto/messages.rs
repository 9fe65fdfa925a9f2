//! Messages: the resource (medias and system info included), its list, and
//! the bodies of send and edit.

use serde::{Deserialize, Serialize};
use talk_core::{Media, Message, MessageKind, SystemEvent, SystemInfo, Timestamp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::reactions::ReactionSummaryDto;
use super::{optional_timestamp, timestamp};

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
    /// The agents it mentions (`[]` for none, and once deleted).
    pub mentions: Vec<String>,
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
            mentions: m.mentions.iter().map(|a| a.as_str().to_owned()).collect(),
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

list!(
    /// A page of messages: the main view newest first, a thread oldest first.
    MessageList, MessageDto
);

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
    /// Agents it mentions: at most 50 (duplicates merged), each known to
    /// the agent directory (`400 unknown_agent`).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub mentions: Option<Vec<talk_core::AgentId>>,
    /// A client-chosen id that makes the send safe to retry (the same text,
    /// parent, medias and mentions as a set make the same request).
    #[serde(default)]
    pub id: Option<Uuid>,
}

impl From<SendMessageRequest> for talk_core::NewMessage {
    fn from(r: SendMessageRequest) -> Self {
        Self {
            text: r.text,
            parent_id: r.parent_id.map(talk_core::MessageId::from_uuid),
            medias: r.medias.unwrap_or_default().into_iter().map(Media::from).collect(),
            mentions: r.mentions.unwrap_or_default(),
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
    /// The new mentions (as on send); absent or `null` keeps them.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub mentions: Option<Vec<talk_core::AgentId>>,
}

impl From<EditMessageRequest> for talk_core::MessageEdit {
    fn from(r: EditMessageRequest) -> Self {
        Self { text: r.text, mentions: r.mentions }
    }
}
