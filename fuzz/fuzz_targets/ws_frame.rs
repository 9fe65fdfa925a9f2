//! WebSocket frame handling: an arbitrary client frame (text if it is UTF-8,
//! else binary) over a real socket to a server on 127.0.0.1. The server
//! answers with control frames of the documented types (after any replayed
//! events), error codes of the documented set, keeps the socket open, and
//! never panics.
#![no_main]

#[path = "common.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

static WORLD: OnceLock<(common::World, SocketAddr)> = OnceLock::new();

const CODES: [&str; 6] =
    ["invalid_json", "invalid_request", "not_found", "not_participant", "already_subscribed", "resync_required"];

fn world() -> &'static (common::World, SocketAddr) {
    WORLD.get_or_init(|| {
        let world = common::World::new();
        let app = world.app.clone();
        let address = world.runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("an address");
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            address
        });
        (world, address)
    })
}

fuzz_target!(|data: &[u8]| {
    let (world, address) = world();
    let frame = match std::str::from_utf8(data) {
        Ok(text) => Message::text(text.replace("{T}", &world.talk)),
        Err(_) => Message::binary(data.to_vec()),
    };
    world.runtime.block_on(async {
        let url = format!("ws://{address}/v1.0/ws?token=token-agent-id-1");
        let (mut socket, _) = connect_async(url).await.expect("the upgrade");
        socket.send(frame).await.expect("sent");
        // The answer: control frames end it; events may come first (a replay).
        let mut answered = 0;
        while answered < 1 {
            let next = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
            let message = next.expect("an answer in time").expect("the socket is open").expect("a frame");
            let Message::Text(text) = message else { continue };
            let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            match json["type"].as_str().expect("a type") {
                "subscribed" | "unsubscribed" | "resync_required" => answered += 1,
                "error" => {
                    let code = json["code"].as_str().expect("a code");
                    assert!(CODES.contains(&code), "undocumented code {code}");
                    answered += 1;
                }
                _ => assert!(json["seq"].is_u64(), "an event: {json}"),
            }
        }
        // Still open: a well-formed frame is answered.
        let probe = Message::text(r#"{"type": "unsubscribe", "talk_id": "*"}"#);
        socket.send(probe).await.expect("still open");
        let _ = socket.close(None).await;
    });
});
