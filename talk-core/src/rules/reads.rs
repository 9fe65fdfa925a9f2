//! Read markers: `read` moves one's marker forward, `unread` moves it to
//! just before a message (back too, never below the record's join).

use super::{Actor, Changes, Decision, Fresh};
use crate::error::Error;
use crate::event::EventData;
use crate::id::MessageId;
use crate::limits::Limits;
use crate::message::Message;
use crate::participant::Participant;
use crate::policy::Command;
use crate::read::{ReadMarker, ReadReceipt, ReceiptAudience};
use crate::store::{Guard, Write};
use crate::talk::Talk;

/// The message a `read` or `unread` names must be one of this talk (step 10).
fn of_talk<'m>(talk: &Talk, requested: MessageId, found: Option<&'m Message>) -> Result<&'m Message, Error> {
    found
        .filter(|m| m.id == requested && m.talk_id == talk.id)
        .ok_or_else(|| Error::invalid_request(format!("message_id {requested} is not a message of this talk")))
}

/// Moves the actor's marker forward to a message: `requested` (found as
/// `found`), or without one the talk's newest message (`found`, none in an
/// empty talk). A marker at or past it is a repeat. Allowed on a closed talk.
pub(crate) fn read(
    talk: &Talk,
    actor: &Actor<'_>,
    marker: &ReadMarker,
    requested: Option<MessageId>,
    found: Option<&Message>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<ReadMarker>, Error> {
    let record = actor.require_active()?;
    let target = match requested {
        Some(id) => of_talk(talk, id, found)?,
        None => match found {
            Some(newest) => newest,
            None => return Ok(Decision::Repeat(marker.clone())),
        },
    };
    if marker.read_seq >= target.seq {
        return Ok(Decision::Repeat(marker.clone()));
    }
    fresh.ask(actor.request(Command::MarkRead { message_id: target.id }, talk, Some(target)), &[])?;
    Ok(move_marker(talk, record, marker, target.seq, Some(target.id), limits, fresh))
}

/// Where `unread` from `target` puts the marker of `record`: just before the
/// message, never below the record's own `participant_joined`.
pub(crate) fn unread_seq(record: &Participant, target: &Message) -> u64 {
    target.seq.saturating_sub(1).max(record.seq)
}

/// "Mark unread from here": moves the actor's marker to just before
/// `requested` (found as `found`), forward or back, never below the record's
/// join. `before` is the newest message of the talk at or below that point
/// (see [`unread_seq`]). A marker already there is a repeat.
#[allow(clippy::too_many_arguments, reason = "what the rule reads, each named")]
pub(crate) fn unread(
    talk: &Talk,
    actor: &Actor<'_>,
    marker: &ReadMarker,
    requested: MessageId,
    found: Option<&Message>,
    before: Option<&Message>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<ReadMarker>, Error> {
    let record = actor.require_active()?;
    let target = of_talk(talk, requested, found)?;
    let to = unread_seq(record, target);
    if marker.read_seq == to {
        return Ok(Decision::Repeat(marker.clone()));
    }
    fresh.ask(actor.request(Command::MarkUnread { message_id: target.id }, talk, Some(target)), &[])?;
    let before = before.filter(|m| m.talk_id == talk.id && m.seq <= to).map(|m| m.id);
    Ok(move_marker(talk, record, marker, to, before, limits, fresh))
}

/// The change that moves a marker, guarded on where it was read (a
/// concurrent send may have moved it) and on the record being active.
fn move_marker<T>(
    talk: &Talk,
    record: &Participant,
    marker: &ReadMarker,
    to: u64,
    message_at: Option<MessageId>,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Decision<T> {
    let audience = if talk.member_count as usize <= limits.read_receipts_participants_max {
        ReceiptAudience::Talk
    } else {
        ReceiptAudience::Reader
    };
    let receipt = ReadReceipt {
        talk_id: talk.id,
        agent_id: record.agent_id.clone(),
        participant_id: record.id,
        last_read_seq: to,
        last_read_message_id: message_at,
        tm_read: fresh.now,
        audience,
    };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard(Guard::ParticipantActive { participant_id: record.id })
        .guard(Guard::MarkerAt { participant_id: record.id, read_seq: marker.read_seq })
        .write(Write::SetReadMarker { participant_id: record.id, read_seq: to, sent: None, tm_read: fresh.now })
        .event(EventData::TalkRead(receipt));
    changes.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::id::UuidV7Generator;
    use crate::rules::messages::tests::message_by;
    use crate::rules::test_support::{agent, change, fresh, talk_with};

    fn marker_of(record: &Participant, read_seq: u64) -> ReadMarker {
        ReadMarker {
            participant_id: record.id,
            talk_id: record.talk_id,
            agent_id: record.agent_id.clone(),
            participant_seq: record.seq,
            read_seq,
            read_message_id: None,
            tm_read: ManualClock::default().now(),
        }
    }

    #[test]
    fn read_moves_forward_only_and_guards_the_marker_it_read() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a", "b"]);
        let a = agent("a");
        let actor = Actor { agent: &a, records: &records[..1] };
        let message = message_by("b", &talk);
        let limits = Limits::default();
        let behind = marker_of(&records[0], message.seq - 1);
        let set = change(read(&talk, &actor, &behind, Some(message.id), Some(&message), &limits, &fresh(&clock, &ids)));
        assert!(set.guards.contains(&Guard::MarkerAt { participant_id: records[0].id, read_seq: message.seq - 1 }));
        assert!(matches!(set.writes[..], [Write::SetReadMarker { read_seq, .. }] if read_seq == message.seq));
        let at = marker_of(&records[0], message.seq);
        let repeat = read(&talk, &actor, &at, Some(message.id), Some(&message), &limits, &fresh(&clock, &ids));
        assert!(matches!(repeat, Ok(Decision::Repeat(_))));
    }

    #[test]
    fn unread_never_goes_below_the_join_and_refuses_another_talks_message() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a", "b"]);
        let a = agent("a");
        let actor = Actor { agent: &a, records: &records[..1] };
        let mut early = message_by("b", &talk);
        early.seq = 0;
        assert_eq!(unread_seq(&records[0], &early), records[0].seq);
        let limits = Limits::default();
        let (other, _) = talk_with(&["a"]);
        let foreign = message_by("a", &other);
        let marker = marker_of(&records[0], 20);
        let refused = unread(&talk, &actor, &marker, foreign.id, Some(&foreign), None, &limits, &fresh(&clock, &ids));
        assert!(matches!(refused, Err(Error::InvalidRequest(_))));
    }
}
