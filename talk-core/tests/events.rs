//! The events of each command, in their documented order.

mod common;

use common::*;
use talk_core::{NewMessage, PageRequest, ParticipantFilter, ParticipantRef, TalkChanges};

#[tokio::test]
async fn events_of_each_command_come_in_documented_order() {
    let hub = hub();
    let a = agent("a");
    let mut seq = head(&hub).await;
    macro_rules! expect_events {
        ($($kind:literal),* $(,)?) => {{
            let types = event_types_since(&hub, seq).await;
            let expected: Vec<&str> = vec![$($kind),*];
            assert_eq!(types, expected);
            #[allow(unused_assignments)]
            {
                seq = head(&hub).await;
            }
        }};
    }

    let talk = group(&hub, "a", &["b", "c"]).await;
    expect_events!("talk_created", "participant_joined", "participant_joined", "participant_joined");

    hub.add_participant(&a, talk.id, &agent("d")).await.unwrap();
    expect_events!("participant_joined", "message_created");

    hub.remove_participant(&agent("d"), talk.id, ParticipantRef::Me).await.unwrap();
    expect_events!("message_created", "participant_left");

    let page = hub.participants(&a, talk.id, ParticipantFilter::Active, &PageRequest::first()).await.unwrap();
    let c = page.items.iter().find(|p| p.agent_id == agent("c")).unwrap().id;
    hub.remove_participant(&a, talk.id, ParticipantRef::Id(c)).await.unwrap();
    expect_events!("message_created", "participant_left");

    hub.update_talk(&a, talk.id, TalkChanges { name: Some("renamed".into()), detail: None }).await.unwrap();
    expect_events!("talk_updated", "message_created");

    hub.update_talk(&a, talk.id, TalkChanges { name: None, detail: Some("detail".into()) }).await.unwrap();
    expect_events!("talk_updated");

    let m = hub.send_message(&a, talk.id, NewMessage { text: "hi".into(), ..NewMessage::default() }).await.unwrap();
    expect_events!("message_created");

    hub.edit_message(&a, m.resource.id, "hello".into()).await.unwrap();
    expect_events!("message_updated");

    hub.add_reaction(&a, m.resource.id, "+1").await.unwrap();
    expect_events!("reaction_added");

    hub.remove_reaction(&a, m.resource.id, "+1").await.unwrap();
    expect_events!("reaction_removed");

    hub.delete_message(&a, m.resource.id).await.unwrap();
    expect_events!("message_deleted");

    hub.close_talk(&a, talk.id).await.unwrap();
    expect_events!("talk_closed", "message_created");

    hub.reopen_talk(&a, talk.id).await.unwrap();
    expect_events!("talk_reopened", "message_created");

    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    expect_events!("message_created", "participant_left");

    hub.remove_participant(&a, talk.id, ParticipantRef::Me).await.unwrap();
    expect_events!("message_created", "participant_left", "talk_closed", "message_created");

    hub.reopen_talk(&a, talk.id).await.unwrap();
    expect_events!("talk_reopened", "participant_joined", "message_created");

    let d = direct(&hub, "a", "b").await.resource;
    expect_events!("talk_created", "participant_joined", "participant_joined");

    direct(&hub, "b", "a").await;
    expect_events!();

    hub.close_talk(&a, d.id).await.unwrap();
    seq = head(&hub).await;
    direct(&hub, "b", "a").await;
    expect_events!("talk_reopened", "message_created");
}

#[tokio::test]
async fn each_event_belongs_to_its_talk_and_seq_has_no_hole() {
    let hub = hub();
    let t1 = group(&hub, "a", &["b"]).await;
    let t2 = group(&hub, "b", &[]).await;
    send(&hub, "a", t1.id, "x").await;
    send(&hub, "b", t2.id, "y").await;
    let events = all_events(&hub).await;
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1);
    }
    assert!(events.iter().take(3).all(|e| e.talk_id == t1.id));
    assert_eq!(events.last().unwrap().talk_id, t2.id);
}
