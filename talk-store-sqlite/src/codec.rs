//! How domain values are kept in columns, and rows read back into domain
//! types.
//!
//! Ids of talks, participants and messages are 16-byte UUID blobs; agent ids
//! and emoji are text; enums are their snake_case names; timestamps are
//! nanoseconds since the Unix epoch; medias and system infos are JSON text.

use chrono::DateTime;
use rusqlite::Row;
use rusqlite::types::Type;
use talk_core::store::Named;
use talk_core::{
    AgentId, Emoji, Media, Message, MessageId, Participant, ParticipantId, Reaction, SystemInfo, Talk, TalkId,
    Timestamp,
};
use uuid::Uuid;

use crate::error::{BoxedError, Error};

/// A conversion failure of column `idx`, as rusqlite reports one.
fn bad(idx: usize, error: impl Into<BoxedError>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, error.into())
}

// ------------------------------------------------------------ to columns

/// A timestamp as stored.
pub(crate) fn ts(value: &Timestamp) -> Result<i64, Error> {
    value.timestamp_nanos_opt().ok_or(Error::Range("timestamp outside 1677..2262"))
}

/// An optional timestamp as stored.
pub(crate) fn ts_opt(value: Option<&Timestamp>) -> Result<Option<i64>, Error> {
    value.map(ts).transpose()
}

/// A UUID as stored: its 16 bytes.
pub(crate) fn id(uuid: &Uuid) -> &[u8] {
    uuid.as_bytes()
}

/// A `seq` or version as stored.
pub(crate) fn num(value: u64) -> Result<i64, Error> {
    crate::error::to_i64(value, "seq or version above i64::MAX")
}

// ---------------------------------------------------------- from columns

fn uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let bytes = row.get_ref(idx)?.as_blob()?;
    Uuid::from_slice(bytes).map_err(|e| bad(idx, e))
}

fn uuid_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    match row.get_ref(idx)?.as_blob_or_null()? {
        None => Ok(None),
        Some(bytes) => Uuid::from_slice(bytes).map(Some).map_err(|e| bad(idx, e)),
    }
}

pub(crate) fn talk_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<TalkId> {
    uuid(row, idx).map(TalkId)
}

pub(crate) fn message_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<MessageId> {
    uuid(row, idx).map(MessageId)
}

pub(crate) fn agent(row: &Row<'_>, idx: usize) -> rusqlite::Result<AgentId> {
    AgentId::parse(row.get_ref(idx)?.as_str()?).map_err(|e| bad(idx, e))
}

fn agent_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<AgentId>> {
    row.get_ref(idx)?.as_str_or_null()?.map(|s| AgentId::parse(s).map_err(|e| bad(idx, e))).transpose()
}

pub(crate) fn emoji(row: &Row<'_>, idx: usize) -> rusqlite::Result<Emoji> {
    Emoji::parse(row.get_ref(idx)?.as_str()?).map_err(|e| bad(idx, e))
}

pub(crate) fn unsigned(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(idx)?;
    u64::try_from(value).map_err(|e| bad(idx, e))
}

fn unsigned_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<u64>> {
    let value: Option<i64> = row.get(idx)?;
    value.map(|v| u64::try_from(v).map_err(|e| bad(idx, e))).transpose()
}

pub(crate) fn count(row: &Row<'_>, idx: usize) -> rusqlite::Result<u32> {
    let value: i64 = row.get(idx)?;
    u32::try_from(value).map_err(|e| bad(idx, e))
}

pub(crate) fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    Ok(DateTime::from_timestamp_nanos(row.get(idx)?))
}

fn timestamp_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(DateTime::from_timestamp_nanos))
}

/// Reads a text column that holds the name of a `T`.
fn one_of<T: Named>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text = row.get_ref(idx)?.as_str()?;
    T::from_name(text).ok_or_else(|| bad(idx, format!("unexpected value {text:?}")))
}

// ------------------------------------------------------------------ rows

/// The columns [`talk`] reads, with a table prefix (`""` or `"t."`).
#[rustfmt::skip]
macro_rules! talk_columns {
    ($p:literal) => {
        concat!(
            $p, "id, ", $p, "kind, ", $p, "pair_low, ", $p, "pair_high, ", $p, "name, ", $p, "detail, ",
            $p, "status, ", $p, "creator_id, ", $p, "member_count, ", $p, "version, ", $p, "created_seq, ",
            $p, "tm_create, ", $p, "tm_update, ", $p, "tm_close"
        )
    };
}
pub(crate) use talk_columns;

/// A talk from the columns of [`talk_columns`].
pub(crate) fn talk(row: &Row<'_>) -> rusqlite::Result<Talk> {
    let kind = one_of(row, 1)?;
    let direct_pair = match (agent_opt(row, 2)?, agent_opt(row, 3)?) {
        (Some(low), Some(high)) => {
            Some(talk_core::AgentPair::new(low, high).ok_or_else(|| bad(2, "a direct pair of one agent"))?)
        }
        _ => None,
    };
    Ok(Talk {
        id: talk_id(row, 0)?,
        kind,
        direct_pair,
        name: row.get(4)?,
        detail: row.get(5)?,
        status: one_of(row, 6)?,
        creator_id: agent(row, 7)?,
        member_count: count(row, 8)?,
        version: unsigned(row, 9)?,
        created_seq: unsigned(row, 10)?,
        tm_create: timestamp(row, 11)?,
        tm_update: timestamp(row, 12)?,
        tm_close: timestamp_opt(row, 13)?,
    })
}

/// The columns [`participant`] reads.
macro_rules! participant_columns {
    () => {
        "id, talk_id, agent_id, status, left_reason, seq, joined_seq, left_seq, tm_joined, tm_left"
    };
}
pub(crate) use participant_columns;

/// A participant record from the columns of [`participant_columns`].
pub(crate) fn participant(row: &Row<'_>) -> rusqlite::Result<Participant> {
    let left_reason = match row.get_ref(4)?.as_str_or_null()? {
        None => None,
        Some(_) => Some(one_of(row, 4)?),
    };
    Ok(Participant {
        id: ParticipantId(uuid(row, 0)?),
        talk_id: talk_id(row, 1)?,
        agent_id: agent(row, 2)?,
        status: one_of(row, 3)?,
        left_reason,
        seq: unsigned(row, 5)?,
        joined_seq: unsigned(row, 6)?,
        left_seq: unsigned_opt(row, 7)?,
        tm_joined: timestamp(row, 8)?,
        tm_left: timestamp_opt(row, 9)?,
    })
}

/// The columns [`message`] reads.
macro_rules! message_columns {
    () => {
        "id, talk_id, parent_id, kind, agent_id, text, medias, system, reply_count, version, seq, \
         request_digest, tm_create, tm_update, tm_edit, tm_delete, mentions"
    };
}
pub(crate) use message_columns;

/// A message from the columns of [`message_columns`], without its reactions
/// (the store adds them from `message_emoji` and `reactions`).
pub(crate) fn message(row: &Row<'_>) -> rusqlite::Result<Message> {
    let medias: Vec<Media> = serde_json::from_str(row.get_ref(6)?.as_str()?).map_err(|e| bad(6, e))?;
    let system: Option<SystemInfo> =
        row.get_ref(7)?.as_str_or_null()?.map(|s| serde_json::from_str(s).map_err(|e| bad(7, e))).transpose()?;
    let mentions: Vec<AgentId> = serde_json::from_str(row.get_ref(16)?.as_str()?).map_err(|e| bad(16, e))?;
    Ok(Message {
        id: message_id(row, 0)?,
        talk_id: talk_id(row, 1)?,
        parent_id: uuid_opt(row, 2)?.map(MessageId),
        kind: one_of(row, 3)?,
        agent_id: agent_opt(row, 4)?,
        text: row.get(5)?,
        medias,
        mentions,
        system,
        reactions: Vec::new(),
        reply_count: count(row, 8)?,
        version: unsigned(row, 9)?,
        seq: unsigned(row, 10)?,
        request_digest: row.get(11)?,
        tm_create: timestamp(row, 12)?,
        tm_update: timestamp(row, 13)?,
        tm_edit: timestamp_opt(row, 14)?,
        tm_delete: timestamp_opt(row, 15)?,
    })
}

/// The columns [`reaction`] reads.
macro_rules! reaction_columns {
    () => {
        "message_id, emoji, agent_id, seq, tm_create"
    };
}
pub(crate) use reaction_columns;

/// A reaction from the columns of [`reaction_columns`].
pub(crate) fn reaction(row: &Row<'_>) -> rusqlite::Result<Reaction> {
    Ok(Reaction {
        message_id: message_id(row, 0)?,
        emoji: emoji(row, 1)?,
        agent_id: agent(row, 2)?,
        seq: unsigned(row, 3)?,
        tm_create: timestamp(row, 4)?,
    })
}

/// An event from the columns `seq, talk_id, tm_create, data`.
pub(crate) fn event(row: &Row<'_>) -> rusqlite::Result<talk_core::Event> {
    let data = serde_json::from_str(row.get_ref(3)?.as_str()?).map_err(|e| bad(3, e))?;
    Ok(talk_core::Event { seq: unsigned(row, 0)?, talk_id: talk_id(row, 1)?, tm_create: timestamp(row, 2)?, data })
}

/// A read marker, from the columns of `sql::READ_MARKER`.
pub(crate) fn read_marker(row: &Row<'_>) -> rusqlite::Result<talk_core::ReadMarker> {
    Ok(talk_core::ReadMarker {
        participant_id: ParticipantId(uuid(row, 0)?),
        talk_id: talk_id(row, 1)?,
        agent_id: agent(row, 2)?,
        participant_seq: unsigned(row, 3)?,
        read_seq: unsigned(row, 4)?,
        read_message_id: uuid_opt(row, 5)?.map(MessageId),
        tm_read: timestamp(row, 6)?,
    })
}

/// The numbers of a marker, from the columns of `sql::READ_NUMBERS`.
pub(crate) fn read_numbers(row: &Row<'_>) -> rusqlite::Result<talk_core::ReadNumbers> {
    Ok(talk_core::ReadNumbers {
        talk_id: talk_id(row, 0)?,
        normal_after: unsigned(row, 1)?,
        own_after: unsigned(row, 2)?,
        deleted_after: unsigned(row, 3)?,
        mentions_after: unsigned(row, 4)?,
    })
}

/// A message's talk, author, kind, `seq` and mentions.
pub(crate) type StoredMentions = (TalkId, Option<AgentId>, talk_core::MessageKind, i64, Vec<AgentId>);

/// What an update of a message's mentions needs, from the columns of
/// `sql::MESSAGE_MENTIONS`: its talk, author, kind, `seq` and mentions.
pub(crate) fn stored_mentions(row: &Row<'_>) -> rusqlite::Result<StoredMentions> {
    let mentions: Vec<AgentId> = serde_json::from_str(row.get_ref(4)?.as_str()?).map_err(|e| bad(4, e))?;
    Ok((talk_id(row, 0)?, agent_opt(row, 1)?, one_of(row, 2)?, row.get(3)?, mentions))
}
