#![doc = include_str!("../README.md")]
// docs.rs (`--cfg docsrs`, nightly) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod check;
#[cfg(feature = "fault-injection")]
#[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
pub mod faults;
mod state;

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use talk_core::store::{ChangeSet, Cursor, SearchQuery, Store};
use talk_core::store::{ConsumerRecord, StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    ReadMarker, ReadNumbers, Talk, TalkId, TalkStatus,
};

use crate::check::check;
use crate::state::State;

/// Talk's in-memory [`Store`]: one lock over plain maps, with an index behind
/// every list, keeping the whole [`Store`] contract.
///
/// - [`apply`](Store::apply) checks every guard and every unique key of a
///   change set (the later writes seeing the earlier ones) before it writes
///   anything, so a refused change set leaves nothing behind and takes no
///   `seq`.
/// - Every event is committed when `apply` answers, so the head is the
///   last `seq` given out.
/// - The lock is never held across an `.await`; every method answers
///   without waiting for anything but the lock.
/// - [`prune_events`](Store::prune_events) drops the pruned events (and
///   their index entries) from memory; rows stay.
/// - After a panic while the lock was held (a bug), every call answers
///   [`StoreError::Backend`] rather than trust a half-written state.
///
/// Everything lives as long as the store: nothing is persisted.
pub struct MemoryStore {
    state: Mutex<State>,
    /// The store's secret ([`Store::secret_key`]), made at creation.
    secret_key: [u8; 32],
    #[cfg(feature = "fault-injection")]
    fail_points: faults::MemoryFailPoints,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            secret_key: rand::random(),
            #[cfg(feature = "fault-injection")]
            fail_points: faults::MemoryFailPoints::default(),
        }
    }
}

impl MemoryStore {
    /// An empty store: no talks, an empty event log, head `0`.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::backend("the memory store was poisoned by a panic"))
    }

    /// Commits a checked change set (see `faults.rs` for the build with fail points).
    #[cfg(not(feature = "fault-injection"))]
    fn commit(
        &self,
        state: &mut State,
        changes: talk_core::store::ResolvedChangeSet,
    ) -> Result<Vec<Event>, StoreError> {
        Ok(state.commit(changes))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.state.lock().map(|state| state.head()).ok();
        f.debug_struct("MemoryStore").field("head", &head).finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        let mut state = self.state()?;
        #[cfg(feature = "fault-injection")]
        self.before_apply()?;
        let resolved = changes.resolve(state.head() + 1)?;
        check(&state, &resolved).map_err(StoreError::Conflict)?;
        self.commit(&mut state, resolved)
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(self.state()?.head())
    }

    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        Ok(self.state()?.low_water_mark())
    }

    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError> {
        self.state()?.hold_events(holder, position, lease);
        Ok(())
    }

    async fn release_events(&self, holder: &str) -> Result<(), StoreError> {
        self.state()?.release_events(holder);
        Ok(())
    }

    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        lease: Duration,
        start: u64,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self.state()?.claim_consumer(name, owner, lease, start))
    }

    async fn ack_consumer(&self, name: &str, owner: &str, cursor: u64, lease: Duration) -> Result<bool, StoreError> {
        Ok(self.state()?.ack_consumer(name, owner, cursor, lease))
    }

    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError> {
        Ok(self.state()?.consumers())
    }

    async fn remove_consumer(&self, name: &str) -> Result<(), StoreError> {
        self.state()?.remove_consumer(name);
        Ok(())
    }

    async fn secret_key(&self) -> Result<[u8; 32], StoreError> {
        Ok(self.secret_key)
    }

    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        self.state()?.prune_events(through);
        Ok(())
    }

    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError> {
        Ok(self.state()?.talk(id).cloned())
    }

    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        Ok(self.state()?.direct_talk(pair).cloned())
    }

    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        Ok(self.state()?.talks_of_agent(agent, status, before, limit))
    }

    async fn public_talks(&self, words: &[String], before: Cursor, limit: usize) -> Result<Vec<Talk>, StoreError> {
        Ok(self.state()?.public_talks(words, before, limit))
    }

    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        Ok(self.state()?.participant(id).cloned())
    }

    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        Ok(self.state()?.agent_records(talk, agent))
    }

    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        Ok(self.state()?.talk_and_records(talk, agent))
    }

    async fn message_and_talk(
        &self,
        message: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        let state = self.state()?;
        let Some(found) = state.message(message, reactors_listed) else { return Ok(None) };
        Ok(state.talk_and_records(found.talk_id, agent).map(|talk| (found, talk)))
    }

    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError> {
        Ok(self.state()?.agent_memberships(agent, after))
    }

    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        Ok(self.state()?.participants(talk, status, after, limit))
    }

    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        Ok(self.state()?.message(id, reactors_listed))
    }

    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self.state()?.messages(talk, include_replies, before, limit, reactors_listed))
    }

    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self.state()?.replies(parent, after, limit, reactors_listed))
    }

    async fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(self.state()?.search_messages(agent, query, before, limit, reactors_listed))
    }

    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        Ok(self.state()?.reaction(message, emoji, agent).cloned())
    }

    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        Ok(self.state()?.reactions(message, emoji, after, limit))
    }

    async fn read_marker(&self, participant: ParticipantId) -> Result<Option<ReadMarker>, StoreError> {
        Ok(self.state()?.read_marker(participant))
    }

    async fn read_markers(&self, talk: TalkId, after: Cursor, limit: usize) -> Result<Vec<ReadMarker>, StoreError> {
        Ok(self.state()?.read_markers(talk, after, limit))
    }

    async fn read_numbers(&self, agent: &AgentId, talks: Option<&[TalkId]>) -> Result<Vec<ReadNumbers>, StoreError> {
        Ok(self.state()?.read_numbers(agent, talks))
    }

    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        Ok(self.state()?.events(after, limit))
    }

    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        Ok(self.state()?.agent_events(agent, talk, after, limit))
    }
}
