//! Row PG1's baseline: `send_message` as plain tokio-postgres, on the
//! schema a PostgresStore made. The same statements (copied from
//! talk-store-postgres's `sql.rs`), batched the same way: each sender does
//! the Hub's two reads (the talk row, the sender's records) in one round
//! trip on a connection of a pool of 8 (the store's default), then queues
//! its send to one writer task on one connection, which takes whatever is
//! queued (up to 128, the store's default batch) into one transaction:
//! `BEGIN` and the tail's lock in one round trip; per send, one pipeline
//! of the previous savepoint's `RELEASE`, `SAVEPOINT`, both guards, the
//! message insert, the sender's read marker and the event insert (its
//! payload encoded as JSON, as the store does); then `RELEASE`, the new
//! tail and `pg_notify` in one pipeline, and `COMMIT`. Every sender is
//! answered after the commit.

use std::sync::Arc;

use talk_core::{AgentId, Clock, EventData, Message, SystemClock, TalkId, text};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

use super::BoxError;

/// The statements, copied from talk-store-postgres's `sql.rs`.
mod sql {
    pub(super) const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";
    pub(super) const COMMIT: &str = "COMMIT";
    pub(super) const SAVEPOINT: &str = "SAVEPOINT change_set";
    pub(super) const RELEASE: &str = "RELEASE SAVEPOINT change_set";
    pub(super) const LOCK_TAIL: &str = "SELECT seq, low_water_mark FROM log_tail FOR NO KEY UPDATE";
    pub(super) const SET_TAIL: &str = "UPDATE log_tail SET seq = $1 WHERE seq <= $1";
    pub(super) const NOTIFY: &str = "SELECT pg_notify($1, $2)";
    pub(super) const CHANNEL: &str = "talk_events";
    pub(super) const GUARD_TALK_VERSION: &str = "SELECT 1 FROM talks WHERE id = $1 AND version = $2 FOR SHARE";
    pub(super) const GUARD_PARTICIPANT_ACTIVE: &str =
        "SELECT 1 FROM participants WHERE id = $1 AND status = 'active' FOR SHARE";
    pub(super) const INSERT_MESSAGE: &str = "WITH numbered AS (UPDATE talks SET normal_total = normal_total + 1 \
     WHERE id = $2 AND $4::text = 'normal' RETURNING normal_total) \
     INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, \
     medias, system, reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete, \
     mentions, ord, search_words) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $13, $14, $15, $16, \
     (SELECT normal_total FROM numbered), $17::text::tsvector)";
    pub(super) const SET_READ_MARKER: &str = "UPDATE participants p SET read_seq = $2, tm_read = $3, read_ord = \
     coalesce((SELECT m.ord FROM messages m WHERE m.talk_id = p.talk_id AND m.kind = 'normal' AND m.seq <= $2 \
     ORDER BY m.seq DESC LIMIT 1), 0) WHERE p.id = $1";
    pub(super) const INSERT_EVENT: &str =
        "INSERT INTO events (seq, talk_id, message_id, tm_create, type, data) VALUES ($1, $2, $3, $4, $5, $6)";
    pub(super) const TALK: &str = "SELECT id, kind, pair_low, pair_high, name, detail, status, creator_id, member_count, \
     version, created_seq, tm_create, tm_update, tm_close FROM talks WHERE id = $1";
    pub(super) const AGENT_RECORDS: &str = "SELECT id, talk_id, agent_id, status, left_reason, seq, joined_seq, left_seq, \
     tm_joined, tm_left FROM participants WHERE agent_id = $1 AND talk_id = $2 ORDER BY seq";

    /// What the writer prepares.
    pub(super) const WRITER: &[&str] = &[
        BEGIN,
        COMMIT,
        SAVEPOINT,
        RELEASE,
        LOCK_TAIL,
        SET_TAIL,
        NOTIFY,
        GUARD_TALK_VERSION,
        GUARD_PARTICIPANT_ACTIVE,
        INSERT_MESSAGE,
        SET_READ_MARKER,
        INSERT_EVENT,
    ];
}

/// The store's defaults: read connections, and sends per transaction.
const POOL_SIZE: usize = 8;
const MAX_BATCH: usize = 128;

type Param = Box<dyn ToSql + Sync + Send>;

/// A connection on `schema`, driven by its own task.
async fn connect(url: &str, schema: &str) -> Result<Client, BoxError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    config.options(format!("-c search_path=\"{}\"", schema.replace('"', "\"\"")));
    config.application_name("talk bench baseline");
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Runs `steps` in one pipeline (every request sent before any answer is
/// read), as the store's writer does; the first error fails.
async fn pipeline(client: &Client, steps: &[(&Statement, Vec<Param>)]) -> Result<Vec<u64>, BoxError> {
    let futures = steps.iter().map(|(statement, params)| {
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        async move { client.execute(*statement, &refs).await }
    });
    let answers = futures::future::join_all(futures).await;
    Ok(answers.into_iter().collect::<Result<Vec<u64>, _>>()?)
}

/// One send, decided by its sender, for the writer.
struct Queued {
    talk_version: i64,
    record: Uuid,
    message: Message,
    reply: oneshot::Sender<Result<(), String>>,
}

/// A read connection with its statements.
struct Reader {
    client: Client,
    talk: Statement,
    records: Statement,
}

/// The plain senders of row PG1.
#[derive(Clone)]
pub struct PostgresSends {
    inner: Arc<Inner>,
}

struct Inner {
    talk: TalkId,
    /// The pooled read connections, each with the two reads prepared (as
    /// the pool's statement cache holds them).
    readers: Mutex<Vec<Reader>>,
    permits: Semaphore,
    writer: mpsc::Sender<Queued>,
}

impl PostgresSends {
    /// Connects to the schema where `talk` is, which the store made.
    pub async fn connect(url: &str, schema: &str, talk: TalkId) -> Result<Self, BoxError> {
        let mut readers = Vec::with_capacity(POOL_SIZE);
        for _ in 0..POOL_SIZE {
            let client = connect(url, schema).await?;
            let (talk, records) = (client.prepare(sql::TALK).await?, client.prepare(sql::AGENT_RECORDS).await?);
            readers.push(Reader { client, talk, records });
        }
        let client = connect(url, schema).await?;
        let mut statements = Vec::with_capacity(sql::WRITER.len());
        for text in sql::WRITER {
            statements.push(client.prepare(text).await?);
        }
        let (writer, queue) = mpsc::channel(1024);
        tokio::spawn(write(client, statements, queue, schema.to_owned()));
        let inner = Inner { talk, readers: Mutex::new(readers), permits: Semaphore::new(POOL_SIZE), writer };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The Hub's two reads, on a pooled connection, in one round trip:
    /// answers the talk's version and the sender's active record.
    async fn read(&self, sender: &AgentId) -> Result<(i64, Uuid), BoxError> {
        let _permit = self.inner.permits.acquire().await?;
        let reader = self.inner.readers.lock().await.pop().ok_or("no pooled connection")?;
        let (talk, agent) = (self.inner.talk.0, sender.as_str());
        let (talk_params, records_params): ([&(dyn ToSql + Sync); 1], [&(dyn ToSql + Sync); 2]) =
            ([&talk], [&agent, &talk]);
        let outcome = futures::try_join!(
            reader.client.query_opt(&reader.talk, &talk_params),
            reader.client.query(&reader.records, &records_params)
        );
        self.inner.readers.lock().await.push(reader);
        let (talk, records) = outcome?;
        let version: i64 = talk.ok_or("no talk")?.try_get(9)?;
        let record = records
            .iter()
            .rev()
            .find(|r| r.try_get::<_, &str>(3).is_ok_and(|s| s == "active"))
            .ok_or("the sender has no active record")?
            .try_get(0)?;
        Ok((version, record))
    }

    /// One `send_message` by `sender`: answered once committed.
    pub async fn send(&self, sender: &AgentId, text: String) -> Result<(), BoxError> {
        let (talk_version, record) = self.read(sender).await?;
        let now = SystemClock.now();
        let message = super::plain_message(self.inner.talk, Some(sender), text, 0, now);
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Queued { talk_version, record, message, reply })
            .await
            .map_err(|_| "the writer stopped")?;
        Ok(answer.await.map_err(|_| "the writer stopped")??)
    }
}

/// The writer: one transaction per batch of queued sends.
async fn write(client: Client, statements: Vec<Statement>, mut queue: mpsc::Receiver<Queued>, schema: String) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(send) => batch.push(send),
                Err(_) => break,
            }
        }
        let (sends, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|s| ((s.talk_version, s.record, s.message), s.reply)).unzip();
        let outcome = commit(&client, &statements, sends, &schema).await.map_err(|e| e.to_string());
        for reply in replies {
            let _ = reply.send(outcome.clone());
        }
    }
}

async fn commit(
    client: &Client,
    statements: &[Statement],
    sends: Vec<(i64, Uuid, Message)>,
    schema: &str,
) -> Result<(), BoxError> {
    let statement = |text: &str| {
        let index = sql::WRITER.iter().position(|s| *s == text).unwrap_or_default();
        &statements[index]
    };
    let begin = client.execute(statement(sql::BEGIN), &[]);
    let tail = client.query_one(statement(sql::LOCK_TAIL), &[]);
    let (begun, tail) = futures::join!(begin, tail);
    begun?;
    let tail: i64 = tail?.try_get(0)?;
    let mut seq = tail;
    let mut close: Vec<(&Statement, Vec<Param>)> = Vec::new();
    for (talk_version, record, mut message) in sends {
        seq += 1;
        message.seq = u64::try_from(seq)?;
        let words = (!message.text.is_empty()).then(|| tsvector(&message.text));
        let (id, talk) = (message.id.0, message.talk_id.0);
        let agent = message.agent_id.as_ref().map(|a| a.as_str().to_owned());
        let mut steps = std::mem::take(&mut close);
        steps.push((statement(sql::SAVEPOINT), Vec::new()));
        steps.push((statement(sql::GUARD_TALK_VERSION), vec![Box::new(talk), Box::new(talk_version)]));
        steps.push((statement(sql::GUARD_PARTICIPANT_ACTIVE), vec![Box::new(record)]));
        steps.push((
            statement(sql::INSERT_MESSAGE),
            vec![
                Box::new(id),
                Box::new(talk),
                Box::new(None::<Uuid>),
                Box::new("normal"),
                Box::new(agent),
                Box::new(message.text.clone()),
                Box::new(serde_json::to_value(&message.medias)?),
                Box::new(None::<serde_json::Value>),
                Box::new(1_i64),
                Box::new(seq),
                Box::new(None::<String>),
                Box::new(message.tm_create),
                Box::new(message.tm_update),
                Box::new(message.tm_edit),
                Box::new(message.tm_delete),
                Box::new(serde_json::to_value(&message.mentions)?),
                Box::new(words),
            ],
        ));
        steps.push((
            statement(sql::SET_READ_MARKER),
            vec![Box::new(record), Box::new(seq), Box::new(message.tm_create)],
        ));
        let tm_create = message.tm_create;
        let data = EventData::MessageCreated(message);
        steps.push((
            statement(sql::INSERT_EVENT),
            vec![
                Box::new(seq),
                Box::new(talk),
                Box::new(Some(id)),
                Box::new(tm_create),
                Box::new(data.type_name()),
                Box::new(serde_json::to_value(&data)?),
            ],
        ));
        let answers = pipeline(client, &steps).await?;
        // Each guard holds, and the read marker moved: one row each.
        let guards = &answers[answers.len() - 5..];
        if guards[0] != 1 || guards[1] != 1 || guards[3] != 1 {
            return Err("a guard failed".into());
        }
        close.push((statement(sql::RELEASE), Vec::new()));
    }
    close.push((statement(sql::SET_TAIL), vec![Box::new(seq)]));
    close.push((statement(sql::NOTIFY), vec![Box::new(sql::CHANNEL), Box::new(format!("{schema}:{seq}"))]));
    pipeline(client, &close).await?;
    client.execute(statement(sql::COMMIT), &[]).await?;
    Ok(())
}

/// A text's `tsvector` literal, as the store writes it: each word of
/// `text::index_text` with its positions.
fn tsvector(message: &str) -> String {
    let indexed = text::index_text(message);
    let mut positions: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for (k, word) in indexed.split(' ').filter(|w| !w.is_empty()).enumerate() {
        positions.entry(word).or_default().push(k + 1);
    }
    let entries: Vec<String> = positions
        .into_iter()
        .map(|(word, at)| {
            let at: Vec<String> = at.iter().map(ToString::to_string).collect();
            format!("'{}':{}", word.replace('\\', "\\\\").replace('\'', "''"), at.join(","))
        })
        .collect();
    entries.join(" ")
}
