//! The statements of a change set: each guard, write and event of a
//! resolved change set as the SQL steps the writer sends in one pipeline.

use talk_core::store::Named;
use talk_core::store::{Conflict, Guard, ResolvedChangeSet, Write};
use talk_core::{EventData, MessageId, text};
use tokio_postgres::types::ToSql;

use crate::error::{Error, to_i64};
use crate::sql;

/// One parameter of a statement, owned, so that a whole pipeline of
/// statements can be in flight at once.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

macro_rules! params {
    ($($p:expr),* $(,)?) => { vec![$(Box::new($p) as $crate::steps::Param),*] };
}
pub(crate) use params;

/// What the result of a statement means.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// Any number of rows. An error refuses the change set (unique keys by
    /// constraint name).
    Any,
    /// At least one row, else the change set is refused with this conflict.
    Rows(Conflict),
    /// The batch's own bookkeeping: any failure fails the whole batch.
    Fatal,
}

/// One statement of a pipeline, or the read that redaction needs before it
/// can go on.
pub(crate) enum Step {
    Exec {
        sql: &'static str,
        params: Vec<Param>,
        check: Check,
    },
    /// Read the payloads of a message's events and redact them.
    Redact(MessageId),
}

/// A message's search words as the store keeps them: a `tsvector` literal
/// for a normal message that is not deleted and has words, else none.
fn search_words(m: &talk_core::Message) -> Option<String> {
    let indexed = m.kind == talk_core::MessageKind::Normal && !m.is_deleted();
    indexed.then(|| crate::search::tsvector(&m.text)).flatten()
}

pub(crate) fn exec(sql: &'static str, params: Vec<Param>, check: Check) -> Step {
    Step::Exec { sql, params, check }
}

/// A `seq` or version as stored.
fn num(value: u64) -> Result<i64, Error> {
    to_i64(value, "seq or version above i64::MAX")
}

/// The statements of one resolved change set: guards, writes, events.
pub(crate) fn change_set_steps(changes: &ResolvedChangeSet) -> Result<Vec<Step>, Error> {
    let mut steps = Vec::with_capacity(changes.guards.len() + changes.writes.len() * 2 + changes.events.len());
    for guard in &changes.guards {
        steps.push(match guard {
            Guard::TalkVersion { talk_id, version } => {
                exec(sql::GUARD_TALK_VERSION, params![talk_id.0, num(*version)?], Check::Rows(Conflict::TalkVersion))
            }
            Guard::ParticipantActive { participant_id } => exec(
                sql::GUARD_PARTICIPANT_ACTIVE,
                params![participant_id.0],
                Check::Rows(Conflict::ParticipantNotActive),
            ),
            Guard::MessageVersion { message_id, version } => exec(
                sql::GUARD_MESSAGE_VERSION,
                params![message_id.0, num(*version)?],
                Check::Rows(Conflict::MessageVersion),
            ),
            Guard::MarkerAt { participant_id, read_seq } => exec(
                sql::GUARD_MARKER_AT,
                params![participant_id.0, num(*read_seq)?],
                Check::Rows(Conflict::MarkerMoved),
            ),
        });
    }
    for write in &changes.writes {
        write_steps(write, &mut steps)?;
    }
    for event in &changes.events {
        // Only payloads that carry a message's content are indexed by
        // message: they are what redaction rewrites.
        let message = match &event.data {
            EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => Some(m.id.0),
            _ => None,
        };
        steps.push(exec(
            sql::INSERT_EVENT,
            params![
                num(event.seq)?,
                event.talk_id.0,
                message,
                event.tm_create,
                event.data.type_name(),
                serde_json::to_value(&event.data)?,
            ],
            Check::Any,
        ));
    }
    Ok(steps)
}

fn write_steps(write: &Write, steps: &mut Vec<Step>) -> Result<(), Error> {
    let missing = || Check::Rows(Conflict::RowMismatch);
    match write {
        Write::InsertTalk(t) => {
            let pair = t.direct_pair.as_ref().map(|p| p.agents());
            steps.push(exec(
                sql::INSERT_TALK,
                params![
                    t.id.0,
                    Named::as_str(t.kind),
                    pair.map(|p| p[0].as_str().to_owned()),
                    pair.map(|p| p[1].as_str().to_owned()),
                    t.name.clone(),
                    t.detail.clone(),
                    Named::as_str(t.status),
                    t.creator_id.as_str().to_owned(),
                    i64::from(t.member_count),
                    num(t.version)?,
                    num(t.created_seq)?,
                    t.tm_create,
                    t.tm_update,
                    t.tm_close,
                    text::index_text(&t.name),
                ],
                Check::Any,
            ));
        }
        Write::UpdateTalk(t) => steps.push(exec(
            sql::UPDATE_TALK,
            params![
                t.id.0,
                t.name.clone(),
                t.detail.clone(),
                Named::as_str(t.status),
                i64::from(t.member_count),
                num(t.version)?,
                t.tm_update,
                t.tm_close,
                text::index_text(&t.name),
            ],
            missing(),
        )),
        Write::InsertParticipant(p) => steps.push(exec(
            sql::INSERT_PARTICIPANT,
            params![
                p.id.0,
                p.talk_id.0,
                p.agent_id.as_str().to_owned(),
                Named::as_str(p.status),
                p.left_reason.map(Named::as_str),
                num(p.seq)?,
                num(p.joined_seq)?,
                p.left_seq.map(num).transpose()?,
                p.tm_joined,
                p.tm_left,
            ],
            Check::Any,
        )),
        Write::UpdateParticipant(p) => steps.push(exec(
            sql::UPDATE_PARTICIPANT,
            params![
                p.id.0,
                Named::as_str(p.status),
                p.left_reason.map(Named::as_str),
                p.left_seq.map(num).transpose()?,
                p.tm_left,
            ],
            missing(),
        )),
        Write::InsertMessage(m) => {
            steps.push(exec(
                sql::INSERT_MESSAGE,
                params![
                    m.id.0,
                    m.talk_id.0,
                    m.parent_id.map(|p| p.0),
                    Named::as_str(m.kind),
                    m.agent_id.as_ref().map(|a| a.as_str().to_owned()),
                    m.text.clone(),
                    serde_json::to_value(&m.medias)?,
                    m.system.as_ref().map(serde_json::to_value).transpose()?,
                    num(m.version)?,
                    num(m.seq)?,
                    m.request_digest.clone(),
                    m.tm_create,
                    m.tm_update,
                    m.tm_edit,
                    m.tm_delete,
                    serde_json::to_value(&m.mentions)?,
                    search_words(m),
                ],
                Check::Any,
            ));
            if !m.mentions.is_empty() {
                steps.push(exec(sql::KEEP_MENTIONS, params![m.id.0], Check::Any));
            }
        }
        Write::UpdateMessage(m) => {
            steps.push(exec(sql::DROP_MENTIONS, params![m.id.0], Check::Any));
            steps.push(exec(
                sql::UPDATE_MESSAGE,
                params![
                    m.id.0,
                    m.text.clone(),
                    serde_json::to_value(&m.medias)?,
                    num(m.version)?,
                    m.tm_update,
                    m.tm_edit,
                    m.tm_delete,
                    m.request_digest.clone(),
                    serde_json::to_value(&m.mentions)?,
                    search_words(m),
                ],
                missing(),
            ));
            steps.push(exec(sql::KEEP_MENTIONS, params![m.id.0], Check::Any));
        }
        Write::SetReadMarker { participant_id, read_seq, tm_read, .. } => {
            steps.push(exec(sql::SET_READ_MARKER, params![participant_id.0, num(*read_seq)?, *tm_read], missing()));
        }
        Write::SetMessageVersion { message_id, version } => {
            steps.push(exec(sql::SET_MESSAGE_VERSION, params![message_id.0, num(*version)?], missing()))
        }
        Write::IncrementReplyCount(id) => steps.push(exec(sql::INCREMENT_REPLY_COUNT, params![id.0], missing())),
        Write::InsertReaction(r) => {
            let (message, emoji) = (r.message_id.0, r.emoji.as_str().to_owned());
            steps.push(exec(sql::TOUCH_MESSAGE, params![message, r.tm_create], missing()));
            steps.push(exec(
                sql::INSERT_REACTION,
                params![message, emoji.clone(), r.agent_id.as_str().to_owned(), num(r.seq)?, r.tm_create],
                Check::Any,
            ));
            steps.push(exec(sql::ADD_EMOJI, params![message, emoji, num(r.seq)?], Check::Any));
        }
        Write::DeleteReaction { message_id, emoji, agent_id, tm_update } => {
            let (message, emoji) = (message_id.0, emoji.as_str().to_owned());
            steps.push(exec(
                sql::DELETE_REACTION,
                params![message, emoji.clone(), agent_id.as_str().to_owned()],
                missing(),
            ));
            steps.push(exec(sql::REMOVE_EMOJI, params![message, emoji.clone()], Check::Any));
            steps.push(exec(sql::DROP_UNUSED_EMOJI, params![message, emoji], Check::Any));
            steps.push(exec(sql::TOUCH_MESSAGE, params![message, *tm_update], missing()));
        }
        Write::DeleteAllReactions(id) => {
            steps.push(exec(sql::LOCK_MESSAGE, params![id.0], missing()));
            steps.push(exec(sql::DELETE_ALL_REACTIONS, params![id.0], Check::Any));
            steps.push(exec(sql::DELETE_ALL_EMOJI, params![id.0], Check::Any));
        }
        Write::RedactMessage(id) => steps.push(Step::Redact(*id)),
    }
    Ok(())
}
