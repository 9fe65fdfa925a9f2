//! What the PostgreSQL tests share: the server from `TALK_TEST_POSTGRES_URL`,
//! a fresh schema per test (dropped when the test ends), and stores on it.
//!
//! Without `TALK_TEST_POSTGRES_URL`, each test says on stderr that it is
//! skipped (written past the test harness's capture, so it always shows) and
//! passes; with it, a server that cannot be reached fails the test.

#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use talk_core::store::{ChangeSet, Cursor, Store};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    StoreError, Talk, TalkId, TalkStatus,
};
use talk_store_postgres::{PostgresOptions, PostgresStore};

/// The variable naming the test server.
pub const URL_VAR: &str = "TALK_TEST_POSTGRES_URL";

/// Says, past the harness's output capture, that `test` is skipped.
pub fn skip_notice(test: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {URL_VAR} is not set; set it to a PostgreSQL URL \
         (e.g. postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL tests"
    );
}

/// The test server's URL, or `None` after saying that `test` is skipped.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip_notice(test);
            None
        }
    }
}

/// The test server's URL; panics when it is not set (for the suites that
/// are only compiled when it is).
pub fn required_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| panic!("{URL_VAR} must be set to run this suite"))
}

/// A new schema name, unique to this test.
pub fn fresh_schema_name() -> String {
    format!("talk_test_{:016x}", rand::random::<u64>())
}

/// A connection for the test's own SQL, driven on the current runtime.
///
/// # Panics
/// When the server cannot be reached.
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server named by {URL_VAR} ({url}): {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A schema that is dropped (with everything in it) when this value is.
#[derive(Debug)]
pub struct TestSchema {
    pub url: String,
    pub name: String,
}

impl TestSchema {
    /// A fresh schema name on the test server (created by the first store).
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), name: fresh_schema_name() }
    }

    /// Options for a store on this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions { schema: Some(self.name.clone()), pool_size: 4, ..PostgresOptions::default() }
    }

    /// A store on this schema.
    ///
    /// # Panics
    /// When the server cannot be reached or the store cannot be made.
    pub async fn store(&self) -> PostgresStore {
        self.store_with(self.options()).await
    }

    /// A store on this schema with `options`.
    pub async fn store_with(&self, options: PostgresOptions) -> PostgresStore {
        PostgresStore::connect(&self.url, options).await.unwrap_or_else(|e| {
            panic!("cannot open a PostgresStore on the test server named by {URL_VAR} ({}): {e:?}", self.url)
        })
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Dropping may happen inside a runtime: do it on a thread of its own.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                // Never wait long for a lock a stray session still holds.
                client
                    .batch_execute(&format!("SET lock_timeout = '20s'; DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            let _ = writeln!(std::io::stderr(), "note: could not drop test schema {}", self.name);
        }
    }
}

/// A fresh store on a fresh schema, for the conformance suite: the schema
/// goes when the store does.
pub async fn fresh_store() -> Arc<dyn Store> {
    let schema = TestSchema::new(&required_url());
    let store = schema.store().await;
    Arc::new(SchemaStore { store, _schema: schema })
}

/// A [`PostgresStore`] that drops its schema when it goes.
pub struct SchemaStore {
    // Fields drop in order: the store (and its writer) first.
    pub store: PostgresStore,
    pub _schema: TestSchema,
}

#[async_trait]
impl Store for SchemaStore {
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
