//! Change sets: the guards, writes and events one command applies
//! atomically, and how the `seq` of each event fills the rows it numbers.

use super::*;

/// A condition the store checks inside the same atomic step as the writes.
/// A guard that does not hold fails the whole change set with
/// [`StoreError::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The talk exists and its [`Talk::version`] is `version`.
    TalkVersion {
        /// The talk.
        talk_id: TalkId,
        /// The version read.
        version: u64,
    },
    /// The participant record exists and is active.
    ParticipantActive {
        /// The record.
        participant_id: ParticipantId,
    },
    /// The message exists and its [`Message::version`] is `version`.
    MessageVersion {
        /// The message.
        message_id: MessageId,
        /// The version read.
        version: u64,
    },
    /// The participant record exists and its read marker is at `read_seq`:
    /// `read` and `unread` never move back a marker a concurrent send moved.
    MarkerAt {
        /// The record.
        participant_id: ParticipantId,
        /// The marker read.
        read_seq: u64,
    },
}

/// One write of a change set. Each variant says which unique key it enforces
/// and what it does when its row is missing: every such case fails the whole
/// change set with [`StoreError::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Inserts a talk. Unique keys: the id ([`Conflict::RowMismatch`]), and
    /// for a direct talk its [`AgentPair`], ever ([`Conflict::DirectPairTaken`]).
    /// Its `created_seq` is the `seq` of the change set's `talk_created` event.
    ///
    /// [`Conflict::RowMismatch`]: crate::store::Conflict::RowMismatch
    /// [`Conflict::DirectPairTaken`]: crate::store::Conflict::DirectPairTaken
    InsertTalk(Talk),
    /// Replaces a talk's row (everything but `id`, `kind`, `direct_pair`,
    /// `creator_id`, `created_seq`, `tm_create`). The talk must exist.
    UpdateTalk(Talk),
    /// Inserts a participant record. Unique keys: the id, and one active
    /// record per (talk, agent) ([`Conflict::ActiveParticipantExists`]). Its
    /// `joined_seq` is the change set's first `seq`, its `seq` that of its own
    /// `participant_joined` event. Its read marker starts at its `seq`, with
    /// `tm_read` its `tm_joined` (see [`Write::SetReadMarker`]).
    ///
    /// [`Conflict::ActiveParticipantExists`]: crate::store::Conflict::ActiveParticipantExists
    InsertParticipant(Participant),
    /// Replaces a participant record's status, reason, `left_seq` and
    /// `tm_left`. The record must exist. Its `left_seq` is the `seq` of its
    /// own `participant_left` event in the change set.
    UpdateParticipant(Participant),
    /// Inserts a message. Unique key: the id ([`Conflict::MessageIdTaken`]).
    /// Its `seq` is that of its `message_created` event. Its `reactions` and
    /// `reply_count` start empty whatever the value says. A normal message is
    /// numbered among its talk's normal messages (the store keeps the count,
    /// see [`ReadNumbers`]), and its `mentions` of agents other than its
    /// author are kept for [`Store::read_numbers`].
    ///
    /// [`Conflict::MessageIdTaken`]: crate::store::Conflict::MessageIdTaken
    InsertMessage(Message),
    /// Replaces a message's own fields: `text`, `medias`, `mentions` (those
    /// kept for the counts too), `version`, `request_digest` (a delete clears
    /// it), `tm_update`, `tm_edit`, `tm_delete`. The counters the store keeps
    /// (`reactions`, `reply_count`) are left as they are. The message must exist.
    UpdateMessage(Message),
    /// Sets a message's `version`, and nothing else: its reactions took a
    /// new emoji or lost one. The message must exist.
    SetMessageVersion {
        /// The message.
        message_id: MessageId,
        /// Its new version.
        version: u64,
    },
    /// Adds one to the `reply_count` of a message. The message must exist.
    IncrementReplyCount(MessageId),
    /// Inserts a reaction. Unique key: (message, emoji, agent)
    /// ([`Conflict::ReactionExists`]). The message must exist. Sets the
    /// message's `tm_update` to the reaction's `tm_create`; the emoji keeps
    /// its place among the message's reactions if it has one, else takes the
    /// last place. Its `seq` is that of its `reaction_added` event.
    ///
    /// [`Conflict::ReactionExists`]: crate::store::Conflict::ReactionExists
    InsertReaction(Reaction),
    /// Deletes one reaction and sets the message's `tm_update`. The reaction
    /// must exist. An emoji whose last reaction goes loses its place.
    DeleteReaction {
        /// The message.
        message_id: MessageId,
        /// The emoji.
        emoji: Emoji,
        /// The agent whose reaction it is.
        agent_id: AgentId,
        /// The message's new `tm_update`.
        tm_update: Timestamp,
    },
    /// Deletes every reaction of a message (none is fine). The message must exist.
    DeleteAllReactions(MessageId),
    /// Removes the content of a message from every event payload already in
    /// the log (see [`EventData::redact_message`]): deleted means deleted.
    RedactMessage(MessageId),
    /// Moves a participant record's read marker to `read_seq` (forward or
    /// back) and sets its `tm_read`. The store keeps with it the number of
    /// the talk's normal messages at or below `read_seq`, so that counting
    /// never scans. The record must exist.
    SetReadMarker {
        /// The record.
        participant_id: ParticipantId,
        /// The new marker; with `sent`, filled by [`ChangeSet::resolve`].
        read_seq: u64,
        /// A message this change set inserts: the marker moves to its `seq`
        /// (one's own message is read).
        sent: Option<MessageId>,
        /// When it moved.
        tm_read: Timestamp,
    },
}

/// An event of a change set, before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The talk it belongs to.
    pub talk_id: TalkId,
    /// When it happened.
    pub tm_create: Timestamp,
    /// What happened. Its `seq` fields are filled in by [`ChangeSet::resolve`].
    pub data: EventData,
}

/// Everything one command changes, applied atomically by [`Store::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Conditions checked in the same atomic step.
    pub guards: Vec<Guard>,
    /// Writes, applied in order.
    pub writes: Vec<Write>,
    /// Events, numbered in order with consecutive `seq` values.
    pub events: Vec<NewEvent>,
}

/// A change set whose `seq` fields are filled in: what a store writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedChangeSet {
    /// Conditions checked in the same atomic step.
    pub guards: Vec<Guard>,
    /// Writes, applied in order, with their `seq` fields filled in.
    pub writes: Vec<Write>,
    /// Events with their `seq`.
    pub events: Vec<Event>,
}

impl ChangeSet {
    /// Whether the change set changes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.events.is_empty()
    }

    /// Numbers the events from `first_seq` on and fills every `seq` field
    /// the contract of [`Write`] defines, in the writes and in the event
    /// payloads: `Talk::created_seq`, `Participant::{seq, joined_seq,
    /// left_seq}`, `Message::seq`, `Reaction::seq`.
    ///
    /// # Errors
    /// [`MalformedChangeSet`] when a write inserts a row without the event of
    /// the same change set that numbers it (a talk without its
    /// `talk_created`, a record without its `participant_joined`, a message
    /// without its `message_created`, a reaction without its
    /// `reaction_added`): the lists are keyed on those numbers, so a store
    /// refuses such a change set whole. The Hub never makes one.
    pub fn resolve(self, first_seq: u64) -> Result<ResolvedChangeSet, MalformedChangeSet> {
        let numbers = SeqNumbers::of(&self.events, first_seq);
        let mut writes = self.writes;
        for write in &mut writes {
            numbers.fill_write(write)?;
        }
        // Each event is moved once, into its place, and filled there: an
        // event is a large value.
        let mut events = Vec::with_capacity(self.events.len());
        for (NewEvent { talk_id, tm_create, data }, seq) in self.events.into_iter().zip(first_seq..) {
            events.push(Event { seq, talk_id, tm_create, data });
            if let Some(event) = events.last_mut() {
                numbers.fill_event(&mut event.data);
            }
        }
        Ok(ResolvedChangeSet { guards: self.guards, writes, events })
    }
}

/// A change set inserts a row without the event that numbers it; see
/// [`ChangeSet::resolve`]. A store answers it as [`StoreError::Backend`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed change set: it inserts a {0} without its event")]
pub struct MalformedChangeSet(&'static str);

impl From<MalformedChangeSet> for StoreError {
    fn from(error: MalformedChangeSet) -> Self {
        StoreError::backend(error)
    }
}

/// What one event of a change set numbers: the row it creates or ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Numbered {
    TalkCreated(TalkId),
    Joined(ParticipantId),
    Left(ParticipantId),
    MessageCreated(MessageId),
    ReactionAdded(MessageId, Emoji, AgentId),
}

/// The `seq` of each event of a change set, by what it numbers. Most change
/// sets number one to three rows: up to [`SeqNumbers::INLINE`] the numbers
/// stay on the stack and are searched in order; more are sorted once, so a
/// change set of any size resolves in `n log n`.
struct SeqNumbers {
    first_seq: u64,
    keys: Keys,
}

#[allow(clippy::large_enum_variant, reason = "a short-lived value on the stack, never moved around")]
enum Keys {
    Few([Option<(Numbered, u64)>; SeqNumbers::INLINE]),
    Many(Vec<(Numbered, u64)>),
}

impl SeqNumbers {
    const INLINE: usize = 8;

    fn of(events: &[NewEvent], first_seq: u64) -> Self {
        let numbered = events.iter().zip(first_seq..).filter_map(|(event, seq)| {
            let numbered = match &event.data {
                EventData::TalkCreated(talk) => Numbered::TalkCreated(talk.id),
                EventData::ParticipantJoined(p) => Numbered::Joined(p.id),
                EventData::ParticipantLeft(p) => Numbered::Left(p.id),
                EventData::MessageCreated(m) => Numbered::MessageCreated(m.id),
                EventData::ReactionAdded(r) => Numbered::ReactionAdded(r.message_id, r.emoji, r.agent_id.clone()),
                _ => return None,
            };
            Some((numbered, seq))
        });
        let keys = if events.len() <= Self::INLINE {
            let mut few = [const { None }; Self::INLINE];
            for (slot, key) in few.iter_mut().zip(numbered) {
                *slot = Some(key);
            }
            Keys::Few(few)
        } else {
            let mut sorted: Vec<(Numbered, u64)> = numbered.collect();
            // Stable: of two events numbering one row (a malformed set), the first counts.
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Keys::Many(sorted)
        };
        Self { first_seq, keys }
    }

    fn get(&self, numbered: &Numbered) -> Option<u64> {
        match &self.keys {
            Keys::Few(few) => few.iter().flatten().find(|(key, _)| key == numbered).map(|&(_, seq)| seq),
            Keys::Many(sorted) => {
                let at = sorted.partition_point(|(key, _)| key < numbered);
                sorted.get(at).filter(|(key, _)| key == numbered).map(|&(_, seq)| seq)
            }
        }
    }

    fn fill_talk(&self, talk: &mut Talk) -> bool {
        let seq = self.get(&Numbered::TalkCreated(talk.id));
        if let Some(seq) = seq {
            talk.created_seq = seq;
        }
        seq.is_some()
    }

    fn fill_participant(&self, p: &mut Participant) -> bool {
        let joined = self.get(&Numbered::Joined(p.id));
        if let Some(seq) = joined {
            p.seq = seq;
            p.joined_seq = self.first_seq;
        }
        if let Some(seq) = self.get(&Numbered::Left(p.id)) {
            p.left_seq = Some(seq);
        }
        joined.is_some()
    }

    fn fill_message(&self, m: &mut Message) -> bool {
        let seq = self.get(&Numbered::MessageCreated(m.id));
        if let Some(seq) = seq {
            m.seq = seq;
        }
        seq.is_some()
    }

    fn fill_event(&self, data: &mut EventData) {
        match data {
            EventData::TalkCreated(t)
            | EventData::TalkUpdated(t)
            | EventData::TalkClosed(t)
            | EventData::TalkReopened(t) => {
                self.fill_talk(t);
            }
            EventData::ParticipantJoined(p) | EventData::ParticipantLeft(p) => {
                self.fill_participant(p);
            }
            EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => {
                self.fill_message(m);
            }
            EventData::ReactionAdded(_) | EventData::ReactionRemoved(_) | EventData::TalkRead(_) => {}
        }
    }

    /// Fills one write; an inserted row must be numbered by an event.
    fn fill_write(&self, write: &mut Write) -> Result<(), MalformedChangeSet> {
        let unnumbered = match write {
            Write::InsertTalk(t) => (!self.fill_talk(t)).then_some("talk"),
            Write::InsertParticipant(p) => (!self.fill_participant(p)).then_some("participant record"),
            Write::InsertMessage(m) => (!self.fill_message(m)).then_some("message"),
            Write::InsertReaction(r) => {
                let seq = self.get(&Numbered::ReactionAdded(r.message_id, r.emoji, r.agent_id.clone()));
                if let Some(seq) = seq {
                    r.seq = seq;
                }
                seq.is_none().then_some("reaction")
            }
            Write::UpdateTalk(t) => {
                self.fill_talk(t);
                None
            }
            Write::UpdateParticipant(p) => {
                self.fill_participant(p);
                None
            }
            Write::UpdateMessage(m) => {
                self.fill_message(m);
                None
            }
            Write::SetReadMarker { read_seq, sent: Some(message), .. } => {
                let seq = self.get(&Numbered::MessageCreated(*message));
                if let Some(seq) = seq {
                    *read_seq = seq;
                }
                seq.is_none().then_some("read marker")
            }
            Write::SetReadMarker { sent: None, .. }
            | Write::SetMessageVersion { .. }
            | Write::IncrementReplyCount(_)
            | Write::DeleteReaction { .. }
            | Write::DeleteAllReactions(_)
            | Write::RedactMessage(_) => None,
        };
        unnumbered.map_or(Ok(()), |what| Err(MalformedChangeSet(what)))
    }
}
