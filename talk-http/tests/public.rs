//! Public talks over HTTP and WebSocket: the directory, self-join, and what
//! an agent that never was in a public talk may read.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Api, api, ids, next_text, token};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Creates a public talk named `name`; answers its id.
async fn public(api: &Api, creator: &str, name: &str) -> String {
    let body = json!({"type": "public", "name": name, "participant_ids": []});
    let talk = api.post(creator, "/v1.0/talks", body).await.ok(201);
    assert_eq!(talk["type"], "public");
    talk["id"].as_str().unwrap().to_owned()
}

fn join(talk: &str) -> String {
    format!("/v1.0/talks/{talk}/join")
}

#[tokio::test]
async fn public_talk_listed_for_every_agent() {
    let api = api();
    let general = public(&api, "agent-id-1", "General").await;
    api.group("agent-id-1", &["agent-id-2"]).await;
    let random = public(&api, "agent-id-2", "Random").await;
    for agent in ["agent-id-1", "agent-id-2", "agent-123", "agent-e"] {
        let page = api.get(agent, "/v1.0/talks/public").await.ok(200);
        assert_eq!(ids(&page), [random.as_str(), general.as_str()], "{agent}: newest first, public only");
        assert_eq!(page["next_page_token"], "");
        let found = api.get(agent, "/v1.0/talks/public?q=GEN").await.ok(200);
        assert_eq!(ids(&found), [general.as_str()], "{agent}: by a word prefix, folded");
    }
    // A closed public talk leaves the directory.
    api.post_empty("agent-id-2", &format!("/v1.0/talks/{random}/close")).await.ok(200);
    assert_eq!(ids(&api.get("agent-123", "/v1.0/talks/public").await.ok(200)), [general.as_str()]);
    // The caller's own list is as before: only talks it is in.
    assert!(ids(&api.get("agent-123", "/v1.0/talks").await.ok(200)).is_empty());
}

#[tokio::test]
async fn join_public_talk_emits_joined_and_system_message() {
    let api = api();
    let talk = public(&api, "agent-id-1", "general").await;
    let head = api.head().await;
    let record = api.post_empty("agent-123", &join(&talk)).await.ok(201);
    assert_eq!((record["agent_id"].as_str(), record["status"].as_str()), (Some("agent-123"), Some("active")));
    let events: Vec<Value> = api.events("agent-id-1", head).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["participant_joined", "message_created"]);
    assert_eq!(events[0]["data"]["id"], record["id"]);
    assert_eq!(
        events[1]["data"]["system"],
        json!({"event": "participant_joined", "agent_id": "agent-123", "actor_id": "agent-123", "name": null})
    );
    let read = api.get("agent-123", &format!("/v1.0/talks/{talk}")).await.ok(200);
    assert_eq!(read["member_count"], 2);
}

#[tokio::test]
async fn join_repeat_is_200_without_event() {
    let api = api();
    let talk = public(&api, "agent-id-1", "general").await;
    let first = api.post_empty("agent-123", &join(&talk)).await.ok(201);
    let head = api.head().await;
    let again = api.post_empty("agent-123", &join(&talk)).await.ok(200);
    assert_eq!(again, first);
    api.post_empty("agent-id-1", &join(&talk)).await.ok(200);
    assert_eq!(api.head().await, head, "no event");
}

#[tokio::test]
async fn join_closed_public_talk_is_talk_closed() {
    let api = api();
    let talk = public(&api, "agent-id-1", "general").await;
    api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/close")).await.ok(200);
    let head = api.head().await;
    api.post_empty("agent-123", &join(&talk)).await.assert_error(409, "talk_closed");
    assert_eq!(api.head().await, head);
}

#[tokio::test]
async fn join_group_talk_is_not_found_for_strangers() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let head = api.head().await;
    api.post_empty("agent-123", &join(&talk)).await.assert_error(404, "not_found");
    api.post_empty("agent-123", &join("0192d3e4-0000-7000-8000-000000000000")).await.assert_error(404, "not_found");
    assert_eq!(api.head().await, head);
    api.delete("agent-id-2", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    api.post_empty("agent-id-2", &join(&talk)).await.assert_error(403, "not_participant");
}

#[tokio::test]
async fn stranger_reads_public_talk_but_not_its_messages() {
    let api = api();
    let talk = public(&api, "agent-id-1", "general").await;
    let message = api.send("agent-id-1", &talk, "welcome").await;
    let read = api.get("agent-123", &format!("/v1.0/talks/{talk}")).await.ok(200);
    assert_eq!((read["id"].as_str(), read["name"].as_str()), (Some(talk.as_str()), Some("general")));
    for path in [
        format!("/v1.0/talks/{talk}/messages"),
        format!("/v1.0/talks/{talk}/participants"),
        format!("/v1.0/messages/{}", message["id"].as_str().unwrap()),
    ] {
        api.get("agent-123", &path).await.assert_error(404, "not_found");
    }
    assert!(api.events("agent-123", 0).await.is_empty(), "no event of a talk it is not in");
}

#[tokio::test]
async fn directory_pages_never_skip_or_repeat() {
    let api = api();
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(public(&api, "agent-id-1", &format!("Room {i}")).await);
        public(&api, "agent-id-1", &format!("Other {i}")).await;
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut uri = "/v1.0/talks/public?q=room&page_size=3".to_owned();
    loop {
        let page = api.get("agent-123", &uri).await.ok(200);
        seen.extend(ids(&page));
        // A talk made while paging is newer: it never enters later pages.
        public(&api, "agent-id-2", "Room late").await;
        let token = page["next_page_token"].as_str().unwrap();
        if token.is_empty() {
            break;
        }
        uri = format!("/v1.0/talks/public?q=room&page_size=3&page_token={token}");
    }
    assert_eq!(seen, made);
    // A token continues its own q only.
    let first = api.get("agent-123", "/v1.0/talks/public?q=room&page_size=3").await.ok(200);
    let token = first["next_page_token"].as_str().unwrap();
    api.get("agent-123", &format!("/v1.0/talks/public?q=other&page_size=3&page_token={token}"))
        .await
        .assert_error(400, "invalid_request");
}

/// The README's scenario: agent-id-1 opens a public "general" talk,
/// agent-123 finds it by a word of its name, joins, and sees new messages
/// live from its join.
#[tokio::test]
async fn scenario_public_general_talk() {
    let api = api();
    let general = public(&api, "agent-id-1", "General").await;
    api.send("agent-id-1", &general, "before anyone joined").await;
    let found = api.get("agent-123", "/v1.0/talks/public?q=general").await.ok(200);
    assert_eq!(ids(&found), [general.as_str()]);
    api.post_empty("agent-123", &join(&general)).await.ok(201);

    let address = api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-123"));
    let (mut socket, _) = connect_async(url).await.expect("the upgrade");
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": general}).to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "subscribed");
    api.send("agent-id-1", &general, "welcome, agent-123").await;
    let frame = next_text(&mut socket).await;
    assert_eq!(
        (frame["type"].as_str(), frame["data"]["text"].as_str()),
        (Some("message_created"), Some("welcome, agent-123"))
    );
    // From its join on: its events start at its participant_joined.
    let events = api.events("agent-123", 0).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["participant_joined", "message_created", "message_created"]);
}
