//! Applying one change set on the write connection, inside its savepoint:
//! the guards as `SELECT`s, the next `seq` read from the database, the
//! writes as statements whose unique indexes raise the conflicts, the
//! redaction of a deleted message's content from the log, and the append of
//! the events. Retention (`prune`) runs the same way. Committing, batching
//! and failing whole batches is the writer's part ([`crate::writer`]).

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use talk_core::store::Named;
use talk_core::store::{ChangeSet, Conflict, Guard, ResolvedChangeSet, Write};
use talk_core::{AgentId, Event, EventData, MessageKind, TalkId, text};

use crate::codec::{self, id, num, ts, ts_opt};
use crate::error::Error;
use crate::hooks::{Faults, fail_point};
use crate::sql;

/// Why a change set was not applied.
pub(crate) enum Refusal {
    /// A guard or unique key: the caller's change set is refused.
    Conflict(Conflict),
    /// The backend failed.
    Failed(Error),
}

impl From<rusqlite::Error> for Refusal {
    fn from(error: rusqlite::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl From<serde_json::Error> for Refusal {
    fn from(error: serde_json::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// Retention: removes the events with `seq ≤ through` (at most the head,
/// never past a live hold) and moves the low-water mark there; a `through`
/// at or below the mark changes nothing.
pub(crate) fn prune(conn: &Connection, through: u64) -> Result<Vec<Event>, Refusal> {
    let head: i64 = conn.prepare_cached(sql::HEAD)?.query_row([], |row| row.get(0))?;
    let mark: i64 = conn.prepare_cached(sql::LOW_WATER_MARK)?.query_row([], |row| row.get(0))?;
    let held: Option<i64> = conn.prepare_cached(sql::LOWEST_HOLD)?.query_row([unix_millis()], |row| row.get(0))?;
    let through = i64::try_from(through).unwrap_or(i64::MAX).min(head).min(held.unwrap_or(i64::MAX));
    if through > mark {
        conn.prepare_cached(sql::PRUNE_EVENTS)?.execute([through])?;
        conn.prepare_cached(sql::SET_LOW_WATER_MARK)?.execute([through])?;
    }
    Ok(Vec::new())
}

/// Sets a reader's hold on the log (see `Store::hold_events`).
pub(crate) fn hold(
    conn: &Connection,
    holder: &str,
    position: u64,
    expires_at: Option<i64>,
) -> Result<Vec<Event>, Refusal> {
    let position = i64::try_from(position).unwrap_or(i64::MAX);
    conn.prepare_cached(sql::HOLD_EVENTS)?.execute(rusqlite::params![holder, position, expires_at])?;
    Ok(Vec::new())
}

/// Ends a reader's hold.
pub(crate) fn release(conn: &Connection, holder: &str) -> Result<Vec<Event>, Refusal> {
    conn.prepare_cached(sql::RELEASE_EVENTS)?.execute([holder])?;
    Ok(Vec::new())
}

/// A consumer's lease (see `Store::claim_consumer`): who asks, for how long.
pub(crate) struct Lease {
    pub(crate) name: String,
    pub(crate) owner: String,
    /// Unix milliseconds.
    pub(crate) expires_at: i64,
}

impl Lease {
    /// `owner`'s lease on the consumer `name` for `lease` from now.
    pub(crate) fn new(name: &str, owner: &str, lease: std::time::Duration) -> Self {
        Self { name: name.to_owned(), owner: owner.to_owned(), expires_at: expires_in(lease) }
    }
}

/// Unix milliseconds `lease` from now: when a lease taken now runs out.
pub(crate) fn expires_in(lease: std::time::Duration) -> i64 {
    unix_millis().saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// Takes or renews a consumer's lease, creating it at `start`; refused
/// (`LeaseHeld`) while another owner's lease lives.
pub(crate) fn claim_consumer(conn: &Connection, lease: &Lease, start: u64) -> Result<Vec<Event>, Refusal> {
    let start = i64::try_from(start).unwrap_or(i64::MAX);
    let params = rusqlite::params![lease.name, start, lease.owner, lease.expires_at, unix_millis()];
    match conn.prepare_cached(sql::CLAIM_CONSUMER)?.execute(params)? {
        0 => Err(Refusal::Conflict(Conflict::LeaseHeld)),
        _ => Ok(Vec::new()),
    }
}

/// Moves a consumer's cursor forward and renews the lease; refused
/// (`LeaseHeld`) unless the lease's owner owns it.
pub(crate) fn ack_consumer(conn: &Connection, lease: &Lease, cursor: u64) -> Result<Vec<Event>, Refusal> {
    let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
    let params = rusqlite::params![lease.name, lease.owner, cursor, lease.expires_at];
    match conn.prepare_cached(sql::ACK_CONSUMER)?.execute(params)? {
        0 => Err(Refusal::Conflict(Conflict::LeaseHeld)),
        _ => Ok(Vec::new()),
    }
}

/// Removes a consumer.
pub(crate) fn remove_consumer(conn: &Connection, name: &str) -> Result<Vec<Event>, Refusal> {
    conn.prepare_cached(sql::REMOVE_CONSUMER)?.execute([name])?;
    Ok(Vec::new())
}

/// Now, in unix milliseconds: the clock of the holds' leases.
pub(crate) fn unix_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// A change to the search index (`message_search`), by the message's `seq`.
///
/// A change set does not write the index inside its savepoint: it lists its
/// changes here, and the writer writes those of the applied change sets, in
/// order, after the batch's last savepoint and before its `COMMIT`
/// ([`write_search_index`]). FTS5 flushes its pending terms to a new
/// segment of the index at every savepoint, so writing inside them made a
/// segment (and its merges) per message; after them, a batch makes one.
/// Nothing of the batch reads the index before its commit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SearchChange {
    /// Index the message's words (`talk_core::text::index_text`, not empty).
    Index { seq: i64, words: String },
    /// Remove the message from the index (none is fine).
    Unindex { seq: i64 },
}

/// Writes a batch's search index changes, in order.
pub(crate) fn write_search_index(conn: &Connection, changes: &[SearchChange]) -> Result<(), Error> {
    for change in changes {
        match change {
            SearchChange::Index { seq, words } => {
                conn.prepare_cached(sql::INDEX_MESSAGE_WORDS)?.execute(params![seq, words])?;
            }
            SearchChange::Unindex { seq } => {
                conn.prepare_cached(sql::UNINDEX_MESSAGE)?.execute([seq])?;
            }
        }
    }
    Ok(())
}

/// Checks the guards, numbers the events, applies the writes and appends
/// the events, in that order, on `conn` inside the change set's savepoint;
/// adds its changes to the search index to `search`, for the writer to
/// write once the batch's change sets are applied.
/// `index` is the change set's place in its batch, for the fail points.
pub(crate) fn apply(
    conn: &Connection,
    faults: &Faults,
    index: usize,
    changes: ChangeSet,
    search: &mut Vec<SearchChange>,
) -> Result<Vec<Event>, Refusal> {
    for guard in &changes.guards {
        check(conn, guard)?;
    }
    let first_seq: i64 = conn.prepare_cached(sql::NEXT_SEQ)?.query_row([], |row| row.get(0))?;
    let first_seq = crate::error::to_u64(first_seq, "seq")?;
    let ResolvedChangeSet { writes, events, .. } = changes.resolve(first_seq).map_err(Error::from)?;
    fail_point!(faults, conn, index, AfterWrite(0))?;
    for (k, change) in writes.iter().enumerate() {
        write(conn, change, search)?;
        fail_point!(faults, conn, index, AfterWrite(k + 1))?;
    }
    for (k, event) in events.iter().enumerate() {
        append(conn, event)?;
        fail_point!(faults, conn, index, AfterEvent(k + 1))?;
    }
    Ok(events)
}

fn check(conn: &Connection, guard: &Guard) -> Result<(), Refusal> {
    let (holds, conflict) = match guard {
        Guard::TalkVersion { talk_id, version } => {
            let stored: Option<i64> =
                conn.prepare_cached(sql::TALK_VERSION)?.query_row([id(&talk_id.0)], |r| r.get(0)).optional()?;
            (stored == Some(num(*version)?), Conflict::TalkVersion)
        }
        Guard::ParticipantActive { participant_id } => {
            let status: Option<String> = conn
                .prepare_cached(sql::PARTICIPANT_STATUS)?
                .query_row([id(&participant_id.0)], |r| r.get(0))
                .optional()?;
            (status.as_deref() == Some("active"), Conflict::ParticipantNotActive)
        }
        Guard::MessageVersion { message_id, version } => {
            let stored: Option<i64> =
                conn.prepare_cached(sql::MESSAGE_VERSION)?.query_row([id(&message_id.0)], |r| r.get(0)).optional()?;
            (stored == Some(num(*version)?), Conflict::MessageVersion)
        }
        Guard::MarkerAt { participant_id, read_seq } => {
            let stored: Option<i64> =
                conn.prepare_cached(sql::MARKER_AT)?.query_row([id(&participant_id.0)], |r| r.get(0)).optional()?;
            (stored == Some(num(*read_seq)?), Conflict::MarkerMoved)
        }
    };
    if holds { Ok(()) } else { Err(Refusal::Conflict(conflict)) }
}

/// Whether the row `key` exists, by a `SELECT 1 … WHERE id = ?1` statement.
fn exists(conn: &Connection, statement: &str, key: &uuid::Uuid) -> Result<bool, Refusal> {
    Ok(conn.prepare_cached(statement)?.query_row([id(key)], |_| Ok(())).optional()?.is_some())
}

/// Runs a statement that must change one row; none is a [`Conflict::RowMismatch`].
fn change_one(conn: &Connection, statement: &str, params: impl rusqlite::Params) -> Result<(), Refusal> {
    match conn.prepare_cached(statement)?.execute(params)? {
        0 => Err(Refusal::Conflict(Conflict::RowMismatch)),
        _ => Ok(()),
    }
}

fn write(conn: &Connection, write: &Write, search: &mut Vec<SearchChange>) -> Result<(), Refusal> {
    match write {
        Write::InsertTalk(t) => {
            let pair = t.direct_pair.as_ref().map(|p| p.agents());
            let inserted = conn.prepare_cached(sql::INSERT_TALK)?.execute(params![
                id(&t.id.0),
                Named::as_str(t.kind),
                pair.map(|p| p[0].as_str()),
                pair.map(|p| p[1].as_str()),
                t.name,
                t.detail,
                Named::as_str(t.status),
                t.creator_id.as_str(),
                t.member_count,
                num(t.version)?,
                num(t.created_seq)?,
                ts(&t.tm_create)?,
                ts(&t.tm_update)?,
                ts_opt(t.tm_close.as_ref())?,
                text::index_text(&t.name),
            ])?;
            if inserted == 0 {
                let conflict = if exists(conn, sql::TALK_EXISTS, &t.id.0)? {
                    Conflict::RowMismatch
                } else {
                    Conflict::DirectPairTaken
                };
                return Err(Refusal::Conflict(conflict));
            }
        }
        Write::UpdateTalk(t) => change_one(
            conn,
            sql::UPDATE_TALK,
            params![
                id(&t.id.0),
                t.name,
                t.detail,
                Named::as_str(t.status),
                t.member_count,
                num(t.version)?,
                ts(&t.tm_update)?,
                ts_opt(t.tm_close.as_ref())?,
                text::index_text(&t.name),
            ],
        )?,
        Write::InsertParticipant(p) => {
            let inserted = conn.prepare_cached(sql::INSERT_PARTICIPANT)?.execute(params![
                id(&p.id.0),
                id(&p.talk_id.0),
                p.agent_id.as_str(),
                Named::as_str(p.status),
                p.left_reason.map(Named::as_str),
                num(p.seq)?,
                num(p.joined_seq)?,
                p.left_seq.map(num).transpose()?,
                ts(&p.tm_joined)?,
                ts_opt(p.tm_left.as_ref())?,
            ])?;
            if inserted == 0 {
                let conflict = if exists(conn, sql::PARTICIPANT_EXISTS, &p.id.0)? {
                    Conflict::RowMismatch
                } else {
                    Conflict::ActiveParticipantExists
                };
                return Err(Refusal::Conflict(conflict));
            }
        }
        Write::UpdateParticipant(p) => {
            let updated = conn.prepare_cached(sql::UPDATE_PARTICIPANT)?.execute(params![
                id(&p.id.0),
                Named::as_str(p.status),
                p.left_reason.map(Named::as_str),
                p.left_seq.map(num).transpose()?,
                ts_opt(p.tm_left.as_ref())?,
            ]);
            match updated {
                Ok(0) => return Err(Refusal::Conflict(Conflict::RowMismatch)),
                Ok(_) => {}
                // Making a record active again next to another active one.
                Err(error) if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    return Err(Refusal::Conflict(Conflict::ActiveParticipantExists));
                }
                Err(error) => return Err(error.into()),
            }
        }
        Write::InsertMessage(m) => {
            // A normal message takes the next number among its talk's (a
            // refused change set gives it back with its savepoint).
            let ord: Option<i64> = match m.kind {
                MessageKind::Normal => {
                    conn.prepare_cached(sql::NEXT_ORD)?.query_row([id(&m.talk_id.0)], |r| r.get(0)).optional()?
                }
                MessageKind::System => None,
            };
            let inserted = conn.prepare_cached(sql::INSERT_MESSAGE)?.execute(params![
                id(&m.id.0),
                id(&m.talk_id.0),
                m.parent_id.as_ref().map(|p| id(&p.0)),
                Named::as_str(m.kind),
                m.agent_id.as_ref().map(|a| a.as_str()),
                m.text,
                serde_json::to_string(&m.medias)?,
                m.system.as_ref().map(serde_json::to_string).transpose()?,
                num(m.version)?,
                num(m.seq)?,
                m.request_digest,
                ts(&m.tm_create)?,
                ts(&m.tm_update)?,
                ts_opt(m.tm_edit.as_ref())?,
                ts_opt(m.tm_delete.as_ref())?,
                serde_json::to_string(&m.mentions)?,
                ord,
            ])?;
            if inserted == 0 {
                return Err(Refusal::Conflict(Conflict::MessageIdTaken));
            }
            if m.kind == MessageKind::Normal {
                keep_mentions(conn, m.talk_id, m.agent_id.as_ref(), num(m.seq)?, &[], &m.mentions)?;
            }
            let words = talk_core::text::index_text(&m.text);
            if m.kind == MessageKind::Normal && !m.is_deleted() && !words.is_empty() {
                search.push(SearchChange::Index { seq: num(m.seq)?, words });
            }
        }
        Write::UpdateMessage(m) => {
            let stored = conn
                .prepare_cached(sql::MESSAGE_MENTIONS)?
                .query_row([id(&m.id.0)], codec::stored_mentions)
                .optional()?;
            let Some((talk, author, kind, seq, before)) = stored else {
                return Err(Refusal::Conflict(Conflict::RowMismatch));
            };
            change_one(
                conn,
                sql::UPDATE_MESSAGE,
                params![
                    id(&m.id.0),
                    m.text,
                    serde_json::to_string(&m.medias)?,
                    num(m.version)?,
                    ts(&m.tm_update)?,
                    ts_opt(m.tm_edit.as_ref())?,
                    ts_opt(m.tm_delete.as_ref())?,
                    m.request_digest,
                    serde_json::to_string(&m.mentions)?,
                ],
            )?;
            // The search index follows the text: the old words go, the new
            // ones (none once deleted, none for a system message) come, by
            // the stored `seq` and kind.
            search.push(SearchChange::Unindex { seq });
            let words = talk_core::text::index_text(&m.text);
            if kind == MessageKind::Normal && !m.is_deleted() && !words.is_empty() {
                search.push(SearchChange::Index { seq, words });
            }
            if kind == MessageKind::Normal {
                keep_mentions(conn, talk, author.as_ref(), seq, &before, &m.mentions)?;
            }
        }
        Write::SetReadMarker { participant_id, read_seq, tm_read, .. } => {
            change_one(conn, sql::SET_READ_MARKER, params![id(&participant_id.0), num(*read_seq)?, ts(tm_read)?])?;
        }
        Write::SetMessageVersion { message_id, version } => {
            change_one(conn, sql::SET_MESSAGE_VERSION, params![id(&message_id.0), num(*version)?])?;
        }
        Write::IncrementReplyCount(message_id) => {
            change_one(conn, sql::INCREMENT_REPLY_COUNT, [id(&message_id.0)])?;
        }
        Write::InsertReaction(r) => {
            let message = id(&r.message_id.0);
            let inserted = conn.prepare_cached(sql::INSERT_REACTION)?.execute(params![
                message,
                r.emoji.as_str(),
                r.agent_id.as_str(),
                num(r.seq)?,
                ts(&r.tm_create)?,
            ])?;
            if inserted == 0 {
                return Err(Refusal::Conflict(Conflict::ReactionExists));
            }
            change_one(conn, sql::TOUCH_MESSAGE, params![message, ts(&r.tm_create)?])?;
            conn.prepare_cached(sql::ADD_EMOJI)?.execute(params![message, r.emoji.as_str(), num(r.seq)?])?;
        }
        Write::DeleteReaction { message_id, emoji, agent_id, tm_update } => {
            let message = id(&message_id.0);
            change_one(conn, sql::DELETE_REACTION, params![message, emoji.as_str(), agent_id.as_str()])?;
            conn.prepare_cached(sql::REMOVE_EMOJI)?.execute(params![message, emoji.as_str()])?;
            conn.prepare_cached(sql::DROP_UNUSED_EMOJI)?.execute(params![message, emoji.as_str()])?;
            change_one(conn, sql::TOUCH_MESSAGE, params![message, ts(tm_update)?])?;
        }
        Write::DeleteAllReactions(message_id) => {
            if !exists(conn, sql::MESSAGE_EXISTS, &message_id.0)? {
                return Err(Refusal::Conflict(Conflict::RowMismatch));
            }
            conn.prepare_cached(sql::DELETE_ALL_REACTIONS)?.execute([id(&message_id.0)])?;
            conn.prepare_cached(sql::DELETE_ALL_EMOJI)?.execute([id(&message_id.0)])?;
        }
        Write::RedactMessage(message_id) => redact(conn, message_id)?,
    }
    Ok(())
}

/// Keeps the mention rows of message `seq` of `talk` (agents other than its
/// `author`): removes those of `before`, adds those of `after`.
fn keep_mentions(
    conn: &Connection,
    talk: TalkId,
    author: Option<&AgentId>,
    seq: i64,
    before: &[AgentId],
    after: &[AgentId],
) -> Result<(), Refusal> {
    for agent in before {
        conn.prepare_cached(sql::DELETE_MENTION)?.execute(params![id(&talk.0), agent.as_str(), seq])?;
    }
    for agent in after.iter().filter(|agent| Some(*agent) != author) {
        conn.prepare_cached(sql::INSERT_MENTION)?.execute(params![id(&talk.0), agent.as_str(), seq])?;
    }
    Ok(())
}

/// Removes a message's content from every event payload already in the
/// log, found through the `events_by_message` index.
fn redact(conn: &Connection, message_id: &talk_core::MessageId) -> Result<(), Refusal> {
    let stored: Vec<(i64, String)> = conn
        .prepare_cached(sql::MESSAGE_EVENTS)?
        .query_map([id(&message_id.0)], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, json) in stored {
        let mut data: EventData = serde_json::from_str(&json)?;
        if data.redact_message(*message_id) {
            conn.prepare_cached(sql::REWRITE_EVENT)?.execute(params![seq, serde_json::to_string(&data)?])?;
        }
    }
    Ok(())
}

/// Appends an event to the log.
fn append(conn: &Connection, event: &Event) -> Result<(), Refusal> {
    // Only payloads that carry a message's content are indexed by
    // message: they are what redaction rewrites.
    let message = match &event.data {
        EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => Some(m.id),
        _ => None,
    };
    conn.prepare_cached(sql::INSERT_EVENT)?.execute(params![
        num(event.seq)?,
        id(&event.talk_id.0),
        message.as_ref().map(|m| id(&m.0)),
        ts(&event.tm_create)?,
        event.data.type_name(),
        serde_json::to_string(&event.data)?,
    ])?;
    Ok(())
}
