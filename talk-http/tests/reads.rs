//! Read state over HTTP and WebSocket: mentions, counts on talks, read,
//! unread, receipts, totals, `talk_read` frames.

#![allow(clippy::unwrap_used)]

mod common;

use common::{api, keys, next_text, token};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

fn talk_item<'a>(list: &'a Value, talk: &str) -> &'a Value {
    list["result"].as_array().unwrap().iter().find(|t| t["id"] == talk).expect("the talk is listed")
}

#[tokio::test]
async fn a_mention_shows_as_a_badge_until_read_and_the_author_sees_the_receipt() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let body = json!({"text": "@agent-id-2 please review", "mentions": ["agent-id-2", "agent-id-2"]});
    let sent = api.post("agent-id-1", &format!("/v1.0/talks/{talk}/messages"), body).await.ok(201);
    assert_eq!(sent["mentions"], json!(["agent-id-2"]), "duplicates merged");
    let list = api.get("agent-id-2", "/v1.0/talks").await.ok(200);
    let item = talk_item(&list, &talk);
    assert_eq!((&item["unread_count"], &item["mention_count"]), (&json!(1), &json!(1)));
    let own = api.get("agent-id-1", &format!("/v1.0/talks/{talk}")).await.ok(200);
    assert_eq!((&own["unread_count"], &own["mention_count"]), (&json!(0), &json!(0)), "one's own message is read");
    let totals = api.get("agent-id-2", "/v1.0/unread").await.ok(200);
    assert_eq!(totals, json!({"talks": 1, "messages": 1, "mentions": 1}));

    let state = api.post_empty("agent-id-2", &format!("/v1.0/talks/{talk}/read")).await.ok(200);
    assert_eq!(
        keys(&state),
        ["agent_id", "last_read_message_id", "last_read_seq", "mention_count", "talk_id", "tm_read", "unread_count"]
    );
    assert_eq!((&state["unread_count"], &state["mention_count"]), (&json!(0), &json!(0)));
    assert_eq!(state["last_read_message_id"], sent["id"]);
    let head = api.head().await;
    let again = api.post("agent-id-2", &format!("/v1.0/talks/{talk}/read"), json!({})).await.ok(200);
    assert_eq!(again, state, "a repeat answers the same state");
    assert_eq!(api.head().await, head, "and emits nothing");
    assert_eq!(api.get("agent-id-2", "/v1.0/unread").await.ok(200), json!({"talks": 0, "messages": 0, "mentions": 0}));

    let reads = api.get("agent-id-1", &format!("/v1.0/talks/{talk}/reads")).await.ok(200);
    let receipts = reads["result"].as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[1]["agent_id"], "agent-id-2");
    assert_eq!(receipts[1]["last_read_message_id"], sent["id"]);
    assert_eq!(keys(&receipts[1]), ["agent_id", "last_read_message_id", "last_read_seq", "talk_id", "tm_read"]);
    let events = api.events("agent-id-1", head - 1).await;
    let read = events.iter().find(|e| e["type"] == "talk_read").expect("agent-id-1 sees the receipt");
    assert_eq!(read["data"]["agent_id"], "agent-id-2");
    assert!(read["data"].get("unread_count").is_none(), "a receipt carries no counts");
}

#[tokio::test]
async fn unread_moves_the_marker_back_and_edits_change_mentions() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let first = api.send("agent-id-1", &talk, "one").await;
    api.send("agent-id-1", &talk, "two").await;
    api.post_empty("agent-id-2", &format!("/v1.0/talks/{talk}/read")).await.ok(200);
    let state =
        api.post("agent-id-2", &format!("/v1.0/talks/{talk}/unread"), json!({"message_id": first["id"]})).await.ok(200);
    assert_eq!(state["unread_count"], 2);
    assert_eq!(state["last_read_seq"].as_u64().unwrap() + 1, first_seq(&api, &first).await);
    let edit = json!({"text": "one, for you", "mentions": ["agent-id-2"]});
    let edited = api.patch("agent-id-1", &format!("/v1.0/messages/{}", first["id"].as_str().unwrap()), edit).await;
    assert_eq!(edited.ok(200)["mentions"], json!(["agent-id-2"]));
    let talk_now = api.get("agent-id-2", &format!("/v1.0/talks/{talk}")).await.ok(200);
    assert_eq!(talk_now["mention_count"], 1);
    let uri = format!("/v1.0/messages/{}", first["id"].as_str().unwrap());
    let kept = api.patch("agent-id-1", &uri, json!({"text": "one"})).await.ok(200);
    assert_eq!(kept["mentions"], json!(["agent-id-2"]), "an edit without mentions keeps them");
}

async fn first_seq(api: &common::Api, message: &Value) -> u64 {
    let events = api.events("agent-id-1", 0).await;
    events.iter().find(|e| e["type"] == "message_created" && e["data"]["id"] == message["id"]).unwrap()["seq"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn left_participant_counts_freeze_at_leave() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    api.send("agent-id-1", &talk, "one").await;
    api.delete("agent-id-2", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    api.send("agent-id-1", &talk, "after").await;
    let former = api.get("agent-id-2", &format!("/v1.0/talks/{talk}")).await.ok(200);
    assert_eq!((&former["unread_count"], &former["mention_count"]), (&Value::Null, &Value::Null));
    let reply = api.post_empty("agent-id-2", &format!("/v1.0/talks/{talk}/read")).await;
    reply.assert_error(403, "not_participant");
    assert_eq!(api.get("agent-id-2", "/v1.0/unread").await.ok(200)["messages"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talk_read_frames_reach_the_other_participants() {
    let api = api();
    let address = api.serve().await;
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let message = api.send("agent-id-1", &talk, "hello").await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
    let (mut socket, _) = connect_async(url).await.expect("the upgrade");
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": talk}).to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "subscribed");
    api.post("agent-id-2", &format!("/v1.0/talks/{talk}/read"), json!({"message_id": message["id"]})).await.ok(200);
    let frame = next_text(&mut socket).await;
    assert_eq!(frame["type"], "talk_read");
    assert_eq!(frame["talk_id"], talk);
    assert_eq!(
        (&frame["data"]["agent_id"], &frame["data"]["last_read_message_id"]),
        (&json!("agent-id-2"), &message["id"])
    );
}
