//! The scenario every fault case starts from, deterministic ids, and the
//! snapshots compared after a fault.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use talk_core::store::StoreError;
use talk_core::{
    AgentId, AgentPair, Emoji, Error, Event, EventData, Hub, IdGenerator, ManualClock, Message, MessageId, NewMessage,
    NewTalk, PageRequest, Participant, ParticipantFilter, ParticipantId, ParticipantRef, ParticipantStatus, Reaction,
    Store, Talk, TalkChanges, TalkId, TalkKind, TalkStatus,
};

// ------------------------------------------------------ deterministic ids

/// An [`IdGenerator`] that answers `1, 2, 3, …` as UUIDs: two Hubs that run
/// the same commands make the same ids.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// How many ids it made.
    pub fn issued(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl IdGenerator for SequentialIds {
    fn new_uuid(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.0.fetch_add(1, Ordering::SeqCst) + 1))
    }
}

/// A Hub for the scenarios: deterministic ids and a manual clock.
pub fn scenario_hub(store: Arc<dyn Store>, ids: &Arc<SequentialIds>, clock: &Arc<ManualClock>) -> Hub {
    Hub::builder(store).ids(ids.clone()).clock(clock.clone()).build()
}

// -------------------------------------------------------------- scenario

/// The agents of the scenarios: alice, bob, carol, dave, erin.
pub fn agents() -> [AgentId; 5] {
    ["alice", "bob", "carol", "dave", "erin"].map(|a| AgentId::parse(a).unwrap_or_else(|e| panic!("{a}: {e}")))
}

/// The emoji the scenarios react with.
pub fn emoji() -> [Emoji; 2] {
    ["👍", "🎉"].map(|e| Emoji::parse(e).unwrap_or_else(|err| panic!("{e}: {err}")))
}

/// What [`setup`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixture {
    /// "Plans": alice (creator), bob and carol; active.
    pub group: TalkId,
    /// alice's "hello" in `group`, with bob's 👍 and carol's reply.
    pub message: MessageId,
    /// carol's record in `group`.
    pub carol_record: ParticipantId,
    /// "Lonely": dave alone; active.
    pub lonely: TalkId,
    /// "Retro": erin's talk, closed when she left it alone.
    pub retro: TalkId,
}

/// Makes the [`Fixture`] every command of [`HubCommand`] applies to.
///
/// # Errors
/// What the Hub answers, should a step fail.
pub async fn setup(hub: &Hub) -> talk_core::Result<Fixture> {
    let [alice, bob, carol, dave, erin] = agents();
    let group = hub.create_talk(&alice, group_talk("Plans", vec![bob.clone(), carol.clone()])).await?.resource.id;
    let hello = NewMessage { text: "hello".into(), ..NewMessage::default() };
    let message = hub.send_message(&alice, group, hello).await?.resource.id;
    hub.add_reaction(&bob, message, "👍").await?;
    let reply = NewMessage { text: "first reply".into(), parent_id: Some(message), ..NewMessage::default() };
    hub.send_message(&carol, group, reply).await?;
    let carol_record = hub
        .participants(&alice, group, ParticipantFilter::Active, &PageRequest::first())
        .await?
        .items
        .iter()
        .find(|p| p.agent_id == carol)
        .map(|p| p.id)
        .ok_or_else(|| Error::invalid_request("carol has no record in the group"))?;
    let lonely = hub.create_talk(&dave, group_talk("Lonely", Vec::new())).await?.resource.id;
    let retro = hub.create_talk(&erin, group_talk("Retro", Vec::new())).await?.resource.id;
    hub.remove_participant(&erin, retro, ParticipantRef::Me).await?;
    Ok(Fixture { group, message, carol_record, lonely, retro })
}

fn group_talk(name: &str, others: Vec<AgentId>) -> NewTalk {
    NewTalk { kind: TalkKind::Group, name: Some(name.into()), detail: None, participant_ids: others }
}

/// Every command of the Hub that writes, each as one concrete call on the
/// [`Fixture`] that succeeds there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubCommand {
    /// alice creates a group talk with bob, carol and dave.
    CreateGroup,
    /// alice creates a direct talk with dave.
    CreateDirect,
    /// alice adds dave to the group.
    Add,
    /// alice removes carol from the group.
    Remove,
    /// dave leaves "Lonely", the last one: it closes.
    Leave,
    /// alice closes the group.
    Close,
    /// erin reopens "Retro", which she had left alone: she joins again.
    Reopen,
    /// alice renames the group.
    Rename,
    /// carol sends a message to the group.
    Send,
    /// bob replies to the fixture's message.
    Reply,
    /// alice edits the fixture's message.
    Edit,
    /// alice deletes the fixture's message (its reactions go, its content
    /// goes from earlier events).
    Delete,
    /// carol reacts 🎉 to the fixture's message.
    React,
    /// bob takes back his 👍 on the fixture's message.
    Unreact,
}

impl HubCommand {
    /// Every command.
    pub const ALL: [Self; 14] = [
        Self::CreateGroup,
        Self::CreateDirect,
        Self::Add,
        Self::Remove,
        Self::Leave,
        Self::Close,
        Self::Reopen,
        Self::Rename,
        Self::Send,
        Self::Reply,
        Self::Edit,
        Self::Delete,
        Self::React,
        Self::Unreact,
    ];

    /// A short name.
    /// Whether the command's change inserts a row (a talk, a record, a
    /// message — system messages too — or a reaction), by which the Hub can
    /// tell whether it committed when the store could not say.
    pub fn inserts_a_row(self) -> bool {
        !matches!(self, Self::Edit | Self::Delete | Self::Unreact)
    }

    /// The command's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateGroup => "create group talk",
            Self::CreateDirect => "create direct talk",
            Self::Add => "add participant",
            Self::Remove => "remove participant",
            Self::Leave => "leave",
            Self::Close => "close",
            Self::Reopen => "reopen",
            Self::Rename => "rename",
            Self::Send => "send",
            Self::Reply => "reply",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::React => "react",
            Self::Unreact => "unreact",
        }
    }

    /// Runs the command on the Hub.
    ///
    /// # Errors
    /// What the Hub answers.
    pub async fn run(self, hub: &Hub, fixture: &Fixture) -> talk_core::Result<()> {
        let [alice, bob, carol, dave, erin] = agents();
        let Fixture { group, message, carol_record, lonely, retro } = *fixture;
        let text = |text: &str| NewMessage { text: text.into(), ..NewMessage::default() };
        match self {
            Self::CreateGroup => hub.create_talk(&alice, group_talk("New", vec![bob, carol, dave])).await.map(drop),
            Self::CreateDirect => {
                let input = NewTalk { kind: TalkKind::Direct, name: None, detail: None, participant_ids: vec![dave] };
                hub.create_talk(&alice, input).await.map(drop)
            }
            Self::Add => hub.add_participant(&alice, group, &dave).await.map(drop),
            Self::Remove => hub.remove_participant(&alice, group, ParticipantRef::Id(carol_record)).await.map(drop),
            Self::Leave => hub.remove_participant(&dave, lonely, ParticipantRef::Me).await.map(drop),
            Self::Close => hub.close_talk(&alice, group).await.map(drop),
            Self::Reopen => hub.reopen_talk(&erin, retro).await.map(drop),
            Self::Rename => {
                let changes = TalkChanges { name: Some("Plans v2".into()), detail: Some("renamed".into()) };
                hub.update_talk(&alice, group, changes).await.map(drop)
            }
            Self::Send => hub.send_message(&carol, group, text("hi all")).await.map(drop),
            Self::Reply => {
                let reply = NewMessage { parent_id: Some(message), ..text("re: hello") };
                hub.send_message(&bob, group, reply).await.map(drop)
            }
            Self::Edit => hub.edit_message(&alice, message, "hello, edited".into()).await.map(drop),
            Self::Delete => hub.delete_message(&alice, message).await.map(drop),
            Self::React => hub.add_reaction(&carol, message, "🎉").await.map(drop),
            Self::Unreact => hub.remove_reaction(&bob, message, "👍").await.map(drop),
        }
    }
}

/// The command every case runs after its fault: erin creates a talk with
/// alice, and alice sends to it. Answers the new talk's events' first `seq`.
///
/// # Errors
/// What the Hub answers.
pub async fn next_command(hub: &Hub) -> talk_core::Result<u64> {
    let [alice, _, _, _, erin] = agents();
    let talk = hub.create_talk(&erin, group_talk("Next", vec![alice.clone()])).await?.resource;
    let text = NewMessage { text: "after the fault".into(), ..NewMessage::default() };
    hub.send_message(&alice, talk.id, text).await?;
    Ok(talk.created_seq)
}

// -------------------------------------------------------------- snapshots

/// What a [`Snapshot`] reads: the ids it probes (so that a row written
/// without its event is found too), the agents and the emoji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Universe {
    /// Ids probed as talk, participant and message ids.
    pub ids: BTreeSet<Uuid>,
    /// Agents whose lists are read.
    pub agents: Vec<AgentId>,
    /// Emoji whose reaction lists are read.
    pub emoji: Vec<Emoji>,
}

impl Universe {
    /// The ids `1..=count` of [`SequentialIds`], the scenario's agents and emoji.
    pub fn sequential(count: u64) -> Self {
        Self {
            ids: (1..=u128::from(count)).map(Uuid::from_u128).collect(),
            agents: agents().to_vec(),
            emoji: emoji().to_vec(),
        }
    }

    /// Every id and emoji the events name, and `agents`.
    pub fn from_log(log: &[Event], agents: Vec<AgentId>) -> Self {
        let mut ids = BTreeSet::new();
        let mut emoji = BTreeSet::new();
        for event in log {
            ids.insert(event.talk_id.0);
            match &event.data {
                EventData::TalkCreated(t)
                | EventData::TalkUpdated(t)
                | EventData::TalkClosed(t)
                | EventData::TalkReopened(t) => {
                    ids.insert(t.id.0);
                }
                EventData::ParticipantJoined(p) | EventData::ParticipantLeft(p) => {
                    ids.insert(p.id.0);
                }
                EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => {
                    ids.insert(m.id.0);
                }
                EventData::ReactionAdded(r) | EventData::ReactionRemoved(r) => {
                    ids.insert(r.message_id.0);
                    emoji.insert(r.emoji);
                }
                EventData::TalkRead(r) => {
                    ids.insert(r.participant_id.0);
                }
            }
        }
        Self { ids, agents, emoji: emoji.into_iter().collect() }
    }
}

/// One list read of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A talk, or none.
    Talk(Option<Talk>),
    /// A list of talks.
    Talks(Vec<Talk>),
    /// A list of participant records.
    Participants(Vec<Participant>),
    /// A list of messages.
    Messages(Vec<Message>),
    /// A list of reactions.
    Reactions(Vec<Reaction>),
    /// A list of events.
    Events(Vec<Event>),
}

/// Everything a store answers about a [`Universe`]: the rows, the whole
/// event log, and every list read, so that two snapshots are equal exactly
/// when no read can tell the stores apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The safe head.
    pub head: u64,
    /// The low-water mark.
    pub low_water_mark: u64,
    /// The whole event log.
    pub log: Vec<Event>,
    /// Every talk found among the universe's ids.
    pub talks: Vec<Talk>,
    /// Every participant record found among the universe's ids.
    pub participants: Vec<Participant>,
    /// Every message found among the universe's ids.
    pub messages: Vec<Message>,
    /// Every reaction to those messages with the universe's emoji.
    pub reactions: Vec<Reaction>,
    /// Every list read, by what it asked.
    pub reads: BTreeMap<String, Read>,
}

/// The most items any list read of a snapshot asks for.
pub(super) const ALL: usize = 1_000_000;

/// Reads a [`Snapshot`] of `store`.
///
/// # Errors
/// The first read that fails.
pub async fn snapshot(store: &dyn Store, universe: &Universe) -> Result<Snapshot, StoreError> {
    let head = store.head().await?;
    let low_water_mark = store.low_water_mark().await?;
    let mut log: Vec<Event> = Vec::new();
    loop {
        let page = store.events(log.last().map_or(low_water_mark, |e| e.seq), 10_000).await?;
        if page.is_empty() {
            break;
        }
        log.extend(page);
    }
    let mut talks = Vec::new();
    let mut participants = Vec::new();
    let mut messages = Vec::new();
    for &id in &universe.ids {
        talks.extend(store.talk(TalkId(id)).await?);
        participants.extend(store.participant(ParticipantId(id)).await?);
        messages.extend(store.message(MessageId(id), ALL).await?);
    }
    let mut reads = BTreeMap::new();
    let mut reactions = Vec::new();
    for talk in &talks {
        let id = talk.id;
        reads.insert(format!("participants {id}"), Read::Participants(store.participants(id, None, None, ALL).await?));
        for status in [ParticipantStatus::Active, ParticipantStatus::Left] {
            let list = store.participants(id, Some(status), None, ALL).await?;
            reads.insert(format!("participants {id} {status:?}"), Read::Participants(list));
        }
        for replies in [false, true] {
            let list = store.messages(id, replies, None, ALL, ALL).await?;
            reads.insert(format!("messages {id} replies={replies}"), Read::Messages(list));
        }
        for agent in &universe.agents {
            let records = store.agent_records(id, agent).await?;
            reads.insert(format!("records {id} {agent}"), Read::Participants(records));
            let events = store.agent_events(agent, Some(id), 0, ALL).await?;
            reads.insert(format!("agent events {agent} in {id}"), Read::Events(events));
        }
    }
    for message in &messages {
        let id = message.id;
        reads.insert(format!("replies {id}"), Read::Messages(store.replies(id, None, ALL, ALL).await?));
        for emoji in &universe.emoji {
            reactions.extend(store.reactions(id, emoji, None, ALL).await?);
        }
    }
    for (i, agent) in universe.agents.iter().enumerate() {
        for status in [None, Some(TalkStatus::Active), Some(TalkStatus::Closed)] {
            let list = store.talks_of_agent(agent, status, None, ALL).await?;
            reads.insert(format!("talks of {agent} {status:?}"), Read::Talks(list));
        }
        let memberships = store.agent_memberships(agent, 0).await?;
        reads.insert(format!("memberships {agent}"), Read::Participants(memberships));
        reads.insert(format!("agent events {agent}"), Read::Events(store.agent_events(agent, None, 0, ALL).await?));
        for other in &universe.agents[i + 1..] {
            if let Some(pair) = AgentPair::new(agent.clone(), other.clone()) {
                reads.insert(format!("direct {agent} {other}"), Read::Talk(store.direct_talk(&pair).await?));
            }
        }
    }
    Ok(Snapshot { head, low_water_mark, log, talks, participants, messages, reactions, reads })
}

impl Snapshot {
    /// Where `self` differs from `other`: the first field or read that
    /// differs, with both values; `None` when they are equal.
    pub fn difference(&self, other: &Snapshot) -> Option<String> {
        fn first<T: PartialEq + fmt::Debug>(what: &str, a: &[T], b: &[T]) -> Option<String> {
            if a == b {
                return None;
            }
            let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            Some(format!(
                "{what} differ at item {at} (lengths {} and {}):\n  {:?}\nvs\n  {:?}",
                a.len(),
                b.len(),
                a.get(at),
                b.get(at)
            ))
        }
        if (self.head, self.low_water_mark) != (other.head, other.low_water_mark) {
            return Some(format!(
                "head and low-water mark differ: {:?} vs {:?}",
                (self.head, self.low_water_mark),
                (other.head, other.low_water_mark)
            ));
        }
        let differs = first("event logs", &self.log, &other.log)
            .or_else(|| first("talks", &self.talks, &other.talks))
            .or_else(|| first("participants", &self.participants, &other.participants))
            .or_else(|| first("messages", &self.messages, &other.messages))
            .or_else(|| first("reactions", &self.reactions, &other.reactions));
        if differs.is_some() {
            return differs;
        }
        let keys: BTreeSet<&String> = self.reads.keys().chain(other.reads.keys()).collect();
        keys.into_iter().find_map(|key| {
            let (a, b) = (self.reads.get(key), other.reads.get(key));
            (a != b).then(|| format!("read `{key}` differs:\n  {a:?}\nvs\n  {b:?}"))
        })
    }
}

/// Checks that a snapshot is whole: the log is `low_water_mark+1..=head`
/// without holes or repeats, and rows and events agree — every talk,
/// record, message and reaction has the event that made it at its `seq`,
/// every such event has its row, every ended record its `participant_left`,
/// and the state each row is in (closed, renamed, deleted, edited, left,
/// reacted) is the one its latest event says; the counters (`member_count`,
/// `reply_count`, reaction counts) match the rows.
///
/// # Errors
/// A description of the first disagreement.
pub fn check_consistency(snapshot: &Snapshot) -> Result<(), String> {
    let Snapshot { head, low_water_mark, log, talks, participants, messages, reactions, .. } = snapshot;
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (low_water_mark + 1..=*head).collect();
    if seqs != expected {
        let hole = expected.iter().zip(&seqs).find(|(a, b)| a != b).map(|(a, _)| *a);
        return Err(format!(
            "the log is not {}..={head} without holes: {} events, first difference at {hole:?}",
            low_water_mark + 1,
            seqs.len()
        ));
    }
    let at: HashMap<u64, &Event> = log.iter().map(|e| (e.seq, e)).collect();
    let event_at = |seq: u64| at.get(&seq).map(|e| &e.data);

    // Talks.
    let talk_rows: HashMap<TalkId, &Talk> = talks.iter().map(|t| (t.id, t)).collect();
    for talk in talks {
        if !matches!(event_at(talk.created_seq), Some(EventData::TalkCreated(t)) if t.id == talk.id) {
            return Err(format!("talk {} has no talk_created event at its seq {}", talk.id, talk.created_seq));
        }
        let mut status = TalkStatus::Active;
        let mut name = None;
        for event in log.iter().filter(|e| e.talk_id == talk.id) {
            match &event.data {
                EventData::TalkClosed(_) => status = TalkStatus::Closed,
                EventData::TalkReopened(_) => status = TalkStatus::Active,
                EventData::TalkCreated(t) | EventData::TalkUpdated(t) => name = Some(t.name.clone()),
                _ => {}
            }
        }
        if talk.status != status {
            return Err(format!("talk {} is {:?} but its events say {status:?}", talk.id, talk.status));
        }
        if name.as_ref() != Some(&talk.name) {
            return Err(format!("talk {} is named {:?} but its events say {name:?}", talk.id, talk.name));
        }
        let active = participants.iter().filter(|p| p.talk_id == talk.id && p.is_active()).count();
        if usize::try_from(talk.member_count).ok() != Some(active) {
            return Err(format!("talk {} counts {} members, {active} records are active", talk.id, talk.member_count));
        }
    }

    // Participant records.
    let records: HashMap<ParticipantId, &Participant> = participants.iter().map(|p| (p.id, p)).collect();
    for p in participants {
        if !matches!(event_at(p.seq), Some(EventData::ParticipantJoined(j)) if j.id == p.id) {
            return Err(format!("record {} has no participant_joined event at its seq {}", p.id, p.seq));
        }
        if !talk_rows.contains_key(&p.talk_id) {
            return Err(format!("record {} belongs to talk {}, which is not stored", p.id, p.talk_id));
        }
        match (p.status, p.left_seq) {
            (ParticipantStatus::Active, None) => {}
            (ParticipantStatus::Left, Some(left)) => {
                if !matches!(event_at(left), Some(EventData::ParticipantLeft(l)) if l.id == p.id) {
                    return Err(format!("record {} left at {left}, where there is no participant_left of it", p.id));
                }
            }
            (status, left) => return Err(format!("record {} is {status:?} with left_seq {left:?}", p.id)),
        }
    }

    // Messages.
    let message_rows: HashMap<MessageId, &Message> = messages.iter().map(|m| (m.id, m)).collect();
    for m in messages {
        if !matches!(event_at(m.seq), Some(EventData::MessageCreated(c)) if c.id == m.id) {
            return Err(format!("message {} has no message_created event at its seq {}", m.id, m.seq));
        }
        let mut deleted = false;
        let mut text = None;
        for event in log.iter().filter(|e| e.talk_id == m.talk_id) {
            match &event.data {
                EventData::MessageCreated(c) | EventData::MessageUpdated(c) if c.id == m.id => {
                    text = Some(c.text.clone());
                }
                EventData::MessageDeleted(d) if d.id == m.id => deleted = true,
                _ => {}
            }
        }
        if deleted != m.is_deleted() {
            return Err(format!("message {} deleted={} but its events say deleted={deleted}", m.id, m.is_deleted()));
        }
        if !deleted && text.as_ref() != Some(&m.text) {
            return Err(format!("message {} says {:?} but its events say {text:?}", m.id, m.text));
        }
        let replies = messages.iter().filter(|r| r.parent_id == Some(m.id)).count();
        if usize::try_from(m.reply_count).ok() != Some(replies) {
            return Err(format!("message {} counts {} replies, {replies} are stored", m.id, m.reply_count));
        }
        for summary in &m.reactions {
            let count = reactions.iter().filter(|r| r.message_id == m.id && r.emoji == summary.emoji).count();
            if usize::try_from(summary.count).ok() != Some(count) {
                return Err(format!(
                    "message {} counts {} {} reactions, {count} are stored",
                    m.id, summary.count, summary.emoji
                ));
            }
        }
    }

    // Reactions: stored exactly when the latest event about them added them.
    let mut latest: HashMap<(MessageId, &Emoji, &AgentId), Option<u64>> = HashMap::new();
    for event in log {
        match &event.data {
            EventData::ReactionAdded(r) => {
                latest.insert((r.message_id, &r.emoji, &r.agent_id), Some(event.seq));
            }
            EventData::ReactionRemoved(r) => {
                latest.insert((r.message_id, &r.emoji, &r.agent_id), None);
            }
            EventData::MessageDeleted(d) => {
                for (key, value) in latest.iter_mut() {
                    if key.0 == d.id {
                        *value = None;
                    }
                }
            }
            _ => {}
        }
    }
    for r in reactions {
        if latest.get(&(r.message_id, &r.emoji, &r.agent_id)) != Some(&Some(r.seq)) {
            return Err(format!(
                "reaction {} of {} to {} (seq {}) is not the latest reaction_added of it",
                r.emoji, r.agent_id, r.message_id, r.seq
            ));
        }
    }
    for ((message, emoji, agent), seq) in &latest {
        let stored = reactions.iter().any(|r| r.message_id == *message && &&r.emoji == emoji && &&r.agent_id == agent);
        if seq.is_some() != stored && message_rows.contains_key(message) {
            return Err(format!("reaction {emoji} of {agent} to {message}: events say {seq:?}, stored: {stored}"));
        }
    }

    // Every event that makes a row has its row.
    for event in log {
        let missing = match &event.data {
            EventData::TalkCreated(t) => (!talk_rows.contains_key(&t.id)).then(|| format!("talk {}", t.id)),
            EventData::ParticipantJoined(p) => {
                records.get(&p.id).is_none_or(|r| r.seq != event.seq).then(|| format!("record {}", p.id))
            }
            EventData::ParticipantLeft(p) => records
                .get(&p.id)
                .is_none_or(|r| r.left_seq != Some(event.seq))
                .then(|| format!("the end of record {}", p.id)),
            EventData::MessageCreated(m) => {
                message_rows.get(&m.id).is_none_or(|r| r.seq != event.seq).then(|| format!("message {}", m.id))
            }
            _ => None,
        };
        if let Some(missing) = missing {
            return Err(format!("event {} ({}) has no {missing}", event.seq, event.data.type_name()));
        }
    }
    Ok(())
}
