//! A [`SqliteStore`] on its own temporary database, removed when the store
//! is dropped: what the shared suites' factories hand out.

use std::sync::Arc;

use async_trait::async_trait;
use talk_core::store::Cursor;
use talk_core::{
    AgentId, AgentPair, ChangeSet, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus,
    Reaction, Store, StoreError, Talk, TalkId, TalkStatus,
};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

/// A store and its temporary directory; the store closes first.
pub(crate) struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

/// A fresh store on a new database in a new temporary directory.
pub(crate) fn temp_store(options: SqliteOptions) -> Arc<dyn Store> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("talk.db"), options).expect("open a fresh database");
    Arc::new(TempStore { store, _dir: dir })
}

#[async_trait]
impl Store for TempStore {
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
