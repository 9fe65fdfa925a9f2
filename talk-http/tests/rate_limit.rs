//! The per-agent rate limit (`Options::rate_limit`), with a manual clock:
//! off by default; `429 rate_limited` with `Retry-After` in the one error
//! shape; per agent; after authentication; WebSocket subscribe frames count.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::header;
use common::{Api, Setup, api, api_with, next_text, token};
use futures::SinkExt;
use serde_json::json;
use talk_http::{Options, RateLimit};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// An API limited to `per_second` with `burst`, on a clock that moves only
/// when the test says (milliseconds).
fn limited(per_second: f64, burst: u32) -> (Api, Arc<AtomicU64>) {
    let millis = Arc::new(AtomicU64::new(0));
    let clock = millis.clone();
    let limit =
        RateLimit::new(per_second, burst).with_clock(move || Duration::from_millis(clock.load(Ordering::SeqCst)));
    (api_with(Setup { options: Options::default().rate_limit(limit), ..Setup::default() }), millis)
}

#[tokio::test]
async fn off_by_default() {
    let api = api();
    for _ in 0..200 {
        api.get("agent-id-1", "/v1.0/talks").await.ok(200);
    }
}

#[tokio::test]
async fn a_burst_passes_then_429_with_retry_after_until_the_bucket_refills() {
    let (api, millis) = limited(1.0, 3);
    for _ in 0..3 {
        api.get("agent-id-1", "/v1.0/talks").await.ok(200);
    }
    let refused = api.get("agent-id-1", "/v1.0/talks").await;
    refused.assert_error(429, "rate_limited");
    assert_eq!(refused.headers[header::RETRY_AFTER], "1");
    // Every authenticated endpoint counts, writes too; nothing is written.
    let head = api.head().await;
    let body = json!({"name": "x", "participant_ids": []});
    api.post("agent-id-1", "/v1.0/talks", body.clone()).await.assert_error(429, "rate_limited");
    assert_eq!(api.head().await, head);
    // Another agent has its own bucket.
    api.get("agent-id-2", "/v1.0/talks").await.ok(200);
    // One second later, one more request passes.
    millis.store(1000, Ordering::SeqCst);
    api.post("agent-id-1", "/v1.0/talks", body).await.ok(201);
    api.get("agent-id-1", "/v1.0/talks").await.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn retry_after_is_whole_seconds_rounded_up() {
    // One request every 2.5 s.
    let (api, millis) = limited(0.4, 1);
    api.get("agent-id-1", "/v1.0/talks").await.ok(200);
    assert_eq!(api.get("agent-id-1", "/v1.0/talks").await.headers[header::RETRY_AFTER], "3");
    millis.store(1200, Ordering::SeqCst);
    assert_eq!(api.get("agent-id-1", "/v1.0/talks").await.headers[header::RETRY_AFTER], "2");
    millis.store(2500, Ordering::SeqCst);
    api.get("agent-id-1", "/v1.0/talks").await.ok(200);
}

#[tokio::test]
async fn unauthenticated_requests_are_not_counted_and_answer_401_first() {
    let (api, _) = limited(1.0, 1);
    for _ in 0..5 {
        api.call("GET", "/healthz", None, None).await.ok(200);
        api.call("GET", "/v1.0/openapi.json", None, None).await.ok(200);
        api.call("GET", "/v1.0/talks?token=wrong", None, None).await.assert_error(401, "unauthenticated");
    }
    api.get("agent-id-1", "/v1.0/talks").await.ok(200);
    // Over the limit, a bad path id is not even looked at: 429 answers first.
    api.get("agent-id-1", "/v1.0/talks/nope").await.assert_error(429, "rate_limited");
    api.call("GET", "/v1.0/talks", None, None).await.assert_error(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_and_subscribe_frames_count() {
    let (api, millis) = limited(1.0, 2);
    let talk = {
        millis.store(0, Ordering::SeqCst);
        let talk = api.group("agent-id-1", &[]).await;
        // Refill after the set-up.
        millis.store(10_000, Ordering::SeqCst);
        talk
    };
    let address = api.serve().await;
    let url = format!("ws://{address}/v1.0/ws?token={}", token("agent-id-1"));
    // The upgrade takes one token, the first subscribe the other.
    let (mut socket, _) = connect_async(url.clone()).await.expect("the upgrade");
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": talk}).to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "subscribed");
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": "*"}).to_string())).await.unwrap();
    let refused = next_text(&mut socket).await;
    assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("rate_limited")));
    // Unsubscribing is not counted, and the socket stays open.
    socket.send(Message::text(json!({"type": "unsubscribe", "talk_id": talk}).to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "unsubscribed");
    // A new upgrade is refused with 429 and no upgrade.
    match connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
        other => panic!("expected 429, got {:?}", other.map(|(_, r)| r.status())),
    }
    millis.store(11_000, Ordering::SeqCst);
    socket.send(Message::text(json!({"type": "subscribe", "talk_id": "*"}).to_string())).await.unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "subscribed");
}
