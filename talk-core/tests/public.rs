//! Public talks: the directory, self-join, and what a stranger may read.

mod common;

use common::*;
use talk_core::{
    Hub, Limits, MessageFilter, NewTalk, PageRequest, ParticipantFilter, ParticipantRef, SystemEvent, Talk,
    TalkChanges, TalkKind, TalkStatus,
};

async fn public(hub: &Hub, creator: &str, name: &str) -> Talk {
    let input = NewTalk { kind: TalkKind::Public, name: Some(name.into()), detail: None, participant_ids: vec![] };
    hub.create_talk(&agent(creator), input).await.expect("create a public talk").resource
}

async fn directory(hub: &Hub, q: Option<&str>) -> Vec<String> {
    let page = hub.public_talks(q, &PageRequest::of_size(100)).await.expect("directory");
    page.items.into_iter().map(|t| t.name).collect()
}

#[tokio::test]
async fn public_talk_needs_a_name_and_is_created_like_a_group_talk() {
    let hub = hub();
    let input = NewTalk { kind: TalkKind::Public, name: None, detail: None, participant_ids: vec![agent("b")] };
    assert_eq!(code(hub.create_talk(&agent("a"), input.clone()).await), "invalid_request");
    let empty = NewTalk { name: Some(String::new()), ..input.clone() };
    assert_eq!(code(hub.create_talk(&agent("a"), empty).await), "invalid_request");
    assert_eq!(head(&hub).await, 0);
    let talk = hub.create_talk(&agent("a"), NewTalk { name: Some("general".into()), ..input }).await.unwrap();
    assert!(talk.created);
    assert_eq!((talk.resource.kind, talk.resource.member_count), (TalkKind::Public, 2));
    let unnamed = TalkChanges { name: Some(String::new()), detail: None };
    assert_eq!(code(hub.update_talk(&agent("a"), talk.resource.id, unnamed).await), "invalid_request");
}

#[tokio::test]
async fn public_talk_listed_for_every_agent() {
    let hub = hub();
    let first = public(&hub, "a", "General").await;
    group(&hub, "a", &["b"]).await;
    direct(&hub, "a", "b").await;
    let second = public(&hub, "b", "Random").await;
    // The directory answers the same to every agent: it takes none (the
    // HTTP adapter answers any authenticated one).
    let page = hub.public_talks(None, &PageRequest::first()).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|t| t.id).collect();
    assert_eq!(ids, [second.id, first.id], "newest first, public ones only");
    assert!(!page.has_more());
    assert_eq!(hub.talk(&agent("stranger"), first.id).await.unwrap().id, first.id);
    hub.close_talk(&agent("b"), second.id).await.unwrap();
    assert_eq!(directory(&hub, None).await, ["General"], "a closed talk leaves the directory");
    hub.reopen_talk(&agent("b"), second.id).await.unwrap();
    assert_eq!(directory(&hub, None).await, ["Random", "General"], "and comes back when reopened");
}

#[tokio::test]
async fn directory_q_matches_every_word_as_a_word_or_a_prefix_folded() {
    let hub = hub();
    public(&hub, "a", "Café Society").await;
    public(&hub, "a", "General chat").await;
    public(&hub, "a", "generalists").await;
    public(&hub, "a", "offgeneral").await;
    assert_eq!(directory(&hub, Some("GENERAL")).await, ["generalists", "General chat"]);
    assert_eq!(directory(&hub, Some("gen chat")).await, ["General chat"]);
    assert_eq!(directory(&hub, Some("chat, general!")).await, ["General chat"]);
    assert_eq!(directory(&hub, Some("cafe")).await, ["Café Society"]);
    assert_eq!(directory(&hub, Some("CAFÉ soc")).await, ["Café Society"]);
    assert!(directory(&hub, Some("general nothing")).await.is_empty());
    assert!(directory(&hub, Some("eneral")).await.is_empty(), "inside a word is no match");
    assert_eq!(directory(&hub, Some("--")).await.len(), 4, "a q without words keeps every talk");
    let renamed = public(&hub, "a", "old name").await;
    hub.update_talk(&agent("a"), renamed.id, TalkChanges { name: Some("Nouveau".into()), detail: None }).await.unwrap();
    assert_eq!(directory(&hub, Some("nouveau")).await, ["Nouveau"]);
    assert!(directory(&hub, Some("old")).await.is_empty(), "found by the new name only");
}

#[tokio::test]
async fn directory_q_is_one_to_the_limit_characters() {
    let hub = hub_with(Limits::default());
    assert_eq!(code(hub.public_talks(Some(""), &PageRequest::first()).await), "invalid_request");
    assert_eq!(code(hub.public_talks(Some(&"x".repeat(201)), &PageRequest::first()).await), "invalid_request");
    assert!(hub.public_talks(Some(&"x".repeat(200)), &PageRequest::first()).await.is_ok());
}

#[tokio::test]
async fn directory_pages_never_skip_or_repeat() {
    let hub = hub();
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(public(&hub, "a", &format!("room {i}")).await.id);
        group(&hub, "a", &[]).await;
    }
    made.reverse();
    let request = PageRequest::of_size(3);
    let mut page = hub.public_talks(Some("room"), &request).await.unwrap();
    let mut seen: Vec<_> = page.items.iter().map(|t| t.id).collect();
    // Talks made while paging are newer: they never enter the pages that follow.
    public(&hub, "a", "room new").await;
    while page.has_more() {
        let next = request.after(&page);
        page = hub.public_talks(Some("room"), &next).await.unwrap();
        seen.extend(page.items.iter().map(|t| t.id));
    }
    assert_eq!(seen, made);
    // A token is bound to its q.
    let first = hub.public_talks(Some("room"), &request).await.unwrap();
    let other = request.after(&first);
    assert_eq!(code(hub.public_talks(Some("other"), &other).await), "invalid_request");
    assert_eq!(code(hub.public_talks(None, &other).await), "invalid_request");
    assert!(hub.public_talks(Some("ROOM"), &other).await.is_ok(), "the same words, folded");
}

#[tokio::test]
async fn join_public_talk_emits_joined_and_system_message() {
    let hub = hub();
    let talk = public(&hub, "a", "general").await;
    let since = head(&hub).await;
    let joined = hub.join_talk(&agent("b"), talk.id).await.unwrap();
    assert!(joined.created);
    assert_eq!(joined.resource.agent_id, agent("b"));
    assert!(joined.resource.is_active());
    assert_eq!(event_types_since(&hub, since).await, ["participant_joined", "message_created"]);
    let events = all_events(&hub).await;
    let Some(talk_core::EventData::MessageCreated(message)) = events.last().map(|e| &e.data) else { panic!() };
    let system = message.system.clone().expect("a system message");
    assert_eq!(system.event, SystemEvent::ParticipantJoined);
    assert_eq!((system.agent_id.clone(), system.actor_id.clone()), (agent("b"), Some(agent("b"))));
    assert_eq!(message.text, "b joined the talk.");
    assert_eq!(hub.talk(&agent("b"), talk.id).await.unwrap().member_count, 2);
    // The joined agent reads what participants read.
    assert!(hub.messages(&agent("b"), talk.id, MessageFilter::TopLevel, &PageRequest::first()).await.is_ok());
}

#[tokio::test]
async fn join_repeat_is_200_without_event() {
    let hub = hub();
    let talk = public(&hub, "a", "general").await;
    let first = hub.join_talk(&agent("b"), talk.id).await.unwrap();
    let since = head(&hub).await;
    let again = hub.join_talk(&agent("b"), talk.id).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.resource, first.resource);
    let creator = hub.join_talk(&agent("a"), talk.id).await.unwrap();
    assert!(!creator.created, "the creator is active already");
    assert_eq!(head(&hub).await, since);
}

#[tokio::test]
async fn join_closed_public_talk_is_talk_closed() {
    let hub = hub();
    let talk = public(&hub, "a", "general").await;
    hub.join_talk(&agent("b"), talk.id).await.unwrap();
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let since = head(&hub).await;
    assert_eq!(code(hub.join_talk(&agent("c"), talk.id).await), "talk_closed");
    assert!(!hub.join_talk(&agent("b"), talk.id).await.unwrap().created, "an active one's join is a repeat");
    assert_eq!(head(&hub).await, since);
}

#[tokio::test]
async fn join_group_talk_is_not_found_for_strangers() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let pair = direct(&hub, "a", "b").await.resource;
    let since = head(&hub).await;
    assert_eq!(code(hub.join_talk(&agent("z"), talk.id).await), "not_found");
    assert_eq!(code(hub.join_talk(&agent("z"), pair.id).await), "not_found");
    assert_eq!(code(hub.join_talk(&agent("z"), talk_core::TalkId(uuid::Uuid::now_v7())).await), "not_found");
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    let since_leave = head(&hub).await;
    assert_eq!(code(hub.join_talk(&agent("b"), talk.id).await), "not_participant");
    assert!(!hub.join_talk(&agent("a"), talk.id).await.unwrap().created, "an active participant: a repeat");
    assert_eq!(head(&hub).await, since_leave);
    assert!(since < since_leave);
}

#[tokio::test]
async fn former_participant_of_a_public_talk_joins_again() {
    let hub = hub();
    let talk = public(&hub, "a", "general").await;
    hub.join_talk(&agent("b"), talk.id).await.unwrap();
    let b = hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let record = b.items.iter().find(|p| p.agent_id == agent("b")).unwrap().id;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(record)).await.unwrap();
    let again = hub.join_talk(&agent("b"), talk.id).await.unwrap();
    assert!(again.created);
    assert_ne!(again.resource.id, record, "a new record");
}

#[tokio::test]
async fn join_over_the_participant_limit_is_limit_exceeded() {
    let mut limits = Limits::default();
    limits.participants_per_talk_max = 2;
    let hub = hub_with(limits);
    let talk = public(&hub, "a", "general").await;
    hub.join_talk(&agent("b"), talk.id).await.unwrap();
    assert_eq!(code(hub.join_talk(&agent("c"), talk.id).await), "limit_exceeded");
}

#[tokio::test]
async fn stranger_reads_public_talk_but_not_its_messages() {
    let hub = hub();
    let talk = public(&hub, "a", "general").await;
    let message = send(&hub, "a", talk.id, "hello").await;
    let z = agent("z");
    assert_eq!(hub.talk(&z, talk.id).await.unwrap(), talk);
    assert_eq!(code(hub.messages(&z, talk.id, MessageFilter::TopLevel, &PageRequest::first()).await), "not_found");
    assert_eq!(code(hub.message(&z, message.id).await), "not_found");
    assert_eq!(
        code(hub.participants(&z, talk.id, ParticipantFilter::Active, &PageRequest::first()).await),
        "not_found"
    );
    assert_eq!(code(hub.subscribe(&z, talk_core::Scope::Talk(talk.id), None).await), "not_found");
    assert!(hub.events(&z, 0, &PageRequest::first()).await.unwrap().events.is_empty());
    assert_eq!(code(hub.send_message(&z, talk.id, text("x")).await), "not_found");
    assert_eq!(code(hub.close_talk(&z, talk.id).await), "not_found");
    // After joining, it reads from its join on.
    hub.join_talk(&z, talk.id).await.unwrap();
    let seen = main_view(&hub, "z", talk.id).await;
    assert!(seen.iter().any(|m| m.id == message.id));
    assert_eq!(hub.talk(&z, talk.id).await.unwrap().status, TalkStatus::Active);
}
