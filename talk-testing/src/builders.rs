//! Builders of valid domain values and change sets, for store tests.
//!
//! Each builder makes a fresh row the way the rules would before the store
//! numbers it: a new UUID v7 id, version `1`, every `seq` field `0` (the
//! store fills them through [`ChangeSet::resolve`]), timestamps at
//! [`epoch`]. Change them with struct update syntax where a test needs
//! something else.
//!
//! [`ChangeSetBuilder`] pairs each write with the event the contract of
//! [`Write`] expects beside it (an inserted row with the event that numbers
//! it), so that a change set built with it is one a store must accept
//! unless a guard or a unique key refuses it.
//!
//! ```
//! use talk_testing::builders::{agent, group_talk, participant, ChangeSetBuilder};
//!
//! let alice = agent("alice");
//! let talk = group_talk(&alice, "Plans");
//! let record = participant(talk.id, &alice);
//! let changes = ChangeSetBuilder::new().insert_talk(&talk).insert_participant(&record).build();
//! assert_eq!(changes.writes.len(), 2);
//! assert_eq!(changes.events.len(), 2);
//! ```

use chrono::{DateTime, Duration};
use uuid::Uuid;

use talk_core::EventData;
use talk_core::Timestamp;
use talk_core::store::{ChangeSet, Guard, NewEvent, Write};
use talk_core::{AgentId, MessageId, ParticipantId, TalkId};
use talk_core::{AgentPair, Talk, TalkKind, TalkStatus};
use talk_core::{Emoji, Reaction, ReactionChange};
use talk_core::{LeftReason, Participant, ParticipantStatus};
use talk_core::{Media, Message, MessageKind};

/// The instant every builder stamps unless told otherwise:
/// 2024-01-01T00:00:00Z (microsecond precision, like every stored timestamp).
pub fn epoch() -> Timestamp {
    DateTime::UNIX_EPOCH + Duration::days(19_723)
}

/// [`epoch`] plus `micros` microseconds: distinct, ordered timestamps.
pub fn at(micros: i64) -> Timestamp {
    epoch() + Duration::microseconds(micros)
}

/// An agent id.
///
/// # Panics
/// When `id` is not a well-formed agent id.
pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap_or_else(|e| panic!("test agent id {id:?}: {e}"))
}

/// An emoji from any spelling (`"👍"`, `"thumbsup"`, …).
///
/// # Panics
/// When `spelling` is not an emoji.
pub fn emoji(spelling: &str) -> Emoji {
    Emoji::parse(spelling).unwrap_or_else(|e| panic!("test emoji {spelling:?}: {e}"))
}

/// A new talk id.
pub fn talk_id() -> TalkId {
    TalkId(Uuid::now_v7())
}

/// A new participant id.
pub fn participant_id() -> ParticipantId {
    ParticipantId(Uuid::now_v7())
}

/// A new message id.
pub fn message_id() -> MessageId {
    MessageId(Uuid::now_v7())
}

/// A new active group talk named `name`, created by `creator`, with no
/// members counted yet.
pub fn group_talk(creator: &AgentId, name: &str) -> Talk {
    Talk {
        id: talk_id(),
        kind: TalkKind::Group,
        direct_pair: None,
        name: name.to_owned(),
        detail: String::new(),
        status: TalkStatus::Active,
        creator_id: creator.clone(),
        member_count: 0,
        version: 1,
        created_seq: 0,
        tm_create: epoch(),
        tm_update: epoch(),
        tm_close: None,
    }
}

/// A new active public talk named `name`, created by `creator`, with no
/// members counted yet.
pub fn public_talk(creator: &AgentId, name: &str) -> Talk {
    Talk { kind: TalkKind::Public, ..group_talk(creator, name) }
}

/// A new active direct talk between `creator` and `other`.
///
/// # Panics
/// When the two agents are the same.
pub fn direct_talk(creator: &AgentId, other: &AgentId) -> Talk {
    let pair = AgentPair::new(creator.clone(), other.clone())
        .unwrap_or_else(|| panic!("a direct talk needs two different agents, got {creator} twice"));
    Talk { kind: TalkKind::Direct, direct_pair: Some(pair), name: String::new(), ..group_talk(creator, "") }
}

/// The next state of a talk: `version` and `tm_update` moved, as every
/// change of a talk's state does.
pub fn touched(talk: &Talk, now: Timestamp) -> Talk {
    Talk { version: talk.version + 1, tm_update: now, ..talk.clone() }
}

/// A talk closed at `now` (version moved).
pub fn closed(talk: &Talk, now: Timestamp) -> Talk {
    Talk { status: TalkStatus::Closed, tm_close: Some(now), ..touched(talk, now) }
}

/// A new active participant record of `agent` in `talk`.
pub fn participant(talk: TalkId, agent: &AgentId) -> Participant {
    Participant {
        id: participant_id(),
        talk_id: talk,
        agent_id: agent.clone(),
        status: ParticipantStatus::Active,
        left_reason: None,
        seq: 0,
        joined_seq: 0,
        left_seq: None,
        tm_joined: epoch(),
        tm_left: None,
    }
}

/// The record `record` ended at `now` for `reason`; its `left_seq` is filled
/// by the store from its `participant_left` event.
pub fn ended(record: &Participant, reason: LeftReason, now: Timestamp) -> Participant {
    Participant {
        status: ParticipantStatus::Left,
        left_reason: Some(reason),
        left_seq: None,
        tm_left: Some(now),
        ..record.clone()
    }
}

/// A new top-level normal message of `author` in `talk`.
pub fn message(talk: TalkId, author: &AgentId, text: &str) -> Message {
    Message {
        id: message_id(),
        talk_id: talk,
        parent_id: None,
        kind: MessageKind::Normal,
        agent_id: Some(author.clone()),
        text: text.to_owned(),
        medias: Vec::new(),
        mentions: Vec::new(),
        system: None,
        reactions: Vec::new(),
        reply_count: 0,
        version: 1,
        seq: 0,
        request_digest: None,
        tm_create: epoch(),
        tm_update: epoch(),
        tm_edit: None,
        tm_delete: None,
    }
}

/// A new reply of `author` to `parent`.
pub fn reply(parent: &Message, author: &AgentId, text: &str) -> Message {
    Message { parent_id: Some(parent.id), ..message(parent.talk_id, author, text) }
}

/// A media attachment.
pub fn media(name: &str) -> Media {
    Media { media_type: "image/png".to_owned(), url: format!("https://example.com/{name}"), name: name.to_owned() }
}

/// `message` edited to `text` at `now` (version moved).
pub fn edited(message: &Message, text: &str, now: Timestamp) -> Message {
    Message {
        text: text.to_owned(),
        version: message.version + 1,
        tm_update: now,
        tm_edit: Some(now),
        ..message.clone()
    }
}

/// The tombstone of `message`, deleted at `now` (version moved, content gone).
pub fn tombstone(message: &Message, now: Timestamp) -> Message {
    let mut tombstone =
        Message { version: message.version + 1, tm_update: now, tm_delete: Some(now), ..message.clone() };
    tombstone.redact();
    tombstone
}

/// A new reaction of `agent` with `emoji` to `message`, made at `now`.
pub fn reaction(message: MessageId, emoji: &Emoji, agent: &AgentId, now: Timestamp) -> Reaction {
    Reaction { message_id: message, emoji: *emoji, agent_id: agent.clone(), seq: 0, tm_create: now }
}

/// Builds a [`ChangeSet`]: guards, writes and events, each write beside the
/// event the contract expects with it. Events are stamped with the builder's
/// time ([`epoch`] unless set with [`ChangeSetBuilder::at`]).
#[derive(Debug, Clone)]
pub struct ChangeSetBuilder {
    set: ChangeSet,
    now: Timestamp,
}

impl Default for ChangeSetBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeSetBuilder {
    /// An empty change set.
    pub fn new() -> Self {
        Self { set: ChangeSet::default(), now: epoch() }
    }

    /// Stamps the events added from now on with `now`.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Adds a guard.
    pub fn guard(mut self, guard: Guard) -> Self {
        self.set.guards.push(guard);
        self
    }

    /// Guards on `talk`'s version as read.
    pub fn guard_talk_version(self, talk: &Talk) -> Self {
        self.guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
    }

    /// Guards on `record` still being active.
    pub fn guard_active(self, record: &Participant) -> Self {
        self.guard(Guard::ParticipantActive { participant_id: record.id })
    }

    /// Guards on `message`'s version as read.
    pub fn guard_message_version(self, message: &Message) -> Self {
        self.guard(Guard::MessageVersion { message_id: message.id, version: message.version })
    }

    /// Adds a write alone.
    pub fn write(mut self, write: Write) -> Self {
        self.set.writes.push(write);
        self
    }

    /// Adds an event alone, in `talk`.
    pub fn event(mut self, talk: TalkId, data: EventData) -> Self {
        self.set.events.push(NewEvent { talk_id: talk, tm_create: self.now, data });
        self
    }

    /// Inserts `talk`, announced by `talk_created`.
    pub fn insert_talk(self, talk: &Talk) -> Self {
        self.write(Write::InsertTalk(talk.clone())).event(talk.id, EventData::TalkCreated(talk.clone()))
    }

    /// Replaces `talk`'s row, announced by `talk_updated`.
    pub fn update_talk(self, talk: &Talk) -> Self {
        self.write(Write::UpdateTalk(talk.clone())).event(talk.id, EventData::TalkUpdated(talk.clone()))
    }

    /// Replaces `talk`'s row with its closed state (see [`closed`]),
    /// announced by `talk_closed`.
    pub fn close_talk(self, talk: &Talk) -> Self {
        self.write(Write::UpdateTalk(talk.clone())).event(talk.id, EventData::TalkClosed(talk.clone()))
    }

    /// Inserts `record`, announced by `participant_joined`.
    pub fn insert_participant(self, record: &Participant) -> Self {
        self.write(Write::InsertParticipant(record.clone()))
            .event(record.talk_id, EventData::ParticipantJoined(record.clone()))
    }

    /// Ends a record: `record` is its ended state (see [`ended`]), written
    /// and announced by `participant_left`.
    pub fn end_participant(self, record: &Participant) -> Self {
        self.write(Write::UpdateParticipant(record.clone()))
            .event(record.talk_id, EventData::ParticipantLeft(record.clone()))
    }

    /// Inserts `message` (and counts it as a reply of its parent),
    /// announced by `message_created`.
    pub fn insert_message(self, message: &Message) -> Self {
        let with_row = self.write(Write::InsertMessage(message.clone()));
        let counted = match message.parent_id {
            Some(parent) => with_row.write(Write::IncrementReplyCount(parent)),
            None => with_row,
        };
        counted.event(message.talk_id, EventData::MessageCreated(message.clone()))
    }

    /// Replaces `message`'s own fields, announced by `message_updated`.
    pub fn update_message(self, message: &Message) -> Self {
        self.write(Write::UpdateMessage(message.clone()))
            .event(message.talk_id, EventData::MessageUpdated(message.clone()))
    }

    /// Deletes a message: `tombstone` (see [`tombstone`]) is written, its
    /// reactions deleted, its content removed from earlier events, and the
    /// deletion announced by `message_deleted`.
    pub fn delete_message(self, tombstone: &Message) -> Self {
        self.write(Write::UpdateMessage(tombstone.clone()))
            .write(Write::DeleteAllReactions(tombstone.id))
            .write(Write::RedactMessage(tombstone.id))
            .event(tombstone.talk_id, EventData::MessageDeleted(tombstone.clone()))
    }

    /// Inserts `reaction` to a message of `talk`, announced by `reaction_added`.
    pub fn insert_reaction(self, talk: TalkId, reaction: &Reaction) -> Self {
        let change = ReactionChange {
            message_id: reaction.message_id,
            emoji: reaction.emoji,
            agent_id: reaction.agent_id.clone(),
        };
        self.write(Write::InsertReaction(reaction.clone())).event(talk, EventData::ReactionAdded(change))
    }

    /// Deletes `reaction` from a message of `talk` at `now`, announced by
    /// `reaction_removed`.
    pub fn delete_reaction(self, talk: TalkId, reaction: &Reaction, now: Timestamp) -> Self {
        let change = ReactionChange {
            message_id: reaction.message_id,
            emoji: reaction.emoji,
            agent_id: reaction.agent_id.clone(),
        };
        self.write(Write::DeleteReaction {
            message_id: reaction.message_id,
            emoji: reaction.emoji,
            agent_id: reaction.agent_id.clone(),
            tm_update: now,
        })
        .event(talk, EventData::ReactionRemoved(change))
    }

    /// The change set.
    pub fn build(self) -> ChangeSet {
        self.set
    }
}

/// The change set that creates `talk` with `members` as its first records:
/// `talk_created`, then one `participant_joined` per record, in order. The
/// talk's `member_count` is set to the number of active members.
pub fn create_talk(talk: &Talk, members: &[Participant]) -> ChangeSet {
    let count = members.iter().filter(|p| p.is_active()).count();
    let talk = Talk { member_count: u32::try_from(count).unwrap_or(u32::MAX), ..talk.clone() };
    members.iter().fold(ChangeSetBuilder::new().insert_talk(&talk), |b, p| b.insert_participant(p)).build()
}
