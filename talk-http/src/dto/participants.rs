//! Participant records: the resource, its list, and the body of an addition.

use serde::{Deserialize, Serialize};
use talk_core::{AgentId, LeftReason, Participant, ParticipantStatus, Timestamp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{optional_timestamp, timestamp};

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

list!(
    /// A page of participant records, in the order they joined.
    ParticipantList, ParticipantDto
);

/// `POST /v1.0/talks/{id}/participants`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddParticipantRequest {
    /// The agent to add.
    #[schema(value_type = String)]
    pub agent_id: AgentId,
}
