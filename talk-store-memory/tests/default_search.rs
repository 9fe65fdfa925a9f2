//! The store conformance suite against a store that leaves
//! `Store::search_messages` to the trait's default (a scan through the other
//! reads): [`MemoryStore`] behind a wrapper that forwards every other method.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use talk_core::store::{ChangeSet, Cursor, StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    Store, Talk, TalkId, TalkStatus,
};
use talk_store_memory::MemoryStore;

/// [`MemoryStore`] without its own search.
struct Indexless {
    inner: MemoryStore,
}

#[async_trait]
impl Store for Indexless {
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        self.inner.apply(changes).await
    }
    async fn head(&self) -> Result<u64, StoreError> {
        self.inner.head().await
    }
    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        self.inner.low_water_mark().await
    }
    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        self.inner.prune_events(through).await
    }
    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError> {
        self.inner.hold_events(holder, position, lease).await
    }
    async fn release_events(&self, holder: &str) -> Result<(), StoreError> {
        self.inner.release_events(holder).await
    }
    async fn secret_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner.secret_key().await
    }
    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError> {
        self.inner.talk(id).await
    }
    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        self.inner.direct_talk(pair).await
    }
    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        self.inner.talks_of_agent(agent, status, before, limit).await
    }
    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        self.inner.participant(id).await
    }
    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        self.inner.agent_records(talk, agent).await
    }
    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        self.inner.talk_and_records(talk, agent).await
    }
    async fn message_and_talk(
        &self,
        message: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        self.inner.message_and_talk(message, agent, reactors_listed).await
    }
    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError> {
        self.inner.agent_memberships(agent, after).await
    }
    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        self.inner.participants(talk, status, after, limit).await
    }
    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        self.inner.message(id, reactors_listed).await
    }
    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner.messages(talk, include_replies, before, limit, reactors_listed).await
    }
    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner.replies(parent, after, limit, reactors_listed).await
    }
    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        self.inner.reaction(message, emoji, agent).await
    }
    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        self.inner.reactions(message, emoji, after, limit).await
    }
    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.inner.events(after, limit).await
    }
    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.inner.agent_events(agent, talk, after, limit).await
    }
}

talk_testing::store_conformance_tests!(|| Arc::new(Indexless { inner: MemoryStore::new() }));
