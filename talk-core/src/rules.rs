//! The rules: for each command, given what was read, decide in pure code
//! whether it is refused, a repeat that changes nothing, or a change set
//! with its events. No I/O here; the [`Hub`](crate::Hub) reads, calls these,
//! and applies.
//!
//! Each decider checks in the order of the API's "which check answers
//! first": syntax, visibility, membership, repeats, authorship, state
//! (`talk_closed`, `message_deleted`, `already_participant`,
//! `direct_talk_full`, `limit_exceeded`, `id_conflict`), references.

use crate::clock::Timestamp;
use crate::error::Error;
use crate::event::EventData;
use crate::id::{AgentId, IdGenerator, MessageId, ParticipantId, TalkId};
use crate::limits::Limits;
use crate::message::{Media, Message, MessageKind, SystemEvent, SystemInfo};
use crate::participant::{LeftReason, Participant, ParticipantStatus};
use crate::reaction::{Emoji, Reaction, ReactionChange};
use crate::store::{ChangeSet, Guard, NewEvent, Write};
use crate::talk::{AgentPair, Talk, TalkKind, TalkStatus};

/// What a command comes to.
#[derive(Debug)]
pub(crate) enum Decision<T> {
    /// The state already holds: answer this, change nothing.
    Repeat(T),
    /// Apply this change set.
    Change(ChangeSet),
}

/// The time and id source of one decision.
pub(crate) struct Fresh<'a> {
    pub(crate) now: Timestamp,
    pub(crate) ids: &'a dyn IdGenerator,
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

    fn guard(&mut self, guard: Guard) -> &mut Self {
        self.set.guards.push(guard);
        self
    }

    fn write(&mut self, write: Write) -> &mut Self {
        self.set.writes.push(write);
        self
    }

    fn event(&mut self, data: EventData) -> &mut Self {
        self.set.events.push(NewEvent { talk_id: self.talk_id, tm_create: self.now, data });
        self
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

// ---------------------------------------------------------------- talks

/// The input of `create_talk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTalk {
    /// Direct or group.
    pub kind: TalkKind,
    /// Required (1–200 characters) for a group talk; optional for a direct one.
    pub name: Option<String>,
    /// Optional detail.
    pub detail: Option<String>,
    /// The other agents. The creator joins anyway; duplicates are merged.
    pub participant_ids: Vec<AgentId>,
}

/// The validated shape of a `create_talk` request.
#[derive(Clone)]
pub(crate) struct TalkPlan {
    pub(crate) kind: TalkKind,
    pub(crate) name: String,
    pub(crate) detail: String,
    /// The creator first, then each listed agent once, in request order.
    pub(crate) members: Vec<AgentId>,
}

/// Step 4 of `create_talk`: syntax.
pub(crate) fn plan_talk(creator: &AgentId, input: NewTalk, limits: &Limits) -> Result<TalkPlan, Error> {
    let min_name = usize::from(input.kind == TalkKind::Group);
    let name = match (input.name, input.kind) {
        (None, TalkKind::Group) => return Err(Error::invalid_request("name is required for a group talk")),
        (name, _) => name.unwrap_or_default(),
    };
    crate::validate::text_field("name", &name, min_name, limits.talk_name_max)?;
    let detail = input.detail.unwrap_or_default();
    crate::validate::text_field("detail", &detail, 0, limits.talk_detail_max)?;
    let mut members = vec![creator.clone()];
    for agent in input.participant_ids {
        if !members.contains(&agent) {
            members.push(agent);
        }
    }
    if input.kind == TalkKind::Direct && members.len() != 2 {
        return Err(Error::invalid_request("participant_ids of a direct talk must name exactly one other agent"));
    }
    Ok(TalkPlan { kind: input.kind, name, detail, members })
}

/// Steps 9–10 of creating a new talk: the participant limit, then unknown
/// agents (`unknown` is the first listed agent the directory does not know).
pub(crate) fn create_talk(
    plan: TalkPlan,
    unknown: Option<AgentId>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Talk>, Error> {
    if plan.members.len() > limits.participants_per_talk_max {
        return Err(Error::LimitExceeded(format!(
            "a talk has at most {} active participants",
            limits.participants_per_talk_max
        )));
    }
    if let Some(agent) = unknown {
        return Err(Error::UnknownAgent(agent));
    }
    let creator = &plan.members[0];
    let direct_pair = match plan.kind {
        TalkKind::Direct => AgentPair::new(creator.clone(), plan.members[1].clone()),
        TalkKind::Group => None,
    };
    let talk = Talk {
        id: TalkId(fresh.ids.new_uuid()),
        kind: plan.kind,
        direct_pair,
        name: plan.name,
        detail: plan.detail,
        status: TalkStatus::Active,
        creator_id: creator.clone(),
        member_count: u32::try_from(plan.members.len()).map_err(|_| Error::invariant("member count overflow"))?,
        version: 1,
        created_seq: 0,
        tm_create: fresh.now,
        tm_update: fresh.now,
        tm_close: None,
    };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.write(Write::InsertTalk(talk.clone())).event(EventData::TalkCreated(talk.clone()));
    for agent in &plan.members {
        let participant = new_participant(talk.id, agent, fresh);
        changes.write(Write::InsertParticipant(participant.clone())).event(EventData::ParticipantJoined(participant));
    }
    Ok(changes.done())
}

/// A direct create that finds the pair's talk: reopen it if closed, re-add
/// the caller, then the other agent, if not active. `active` tells, for the
/// caller and the other agent, whether each has an active record.
pub(crate) fn revive_direct_talk(
    talk: &Talk,
    caller: &AgentId,
    other: &AgentId,
    active: [bool; 2],
    fresh: &Fresh<'_>,
) -> Decision<Talk> {
    let missing: Vec<&AgentId> = [caller, other].into_iter().zip(active).filter(|(_, a)| !a).map(|(g, _)| g).collect();
    if talk.status == TalkStatus::Active && missing.is_empty() {
        return Decision::Repeat(talk.clone());
    }
    let mut after = touched(talk, fresh.now);
    after.member_count += u32::try_from(missing.len()).unwrap_or(0);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version });
    if talk.status == TalkStatus::Closed {
        after.status = TalkStatus::Active;
        after.tm_close = None;
        changes
            .event(EventData::TalkReopened(after.clone()))
            .system_message(fresh, info(SystemEvent::TalkReopened, caller, Some(caller)));
    }
    changes.write(Write::UpdateTalk(after));
    for agent in missing {
        let participant = new_participant(talk.id, agent, fresh);
        changes
            .write(Write::InsertParticipant(participant.clone()))
            .event(EventData::ParticipantJoined(participant))
            .system_message(fresh, info(SystemEvent::ParticipantJoined, agent, Some(caller)));
    }
    changes.done()
}

/// The input of `update_talk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TalkChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new detail.
    pub detail: Option<String>,
}

/// Step 4 of `update_talk`: the checks that need no stored state.
pub(crate) fn check_talk_changes(input: &TalkChanges, limits: &Limits) -> Result<(), Error> {
    if input.name.is_none() && input.detail.is_none() {
        return Err(Error::invalid_request("name or detail is required"));
    }
    if let Some(name) = &input.name {
        crate::validate::text_field("name", name, 0, limits.talk_name_max)?;
    }
    if let Some(detail) = &input.detail {
        crate::validate::text_field("detail", detail, 0, limits.talk_detail_max)?;
    }
    Ok(())
}

/// What a command knows of its actor in the talk.
pub(crate) struct Actor<'a> {
    pub(crate) agent: &'a AgentId,
    /// The actor's records in the talk, in join order (never empty once visible).
    pub(crate) records: &'a [Participant],
}

impl Actor<'_> {
    pub(crate) fn active(&self) -> Option<&Participant> {
        self.records.iter().rev().find(|p| p.is_active())
    }

    /// Step 6: the active record, or `not_participant`.
    pub(crate) fn require_active(&self) -> Result<&Participant, Error> {
        self.active().ok_or(Error::NotParticipant)
    }

    fn guard(&self) -> Result<Guard, Error> {
        Ok(Guard::ParticipantActive { participant_id: self.require_active()?.id })
    }
}

pub(crate) fn update_talk(
    talk: &Talk,
    actor: &Actor<'_>,
    input: TalkChanges,
    fresh: &Fresh<'_>,
) -> Result<Decision<Talk>, Error> {
    if talk.kind == TalkKind::Group && input.name.as_deref() == Some("") {
        return Err(Error::invalid_request("name of a group talk must be 1 to 200 characters"));
    }
    let guard = actor.guard()?;
    let renamed = input.name.filter(|name| name != &talk.name);
    let redetailed = input.detail.filter(|detail| detail != &talk.detail);
    if renamed.is_none() && redetailed.is_none() {
        return Ok(Decision::Repeat(talk.clone()));
    }
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    let mut after = touched(talk, fresh.now);
    if let Some(name) = &renamed {
        after.name.clone_from(name);
    }
    if let Some(detail) = redetailed {
        after.detail = detail;
    }
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .write(Write::UpdateTalk(after.clone()))
        .event(EventData::TalkUpdated(after));
    if let Some(name) = renamed {
        let mut renamed = info(SystemEvent::TalkRenamed, actor.agent, Some(actor.agent));
        renamed.name = Some(name);
        changes.system_message(fresh, renamed);
    }
    Ok(changes.done())
}

pub(crate) fn close_talk(talk: &Talk, actor: &Actor<'_>, fresh: &Fresh<'_>) -> Result<Decision<Talk>, Error> {
    let guard = actor.guard()?;
    if talk.status == TalkStatus::Closed {
        return Ok(Decision::Repeat(talk.clone()));
    }
    let mut after = touched(talk, fresh.now);
    after.status = TalkStatus::Closed;
    after.tm_close = Some(fresh.now);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .write(Write::UpdateTalk(after.clone()))
        .event(EventData::TalkClosed(after))
        .system_message(fresh, info(SystemEvent::TalkClosed, actor.agent, Some(actor.agent)));
    Ok(changes.done())
}

/// Reopen: any active participant; or, when the talk has no active
/// participant, a former one whose latest record left by itself.
pub(crate) fn reopen_talk(talk: &Talk, actor: &Actor<'_>, fresh: &Fresh<'_>) -> Result<Decision<Talk>, Error> {
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
    let mut after = touched(talk, fresh.now);
    after.status = TalkStatus::Active;
    after.tm_close = None;
    let mut changes = Changes::new(talk.id, fresh.now);
    changes.guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version });
    if let Some(record) = active {
        changes.guard(Guard::ParticipantActive { participant_id: record.id });
    } else {
        after.member_count += 1;
    }
    changes.write(Write::UpdateTalk(after.clone())).event(EventData::TalkReopened(after));
    if rejoins {
        let participant = new_participant(talk.id, actor.agent, fresh);
        changes.write(Write::InsertParticipant(participant.clone())).event(EventData::ParticipantJoined(participant));
    }
    changes.system_message(fresh, info(SystemEvent::TalkReopened, actor.agent, Some(actor.agent)));
    Ok(changes.done())
}

// ---------------------------------------------------------- participants

/// Adds `agent`, whose records in the talk are `agent_records`; `known`
/// tells whether the directory knows it.
pub(crate) fn add_participant(
    talk: &Talk,
    actor: &Actor<'_>,
    agent: &AgentId,
    agent_records: &[Participant],
    known: bool,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Participant>, Error> {
    let guard = actor.guard()?;
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
    let participant = new_participant(talk.id, agent, fresh);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .write(Write::UpdateTalk(after))
        .write(Write::InsertParticipant(participant.clone()))
        .event(EventData::ParticipantJoined(participant))
        .system_message(fresh, info(SystemEvent::ParticipantJoined, agent, Some(actor.agent)));
    Ok(changes.done())
}

/// Leave (the caller's own record) or remove (another's). `target` belongs
/// to the talk.
pub(crate) fn remove_participant(
    talk: &Talk,
    actor: &Actor<'_>,
    target: &Participant,
    fresh: &Fresh<'_>,
) -> Result<Decision<Participant>, Error> {
    let own = &target.agent_id == actor.agent;
    if own {
        if !target.is_active() {
            return Ok(Decision::Repeat(target.clone()));
        }
    } else {
        actor.require_active()?;
        if !target.is_active() {
            return Ok(Decision::Repeat(target.clone()));
        }
        if talk.status == TalkStatus::Closed {
            return Err(Error::TalkClosed(talk.id));
        }
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
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(Guard::ParticipantActive { participant_id: target.id });
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

// --------------------------------------------------------------- messages

/// The input of `send_message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// The text: 0–4000 characters, empty only with medias.
    pub text: String,
    /// The top-level message of the same talk this replies to.
    pub parent_id: Option<MessageId>,
    /// Attached medias, at most 10.
    pub medias: Vec<Media>,
    /// A client-chosen id that makes the send safe to retry: the same id
    /// from the same agent in the same talk with the same text, parent and
    /// medias answers the stored message; any other use of a taken id
    /// answers `id_conflict`.
    pub id: Option<MessageId>,
}

/// The digest of a send request, kept with a message whose id the client chose.
pub(crate) fn request_digest(input: &NewMessage) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!({
        "text": input.text,
        "parent_id": input.parent_id,
        "medias": input.medias,
    });
    let hash = Sha256::digest(canonical.to_string().as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends a message. `taken` is the stored message with the client-chosen
/// id, if any; `parent` the stored message named by `parent_id`, if any.
pub(crate) fn send_message(
    talk: &Talk,
    actor: &Actor<'_>,
    input: NewMessage,
    taken: Option<Message>,
    parent: Option<&Message>,
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    let guard = actor.guard()?;
    let digest = input.id.map(|_| request_digest(&input));
    if let Some(stored) = &taken {
        let same_request = stored.talk_id == talk.id
            && stored.agent_id.as_ref() == Some(actor.agent)
            && stored.request_digest.is_some()
            && stored.request_digest == digest;
        if same_request {
            return Ok(Decision::Repeat(stored.clone()));
        }
    }
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if taken.is_some() {
        return Err(Error::IdConflict);
    }
    if let Some(parent_id) = input.parent_id {
        let valid = parent.is_some_and(|p| p.id == parent_id && p.talk_id == talk.id && p.is_top_level());
        if !valid {
            return Err(Error::InvalidParent(format!("parent_id {parent_id} is not a top-level message of this talk")));
        }
    }
    let message = Message {
        id: input.id.unwrap_or_else(|| MessageId(fresh.ids.new_uuid())),
        talk_id: talk.id,
        parent_id: input.parent_id,
        kind: MessageKind::Normal,
        agent_id: Some(actor.agent.clone()),
        text: input.text,
        medias: input.medias,
        system: None,
        reactions: Vec::new(),
        reply_count: 0,
        version: 1,
        seq: 0,
        request_digest: digest,
        tm_create: fresh.now,
        tm_update: fresh.now,
        tm_edit: None,
        tm_delete: None,
    };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .write(Write::InsertMessage(message.clone()));
    if let Some(parent_id) = message.parent_id {
        changes.write(Write::IncrementReplyCount(parent_id));
    }
    changes.event(EventData::MessageCreated(message));
    Ok(changes.done())
}

/// Authorship (step 8): only the author of a normal message.
fn require_author(message: &Message, actor: &Actor<'_>) -> Result<(), Error> {
    if message.agent_id.as_ref() == Some(actor.agent) { Ok(()) } else { Err(Error::NotAuthor) }
}

pub(crate) fn edit_message(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    text: String,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    crate::validate::message_content(&text, &message.medias, limits)?;
    let guard = actor.guard()?;
    require_author(message, actor)?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if message.is_deleted() {
        return Err(Error::MessageDeleted(message.id));
    }
    let after = Message {
        text,
        version: message.version + 1,
        tm_edit: Some(fresh.now),
        tm_update: fresh.now,
        ..message.clone()
    };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version })
        .write(Write::UpdateMessage(after.clone()))
        .event(EventData::MessageUpdated(after));
    Ok(changes.done())
}

pub(crate) fn delete_message(
    actor: &Actor<'_>,
    message: &Message,
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    let guard = actor.guard()?;
    if message.is_deleted() {
        return Ok(Decision::Repeat(message.clone()));
    }
    require_author(message, actor)?;
    let mut tombstone =
        Message { version: message.version + 1, tm_delete: Some(fresh.now), tm_update: fresh.now, ..message.clone() };
    tombstone.redact();
    let mut changes = Changes::new(message.talk_id, fresh.now);
    changes
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version })
        .write(Write::UpdateMessage(tombstone.clone()))
        .write(Write::DeleteAllReactions(message.id))
        .write(Write::RedactMessage(message.id))
        .event(EventData::MessageDeleted(tombstone));
    Ok(changes.done())
}

// -------------------------------------------------------------- reactions

/// Adds the actor's reaction; `exists` tells whether it is already there.
pub(crate) fn add_reaction(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    emoji: Emoji,
    exists: bool,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<()>, Error> {
    let guard = actor.guard()?;
    if exists {
        return Ok(Decision::Repeat(()));
    }
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if message.is_deleted() {
        return Err(Error::MessageDeleted(message.id));
    }
    let new_emoji = !message.reactions.iter().any(|r| r.emoji == emoji);
    if new_emoji && message.reactions.len() >= limits.distinct_emoji_per_message_max {
        return Err(Error::LimitExceeded(format!(
            "a message has at most {} distinct emoji",
            limits.distinct_emoji_per_message_max
        )));
    }
    let reaction =
        Reaction { message_id: message.id, emoji, agent_id: actor.agent.clone(), seq: 0, tm_create: fresh.now };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version });
    if new_emoji {
        // A new emoji changes the message's shape: concurrent new emoji
        // conflict, so the distinct-emoji limit holds.
        changes.write(Write::SetMessageVersion { message_id: message.id, version: message.version + 1 });
    }
    changes.write(Write::InsertReaction(reaction)).event(EventData::ReactionAdded(ReactionChange {
        message_id: message.id,
        emoji,
        agent_id: actor.agent.clone(),
    }));
    Ok(changes.done())
}

/// Removes the actor's reaction; `exists` tells whether it is there.
pub(crate) fn remove_reaction(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    emoji: Emoji,
    exists: bool,
    fresh: &Fresh<'_>,
) -> Result<Decision<()>, Error> {
    let guard = actor.guard()?;
    if !exists {
        return Ok(Decision::Repeat(()));
    }
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if message.is_deleted() {
        return Err(Error::MessageDeleted(message.id));
    }
    let last_of_emoji = message.reactions.iter().find(|r| r.emoji == emoji).is_none_or(|r| r.count <= 1);
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::TalkVersion { talk_id: talk.id, version: talk.version })
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version });
    if last_of_emoji {
        changes.write(Write::SetMessageVersion { message_id: message.id, version: message.version + 1 });
    }
    changes
        .write(Write::DeleteReaction {
            message_id: message.id,
            emoji,
            agent_id: actor.agent.clone(),
            tm_update: fresh.now,
        })
        .event(EventData::ReactionRemoved(ReactionChange {
            message_id: message.id,
            emoji,
            agent_id: actor.agent.clone(),
        }));
    Ok(changes.done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::id::UuidV7Generator;
    use crate::message::ReactionSummary;

    fn agent(s: &str) -> AgentId {
        AgentId::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fresh<'a>(clock: &ManualClock, ids: &'a UuidV7Generator) -> Fresh<'a> {
        Fresh { now: clock.now(), ids }
    }

    fn talk_with(members: &[&str]) -> (Talk, Vec<Participant>) {
        let clock = ManualClock::default();
        let ids = UuidV7Generator;
        let plan = plan_talk(
            &agent(members[0]),
            NewTalk {
                kind: TalkKind::Group,
                name: Some("t".into()),
                detail: None,
                participant_ids: members[1..].iter().map(|m| agent(m)).collect(),
            },
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let Ok(Decision::Change(set)) = create_talk(plan, None, &Limits::default(), &fresh(&clock, &ids)) else {
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

    fn message_by(author: &str, talk: &Talk) -> Message {
        let clock = ManualClock::default();
        Message {
            id: MessageId(uuid::Uuid::now_v7()),
            talk_id: talk.id,
            parent_id: None,
            kind: MessageKind::Normal,
            agent_id: Some(agent(author)),
            text: "x".into(),
            medias: Vec::new(),
            system: None,
            reactions: Vec::new(),
            reply_count: 0,
            version: 1,
            seq: 10,
            request_digest: None,
            tm_create: clock.now(),
            tm_update: clock.now(),
            tm_edit: None,
            tm_delete: None,
        }
    }

    fn change<T: std::fmt::Debug>(decision: Result<Decision<T>, Error>) -> ChangeSet {
        match decision {
            Ok(Decision::Change(set)) => set,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn a_send_is_guarded_by_talk_version_and_membership_and_bumps_nothing() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let actor = Actor { agent: &a, records: &records[..1] };
        let set = change(send_message(
            &talk,
            &actor,
            NewMessage { text: "hi".into(), ..NewMessage::default() },
            None,
            None,
            &fresh(&clock, &ids),
        ));
        assert_eq!(
            set.guards,
            [
                Guard::TalkVersion { talk_id: talk.id, version: talk.version },
                Guard::ParticipantActive { participant_id: records[0].id }
            ]
        );
        assert!(
            set.writes.iter().all(|w| matches!(w, Write::InsertMessage(_))),
            "no talk write: senders never conflict"
        );
    }

    #[test]
    fn closing_bumps_the_version_and_sets_tm_close() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let set = change(close_talk(&talk, &Actor { agent: &a, records: &records }, &fresh(&clock, &ids)));
        let Some(Write::UpdateTalk(after)) = set.writes.first() else { panic!("the talk is written first") };
        assert_eq!(after.version, talk.version + 1);
        assert_eq!(after.status, TalkStatus::Closed);
        assert!(after.tm_close.is_some());
    }

    #[test]
    fn only_a_new_emoji_or_an_emptied_one_moves_the_message_version() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a", "b"]);
        let b = agent("b");
        let actor = Actor { agent: &b, records: &records[1..] };
        let mut message = message_by("a", &talk);
        let thumbs = Emoji::parse("+1").unwrap_or_else(|e| panic!("{e}"));
        let limits = Limits::default();
        let bumps =
            |set: &ChangeSet| set.writes.iter().any(|w| matches!(w, Write::SetMessageVersion { version: 2, .. }));
        let first = change(add_reaction(&talk, &actor, &message, thumbs, false, &limits, &fresh(&clock, &ids)));
        assert!(bumps(&first));
        message.reactions.push(ReactionSummary { emoji: thumbs, count: 1, agent_ids: vec![agent("a")] });
        let second = change(add_reaction(&talk, &actor, &message, thumbs, false, &limits, &fresh(&clock, &ids)));
        assert!(!bumps(&second));
        message.reactions[0].count = 2;
        let not_last = change(remove_reaction(&talk, &actor, &message, thumbs, true, &fresh(&clock, &ids)));
        assert!(!bumps(&not_last));
        message.reactions[0].count = 1;
        let last = change(remove_reaction(&talk, &actor, &message, thumbs, true, &fresh(&clock, &ids)));
        assert!(bumps(&last));
    }

    #[test]
    fn the_last_leave_closes_an_active_talk_with_no_actor() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (mut talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let set = change(remove_participant(
            &talk,
            &Actor { agent: &a, records: &records },
            &records[0],
            &fresh(&clock, &ids),
        ));
        let types: Vec<_> = set.events.iter().map(|e| e.data.type_name()).collect();
        assert_eq!(types, ["message_created", "participant_left", "talk_closed", "message_created"]);
        let Some(EventData::MessageCreated(closing)) = set.events.last().map(|e| &e.data) else { panic!() };
        assert_eq!(closing.system.as_ref().map(|s| s.actor_id.clone()), Some(None));
        talk.status = TalkStatus::Closed;
        let set = change(remove_participant(
            &talk,
            &Actor { agent: &a, records: &records },
            &records[0],
            &fresh(&clock, &ids),
        ));
        assert_eq!(set.events.len(), 2, "a closed talk is not closed again");
    }

    #[test]
    fn the_request_digest_covers_text_parent_and_medias() {
        let base = NewMessage { text: "a".into(), ..NewMessage::default() };
        let same = request_digest(&NewMessage { id: Some(MessageId(uuid::Uuid::now_v7())), ..base.clone() });
        assert_eq!(request_digest(&base), same, "the id itself is not part of the request");
        assert_ne!(request_digest(&base), request_digest(&NewMessage { text: "b".into(), ..base.clone() }));
        let reply = NewMessage { parent_id: Some(MessageId(uuid::Uuid::now_v7())), ..base.clone() };
        assert_ne!(request_digest(&base), request_digest(&reply));
        let media = Media { media_type: "image/png".into(), url: "https://x.test/a.png".into(), name: "a.png".into() };
        assert_ne!(request_digest(&base), request_digest(&NewMessage { medias: vec![media], ..base }));
    }

    #[test]
    fn resolve_numbers_events_and_fills_every_seq_field() {
        let (talk, records) = talk_with(&["a", "b"]);
        assert_eq!(talk.created_seq, 1);
        assert_eq!(records.iter().map(|p| (p.joined_seq, p.seq)).collect::<Vec<_>>(), [(1, 2), (1, 3)]);
    }
}
