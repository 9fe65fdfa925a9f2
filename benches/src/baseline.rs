//! Every baseline of the suite, in one place. Each does the same logical
//! work as the path it is compared to, with nothing of Talk's in between.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use rusqlite::{Connection, OpenFlags, params};
use serde::{Deserialize, Serialize};
use talk_core::{
    AgentId, Clock, Emoji, Event, EventData, IdGenerator, Message, MessageId, MessageKind, Participant, ParticipantId,
    ParticipantStatus, Reaction, ReactionChange, ReactionSummary, SystemClock, Talk, TalkId, TalkKind, TalkStatus,
    Timestamp, UuidV7Generator,
};
use tokio::sync::mpsc;
use uuid::Uuid;

pub mod postgres_sends;

/// Fan-out with bare tokio channels: one producer pushes the same shared
/// bytes into `n` bounded channels, one task per receiver; answers the time
/// from the push until every receiver holds the bytes. This is the work the
/// dispatcher does for one event of a talk with `n` subscribers, without
/// reading the log or routing.
pub async fn channel_fan_out(n: usize, rounds: usize, bytes: Arc<str>) -> Vec<Duration> {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, mut rx) = mpsc::channel::<Arc<str>>(1024);
        senders.push(tx);
        let done = done_tx.clone();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                std::hint::black_box(&frame);
                let _ = done.send(());
            }
        });
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for tx in &senders {
            let _ = tx.try_send(bytes.clone());
        }
        for _ in 0..n {
            let _ = done_rx.recv().await;
        }
        samples.push(start.elapsed());
    }
    samples
}

// ------------------------------------------------------------------------
// Rows 1 and 2: one send on SQLite, as plain rusqlite.

/// An error of a baseline.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The statements the store runs for one `send_message`, copied from
/// talk-store-sqlite's `sql.rs` (the reads the Hub does, then the writer's).
pub mod sql {
    /// The Hub's first read: the talk row.
    pub const TALK: &str = "SELECT id, kind, pair_low, pair_high, name, detail, status, creator_id, member_count, \
         version, created_seq, tm_create, tm_update, tm_close FROM talks WHERE id = ?1";
    /// The Hub's second read: the actor's participant records in the talk.
    pub const AGENT_RECORDS: &str = "SELECT id, talk_id, agent_id, status, left_reason, seq, joined_seq, left_seq, \
         tm_joined, tm_left FROM participants WHERE agent_id = ?1 AND talk_id = ?2 ORDER BY seq";
    /// The writer's transaction.
    pub const BEGIN: &str = "BEGIN IMMEDIATE";
    /// Ends the writer's transaction.
    pub const COMMIT: &str = "COMMIT";
    /// One savepoint per change set.
    pub const SAVEPOINT: &str = "SAVEPOINT change_set";
    /// Ends a change set's savepoint.
    pub const RELEASE: &str = "RELEASE change_set";
    /// Guard `TalkVersion`.
    pub const TALK_VERSION: &str = "SELECT version FROM talks WHERE id = ?1";
    /// Guard `ParticipantActive`.
    pub const PARTICIPANT_STATUS: &str = "SELECT status FROM participants WHERE id = ?1";
    /// The first `seq` of the change set.
    pub const NEXT_SEQ: &str =
        "SELECT max((SELECT coalesce(max(seq), 0) FROM events), (SELECT low_water_mark FROM log_state)) + 1";
    /// Write `InsertMessage`: the next number among the talk's normal messages…
    pub const NEXT_ORD: &str = "UPDATE talks SET normal_total = normal_total + 1 WHERE id = ?1 RETURNING normal_total";
    /// …and the row, with its mentions and its number.
    pub const INSERT_MESSAGE: &str = "INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, \
         medias, system, reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete, \
         mentions, ord) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT DO NOTHING";
    /// Write `SetReadMarker` of one's own send: the marker at the message,
    /// with the number of normal messages at or below it.
    pub const SET_READ_MARKER: &str = "UPDATE participants SET read_seq = ?2, tm_read = ?3, read_ord = \
         coalesce((SELECT m.ord FROM messages m INDEXED BY messages_normal WHERE m.talk_id = participants.talk_id \
         AND m.kind = 'normal' AND m.seq <= ?2 ORDER BY m.seq DESC LIMIT 1), 0) WHERE id = ?1";
    /// The search index entry of a sent message (as the store writes it).
    pub const INDEX_MESSAGE_WORDS: &str = "INSERT INTO message_search (rowid, words) VALUES (?1, ?2)";
    /// The event append.
    pub const INSERT_EVENT: &str =
        "INSERT INTO events (seq, talk_id, message_id, tm_create, type, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    /// The main view of a talk (row 6).
    pub const TOP_LEVEL_MESSAGES: &str = "SELECT id, talk_id, parent_id, kind, agent_id, text, medias, system, \
         reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete \
         FROM messages INDEXED BY messages_top_level WHERE talk_id = ?1 AND parent_id IS NULL AND seq < ?2 \
         ORDER BY seq DESC LIMIT ?3";
    /// A thread (row 6).
    pub const REPLIES: &str = "SELECT id, talk_id, parent_id, kind, agent_id, text, medias, system, \
         reply_count, version, seq, request_digest, tm_create, tm_update, tm_edit, tm_delete \
         FROM messages WHERE parent_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
    /// The reaction summaries of a page (row 6).
    pub const EMOJI_OF_MESSAGES: &str =
        "SELECT message_id, emoji, first_seq, count FROM message_emoji WHERE message_id IN rarray(?1)";
    /// The first reactors of each emoji of a page (row 6).
    pub const REACTORS_OF_MESSAGES: &str = "SELECT r.message_id, r.emoji, r.agent_id, r.seq \
         FROM message_emoji e CROSS JOIN reactions r ON r.message_id = e.message_id AND r.emoji = e.emoji \
         WHERE e.message_id IN rarray(?1) \
         AND r.seq <= coalesce((SELECT r2.seq FROM reactions r2 WHERE r2.message_id = e.message_id \
         AND r2.emoji = e.emoji ORDER BY r2.seq LIMIT 1 OFFSET ?2), 9223372036854775807)";
}

/// Opens a write connection as the store opens its own: WAL, the same
/// `synchronous`, `temp_store`, journal size limit and statement cache.
pub fn sqlite_connection(path: &Path, synchronous: &str) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    rusqlite::vtab::array::load_module(&conn)?;
    Ok(conn)
}

/// All the columns of a row, as values (what a decoder reads).
fn values(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Vec<Value>> {
    (0..columns).map(|i| row.get::<_, Value>(i)).collect()
}

/// `send_message` as plain rusqlite: for each send, the Hub's two reads
/// (talk row, the sender's records), then one `BEGIN IMMEDIATE … COMMIT`
/// holding, per send, a savepoint with the two guard selects, the next
/// `seq`, the message insert and the event insert (its payload encoded as
/// JSON, as the store does); then, after the savepoints, the search index
/// entries of the sends (their words folded by talk-core, into the store's
/// FTS5 table), as the store writes them. One send per transaction for
/// row 1, 64 for row 2.
pub struct SqliteSends {
    conn: Connection,
    talk: TalkId,
    senders: Vec<AgentId>,
    sent: u64,
    /// Whether each send writes its search index entry (row S3 compares).
    index: bool,
}

impl SqliteSends {
    /// On an open connection to a database holding `talk`, where each of
    /// `senders` has an active record.
    pub fn new(conn: Connection, talk: TalkId, senders: Vec<AgentId>) -> Self {
        Self { conn, talk, senders, sent: 0, index: true }
    }

    /// The same sends without their search index entry: what indexing
    /// costs on write (row S3).
    pub fn without_search_index(mut self) -> Self {
        self.index = false;
        self
    }

    /// The Hub's two reads of one send by sender `index` (the talk row, the
    /// sender's records): answers the talk's version and the id of the
    /// sender's active record.
    pub fn read(&self, index: usize) -> Result<(i64, Vec<u8>), BoxError> {
        let conn = &self.conn;
        let talk_key = self.talk.0.as_bytes();
        let sender = self.senders.get(index).ok_or("no such sender")?;
        let talk = conn.prepare_cached(sql::TALK)?.query_row([talk_key], |row| values(row, 14))?;
        let version = match talk.get(9) {
            Some(Value::Integer(v)) => *v,
            _ => return Err("a talk row without version".into()),
        };
        let records: Vec<Vec<Value>> = conn
            .prepare_cached(sql::AGENT_RECORDS)?
            .query_map(params![sender.as_str(), talk_key], |row| values(row, 10))?
            .collect::<rusqlite::Result<_>>()?;
        let record = records
            .iter()
            .rev()
            .find(|r| matches!(r.get(3), Some(Value::Text(s)) if s == "active"))
            .and_then(|r| match r.first() {
                Some(Value::Blob(id)) => Some(id.clone()),
                _ => None,
            })
            .ok_or("the sender has no active record")?;
        Ok((version, record))
    }

    /// One send from each of the first `count` senders, in one transaction.
    pub fn send_batch(&mut self, count: usize) -> Result<(), BoxError> {
        let mut decided = Vec::with_capacity(count);
        for (index, sender) in self.senders.iter().take(count).enumerate() {
            let (version, record) = self.read(index)?;
            decided.push((sender, version, record));
        }
        let conn = &self.conn;
        let talk_key = self.talk.0.as_bytes().to_vec();
        conn.prepare_cached(sql::BEGIN)?.execute([])?;
        let mut index_entries = Vec::with_capacity(count);
        for (sender, version, record) in decided {
            conn.prepare_cached(sql::SAVEPOINT)?.execute([])?;
            let stored: i64 = conn.prepare_cached(sql::TALK_VERSION)?.query_row([&talk_key], |r| r.get(0))?;
            let status: String = conn.prepare_cached(sql::PARTICIPANT_STATUS)?.query_row([&record], |r| r.get(0))?;
            if stored != version || status != "active" {
                return Err("a guard failed".into());
            }
            let seq: i64 = conn.prepare_cached(sql::NEXT_SEQ)?.query_row([], |r| r.get(0))?;
            let now = SystemClock.now();
            self.sent += 1;
            let message = Message {
                id: MessageId(UuidV7Generator.new_uuid()),
                talk_id: self.talk,
                parent_id: None,
                kind: MessageKind::Normal,
                agent_id: Some(sender.clone()),
                text: format!("message {} from {sender}", self.sent),
                medias: Vec::new(),
                mentions: Vec::new(),
                system: None,
                reactions: Vec::new(),
                reply_count: 0,
                version: 1,
                seq: u64::try_from(seq)?,
                request_digest: None,
                tm_create: now,
                tm_update: now,
                tm_edit: None,
                tm_delete: None,
            };
            let nanos = now.timestamp_nanos_opt().ok_or("time out of range")?;
            let message_key = message.id.0.as_bytes().to_vec();
            let ord: i64 = conn.prepare_cached(sql::NEXT_ORD)?.query_row([&talk_key], |r| r.get(0))?;
            conn.prepare_cached(sql::INSERT_MESSAGE)?.execute(params![
                &message_key,
                &talk_key,
                Option::<Vec<u8>>::None,
                "normal",
                sender.as_str(),
                message.text,
                serde_json::to_string(&message.medias)?,
                Option::<String>::None,
                1,
                seq,
                Option::<String>::None,
                nanos,
                nanos,
                Option::<i64>::None,
                Option::<i64>::None,
                serde_json::to_string(&message.mentions)?,
                ord,
            ])?;
            conn.prepare_cached(sql::SET_READ_MARKER)?.execute(params![&record, seq, nanos])?;
            if self.index {
                index_entries.push((seq, talk_core::text::index_text(&message.text)));
            }
            let data = EventData::MessageCreated(message);
            conn.prepare_cached(sql::INSERT_EVENT)?.execute(params![
                seq,
                &talk_key,
                &message_key,
                nanos,
                data.type_name(),
                serde_json::to_string(&data)?,
            ])?;
            conn.prepare_cached(sql::RELEASE)?.execute([])?;
        }
        for (seq, words) in index_entries {
            conn.prepare_cached(sql::INDEX_MESSAGE_WORDS)?.execute(params![seq, words])?;
        }
        conn.prepare_cached(sql::COMMIT)?.execute([])?;
        Ok(())
    }
}

// ------------------------------------------------------------------------
// Row 6: history pages, as plain rusqlite.

/// A message id and an emoji.
type EmojiKey = (Vec<u8>, String);

/// A page of messages as plain rusqlite, in one read transaction: the list
/// query, the reaction summaries of the page (one `rarray` query), and the
/// first `listed` reactors of each emoji (one more), every row decoded into
/// values. `thread`: `parent` replies after `cursor`; otherwise the main view
/// of `talk` before `cursor`.
pub fn sqlite_page(
    conn: &Connection,
    talk_or_parent: &[u8],
    thread: bool,
    cursor: i64,
    size: usize,
    listed: usize,
) -> Result<usize, BoxError> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let statement = if thread { sql::REPLIES } else { sql::TOP_LEVEL_MESSAGES };
    let rows: Vec<Vec<Value>> = conn
        .prepare_cached(statement)?
        .query_map(params![talk_or_parent, cursor, i64::try_from(size)?], |row| values(row, 16))?
        .collect::<rusqlite::Result<_>>()?;
    let ids: Array = Rc::new(rows.iter().filter_map(|r| r.first().cloned()).collect());
    let summaries: Vec<Vec<Value>> = conn
        .prepare_cached(sql::EMOJI_OF_MESSAGES)?
        .query_map([Rc::clone(&ids)], |row| values(row, 4))?
        .collect::<rusqlite::Result<_>>()?;
    let mut reactors = 0;
    if !summaries.is_empty() {
        let listed = i64::try_from(listed.max(1) - 1)?;
        let mut by_emoji: HashMap<EmojiKey, Vec<(i64, String)>> = HashMap::new();
        let mut statement = conn.prepare_cached(sql::REACTORS_OF_MESSAGES)?;
        let mut found = statement.query(params![ids, listed])?;
        while let Some(row) = found.next()? {
            by_emoji.entry((row.get(0)?, row.get(1)?)).or_default().push((row.get(3)?, row.get(2)?));
        }
        reactors = by_emoji.len();
    }
    conn.prepare_cached("COMMIT")?.execute([])?;
    std::hint::black_box((summaries.len(), reactors));
    Ok(rows.len())
}

// ------------------------------------------------------------------------
// Row D: the public talk directory on a bare table.

/// The bare table of row D's baseline: what a directory needs of a talk, in
/// the same database, with the same index as the store's `talks_directory`.
pub const BARE_DIRECTORY_SCHEMA: &str = "CREATE TABLE bare_talks (id BLOB NOT NULL PRIMARY KEY, kind TEXT NOT NULL, \
     status TEXT NOT NULL, name TEXT NOT NULL, name_words TEXT NOT NULL, created_seq INTEGER NOT NULL); \
     CREATE INDEX bare_talks_directory ON bare_talks (kind, status, created_seq DESC);";

/// A first page of the directory on the bare table: active public talks
/// whose name has a word starting with `word`, newest first, `size` of them
/// (id and name decoded). Answers how many.
pub fn sqlite_directory_page(conn: &Connection, word: &str, size: usize) -> Result<usize, BoxError> {
    let rows: Vec<(Vec<u8>, String)> = conn
        .prepare_cached(
            "SELECT id, name FROM bare_talks WHERE kind = 'public' AND status = 'active' \
             AND instr(' ' || name_words, ' ' || ?1) > 0 ORDER BY created_seq DESC LIMIT ?2",
        )?
        .query_map(params![word, i64::try_from(size)?], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    std::hint::black_box(&rows);
    Ok(rows.len())
}

// ------------------------------------------------------------------------
// Row 3: the Hub's commands on plain maps.

/// The maps hash with foldhash, as MemoryStore's do.
#[derive(Default)]
struct PlainState {
    talks: foldhash::HashMap<TalkId, Talk>,
    records: foldhash::HashMap<(TalkId, AgentId), Vec<Participant>>,
    messages: foldhash::HashMap<MessageId, Message>,
    reactions: foldhash::HashMap<(MessageId, Emoji, AgentId), Reaction>,
    talk_messages: foldhash::HashMap<TalkId, BTreeMap<u64, MessageId>>,
    log: Vec<Event>,
    /// The number of normal messages of each talk (read state).
    normal_totals: foldhash::HashMap<TalkId, u64>,
    /// Each agent's read marker in each talk: the `seq` and the number of
    /// normal messages at or below it.
    markers: foldhash::HashMap<(TalkId, AgentId), (u64, u64)>,
}

impl PlainState {
    fn next_seq(&self) -> u64 {
        self.log.len() as u64 + 1
    }

    fn append(&mut self, talk_id: TalkId, tm_create: Timestamp, data: EventData) {
        let seq = self.next_seq();
        self.log.push(Event { seq, talk_id, tm_create, data });
    }

    fn active(&self, talk: TalkId, agent: &AgentId) -> bool {
        self.records.get(&(talk, agent.clone())).is_some_and(|r| r.iter().any(Participant::is_active))
    }

    fn join(&mut self, talk_id: TalkId, agent: &AgentId, now: Timestamp) -> Participant {
        let seq = self.next_seq();
        let participant = Participant {
            id: ParticipantId(UuidV7Generator.new_uuid()),
            talk_id,
            agent_id: agent.clone(),
            status: ParticipantStatus::Active,
            left_reason: None,
            seq,
            joined_seq: seq,
            left_seq: None,
            tm_joined: now,
            tm_left: None,
        };
        self.records.entry((talk_id, agent.clone())).or_default().push(participant.clone());
        self.append(talk_id, now, EventData::ParticipantJoined(participant.clone()));
        participant
    }

    fn insert_message(&mut self, message: Message) {
        self.talk_messages.entry(message.talk_id).or_default().insert(message.seq, message.id);
        self.messages.insert(message.id, message.clone());
        self.append(message.talk_id, message.tm_create, EventData::MessageCreated(message));
    }
}

/// A message as the baselines write it: no parent, medias, mentions or
/// reactions; a system message when there is no agent.
fn plain_message(talk_id: TalkId, agent: Option<&AgentId>, text: String, seq: u64, now: Timestamp) -> Message {
    Message {
        id: MessageId(UuidV7Generator.new_uuid()),
        talk_id,
        parent_id: None,
        kind: if agent.is_some() { MessageKind::Normal } else { MessageKind::System },
        agent_id: agent.cloned(),
        text,
        medias: Vec::new(),
        mentions: Vec::new(),
        system: None,
        reactions: Vec::new(),
        reply_count: 0,
        version: 1,
        seq,
        request_digest: None,
        tm_create: now,
        tm_update: now,
        tm_edit: None,
        tm_delete: None,
    }
}

/// The Hub's commands written plainly: one `std::sync::Mutex` over
/// `HashMap`s, a `BTreeMap` per talk for the main view and a `Vec` for the
/// event log. Each command checks what the Hub checks (the talk exists and
/// is active, the actor has an active record, …), writes the rows, appends
/// its events with the resource as payload, and answers a clone.
#[derive(Default)]
pub struct PlainChat {
    state: Mutex<PlainState>,
}

/// A refusal of [`PlainChat`].
pub type Refused = &'static str;

impl PlainChat {
    /// An empty chat.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PlainState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates a group talk of `creator` and `others`.
    pub fn create_talk(&self, creator: &AgentId, others: &[AgentId], name: &str) -> Result<Talk, Refused> {
        let now = SystemClock.now();
        let mut state = self.state();
        let talk = Talk {
            id: TalkId(UuidV7Generator.new_uuid()),
            kind: TalkKind::Group,
            direct_pair: None,
            name: name.to_owned(),
            detail: String::new(),
            status: TalkStatus::Active,
            creator_id: creator.clone(),
            member_count: u32::try_from(others.len() + 1).map_err(|_| "too many members")?,
            version: 1,
            created_seq: state.next_seq(),
            tm_create: now,
            tm_update: now,
            tm_close: None,
        };
        state.talks.insert(talk.id, talk.clone());
        state.append(talk.id, now, EventData::TalkCreated(talk.clone()));
        for agent in std::iter::once(creator).chain(others) {
            state.join(talk.id, agent, now);
        }
        Ok(talk)
    }

    /// `actor` adds `agent` to a talk, with the system message.
    pub fn add_participant(&self, actor: &AgentId, talk_id: TalkId, agent: &AgentId) -> Result<Participant, Refused> {
        let now = SystemClock.now();
        let mut state = self.state();
        let talk = state.talks.get_mut(&talk_id).ok_or("no such talk")?;
        if talk.status != TalkStatus::Active {
            return Err("talk closed");
        }
        talk.member_count += 1;
        talk.version += 1;
        talk.tm_update = now;
        if !state.active(talk_id, actor) {
            return Err("not a participant");
        }
        if state.active(talk_id, agent) {
            return Err("already a participant");
        }
        let participant = state.join(talk_id, agent, now);
        let text = format!("{agent} joined the talk, added by {actor}.");
        let seq = state.next_seq();
        state.insert_message(plain_message(talk_id, None, text, seq, now));
        Ok(participant)
    }

    /// `actor` sends a message.
    pub fn send(&self, actor: &AgentId, talk_id: TalkId, text: String) -> Result<Message, Refused> {
        let now = SystemClock.now();
        let mut state = self.state();
        let talk = state.talks.get(&talk_id).ok_or("no such talk")?;
        if talk.status != TalkStatus::Active {
            return Err("talk closed");
        }
        if !state.active(talk_id, actor) {
            return Err("not a participant");
        }
        let message = plain_message(talk_id, Some(actor), text, state.next_seq(), now);
        // The same read-state work as the Hub: the message's number, and the
        // sender's marker at its own message.
        let total = state.normal_totals.entry(talk_id).or_default();
        *total += 1;
        let ord = *total;
        state.markers.insert((talk_id, actor.clone()), (message.seq, ord));
        state.insert_message(message.clone());
        Ok(message)
    }

    /// `actor` reacts to a message with an emoji in any spelling (canonical
    /// as the Hub makes it); answers the message with its reactions.
    pub fn react(&self, actor: &AgentId, message_id: MessageId, spelling: &str) -> Result<Message, Refused> {
        let emoji = &Emoji::parse(spelling).map_err(|_| "not an emoji")?;
        let now = SystemClock.now();
        let mut state = self.state();
        let talk_id = state.messages.get(&message_id).ok_or("no such message")?.talk_id;
        if state.talks.get(&talk_id).is_none_or(|t| t.status != TalkStatus::Active) {
            return Err("talk closed");
        }
        if !state.active(talk_id, actor) {
            return Err("not a participant");
        }
        let key = (message_id, *emoji, actor.clone());
        if let Some(message) = state.reactions.contains_key(&key).then(|| state.messages.get(&message_id)).flatten() {
            return Ok(message.clone());
        }
        let seq = state.next_seq();
        state
            .reactions
            .insert(key, Reaction { message_id, emoji: *emoji, agent_id: actor.clone(), seq, tm_create: now });
        let message = state.messages.get_mut(&message_id).ok_or("no such message")?;
        match message.reactions.iter_mut().find(|r| &r.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                if summary.agent_ids.len() < 100 {
                    summary.agent_ids.push(actor.clone());
                }
            }
            None => {
                message.version += 1;
                message.reactions.push(ReactionSummary { emoji: *emoji, count: 1, agent_ids: vec![actor.clone()] });
            }
        }
        message.tm_update = now;
        let answer = message.clone();
        let change = ReactionChange { message_id, emoji: *emoji, agent_id: actor.clone() };
        state.append(talk_id, now, EventData::ReactionAdded(change));
        Ok(answer)
    }

    /// The newest `size` top-level messages of a talk (and one more, to
    /// know whether the list goes on, as the Hub reads).
    pub fn page(&self, actor: &AgentId, talk_id: TalkId, size: usize) -> Result<Vec<Message>, Refused> {
        let state = self.state();
        if !state.talks.contains_key(&talk_id) || !state.active(talk_id, actor) {
            return Err("not a participant");
        }
        let Some(index) = state.talk_messages.get(&talk_id) else { return Ok(Vec::new()) };
        Ok(index
            .values()
            .rev()
            .filter_map(|id| state.messages.get(id))
            .filter(|m| m.parent_id.is_none())
            .take(size + 1)
            .cloned()
            .collect())
    }
}

// ------------------------------------------------------------------------
// Rows 4, 5 and 7: a bare axum server, served by `talk-bench-server bare`.

/// The tokens and state of the bare server.
struct BareInner {
    /// `token-<i>` → `agent-<i>`, as the Talk server's `StaticTokens`.
    agents: HashMap<String, String>,
    /// The last `seq` handed out.
    seq: AtomicU64,
    /// The next connection's number.
    next_connection: AtomicU64,
    /// For each talk, the outbound queue of every socket subscribed to it.
    subscribers: Mutex<HashMap<Uuid, HashMap<u64, mpsc::Sender<WsMessage>>>>,
}

/// The state of the bare server: shared by its handlers.
#[derive(Clone)]
struct BareState(Arc<BareInner>);

impl BareState {
    fn subscribers(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, HashMap<u64, mpsc::Sender<WsMessage>>>> {
        self.0.subscribers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The agent of an `Authorization: Bearer` header or a `token=` query.
    fn agent(&self, token: Option<&str>) -> Option<&str> {
        token.and_then(|token| self.0.agents.get(token)).map(String::as_str)
    }
}

/// The frames a socket of the bare server queues at most (talk-http's
/// default outbound queue).
const BARE_OUTBOUND: usize = 64;

/// The largest client message the bare server reads (talk-http's default).
const BARE_MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// A media entry of a message, as the API reads and writes it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct BareMedia {
    #[serde(rename = "type")]
    media_type: String,
    url: String,
    name: String,
}

/// The body of `POST /v1.0/talks/{id}/messages`, as the API reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BareSend {
    text: String,
    #[serde(default)]
    parent_id: Option<Uuid>,
    #[serde(default)]
    medias: Option<Vec<BareMedia>>,
    #[serde(default)]
    id: Option<Uuid>,
    #[serde(default)]
    mentions: Option<Vec<String>>,
}

/// A message with every field of talk-http's `MessageDto`, in its order.
#[derive(Debug, Serialize)]
struct BareMessage<'a> {
    id: Uuid,
    talk_id: Uuid,
    parent_id: Option<Uuid>,
    #[serde(rename = "type")]
    kind: &'static str,
    agent_id: &'a str,
    text: String,
    medias: Vec<BareMedia>,
    mentions: Vec<String>,
    reactions: Vec<String>,
    reply_count: u32,
    tm_create: &'a str,
    tm_update: &'a str,
    tm_edit: Option<String>,
    tm_delete: Option<String>,
    system: Option<String>,
}

/// An event frame with every field of talk-http's `EventFrame`.
#[derive(Debug, Serialize)]
struct BareFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    talk_id: Uuid,
    tm_create: &'a str,
    data: &'a BareMessage<'a>,
}

/// A client frame: `{"type": "subscribe", "talk_id": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BareClientFrame {
    #[serde(rename = "type")]
    kind: String,
    talk_id: Uuid,
    #[serde(default)]
    since: Option<u64>,
}

/// The bare server of rows 4, 5 and 7, knowing the agents `agent-0` …
/// `agent-(agents-1)` with tokens `token-0` …:
///
/// - `POST /v1.0/talks/{id}/messages` reads the bearer token, parses the
///   body into a struct (unknown fields refused, as the API does), takes the
///   next `seq` and a new v7 id, and answers `201` with a message of the
///   API's shape; if sockets are subscribed to the talk, it serialises one
///   event frame of the API's shape (`message_created`) and queues the same
///   shared bytes on each of them (row 5; row 4 has no subscribers);
/// - `GET /v1.0/ws?token=…` upgrades with talk-http's buffer settings
///   (`read_buffer_size(4096)`, `write_buffer_size(0)`, 64 KiB message and
///   frame limits); a socket has a reader (its own task) and a writer task
///   draining a bounded queue of 64 frames; `{"type": "subscribe",
///   "talk_id"}` registers the queue for the talk and answers
///   `{"type": "subscribed", "talk_id", "seq"}`.
///
/// No store, no checks of talks or membership, no pings: the HTTP and
/// WebSocket plumbing Talk's router stands on, and nothing else.
pub fn bare_router(agents: usize) -> Router {
    let agents = (0..agents).map(|i| (crate::load::token(i), crate::load::agent_name(i))).collect();
    let state = BareState(Arc::new(BareInner {
        agents,
        seq: AtomicU64::new(0),
        next_connection: AtomicU64::new(0),
        subscribers: Mutex::new(HashMap::new()),
    }));
    Router::new()
        .route("/v1.0/talks/{id}/messages", post(bare_send))
        .route("/v1.0/ws", get(bare_websocket))
        .with_state(state)
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// A timestamp as the API writes it.
fn wire_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn bare_send(
    State(state): State<BareState>,
    UrlPath(talk_id): UrlPath<Uuid>,
    headers: HeaderMap,
    Json(body): Json<BareSend>,
) -> Response {
    let Some(agent) = state.agent(bearer(&headers)) else { return StatusCode::UNAUTHORIZED.into_response() };
    let seq = state.0.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let now = wire_time(SystemClock.now());
    let _client_id = body.id;
    let message = BareMessage {
        id: UuidV7Generator.new_uuid(),
        talk_id,
        parent_id: body.parent_id,
        kind: "normal",
        agent_id: agent,
        text: body.text,
        medias: body.medias.unwrap_or_default(),
        mentions: body.mentions.unwrap_or_default(),
        reactions: Vec::new(),
        reply_count: 0,
        tm_create: &now,
        tm_update: &now,
        tm_edit: None,
        tm_delete: None,
        system: None,
    };
    {
        let subscribers = state.subscribers();
        if let Some(sockets) = subscribers.get(&talk_id).filter(|sockets| !sockets.is_empty()) {
            let frame = BareFrame { kind: "message_created", seq, talk_id, tm_create: &now, data: &message };
            // Plain data with string keys: serialising cannot fail.
            let text = Utf8Bytes::from(serde_json::to_string(&frame).unwrap_or_default());
            for queue in sockets.values() {
                // A full queue drops the frame: the bare server never waits.
                let _ = queue.try_send(WsMessage::Text(text.clone()));
            }
        }
    }
    (StatusCode::CREATED, Json(message)).into_response()
}

async fn bare_websocket(
    State(state): State<BareState>,
    RawQuery(raw): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let token = raw.as_deref().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")));
    if state.agent(token).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    upgrade
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(BARE_MAX_CLIENT_MESSAGE)
        .max_frame_size(BARE_MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| bare_socket(socket, state))
}

async fn bare_socket(socket: WebSocket, state: BareState) {
    let (mut sink, mut stream) = futures::StreamExt::split(socket);
    let (queue, mut outbound) = mpsc::channel::<WsMessage>(BARE_OUTBOUND);
    let writer = tokio::spawn(async move {
        while let Some(message) = outbound.recv().await {
            if futures::SinkExt::send(&mut sink, message).await.is_err() {
                return;
            }
        }
    });
    let connection = state.0.next_connection.fetch_add(1, Ordering::Relaxed);
    let mut talks = Vec::new();
    while let Some(Ok(message)) = futures::StreamExt::next(&mut stream).await {
        let WsMessage::Text(text) = message else { continue };
        let answer = match serde_json::from_str::<BareClientFrame>(text.as_str()) {
            Ok(frame) if frame.kind == "subscribe" && frame.since.is_none() => {
                state.subscribers().entry(frame.talk_id).or_default().insert(connection, queue.clone());
                talks.push(frame.talk_id);
                let seq = state.0.seq.load(Ordering::Relaxed);
                format!(r#"{{"type":"subscribed","talk_id":"{}","seq":{seq}}}"#, frame.talk_id)
            }
            _ => r#"{"type":"error","code":"invalid_request","message":"not a subscribe frame"}"#.to_owned(),
        };
        if queue.send(WsMessage::Text(Utf8Bytes::from(answer))).await.is_err() {
            break;
        }
    }
    let mut subscribers = state.subscribers();
    for talk in talks {
        if let Some(sockets) = subscribers.get_mut(&talk) {
            sockets.remove(&connection);
        }
    }
    drop(subscribers);
    writer.abort();
}
