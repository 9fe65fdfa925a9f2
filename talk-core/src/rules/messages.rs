//! Messages: send (with client-chosen ids), edit, delete.

use super::{Actor, Changes, Decision, Fresh};
use crate::error::Error;
use crate::event::EventData;
use crate::id::{AgentId, MessageId};
use crate::message::{Message, MessageEdit, MessageKind, NewMessage, merge_mentions};
use crate::policy::Command;
use crate::store::{Guard, Write};
use crate::syntax;
use crate::talk::{Talk, TalkStatus};

/// The digest of a send request, kept with a message whose id the client
/// chose: an HMAC-SHA256 keyed with the store's secret, so that the digest
/// alone confirms no guess of the request.
pub(crate) fn request_digest(key: &[u8; 32], input: &NewMessage) -> String {
    use hmac::{KeyInit, Mac};
    let mut mentions: Vec<&str> = input.mentions.iter().map(AgentId::as_str).collect();
    mentions.sort_unstable();
    mentions.dedup();
    let mut canonical = serde_json::json!({
        "text": input.text,
        "parent_id": input.parent_id,
        "medias": input.medias,
    });
    // Mentions count as a set; a request without them digests as before.
    if !mentions.is_empty() {
        canonical["mentions"] = serde_json::json!(mentions);
    }
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(canonical.to_string().as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends a message. `taken` is the stored message with the client-chosen
/// id, if any; `parent` the stored message named by `parent_id`, if any;
/// `key` the store's secret, for the request's digest; `unknown` the first
/// mentioned agent the directory does not know, if any.
#[allow(clippy::too_many_arguments, reason = "what the rule reads, each named")]
pub(crate) fn send(
    talk: &Talk,
    actor: &Actor<'_>,
    input: &NewMessage,
    taken: Option<&Message>,
    parent: Option<&Message>,
    unknown: Option<&AgentId>,
    key: &[u8; 32],
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    let guard = actor.guard()?;
    let record = actor.require_active()?.id;
    let digest = input.id.map(|_| request_digest(key, input));
    if let Some(stored) = taken {
        let same_sender = stored.talk_id == talk.id && stored.agent_id.as_ref() == Some(actor.agent);
        // A deleted message kept nothing of its request to compare with: the
        // same id from the same sender answers its tombstone.
        let same_request = stored.is_deleted() || (stored.request_digest.is_some() && stored.request_digest == digest);
        if same_sender && same_request {
            return Ok(Decision::Repeat(stored.clone()));
        }
    }
    let command = Command::SendMessage {
        text: &input.text,
        parent_id: input.parent_id,
        medias: &input.medias,
        mentions: &input.mentions,
    };
    let rewrite = fresh.ask(actor.request(command, talk, None), &input.medias)?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if taken.is_some() {
        return Err(Error::IdConflict);
    }
    if let Some(parent_id) = input.parent_id {
        let valid = parent.is_some_and(|p| p.id == parent_id && p.talk_id == talk.id && p.is_top_level());
        if !valid {
            return Err(Error::InvalidParent(format!("parent_id {parent_id} is not a top-level message of this talk")));
        }
    }
    if let Some(agent) = unknown {
        return Err(Error::UnknownAgent(agent.clone()));
    }
    let message = Message {
        id: input.id.unwrap_or_else(|| MessageId(fresh.ids.new_uuid())),
        talk_id: talk.id,
        parent_id: input.parent_id,
        kind: MessageKind::Normal,
        agent_id: Some(actor.agent.clone()),
        medias: input.medias.clone(),
        mentions: merge_mentions(rewrite.as_ref().and_then(|r| r.mentions.as_deref()).unwrap_or(&input.mentions)),
        text: rewrite.map_or_else(|| input.text.clone(), |r| r.text),
        system: None,
        reactions: Vec::new(),
        reply_count: 0,
        version: 1,
        seq: 0,
        request_digest: digest,
        tm_create: fresh.now,
        tm_update: fresh.now,
        tm_edit: None,
        tm_delete: None,
    };
    let writes = 2 + usize::from(message.parent_id.is_some());
    let mut changes = Changes::with_capacity(talk.id, fresh.now, writes, 1);
    changes.guard_talk(talk).guard(guard).write(Write::InsertMessage(message.clone()));
    if let Some(parent_id) = message.parent_id {
        changes.write(Write::IncrementReplyCount(parent_id));
    }
    // One's own message is read: the marker moves to it, without an event.
    changes.write(Write::SetReadMarker {
        participant_id: record,
        read_seq: 0,
        sent: Some(message.id),
        tm_read: fresh.now,
    });
    // The digest stays in the row: the log never holds it.
    changes.event(EventData::MessageCreated(Message { request_digest: None, ..message }));
    Ok(changes.done())
}

/// Authorship (step 8): only the author of a normal message.
fn require_author(message: &Message, actor: &Actor<'_>) -> Result<(), Error> {
    if message.agent_id.as_ref() == Some(actor.agent) { Ok(()) } else { Err(Error::NotAuthor) }
}

/// Edits a message's text (whose length the Hub checked) and, when given,
/// its mentions (whose number the Hub checked); `unknown` is the first
/// mentioned agent the directory does not know, if any.
pub(crate) fn edit(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    input: &MessageEdit,
    unknown: Option<&AgentId>,
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    let text = input.text.as_str();
    syntax::content_present(text, &message.medias)?;
    let guard = actor.guard()?;
    let command = Command::EditMessage { text, mentions: input.mentions.as_deref() };
    let rewrite = fresh.ask(actor.request(command, talk, Some(message)), &message.medias)?;
    require_author(message, actor)?;
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if message.is_deleted() {
        return Err(Error::MessageDeleted(message.id));
    }
    if let Some(agent) = unknown {
        return Err(Error::UnknownAgent(agent.clone()));
    }
    let asked = rewrite.as_ref().and_then(|r| r.mentions.as_deref()).or(input.mentions.as_deref());
    let mentions = asked.map_or_else(|| message.mentions.clone(), merge_mentions);
    let after = Message {
        text: rewrite.map_or_else(|| text.to_owned(), |r| r.text),
        mentions,
        version: message.version + 1,
        tm_edit: Some(fresh.now),
        tm_update: fresh.now,
        ..message.clone()
    };
    let mut changes = Changes::new(talk.id, fresh.now);
    changes
        .guard_talk(talk)
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version })
        .write(Write::UpdateMessage(after.clone()))
        .event(EventData::MessageUpdated(after));
    Ok(changes.done())
}

/// Deletes a message: a tombstone, its reactions gone, its content gone
/// from every earlier event.
pub(crate) fn delete(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    fresh: &Fresh<'_>,
) -> Result<Decision<Message>, Error> {
    let guard = actor.guard()?;
    if message.is_deleted() {
        return Ok(Decision::Repeat(message.clone()));
    }
    fresh.ask(actor.request(Command::DeleteMessage, talk, Some(message)), &[])?;
    require_author(message, actor)?;
    let mut tombstone =
        Message { version: message.version + 1, tm_delete: Some(fresh.now), tm_update: fresh.now, ..message.clone() };
    tombstone.redact();
    let mut changes = Changes::new(message.talk_id, fresh.now);
    changes
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version })
        .write(Write::UpdateMessage(tombstone.clone()))
        .write(Write::DeleteAllReactions(message.id))
        .write(Write::RedactMessage(message.id))
        .event(EventData::MessageDeleted(tombstone));
    Ok(changes.done())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::id::UuidV7Generator;
    use crate::message::Media;
    use crate::rules::test_support::{agent, change, fresh, talk_with};

    /// A normal message of `author` in `talk`.
    pub(crate) fn message_by(author: &str, talk: &Talk) -> Message {
        let clock = ManualClock::default();
        Message {
            id: MessageId(uuid::Uuid::now_v7()),
            talk_id: talk.id,
            parent_id: None,
            kind: MessageKind::Normal,
            agent_id: Some(agent(author)),
            text: "x".into(),
            medias: Vec::new(),
            mentions: Vec::new(),
            system: None,
            reactions: Vec::new(),
            reply_count: 0,
            version: 1,
            seq: 10,
            request_digest: None,
            tm_create: clock.now(),
            tm_update: clock.now(),
            tm_edit: None,
            tm_delete: None,
        }
    }

    #[test]
    fn a_send_is_guarded_by_talk_version_and_membership_and_bumps_nothing() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a"]);
        let a = agent("a");
        let actor = Actor { agent: &a, records: &records[..1] };
        let input = NewMessage { text: "hi".into(), ..NewMessage::default() };
        let set = change(send(&talk, &actor, &input, None, None, None, &KEY, &fresh(&clock, &ids)));
        assert_eq!(
            set.guards,
            [
                Guard::TalkVersion { talk_id: talk.id, version: talk.version },
                Guard::ParticipantActive { participant_id: records[0].id }
            ]
        );
        assert!(
            set.writes.iter().all(|w| matches!(w, Write::InsertMessage(_) | Write::SetReadMarker { .. })),
            "no talk write: senders never conflict"
        );
        assert!(
            set.writes.iter().any(|w| matches!(w, Write::SetReadMarker { participant_id, sent: Some(_), .. }
                if *participant_id == records[0].id)),
            "one's own message is read"
        );
    }

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn the_request_digest_covers_text_parent_and_medias() {
        let digest = |input: &NewMessage| request_digest(&KEY, input);
        let base = NewMessage { text: "a".into(), ..NewMessage::default() };
        let same = digest(&NewMessage { id: Some(MessageId(uuid::Uuid::now_v7())), ..base.clone() });
        assert_eq!(digest(&base), same, "the id itself is not part of the request");
        assert_ne!(digest(&base), digest(&NewMessage { text: "b".into(), ..base.clone() }));
        let reply = NewMessage { parent_id: Some(MessageId(uuid::Uuid::now_v7())), ..base.clone() };
        assert_ne!(digest(&base), digest(&reply));
        let media = Media { media_type: "image/png".into(), url: "https://x.test/a.png".into(), name: "a.png".into() };
        assert_ne!(digest(&base), digest(&NewMessage { medias: vec![media], ..base.clone() }));
    }

    #[test]
    fn the_request_digest_takes_mentions_as_a_set() {
        let digest = |input: &NewMessage| request_digest(&KEY, input);
        let with = |names: &[&str]| NewMessage {
            text: "a".into(),
            mentions: names.iter().map(|n| agent(n)).collect(),
            ..NewMessage::default()
        };
        assert_eq!(digest(&with(&["b", "c"])), digest(&with(&["c", "b", "c"])));
        assert_ne!(digest(&with(&["b"])), digest(&with(&["b", "c"])));
        assert_ne!(digest(&with(&[])), digest(&with(&["b"])));
    }

    #[test]
    fn the_request_digest_is_keyed() {
        let input = NewMessage { text: "a short secret".into(), ..NewMessage::default() };
        assert_ne!(request_digest(&KEY, &input), request_digest(&[8; 32], &input), "another key, another digest");
        use sha2::Digest;
        let canonical = serde_json::json!({"text": input.text, "parent_id": null, "medias": []}).to_string();
        let plain: String = sha2::Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_ne!(request_digest(&KEY, &input), plain, "a guess hashed without the key confirms nothing");
    }
}
