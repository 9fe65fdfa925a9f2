//! Rules under concurrent callers: the guards and unique keys make each race
//! end as one of the serial orders would.

mod common;

use std::sync::Arc;

use common::*;
use talk_core::{EventData, MessageId, NewMessage, PageRequest, ParticipantFilter, ParticipantRef, TalkStatus};

const ROUNDS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_agents_creating_one_direct_talk_at_once_get_the_same_talk() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let (h1, h2) = (hub.clone(), hub.clone());
        let one = tokio::spawn(async move { direct(&h1, "a", "b").await });
        let two = tokio::spawn(async move { direct(&h2, "b", "a").await });
        let (one, two) = (one.await.unwrap(), two.await.unwrap());
        assert_eq!(one.resource.id, two.resource.id);
        assert_eq!(u8::from(one.created) + u8::from(two.created), 1, "exactly one call creates it");
        let created = all_events(&hub).await.iter().filter(|e| e.data.type_name() == "talk_created").count();
        assert_eq!(created, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn send_racing_a_close_is_refused_or_lands_before_it() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let talk = group(&hub, "a", &["b"]).await;
        let mut senders = Vec::new();
        for i in 0..8 {
            let hub = hub.clone();
            senders.push(tokio::spawn(
                async move { hub.send_message(&agent("b"), talk.id, text(&format!("m{i}"))).await },
            ));
        }
        let closer = {
            let hub = hub.clone();
            tokio::spawn(async move { hub.close_talk(&agent("a"), talk.id).await })
        };
        let closed = closer.await.unwrap().unwrap();
        assert_eq!(closed.status, TalkStatus::Closed);
        let events = all_events(&hub).await;
        let close_seq = events.iter().find(|e| e.data.type_name() == "talk_closed").unwrap().seq;
        for sender in senders {
            match sender.await.unwrap() {
                Ok(sent) => assert!(sent.resource.seq < close_seq, "a send landed after the close"),
                Err(error) => assert_eq!(error.code(), "talk_closed"),
            }
        }
        let late = events
            .iter()
            .filter(|e| e.seq > close_seq)
            .filter(|e| matches!(&e.data, EventData::MessageCreated(m) if m.agent_id.is_some()));
        assert_eq!(late.count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn send_racing_own_removal_never_follows_participant_left() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let talk = group(&hub, "a", &["b"]).await;
        let page =
            hub.participants(&agent("a"), talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
        let b = page.items.iter().find(|p| p.agent_id == agent("b")).unwrap().id;
        let sender = {
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..20 {
                    outcomes.push(hub.send_message(&agent("b"), talk.id, text(&format!("m{i}"))).await);
                }
                outcomes
            })
        };
        hub.remove_participant(&agent("a"), talk.id, ParticipantRef::Id(b)).await.unwrap();
        for outcome in sender.await.unwrap() {
            if let Err(error) = outcome {
                assert_eq!(error.code(), "not_participant");
            }
        }
        let events = all_events(&hub).await;
        let left = events
            .iter()
            .find(|e| matches!(&e.data, EventData::ParticipantLeft(p) if p.agent_id == agent("b")))
            .unwrap()
            .seq;
        let after = events
            .iter()
            .filter(|e| e.seq > left)
            .any(|e| matches!(&e.data, EventData::MessageCreated(m) if m.agent_id == Some(agent("b"))));
        assert!(!after, "b's message follows b's participant_left");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reaction_limit_holds_under_concurrent_new_emoji() {
    let hub = hub();
    let limit = hub.limits().distinct_emoji_per_message_max;
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "vote").await;
    let emoji: Vec<&'static str> = emojis::iter().take(limit + 30).map(|e| e.as_str()).collect();
    let mut tasks = Vec::new();
    for e in emoji {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move { hub.add_reaction(&agent("a"), m.id, e).await }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(error) => assert_eq!(error.code(), "limit_exceeded"),
        }
    }
    assert_eq!(accepted, limit);
    assert_eq!(hub.message(&agent("a"), m.id).await.unwrap().reactions.len(), limit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_with_one_client_id_create_one_message() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let talk = group(&hub, "a", &[]).await;
        let id = MessageId(uuid::Uuid::now_v7());
        let request = NewMessage { id: Some(id), ..text("exactly once") };
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (hub, request) = (hub.clone(), request.clone());
            tasks.push(tokio::spawn(async move { hub.send_message(&agent("a"), talk.id, request).await }));
        }
        let mut created = 0;
        for task in tasks {
            let sent = task.await.unwrap().unwrap();
            assert_eq!(sent.resource.id, id);
            created += usize::from(sent.created);
        }
        assert_eq!(created, 1);
        let count = all_events(&hub).await.iter().filter(|e| e.data.type_name() == "message_created").count();
        assert_eq!(count, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_of_one_agent_make_one_active_record() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let talk = group(&hub, "a", &["b"]).await;
        let mut tasks = Vec::new();
        for adder in ["a", "b", "a", "b"] {
            let hub = hub.clone();
            tasks.push(tokio::spawn(async move { hub.add_participant(&agent(adder), talk.id, &agent("c")).await }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(error) => assert_eq!(error.code(), "already_participant"),
            }
        }
        assert_eq!(ok, 1);
        assert_eq!(hub.talk(&agent("a"), talk.id).await.unwrap().member_count, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_never_conflict_and_all_land() {
    let hub = Arc::new(hub());
    let talk = group(&hub, "a", &["b", "c", "d"]).await;
    let mut tasks = Vec::new();
    for who in ["a", "b", "c", "d"] {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                hub.send_message(&agent(who), talk.id, text(&format!("{who}{i}"))).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let events = all_events(&hub).await;
    assert_eq!(events.iter().filter(|e| e.data.type_name() == "message_created").count(), 200);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "the log has no hole");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn last_two_participants_leaving_at_once_close_the_talk_once() {
    for _ in 0..ROUNDS {
        let hub = hub();
        let talk = group(&hub, "a", &["b"]).await;
        let (h1, h2) = (hub.clone(), hub.clone());
        let one = tokio::spawn(async move { h1.remove_participant(&agent("a"), talk.id, ParticipantRef::Me).await });
        let two = tokio::spawn(async move { h2.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await });
        one.await.unwrap().unwrap();
        two.await.unwrap().unwrap();
        let closes = all_events(&hub).await.iter().filter(|e| e.data.type_name() == "talk_closed").count();
        assert_eq!(closes, 1);
        assert_eq!(hub.talk(&agent("a"), talk.id).await.unwrap().member_count, 0);
    }
}
