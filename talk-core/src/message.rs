//! Messages: normal ones sent by agents, system ones made by the library;
//! one-level threads; medias; edits and tombstones.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{AgentId, MessageId, TalkId};
use crate::reaction::Emoji;

/// Who made a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Sent by an agent.
    Normal,
    /// Made by the library to record a change of the talk.
    System,
}

/// A file or link attached to a message. Its URL is never fetched.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// A MIME type, `type/subtype`.
    #[serde(rename = "type")]
    pub media_type: String,
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// A file name, without `/` or `\`.
    pub name: String,
}

/// What a system message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemEvent {
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

/// The structured part of a system message, for clients that render it in
/// their own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// What happened.
    pub event: SystemEvent,
    /// Whom it is about; for the talk events, who did it.
    pub agent_id: AgentId,
    /// Who did it; `None` for the automatic close when the last participant leaves.
    pub actor_id: Option<AgentId>,
    /// The new name, for `talk_renamed`.
    pub name: Option<String>,
}

/// The reactions of one emoji on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionSummary {
    /// The emoji, in canonical form.
    pub emoji: Emoji,
    /// How many agents reacted with it (exact).
    pub count: u32,
    /// The agents that reacted, in the order they did, at most the first
    /// [`Limits::reactors_listed_per_emoji`](crate::Limits::reactors_listed_per_emoji).
    pub agent_ids: Vec<AgentId>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its talk.
    pub talk_id: TalkId,
    /// The top-level message it replies to, if it is a reply.
    pub parent_id: Option<MessageId>,
    /// Normal or system.
    pub kind: MessageKind,
    /// The author; `None` for a system message.
    pub agent_id: Option<AgentId>,
    /// Its text (`""` once deleted).
    pub text: String,
    /// Its medias (empty once deleted).
    pub medias: Vec<Media>,
    /// The agents it mentions, each once, in the order first named (empty
    /// once deleted).
    #[serde(default)]
    pub mentions: Vec<AgentId>,
    /// For a system message, what it records.
    pub system: Option<SystemInfo>,
    /// Reactions, one entry per emoji in the order the emoji was first used
    /// (kept current by the store).
    pub reactions: Vec<ReactionSummary>,
    /// Number of replies (kept current by the store).
    pub reply_count: u32,
    /// The version: moved by edit, delete, a reaction with an emoji new to the
    /// message and the removal of an emoji's last reaction. Change sets guard on it.
    pub version: u64,
    /// The `seq` of its `message_created` event: messages are listed by it.
    pub seq: u64,
    /// A digest of the request that created it, for client-chosen ids (see
    /// [`NewMessage::id`](crate::NewMessage::id)): keyed with the store's
    /// secret, kept in the message's row only (never in an event), and
    /// cleared by a delete.
    pub request_digest: Option<String>,
    /// When it was sent.
    pub tm_create: Timestamp,
    /// When it was last edited, deleted or reacted to.
    pub tm_update: Timestamp,
    /// When it was last edited.
    pub tm_edit: Option<Timestamp>,
    /// When it was deleted.
    pub tm_delete: Option<Timestamp>,
}

impl Message {
    /// Whether it is a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.tm_delete.is_some()
    }

    /// Whether it is a top-level message (not a reply).
    pub fn is_top_level(&self) -> bool {
        self.parent_id.is_none()
    }

    /// Removes its content: what a deleted message keeps everywhere,
    /// earlier event payloads included.
    pub fn redact(&mut self) {
        self.text.clear();
        self.medias.clear();
        self.mentions.clear();
        self.reactions.clear();
        self.request_digest = None;
    }
}

/// The input of `send_message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// The text: up to [`Limits::message_text_max`](crate::Limits)
    /// characters, empty only with medias.
    pub text: String,
    /// The top-level message of the same talk this replies to.
    pub parent_id: Option<MessageId>,
    /// Attached medias, at most [`Limits::medias_per_message_max`](crate::Limits).
    pub medias: Vec<Media>,
    /// The agents it mentions, at most
    /// [`Limits::mentions_per_message_max`](crate::Limits); each must be known
    /// to the agent directory; duplicates are merged.
    pub mentions: Vec<AgentId>,
    /// A client-chosen id that makes the send safe to retry: the same id
    /// from the same agent in the same talk with the same text, parent,
    /// medias and mentions (as a set) answers the stored message; once that message is deleted, the
    /// same id from the same agent in the same talk answers its tombstone
    /// whatever the request (nothing of it is kept to compare with); any
    /// other use of a taken id answers `id_conflict`.
    pub id: Option<MessageId>,
}

/// The input of an edit: a new text, and the mentions (`None` keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageEdit {
    /// The new text.
    pub text: String,
    /// The new mentions (as for [`NewMessage::mentions`]); `None` keeps the
    /// message's mentions.
    pub mentions: Option<Vec<AgentId>>,
}

/// Merges duplicates of a list of mentions, keeping the first place of each.
pub(crate) fn merge_mentions(mentions: &[AgentId]) -> Vec<AgentId> {
    let mut merged: Vec<AgentId> = Vec::with_capacity(mentions.len());
    for agent in mentions {
        if !merged.contains(agent) {
            merged.push(agent.clone());
        }
    }
    merged
}
