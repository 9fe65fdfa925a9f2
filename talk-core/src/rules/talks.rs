//! Talks: create (or find a pair's direct talk), rename, close, reopen.

use super::{Actor, Changes, Decision, Fresh, info, new_participant, touched};
use crate::error::Error;
use crate::event::EventData;
use crate::id::{AgentId, TalkId};
use crate::limits::Limits;
use crate::message::SystemEvent;
use crate::participant::LeftReason;
use crate::policy::{Command, Request};
use crate::store::Write;
use crate::syntax::{self, TalkPlan};
use crate::talk::{AgentPair, Talk, TalkChanges, TalkKind, TalkStatus};

impl TalkPlan {
    /// What the policy is asked about this create.
    fn command(&self) -> Command<'_> {
        Command::CreateTalk { kind: self.kind, name: &self.name, members: &self.members }
    }
}

/// Steps 9–10 of creating a new talk: the participant limit, then unknown
/// agents (`unknown` is the first listed agent the directory does not know).
pub(crate) fn create(
    plan: &TalkPlan,
    unknown: Option<&AgentId>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Talk>, Error> {
    fresh.ask(Request::new(&plan.members[0], plan.command(), None, None, None), &[])?;
    if plan.members.len() > limits.participants_per_talk_max {
        return Err(Error::LimitExceeded(format!(
            "a talk has at most {} active participants",
            limits.participants_per_talk_max
        )));
    }
    if let Some(agent) = unknown {
        return Err(Error::UnknownAgent(agent.clone()));
    }
    let creator = &plan.members[0];
    let direct_pair = match plan.kind {
        TalkKind::Direct => AgentPair::new(creator.clone(), plan.members[1].clone()),
        TalkKind::Group | TalkKind::Public => None,
    };
    let talk = Talk {
        id: TalkId(fresh.ids.new_uuid()),
        kind: plan.kind,
        direct_pair,
        name: plan.name.clone(),
        detail: plan.detail.clone(),
        status: TalkStatus::Active,
        creator_id: creator.clone(),
        member_count: u32::try_from(plan.members.len()).map_err(|_| Error::invariant("member count overflow"))?,
        version: 1,
        created_seq: 0,
        tm_create: fresh.now,
        tm_update: fresh.now,
        tm_close: None,
    };
    let rows = 1 + plan.members.len();
    let mut changes = Changes::with_capacity(talk.id, fresh.now, rows, rows);
    changes.write(Write::InsertTalk(talk.clone())).event(EventData::TalkCreated(talk));
    for agent in &plan.members {
        changes.join(new_participant(changes.talk_id, agent, fresh));
    }
    Ok(changes.done())
}

/// A direct create that finds the pair's talk: reopen it if closed, re-add
/// the caller, then the other agent, if not active. `active` tells, for the
/// caller and the other agent, whether each has an active record.
pub(crate) fn revive_direct(
    talk: &Talk,
    plan: &TalkPlan,
    active: [bool; 2],
    fresh: &Fresh<'_>,
) -> Result<Decision<Talk>, Error> {
    let (caller, other) = (&plan.members[0], &plan.members[1]);
    let missing: Vec<&AgentId> = [caller, other].into_iter().zip(active).filter(|(_, a)| !a).map(|(g, _)| g).collect();
    if talk.status == TalkStatus::Active && missing.is_empty() {
        return Ok(Decision::Repeat(talk.clone()));
    }
    fresh.ask(Request::new(caller, plan.command(), Some(talk), None, None), &[])?;
    let mut after = touched(talk, fresh.now);
    after.member_count += u32::try_from(missing.len()).unwrap_or(0);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard_talk(talk);
    if talk.status == TalkStatus::Closed {
        after.status = TalkStatus::Active;
        after.tm_close = None;
        changes
            .event(EventData::TalkReopened(after.clone()))
            .system_message(fresh, info(SystemEvent::TalkReopened, caller, Some(caller)));
    }
    changes.write(Write::UpdateTalk(after));
    for agent in missing {
        changes
            .join(new_participant(talk.id, agent, fresh))
            .system_message(fresh, info(SystemEvent::ParticipantJoined, agent, Some(caller)));
    }
    Ok(changes.done())
}

/// Rename, or change the detail.
pub(crate) fn update(
    talk: &Talk,
    actor: &Actor<'_>,
    input: &TalkChanges,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Talk>, Error> {
    syntax::new_name_present(talk.kind, input.name.as_deref(), limits)?;
    let guard = actor.guard()?;
    let renamed = input.name.as_ref().filter(|name| **name != talk.name);
    let redetailed = input.detail.as_ref().filter(|detail| **detail != talk.detail);
    if renamed.is_none() && redetailed.is_none() {
        return Ok(Decision::Repeat(talk.clone()));
    }
    fresh.ask(actor.request(Command::UpdateTalk(input), talk, None), &[])?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    let mut after = touched(talk, fresh.now);
    if let Some(name) = renamed {
        after.name.clone_from(name);
    }
    if let Some(detail) = redetailed {
        after.detail.clone_from(detail);
    }
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard_talk(talk).guard(guard).write(Write::UpdateTalk(after.clone())).event(EventData::TalkUpdated(after));
    if let Some(name) = renamed {
        let mut renamed = info(SystemEvent::TalkRenamed, actor.agent, Some(actor.agent));
        renamed.name = Some(name.clone());
        changes.system_message(fresh, renamed);
    }
    Ok(changes.done())
}

pub(crate) fn close(talk: &Talk, actor: &Actor<'_>, fresh: &Fresh<'_>) -> Result<Decision<Talk>, Error> {
    let guard = actor.guard()?;
    if talk.status == TalkStatus::Closed {
        return Ok(Decision::Repeat(talk.clone()));
    }
    fresh.ask(actor.request(Command::CloseTalk, talk, None), &[])?;
    let mut after = touched(talk, fresh.now);
    after.status = TalkStatus::Closed;
    after.tm_close = Some(fresh.now);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard_talk(talk)
        .guard(guard)
        .write(Write::UpdateTalk(after.clone()))
        .event(EventData::TalkClosed(after))
        .system_message(fresh, info(SystemEvent::TalkClosed, actor.agent, Some(actor.agent)));
    Ok(changes.done())
}

/// Reopen: any active participant; or, when the talk has no active
/// participant, a former one whose latest record left by itself.
pub(crate) fn reopen(talk: &Talk, actor: &Actor<'_>, fresh: &Fresh<'_>) -> Result<Decision<Talk>, Error> {
    let active = actor.active();
    let rejoins = active.is_none();
    if rejoins {
        let latest_left_by_itself =
            actor.records.last().is_some_and(|latest| latest.left_reason == Some(LeftReason::Left));
        if talk.member_count > 0 || !latest_left_by_itself {
            return Err(Error::NotParticipant);
        }
    }
    if talk.status == TalkStatus::Active {
        return Ok(Decision::Repeat(talk.clone()));
    }
    fresh.ask(actor.request(Command::ReopenTalk, talk, None), &[])?;
    let mut after = touched(talk, fresh.now);
    after.status = TalkStatus::Active;
    after.tm_close = None;
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard_talk(talk);
    if let Some(record) = active {
        changes.guard(crate::store::Guard::ParticipantActive { participant_id: record.id });
    } else {
        after.member_count += 1;
    }
    changes.write(Write::UpdateTalk(after.clone())).event(EventData::TalkReopened(after));
    if rejoins {
        changes.join(new_participant(talk.id, actor.agent, fresh));
    }
    changes.system_message(fresh, info(SystemEvent::TalkReopened, actor.agent, Some(actor.agent)));
    Ok(changes.done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::id::UuidV7Generator;
    use crate::rules::test_support::{agent, change, fresh, talk_with};

    #[test]
    fn closing_bumps_the_version_and_sets_tm_close() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let set = change(close(&talk, &Actor { agent: &a, records: &records }, &fresh(&clock, &ids)));
        let Some(Write::UpdateTalk(after)) = set.writes.first() else { panic!("the talk is written first") };
        assert_eq!(after.version, talk.version + 1);
        assert_eq!(after.status, TalkStatus::Closed);
        assert!(after.tm_close.is_some());
    }

    #[test]
    fn resolve_numbers_events_and_fills_every_seq_field() {
        let (talk, records) = talk_with(&["a", "b"]);
        assert_eq!(talk.created_seq, 1);
        assert_eq!(records.iter().map(|p| (p.joined_seq, p.seq)).collect::<Vec<_>>(), [(1, 2), (1, 3)]);
    }
}
