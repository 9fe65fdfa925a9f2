//! Presence: an agent online or offline, and a talk's list of them.

use serde::Serialize;
use talk_core::{Presence, PresenceStatus, Timestamp};
use utoipa::ToSchema;

use super::optional_timestamp;

/// `online` or `offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// At least one WebSocket open on some server node.
    Online,
    /// None (a reconnect within 5 seconds is not an offline).
    Offline,
}

/// An agent's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PresenceDto {
    /// The agent.
    pub agent_id: String,
    /// `online` or `offline`.
    pub status: PresenceState,
    /// When its last WebSocket closed; `null` while online or if never connected.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub tm_last_seen: Option<Timestamp>,
}

impl From<&Presence> for PresenceDto {
    fn from(p: &Presence) -> Self {
        Self {
            agent_id: p.agent_id.as_str().to_owned(),
            status: match p.status {
                PresenceStatus::Online => PresenceState::Online,
                PresenceStatus::Offline => PresenceState::Offline,
            },
            tm_last_seen: p.tm_last_seen,
        }
    }
}

list!(
    /// `GET /v1.0/talks/{id}/presence`: the presence of the talk's active participants, in join order.
    PresenceList,
    PresenceDto
);
