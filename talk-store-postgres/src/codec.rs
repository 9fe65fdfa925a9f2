//! How domain values are kept in columns, and rows read back into domain
//! types.
//!
//! Ids of talks, participants and messages are `uuid`; agent ids and emoji
//! are `text`; enums are their snake_case names; timestamps are
//! `timestamptz`; medias, system infos and event payloads are `jsonb`;
//! `seq`, versions and counters are `bigint`.

use talk_core::store::Named;
use talk_core::{
    AgentId, AgentPair, Emoji, Event, EventData, Media, Message, MessageId, Participant, ParticipantId, Reaction,
    ReactionSummary, SystemInfo, Talk, TalkId, Timestamp,
};
use tokio_postgres::Row;
use tokio_postgres::types::Json;
use uuid::Uuid;

use crate::error::{Error, to_u64};

// ------------------------------------------------------------ to columns

// ---------------------------------------------------------- from columns

/// The `T` named by a text column.
fn one_of<T: Named>(text: &str, column: &'static str) -> Result<T, Error> {
    T::from_name(text).ok_or_else(|| Error::Corrupt { column, why: format!("unexpected value {text:?}") })
}

fn agent(text: &str, column: &'static str) -> Result<AgentId, Error> {
    AgentId::parse(text).map_err(|e| Error::Corrupt { column, why: e.to_string() })
}

fn agent_opt(text: Option<&str>, column: &'static str) -> Result<Option<AgentId>, Error> {
    text.map(|t| agent(t, column)).transpose()
}

fn emoji(text: &str, column: &'static str) -> Result<Emoji, Error> {
    Emoji::parse(text).map_err(|e| Error::Corrupt { column, why: e.to_string() })
}

fn unsigned(row: &Row, idx: usize, column: &'static str) -> Result<u64, Error> {
    to_u64(row.try_get(idx)?, column)
}

fn unsigned_opt(row: &Row, idx: usize, column: &'static str) -> Result<Option<u64>, Error> {
    row.try_get::<_, Option<i64>>(idx)?.map(|v| to_u64(v, column)).transpose()
}

fn count(row: &Row, idx: usize, column: &'static str) -> Result<u32, Error> {
    let value: i64 = row.try_get(idx)?;
    u32::try_from(value).map_err(|_| Error::Corrupt { column, why: format!("count {value} out of range") })
}

/// A talk from the columns of `talk_columns!`.
pub(crate) fn talk(row: &Row) -> Result<Talk, Error> {
    let kind = one_of(row.try_get(1)?, "talks.kind")?;
    let direct_pair =
        match (agent_opt(row.try_get(2)?, "talks.pair_low")?, agent_opt(row.try_get(3)?, "talks.pair_high")?) {
            (Some(low), Some(high)) => Some(AgentPair::new(low, high).ok_or_else(|| Error::Corrupt {
                column: "talks.pair_low",
                why: "a direct pair of one agent".into(),
            })?),
            _ => None,
        };
    Ok(Talk {
        id: TalkId(row.try_get(0)?),
        kind,
        direct_pair,
        name: row.try_get(4)?,
        detail: row.try_get(5)?,
        status: one_of(row.try_get(6)?, "talks.status")?,
        creator_id: agent(row.try_get(7)?, "talks.creator_id")?,
        member_count: count(row, 8, "talks.member_count")?,
        version: unsigned(row, 9, "talks.version")?,
        created_seq: unsigned(row, 10, "talks.created_seq")?,
        tm_create: row.try_get(11)?,
        tm_update: row.try_get(12)?,
        tm_close: row.try_get(13)?,
    })
}

/// A participant record from the columns of `participant_columns!`.
pub(crate) fn participant(row: &Row) -> Result<Participant, Error> {
    let left_reason =
        row.try_get::<_, Option<&str>>(4)?.map(|text| one_of(text, "participants.left_reason")).transpose()?;
    Ok(Participant {
        id: ParticipantId(row.try_get(0)?),
        talk_id: TalkId(row.try_get(1)?),
        agent_id: agent(row.try_get(2)?, "participants.agent_id")?,
        status: one_of(row.try_get(3)?, "participants.status")?,
        left_reason,
        seq: unsigned(row, 5, "participants.seq")?,
        joined_seq: unsigned(row, 6, "participants.joined_seq")?,
        left_seq: unsigned_opt(row, 7, "participants.left_seq")?,
        tm_joined: row.try_get(8)?,
        tm_left: row.try_get(9)?,
    })
}

/// One emoji of a message's reaction summary as the message statements
/// read it: `[emoji, count, [reactors…]]`.
type SummaryEntry = (String, i64, Vec<String>);

/// A message, its reactions included, from the columns of `message_select!`.
pub(crate) fn message(row: &Row) -> Result<Message, Error> {
    let Json(medias): Json<Vec<Media>> = row.try_get(6)?;
    let system: Option<Json<SystemInfo>> = row.try_get(7)?;
    let summary: Option<Json<Vec<SummaryEntry>>> = row.try_get(16)?;
    let Json(mentions): Json<Vec<String>> = row.try_get(17)?;
    let mentions = mentions.iter().map(|a| agent(a, "messages.mentions")).collect::<Result<Vec<_>, _>>()?;
    let reactions = summary
        .map(|Json(entries)| entries)
        .unwrap_or_default()
        .into_iter()
        .map(|(emoji_text, count, agents)| {
            Ok(ReactionSummary {
                emoji: emoji(&emoji_text, "message_emoji.emoji")?,
                count: u32::try_from(count).map_err(|_| Error::Corrupt {
                    column: "message_emoji.count",
                    why: format!("count {count} out of range"),
                })?,
                agent_ids: agents.iter().map(|a| agent(a, "reactions.agent_id")).collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Message {
        id: MessageId(row.try_get(0)?),
        talk_id: TalkId(row.try_get(1)?),
        parent_id: row.try_get::<_, Option<Uuid>>(2)?.map(MessageId),
        kind: one_of(row.try_get(3)?, "messages.kind")?,
        agent_id: agent_opt(row.try_get(4)?, "messages.agent_id")?,
        text: row.try_get(5)?,
        medias,
        mentions,
        system: system.map(|Json(info)| info),
        reactions,
        reply_count: count(row, 8, "messages.reply_count")?,
        version: unsigned(row, 9, "messages.version")?,
        seq: unsigned(row, 10, "messages.seq")?,
        request_digest: row.try_get(11)?,
        tm_create: row.try_get(12)?,
        tm_update: row.try_get(13)?,
        tm_edit: row.try_get(14)?,
        tm_delete: row.try_get(15)?,
    })
}

/// A reaction from the columns of `reaction_columns!`.
pub(crate) fn reaction(row: &Row) -> Result<Reaction, Error> {
    Ok(Reaction {
        message_id: MessageId(row.try_get(0)?),
        emoji: emoji(row.try_get(1)?, "reactions.emoji")?,
        agent_id: agent(row.try_get(2)?, "reactions.agent_id")?,
        seq: unsigned(row, 3, "reactions.seq")?,
        tm_create: row.try_get::<_, Timestamp>(4)?,
    })
}

/// An event from the columns `seq, talk_id, tm_create, data`.
pub(crate) fn event(row: &Row) -> Result<Event, Error> {
    let Json(data): Json<EventData> = row.try_get(3)?;
    Ok(Event {
        seq: unsigned(row, 0, "events.seq")?,
        talk_id: TalkId(row.try_get(1)?),
        tm_create: row.try_get(2)?,
        data,
    })
}

/// Every row through `decode`.
pub(crate) fn all<T>(rows: &[Row], decode: fn(&Row) -> Result<T, Error>) -> Result<Vec<T>, Error> {
    rows.iter().map(decode).collect()
}

/// A read marker, from the columns of `sql::READ_MARKER`.
pub(crate) fn read_marker(row: &Row) -> Result<talk_core::ReadMarker, Error> {
    Ok(talk_core::ReadMarker {
        participant_id: ParticipantId(row.try_get(0)?),
        talk_id: TalkId(row.try_get(1)?),
        agent_id: agent(row.try_get(2)?, "participants.agent_id")?,
        participant_seq: unsigned(row, 3, "participants.seq")?,
        read_seq: unsigned(row, 4, "participants.read_seq")?,
        read_message_id: row.try_get::<_, Option<Uuid>>(5)?.map(MessageId),
        tm_read: row.try_get(6)?,
    })
}

/// The numbers of a marker, from the columns of `sql::READ_NUMBERS`.
pub(crate) fn read_numbers(row: &Row) -> Result<talk_core::ReadNumbers, Error> {
    Ok(talk_core::ReadNumbers {
        talk_id: TalkId(row.try_get(0)?),
        normal_after: unsigned(row, 1, "talks.normal_total")?,
        own_after: unsigned(row, 2, "messages")?,
        deleted_after: unsigned(row, 3, "messages")?,
        mentions_after: unsigned(row, 4, "mentions")?,
    })
}
