#![doc = include_str!("../README.md")]

mod codec;
mod connect;
mod error;
mod notifier;
mod schema;
mod search;
mod sql;
mod steps;
mod writer;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use talk_core::store::Named;
use talk_core::store::{ChangeSet, Cursor, SearchQuery, Store};
use talk_core::store::{ConsumerRecord, StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    Talk, TalkId, TalkStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::error::Elapsed;
use tokio::time::{Instant, timeout_at};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Socket};

pub use crate::error::{BoxedError, ConnectError};
pub use crate::notifier::{NotifierOptions, PostgresNotifier, SIGNAL_PAYLOAD_BYTES, SIGNAL_QUEUE};

use crate::connect::{Connector, PoolConnect, TlsConnector, quoted, valid_schema_name};
use crate::error::Error;
use crate::writer::{Request, Writer};

/// How long a caller whose change set is in a batch still waits, past its
/// deadline, for the writer's answer (which gives the batch up at that
/// same deadline) before it answers that the outcome is unknown.
const ANSWER_GRACE: Duration = Duration::from_secs(1);

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
    /// The longest a caller waits for one call of the store (default 10 s):
    /// an [`apply`](Store::apply), from queueing to commit, or a read, from
    /// taking a pooled connection to the last row. Past it, the call answers
    /// [`StoreError::Unavailable`]: a change set still queued is withdrawn
    /// (it will never be applied); one already in a batch is answered by the
    /// writer, which gives the batch up at the earliest deadline of its
    /// callers by dropping its connection, so that the server rolls it back
    /// (or [`StoreError::OutcomeUnknown`] when `COMMIT` had gone out). A read
    /// given up this way closes its connection. Connecting, the writer's and
    /// the notifier's included, is bounded by it too (unless the connection
    /// string sets `connect_timeout`). Must not be zero.
    pub call_timeout: Duration,
    /// The server's `statement_timeout` on every connection of the store
    /// (default 5 s; zero: none): the longest one statement may run, waiting
    /// for locks included. A writer waiting this long for the log's tail
    /// gives its batch up: its callers get [`StoreError::Unavailable`].
    /// Migrating the schema at connect is not bounded by it.
    pub statement_timeout: Duration,
    /// The server's `idle_in_transaction_session_timeout` on every connection
    /// of the store (default 3 s; zero: none): the server ends the session
    /// of a transaction idle that long, and rolls it back. This is what
    /// frees the log's tail when a node freezes while it holds it (a pause,
    /// `SIGSTOP`, a partition): no other node can write meanwhile. Keep it
    /// below `statement_timeout`, so that the writers of the other nodes,
    /// waiting for the tail, outlast a frozen holder rather than give up
    /// just before it is ended. The store's own transactions are never idle
    /// but between round trips.
    pub idle_in_transaction_timeout: Duration,
    /// TCP keepalives on every connection of the store, set on both ends
    /// (the client's socket, and the server's `tcp_keepalives_idle`): how
    /// long a connection is idle before the first probe (default 10 s, at
    /// least 1 s). With the next two, a peer gone without a word (a crashed
    /// host, a partition) is noticed after about `idle + interval × retries`
    /// (25 s by default), by the node and by the server, which then ends its
    /// session and rolls back its transaction.
    pub keepalives_idle: Duration,
    /// The time between two keepalive probes (default 5 s, at least 1 s).
    pub keepalives_interval: Duration,
    /// How many unanswered probes end the connection (default 3, at least 1).
    pub keepalives_retries: u32,
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
            call_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(5),
            idle_in_transaction_timeout: Duration::from_secs(3),
            keepalives_idle: Duration::from_secs(10),
            keepalives_interval: Duration::from_secs(5),
            keepalives_retries: 3,
        }
    }
}

impl PostgresOptions {
    /// Checks the options that have bounds.
    fn check(&self) -> Result<(), ConnectError> {
        if self.pool_size == 0 || self.max_batch == 0 || self.queue_size == 0 {
            return Err(ConnectError::InvalidOptions("pool_size, max_batch and queue_size must be at least 1"));
        }
        if self.call_timeout.is_zero() {
            return Err(ConnectError::InvalidOptions("call_timeout must not be zero"));
        }
        let second = Duration::from_secs(1);
        if self.keepalives_idle < second || self.keepalives_interval < second || self.keepalives_retries == 0 {
            return Err(ConnectError::InvalidOptions(
                "keepalives_idle and keepalives_interval must be at least 1 s, keepalives_retries at least 1",
            ));
        }
        Ok(())
    }

    /// The connection configuration: `url`'s, with the store's schema,
    /// timeouts and keepalives. The server-side settings go in the startup
    /// options, after any the connection string gives (so the store's win).
    fn config(&self, url: &str) -> Result<tokio_postgres::Config, ConnectError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(ConnectError::InvalidUrl)?;
        let mut options: Vec<String> =
            config.get_options().filter(|o| !o.is_empty()).map(str::to_owned).into_iter().collect();
        if let Some(schema) = &self.schema {
            options.push(format!("-c search_path={}", quoted(schema)));
        }
        let settings = [
            ("statement_timeout", self.statement_timeout),
            ("idle_in_transaction_session_timeout", self.idle_in_transaction_timeout),
            ("tcp_keepalives_idle", self.keepalives_idle),
            ("tcp_keepalives_interval", self.keepalives_interval),
        ];
        for (name, value) in settings {
            options.push(format!("-c {name}={}ms", value.as_millis()));
        }
        options.push(format!("-c tcp_keepalives_count={}", self.keepalives_retries));
        config
            .options(options.join(" "))
            .keepalives(true)
            .keepalives_idle(self.keepalives_idle)
            .keepalives_interval(self.keepalives_interval)
            .keepalives_retries(self.keepalives_retries);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.call_timeout);
        }
        Ok(config)
    }
}

/// What the store, its writer and its notifiers share.
pub(crate) struct Shared {
    pub(crate) connector: Arc<dyn Connector>,
    pub(crate) pool: Pool,
    /// The schema worked in, resolved.
    pub(crate) schema: String,
    pub(crate) application_name: String,
    pub(crate) call_timeout: Duration,
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
/// - Every call answers within [`PostgresOptions::call_timeout`].
/// - What an error of [`apply`](Store::apply) means:
///   [`StoreError::OutcomeUnknown`] when the connection was lost (or given
///   up) after the batch's `COMMIT` went out: the change set is in the
///   store whole or not at all, a read tells which.
///   [`StoreError::Unavailable`] when nothing was applied and later may
///   work: no connection, the connection lost before `COMMIT`, a timeout
///   (the caller's, `statement_timeout`, `lock_timeout`), a deadlock or a
///   serialization failure. [`StoreError::Conflict`] as the contract says,
///   and [`StoreError::Backend`] for anything else, nothing applied either.
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
        options.check()?;
        if let Some(schema) = options.schema.as_deref().filter(|s| !valid_schema_name(s)) {
            return Err(ConnectError::InvalidSchema(schema.to_owned()));
        }
        let config = options.config(url)?;
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
        let shared = Arc::new(Shared {
            connector,
            pool,
            schema,
            application_name: options.application_name,
            call_timeout: options.call_timeout,
        });
        let (writer, requests) = mpsc::channel(options.queue_size);
        tokio::spawn(Writer::new(Arc::clone(&shared), options.max_batch).run(requests));
        Ok(Self { shared, writer })
    }

    /// The PostgreSQL schema the store works in.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// A pooled connection, and when the call that takes it must be done:
    /// [`PostgresOptions::call_timeout`] from now.
    async fn pooled(&self) -> Result<(Object, Instant), Error> {
        let deadline = Instant::now() + self.shared.call_timeout;
        match timeout_at(deadline, self.shared.pool.get()).await {
            Ok(client) => Ok((client?, deadline)),
            Err(_) => Err(Error::TimedOut(self.shared.call_timeout)),
        }
    }

    /// The outcome of work on `client` run until its deadline (`timeout_at`).
    /// Past it, the connection is closed rather than given back to the pool:
    /// a statement may still be in flight on it.
    fn settle<T>(&self, client: Object, outcome: Result<Result<T, Error>, Elapsed>) -> Result<T, Error> {
        outcome.unwrap_or_else(|_| {
            drop(Object::take(client));
            Err(Error::TimedOut(self.shared.call_timeout))
        })
    }

    /// The rows of one read statement, on a pooled connection.
    async fn rows(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        let (client, deadline) = self.pooled().await?;
        let outcome = timeout_at(deadline, async {
            let statement = client.prepare_cached(sql).await?;
            Ok(client.query(&statement, params).await?)
        })
        .await;
        self.settle(client, outcome)
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

    /// Deletes the events through `through` under the tail's lock. Given
    /// up at the call's deadline, it answers [`Error::TimedOut`] whether or
    /// not its `COMMIT` went out: pruning again is harmless.
    async fn prune(&self, through: u64) -> Result<(), Error> {
        let (mut client, deadline) = self.pooled().await?;
        let outcome = timeout_at(deadline, async {
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
            Ok(tx.commit().await?)
        })
        .await;
        self.settle(client, outcome)
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
    /// Queues `changes` for the writer and waits for its answer, at most
    /// [`PostgresOptions::call_timeout`] (see there).
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        if changes.is_empty() && changes.guards.is_empty() {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + self.shared.call_timeout;
        let claimed = Arc::new(AtomicBool::new(false));
        let (reply, mut answer) = oneshot::channel();
        let request = Request { changes, reply, deadline, claimed: Arc::clone(&claimed) };
        let waited = timeout_at(deadline, async {
            self.writer.send(request).await.map_err(|_| Error::WriterStopped)?;
            (&mut answer).await.map_err(|_| Error::WriterStopped)
        })
        .await;
        match waited {
            Ok(answered) => answered?,
            // Withdrawn before the writer took it: it will never be applied.
            Err(_) if writer::claim(&claimed) => Err(StoreError::Unavailable(format!(
                "the change set waited {:?} for the writer; it was withdrawn, not applied",
                self.shared.call_timeout
            ))),
            // In a batch, which the writer gives up at this same deadline:
            // its answer is a moment away.
            Err(_) => match tokio::time::timeout(ANSWER_GRACE, answer).await {
                Ok(Ok(answered)) => answered,
                _ => Err(StoreError::outcome_unknown(Error::TimedOut(self.shared.call_timeout))),
            },
        }
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

    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        lease: Duration,
        start: u64,
    ) -> Result<Option<u64>, StoreError> {
        let params: [&(dyn ToSql + Sync); 4] = [&name, &clamp(start), &owner, &clamp(lease.as_millis())];
        let Some(row) = self.row(sql::CLAIM_CONSUMER, &params).await? else { return Ok(None) };
        let cursor: i64 = row.try_get(0).map_err(Error::from)?;
        Ok(Some(error::to_u64(cursor, "consumer cursor")?))
    }

    async fn ack_consumer(&self, name: &str, owner: &str, cursor: u64, lease: Duration) -> Result<bool, StoreError> {
        let params: [&(dyn ToSql + Sync); 4] = [&name, &owner, &clamp(cursor), &clamp(lease.as_millis())];
        Ok(self.row(sql::ACK_CONSUMER, &params).await?.is_some())
    }

    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError> {
        let mut consumers = Vec::new();
        for row in self.rows(sql::CONSUMERS, &[]).await? {
            let cursor: i64 = row.try_get(1).map_err(Error::from)?;
            consumers.push(ConsumerRecord {
                name: row.try_get(0).map_err(Error::from)?,
                cursor: error::to_u64(cursor, "consumer cursor")?,
                owner: row.try_get(2).map_err(Error::from)?,
            });
        }
        Ok(consumers)
    }

    async fn remove_consumer(&self, name: &str) -> Result<(), StoreError> {
        self.rows(sql::REMOVE_CONSUMER, &[&name]).await?;
        Ok(())
    }

    async fn secret_key(&self) -> Result<[u8; 32], StoreError> {
        let row = self.row(sql::SECRET_KEY, &[]).await?.ok_or_else(|| StoreError::backend("no secret key"))?;
        let key: Vec<u8> = row.try_get(0).map_err(Error::from)?;
        key.try_into().map_err(|_| StoreError::backend("the store's secret key is not 32 bytes"))
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

    async fn public_talks(&self, words: &[String], before: Cursor, limit: usize) -> Result<Vec<Talk>, StoreError> {
        let before = before.map_or(i64::MAX, clamp);
        let rows = self.rows(sql::PUBLIC_TALKS, &[&before, &words, &clamp(limit)]).await?;
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
        let (client, deadline) = self.pooled().await?;
        let agent = agent.as_str();
        let outcome = timeout_at(deadline, async {
            let (talk_sql, records_sql) =
                futures::try_join!(client.prepare_cached(sql::TALK), client.prepare_cached(sql::AGENT_RECORDS))?;
            let (talk_params, records_params): ([&(dyn ToSql + Sync); 1], [&(dyn ToSql + Sync); 2]) =
                ([&talk.0], [&agent, &talk.0]);
            let rows = futures::try_join!(
                client.query_opt(&talk_sql, &talk_params),
                client.query(&records_sql, &records_params)
            )?;
            Ok::<_, Error>(rows)
        })
        .await;
        let (talk_row, record_rows) = self.settle(client, outcome)?;
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

    async fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let Some(matching) = search::tsquery(&query.terms) else { return Ok(Vec::new()) };
        let before = before.map_or(i64::MAX, clamp);
        let talk = query.filters.talk_id.map(|t| t.0);
        let author = query.filters.agent_id.as_ref().map(|a| a.as_str());
        let parent = query.filters.parent_id.map(|m| m.0);
        let rows = self
            .rows(
                sql::SEARCH_MESSAGES,
                &[
                    &matching,
                    &before,
                    &agent.as_str(),
                    &talk,
                    &author,
                    &parent,
                    &query.filters.has_media,
                    &query.filters.before,
                    &query.filters.after,
                    &clamp(limit),
                    &clamp(reactors_listed),
                ],
            )
            .await?;
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

    async fn read_marker(&self, participant: ParticipantId) -> Result<Option<talk_core::ReadMarker>, StoreError> {
        Ok(self.row(sql::READ_MARKER, &[&participant.0]).await?.as_ref().map(codec::read_marker).transpose()?)
    }

    async fn read_markers(
        &self,
        talk: TalkId,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<talk_core::ReadMarker>, StoreError> {
        let (after, limit) = (after.map_or(-1, clamp), clamp(limit));
        let rows = self.rows(sql::READ_MARKERS, &[&talk.0, &after, &limit]).await?;
        Ok(codec::all(&rows, codec::read_marker)?)
    }

    async fn read_numbers(
        &self,
        agent: &AgentId,
        talks: Option<&[TalkId]>,
    ) -> Result<Vec<talk_core::ReadNumbers>, StoreError> {
        let rows = match talks {
            None => self.rows(sql::READ_NUMBERS, &[&agent.as_str()]).await?,
            Some(talks) => {
                let ids: Vec<uuid::Uuid> = talks.iter().map(|t| t.0).collect();
                self.rows(sql::READ_NUMBERS_IN, &[&agent.as_str(), &ids]).await?
            }
        };
        Ok(codec::all(&rows, codec::read_numbers)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_carries_the_timeouts_and_keepalives() {
        let options = PostgresOptions { schema: Some("talk".into()), ..PostgresOptions::default() };
        let config = options.config("postgres://talk@db/talk?options=-c%20lock_timeout%3D1000").expect("config");
        assert_eq!(
            config.get_options(),
            Some(
                "-c lock_timeout=1000 -c search_path=\"talk\" -c statement_timeout=5000ms \
                 -c idle_in_transaction_session_timeout=3000ms -c tcp_keepalives_idle=10000ms \
                 -c tcp_keepalives_interval=5000ms -c tcp_keepalives_count=3"
            )
        );
        assert!(config.get_keepalives());
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(10));
        assert_eq!(config.get_keepalives_interval(), Some(Duration::from_secs(5)));
        assert_eq!(config.get_keepalives_retries(), Some(3));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(10)));
        let given = options.config("postgres://talk@db/talk?connect_timeout=2").expect("config");
        assert_eq!(given.get_connect_timeout(), Some(&Duration::from_secs(2)), "the connection string's wins");
    }
}
