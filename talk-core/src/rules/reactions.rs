//! Reactions: add and remove one's own.

use super::{Actor, Changes, Decision, Fresh};
use crate::error::Error;
use crate::event::EventData;
use crate::limits::Limits;
use crate::message::Message;
use crate::policy::Command;
use crate::reaction::{Emoji, Reaction, ReactionChange};
use crate::store::{Guard, Write};
use crate::talk::{Talk, TalkStatus};

/// The state checks of both reaction commands (step 9), and their guards.
fn reaction_changes(talk: &Talk, message: &Message, guard: Guard, fresh: &Fresh<'_>) -> Result<Changes, Error> {
    if talk.status == TalkStatus::Closed {
        return Err(Error::TalkClosed(talk.id));
    }
    if message.is_deleted() {
        return Err(Error::MessageDeleted(message.id));
    }
    // The message's version may move, then the reaction itself; one event.
    let mut changes = Changes::with_capacity(talk.id, fresh.now, 2, 1);
    changes
        .guard_talk(talk)
        .guard(guard)
        .guard(Guard::MessageVersion { message_id: message.id, version: message.version });
    Ok(changes)
}

/// Adds the actor's reaction; `exists` tells whether it is already there.
pub(crate) fn add(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    emoji: Emoji,
    exists: bool,
    limits: &Limits,
    fresh: &Fresh<'_>,
) -> Result<Decision<()>, Error> {
    let guard = actor.guard()?;
    if exists {
        return Ok(Decision::Repeat(()));
    }
    fresh.ask(actor.request(Command::AddReaction { emoji }, talk, Some(message)), &[])?;
    let mut changes = reaction_changes(talk, message, guard, fresh)?;
    let new_emoji = !message.reactions.iter().any(|r| r.emoji == emoji);
    if new_emoji && message.reactions.len() >= limits.distinct_emoji_per_message_max {
        return Err(Error::LimitExceeded(format!(
            "a message has at most {} distinct emoji",
            limits.distinct_emoji_per_message_max
        )));
    }
    if new_emoji {
        // A new emoji changes the message's shape: concurrent new emoji
        // conflict, so the distinct-emoji limit holds.
        changes.write(Write::SetMessageVersion { message_id: message.id, version: message.version + 1 });
    }
    let agent_id = actor.agent.clone();
    let reaction = Reaction { message_id: message.id, emoji, agent_id: agent_id.clone(), seq: 0, tm_create: fresh.now };
    changes.write(Write::InsertReaction(reaction)).event(EventData::ReactionAdded(ReactionChange {
        message_id: message.id,
        emoji,
        agent_id,
    }));
    Ok(changes.done())
}

/// Removes the actor's reaction; `exists` tells whether it is there.
pub(crate) fn remove(
    talk: &Talk,
    actor: &Actor<'_>,
    message: &Message,
    emoji: Emoji,
    exists: bool,
    fresh: &Fresh<'_>,
) -> Result<Decision<()>, Error> {
    let guard = actor.guard()?;
    if !exists {
        return Ok(Decision::Repeat(()));
    }
    fresh.ask(actor.request(Command::RemoveReaction { emoji }, talk, Some(message)), &[])?;
    let mut changes = reaction_changes(talk, message, guard, fresh)?;
    let last_of_emoji = message.reactions.iter().find(|r| r.emoji == emoji).is_none_or(|r| r.count <= 1);
    if last_of_emoji {
        changes.write(Write::SetMessageVersion { message_id: message.id, version: message.version + 1 });
    }
    let agent_id = actor.agent.clone();
    changes
        .write(Write::DeleteReaction {
            message_id: message.id,
            emoji,
            agent_id: agent_id.clone(),
            tm_update: fresh.now,
        })
        .event(EventData::ReactionRemoved(ReactionChange { message_id: message.id, emoji, agent_id }));
    Ok(changes.done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::id::UuidV7Generator;
    use crate::message::ReactionSummary;
    use crate::rules::messages::tests::message_by;
    use crate::rules::test_support::{agent, change, fresh, talk_with};
    use crate::store::ChangeSet;

    #[test]
    fn only_a_new_emoji_or_an_emptied_one_moves_the_message_version() {
        let (clock, ids) = (ManualClock::default(), UuidV7Generator);
        let (talk, records) = talk_with(&["a", "b"]);
        let b = agent("b");
        let actor = Actor { agent: &b, records: &records[1..] };
        let mut message = message_by("a", &talk);
        let thumbs = Emoji::parse("+1").unwrap_or_else(|e| panic!("{e}"));
        let limits = Limits::default();
        let bumps =
            |set: &ChangeSet| set.writes.iter().any(|w| matches!(w, Write::SetMessageVersion { version: 2, .. }));
        let first = change(add(&talk, &actor, &message, thumbs, false, &limits, &fresh(&clock, &ids)));
        assert!(bumps(&first));
        message.reactions.push(ReactionSummary { emoji: thumbs, count: 1, agent_ids: vec![agent("a")] });
        let second = change(add(&talk, &actor, &message, thumbs, false, &limits, &fresh(&clock, &ids)));
        assert!(!bumps(&second));
        message.reactions[0].count = 2;
        let not_last = change(remove(&talk, &actor, &message, thumbs, true, &fresh(&clock, &ids)));
        assert!(!bumps(&not_last));
        message.reactions[0].count = 1;
        let last = change(remove(&talk, &actor, &message, thumbs, true, &fresh(&clock, &ids)));
        assert!(bumps(&last));
    }
}
