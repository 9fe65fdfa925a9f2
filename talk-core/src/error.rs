//! Errors: the domain [`Error`] every Hub command answers with, and the
//! [`StoreError`] a store reports.

use std::error::Error as StdError;
use std::fmt;

/// What a store reports. Stores keep their own private error types and
/// convert them to this one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A guard of the change set did not hold, or a write collided with a
    /// unique key. Nothing of the change set was applied; the Hub reads again
    /// and decides anew.
    #[error("change set conflicts with the stored state: {0}")]
    Conflict(Conflict),
    /// The store cannot take the write now (overloaded, shutting down); the
    /// caller may retry later. Nothing was applied.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store's backend failed. Nothing was applied, unless the store says
    /// otherwise in its docs.
    #[error("store backend failed")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
    /// The store cannot tell whether [`Store::apply`](crate::store::Store::apply)
    /// committed: the connection was lost after `COMMIT` was sent, or an I/O
    /// error struck during the commit itself, which recovery may replay. The
    /// change set is in the store whole or not at all; the Hub reads again
    /// (by the change set's ids) to learn which.
    #[error("store could not tell whether the change set committed")]
    OutcomeUnknown(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error, keeping its source chain.
    pub fn backend(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Backend(error.into())
    }

    /// A commit whose outcome is unknown, keeping the source chain.
    pub fn outcome_unknown(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::OutcomeUnknown(error.into())
    }
}

/// Which guard or unique key failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conflict {
    /// A talk's state version moved (or the talk is missing).
    TalkVersion,
    /// A participant record is no longer active (or is missing).
    ParticipantNotActive,
    /// A message's version moved (or the message is missing).
    MessageVersion,
    /// A participant record's read marker moved (or the record is missing).
    MarkerMoved,
    /// A direct talk for this pair of agents exists already.
    DirectPairTaken,
    /// The agent already has an active participant record in the talk.
    ActiveParticipantExists,
    /// A message with this id exists already.
    MessageIdTaken,
    /// This agent already reacted to the message with this emoji.
    ReactionExists,
    /// An update or delete named a row that does not exist, or an insert
    /// reused the id of a talk, participant or reaction row that exists.
    RowMismatch,
    /// Another owner's lease on a durable consumer lives (or the consumer
    /// is gone): a store's own signal, answered as `None` or `false` by
    /// [`Store::claim_consumer`](crate::Store::claim_consumer) and
    /// [`Store::ack_consumer`](crate::Store::ack_consumer).
    LeaseHeld,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Self::TalkVersion => "the talk's version moved",
            Self::ParticipantNotActive => "the participant record is no longer active",
            Self::MessageVersion => "the message's version moved",
            Self::MarkerMoved => "the read marker moved",
            Self::DirectPairTaken => "a direct talk for this pair exists",
            Self::ActiveParticipantExists => "the agent already has an active record in this talk",
            Self::MessageIdTaken => "the message id is taken",
            Self::ReactionExists => "the reaction exists",
            Self::RowMismatch => "a written row is missing or already exists",
            Self::LeaseHeld => "another owner holds the consumer's lease",
        };
        f.write_str(what)
    }
}

/// The kind of an [`Error`]: what a caller, or an adapter mapping errors to
/// a protocol, needs to decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is malformed or refers to something it may not (HTTP 400).
    InvalidInput,
    /// The caller is not allowed (HTTP 403).
    Forbidden,
    /// The resource does not exist for this caller (HTTP 404).
    NotFound,
    /// The resource's state refuses the command (HTTP 409).
    Conflict,
    /// Events the caller asked for are no longer kept (HTTP 410).
    Gone,
    /// Try again later (HTTP 503).
    Unavailable,
    /// A bug or a backend failure (HTTP 500).
    Internal,
}

/// The error of a [`Hub`](crate::Hub) command. Each variant has a stable
/// [`code`](Error::code), the `error.code` of the HTTP API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field or parameter is missing, unknown, too long or of the wrong form.
    #[error("{0}")]
    InvalidRequest(String),
    /// The emoji is neither a Unicode emoji nor a known shortcode.
    #[error("{0}")]
    InvalidEmoji(String),
    /// `parent_id` does not name a top-level message of the same talk.
    #[error("{0}")]
    InvalidParent(String),
    /// The agent directory does not know this agent.
    #[error("agent {0} is not known")]
    UnknownAgent(crate::AgentId),
    /// The resource does not exist, or the caller has never been a
    /// participant of its talk.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller was in this talk but is not an active participant now.
    #[error("agent is not an active participant of this talk")]
    NotParticipant,
    /// Only the author may do this.
    #[error("only the author of the message may do this")]
    NotAuthor,
    /// The embedder's [`Policy`](crate::policy::Policy) refused the command,
    /// for this reason.
    #[error("{0}")]
    Forbidden(String),
    /// The talk is closed.
    #[error("talk {0} is closed")]
    TalkClosed(crate::TalkId),
    /// The message is deleted.
    #[error("message {0} is deleted")]
    MessageDeleted(crate::MessageId),
    /// The agent already has an active participant record in this talk.
    #[error("agent {0} is already a participant of this talk")]
    AlreadyParticipant(crate::AgentId),
    /// A direct talk takes back only its own pair of agents.
    #[error("a direct talk only has its own two agents")]
    DirectTalkFull,
    /// A count limit would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The client-chosen message id is taken by another request.
    #[error("message id is already in use")]
    IdConflict,
    /// The caller asked for events older than the store keeps.
    #[error("events after seq {since} are no longer kept; resync from the current state")]
    ResyncRequired {
        /// The `since` asked for.
        since: u64,
    },
    /// The store is overloaded or a write kept conflicting.
    #[error("service unavailable, retry later: {0}")]
    Unavailable(String),
    /// A backend failure or a broken invariant. Its message is not for end users.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl Error {
    /// A `invalid_request` error with a message that names the field.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    /// An `internal` error for a broken invariant.
    pub(crate) fn invariant(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }

    /// The stable code of the error, as in the HTTP API's `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidEmoji(_) => "invalid_emoji",
            Self::InvalidParent(_) => "invalid_parent",
            Self::UnknownAgent(_) => "unknown_agent",
            Self::NotFound(_) => "not_found",
            Self::NotParticipant => "not_participant",
            Self::NotAuthor => "not_author",
            Self::Forbidden(_) => "forbidden",
            Self::TalkClosed(_) => "talk_closed",
            Self::MessageDeleted(_) => "message_deleted",
            Self::AlreadyParticipant(_) => "already_participant",
            Self::DirectTalkFull => "direct_talk_full",
            Self::LimitExceeded(_) => "limit_exceeded",
            Self::IdConflict => "id_conflict",
            Self::ResyncRequired { .. } => "resync_required",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidRequest(_) | Self::InvalidEmoji(_) | Self::InvalidParent(_) | Self::UnknownAgent(_) => {
                ErrorKind::InvalidInput
            }
            Self::NotParticipant | Self::NotAuthor | Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::TalkClosed(_)
            | Self::MessageDeleted(_)
            | Self::AlreadyParticipant(_)
            | Self::DirectTalkFull
            | Self::LimitExceeded(_)
            | Self::IdConflict => ErrorKind::Conflict,
            Self::ResyncRequired { .. } => ErrorKind::Gone,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(why) => Self::Unavailable(why),
            StoreError::OutcomeUnknown(_) => {
                Self::Unavailable("the store could not tell whether the change was made; read it again or retry".into())
            }
            StoreError::Conflict(conflict) => Self::Unavailable(format!("write kept conflicting: {conflict}")),
            other => Self::Internal(Box::new(other)),
        }
    }
}

/// The result of a Hub command.
pub type Result<T, E = Error> = std::result::Result<T, E>;
