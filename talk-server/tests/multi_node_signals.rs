//! Typing and presence across two demo servers on one PostgreSQL schema:
//! a typist on one node reaches a subscriber on the other, presence follows
//! an agent's sockets on either node, and a node killed with SIGKILL takes
//! its agents offline (by its missing heartbeat) within 30 seconds.
//!
//! Needs `TALK_TEST_POSTGRES_URL`: ignored unless run with `--ignored` (as
//! `.ci/run` does), and then fails without it.

mod cluster;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use cluster::{Database, ok, start_node, token, within};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn socket(address: SocketAddr, agent: &str) -> Socket {
    let url = format!("ws://{address}/v1.0/ws?token={}", token(agent));
    within("the upgrade", connect_async(url)).await.expect("the upgrade").0
}

async fn send(socket: &mut Socket, frame: Value) {
    socket.send(Message::text(frame.to_string())).await.expect("sent");
}

/// The next frame of `kind`, skipping others, waiting up to `patience`.
async fn next_of(socket: &mut Socket, kind: &str, patience: Duration) -> Value {
    tokio::time::timeout(patience, async {
        loop {
            match socket.next().await.expect("open").expect("a frame") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON");
                    if frame["type"] == kind {
                        return frame;
                    }
                }
                Message::Close(_) => panic!("closed while waiting for {kind}"),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame in {patience:?}"))
}

async fn subscribed(socket: &mut Socket) {
    send(socket, json!({"type": "subscribe", "talk_id": "*"})).await;
    next_of(socket, "subscribed", cluster::PATIENCE).await;
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_agents_go_offline_postgres() {
    let database = Database::fresh("talk_signals").await;
    let (a, b) = tokio::join!(start_node(&database, "127.0.0.1:0", &[]), start_node(&database, "127.0.0.1:0", &[]));
    let body = json!({"name": "Signals", "participant_ids": ["agent-2"]});
    let talk = ok(a.address, "POST", "/v1.0/talks", "agent-1", Some(body)).await["id"].as_str().unwrap().to_owned();

    // agent-2 on node B follows agent-1's presence: offline, never seen.
    let mut watcher = socket(b.address, "agent-2").await;
    subscribed(&mut watcher).await;
    send(&mut watcher, json!({"type": "presence_subscribe", "agent_ids": ["agent-1"]})).await;
    let now = next_of(&mut watcher, "presence", cluster::PATIENCE).await;
    assert_eq!(now, json!({"type": "presence", "agent_id": "agent-1", "status": "offline", "tm_last_seen": null}));

    // agent-1 connects on node A: node B hears it.
    let mut typist = socket(a.address, "agent-1").await;
    subscribed(&mut typist).await;
    let online = next_of(&mut watcher, "presence", cluster::PATIENCE).await;
    assert_eq!(online["status"], "online", "{online}");
    let seen = ok(b.address, "GET", "/v1.0/agents/agent-1/presence", "agent-2", None).await;
    assert_eq!(seen["status"], "online");

    // Typing on node A reaches the subscriber on node B, and so does its stop.
    send(&mut typist, json!({"type": "typing", "talk_id": talk})).await;
    let started = next_of(&mut watcher, "typing", cluster::PATIENCE).await;
    assert_eq!(
        started,
        json!({"type": "typing", "talk_id": talk, "parent_id": null, "agent_id": "agent-1", "state": "started"})
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    ok(a.address, "POST", &format!("/v1.0/talks/{talk}/messages"), "agent-1", Some(json!({"text": "hi"}))).await;
    let stopped = next_of(&mut watcher, "typing", cluster::PATIENCE).await;
    assert_eq!(stopped["state"], "stopped", "{stopped}");

    // Node A dies without a word: its heartbeat stops, and node B takes
    // agent-1 offline on its own.
    let mut child = a.child;
    child.kill().await.expect("SIGKILL");
    let killed = Instant::now();
    let offline = next_of(&mut watcher, "presence", Duration::from_secs(60)).await;
    eprintln!("killed_node_agents_go_offline: offline {:?} after the SIGKILL", killed.elapsed());
    assert_eq!(offline["status"], "offline", "{offline}");
    assert!(offline["tm_last_seen"].is_string(), "{offline}");
    let seen = ok(b.address, "GET", "/v1.0/agents/agent-1/presence", "agent-2", None).await;
    assert_eq!(seen["status"], "offline");

    let mut child = b.child;
    let _ = child.kill().await;
    database.drop_schema().await;
    drop(typist);
}
