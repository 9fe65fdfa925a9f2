//! Message rules: send, threads, client-chosen ids, edit, delete, redaction.

mod common;

use common::*;
use talk_core::{EventData, Media, MessageFilter, MessageId, MessageKind, NewMessage, PageRequest, ParticipantRef};

fn media() -> Media {
    Media {
        media_type: "application/pdf".into(),
        url: "https://example.com/design-doc.pdf".into(),
        name: "design-document.pdf".into(),
    }
}

#[tokio::test]
async fn sending_answers_the_message_with_its_seq() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let sent = hub.send_message(&agent("a"), talk.id, text("hello")).await.unwrap();
    assert!(sent.created);
    let m = sent.resource;
    assert_eq!((m.kind, m.agent_id.clone(), m.text.as_str()), (MessageKind::Normal, Some(agent("a")), "hello"));
    assert_eq!(m.seq, head(&hub).await);
    assert_eq!(hub.message(&agent("a"), m.id).await.unwrap(), m);
}

#[tokio::test]
async fn empty_text_needs_medias() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, text("")).await), "invalid_request");
    let with_media = NewMessage { medias: vec![media()], ..NewMessage::default() };
    assert!(hub.send_message(&agent("a"), talk.id, with_media).await.is_ok());
}

#[tokio::test]
async fn invalid_input_answers_before_visibility() {
    let hub = hub();
    let stranger_talk = group(&hub, "a", &[]).await;
    let long = text(&"x".repeat(4001));
    assert_eq!(code(hub.send_message(&agent("z"), stranger_talk.id, long).await), "invalid_request");
    let bad_media = NewMessage {
        text: "t".into(),
        medias: vec![Media { url: "javascript:alert(1)".into(), ..media() }],
        ..NewMessage::default()
    };
    assert_eq!(code(hub.send_message(&agent("a"), stranger_talk.id, bad_media).await), "invalid_request");
}

#[tokio::test]
async fn sending_to_a_closed_talk_is_talk_closed() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, text("x")).await), "talk_closed");
}

#[tokio::test]
async fn a_reply_counts_on_its_parent_and_threads_are_oldest_first() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let parent = send(&hub, "a", talk.id, "question").await;
    let r1 = hub.send_message(&agent("b"), talk.id, reply("one", parent.id)).await.unwrap().resource;
    let r2 = hub.send_message(&agent("a"), talk.id, reply("two", parent.id)).await.unwrap().resource;
    assert_eq!(hub.message(&agent("a"), parent.id).await.unwrap().reply_count, 2);
    let thread = hub.replies(&agent("a"), parent.id, &PageRequest::first()).await.unwrap();
    assert_eq!(thread.items.iter().map(|m| m.id).collect::<Vec<_>>(), [r1.id, r2.id]);
    let main: Vec<_> = main_view(&hub, "a", talk.id).await.iter().map(|m| m.id).collect();
    assert!(main.contains(&parent.id) && !main.contains(&r1.id), "the main view holds top-level messages only");
    let all = hub.messages(&agent("a"), talk.id, MessageFilter::WithReplies, &PageRequest::first()).await.unwrap();
    assert_eq!(all.items.iter().take(3).map(|m| m.id).collect::<Vec<_>>(), [r2.id, r1.id, parent.id]);
}

#[tokio::test]
async fn reply_to_a_reply_is_invalid_parent() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let parent = send(&hub, "a", talk.id, "p").await;
    let child = hub.send_message(&agent("a"), talk.id, reply("c", parent.id)).await.unwrap().resource;
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, reply("x", child.id)).await), "invalid_parent");
}

#[tokio::test]
async fn parent_in_another_talk_or_missing_is_invalid_parent() {
    let hub = hub();
    let t1 = group(&hub, "a", &[]).await;
    let t2 = group(&hub, "a", &[]).await;
    let elsewhere = send(&hub, "a", t2.id, "p").await;
    assert_eq!(code(hub.send_message(&agent("a"), t1.id, reply("x", elsewhere.id)).await), "invalid_parent");
    let missing = MessageId(uuid::Uuid::now_v7());
    assert_eq!(code(hub.send_message(&agent("a"), t1.id, reply("x", missing)).await), "invalid_parent");
}

#[tokio::test]
async fn replying_to_a_deleted_parent_is_fine() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let parent = send(&hub, "a", talk.id, "p").await;
    hub.delete_message(&agent("a"), parent.id).await.unwrap();
    assert!(hub.send_message(&agent("a"), talk.id, reply("x", parent.id)).await.is_ok());
}

#[tokio::test]
async fn talk_closed_answers_before_invalid_parent() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    let missing = MessageId(uuid::Uuid::now_v7());
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, reply("x", missing)).await), "talk_closed");
}

#[tokio::test]
async fn resending_a_client_id_with_the_same_request_answers_the_stored_message() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let id = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(id), medias: vec![media()], ..text("once") };
    let first = hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    assert!(first.created);
    assert_eq!(first.resource.id, id);
    let before = head(&hub).await;
    let again = hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.resource.id, id);
    assert_eq!(head(&hub).await, before);
    hub.edit_message(&agent("a"), id, "changed".into()).await.unwrap();
    let after_edit = hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    assert!(!after_edit.created, "the request as first sent still matches");
    assert_eq!(after_edit.resource.text, "changed");
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert!(hub.send_message(&agent("a"), talk.id, request).await.is_ok(), "a repeat answers even when closed");
}

#[tokio::test]
async fn any_other_use_of_a_taken_id_is_id_conflict() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let other_talk = group(&hub, "a", &[]).await;
    let id = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(id), ..text("once") };
    hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    let before = head(&hub).await;
    let different_text = NewMessage { text: "twice".into(), ..request.clone() };
    assert_eq!(code(hub.send_message(&agent("a"), talk.id, different_text).await), "id_conflict");
    assert_eq!(code(hub.send_message(&agent("b"), talk.id, request.clone()).await), "id_conflict");
    assert_eq!(code(hub.send_message(&agent("a"), other_talk.id, request).await), "id_conflict");
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn a_deleted_messages_text_and_request_digest_are_gone_from_its_row_and_the_log() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let id = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(id), ..text("meet at the old mill") };
    hub.send_message(&agent("a"), talk.id, request).await.unwrap();
    let digest = hub.store.message(id, 0).await.unwrap().and_then(|m| m.request_digest).expect("a digest in the row");
    let log = serde_json::to_string(&all_events(&hub).await).unwrap();
    assert!(log.contains("meet at the old mill"), "the text is in the log before the delete");
    assert!(!log.contains(&digest), "the digest is never in the log");
    hub.delete_message(&agent("a"), id).await.unwrap();
    let row = hub.store.message(id, 0).await.unwrap().expect("the tombstone");
    assert_eq!((row.text.as_str(), row.request_digest.as_deref()), ("", None), "the row keeps neither");
    let log = serde_json::to_string(&all_events(&hub).await).unwrap();
    assert!(!log.contains("meet at the old mill"), "the log keeps no text");
    assert!(!log.contains(&digest), "nor the digest");
}

#[tokio::test]
async fn resending_a_deleted_messages_id_answers_the_tombstone_whatever_the_body() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let id = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(id), ..text("once") };
    hub.send_message(&agent("a"), talk.id, request.clone()).await.unwrap();
    hub.delete_message(&agent("a"), id).await.unwrap();
    let before = head(&hub).await;
    for body in [request.clone(), NewMessage { id: Some(id), ..text("anything else") }] {
        let again = hub.send_message(&agent("a"), talk.id, body).await.unwrap();
        assert!(!again.created);
        assert!(again.resource.is_deleted(), "the tombstone");
    }
    assert_eq!(head(&hub).await, before, "no event");
    assert_eq!(code(hub.send_message(&agent("b"), talk.id, request).await), "id_conflict", "another sender");
}

#[tokio::test]
async fn editing_sets_tm_edit_and_emits_message_updated() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "draft").await;
    let before = head(&hub).await;
    let edited = hub.edit_message(&agent("a"), m.id, "final".into()).await.unwrap();
    assert_eq!(edited.text, "final");
    assert!(edited.tm_edit.is_some());
    assert!(edited.tm_update > m.tm_update);
    assert_eq!(event_types_since(&hub, before).await, ["message_updated"]);
}

#[tokio::test]
async fn editing_another_agents_or_a_system_message_is_not_author() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "mine").await;
    assert_eq!(code(hub.edit_message(&agent("b"), m.id, "theirs".into()).await), "not_author");
    hub.update_talk(&agent("a"), talk.id, talk_core::TalkChanges { name: Some("x".into()), detail: None })
        .await
        .unwrap();
    let system = main_view(&hub, "a", talk.id).await.remove(0);
    assert_eq!(system.kind, MessageKind::System);
    assert_eq!(code(hub.edit_message(&agent("a"), system.id, "no".into()).await), "not_author");
    assert_eq!(code(hub.delete_message(&agent("a"), system.id).await), "not_author");
}

#[tokio::test]
async fn non_author_edit_in_closed_talk_is_not_author() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "mine").await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert_eq!(code(hub.edit_message(&agent("b"), m.id, "x".into()).await), "not_author");
    assert_eq!(code(hub.edit_message(&agent("a"), m.id, "x".into()).await), "talk_closed");
}

#[tokio::test]
async fn editing_a_deleted_message_is_message_deleted() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.delete_message(&agent("a"), m.id).await.unwrap();
    assert_eq!(code(hub.edit_message(&agent("a"), m.id, "y".into()).await), "message_deleted");
}

#[tokio::test]
async fn editing_to_empty_text_is_refused_unless_the_message_has_medias() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let plain = send(&hub, "a", talk.id, "x").await;
    assert_eq!(code(hub.edit_message(&agent("a"), plain.id, String::new()).await), "invalid_request");
    let with_media = NewMessage { medias: vec![media()], ..text("caption") };
    let m = hub.send_message(&agent("a"), talk.id, with_media).await.unwrap().resource;
    assert!(hub.edit_message(&agent("a"), m.id, String::new()).await.is_ok());
}

#[tokio::test]
async fn deleting_leaves_a_tombstone_without_content_or_reactions() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let parent = NewMessage { medias: vec![media()], ..text("secret") };
    let m = hub.send_message(&agent("a"), talk.id, parent).await.unwrap().resource;
    let child = hub.send_message(&agent("b"), talk.id, reply("r", m.id)).await.unwrap().resource;
    hub.add_reaction(&agent("b"), m.id, "thumbsup").await.unwrap();
    let before = head(&hub).await;
    let tomb = hub.delete_message(&agent("a"), m.id).await.unwrap();
    assert!(tomb.tm_delete.is_some());
    assert_eq!((tomb.text.as_str(), tomb.medias.len(), tomb.reactions.len()), ("", 0, 0));
    assert_eq!(tomb.reply_count, 1);
    assert_eq!(event_types_since(&hub, before).await, ["message_deleted"]);
    assert_eq!(hub.message(&agent("a"), child.id).await.unwrap().parent_id, Some(m.id));
    let reactors = hub.reactions(&agent("a"), m.id, "👍", &PageRequest::first()).await.unwrap();
    assert!(reactors.items.is_empty());
}

#[tokio::test]
async fn deleting_twice_is_a_repeat_and_non_authors_cannot_delete() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    assert_eq!(code(hub.delete_message(&agent("b"), m.id).await), "not_author");
    hub.delete_message(&agent("a"), m.id).await.unwrap();
    let before = head(&hub).await;
    assert!(hub.delete_message(&agent("a"), m.id).await.is_ok());
    assert_eq!(head(&hub).await, before);
}

#[tokio::test]
async fn deleting_ones_own_message_in_a_closed_talk_is_allowed() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    hub.close_talk(&agent("a"), talk.id).await.unwrap();
    assert!(hub.delete_message(&agent("a"), m.id).await.unwrap().tm_delete.is_some());
}

#[tokio::test]
async fn deleted_message_content_is_gone_from_earlier_events() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = hub
        .send_message(&agent("a"), talk.id, NewMessage { medias: vec![media()], ..text("secret one") })
        .await
        .unwrap()
        .resource;
    hub.add_reaction(&agent("a"), m.id, "heart").await.unwrap();
    hub.edit_message(&agent("a"), m.id, "secret two".into()).await.unwrap();
    let keep = send(&hub, "a", talk.id, "kept").await;
    hub.delete_message(&agent("a"), m.id).await.unwrap();
    let mut seen = 0;
    for event in all_events(&hub).await {
        match &event.data {
            EventData::MessageCreated(x) | EventData::MessageUpdated(x) | EventData::MessageDeleted(x)
                if x.id == m.id =>
            {
                seen += 1;
                assert_eq!((x.text.as_str(), x.medias.len(), x.reactions.len()), ("", 0, 0), "{event:?}");
            }
            EventData::MessageCreated(x) if x.id == keep.id => assert_eq!(x.text, "kept"),
            _ => {}
        }
    }
    assert_eq!(seen, 3);
}

#[tokio::test]
async fn messages_of_a_talk_one_never_joined_are_not_found() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let m = send(&hub, "a", talk.id, "x").await;
    let z = agent("z");
    assert_eq!(code(hub.message(&z, m.id).await), "not_found");
    assert_eq!(code(hub.edit_message(&z, m.id, "y".into()).await), "not_found");
    assert_eq!(code(hub.delete_message(&z, m.id).await), "not_found");
    assert_eq!(code(hub.add_reaction(&z, m.id, "+1").await), "not_found");
    assert_eq!(code(hub.replies(&z, m.id, &PageRequest::first()).await), "not_found");
    assert_eq!(code(hub.messages(&z, talk.id, MessageFilter::TopLevel, &PageRequest::first()).await), "not_found");
}

#[tokio::test]
async fn main_view_pages_newest_first_never_skip_or_repeat_while_sending() {
    let hub = hub();
    let talk = group(&hub, "a", &[]).await;
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(send(&hub, "a", talk.id, &format!("m{i}")).await.id);
    }
    sent.reverse();
    let mut seen = Vec::new();
    let mut request = PageRequest::of_size(3);
    loop {
        let page = hub.messages(&agent("a"), talk.id, MessageFilter::TopLevel, &request).await.unwrap();
        send(&hub, "a", talk.id, "meanwhile").await;
        seen.extend(page.items.iter().map(|m| m.id));
        if !page.has_more() {
            break;
        }
        request = request.after(&page);
    }
    assert_eq!(seen, sent);
}

#[tokio::test]
async fn a_removed_participant_cannot_send() {
    let hub = hub();
    let talk = group(&hub, "a", &["b"]).await;
    hub.remove_participant(&agent("b"), talk.id, ParticipantRef::Me).await.unwrap();
    assert_eq!(code(hub.send_message(&agent("b"), talk.id, text("x")).await), "not_participant");
}
