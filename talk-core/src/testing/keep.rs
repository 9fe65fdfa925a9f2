//! A store that keeps something alive for as long as it lives.

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::Cursor;
use crate::{
    AgentId, AgentPair, ChangeSet, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus,
    Reaction, Store, StoreError, Talk, TalkAndRecords, TalkId, TalkStatus,
};

/// A store together with what it needs to outlive it in a test — a
/// temporary directory, a database schema — dropped right after the store.
/// Every call goes to the store as it is.
pub struct StoreWith<G> {
    // Fields drop in order: the store first, then what it needed.
    store: Arc<dyn Store>,
    _guard: G,
}

impl<G: Send + Sync + 'static> StoreWith<G> {
    /// `store`, keeping `guard` until it is dropped.
    pub fn new(store: Arc<dyn Store>, guard: G) -> Self {
        Self { store, _guard: guard }
    }
}

#[async_trait]
impl<G: Send + Sync + 'static> Store for StoreWith<G> {
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        self.store.apply(changes).await
    }
    async fn head(&self) -> Result<u64, StoreError> {
        self.store.head().await
    }
    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        self.store.low_water_mark().await
    }
    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        self.store.prune_events(through).await
    }
    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError> {
        self.store.talk(id).await
    }
    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        self.store.direct_talk(pair).await
    }
    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        self.store.talks_of_agent(agent, status, before, limit).await
    }
    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        self.store.participant(id).await
    }
    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        self.store.talk_and_records(talk, agent).await
    }
    async fn message_and_talk(
        &self,
        message: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        self.store.message_and_talk(message, agent, reactors_listed).await
    }
    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        self.store.agent_records(talk, agent).await
    }
    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError> {
        self.store.agent_memberships(agent, after).await
    }
    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        self.store.participants(talk, status, after, limit).await
    }
    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        self.store.message(id, reactors_listed).await
    }
    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.store.messages(talk, include_replies, before, limit, reactors_listed).await
    }
    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.store.replies(parent, after, limit, reactors_listed).await
    }
    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        self.store.reaction(message, emoji, agent).await
    }
    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        self.store.reactions(message, emoji, after, limit).await
    }
    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.store.events(after, limit).await
    }
    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.store.agent_events(agent, talk, after, limit).await
    }
}
