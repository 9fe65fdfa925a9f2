//! Typing and presence over a real WebSocket, and the presence endpoints.

mod common;

use std::time::Duration;

use common::{Client, PATIENCE, api, connect, keys};
use serde_json::{Value, json};

/// The next frame that is not an event.
async fn next_signal(client: &mut Client) -> Value {
    loop {
        let frame = client.next().await;
        if !frame["seq"].is_u64() {
            return frame;
        }
    }
}

/// Sends a frame, then an unsubscribe of a talk the socket does not follow,
/// whose answer comes after whatever the frame brought: answers the frames
/// before it.
async fn answers(client: &mut Client, frame: Value) -> Vec<Value> {
    client.send(frame).await;
    let marker = "00000000-0000-7000-8000-000000000000";
    client.send(json!({"type": "unsubscribe", "talk_id": marker})).await;
    let mut frames = Vec::new();
    loop {
        let frame = client.next().await;
        if frame["type"] == "unsubscribed" && frame["talk_id"] == marker {
            return frames;
        }
        frames.push(frame);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_needs_a_subscription() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let other = api.group("agent-id-1", &[]).await;
    let address = api.serve().await;
    let mut typist = connect(address, "agent-id-1").await;
    let typing = json!({"type": "typing", "talk_id": talk});
    let refused = answers(&mut typist, typing.clone()).await;
    assert_eq!(
        (refused.len(), &refused[0]["type"], &refused[0]["code"]),
        (1, &json!("error"), &json!("invalid_request"))
    );
    assert!(refused[0]["message"].as_str().unwrap().contains("subscription"), "{}", refused[0]);
    // A subscription to another talk does not cover it.
    typist.subscribe(&other, None).await;
    assert_eq!(answers(&mut typist, typing.clone()).await[0]["code"], "invalid_request");
    // One to the talk does: no answer, and the other participant hears it.
    let mut reader = connect(address, "agent-id-2").await;
    reader.subscribe("*", None).await;
    typist.subscribe(&talk, None).await;
    assert_eq!(answers(&mut typist, typing).await, Vec::<Value>::new());
    let frame = next_signal(&mut reader).await;
    assert_eq!(
        frame,
        json!({"type": "typing", "talk_id": talk, "parent_id": null, "agent_id": "agent-id-1", "state": "started"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_with_the_same_parent_and_typing_stop_end_typing_on_the_wire() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let root = api.send("agent-id-2", &talk, "root").await["id"].as_str().unwrap().to_owned();
    let address = api.serve().await;
    let mut typist = connect(address, "agent-id-1").await;
    typist.subscribe("*", None).await;
    let mut reader = connect(address, "agent-id-2").await;
    reader.subscribe(&talk, None).await;
    typist.send(json!({"type": "typing", "talk_id": talk, "parent_id": root})).await;
    assert_eq!(next_signal(&mut reader).await["state"], "started");
    // Past the coalescing second, so that the stop goes out at once.
    api.clock.advance(chrono::Duration::milliseconds(1_500));
    let reply = json!({"text": "done", "parent_id": root});
    api.post("agent-id-1", &format!("/v1.0/talks/{talk}/messages"), reply).await.ok(201);
    let created = reader.next().await;
    assert_eq!(
        (created["type"].as_str(), created["data"]["parent_id"].as_str()),
        (Some("message_created"), Some(&*root))
    );
    let stopped = next_signal(&mut reader).await;
    assert_eq!((stopped["state"].as_str(), stopped["parent_id"].as_str()), (Some("stopped"), Some(&*root)));
    // typing_stop, in the main view.
    typist.send(json!({"type": "typing", "talk_id": talk})).await;
    assert_eq!(next_signal(&mut reader).await["state"], "started");
    api.clock.advance(chrono::Duration::milliseconds(1_500));
    typist.send(json!({"type": "typing_stop", "talk_id": talk})).await;
    let stopped = next_signal(&mut reader).await;
    assert_eq!((stopped["state"].as_str(), &stopped["parent_id"]), (Some("stopped"), &Value::Null));
}

/// The one `error` frame among `frames` (events may come around it).
fn error_among(frames: Vec<Value>) -> Value {
    let errors: Vec<Value> = frames.into_iter().filter(|frame| frame["type"] == "error").collect();
    assert_eq!(errors.len(), 1, "one error frame: {errors:?}");
    errors.into_iter().next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_errors_for_a_closed_or_left_talk() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let address = api.serve().await;
    let mut typist = connect(address, "agent-id-2").await;
    typist.subscribe("*", None).await;
    api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/close")).await.ok(200);
    let typing = json!({"type": "typing", "talk_id": talk});
    // The close's events may still be on their way around the answer.
    assert_eq!(error_among(answers(&mut typist, typing.clone()).await)["code"], "talk_closed");
    api.post_empty("agent-id-1", &format!("/v1.0/talks/{talk}/reopen")).await.ok(200);
    api.delete("agent-id-2", &format!("/v1.0/talks/{talk}/participants/me")).await.ok(200);
    // Once the socket has the leave, the routes know.
    loop {
        let frame = typist.next().await;
        if frame["type"] == "participant_left" {
            break;
        }
    }
    assert_eq!(error_among(answers(&mut typist, typing).await)["code"], "not_participant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_over_the_wire_and_the_endpoints() {
    let api = api();
    let talk = api.group("agent-id-1", &["agent-id-2"]).await;
    let address = api.serve().await;
    let mut watcher = connect(address, "agent-id-1").await;
    let subscribe = json!({"type": "presence_subscribe", "agent_ids": ["agent-id-2", "agent-id-1", "agent-123"]});
    let now = answers(&mut watcher, subscribe).await;
    assert_eq!(
        now,
        [
            json!({"type": "presence", "agent_id": "agent-id-2", "status": "offline", "tm_last_seen": null}),
            json!({"type": "presence", "agent_id": "agent-id-1", "status": "online", "tm_last_seen": null}),
        ],
        "the stranger is dropped silently"
    );
    let mut other = connect(address, "agent-id-2").await;
    let online = watcher.next().await;
    assert_eq!((online["agent_id"].as_str(), online["status"].as_str()), (Some("agent-id-2"), Some("online")));
    let body = api.get("agent-id-1", "/v1.0/agents/agent-id-2/presence").await.ok(200);
    assert_eq!(body, json!({"agent_id": "agent-id-2", "status": "online", "tm_last_seen": null}));
    let list = api.get("agent-id-2", &format!("/v1.0/talks/{talk}/presence")).await.ok(200);
    assert_eq!(keys(&list), ["next_page_token", "result"]);
    let statuses: Vec<(&str, &str)> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["agent_id"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("agent-id-1", "online"), ("agent-id-2", "online")]);
    api.get("agent-id-1", "/v1.0/agents/agent-123/presence").await.assert_error(404, "not_found");
    // The other agent closes its socket: offline after the grace.
    other.socket.close(None).await.unwrap();
    drop(other);
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.clock.advance(chrono::Duration::seconds(6));
    let offline = tokio::time::timeout(PATIENCE, watcher.next()).await.expect("in time");
    assert_eq!((offline["agent_id"].as_str(), offline["status"].as_str()), (Some("agent-id-2"), Some("offline")));
    common::assert_timestamp(&offline["tm_last_seen"]);
    let body = api.get("agent-id-1", "/v1.0/agents/agent-id-2/presence").await.ok(200);
    assert_eq!(body["tm_last_seen"], offline["tm_last_seen"]);
}
