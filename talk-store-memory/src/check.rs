//! Checking a change set before anything is written: its guards against the
//! stored state, then its writes in order against the stored state plus the
//! effect of the earlier writes of the same change set. Only a change set
//! that passes is committed, so a refused one leaves nothing behind.

use std::collections::{HashMap, HashSet};

use talk_core::store::{Guard, ResolvedChangeSet, Write};
use talk_core::{AgentId, AgentPair, Conflict, Emoji, EventData, MessageId, ParticipantId, TalkId};

use crate::state::State;

/// Why a change set was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A guard or unique key: the caller reads again and decides anew.
    Conflict(Conflict),
    /// The change set breaks the contract of [`Write`] itself (an inserted
    /// row without the event that numbers it): a bug in its maker.
    Malformed(String),
}

impl From<Conflict> for Refusal {
    fn from(conflict: Conflict) -> Self {
        Self::Conflict(conflict)
    }
}

/// Checks a resolved change set against `state`.
pub(crate) fn check(state: &State, changes: &ResolvedChangeSet) -> Result<(), Refusal> {
    for guard in &changes.guards {
        check_guard(state, guard)?;
    }
    check_numbering(changes)?;
    let mut pending = Pending::new(state);
    for write in &changes.writes {
        pending.write(write)?;
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
    };
    if holds {
        return Ok(());
    }
    Err(match guard {
        Guard::TalkVersion { .. } => Conflict::TalkVersion,
        Guard::ParticipantActive { .. } => Conflict::ParticipantNotActive,
        Guard::MessageVersion { .. } => Conflict::MessageVersion,
    })
}

/// Every inserted row must carry the `seq` of its own event of the change
/// set, as [`ChangeSet::resolve`](talk_core::ChangeSet::resolve) fills it:
/// the lists are keyed on it, so a row without one would corrupt them.
fn check_numbering(changes: &ResolvedChangeSet) -> Result<(), Refusal> {
    let mut talks = HashMap::new();
    let mut joined = HashMap::new();
    let mut messages = HashMap::new();
    let mut reactions = HashMap::new();
    for event in &changes.events {
        match &event.data {
            EventData::TalkCreated(t) => {
                talks.insert(t.id, event.seq);
            }
            EventData::ParticipantJoined(p) => {
                joined.insert(p.id, event.seq);
            }
            EventData::MessageCreated(m) => {
                messages.insert(m.id, event.seq);
            }
            EventData::ReactionAdded(r) => {
                reactions.insert((r.message_id, &r.emoji, &r.agent_id), event.seq);
            }
            _ => {}
        }
    }
    for write in &changes.writes {
        let (numbered, what) = match write {
            Write::InsertTalk(t) => (talks.get(&t.id) == Some(&t.created_seq), "talk without its talk_created event"),
            Write::InsertParticipant(p) => {
                (joined.get(&p.id) == Some(&p.seq), "participant without its participant_joined event")
            }
            Write::InsertMessage(m) => {
                (messages.get(&m.id) == Some(&m.seq), "message without its message_created event")
            }
            Write::InsertReaction(r) => (
                reactions.get(&(r.message_id, &r.emoji, &r.agent_id)) == Some(&r.seq),
                "reaction without its reaction_added event",
            ),
            _ => (true, ""),
        };
        if !numbered {
            return Err(Refusal::Malformed(format!("malformed change set: inserts a {what}")));
        }
    }
    Ok(())
}

/// The stored state as the writes checked so far would leave it, as far as
/// the remaining writes' checks need to know.
struct Pending<'s> {
    state: &'s State,
    talks: HashSet<TalkId>,
    pairs: HashSet<AgentPair>,
    /// Records inserted or updated so far: talk, agent, active.
    records: HashMap<ParticipantId, (TalkId, AgentId, bool)>,
    /// The active record of (talk, agent), where a write changed it.
    active: HashMap<(TalkId, AgentId), Option<ParticipantId>>,
    messages: HashSet<MessageId>,
    /// Reactions inserted (`true`) or deleted (`false`) so far.
    reactions: HashMap<(MessageId, Emoji, AgentId), bool>,
    /// Messages whose reactions were all deleted.
    cleared: HashSet<MessageId>,
}

impl<'s> Pending<'s> {
    fn new(state: &'s State) -> Self {
        Self {
            state,
            talks: HashSet::new(),
            pairs: HashSet::new(),
            records: HashMap::new(),
            active: HashMap::new(),
            messages: HashSet::new(),
            reactions: HashMap::new(),
            cleared: HashSet::new(),
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
        match self.reactions.get(&(message, emoji.clone(), agent.clone())) {
            Some(&exists) => exists,
            None => !self.cleared.contains(&message) && self.state.has_reaction(message, emoji, agent),
        }
    }

    fn require(found: bool) -> Result<(), Conflict> {
        if found { Ok(()) } else { Err(Conflict::RowMismatch) }
    }

    /// Checks one write and records its effect.
    fn write(&mut self, write: &Write) -> Result<(), Conflict> {
        match write {
            Write::InsertTalk(talk) => {
                if self.talk_exists(talk.id) {
                    return Err(Conflict::RowMismatch);
                }
                if let Some(pair) = &talk.direct_pair {
                    if self.pairs.contains(pair) || self.state.has_direct_pair(pair) {
                        return Err(Conflict::DirectPairTaken);
                    }
                    self.pairs.insert(pair.clone());
                }
                self.talks.insert(talk.id);
            }
            Write::UpdateTalk(talk) => Self::require(self.talk_exists(talk.id))?,
            Write::InsertParticipant(p) => {
                if self.record(p.id).is_some() {
                    return Err(Conflict::RowMismatch);
                }
                if p.is_active() {
                    if self.active_record(p.talk_id, &p.agent_id).is_some() {
                        return Err(Conflict::ActiveParticipantExists);
                    }
                    self.active.insert((p.talk_id, p.agent_id.clone()), Some(p.id));
                }
                self.records.insert(p.id, (p.talk_id, p.agent_id.clone(), p.is_active()));
            }
            Write::UpdateParticipant(p) => {
                let Some((talk, agent, was_active)) = self.record(p.id) else { return Err(Conflict::RowMismatch) };
                match (was_active, p.is_active()) {
                    (true, false) => {
                        self.active.insert((talk, agent.clone()), None);
                    }
                    (false, true) => {
                        if self.active_record(talk, &agent).is_some() {
                            return Err(Conflict::ActiveParticipantExists);
                        }
                        self.active.insert((talk, agent.clone()), Some(p.id));
                    }
                    _ => {}
                }
                self.records.insert(p.id, (talk, agent, p.is_active()));
            }
            Write::InsertMessage(message) => {
                if self.message_exists(message.id) {
                    return Err(Conflict::MessageIdTaken);
                }
                self.messages.insert(message.id);
            }
            Write::UpdateMessage(message) => Self::require(self.message_exists(message.id))?,
            Write::IncrementReplyCount(id) => Self::require(self.message_exists(*id))?,
            Write::InsertReaction(r) => {
                Self::require(self.message_exists(r.message_id))?;
                if self.reaction_exists(r.message_id, &r.emoji, &r.agent_id) {
                    return Err(Conflict::ReactionExists);
                }
                self.reactions.insert((r.message_id, r.emoji.clone(), r.agent_id.clone()), true);
            }
            Write::DeleteReaction { message_id, emoji, agent_id, .. } => {
                Self::require(self.reaction_exists(*message_id, emoji, agent_id))?;
                self.reactions.insert((*message_id, emoji.clone(), agent_id.clone()), false);
            }
            Write::DeleteAllReactions(id) => {
                Self::require(self.message_exists(*id))?;
                self.cleared.insert(*id);
                self.reactions.retain(|(message, _, _), _| message != id);
            }
            Write::RedactMessage(_) => {}
        }
        Ok(())
    }
}
