//! When the store cannot tell whether a change set committed
//! ([`StoreError::OutcomeUnknown`]: the connection was lost after `COMMIT`
//! was sent, an I/O error struck the commit itself), the Hub reads the
//! store again, by the ids the change set inserted, and answers what
//! actually happened: the committed events, or `unavailable` when it cannot
//! tell — never an error for a write that landed without a way to learn it
//! did, never a success for one that did not.

use super::Hub;
use crate::error::{Error, Result};
use crate::event::{Event, EventData};
use crate::id::{AgentId, MessageId, ParticipantId, TalkId};
use crate::reaction::Emoji;
use crate::store::ChangeSet;

/// What a change set inserts that a later read can find, and where the
/// event that numbers it stands among the change set's events.
pub(super) struct Witness {
    row: Row,
    /// The place of the row's numbering event among the change set's events.
    index: usize,
    /// How many events the change set has.
    count: usize,
}

/// A row the change set inserts, by its key.
#[derive(PartialEq, Eq)]
enum Row {
    Talk(TalkId),
    Participant(ParticipantId),
    Message(MessageId),
    Reaction(MessageId, Emoji, AgentId),
}

impl Witness {
    /// The witness of `changes`: its first event that numbers an inserted
    /// row; `None` for a change set that inserts nothing (an edit, a delete,
    /// an unreact), whose outcome no read can tell.
    pub(super) fn of(changes: &ChangeSet) -> Option<Self> {
        let (index, row) =
            changes.events.iter().enumerate().find_map(|(index, event)| Some((index, numbered(&event.data)?)))?;
        Some(Self { row, index, count: changes.events.len() })
    }
}

/// The row an event numbers, if it numbers one by its key.
fn numbered(data: &EventData) -> Option<Row> {
    Some(match data {
        EventData::TalkCreated(talk) => Row::Talk(talk.id),
        EventData::ParticipantJoined(p) => Row::Participant(p.id),
        EventData::MessageCreated(m) => Row::Message(m.id),
        EventData::ReactionAdded(r) => Row::Reaction(r.message_id, r.emoji, r.agent_id.clone()),
        _ => return None,
    })
}

/// The answer when no read can tell.
fn cannot_tell() -> Error {
    Error::Unavailable("the store could not tell whether the change was made; read it again or retry".into())
}

impl Hub {
    /// The events of a change set whose commit the store could not confirm,
    /// if it committed; `unavailable` if it did not, or if no read can tell.
    pub(super) async fn settle(&self, witness: Option<Witness>) -> Result<Vec<Event>> {
        let witness = witness.ok_or_else(cannot_tell)?;
        let store = self.store();
        let row_seq = match &witness.row {
            Row::Talk(id) => store.talk(*id).await?.map(|t| t.created_seq),
            Row::Participant(id) => store.participant(*id).await?.map(|p| p.seq),
            Row::Message(id) => store.message(*id, 0).await?.map(|m| m.seq),
            Row::Reaction(message, emoji, agent) => store.reaction(*message, emoji, agent).await?.map(|r| r.seq),
        };
        let first = row_seq.and_then(|seq| seq.checked_sub(witness.index as u64)).ok_or_else(cannot_tell)?;
        // The change set's events are consecutive from `first`, its row's
        // numbering event at its place among them.
        let events = store.events(first.saturating_sub(1), witness.count).await?;
        let ours = events.len() == witness.count
            && events.first().is_some_and(|e| e.seq == first)
            && events.get(witness.index).and_then(|e| numbered(&e.data)).is_some_and(|row| row == witness.row);
        if !ours {
            return Err(cannot_tell());
        }
        if let Some(last) = events.last() {
            self.committed(last.seq).await;
        }
        Ok(events)
    }
}
