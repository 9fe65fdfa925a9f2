//! Participant rules: add, leave, remove, repeats, records never reactivated.

mod common;

use common::*;
use talk_core::{
    LeftReason, Limits, PageRequest, ParticipantFilter, ParticipantId, ParticipantRef, ParticipantStatus, Store,
    TalkStatus,
};

async fn record_of(hub: &talk_core::Hub, talk: talk_core::TalkId, who: &str) -> ParticipantId {
    let page = hub
        .participants(&agent("a"), talk, ParticipantFilter::Active, &PageRequest::first())
        .await
        .expect("list participants");
    page.items.iter().find(|p| p.agent_id == agent(who)).expect("active record").id
}

#[tokio::test]
async fn adding_an_agent_emits_joined_and_a_system_message() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    let added = hub.add_participant(&agent("a"), talk.id, &agent("b")).await.unwrap();
    assert_eq!(added.status, ParticipantStatus::Active);
    assert_eq!(added.joined_seq, before + 1);
    assert_eq!(event_types_since(&hub, before).await, ["participant_joined", "message_created"]);
    let talk = hub.talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(talk.member_count, 2);
    let system = main_view(&hub, "a", talk.id).await.remove(0).system.unwrap();
    assert_eq!(system.event, talk_core::SystemEvent::ParticipantJoined);
    assert_eq!(system.agent_id, agent("b"));
    assert_eq!(system.actor_id, Some(agent("a")));
}

#[tokio::test]
async fn adding_an_active_agent_is_already_participant() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let before = head(&hub).await;
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("b")).await), "already_participant");
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn adding_to_a_closed_talk_is_talk_closed_before_already_participant() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("b")).await), "talk_closed");
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("c")).await), "talk_closed");
}

#[tokio::test]
async fn direct_talk_takes_back_only_its_own_other_agent() {
    let hub = hub();
    let talk = direct(&hub, "a", "b").await.resource;
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("c")).await), "direct_talk_full");
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("b")).await), "already_participant");
    let b = record_of(&hub, talk.id, "b").await;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    assert!(hub.add_participant(&agent("a"), talk.id, &agent("b")).await.is_ok());
}

#[tokio::test]
async fn participant_limit_on_add_is_limit_exceeded() {
    let mut limits = Limits::default();
    limits.participants_per_talk_max = 2;
    let hub = hub_with(limits);
    let talk = group(&hub, "a", &["b"]).await;
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("c")).await), "limit_exceeded");
}

#[tokio::test]
async fn unknown_agent_on_add_answers_after_the_state_checks() {
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(talk_store_memory::MemoryStore::new());
    let hub = talk_core::Hub::builder(store)
        .directory(std::sync::Arc::new(talk_core::StaticDirectory::new([agent("a"), agent("b")])))
        .build();
    let talk = group(&hub, "a", &[]).await;
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("ghost")).await), "unknown_agent");
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.add_participant(&agent("a"), talk.id, &agent("ghost")).await), "talk_closed");
}

#[tokio::test]
async fn readding_an_agent_makes_a_new_record_and_keeps_the_old_one() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let old = record_of(&hub, talk.id, "b").await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    let new = hub.add_participant(&agent("a"), talk.id, &agent("b")).await.unwrap();
    assert_ne!(new.id, old);
    let all = hub.participants(&agent("a"), talk.id, ParticipantFilter::All, &PageRequest::first()).await.unwrap();
    let b_records: Vec<_> = all.items.iter().filter(|p| p.agent_id == agent("b")).collect();
    assert_eq!(b_records.len(), 2);
    assert_eq!(b_records[0].status, ParticipantStatus::Left);
    assert_eq!(b_records[1].status, ParticipantStatus::Active);
    let left = hub.participants(&agent("a"), talk.id, ParticipantFilter::Left, &PageRequest::first()).await.unwrap();
    assert_eq!(left.items.iter().map(|p| p.id).collect::<Vec<_>>(), [old]);
}

#[tokio::test]
async fn removing_another_sets_reason_removed_and_leaving_sets_left() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let b = record_of(&hub, talk.id, "b").await;
    let removed = hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    assert_eq!((removed.status, removed.left_reason), (ParticipantStatus::Left, Some(LeftReason::Removed)));
    assert!(removed.tm_left.is_some());
    let left = hub.remove_participant(&agent("c"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(left.left_reason, Some(LeftReason::Left));
    assert_eq!(left.left_seq, Some(head(&hub).await));
}

#[tokio::test]
async fn repeat_leave_answers_ok_without_event() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let first = hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    let before = head(&hub).await;
    let by_me = hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    let by_id = hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Id(first.id)).await.unwrap();
    assert_eq!(by_me, first);
    assert_eq!(by_id, first);
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn removing_an_already_removed_record_is_a_repeat() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let b = record_of(&hub, talk.id, "b").await;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    let before = head(&hub).await;
    assert!(hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.is_ok());
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn a_record_of_another_talk_is_not_found() {
    let hub = hub();
    let t1 = group(&hub, "a", &["b"]).await;
    let t2 = group(&hub, "a", &[]).await;
    let b = record_of(&hub, t1.id, "b").await;
    assert_eq!(code(hub.remove_participant(&agent("a"), t2.id, ParticipantRef::Id(b)).await), "not_found");
    let missing = ParticipantRef::Id(ParticipantId(uuid::Uuid::now_v7()));
    assert_eq!(code(hub.remove_participant(&agent("a"), t1.id, missing).await), "not_found");
}

#[tokio::test]
async fn former_participant_cannot_remove_others_and_strangers_see_not_found() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    let c = record_of(&hub, talk.id, "c").await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(code(hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Id(c)).await), "not_participant");
    assert_eq!(code(hub.remove_participant(&agent("z"), talk.id, ParticipantRef::Id(c)).await), "not_found");
    assert_eq!(code(hub.remove_participant(&agent("z"), talk.id, ParticipantRef::Me).await), "not_found");
}

#[tokio::test]
async fn leaving_a_closed_talk_is_allowed_and_removing_another_is_talk_closed() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c"]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let c = record_of(&hub, talk.id, "c").await;
    assert_eq!(code(hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(c)).await), "talk_closed");
    assert!(hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.is_ok());
    assert_eq!(hub.talk(&agent("a"), talk.id).await.unwrap().status, TalkStatus::Closed);
}

#[tokio::test]
async fn removal_system_message_names_who_removed_whom() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let b = record_of(&hub, talk.id, "b").await;
    let before = head(&hub).await;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    assert_eq!(event_types_since(&hub, before).await, ["message_created", "participant_left"]);
    let info = main_view(&hub, "a", talk.id).await.remove(0).system.unwrap();
    assert_eq!(info.event, talk_core::SystemEvent::ParticipantRemoved);
    assert_eq!(info.agent_id, agent("b"));
    assert_eq!(info.actor_id, Some(agent("a")));
}

#[tokio::test]
async fn participant_pages_follow_join_order() {
    let hub = hub();
    let talk = group(&hub, "a", &["b", "c", "d", "e"]).await;
    let mut seen = Vec::new();
    let mut request = PageRequest::of_size(2);
    loop {
        let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::All, &request).await.unwrap();
        seen.extend(page.items.iter().map(|p| p.agent_id.to_string()));
        if !page.has_more() {
            break;
        }
        request = request.after(&page);
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
}
