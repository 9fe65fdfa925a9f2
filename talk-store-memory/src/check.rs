//! Checking a change set before anything is written: its guards against the
//! stored state, then its writes in order against the stored state plus the
//! effect of the earlier writes of the same change set. Only a change set
//! that passes is committed, so a refused one leaves nothing behind.

use std::hash::Hash;

use foldhash::HashMap;

use talk_core::store::Conflict;
use talk_core::store::{Guard, ResolvedChangeSet, Write};
use talk_core::{AgentId, AgentPair, Emoji, Message, MessageId, ParticipantId, TalkId};

use crate::state::State;

/// Checks a resolved change set against `state`.
pub(crate) fn check(state: &State, changes: &ResolvedChangeSet) -> Result<(), Conflict> {
    for guard in &changes.guards {
        check_guard(state, guard)?;
    }
    let mut pending = Pending::new(state);
    let count = changes.writes.len();
    for (index, write) in changes.writes.iter().enumerate() {
        // No write comes after the last one: its effect needs no record.
        pending.write(write, index + 1 < count)?;
    }
    Ok(())
}

fn check_guard(state: &State, guard: &Guard) -> Result<(), Conflict> {
    let holds = match guard {
        Guard::TalkVersion { talk_id, version } => state.talk(*talk_id).is_some_and(|t| t.version == *version),
        Guard::ParticipantActive { participant_id } => {
            state.participant(*participant_id).is_some_and(|p| p.is_active())
        }
        Guard::MessageVersion { message_id, version } => state.message_version(*message_id) == Some(*version),
        Guard::MarkerAt { participant_id, read_seq } => {
            state.read_marker(*participant_id).is_some_and(|m| m.read_seq == *read_seq)
        }
    };
    if holds {
        return Ok(());
    }
    Err(match guard {
        Guard::TalkVersion { .. } => Conflict::TalkVersion,
        Guard::ParticipantActive { .. } => Conflict::ParticipantNotActive,
        Guard::MessageVersion { .. } => Conflict::MessageVersion,
        Guard::MarkerAt { .. } => Conflict::MarkerMoved,
    })
}

/// The stored state as the writes checked so far would leave it, as far as
/// the remaining writes' checks need to know.
struct Pending<'s> {
    state: &'s State,
    talks: Few<TalkId, ()>,
    pairs: Few<AgentPair, ()>,
    /// Records inserted or updated so far: talk, agent, active.
    records: Few<ParticipantId, (TalkId, AgentId, bool)>,
    /// The active record of (talk, agent), where a write changed it.
    active: Few<(TalkId, AgentId), Option<ParticipantId>>,
    messages: Few<MessageId, ()>,
    /// Reactions inserted (`true`) or deleted (`false`) so far.
    reactions: Few<(MessageId, Emoji, AgentId), bool>,
    /// Messages whose reactions were all deleted.
    cleared: Few<MessageId, ()>,
}

/// A map of what the writes of one change set touched. A command's change
/// set touches a few rows: up to [`Few::SMALL`] entries are kept in a
/// vector searched in order (no hashing, no table to build and drop for
/// each change set); past that in a hash map, so that a change set of any
/// size is checked in linear time.
enum Few<K, V> {
    Small(Vec<(K, V)>),
    Large(HashMap<K, V>),
}

impl<K, V> Default for Few<K, V> {
    fn default() -> Self {
        Self::Small(Vec::new())
    }
}

impl<K: Eq + Hash, V> Few<K, V> {
    const SMALL: usize = 8;

    fn get(&self, key: &K) -> Option<&V> {
        match self {
            Self::Small(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Self::Large(map) => map.get(key),
        }
    }

    fn contains(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Sets the value of `key`, replacing any value it had.
    fn insert(&mut self, key: K, value: V) {
        match self {
            Self::Small(entries) => {
                if let Some(entry) = entries.iter_mut().find(|(k, _)| *k == key) {
                    entry.1 = value;
                } else if entries.len() < Self::SMALL {
                    entries.push((key, value));
                } else {
                    let mut map: HashMap<K, V> = std::mem::take(entries).into_iter().collect();
                    map.insert(key, value);
                    *self = Self::Large(map);
                }
            }
            Self::Large(map) => {
                map.insert(key, value);
            }
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        match self {
            Self::Small(entries) => entries.retain(|(k, _)| keep(k)),
            Self::Large(map) => map.retain(|k, _| keep(k)),
        }
    }
}

impl<'s> Pending<'s> {
    fn new(state: &'s State) -> Self {
        Self {
            state,
            talks: Few::default(),
            pairs: Few::default(),
            records: Few::default(),
            active: Few::default(),
            messages: Few::default(),
            reactions: Few::default(),
            cleared: Few::default(),
        }
    }

    fn talk_exists(&self, id: TalkId) -> bool {
        self.talks.contains(&id) || self.state.has_talk(id)
    }

    fn record(&self, id: ParticipantId) -> Option<(TalkId, AgentId, bool)> {
        self.records
            .get(&id)
            .cloned()
            .or_else(|| self.state.participant(id).map(|p| (p.talk_id, p.agent_id.clone(), p.is_active())))
    }

    fn active_record(&self, talk: TalkId, agent: &AgentId) -> Option<ParticipantId> {
        match self.active.get(&(talk, agent.clone())) {
            Some(pending) => *pending,
            None => self.state.active_record(talk, agent),
        }
    }

    fn message_exists(&self, id: MessageId) -> bool {
        self.messages.contains(&id) || self.state.has_message(id)
    }

    fn reaction_exists(&self, message: MessageId, emoji: &Emoji, agent: &AgentId) -> bool {
        match self.reactions.get(&(message, *emoji, agent.clone())) {
            Some(&exists) => exists,
            None => !self.cleared.contains(&message) && self.state.has_reaction(message, emoji, agent),
        }
    }

    fn require(found: bool) -> Result<(), Conflict> {
        if found { Ok(()) } else { Err(Conflict::RowMismatch) }
    }

    /// Checks one write and, with `record`, records its effect for the
    /// writes after it.
    fn write(&mut self, write: &Write, record: bool) -> Result<(), Conflict> {
        self.check(write)?;
        if record {
            self.record_effect(write);
        }
        Ok(())
    }

    /// Whether one write may follow the state and the writes recorded so far.
    fn check(&self, write: &Write) -> Result<(), Conflict> {
        match write {
            Write::InsertTalk(talk) => {
                if self.talk_exists(talk.id) {
                    return Err(Conflict::RowMismatch);
                }
                if let Some(pair) = &talk.direct_pair
                    && (self.pairs.contains(pair) || self.state.has_direct_pair(pair))
                {
                    return Err(Conflict::DirectPairTaken);
                }
            }
            Write::UpdateTalk(talk) => Self::require(self.talk_exists(talk.id))?,
            Write::InsertParticipant(p) => {
                if self.record(p.id).is_some() {
                    return Err(Conflict::RowMismatch);
                }
                if p.is_active() && self.active_record(p.talk_id, &p.agent_id).is_some() {
                    return Err(Conflict::ActiveParticipantExists);
                }
            }
            Write::UpdateParticipant(p) => {
                let Some((talk, agent, was_active)) = self.record(p.id) else { return Err(Conflict::RowMismatch) };
                if !was_active && p.is_active() && self.active_record(talk, &agent).is_some() {
                    return Err(Conflict::ActiveParticipantExists);
                }
            }
            Write::InsertMessage(message) => {
                if self.message_exists(message.id) {
                    return Err(Conflict::MessageIdTaken);
                }
            }
            Write::UpdateMessage(Message { id, .. })
            | Write::SetMessageVersion { message_id: id, .. }
            | Write::IncrementReplyCount(id)
            | Write::DeleteAllReactions(id) => Self::require(self.message_exists(*id))?,
            Write::InsertReaction(r) => {
                Self::require(self.message_exists(r.message_id))?;
                if self.reaction_exists(r.message_id, &r.emoji, &r.agent_id) {
                    return Err(Conflict::ReactionExists);
                }
            }
            Write::DeleteReaction { message_id, emoji, agent_id, .. } => {
                Self::require(self.reaction_exists(*message_id, emoji, agent_id))?;
            }
            Write::RedactMessage(_) => {}
            Write::SetReadMarker { participant_id, .. } => Self::require(self.record(*participant_id).is_some())?,
        }
        Ok(())
    }

    /// Records the effect of a checked write.
    fn record_effect(&mut self, write: &Write) {
        match write {
            Write::InsertTalk(talk) => {
                if let Some(pair) = &talk.direct_pair {
                    self.pairs.insert(pair.clone(), ());
                }
                self.talks.insert(talk.id, ());
            }
            Write::InsertParticipant(p) => {
                if p.is_active() {
                    self.active.insert((p.talk_id, p.agent_id.clone()), Some(p.id));
                }
                self.records.insert(p.id, (p.talk_id, p.agent_id.clone(), p.is_active()));
            }
            Write::UpdateParticipant(p) => {
                let Some((talk, agent, was_active)) = self.record(p.id) else { return };
                if was_active != p.is_active() {
                    self.active.insert((talk, agent.clone()), p.is_active().then_some(p.id));
                }
                self.records.insert(p.id, (talk, agent, p.is_active()));
            }
            Write::InsertMessage(message) => {
                self.messages.insert(message.id, ());
            }
            Write::InsertReaction(r) => {
                self.reactions.insert((r.message_id, r.emoji, r.agent_id.clone()), true);
            }
            Write::DeleteReaction { message_id, emoji, agent_id, .. } => {
                self.reactions.insert((*message_id, *emoji, agent_id.clone()), false);
            }
            Write::DeleteAllReactions(id) => {
                self.cleared.insert(*id, ());
                self.reactions.retain(|(message, _, _)| message != id);
            }
            Write::UpdateTalk(_)
            | Write::UpdateMessage(_)
            | Write::SetMessageVersion { .. }
            | Write::IncrementReplyCount(_)
            | Write::RedactMessage(_)
            | Write::SetReadMarker { .. } => {}
        }
    }
}
