//! The rules: for each command, given what was read, decide in pure code
//! whether it is refused, a repeat that changes nothing, or a change set
//! with its events. No I/O here; the [`Hub`](crate::Hub) checks the syntax
//! ([`syntax`](crate::syntax)), reads, calls these, and applies.
//!
//! Each decider checks in the order of the API's "which check answers
//! first": visibility, membership, repeats, authorship, state
//! (`talk_closed`, `message_deleted`, `already_participant`,
//! `direct_talk_full`, `limit_exceeded`, `id_conflict`), references.
//!
//! One file per resource, as the HTTP adapter's routes.

pub(crate) mod messages;
pub(crate) mod participants;
pub(crate) mod reactions;
pub(crate) mod reads;
pub(crate) mod signals;
pub(crate) mod talks;

use crate::clock::Timestamp;
use crate::error::Error;
use crate::event::EventData;
use crate::id::{AgentId, IdGenerator, MessageId, ParticipantId, TalkId};
use crate::limits::Limits;
use crate::message::Media;
use crate::message::{Message, MessageKind, SystemEvent, SystemInfo};
use crate::participant::{Participant, ParticipantStatus};
use crate::policy::{Command, Policy, PolicyError, Request, Rewrite, Verdict};
use crate::store::{ChangeSet, Guard, NewEvent, Write};
use crate::syntax;
use crate::talk::Talk;

/// What a command comes to.
#[derive(Debug)]
pub(crate) enum Decision<T> {
    /// The state already holds: answer this, change nothing.
    Repeat(T),
    /// Apply this change set.
    Change(ChangeSet),
}

/// What one decision consults besides what was read: its time, its id
/// source, and the embedder's policy (with the limits a rewrite must keep).
pub(crate) struct Fresh<'a> {
    pub(crate) now: Timestamp,
    pub(crate) ids: &'a dyn IdGenerator,
    pub(crate) policy: &'a dyn Policy,
    pub(crate) limits: &'a Limits,
}

impl Fresh<'_> {
    /// Asks the embedder's policy, between the repeats step and authorship:
    /// `Ok(None)` to go on as asked, `Ok(Some(rewrite))` to go on with the
    /// policy's content (a send or an edit), `forbidden` when it refuses.
    /// `medias` are the message's, for the check of a rewritten text.
    pub(crate) fn ask(&self, request: Request<'_>, medias: &[Media]) -> Result<Option<Rewrite>, Error> {
        let failed = |why: String| Error::Internal(Box::new(PolicyError(why)));
        match self.policy.check(&request).map_err(|e| Error::Internal(Box::new(e)))? {
            Verdict::Allow => Ok(None),
            Verdict::Refuse(reason) => Err(Error::Forbidden(reason)),
            Verdict::Rewrite(_) if !request.command.has_text() => {
                Err(failed(format!("a rewrite of {:?}, which has no text", request.command)))
            }
            Verdict::Rewrite(rewrite) => {
                syntax::message_text(&rewrite.text, self.limits)
                    .and_then(|()| syntax::content_present(&rewrite.text, medias))
                    .and_then(|()| rewrite.mentions.as_deref().map_or(Ok(()), |m| syntax::mentions(m, self.limits)))
                    .map_err(|e| failed(format!("the policy's rewrite is not valid content: {e}")))?;
                Ok(Some(rewrite))
            }
        }
    }
}

/// What a command knows of its actor in the talk.
pub(crate) struct Actor<'a> {
    pub(crate) agent: &'a AgentId,
    /// The actor's records in the talk, in join order (never empty once visible).
    pub(crate) records: &'a [Participant],
}

impl<'a> Actor<'a> {
    /// What the policy is asked about `command` by this actor in `talk`.
    pub(crate) fn request(&self, command: Command<'a>, talk: &'a Talk, message: Option<&'a Message>) -> Request<'a> {
        Request::new(self.agent, command, Some(talk), self.active(), message)
    }

    pub(crate) fn active(&self) -> Option<&'a Participant> {
        self.records.iter().rev().find(|p| p.is_active())
    }

    /// Step 6: the active record, or `not_participant`.
    pub(crate) fn require_active(&self) -> Result<&'a Participant, Error> {
        self.active().ok_or(Error::NotParticipant)
    }

    /// The guard that the actor's active record is still active (step 6 if
    /// there is none).
    fn guard(&self) -> Result<Guard, Error> {
        Ok(Guard::ParticipantActive { participant_id: self.require_active()?.id })
    }
}

/// Builds a change set.
struct Changes {
    set: ChangeSet,
    talk_id: TalkId,
    now: Timestamp,
}

impl Changes {
    fn new(talk_id: TalkId, now: Timestamp) -> Self {
        Self { set: ChangeSet::default(), talk_id, now }
    }

    /// A change set of `writes` writes and `events` events (more may
    /// follow): each list is allocated once, at its size. A write or an
    /// event is a large value; a list grown from empty holds four, a block
    /// larger than the allocator keeps at hand for reuse.
    fn with_capacity(talk_id: TalkId, now: Timestamp, writes: usize, events: usize) -> Self {
        let set =
            ChangeSet { guards: Vec::new(), writes: Vec::with_capacity(writes), events: Vec::with_capacity(events) };
        Self { set, talk_id, now }
    }

    fn guard(&mut self, guard: Guard) -> &mut Self {
        self.set.guards.push(guard);
        self
    }

    /// The guard that the talk's state did not move since it was read.
    fn guard_talk(&mut self, talk: &Talk) -> &mut Self {
        self.guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
    }

    fn write(&mut self, write: Write) -> &mut Self {
        self.set.writes.push(write);
        self
    }

    fn event(&mut self, data: EventData) -> &mut Self {
        self.set.events.push(NewEvent { talk_id: self.talk_id, tm_create: self.now, data });
        self
    }

    /// Inserts a participant record, announced by `participant_joined`.
    fn join(&mut self, participant: Participant) -> &mut Self {
        self.write(Write::InsertParticipant(participant.clone())).event(EventData::ParticipantJoined(participant))
    }

    /// A system message: written, and announced by `message_created`.
    fn system_message(&mut self, fresh: &Fresh<'_>, info: SystemInfo) -> &mut Self {
        let message = new_system_message(self.talk_id, fresh, info);
        self.write(Write::InsertMessage(message.clone()));
        self.event(EventData::MessageCreated(message))
    }

    fn done<T>(self) -> Decision<T> {
        Decision::Change(self.set)
    }
}

fn new_system_message(talk_id: TalkId, fresh: &Fresh<'_>, info: SystemInfo) -> Message {
    let text = system_text(&info);
    Message {
        id: MessageId(fresh.ids.new_uuid()),
        talk_id,
        parent_id: None,
        kind: MessageKind::System,
        agent_id: None,
        text,
        medias: Vec::new(),
        mentions: Vec::new(),
        system: Some(info),
        reactions: Vec::new(),
        reply_count: 0,
        version: 1,
        seq: 0,
        request_digest: None,
        tm_create: fresh.now,
        tm_update: fresh.now,
        tm_edit: None,
        tm_delete: None,
    }
}

/// The English text of a system message.
fn system_text(info: &SystemInfo) -> String {
    let agent = &info.agent_id;
    match (info.event, &info.actor_id) {
        (SystemEvent::ParticipantJoined, Some(actor)) if actor != agent => {
            format!("{agent} joined the talk, added by {actor}.")
        }
        (SystemEvent::ParticipantJoined, _) => format!("{agent} joined the talk."),
        (SystemEvent::ParticipantLeft, _) => format!("{agent} left the talk."),
        (SystemEvent::ParticipantRemoved, Some(actor)) => format!("{agent} was removed by {actor}."),
        (SystemEvent::ParticipantRemoved, None) => format!("{agent} was removed."),
        (SystemEvent::TalkClosed, Some(actor)) => format!("{actor} closed the talk."),
        (SystemEvent::TalkClosed, None) => "The talk was closed: its last participant left.".to_owned(),
        (SystemEvent::TalkReopened, _) => format!("{agent} reopened the talk."),
        (SystemEvent::TalkRenamed, _) => {
            format!("{agent} renamed the talk to \"{}\".", info.name.as_deref().unwrap_or(""))
        }
    }
}

fn info(event: SystemEvent, agent: &AgentId, actor: Option<&AgentId>) -> SystemInfo {
    SystemInfo { event, agent_id: agent.clone(), actor_id: actor.cloned(), name: None }
}

fn new_participant(talk_id: TalkId, agent: &AgentId, fresh: &Fresh<'_>) -> Participant {
    Participant {
        id: ParticipantId(fresh.ids.new_uuid()),
        talk_id,
        agent_id: agent.clone(),
        status: ParticipantStatus::Active,
        left_reason: None,
        seq: 0,
        joined_seq: 0,
        left_seq: None,
        tm_joined: fresh.now,
        tm_left: None,
    }
}

/// A talk's state after a change of its state: version and `tm_update` move.
fn touched(talk: &Talk, now: Timestamp) -> Talk {
    Talk { version: talk.version + 1, tm_update: now, ..talk.clone() }
}

/// Test support shared by the rules' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::id::UuidV7Generator;
    use crate::limits::Limits;
    use crate::talk::{NewTalk, TalkKind};

    pub(crate) fn agent(s: &str) -> AgentId {
        AgentId::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn fresh<'a>(clock: &ManualClock, ids: &'a UuidV7Generator) -> Fresh<'a> {
        static LIMITS: std::sync::LazyLock<Limits> = std::sync::LazyLock::new(Limits::default);
        Fresh { now: clock.now(), ids, policy: &crate::policy::AllowAll, limits: &LIMITS }
    }

    /// A group talk of `members` (the first creates it), and their records.
    pub(crate) fn talk_with(members: &[&str]) -> (Talk, Vec<Participant>) {
        let clock = ManualClock::default();
        let ids = UuidV7Generator;
        let input = NewTalk {
            kind: TalkKind::Group,
            name: Some("t".into()),
            detail: None,
            participant_ids: members[1..].iter().map(|m| agent(m)).collect(),
        };
        let plan =
            crate::syntax::new_talk(&agent(members[0]), input, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let Ok(Decision::Change(set)) = talks::create(&plan, None, &Limits::default(), &fresh(&clock, &ids)) else {
            panic!("a new talk is a change")
        };
        let resolved = set.resolve(1).expect("the Hub numbers every inserted row");
        let mut talk = None;
        let mut records = Vec::new();
        for write in resolved.writes {
            match write {
                Write::InsertTalk(t) => talk = Some(t),
                Write::InsertParticipant(p) => records.push(p),
                _ => {}
            }
        }
        (talk.unwrap_or_else(|| panic!("talk written")), records)
    }

    pub(crate) fn change<T: std::fmt::Debug>(decision: Result<Decision<T>, Error>) -> ChangeSet {
        match decision {
            Ok(Decision::Change(set)) => set,
            other => panic!("expected a change, got {other:?}"),
        }
    }
}
