//! Reactions: the per-emoji summary of a message, the reactors list, the
//! `data` of reaction events, and the body of an addition.

use serde::{Deserialize, Serialize};
use talk_core::{Reaction, ReactionChange, ReactionSummary, Timestamp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::timestamp;

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

list!(
    /// A page of the agents that reacted with one emoji, in the order they did.
    ReactorList, ReactorDto
);

/// `POST /v1.0/messages/{id}/reactions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReactionRequest {
    /// A Unicode emoji (`"👍"`) or a shortcode (`"thumbsup"`, `":thumbsup:"`, `"+1"`).
    pub emoji: String,
}
