//! Row W1: the demo server's webhook delivery (`talk_server::webhooks`: a
//! durable consumer on SQLite posting each event, signed, one request at a
//! time) to a local receiver, beside the receiver's own ceiling for one
//! request at a time (a plain client posting the same bodies the same way:
//! a new connection per request).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use talk_benches::{Mode, Row, show_rate};
use talk_core::{AgentId, Hub, NewMessage, NewTalk, TalkKind};
use talk_server::webhooks;
use talk_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::net::TcpStream;

const SECRET: &str = "bench-secret";

/// A receiver on 127.0.0.1 that counts the requests it takes.
async fn receiver() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let taken = Arc::new(AtomicUsize::new(0));
    let count = taken.clone();
    let app = Router::new().route(
        "/hook",
        post(move |_: Bytes| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, taken)
}

async fn wait_for(taken: &AtomicUsize, n: usize) {
    while taken.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// One POST on a new connection, as the webhook sender makes it.
async fn post_once(address: std::net::SocketAddr, body: Bytes) {
    let stream = TcpStream::connect(address).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    let connection = tokio::spawn(connection);
    let request = hyper::Request::post("/hook")
        .header(hyper::header::HOST, address.to_string())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("x-talk-signature", webhooks::signature(SECRET.as_bytes(), &body))
        .body(Full::new(body))
        .expect("a request");
    let response = sender.send_request(request).await.expect("an answer");
    assert!(response.status().is_success());
    connection.abort();
}

pub(crate) async fn webhook_delivery(mode: Mode) -> Row {
    let n = mode.pick(300, 3000);
    let (address, taken) = receiver().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(SqliteStore::open(dir.path().join("talk.db"), SqliteOptions::default()).expect("open"));
    let hub = Hub::new(store);
    let target = webhooks::parse_target(&format!("http://{address}/hook")).expect("a target");

    // The consumer is made at the log's head: make it first, then the
    // events, then deliver them all.
    let senders = webhooks::start(&hub, std::slice::from_ref(&target), SECRET);
    while hub.consumers().await.expect("consumers").is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let alice = AgentId::parse("alice").expect("an agent id");
    let input = NewTalk { kind: TalkKind::Group, name: Some("hooks".into()), detail: None, participant_ids: vec![] };
    let talk = hub.create_talk(&alice, input).await.expect("create").resource;
    wait_for(&taken, 1).await;
    let base = taken.load(Ordering::Relaxed);
    // Sent before delivery is timed: the senders run at the log's pace
    // otherwise. 64 at a time, as SQLite's group commit likes.
    let started = Instant::now();
    let mut sends = Vec::new();
    for i in 0..n {
        let (hub, alice) = (hub.clone(), alice.clone());
        sends.push(tokio::spawn(async move {
            let message = NewMessage { text: format!("event {i}"), ..NewMessage::default() };
            hub.send_message(&alice, talk.id, message).await.expect("send");
        }));
    }
    for send in sends {
        send.await.expect("a send");
    }
    wait_for(&taken, base + n).await;
    let webhook_rate = n as f64 / started.elapsed().as_secs_f64();
    senders.stop().await;

    let body = Bytes::from(format!(
        "{{\"type\": \"message_created\", \"seq\": 1, \"data\": {{\"text\": \"{}\"}}}}",
        "x".repeat(200)
    ));
    let before = taken.load(Ordering::Relaxed);
    let started = Instant::now();
    for _ in 0..n {
        post_once(address, body.clone()).await;
    }
    wait_for(&taken, before + n).await;
    let ceiling = n as f64 / started.elapsed().as_secs_f64();

    Row {
        id: "W1".into(),
        what: format!("webhook delivery, SQLite FULL, {n} events sent at once, one request at a time"),
        figure: show_rate(webhook_rate),
        baseline: format!("{} (receiver, one request at a time)", show_rate(ceiling)),
        ratio: webhook_rate / ceiling,
        goal: "report".into(),
        met: true,
    }
}
