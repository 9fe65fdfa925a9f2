//! Talks: the Talk resource, its list, and the bodies of create and update.

use serde::{Deserialize, Serialize};
use talk_core::{AgentId, Talk, TalkKind, TalkStatus, Timestamp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{optional_timestamp, timestamp};

/// `direct` (two agents, private; one per pair), `group`, or `public` (a
/// group talk listed in the directory, that any agent may join).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkType {
    /// Two agents.
    Direct,
    /// Any number of agents.
    Group,
    /// Any number of agents; listed for every agent, joined without an invitation.
    Public,
}

impl From<TalkKind> for TalkType {
    fn from(kind: TalkKind) -> Self {
        match kind {
            TalkKind::Direct => Self::Direct,
            TalkKind::Group => Self::Group,
            TalkKind::Public => Self::Public,
        }
    }
}

impl From<TalkType> for TalkKind {
    fn from(kind: TalkType) -> Self {
        match kind {
            TalkType::Direct => Self::Direct,
            TalkType::Group => Self::Group,
            TalkType::Public => Self::Public,
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
    /// `direct`, `group` or `public`; never changes.
    #[serde(rename = "type")]
    pub kind: TalkType,
    /// Its name (`""` allowed for a direct talk only).
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

/// A talk with the caller's counts in it: the items of `GET /v1.0/talks`
/// and the answer of `GET /v1.0/talks/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TalkWithCountsDto {
    /// The talk.
    #[serde(flatten)]
    pub talk: TalkDto,
    /// Normal messages above the caller's read marker, not deleted, written
    /// by other agents; `null` when the caller has no active record.
    pub unread_count: Option<u64>,
    /// Of those, the ones that mention the caller; `null` when the caller
    /// has no active record.
    pub mention_count: Option<u64>,
}

impl From<&talk_core::WithCounts<Talk>> for TalkWithCountsDto {
    fn from(t: &talk_core::WithCounts<Talk>) -> Self {
        Self {
            talk: TalkDto::from(&t.resource),
            unread_count: t.counts.map(|c| c.unread_count),
            mention_count: t.counts.map(|c| c.mention_count),
        }
    }
}

list!(
    /// A page of talks, newest first, with the caller's counts.
    TalkList, TalkWithCountsDto
);

list!(
    /// A page of the public talk directory, newest first: Talk objects
    /// without counts.
    PublicTalkList, TalkDto
);

/// `POST /v1.0/talks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTalkRequest {
    /// 1–200 characters for a `group` or `public` talk; optional (default `""`) for a `direct` one.
    #[serde(default)]
    pub name: Option<String>,
    /// 0–2000 characters (default `""`).
    #[serde(default)]
    pub detail: Option<String>,
    /// `group` (the default), `direct` or `public`.
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
