//! The embedder's [`Policy`]: asked before every command is decided, it
//! allows the command, refuses it (HTTP `403 forbidden`), or rewrites the
//! text of a send or an edit (moderation).
//!
//! The Hub asks inside its retry loop, after reading and after the repeats
//! step (a repeat changes nothing, so it never reaches the policy) and
//! before authorship and the state checks: the policy always sees the state
//! the command is decided on, and a refusal writes nothing. A client-chosen
//! message id's digest is taken over the client's request, before any
//! rewrite, so a retry of the same request still answers the stored message.
//!
//! ```
//! use talk_core::policy::{Command, Policy, PolicyError, Request, Verdict};
//!
//! /// Nobody but the talk's creator renames or closes it.
//! struct CreatorDecides;
//!
//! impl Policy for CreatorDecides {
//!     fn check(&self, request: &Request<'_>) -> Result<Verdict, PolicyError> {
//!         let creator_only = matches!(request.command, Command::UpdateTalk(_) | Command::CloseTalk);
//!         let is_creator = request.talk.is_some_and(|talk| &talk.creator_id == request.actor);
//!         Ok(if creator_only && !is_creator {
//!             Verdict::Refuse("only the talk's creator may do this".into())
//!         } else {
//!             Verdict::Allow
//!         })
//!     }
//! }
//! ```

use crate::id::{AgentId, MessageId};
use crate::message::{Media, Message};
use crate::participant::Participant;
use crate::reaction::Emoji;
use crate::talk::{Talk, TalkChanges, TalkKind};

/// Decides whether a command may go on. It runs on the Hub's task for every
/// attempt of every command, so it must be quick and must not block: what
/// it needs from elsewhere it keeps in memory (and refreshes on its own).
pub trait Policy: Send + Sync + 'static {
    /// The verdict on `request`. An error fails the command with `internal`
    /// and writes nothing.
    fn check(&self, request: &Request<'_>) -> Result<Verdict, PolicyError>;
}

/// The default policy: every command goes on, as if there were none.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn check(&self, _: &Request<'_>) -> Result<Verdict, PolicyError> {
        Ok(Verdict::Allow)
    }
}

/// What the policy is asked about: who, what, and what the Hub read for it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The acting agent.
    pub actor: &'a AgentId,
    /// The command.
    pub command: Command<'a>,
    /// The talk as read (`None` when creating a new talk).
    pub talk: Option<&'a Talk>,
    /// The actor's active record in the talk, if it has one (a reopen by a
    /// former participant has none).
    pub record: Option<&'a Participant>,
    /// The message the command acts on (edit, delete, reactions), as read.
    pub message: Option<&'a Message>,
}

impl<'a> Request<'a> {
    /// A request (for policies' own tests; the Hub makes the others).
    pub fn new(
        actor: &'a AgentId,
        command: Command<'a>,
        talk: Option<&'a Talk>,
        record: Option<&'a Participant>,
        message: Option<&'a Message>,
    ) -> Self {
        Self { actor, command, talk, record, message }
    }
}

/// A command, with its input.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Command<'a> {
    /// Create a talk (or revive a pair's direct talk).
    CreateTalk {
        /// Its kind.
        kind: TalkKind,
        /// Its name (empty for a direct talk without one).
        name: &'a str,
        /// Every member, the creator first.
        members: &'a [AgentId],
    },
    /// Rename a talk or change its detail.
    UpdateTalk(&'a TalkChanges),
    /// Close a talk.
    CloseTalk,
    /// Reopen a talk.
    ReopenTalk,
    /// Add an agent to a talk.
    AddParticipant {
        /// The agent added.
        agent_id: &'a AgentId,
    },
    /// Join a public talk (one's own new record).
    JoinTalk,
    /// Leave a talk (remove one's own record).
    LeaveTalk,
    /// Remove another agent's record.
    RemoveParticipant {
        /// The record removed.
        participant: &'a Participant,
    },
    /// Send a message.
    SendMessage {
        /// The text as the client sent it.
        text: &'a str,
        /// The thread it replies in.
        parent_id: Option<MessageId>,
        /// Its medias.
        medias: &'a [Media],
        /// The agents it mentions, as the client sent them.
        mentions: &'a [AgentId],
    },
    /// Edit a message's text (the message is the request's `message`).
    EditMessage {
        /// The new text as the client sent it.
        text: &'a str,
        /// The new mentions, if the edit changes them.
        mentions: Option<&'a [AgentId]>,
    },
    /// Delete a message.
    DeleteMessage,
    /// React to a message.
    AddReaction {
        /// The emoji.
        emoji: Emoji,
    },
    /// Take one's reaction back.
    RemoveReaction {
        /// The emoji.
        emoji: Emoji,
    },
    /// Move one's read marker forward to a message.
    MarkRead {
        /// The message.
        message_id: MessageId,
    },
    /// Move one's read marker to just before a message.
    MarkUnread {
        /// The message.
        message_id: MessageId,
    },
}

impl Command<'_> {
    /// Whether a [`Verdict::Rewrite`] applies to this command.
    pub fn has_text(&self) -> bool {
        matches!(self, Self::SendMessage { .. } | Self::EditMessage { .. })
    }
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Go on.
    Allow,
    /// Refuse: HTTP `403` with the code `forbidden`, and this reason, the
    /// embedder's own words (or code), as the error's message.
    Refuse(String),
    /// Go on with this content instead of the client's (a send or an edit
    /// only).
    Rewrite(Rewrite),
}

/// A send's or an edit's content as the policy rewrote it. The text must be
/// a valid text (within the length limit, not empty unless the message has
/// medias) and the mentions at most the limit; otherwise the command fails
/// with `internal`. Mentions the policy names are not checked against the
/// agent directory: the policy is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The text.
    pub text: String,
    /// The mentions; `None` keeps the client's.
    pub mentions: Option<Vec<AgentId>>,
}

impl Rewrite {
    /// A rewrite of the text alone.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), mentions: None }
    }
}

/// A policy that could not decide: the command fails with `internal` (the
/// reason goes to the log, never to the client).
#[derive(Debug, thiserror::Error)]
#[error("the policy failed: {0}")]
pub struct PolicyError(pub String);
