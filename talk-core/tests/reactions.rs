//! Reaction rules: canonical emoji, repeats, order, limits, closed talks.

mod common;

use common::*;
use talk_core::{Limits, PageRequest};

#[tokio::test]
async fn every_spelling_of_an_emoji_names_one_reaction() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.add_reaction(&agent("a"), m.id, "👍").await.unwrap();
    hub.add_reaction(&agent("b"), m.id, ":thumbsup:").await.unwrap();
    let after = hub.add_reaction(&agent("c"), m.id, "+1").await.unwrap();
    assert_eq!(after.reactions.len(), 1);
    assert_eq!(after.reactions[0].count, 3);
    assert_eq!(after.reactions[0].emoji.as_str(), "👍");
    assert_eq!(after.reactions[0].agent_ids, [agent("a"), agent("b"), agent("c")]);
}

#[tokio::test]
async fn adding_a_reaction_twice_is_a_repeat_without_event() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    let before = head(&hub).await;
    hub.add_reaction(&agent("a"), m.id, "heart").await.unwrap();
    assert_eq!(event_types_since(&hub, before).await, ["reaction_added"]);
    let seq = head(&hub).await;
    let again = hub.add_reaction(&agent("a"), m.id, "\u{2764}").await.unwrap();
    assert_eq!(head(&hub).await, seq);
    assert_eq!(again.reactions[0].count, 1);
}

#[tokio::test]
async fn removing_a_reaction_that_is_not_there_is_a_repeat() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    let before = head(&hub).await;
    assert!(hub.remove_reaction(&agent("a"), m.id, "smile").await.is_ok());
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn emoji_keep_the_order_of_first_use_and_lose_their_place_when_emptied() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.add_reaction(&agent("a"), m.id, "smile").await.unwrap();
    hub.add_reaction(&agent("a"), m.id, "heart").await.unwrap();
    hub.add_reaction(&agent("b"), m.id, "smile").await.unwrap();
    // a's smile goes, b's stays: smile keeps its place.
    let kept = hub.remove_reaction(&agent("a"), m.id, "smile").await.unwrap();
    let order: Vec<_> = kept.reactions.iter().map(|r| r.emoji.to_string()).collect();
    assert_eq!(order, ["😄", "❤\u{fe0f}"]);
    // The last smile goes: it loses its place, and comes back last.
    hub.remove_reaction(&agent("b"), m.id, "smile").await.unwrap();
    let back = hub.add_reaction(&agent("b"), m.id, "smile").await.unwrap();
    let order: Vec<_> = back.reactions.iter().map(|r| r.emoji.to_string()).collect();
    assert_eq!(order, ["❤\u{fe0f}", "😄"]);
}

#[tokio::test]
async fn reaction_changes_move_tm_update_and_emit_their_events() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    let before = head(&hub).await;
    let added = hub.add_reaction(&agent("a"), m.id, "tada").await.unwrap();
    assert!(added.tm_update > m.tm_update);
    let removed = hub.remove_reaction(&agent("a"), m.id, ":tada:").await.unwrap();
    assert!(removed.tm_update > added.tm_update);
    assert!(removed.reactions.is_empty());
    assert_eq!(event_types_since(&hub, before).await, ["reaction_added", "reaction_removed"]);
}

#[tokio::test]
async fn anything_but_an_emoji_is_invalid_emoji() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    for bad in ["", "hello", ":nope:", "👍👍"] {
        assert_eq!(code(hub.add_reaction(&agent("a"), m.id, bad).await), "invalid_emoji", "{bad:?}");
    }
    assert_eq!(code(hub.add_reaction(&agent("z"), m.id, "bad").await), "invalid_emoji", "syntax answers first");
}

#[tokio::test]
async fn reacting_in_a_closed_talk_is_talk_closed_but_a_repeat_answers_ok() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.add_reaction(&agent("a"), m.id, "eyes").await.unwrap();
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.add_reaction(&agent("a"), m.id, "rocket").await), "talk_closed");
    assert_eq!(code(hub.remove_reaction(&agent("a"), m.id, "eyes").await), "talk_closed");
    assert!(hub.add_reaction(&agent("a"), m.id, "eyes").await.is_ok());
    assert!(hub.remove_reaction(&agent("a"), m.id, "rocket").await.is_ok());
}

#[tokio::test]
async fn reacting_to_a_deleted_message_is_message_deleted() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.delete_message(&agent("a"), m.id).await.unwrap();
    assert_eq!(code(hub.add_reaction(&agent("a"), m.id, "eyes").await), "message_deleted");
}

#[tokio::test]
async fn distinct_emoji_limit_is_limit_exceeded_but_known_emoji_still_count() {
    let mut limits = Limits::default();
    limits.distinct_emoji_per_message_max = 2;
    let hub = hub_with(limits);
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.add_reaction(&agent("a"), m.id, "eyes").await.unwrap();
    hub.add_reaction(&agent("a"), m.id, "rocket").await.unwrap();
    assert_eq!(code(hub.add_reaction(&agent("a"), m.id, "tada").await), "limit_exceeded");
    assert!(hub.add_reaction(&agent("b"), m.id, "eyes").await.is_ok());
}

#[tokio::test]
async fn reactors_are_listed_in_order_and_inline_lists_stop_at_the_limit() {
    let mut limits = Limits::default();
    limits.reactors_listed_per_emoji = 2;
    let hub = hub_with(limits);
    let talk = group(&hub, "a", &["b", "c", "d"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    for who in ["c", "a", "d", "b"] {
        hub.add_reaction(&agent(who), m.id, "thumbsup").await.unwrap();
    }
    let message = hub.message(&agent("a"), m.id).await.unwrap();
    assert_eq!(message.reactions[0].count, 4);
    assert_eq!(message.reactions[0].agent_ids, [agent("c"), agent("a")]);
    let mut seen = Vec::new();
    let mut request = PageRequest::of_size(3);
    loop {
        let page = hub.reactions(&agent("a"), m.id, "+1", &request).await.unwrap();
        seen.extend(page.items.iter().map(|r| r.agent_id.to_string()));
        if !page.has_more() {
            break;
        }
        request = request.after(&page);
    }
    assert_eq!(seen, ["c", "a", "d", "b"]);
}

#[tokio::test]
async fn repeats_are_found_beyond_the_reactors_a_summary_lists() {
    let mut limits = Limits::default();
    limits.reactors_listed_per_emoji = 1;
    let hub = hub_with(limits);
    let talk = group(&hub, "a", &["b", "c"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.add_reaction(&agent("a"), m.id, "👍").await.unwrap();
    hub.add_reaction(&agent("b"), m.id, "👍").await.unwrap();
    // b is not among the reactors listed (only a is): the repeat is found anyway.
    let seq = head(&hub).await;
    let again = hub.add_reaction(&agent("b"), m.id, "+1").await.unwrap();
    assert_eq!(head(&hub).await, seq, "a repeat adds no event");
    assert_eq!((again.reactions[0].count, again.reactions[0].agent_ids.clone()), (2, vec![agent("a")]));
    // c never reacted: removing is a repeat; b's removal is a change.
    hub.remove_reaction(&agent("c"), m.id, "👍").await.unwrap();
    assert_eq!(head(&hub).await, seq, "removing what is not there adds no event");
    let after = hub.remove_reaction(&agent("b"), m.id, "👍").await.unwrap();
    assert_eq!(event_types_since(&hub, seq).await, ["reaction_removed"]);
    assert_eq!(after.reactions[0].count, 1);
}
