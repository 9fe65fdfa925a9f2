//! The WebSocket's own frames: what a client sends, and the server's
//! control frames besides events.

use serde::{Deserialize, Serialize};
use talk_core::Scope;
use utoipa::ToSchema;

#[cfg(doc)]
use super::EventFrame;

/// A frame a client sends on `/v1.0/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Follows one talk (`talk_id`) or every talk of the agent (`"*"`),
    /// replaying the events after `since` first.
    Subscribe {
        /// A talk id, or `"*"`.
        #[serde(with = "scope")]
        #[schema(value_type = String)]
        talk_id: Scope,
        /// The last `seq` the client saw.
        #[serde(default)]
        since: Option<u64>,
    },
    /// Ends a subscription of this connection.
    Unsubscribe {
        /// A talk id, or `"*"`.
        #[serde(with = "scope")]
        #[schema(value_type = String)]
        talk_id: Scope,
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
        #[serde(with = "scope")]
        #[schema(value_type = String)]
        talk_id: Scope,
        /// The position live delivery goes on after.
        seq: u64,
    },
    /// A subscription ended.
    Unsubscribed {
        /// The talk id, or `"*"`.
        #[serde(with = "scope")]
        #[schema(value_type = String)]
        talk_id: Scope,
        /// `request` or `left`.
        reason: UnsubscribeReason,
    },
    /// `since` was older than the events the store keeps: events after `seq` follow; reload over HTTP.
    ResyncRequired {
        /// The talk id, or `"*"`.
        #[serde(with = "scope")]
        #[schema(value_type = String)]
        talk_id: Scope,
        /// The position live delivery goes on after.
        seq: u64,
    },
    /// A client frame the server could not use; the socket stays open.
    Error {
        /// `invalid_json`, `invalid_request`, `not_found`, `not_participant`,
        /// `already_subscribed`, `limit_exceeded`, `rate_limited`.
        code: String,
        /// What went wrong.
        message: String,
    },
}

/// A subscription's `talk_id` on the wire: a talk id, or `"*"` for every
/// talk of the agent.
mod scope {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use talk_core::{Scope, TalkId};

    /// The wire form of every talk.
    const ALL: &str = "*";

    pub(super) fn serialize<S: Serializer>(scope: &Scope, serializer: S) -> Result<S::Ok, S::Error> {
        match scope {
            Scope::All => serializer.serialize_str(ALL),
            Scope::Talk(talk) => serializer.collect_str(talk),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Scope, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == ALL {
            return Ok(Scope::All);
        }
        // Named here: serde loses the field's path inside a tagged enum.
        let refuse = |error| D::Error::custom(format!("talk_id: {error}, nor \"{ALL}\""));
        text.parse::<TalkId>().map(Scope::Talk).map_err(refuse)
    }
}
