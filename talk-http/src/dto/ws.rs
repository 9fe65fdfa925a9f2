//! The WebSocket's own frames: what a client sends, and the server's
//! control frames besides events.

use serde::{Deserialize, Serialize};
use talk_core::{AgentId, MessageId, Scope, TalkId, Typing, TypingState};
use utoipa::ToSchema;

use super::PresenceDto;

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
    /// The agent types in a talk (in the thread of `parent_id`, if given).
    /// Needs a subscription covering the talk on this socket. Send it again
    /// every few seconds while typing goes on: typing stops 6 seconds after
    /// the last one.
    Typing {
        /// The talk.
        #[schema(value_type = String, format = Uuid)]
        talk_id: TalkId,
        /// The thread, or `null`.
        #[serde(default)]
        #[schema(value_type = Option<String>, format = Uuid)]
        parent_id: Option<MessageId>,
    },
    /// The agent stopped typing there.
    TypingStop {
        /// The talk.
        #[schema(value_type = String, format = Uuid)]
        talk_id: TalkId,
        /// The thread, or `null`.
        #[serde(default)]
        #[schema(value_type = Option<String>, format = Uuid)]
        parent_id: Option<MessageId>,
    },
    /// Follows the presence of these agents (at most 200), instead of those
    /// followed before; agents that share no active talk with the caller are
    /// dropped silently. `presence` frames follow: each one's now, then
    /// each change.
    PresenceSubscribe {
        /// The agents.
        #[schema(value_type = Vec<String>)]
        agent_ids: Vec<AgentId>,
    },
}

/// `started` or `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypingStateDto {
    /// It began typing.
    Started,
    /// It stopped: it sent, stopped, left, closed its last socket, the talk
    /// closed, or 6 seconds passed without a renewal.
    Stopped,
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
    /// Another agent started or stopped typing in a talk this socket is
    /// subscribed to. Ephemeral: no `seq`, never replayed.
    Typing {
        /// The talk.
        #[schema(value_type = String, format = Uuid)]
        talk_id: TalkId,
        /// The thread, or `null`.
        #[schema(value_type = Option<String>, format = Uuid)]
        parent_id: Option<MessageId>,
        /// The typist.
        agent_id: String,
        /// `started` or `stopped`.
        state: TypingStateDto,
    },
    /// An agent this socket follows (`presence_subscribe`) now, or as it
    /// changed: a `PresenceDto` with its `type`.
    Presence(PresenceDto),
    /// A client frame the server could not use; the socket stays open.
    Error {
        /// `invalid_json`, `invalid_request`, `not_found`, `not_participant`,
        /// `talk_closed`, `already_subscribed`, `limit_exceeded`, `rate_limited`.
        code: String,
        /// What went wrong.
        message: String,
    },
}

impl From<&Typing> for ControlFrame {
    fn from(typing: &Typing) -> Self {
        Self::Typing {
            talk_id: typing.talk_id,
            parent_id: typing.parent_id,
            agent_id: typing.agent_id.as_str().to_owned(),
            state: match typing.state {
                TypingState::Started => TypingStateDto::Started,
                TypingState::Stopped => TypingStateDto::Stopped,
            },
        }
    }
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
