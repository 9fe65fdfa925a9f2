#![doc = include_str!("../README.md")]

mod codec;
mod connect;
mod error;
mod notifier;
mod schema;
mod sql;
mod writer;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use talk_core::store::Named;
use talk_core::store::{ChangeSet, Cursor, Store};
use talk_core::store::{StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    Talk, TalkId, TalkStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Socket};

pub use crate::error::{BoxedError, ConnectError};
pub use crate::notifier::{NotifierOptions, PostgresNotifier};

use crate::connect::{Connector, PoolConnect, TlsConnector, quoted, valid_schema_name};
use crate::error::Error;
use crate::writer::{Request, Writer};

/// How a [`PostgresStore`] connects and works.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The PostgreSQL schema the store works in, created if missing
    /// (default: none, the connection's `current_schema()`, usually
    /// `public`). 1-63 characters of `A-Z a-z 0-9 _`, not starting with a
    /// digit nor with `pg_`; the case is kept. Every node of one deployment
    /// names the same schema; different schemas are separate stores (tests
    /// use one each).
    pub schema: Option<String>,
    /// The most connections the store opens for reads and pruning (default
    /// 8). The writer has one more of its own, the notifier another.
    pub pool_size: usize,
    /// The most change sets committed in one transaction (default 128).
    pub max_batch: usize,
    /// The most change sets waiting for the writer; `apply` waits for room
    /// beyond that (default 1024).
    pub queue_size: usize,
    /// How long a read waits for a pooled connection (or for a new one to be
    /// made) before it answers [`StoreError::Unavailable`] (default 30 s).
    pub acquire_timeout: Duration,
    /// The `application_name` of the store's connections, as
    /// `pg_stat_activity` shows them; the writer's and the notifier's add
    /// ` writer` and ` listener` (default `talk-store-postgres`).
    pub application_name: String,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: None,
            pool_size: 8,
            max_batch: 128,
            queue_size: 1024,
            acquire_timeout: Duration::from_secs(30),
            application_name: "talk-store-postgres".to_owned(),
        }
    }
}

/// What the store, its writer and its notifiers share.
pub(crate) struct Shared {
    pub(crate) connector: Arc<dyn Connector>,
    pub(crate) pool: Pool,
    /// The schema worked in, resolved.
    pub(crate) schema: String,
    pub(crate) application_name: String,
}

/// Talk's PostgreSQL [`Store`], for several server processes sharing one
/// database. See the [crate documentation](crate) for what it guarantees
/// across nodes.
///
/// - Reads go through a pool of connections, each one statement (one
///   snapshot): a message comes with its reactions as of one instant.
/// - [`apply`](Store::apply) queues the change set to this store's writer
///   task, which commits whatever is queued in one transaction (each change
///   set in its own savepoint) and answers after the commit.
/// - If the connection is lost while a batch commits, its callers get
///   [`StoreError::Backend`] saying that the outcome is unknown: the change
///   set may have been applied. Every other error means nothing was; when
///   no connection can be made at all, the error is
///   [`StoreError::Unavailable`].
///
/// The store must be made (and used) inside a tokio runtime: it spawns its
/// writer task there. Dropping the store stops the writer once the queued
/// change sets are done.
pub struct PostgresStore {
    shared: Arc<Shared>,
    writer: mpsc::Sender<Request>,
}

impl PostgresStore {
    /// Connects without TLS to the database at `url` (a `postgres://` URL or
    /// a `key=value` connection string), migrates the schema, and starts the
    /// writer.
    ///
    /// # Errors
    /// [`ConnectError`]: a malformed URL or option, an unreachable server, a
    /// schema newer than this crate, or a failed migration.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<Self, ConnectError> {
        Self::connect_with_tls(url, options, NoTls).await
    }

    /// As [`PostgresStore::connect`], with a TLS connector (for example from
    /// `tokio-postgres-rustls` or `postgres-native-tls`) used by every
    /// connection of the store and of its notifiers.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub async fn connect_with_tls<T>(url: &str, options: PostgresOptions, tls: T) -> Result<Self, ConnectError>
    where
        T: MakeTlsConnect<Socket> + Clone + Sync + Send + 'static,
        T::Stream: Sync + Send,
        T::TlsConnect: Sync + Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        if options.pool_size == 0 || options.max_batch == 0 || options.queue_size == 0 {
            return Err(ConnectError::InvalidOptions("pool_size, max_batch and queue_size must be at least 1"));
        }
        if let Some(schema) = options.schema.as_deref().filter(|s| !valid_schema_name(s)) {
            return Err(ConnectError::InvalidSchema(schema.to_owned()));
        }
        let mut config: tokio_postgres::Config = url.parse().map_err(ConnectError::InvalidUrl)?;
        if let Some(schema) = &options.schema {
            let search_path = format!("-c search_path={}", quoted(schema));
            let combined = match config.get_options() {
                Some(existing) if !existing.is_empty() => format!("{existing} {search_path}"),
                _ => search_path,
            };
            config.options(&combined);
        }
        let connector: Arc<dyn Connector> = Arc::new(TlsConnector { config: config.clone(), tls });

        let (mut client, driver) = connector
            .connect(&format!("{} migrate", options.application_name), None)
            .await
            .map_err(ConnectError::Connect)?;
        let migrated = schema::migrate(&mut client, options.schema.as_deref()).await;
        // Close the migrating session before going on: dropping the client
        // ends its connection, which the driver task finishes.
        drop(client);
        let _ = driver.await;
        let schema = migrated?;

        let manager = Manager::from_connect(
            config,
            PoolConnect { connector: Arc::clone(&connector), application_name: options.application_name.clone() },
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .build()
            .map_err(|e| ConnectError::Pool(Box::new(e)))?;
        let shared = Arc::new(Shared { connector, pool, schema, application_name: options.application_name });
        let (writer, requests) = mpsc::channel(options.queue_size);
        tokio::spawn(Writer::new(Arc::clone(&shared), options.max_batch).run(requests));
        Ok(Self { shared, writer })
    }

    /// The PostgreSQL schema the store works in.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// The rows of one read statement, on a pooled connection.
    async fn rows(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        let client = self.shared.pool.get().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }

    /// The one row of a statement that answers at most one.
    async fn row(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, Error> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }

    async fn tail_column(&self, sql: &'static str, column: &'static str) -> Result<u64, StoreError> {
        let row = self.row(sql, &[]).await?.ok_or(Error::Corrupt { column, why: "log_tail has no row".into() })?;
        let value: i64 = row.try_get(0).map_err(Error::from)?;
        Ok(error::to_u64(value, column)?)
    }

    async fn prune(&self, through: u64) -> Result<(), Error> {
        let mut client = self.shared.pool.get().await?;
        let tx = client.transaction().await?;
        let lock = tx.prepare_cached(sql::LOCK_TAIL).await?;
        let row = tx.query_one(&lock, &[]).await?;
        let (tail, mark): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let lowest_hold = tx.prepare_cached(sql::LOWEST_HOLD).await?;
        let held: Option<i64> = tx.query_one(&lowest_hold, &[]).await?.try_get(0)?;
        let through = clamp(through).min(tail).min(held.unwrap_or(i64::MAX));
        if through > mark {
            let prune = tx.prepare_cached(sql::PRUNE).await?;
            tx.execute(&prune, &[&mark, &through]).await?;
            let set = tx.prepare_cached(sql::SET_LOW_WATER_MARK).await?;
            tx.execute(&set, &[&through]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").field("schema", &self.shared.schema).finish_non_exhaustive()
    }
}

/// A `seq` bound or a limit as a `bigint` parameter: beyond `i64::MAX` is
/// the same as `i64::MAX` (no stored `seq` is that large).
fn clamp<T: TryInto<i64>>(value: T) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

fn status_name(status: TalkStatus) -> &'static str {
    Named::as_str(status)
}

#[async_trait]
impl Store for PostgresStore {
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        if changes.is_empty() && changes.guards.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.writer.send(Request { changes, reply }).await.map_err(|_| Error::WriterStopped)?;
        answer.await.map_err(|_| Error::WriterStopped)?
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.tail_column(sql::HEAD, "log_tail.seq").await
    }

    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        self.tail_column(sql::LOW_WATER_MARK, "log_tail.low_water_mark").await
    }

    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        Ok(self.prune(through).await?)
    }

    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError> {
        let lease = lease.map(|lease| clamp(lease.as_millis()));
        self.rows(sql::HOLD_EVENTS, &[&holder, &clamp(position), &lease]).await?;
        Ok(())
    }

    async fn release_events(&self, holder: &str) -> Result<(), StoreError> {
        self.rows(sql::RELEASE_EVENTS, &[&holder]).await?;
        Ok(())
    }

    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError> {
        Ok(self.row(sql::TALK, &[&id.0]).await?.as_ref().map(codec::talk).transpose()?)
    }

    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        let [low, high] = pair.agents();
        let row = self.row(sql::DIRECT_TALK, &[&low.as_str(), &high.as_str()]).await?;
        Ok(row.as_ref().map(codec::talk).transpose()?)
    }

    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        let before = before.map_or(i64::MAX, clamp);
        let status = status.map(status_name);
        let rows = self.rows(sql::TALKS_OF_AGENT, &[&agent.as_str(), &before, &status, &clamp(limit)]).await?;
        Ok(codec::all(&rows, codec::talk)?)
    }

    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        Ok(self.row(sql::PARTICIPANT, &[&id.0]).await?.as_ref().map(codec::participant).transpose()?)
    }

    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        let rows = self.rows(sql::AGENT_RECORDS, &[&agent.as_str(), &talk.0]).await?;
        Ok(codec::all(&rows, codec::participant)?)
    }

    /// Both queries pipelined on one connection: one round trip.
    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        let client = self.shared.pool.get().await.map_err(Error::from)?;
        let (talk_sql, records_sql) =
            futures::try_join!(client.prepare_cached(sql::TALK), client.prepare_cached(sql::AGENT_RECORDS))
                .map_err(Error::from)?;
        let agent = agent.as_str();
        let (talk_params, records_params): ([&(dyn ToSql + Sync); 1], [&(dyn ToSql + Sync); 2]) =
            ([&talk.0], [&agent, &talk.0]);
        let (talk_row, record_rows) =
            futures::try_join!(client.query_opt(&talk_sql, &talk_params), client.query(&records_sql, &records_params))
                .map_err(Error::from)?;
        let Some(row) = talk_row else { return Ok(None) };
        Ok(Some(TalkAndRecords { talk: codec::talk(&row)?, records: codec::all(&record_rows, codec::participant)? }))
    }

    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError> {
        let rows = self.rows(sql::AGENT_MEMBERSHIPS, &[&agent.as_str(), &clamp(after)]).await?;
        Ok(codec::all(&rows, codec::participant)?)
    }

    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        let after = after.map_or(0, clamp);
        let rows = match status {
            None => self.rows(sql::PARTICIPANTS, &[&talk.0, &after, &clamp(limit)]).await?,
            Some(status) => {
                let status = Named::as_str(status);
                self.rows(sql::PARTICIPANTS_WITH_STATUS, &[&talk.0, &status, &after, &clamp(limit)]).await?
            }
        };
        Ok(codec::all(&rows, codec::participant)?)
    }

    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        let row = self.row(sql::MESSAGE, &[&id.0, &clamp(reactors_listed)]).await?;
        Ok(row.as_ref().map(codec::message).transpose()?)
    }

    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let statement = if include_replies { sql::ALL_MESSAGES } else { sql::TOP_LEVEL_MESSAGES };
        let before = before.map_or(i64::MAX, clamp);
        let rows = self.rows(statement, &[&talk.0, &before, &clamp(limit), &clamp(reactors_listed)]).await?;
        Ok(codec::all(&rows, codec::message)?)
    }

    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let after = after.map_or(0, clamp);
        let rows = self.rows(sql::REPLIES, &[&parent.0, &after, &clamp(limit), &clamp(reactors_listed)]).await?;
        Ok(codec::all(&rows, codec::message)?)
    }

    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        let row = self.row(sql::REACTION, &[&message.0, &emoji.as_str(), &agent.as_str()]).await?;
        Ok(row.as_ref().map(codec::reaction).transpose()?)
    }

    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        let after = after.map_or(0, clamp);
        let rows = self.rows(sql::REACTIONS, &[&message.0, &emoji.as_str(), &after, &clamp(limit)]).await?;
        Ok(codec::all(&rows, codec::reaction)?)
    }

    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let rows = self.rows(sql::EVENTS, &[&clamp(after), &clamp(limit)]).await?;
        Ok(codec::all(&rows, codec::event)?)
    }

    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let (after, limit) = (clamp(after), clamp(limit));
        let rows = match talk {
            None => self.rows(sql::AGENT_EVENTS, &[&agent.as_str(), &after, &limit]).await?,
            Some(talk) => self.rows(sql::AGENT_EVENTS_IN_TALK, &[&agent.as_str(), &after, &limit, &talk.0]).await?,
        };
        Ok(codec::all(&rows, codec::event)?)
    }
}
