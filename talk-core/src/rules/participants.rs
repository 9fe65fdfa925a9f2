//! Participants: add, and leave or remove (the last one leaving closes the talk).

use super::{Actor, Changes, Decision, Fresh, info, new_participant, touched};
use crate::error::Error;
use crate::event::EventData;
use crate::id::AgentId;
use crate::limits::Limits;
use crate::message::SystemEvent;
use crate::participant::{LeftReason, Participant, ParticipantStatus};
use crate::policy::Command;
use crate::store::{Guard, Write};
use crate::talk::{Talk, TalkKind, TalkStatus};

/// Adds `agent`, whose records in the talk are `agent_records`; `known`
/// tells whether the directory knows it.
pub(crate) fn add(
    talk: &Talk,
    actor: &Actor<'_>,
    agent: &AgentId,
    agent_records: &[Participant],
    known: bool,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Participant>, Error> {
    let guard = actor.guard()?;
    fresh.ask(actor.request(Command::AddParticipant { agent_id: agent }, talk, None), &[])?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if agent_records.iter().any(Participant::is_active) {
        return Err(Error::AlreadyParticipant(agent.clone()));
    }
    if talk.kind == TalkKind::Direct && !talk.direct_pair.as_ref().is_some_and(|pair| pair.contains(agent)) {
        return Err(Error::DirectTalkFull);
    }
    if talk.member_count as usize >= limits.participants_per_talk_max {
        return Err(Error::LimitExceeded(format!(
            "a talk has at most {} active participants",
            limits.participants_per_talk_max
        )));
    }
    if !known {
        return Err(Error::UnknownAgent(agent.clone()));
    }
    let mut after = touched(talk, fresh.now);
    after.member_count += 1;
    let mut changes = Changes::with_capacity(talk.id, fresh.now, 3, 2);
    changes
        .guard_talk(talk)
        .guard(guard)
        .write(Write::UpdateTalk(after))
        .join(new_participant(talk.id, agent, fresh))
        .system_message(fresh, info(SystemEvent::ParticipantJoined, agent, Some(actor.agent)));
    Ok(changes.done())
}

/// The caller joins a talk by itself: only a public talk takes an agent
/// this way. `actor.records` may be empty (an agent never in the talk).
///
/// A talk that is not public answers as if joining were any other command
/// about it: `not_found` for an agent never in it (no existence leak),
/// `not_participant` for a former participant, and for an active one the
/// repeat (the state already holds). A public talk: an active record is the
/// repeat; then `talk_closed`, then `limit_exceeded`; else a new record,
/// announced as an added participant whose actor is the agent itself. A
/// former participant (left or removed) may join again: a public talk is
/// open to every agent.
pub(crate) fn join(
    talk: &Talk,
    actor: &Actor<'_>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Participant>, Error> {
    if talk.kind != TalkKind::Public {
        if actor.records.is_empty() {
            return Err(Error::NotFound("talk"));
        }
        return Ok(Decision::Repeat(actor.require_active()?.clone()));
    }
    if let Some(record) = actor.active() {
        return Ok(Decision::Repeat(record.clone()));
    }
    fresh.ask(actor.request(Command::JoinTalk, talk, None), &[])?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if talk.member_count as usize >= limits.participants_per_talk_max {
        return Err(Error::LimitExceeded(format!(
            "a talk has at most {} active participants",
            limits.participants_per_talk_max
        )));
    }
    let mut after = touched(talk, fresh.now);
    after.member_count += 1;
    let mut changes = Changes::with_capacity(talk.id, fresh.now, 3, 2);
    changes
        .guard_talk(talk)
        .write(Write::UpdateTalk(after))
        .join(new_participant(talk.id, actor.agent, fresh))
        .system_message(fresh, info(SystemEvent::ParticipantJoined, actor.agent, Some(actor.agent)));
    Ok(changes.done())
}

/// Leave (the caller's own record) or remove (another's). `target` belongs
/// to the talk.
pub(crate) fn remove(
    talk: &Talk,
    actor: &Actor<'_>,
    target: &Participant,
    fresh: &Fresh<'_>,
) -> Result<Decision<Participant>, Error> {
    let own = &target.agent_id == actor.agent;
    if !own {
        actor.require_active()?;
    }
    if !target.is_active() {
        return Ok(Decision::Repeat(target.clone()));
    }
    let command = if own { Command::LeaveTalk } else { Command::RemoveParticipant { participant: target } };
    fresh.ask(actor.request(command, talk, None), &[])?;
    if !own && talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    let reason = if own { LeftReason::Left } else { LeftReason::Removed };
    let left = Participant {
        status: ParticipantStatus::Left,
        left_reason: Some(reason),
        tm_left: Some(fresh.now),
        ..target.clone()
    };
    let mut after = touched(talk, fresh.now);
    after.member_count = after.member_count.saturating_sub(1);
    let closes = after.member_count == 0 && talk.status == TalkStatus::Active;
    if closes {
        after.status = TalkStatus::Closed;
        after.tm_close = Some(fresh.now);
    }
    let event = if own { SystemEvent::ParticipantLeft } else { SystemEvent::ParticipantRemoved };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard_talk(talk).guard(Guard::ParticipantActive { participant_id: target.id });
    if !own {
        changes.guard(actor.guard()?);
    }
    changes
        .write(Write::UpdateTalk(after.clone()))
        .write(Write::UpdateParticipant(left.clone()))
        .system_message(fresh, info(event, &target.agent_id, Some(actor.agent)))
        .event(EventData::ParticipantLeft(left));
    if closes {
        changes
            .event(EventData::TalkClosed(after))
            .system_message(fresh, info(SystemEvent::TalkClosed, &target.agent_id, None));
    }
    Ok(changes.done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::id::UuidV7Generator;
    use crate::rules::test_support::{agent, change, fresh, talk_with};

    #[test]
    fn the_last_leave_closes_an_active_talk_with_no_actor() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (mut talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let set = change(remove(&talk, &Actor { agent: &a, records: &records }, &records[0], &fresh(&clock, &ids)));
        let types: Vec<_> = set.events.iter().map(|e| e.data.type_name()).collect();
        assert_eq!(types, ["message_created", "participant_left", "talk_closed", "message_created"]);
        let Some(EventData::MessageCreated(closing)) = set.events.last().map(|e| &e.data) else { panic!() };
        assert_eq!(closing.system.as_ref().map(|s| s.actor_id.clone()), Some(None));
        talk.status = TalkStatus::Closed;
        let set = change(remove(&talk, &Actor { agent: &a, records: &records }, &records[0], &fresh(&clock, &ids)));
        assert_eq!(set.events.len(), 2, "a closed talk is not closed again");
    }
}
