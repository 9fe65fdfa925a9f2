//! The stored state: rows, the event log, and the indexes every read goes
//! through. Everything here runs under the store's one lock.

mod reads;
mod retention;

use retention::Consumer;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::Instant;

use foldhash::HashMap;

use talk_core::store::TalkAndRecords;
use talk_core::store::{Cursor, ResolvedChangeSet, SearchQuery, Write};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, EventData, Message, MessageId, MessageKind, Participant, ParticipantId,
    ParticipantStatus, Reaction, ReactionSummary, ReadMarker, ReadNumbers, Talk, TalkId, TalkKind, TalkStatus,
    Timestamp, text,
};

/// A message row with the reactions the store keeps for it.
#[derive(Debug)]
#[cfg_attr(feature = "fault-injection", derive(Clone))]
struct StoredMessage {
    /// The row; its `reactions` stay empty (they are built on read from
    /// `emoji`), its `reply_count` is kept here.
    row: Message,
    /// One entry per emoji that has reactions, in the order the emoji was
    /// first used while it had reactions.
    emoji: Vec<EmojiReactions>,
    /// The search index of the message: the folded words of its text
    /// ([`talk_core::text::index_text`]), rewritten with the text; empty
    /// for a message that is not normal (search never finds one).
    words: Vec<String>,
}

/// The search index of a message: the words of `index_text` of its text
/// (`text::words`, the same words). Search finds normal messages only, so
/// the text of any other message is not indexed.
fn index_words(message: &Message) -> Vec<String> {
    if message.kind == MessageKind::Normal { talk_core::text::words(&message.text) } else { Vec::new() }
}

/// The reactions with one emoji to one message.
#[derive(Debug)]
#[cfg_attr(feature = "fault-injection", derive(Clone))]
struct EmojiReactions {
    emoji: Emoji,
    /// The reactions by `seq`: the order they were added.
    by_seq: BTreeMap<u64, Reaction>,
    /// The `seq` of each agent's reaction.
    by_agent: HashMap<AgentId, u64>,
}

/// Everything a [`MemoryStore`](crate::MemoryStore) keeps.
#[derive(Debug, Default)]
#[cfg_attr(feature = "fault-injection", derive(Clone))]
pub(crate) struct State {
    /// The greatest `seq` pruned from the log, `0` while nothing was.
    low_water_mark: u64,
    /// The event log: the event numbered `seq` is at `seq - low_water_mark - 1`.
    log: Vec<Event>,
    /// Readers' holds on the log: the position each still needs the events
    /// after, and until when (`None`: until released).
    holds: HashMap<String, (u64, Option<Instant>)>,
    /// Durable consumers, by name.
    consumers: BTreeMap<String, Consumer>,
    /// The `seq` of each event of a talk, ascending.
    talk_events: HashMap<TalkId, Vec<u64>>,
    /// The `seq` of each `message_updated` and `message_deleted` event, by
    /// message (its `message_created` is the message's own `seq`).
    message_events: HashMap<MessageId, Vec<u64>>,

    talks: HashMap<TalkId, Talk>,
    /// Direct talks by pair, ever.
    direct: HashMap<AgentPair, TalkId>,
    /// The directory: active public talks by `created_seq`, each with its
    /// name's words as `" " + text::index_text(name)`, kept by
    /// `insert_talk` and `update_talk` from the name they write. A
    /// directory read walks this map only, newest first, and stops at its
    /// limit: never every talk.
    public: BTreeMap<u64, (TalkId, String)>,

    participants: HashMap<ParticipantId, Participant>,
    /// The records of each talk by `seq`.
    talk_participants: HashMap<TalkId, BTreeMap<u64, ParticipantId>>,
    /// The records of each agent, by talk, by `seq`.
    agent_records: HashMap<AgentId, HashMap<TalkId, BTreeMap<u64, ParticipantId>>>,
    /// The talks in which each agent has an active record, by `created_seq`.
    agent_talks: HashMap<AgentId, BTreeMap<u64, TalkId>>,

    messages: HashMap<MessageId, StoredMessage>,
    /// Top-level messages of each talk by `seq`.
    top_level: HashMap<TalkId, BTreeMap<u64, MessageId>>,
    /// All messages of each talk by `seq`.
    all_messages: HashMap<TalkId, BTreeMap<u64, MessageId>>,
    /// Replies of each message by `seq`.
    replies: HashMap<MessageId, BTreeMap<u64, MessageId>>,

    /// Read markers by record.
    markers: HashMap<ParticipantId, StoredMarker>,
    /// Normal messages of each talk: the number of each (`ord`, from 1) by
    /// `seq`; the last is the talk's count of normal messages.
    normal: HashMap<TalkId, BTreeMap<u64, u64>>,
    /// Normal messages of each talk by author, by `seq`.
    own_normal: HashMap<(TalkId, AgentId), BTreeSet<u64>>,
    /// Deleted normal messages of each talk by `seq`, with their author.
    deleted_normal: HashMap<TalkId, BTreeMap<u64, AgentId>>,
    /// Mentions of agents other than the author: by (talk, agent), the
    /// `seq` of each message that mentions the agent.
    mentions: HashMap<(TalkId, AgentId), BTreeSet<u64>>,
}

/// A record's read marker: its `seq`, the number of normal messages of its
/// talk at or below it, when it last moved.
#[derive(Debug, Clone)]
struct StoredMarker {
    read_seq: u64,
    read_ord: u64,
    tm_read: Timestamp,
}

/// The keys of a map strictly after `after`, ascending.
fn ascending<V>(map: &BTreeMap<u64, V>, after: Cursor) -> impl Iterator<Item = &V> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((start, Bound::Unbounded)).map(|(_, v)| v)
}

/// The keys of a map strictly before `before`, descending.
fn descending<V>(map: &BTreeMap<u64, V>, before: Cursor) -> impl Iterator<Item = &V> {
    let end = before.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((Bound::Unbounded, end)).rev().map(|(_, v)| v)
}

/// Lists or unlists a talk in the directory (`public`) after it was
/// written; other kinds of talk are never in it.
fn sync_public(public: &mut BTreeMap<u64, (TalkId, String)>, talk: &Talk) {
    if talk.kind != TalkKind::Public {
        return;
    }
    if talk.status == TalkStatus::Active {
        public.insert(talk.created_seq, (talk.id, format!(" {}", text::index_text(&talk.name))));
    } else {
        public.remove(&talk.created_seq);
    }
}

impl State {
    // ------------------------------------------------------------ reads

    /// The number of events ever appended: every one of them is committed.
    pub(crate) fn head(&self) -> u64 {
        self.low_water_mark + self.log.len() as u64
    }

    pub(crate) fn low_water_mark(&self) -> u64 {
        self.low_water_mark
    }

    /// Where the event numbered `seq` is in the log, if it is kept.
    fn log_index(&self, seq: u64) -> Option<usize> {
        let index = usize::try_from(seq.checked_sub(self.low_water_mark + 1)?).ok()?;
        (index < self.log.len()).then_some(index)
    }

    fn event(&self, seq: u64) -> Option<&Event> {
        self.log.get(self.log_index(seq)?)
    }

    pub(crate) fn talk(&self, id: TalkId) -> Option<&Talk> {
        self.talks.get(&id)
    }

    pub(crate) fn has_talk(&self, id: TalkId) -> bool {
        self.talks.contains_key(&id)
    }

    pub(crate) fn direct_talk(&self, pair: &AgentPair) -> Option<&Talk> {
        self.direct.get(pair).and_then(|id| self.talks.get(id))
    }

    pub(crate) fn has_direct_pair(&self, pair: &AgentPair) -> bool {
        self.direct.contains_key(pair)
    }

    pub(crate) fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Vec<Talk> {
        let Some(talks) = self.agent_talks.get(agent) else { return Vec::new() };
        descending(talks, before)
            .filter_map(|id| self.talks.get(id))
            .filter(|talk| status.is_none_or(|status| talk.status == status))
            .take(limit)
            .cloned()
            .collect()
    }

    pub(crate) fn public_talks(&self, words: &[String], before: Cursor, limit: usize) -> Vec<Talk> {
        let wanted: Vec<String> = words.iter().map(|w| format!(" {w}")).collect();
        descending(&self.public, before)
            .filter(|(_, name_words)| wanted.iter().all(|w| name_words.contains(w.as_str())))
            .filter_map(|(id, _)| self.talks.get(id))
            .take(limit)
            .cloned()
            .collect()
    }

    pub(crate) fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id)
    }

    /// The records of `agent` in `talk` in join order.
    fn records_of(&self, talk: TalkId, agent: &AgentId) -> impl Iterator<Item = &Participant> {
        self.agent_records
            .get(agent)
            .and_then(|by_talk| by_talk.get(&talk))
            .into_iter()
            .flat_map(|records| records.values())
            .filter_map(|id| self.participants.get(id))
    }

    pub(crate) fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Vec<Participant> {
        self.records_of(talk, agent).cloned().collect()
    }

    pub(crate) fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Option<TalkAndRecords> {
        let found = self.talk(talk)?.clone();
        Some(TalkAndRecords { talk: found, records: self.agent_records(talk, agent) })
    }

    /// The active record of `agent` in `talk`, if any.
    pub(crate) fn active_record(&self, talk: TalkId, agent: &AgentId) -> Option<ParticipantId> {
        self.records_of(talk, agent).find(|p| p.is_active()).map(|p| p.id)
    }

    pub(crate) fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Vec<Participant> {
        let Some(records) = self.talk_participants.get(&talk) else { return Vec::new() };
        ascending(records, after)
            .filter_map(|id| self.participants.get(id))
            .filter(|p| status.is_none_or(|status| p.status == status))
            .take(limit)
            .cloned()
            .collect()
    }

    pub(crate) fn has_message(&self, id: MessageId) -> bool {
        self.messages.contains_key(&id)
    }

    pub(crate) fn message_version(&self, id: MessageId) -> Option<u64> {
        self.messages.get(&id).map(|stored| stored.row.version)
    }

    pub(crate) fn message(&self, id: MessageId, reactors_listed: usize) -> Option<Message> {
        let stored = self.messages.get(&id)?;
        let mut message = stored.row.clone();
        message.reactions = stored
            .emoji
            .iter()
            .map(|entry| ReactionSummary {
                emoji: entry.emoji,
                count: u32::try_from(entry.by_seq.len()).unwrap_or(u32::MAX),
                agent_ids: entry.by_seq.values().take(reactors_listed).map(|r| r.agent_id.clone()).collect(),
            })
            .collect();
        Some(message)
    }

    pub(crate) fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Vec<Message> {
        let index = if include_replies { &self.all_messages } else { &self.top_level };
        let Some(messages) = index.get(&talk) else { return Vec::new() };
        descending(messages, before).take(limit).filter_map(|id| self.message(*id, reactors_listed)).collect()
    }

    pub(crate) fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Vec<Message> {
        let Some(replies) = self.replies.get(&parent) else { return Vec::new() };
        ascending(replies, after).take(limit).filter_map(|id| self.message(*id, reactors_listed)).collect()
    }

    /// A plain scan of the messages of the talks where `agent` has an
    /// active record, newest first in each, stopping at `limit` per talk.
    pub(crate) fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Vec<Message> {
        let Some(talks) = self.agent_talks.get(agent) else { return Vec::new() };
        let mut found: Vec<(u64, MessageId)> = Vec::new();
        for talk in talks.values().filter(|t| query.filters.talk_id.is_none_or(|only| only == **t)) {
            let Some(messages) = self.all_messages.get(talk) else { continue };
            let hits = descending(messages, before)
                .filter(|id| {
                    self.messages
                        .get(id)
                        .is_some_and(|stored| query.filters_match(&stored.row) && query.words_match(&stored.words))
                })
                .take(limit);
            found.extend(hits.filter_map(|id| self.messages.get(id).map(|stored| (stored.row.seq, *id))));
        }
        found.sort_unstable_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        found.into_iter().take(limit).filter_map(|(_, id)| self.message(id, reactors_listed)).collect()
    }

    fn emoji_reactions(&self, message: MessageId, emoji: &Emoji) -> Option<&EmojiReactions> {
        self.messages.get(&message)?.emoji.iter().find(|entry| &entry.emoji == emoji)
    }

    pub(crate) fn reaction(&self, message: MessageId, emoji: &Emoji, agent: &AgentId) -> Option<&Reaction> {
        let entry = self.emoji_reactions(message, emoji)?;
        entry.by_agent.get(agent).and_then(|seq| entry.by_seq.get(seq))
    }

    pub(crate) fn reactions(&self, message: MessageId, emoji: &Emoji, after: Cursor, limit: usize) -> Vec<Reaction> {
        let Some(entry) = self.emoji_reactions(message, emoji) else { return Vec::new() };
        ascending(&entry.by_seq, after).take(limit).cloned().collect()
    }

    /// The number of normal messages of `talk` at or below `seq`.
    fn ord_at(&self, talk: TalkId, seq: u64) -> u64 {
        self.normal.get(&talk).and_then(|by_seq| by_seq.range(..=seq).next_back()).map_or(0, |(_, ord)| *ord)
    }

    pub(crate) fn events(&self, after: u64, limit: usize) -> Vec<Event> {
        let start = usize::try_from(after.saturating_sub(self.low_water_mark)).unwrap_or(usize::MAX);
        self.log.get(start..).unwrap_or_default().iter().take(limit).cloned().collect()
    }

    /// The records of `agent`, in every talk, that are active or ended after
    /// `after`, in ascending `seq`.
    pub(crate) fn agent_memberships(&self, agent: &AgentId, after: u64) -> Vec<Participant> {
        let Some(by_talk) = self.agent_records.get(agent) else { return Vec::new() };
        let mut records: Vec<Participant> = by_talk
            .values()
            .flat_map(|records| records.values())
            .filter_map(|id| self.participants.get(id))
            .filter(|p| p.is_active() || p.left_seq.is_some_and(|left| left > after))
            .cloned()
            .collect();
        records.sort_by_key(|p| p.seq);
        records
    }

    /// The events `agent` sees after `after`: for each of its records (in
    /// `talk` only, when given), the events of the record's talk inside the
    /// record's span, merged in `seq` order.
    pub(crate) fn agent_events(&self, agent: &AgentId, talk: Option<TalkId>, after: u64, limit: usize) -> Vec<Event> {
        let Some(by_talk) = self.agent_records.get(agent) else { return Vec::new() };
        let talks: Vec<(&TalkId, &BTreeMap<u64, ParticipantId>)> = match talk {
            Some(talk) => by_talk.get_key_value(&talk).into_iter().collect(),
            None => by_talk.iter().collect(),
        };
        let first = after.saturating_add(1);
        let mut seqs = BTreeSet::new();
        for (talk_id, records) in talks {
            let Some(log) = self.talk_events.get(talk_id) else { continue };
            for record in records.values().filter_map(|id| self.participants.get(id)) {
                let start = record.joined_seq.max(first);
                let end = record.left_seq.unwrap_or(u64::MAX);
                if start > end {
                    continue;
                }
                let from = log.partition_point(|&seq| seq < start);
                seqs.extend(log[from..].iter().take_while(|&&seq| seq <= end).take(limit));
                while seqs.len() > limit {
                    seqs.pop_last();
                }
            }
        }
        seqs.into_iter().filter_map(|seq| self.event(seq)).cloned().collect()
    }

    // ----------------------------------------------------------- writes

    /// Applies a change set that [`check`](crate::check) accepted: its writes
    /// in order, then its events. Cannot fail: every row a write names was
    /// found by the check.
    pub(crate) fn commit(&mut self, changes: ResolvedChangeSet) -> Vec<Event> {
        for write in changes.writes {
            self.write(write);
        }
        for event in &changes.events {
            self.append(event);
        }
        changes.events
    }

    /// [`State::commit`] step by step for fault injection: before each step
    /// (each write, then each event) `step` is asked with the number of
    /// steps done, and its error stops the commit there, half done.
    #[cfg(feature = "fault-injection")]
    pub(crate) fn commit_stepwise<E>(
        &mut self,
        changes: ResolvedChangeSet,
        mut step: impl FnMut(usize) -> Result<(), E>,
    ) -> Result<Vec<Event>, E> {
        let mut done = 0;
        for write in changes.writes {
            step(done)?;
            self.write(write);
            done += 1;
        }
        for event in &changes.events {
            step(done)?;
            self.append(event);
            done += 1;
        }
        Ok(changes.events)
    }

    fn write(&mut self, write: Write) {
        match write {
            Write::InsertTalk(talk) => self.insert_talk(talk),
            Write::UpdateTalk(talk) => self.update_talk(talk),
            Write::InsertParticipant(participant) => self.insert_participant(participant),
            Write::UpdateParticipant(participant) => self.update_participant(participant),
            Write::InsertMessage(message) => self.insert_message(message),
            Write::UpdateMessage(message) => self.update_message(message),
            Write::SetMessageVersion { message_id, version } => {
                if let Some(stored) = self.messages.get_mut(&message_id) {
                    stored.row.version = version;
                }
            }
            Write::IncrementReplyCount(id) => {
                if let Some(stored) = self.messages.get_mut(&id) {
                    stored.row.reply_count = stored.row.reply_count.saturating_add(1);
                }
            }
            Write::InsertReaction(reaction) => self.insert_reaction(reaction),
            Write::DeleteReaction { message_id, emoji, agent_id, tm_update } => {
                self.delete_reaction(message_id, &emoji, &agent_id, tm_update);
            }
            Write::DeleteAllReactions(id) => {
                if let Some(stored) = self.messages.get_mut(&id) {
                    stored.emoji.clear();
                }
            }
            Write::RedactMessage(id) => self.redact_message(id),
            Write::SetReadMarker { participant_id, read_seq, tm_read, .. } => {
                self.set_marker(participant_id, read_seq, tm_read);
            }
        }
    }

    fn set_marker(&mut self, id: ParticipantId, read_seq: u64, tm_read: Timestamp) {
        let Some(talk) = self.participants.get(&id).map(|p| p.talk_id) else { return };
        let read_ord = self.ord_at(talk, read_seq);
        self.markers.insert(id, StoredMarker { read_seq, read_ord, tm_read });
    }

    /// Keeps the mentions of message `seq` in `talk` (those of agents other
    /// than `author`): removes `before`'s, adds `after`'s.
    fn replace_mentions(
        &mut self,
        talk: TalkId,
        seq: u64,
        author: Option<&AgentId>,
        before: &[AgentId],
        after: &[AgentId],
    ) {
        for agent in before {
            if let Some(set) = self.mentions.get_mut(&(talk, agent.clone())) {
                set.remove(&seq);
            }
        }
        for agent in after.iter().filter(|agent| Some(*agent) != author) {
            self.mentions.entry((talk, agent.clone())).or_default().insert(seq);
        }
    }

    fn insert_talk(&mut self, talk: Talk) {
        if let Some(pair) = &talk.direct_pair {
            self.direct.insert(pair.clone(), talk.id);
        }
        // Records of this talk inserted before it (in the same change set)
        // list it now that its `created_seq` is known.
        let active: Vec<AgentId> = self
            .talk_participants
            .get(&talk.id)
            .into_iter()
            .flat_map(|records| records.values())
            .filter_map(|id| self.participants.get(id))
            .filter(|p| p.is_active())
            .map(|p| p.agent_id.clone())
            .collect();
        for agent in active {
            self.agent_talks.entry(agent).or_default().insert(talk.created_seq, talk.id);
        }
        sync_public(&mut self.public, &talk);
        self.talks.insert(talk.id, talk);
    }

    fn update_talk(&mut self, talk: Talk) {
        if let Some(stored) = self.talks.get_mut(&talk.id) {
            *stored = Talk {
                id: stored.id,
                kind: stored.kind,
                direct_pair: stored.direct_pair.take(),
                creator_id: stored.creator_id.clone(),
                created_seq: stored.created_seq,
                tm_create: stored.tm_create,
                ..talk
            };
            sync_public(&mut self.public, stored);
        }
    }

    /// Lists or unlists `talk` among the talks of `agent`, after one of the
    /// agent's records in it changed.
    fn sync_agent_talk(&mut self, talk: TalkId, agent: &AgentId) {
        let Some(created_seq) = self.talks.get(&talk).map(|t| t.created_seq) else { return };
        if self.active_record(talk, agent).is_some() {
            self.agent_talks.entry(agent.clone()).or_default().insert(created_seq, talk);
        } else if let Some(talks) = self.agent_talks.get_mut(agent) {
            talks.remove(&created_seq);
        }
    }

    fn insert_participant(&mut self, participant: Participant) {
        let (id, talk, agent, seq) =
            (participant.id, participant.talk_id, participant.agent_id.clone(), participant.seq);
        let (tm_joined, active) = (participant.tm_joined, participant.is_active());
        self.participants.insert(id, participant);
        self.set_marker(id, seq, tm_joined);
        self.talk_participants.entry(talk).or_default().insert(seq, id);
        self.agent_records.entry(agent.clone()).or_default().entry(talk).or_default().insert(seq, id);
        if !active {
            self.sync_agent_talk(talk, &agent);
        } else if let Some(created_seq) = self.talks.get(&talk).map(|t| t.created_seq) {
            // An active record lists its talk: no need to look for one.
            self.agent_talks.entry(agent).or_default().insert(created_seq, talk);
        }
    }

    fn update_participant(&mut self, participant: Participant) {
        let Some(stored) = self.participants.get_mut(&participant.id) else { return };
        stored.status = participant.status;
        stored.left_reason = participant.left_reason;
        stored.left_seq = participant.left_seq;
        stored.tm_left = participant.tm_left;
        let (talk, agent) = (stored.talk_id, stored.agent_id.clone());
        self.sync_agent_talk(talk, &agent);
    }

    fn insert_message(&mut self, mut message: Message) {
        message.reactions.clear();
        message.reply_count = 0;
        let (id, talk, seq) = (message.id, message.talk_id, message.seq);
        self.all_messages.entry(talk).or_default().insert(seq, id);
        match message.parent_id {
            None => self.top_level.entry(talk).or_default().insert(seq, id),
            Some(parent) => self.replies.entry(parent).or_default().insert(seq, id),
        };
        if message.kind == MessageKind::Normal {
            let by_seq = self.normal.entry(talk).or_default();
            let ord = by_seq.values().next_back().copied().unwrap_or(0) + 1;
            by_seq.insert(seq, ord);
            if let Some(author) = &message.agent_id {
                self.own_normal.entry((talk, author.clone())).or_default().insert(seq);
            }
            let mentions = message.mentions.clone();
            self.replace_mentions(talk, seq, message.agent_id.as_ref(), &[], &mentions);
        }
        let words = index_words(&message);
        self.messages.insert(id, StoredMessage { row: message, emoji: Vec::new(), words });
    }

    fn update_message(&mut self, message: Message) {
        let Some(stored) = self.messages.get(&message.id) else { return };
        let row = &stored.row;
        let (talk, seq, author, before) = (row.talk_id, row.seq, row.agent_id.clone(), row.mentions.clone());
        if row.kind == MessageKind::Normal {
            self.replace_mentions(talk, seq, author.as_ref(), &before, &message.mentions);
            if message.tm_delete.is_some()
                && let Some(author) = author
            {
                self.deleted_normal.entry(talk).or_default().insert(seq, author);
            }
        }
        if let Some(stored) = self.messages.get_mut(&message.id) {
            let row = &mut stored.row;
            row.text = message.text;
            row.medias = message.medias;
            row.mentions = message.mentions;
            row.version = message.version;
            row.request_digest = message.request_digest;
            row.tm_update = message.tm_update;
            row.tm_edit = message.tm_edit;
            row.tm_delete = message.tm_delete;
            stored.words = index_words(row);
        }
    }

    fn insert_reaction(&mut self, reaction: Reaction) {
        let Some(stored) = self.messages.get_mut(&reaction.message_id) else { return };
        stored.row.tm_update = reaction.tm_create;
        let index = match stored.emoji.iter().position(|entry| entry.emoji == reaction.emoji) {
            Some(index) => index,
            None => {
                stored.emoji.push(EmojiReactions {
                    emoji: reaction.emoji,
                    by_seq: BTreeMap::new(),
                    by_agent: HashMap::default(),
                });
                stored.emoji.len() - 1
            }
        };
        let entry = &mut stored.emoji[index];
        entry.by_agent.insert(reaction.agent_id.clone(), reaction.seq);
        entry.by_seq.insert(reaction.seq, reaction);
    }

    fn delete_reaction(&mut self, message: MessageId, emoji: &Emoji, agent: &AgentId, tm_update: Timestamp) {
        let Some(stored) = self.messages.get_mut(&message) else { return };
        stored.row.tm_update = tm_update;
        let Some(index) = stored.emoji.iter().position(|entry| &entry.emoji == emoji) else { return };
        let entry = &mut stored.emoji[index];
        if let Some(seq) = entry.by_agent.remove(agent) {
            entry.by_seq.remove(&seq);
        }
        if entry.by_seq.is_empty() {
            stored.emoji.remove(index);
        }
    }

    fn redact_message(&mut self, id: MessageId) {
        let Some(created) = self.messages.get(&id).map(|stored| stored.row.seq) else { return };
        let later = self.message_events.get(&id).map(Vec::as_slice).unwrap_or_default();
        for &seq in std::iter::once(&created).chain(later) {
            if let Some(index) = self.log_index(seq) {
                self.log[index].data.redact_message(id);
            }
        }
    }

    /// Appends a copy of `event` to the log (the change set's events go
    /// back to the caller too), cloned straight into its place.
    fn append(&mut self, event: &Event) {
        self.talk_events.entry(event.talk_id).or_default().push(event.seq);
        if let EventData::MessageUpdated(m) | EventData::MessageDeleted(m) = &event.data {
            self.message_events.entry(m.id).or_default().push(event.seq);
        }
        self.log.push(event.clone());
    }

    // -------------------------------------------------- what check reads

    /// Whether `agent` reacted to `message` with `emoji`.
    pub(crate) fn has_reaction(&self, message: MessageId, emoji: &Emoji, agent: &AgentId) -> bool {
        self.reaction(message, emoji, agent).is_some()
    }
}
