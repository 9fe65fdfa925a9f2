//! Read state: markers, unread and mention counts, read receipts.

mod common;

use std::sync::Arc;

use common::*;
use talk_core::{
    EventData, Hub, Limits, ManualClock, MessageEdit, NewMessage, PageRequest, ParticipantRef, ReadCounts,
    ReceiptAudience, StaticDirectory, Store, TalkId,
};
use talk_store_memory::MemoryStore;

/// The counts of `who` in `talk`, as the single talk shows them.
async fn counts(hub: &Hub, who: &str, talk: TalkId) -> Option<ReadCounts> {
    hub.talk_with_counts(&agent(who), talk).await.expect("talk").counts
}

fn unread(unread_count: u64, mention_count: u64) -> Option<ReadCounts> {
    Some(ReadCounts { unread_count, mention_count })
}

fn mentioning(body: &str, who: &[&str]) -> NewMessage {
    NewMessage { text: body.into(), mentions: who.iter().map(|a| agent(a)).collect(), ..NewMessage::default() }
}

#[tokio::test]
async fn unread_counts_other_agents_normal_messages_after_marker() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    assert_eq!(counts(&hub, "b", talk.id).await, unread(0, 0), "system messages never count");
    send(&hub, "a", talk.id, "one").await;
    let two = send(&hub, "a", talk.id, "two").await;
    hub.send_message(&agent("a"), talk.id, NewMessage { parent_id: Some(two.id), ..text("a reply") }).await.unwrap();
    hub.add_participant(&agent("a"), talk.id, &agent("c")).await.unwrap();
    assert_eq!(counts(&hub, "b", talk.id).await, unread(3, 0), "replies count, system messages do not");
    assert_eq!(counts(&hub, "a", talk.id).await, unread(0, 0), "one's own messages never count");
    assert_eq!(counts(&hub, "c", talk.id).await, unread(0, 0), "a new record starts at its join");
    hub.mark_read(&agent("b"), talk.id, Some(two.id)).await.unwrap();
    assert_eq!(counts(&hub, "b", talk.id).await, unread(1, 0), "only what is above the marker");
    let totals = hub.unread_totals(&agent("b")).await.unwrap();
    assert_eq!((totals.talks, totals.messages, totals.mentions), (1, 1, 0));
}

#[tokio::test]
async fn own_send_marks_read() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    send(&hub, "a", talk.id, "one").await;
    send(&hub, "a", talk.id, "two").await;
    assert_eq!(counts(&hub, "b", talk.id).await, unread(2, 0));
    let before = head(&hub).await;
    let mine = send(&hub, "b", talk.id, "an answer").await;
    assert_eq!(event_types_since(&hub, before).await, ["message_created"], "no talk_read for a send");
    assert_eq!(counts(&hub, "b", talk.id).await, unread(0, 0));
    let states = hub.read_states(&agent("a"), talk.id, &PageRequest::first()).await.unwrap().items;
    let b = states.iter().find(|s| s.agent_id == agent("b")).expect("b's state");
    assert_eq!((b.last_read_seq, b.last_read_message_id), (mine.seq, Some(mine.id)));
    assert_eq!(b.counts, None, "read receipts carry no counts");
}

#[tokio::test]
async fn mark_read_is_forward_only_repeat_is_200_without_event() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let one = send(&hub, "a", talk.id, "one").await;
    let two = send(&hub, "a", talk.id, "two").await;
    let state = hub.mark_read(&agent("b"), talk.id, None).await.unwrap();
    assert_eq!((state.last_read_seq, state.last_read_message_id), (two.seq, Some(two.id)), "default: the newest");
    assert_eq!(state.counts, unread(0, 0));
    let before = head(&hub).await;
    let again = hub.mark_read(&agent("b"), talk.id, Some(one.id)).await.unwrap();
    assert_eq!(again.last_read_seq, two.seq, "read never moves a marker back");
    let same = hub.mark_read(&agent("b"), talk.id, None).await.unwrap();
    assert_eq!(same, state, "a repeat answers the state as it is");
    assert_eq!(head(&hub).await, before, "repeats emit nothing");
}

#[tokio::test]
async fn mark_unread_moves_back_and_emits_talk_read() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let one = send(&hub, "a", talk.id, "one").await;
    send(&hub, "a", talk.id, "two").await;
    hub.mark_read(&agent("b"), talk.id, None).await.unwrap();
    let before = head(&hub).await;
    let state = hub.mark_unread(&agent("b"), talk.id, one.id).await.unwrap();
    assert_eq!(state.last_read_seq, one.seq - 1);
    assert_eq!(state.counts, unread(2, 0));
    let log = hub.store.events(before, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    let EventData::TalkRead(receipt) = &log[0].data else { panic!("expected talk_read, got {:?}", log[0].data) };
    assert_eq!((receipt.agent_id.clone(), receipt.last_read_seq), (agent("b"), one.seq - 1));
    assert_eq!(receipt.audience, ReceiptAudience::Talk);
    let repeat = hub.mark_unread(&agent("b"), talk.id, one.id).await.unwrap();
    assert_eq!(repeat.last_read_seq, state.last_read_seq);
    assert_eq!(head(&hub).await, log[0].seq, "a marker already there is a repeat");
}

#[tokio::test]
async fn mark_unread_never_goes_below_the_join_and_refuses_another_talks_message() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let early = send(&hub, "a", talk.id, "before b came").await;
    let joined = hub.add_participant(&agent("a"), talk.id, &agent("b")).await.unwrap();
    let state = hub.mark_unread(&agent("b"), talk.id, early.id).await.unwrap();
    assert_eq!(state.last_read_seq, joined.seq, "the marker stays at b's own join");
    let other = group(&hub, "b", &[]).await;
    let foreign = send(&hub, "b", other.id, "elsewhere").await;
    assert_eq!(code(hub.mark_unread(&agent("b"), talk.id, foreign.id).await), "invalid_request");
    assert_eq!(code(hub.mark_read(&agent("b"), talk.id, Some(foreign.id)).await), "invalid_request");
    assert_eq!(code(hub.mark_read(&agent("z"), talk.id, None).await), "not_found");
}

#[tokio::test]
async fn deleted_unread_message_leaves_the_count() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let gone = hub.send_message(&agent("a"), talk.id, mentioning("hey @b", &["b"])).await.unwrap().resource;
    send(&hub, "a", talk.id, "stays").await;
    assert_eq!(counts(&hub, "b", talk.id).await, unread(2, 1));
    hub.delete_message(&agent("a"), gone.id).await.unwrap();
    assert_eq!(counts(&hub, "b", talk.id).await, unread(1, 0));
    let tombstone = hub.message(&agent("b"), gone.id).await.unwrap();
    assert!(tombstone.mentions.is_empty(), "a delete empties the mentions");
    let created = &all_events(&hub).await.into_iter().find(|e| e.seq == gone.seq).unwrap().data;
    let EventData::MessageCreated(earlier) = created else { panic!("message_created") };
    assert!(earlier.mentions.is_empty(), "also in earlier event payloads");
}

#[tokio::test]
async fn edit_removing_mention_lowers_mention_count() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let m = hub.send_message(&agent("a"), talk.id, mentioning("hi", &["b", "c", "b"])).await.unwrap().resource;
    assert_eq!(m.mentions, [agent("b"), agent("c")], "duplicates merged");
    assert_eq!(counts(&hub, "b", talk.id).await, unread(1, 1));
    let kept = hub.edit_message(&agent("a"), m.id, "hi again".into()).await.unwrap();
    assert_eq!(kept.mentions, m.mentions, "an edit without mentions keeps them");
    let edit = MessageEdit { text: "hi c".into(), mentions: Some(vec![agent("c")]) };
    hub.edit_message_with(&agent("a"), m.id, edit).await.unwrap();
    assert_eq!(counts(&hub, "b", talk.id).await, unread(1, 0));
    assert_eq!(counts(&hub, "c", talk.id).await, unread(1, 1));
    let totals = hub.unread_totals(&agent("c")).await.unwrap();
    assert_eq!(totals.mentions, 1);
}

#[tokio::test]
async fn mentions_are_checked_against_the_directory_and_limited() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let directory = StaticDirectory::new(["a", "b"].map(agent));
    let hub = Hub::builder(store).clock(Arc::new(ManualClock::default())).directory(Arc::new(directory)).build();
    let talk = group(&hub, "a", &["b"]).await;
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, mentioning("x", &["nobody"])).await), "unknown_agent");
    let many: Vec<String> = (0..51).map(|i| format!("agent-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, mentioning("x", &many)).await), "invalid_request");
    let m = send(&hub, "a", talk.id, "plain").await;
    let edit = MessageEdit { text: "x".into(), mentions: Some(vec![agent("nobody")]) };
    assert_eq!(code(hub.edit_message_with(&agent("a"), m.id, edit).await), "unknown_agent");
    assert_eq!(head_of(&hub).await, m.seq, "nothing written");
}

async fn head_of(hub: &Hub) -> u64 {
    hub.events(&agent("a"), 0, &PageRequest::of_size(100)).await.expect("a's events").next_since
}

#[tokio::test]
async fn a_client_chosen_id_compares_mentions_as_a_set() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let id = Some(talk_core::MessageId::from_uuid(uuid_v7()));
    let first = NewMessage { id, ..mentioning("x", &["b", "c"]) };
    assert!(hub.send_message(&agent("a"), talk.id, first).await.unwrap().created);
    let same = NewMessage { id, ..mentioning("x", &["c", "b", "b"]) };
    assert!(!hub.send_message(&agent("a"), talk.id, same).await.unwrap().created);
    let other = NewMessage { id, ..mentioning("x", &["c"]) };
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, other).await), "id_conflict");
}

fn uuid_v7() -> uuid::Uuid {
    use talk_core::IdGenerator;
    talk_core::UuidV7Generator.new_uuid()
}

#[tokio::test]
async fn left_participant_counts_freeze_at_leave() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    send(&hub, "a", talk.id, "one").await;
    let left = hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    send(&hub, "a", talk.id, "after b left").await;
    assert_eq!(counts(&hub, "b", talk.id).await, None, "no counts without an active record");
    let marker = hub.store.read_marker(left.id).await.unwrap().expect("the marker stays");
    assert!(marker.read_seq < left.left_seq.unwrap(), "frozen where it was: the leave moved nothing");
    assert_eq!(code(hub.mark_read(&agent("b"), talk.id, None).await), "not_participant");
    let totals = hub.unread_totals(&agent("b")).await.unwrap();
    assert_eq!((totals.talks, totals.messages), (0, 0), "a left talk is in no total");
    let list = hub.talks_with_counts(&agent("b"), None, &PageRequest::first()).await.unwrap();
    assert!(list.items.is_empty());
    let states = hub.read_states(&agent("a"), talk.id, &PageRequest::first()).await.unwrap().items;
    assert!(states.iter().all(|s| s.agent_id != agent("b")), "receipts list active records only");
}

#[tokio::test]
async fn readded_participant_starts_at_new_join() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    send(&hub, "a", talk.id, "one").await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    send(&hub, "a", talk.id, "while b was away").await;
    let back = hub.add_participant(&agent("a"), talk.id, &agent("b")).await.unwrap();
    assert_eq!(counts(&hub, "b", talk.id).await, unread(0, 0));
    let states = hub.read_states(&agent("b"), talk.id, &PageRequest::first()).await.unwrap().items;
    let b = states.iter().find(|s| s.agent_id == agent("b")).expect("b's state");
    assert_eq!(b.last_read_seq, back.seq);
    send(&hub, "a", talk.id, "welcome back").await;
    assert_eq!(counts(&hub, "b", talk.id).await, unread(1, 0));
}

#[tokio::test]
async fn talk_read_reaches_only_the_reader_in_a_large_talk() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut limits = Limits::default();
    limits.read_receipts_participants_max = 2;
    let hub = Hub::builder(store).clock(Arc::new(ManualClock::default())).limits(limits).build();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let m = send(&hub, "a", talk.id, "one").await;
    hub.mark_read(&agent("b"), talk.id, Some(m.id)).await.unwrap();
    let seen = |who: &'static str| {
        let hub = hub.clone();
        async move {
            let page = hub.events(&agent(who), m.seq, &PageRequest::of_size(100)).await.unwrap();
            page.events.iter().filter(|e| matches!(e.data, EventData::TalkRead(_))).count()
        }
    };
    assert_eq!(seen("b").await, 1, "the reader's own devices");
    assert_eq!(seen("a").await, 0, "not the others in a talk over the limit");
}

#[tokio::test]
async fn read_states_page_in_join_order() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let first = hub.read_states(&agent("a"), talk.id, &PageRequest::of_size(2)).await.unwrap();
    assert_eq!(first.items.iter().map(|s| s.agent_id.clone()).collect::<Vec<_>>(), [agent("a"), agent("b")]);
    let second = hub.read_states(&agent("a"), talk.id, &PageRequest::of_size(2).after(&first)).await.unwrap();
    assert_eq!(second.items.iter().map(|s| s.agent_id.clone()).collect::<Vec<_>>(), [agent("c")]);
    assert!(!second.has_more());
}

#[tokio::test]
async fn read_and_unread_work_on_a_closed_talk() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "one").await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let state = hub.mark_read(&agent("b"), talk.id, Some(m.id)).await.unwrap();
    assert_eq!(state.last_read_seq, m.seq);
    assert!(hub.mark_unread(&agent("b"), talk.id, m.id).await.is_ok());
}
