//! Talk rules: creation, direct talks, listing, rename, close, reopen, auto-close.

mod common;

use common::*;
use talk_core::{
    Limits, MessageFilter, NewTalk, PageRequest, ParticipantFilter, ParticipantRef, StaticDirectory, Store,
    TalkChanges, TalkKind, TalkStatus,
};

#[tokio::test]
async fn creating_a_group_talk_joins_the_creator_then_each_listed_agent_in_order() {
    let hub = hub();
    let talk = group(&hub, "a", &["c", "b", "a", "c"]).await;
    assert_eq!(talk.member_count, 3);
    assert_eq!(talk.creator_id, agent("a"));
    let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let agents: Vec<_> = page.items.iter().map(|p| p.agent_id.as_str().to_owned()).collect();
    assert_eq!(agents, ["a", "c", "b"]);
    assert_eq!(
        event_types_since(&hub, 0).await,
        ["talk_created", "participant_joined", "participant_joined", "participant_joined"]
    );
}

#[tokio::test]
async fn initial_participants_span_from_talk_created() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::All, &PageRequest::first()).await.unwrap();
    for p in &page.items {
        assert_eq!(p.joined_seq, talk.created_seq, "{p:?}");
    }
    assert!(page.items[0].seq < page.items[1].seq);
}

#[tokio::test]
async fn group_talk_needs_a_name() {
    let hub = hub();
    let input = NewTalk { kind: TalkKind::Group, name: None, detail: None, participant_ids: vec![] };
    assert_eq!(code(hub.create_talk(&agent("a"), input.clone()).await), "invalid_request");
    let empty = NewTalk { name: Some(String::new()), ..input.clone() };
    assert_eq!(code(hub.create_talk(&agent("a"), empty).await), "invalid_request");
    let long = NewTalk { name: Some("x".repeat(201)), ..input };
    assert_eq!(code(hub.create_talk(&agent("a"), long).await), "invalid_request");
    assert_eq!(head(&hub).await, 0);
}

#[tokio::test]
async fn direct_talk_needs_exactly_one_other_agent() {
    let hub = hub();
    for others in [vec![], vec![agent("a")], vec![agent("b"), agent("c")]] {
        let input = NewTalk { kind: TalkKind::Direct, name: None, detail: None, participant_ids: others };
        assert_eq!(code(hub.create_talk(&agent("a"), input).await), "invalid_request");
    }
    assert_eq!(head(&hub).await, 0);
}

#[tokio::test]
async fn direct_talk_is_one_per_pair_and_found_from_either_side() {
    let hub = hub();
    let first = direct(&hub, "a", "b").await;
    assert!(first.created);
    let again = direct(&hub, "b", "a").await;
    assert!(!again.created);
    assert_eq!(again.resource.id, first.resource.id);
    assert_eq!(head(&hub).await, 3, "finding an intact direct talk emits nothing");
}

#[tokio::test]
async fn direct_talk_found_closed_is_reopened_and_both_agents_readded() {
    let hub = hub();
    let talk = direct(&hub, "a", "b").await.resource;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(hub.talk(&agent("a"), talk.id).await.unwrap().status, TalkStatus::Closed);
    let before = head(&hub).await;
    let found = direct(&hub, "b", "a").await;
    assert!(!found.created);
    assert_eq!(found.resource.status, TalkStatus::Active);
    assert_eq!(found.resource.member_count, 2);
    let events = hub.store.events(before, 100).await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.data.type_name()).collect();
    assert_eq!(
        types,
        [
            "talk_reopened",
            "message_created",
            "participant_joined",
            "message_created",
            "participant_joined",
            "message_created"
        ]
    );
    let joined: Vec<_> = events.iter().filter_map(|e| e.data.participant()).map(|p| p.agent_id.to_string()).collect();
    assert_eq!(joined, ["b", "a"], "the caller first, then the other agent");
}

#[tokio::test]
async fn direct_talk_readds_only_the_agent_that_is_missing() {
    let hub = hub();
    let talk = direct(&hub, "a", "b").await.resource;
    let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let b = page.items.iter().find(|p| p.agent_id == agent("b")).unwrap().id;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    let before = head(&hub).await;
    let found = direct(&hub, "a", "b").await;
    assert_eq!(found.resource.member_count, 2);
    assert_eq!(event_types_since(&hub, before).await, ["participant_joined", "message_created"]);
}

#[tokio::test]
async fn unknown_agent_is_refused_at_creation_and_nothing_is_written() {
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(talk_store_memory::MemoryStore::new());
    let hub = talk_core::Hub::builder(store.clone())
        .directory(std::sync::Arc::new(StaticDirectory::new([agent("a"), agent("b")])))
        .build();
    let hub = TestHub::new(hub, store);
    let input = NewTalk {
        kind: TalkKind::Group,
        name: Some("n".into()),
        detail: None,
        participant_ids: vec![agent("b"), agent("ghost")],
    };
    assert_eq!(code(hub.create_talk(&agent("a"), input).await), "unknown_agent");
    let direct_input =
        NewTalk { kind: TalkKind::Direct, name: None, detail: None, participant_ids: vec![agent("ghost")] };
    assert_eq!(code(hub.create_talk(&agent("a"), direct_input).await), "unknown_agent");
    assert_eq!(head(&hub).await, 0);
}

#[tokio::test]
async fn participant_limit_counts_the_creator_at_creation_and_answers_before_unknown_agent() {
    let mut limits = Limits::default();
    limits.participants_per_talk_max = 3;
    let hub = hub_with(limits);
    let input = |others: &[&str]| NewTalk {
        kind: TalkKind::Group,
        name: Some("n".into()),
        detail: None,
        participant_ids: others.iter().map(|a| agent(a)).collect(),
    };
    assert!(hub.create_talk(&agent("a"), input(&["b", "c"])).await.is_ok());
    assert_eq!(code(hub.create_talk(&agent("a"), input(&["b", "c", "d"])).await), "limit_exceeded");
}

#[tokio::test]
async fn talks_are_listed_newest_first_for_active_participants_and_filtered_by_status() {
    let hub = hub();
    let t1 = group(&hub, "a", &["b"]).await;
    let t2 = group(&hub, "a", &[]).await;
    let t3 = group(&hub, "b", &["a"]).await;
    hub.close_talk(&agent("a"), t2.id).await.unwrap();
    let a = agent("a");
    let all = hub.talks(&a, None, &PageRequest::first()).await.unwrap();
    assert_eq!(all.items.iter().map(|t| t.id).collect::<Vec<_>>(), [t3.id, t2.id, t1.id]);
    let active = hub.talks(&a, Some(TalkStatus::Active), &PageRequest::first()).await.unwrap();
    assert_eq!(active.items.iter().map(|t| t.id).collect::<Vec<_>>(), [t3.id, t1.id]);
    let closed = hub.talks(&a, Some(TalkStatus::Closed), &PageRequest::first()).await.unwrap();
    assert_eq!(closed.items.iter().map(|t| t.id).collect::<Vec<_>>(), [t2.id]);
    hub.remove_participant(&a, t1.id, ParticipantRef::Me).await.unwrap();
    let after_leaving = hub.talks(&a, None, &PageRequest::first()).await.unwrap();
    assert_eq!(after_leaving.items.iter().map(|t| t.id).collect::<Vec<_>>(), [t3.id, t2.id]);
}

#[tokio::test]
async fn talk_pages_never_skip_or_repeat_and_a_full_last_page_has_no_token() {
    let hub = hub();
    let mut created = Vec::new();
    for _ in 0..6 {
        created.push(group(&hub, "a", &[]).await.id);
    }
    created.reverse();
    let mut seen = Vec::new();
    let mut request = PageRequest::of_size(2);
    loop {
        let page = hub.talks(&agent("a"), None, &request).await.unwrap();
        // A talk created between two pages is newer than every cursor: it never shows up mid-list.
        group(&hub, "a", &[]).await;
        seen.extend(page.items.iter().map(|t| t.id));
        if !page.has_more() {
            break;
        }
        request = request.after(&page);
    }
    assert_eq!(seen, created);
}

#[tokio::test]
async fn page_token_from_another_list_is_invalid_request() {
    let hub = hub();
    for _ in 0..3 {
        group(&hub, "a", &[]).await;
    }
    let page = hub.talks(&agent("a"), None, &PageRequest::of_size(1)).await.unwrap();
    let other_list = PageRequest::of_size(1).after(&page);
    assert_eq!(code(hub.talks(&agent("a"), Some(TalkStatus::Active), &other_list).await), "invalid_request");
    assert_eq!(code(hub.talks(&agent("b"), None, &other_list).await), "invalid_request");
    let forged = PageRequest { size: None, token: Some("not-a-token".into()) };
    assert_eq!(code(hub.talks(&agent("a"), None, &forged).await), "invalid_request");
    assert_eq!(code(hub.talks(&agent("a"), None, &PageRequest::of_size(0)).await), "invalid_request");
    assert_eq!(code(hub.talks(&agent("a"), None, &PageRequest::of_size(101)).await), "invalid_request");
}

#[tokio::test]
async fn a_talk_is_not_found_for_an_agent_that_was_never_in_it() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    assert_eq!(code(hub.talk(&agent("z"), talk.id).await), "not_found");
    assert_eq!(code(hub.close_talk(&agent("z"), talk.id).await), "not_found");
    assert_eq!(code(hub.talk(&agent("a"), talk_core::TalkId(uuid_v7())).await), "not_found");
}

fn uuid_v7() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

#[tokio::test]
async fn former_participant_reads_the_talk_but_nothing_else() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let message = send(&hub, "a", talk.id, "hi").await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    let b = agent("b");
    assert!(hub.talk(&b, talk.id).await.is_ok());
    assert_eq!(
        code(hub.messages(&b, talk.id, MessageFilter::TopLevel, &PageRequest::first()).await),
        "not_participant"
    );
    assert_eq!(code(hub.message(&b, message.id).await), "not_participant");
    assert_eq!(
        code(hub.participants(&b, talk.id, ParticipantFilter::Active, &PageRequest::first()).await),
        "not_participant"
    );
    assert_eq!(code(hub.close_talk(&b, talk.id).await), "not_participant");
    assert_eq!(code(hub.send_message(&b, talk.id, text("x")).await), "not_participant");
}

#[tokio::test]
async fn rename_emits_talk_updated_and_a_renamed_system_message() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    let changes = TalkChanges { name: Some("New".into()), detail: None };
    let renamed = hub.update_talk(&agent("a"), talk.id, changes).await.unwrap();
    assert_eq!(renamed.name, "New");
    assert!(renamed.tm_update > talk.tm_update);
    assert_eq!(event_types_since(&hub, before).await, ["talk_updated", "message_created"]);
    let system = main_view(&hub, "a", talk.id).await.remove(0);
    let info = system.system.unwrap();
    assert_eq!(info.event, talk_core::SystemEvent::TalkRenamed);
    assert_eq!(info.name.as_deref(), Some("New"));
    assert_eq!(system.agent_id, None);
}

#[tokio::test]
async fn detail_change_alone_emits_talk_updated_only() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    let changes = TalkChanges { name: Some(talk.name.clone()), detail: Some("about".into()) };
    hub.update_talk(&agent("a"), talk.id, changes).await.unwrap();
    assert_eq!(event_types_since(&hub, before).await, ["talk_updated"]);
}

#[tokio::test]
async fn update_that_changes_nothing_is_a_repeat_even_on_a_closed_talk() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let before = head(&hub).await;
    let same = TalkChanges { name: Some(talk.name.clone()), detail: Some(String::new()) };
    assert!(hub.update_talk(&agent("a"), talk.id, same).await.is_ok());
    assert_eq!(head(&hub).await, before);
    let rename = TalkChanges { name: Some("other".into()), detail: None };
    assert_eq!(code(hub.update_talk(&agent("a"), talk.id, rename).await), "talk_closed");
    assert_eq!(code(hub.update_talk(&agent("a"), talk.id, TalkChanges::default()).await), "invalid_request");
}

#[tokio::test]
async fn close_twice_answers_ok_without_a_second_event() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let closed = hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(closed.status, TalkStatus::Closed);
    assert!(closed.tm_close.is_some());
    let before = head(&hub).await;
    let again = hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(again.tm_close, closed.tm_close);
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn reopening_an_active_talk_is_a_repeat() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let before = head(&hub).await;
    assert_eq!(hub.reopen_talk(&agent("a"), talk.id).await.unwrap().status, TalkStatus::Active);
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn reopen_clears_tm_close_and_emits_reopened_with_system_message() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let before = head(&hub).await;
    let reopened = hub.reopen_talk(&agent("b"), talk.id).await.unwrap();
    assert_eq!(reopened.status, TalkStatus::Active);
    assert_eq!(reopened.tm_close, None);
    assert_eq!(event_types_since(&hub, before).await, ["talk_reopened", "message_created"]);
}

#[tokio::test]
async fn leaving_last_participant_closes_talk() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    let before = head(&hub).await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(
        event_types_since(&hub, before).await,
        ["message_created", "participant_left", "talk_closed", "message_created"]
    );
    let closed = hub.talk(&agent("b"), talk.id).await.unwrap();
    assert_eq!(closed.status, TalkStatus::Closed);
    assert_eq!(closed.member_count, 0);
    let events = all_events(&hub).await;
    let Some(talk_core::EventData::MessageCreated(last)) = events.last().map(|e| &e.data) else { panic!() };
    let info = last.system.as_ref().unwrap();
    assert_eq!(info.event, talk_core::SystemEvent::TalkClosed);
    assert_eq!(info.actor_id, None, "nobody closed it: the last participant left");
}

#[tokio::test]
async fn last_participant_leaving_a_closed_talk_does_not_close_it_again() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let closed = hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let before = head(&hub).await;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(event_types_since(&hub, before).await, ["message_created", "participant_left"]);
    assert_eq!(hub.talk(&agent("a"), talk.id).await.unwrap().tm_close, closed.tm_close);
}

#[tokio::test]
async fn former_participant_who_left_reopens_an_empty_talk_and_joins_again() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    let before = head(&hub).await;
    let reopened = hub.reopen_talk(&agent("b"), talk.id).await.unwrap();
    assert_eq!(reopened.status, TalkStatus::Active);
    assert_eq!(reopened.member_count, 1);
    assert_eq!(event_types_since(&hub, before).await, ["talk_reopened", "participant_joined", "message_created"]);
    let records = hub.participants(&agent("b"), talk.id, ParticipantFilter::All, &PageRequest::first()).await.unwrap();
    assert_eq!(records.items.len(), 3, "the new record stands beside the old ones");
}

#[tokio::test]
async fn removed_participant_cannot_reopen_empty_talk() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let page = hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let b = page.items.iter().find(|p| p.agent_id == agent("b")).unwrap().id;
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
    hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await.unwrap();
    let before = head(&hub).await;
    assert_eq!(code(hub.reopen_talk(&agent("b"), talk.id).await), "not_participant");
    assert_eq!(head(&hub).await, before);
    assert!(hub.reopen_talk(&agent("a"), talk.id).await.is_ok(), "a left by itself: it may");
}

#[tokio::test]
async fn former_participant_cannot_reopen_a_talk_that_has_active_participants() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.reopen_talk(&agent("b"), talk.id).await), "not_participant");
}
