//! What the multi-node tests share: demo servers on one PostgreSQL schema,
//! plain HTTP requests, WebSocket clients that follow events, and the final
//! check that every client received exactly what `GET /v1.0/events` says
//! its agent sees.
//!
//! Needs `TALK_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`): each test is ignored unless
//! run with `--ignored` (as `.ci/run` does), and then fails without it.

#![allow(dead_code)] // Each test file uses its own part of this.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Long enough for anything this machine does; no test asserts a time.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) const AGENTS: [(&str, &str); 4] =
    [("agent-1", "token-1"), ("agent-2", "token-2"), ("agent-3", "token-3"), ("agent-4", "token-4")];

pub(crate) fn token(agent: &str) -> &'static str {
    AGENTS.iter().find(|(id, _)| *id == agent).map(|(_, token)| *token).expect("a known agent")
}

pub(crate) async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

// ------------------------------------------------------------ the database

/// The test database and a fresh schema in it, dropped by [`Database::drop_schema`].
pub(crate) struct Database {
    pub(crate) url: String,
    pub(crate) admin: tokio_postgres::Client,
    pub(crate) schema: String,
}

impl Database {
    /// Connects to `TALK_TEST_POSTGRES_URL` and makes a schema named
    /// `prefix_<random>`. The tests that need it are
    /// `#[ignore = "needs TALK_TEST_POSTGRES_URL"]` and have `postgres` in
    /// their names (`.ci/run` runs them with `-- --ignored postgres`).
    ///
    /// # Panics
    /// When the variable is not set or the server cannot be reached.
    pub(crate) async fn fresh(prefix: &str) -> Self {
        let Ok(url) = std::env::var("TALK_TEST_POSTGRES_URL") else {
            panic!(
                "TALK_TEST_POSTGRES_URL is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
        };
        let (admin, connection) =
            within("connecting to TALK_TEST_POSTGRES_URL", tokio_postgres::connect(&url, tokio_postgres::NoTls))
                .await
                .unwrap_or_else(|e| panic!("TALK_TEST_POSTGRES_URL={url} is unreachable: {e}"));
        tokio::spawn(connection);
        let schema = format!("{prefix}_{:016x}", rand::random::<u64>());
        within("create schema", admin.batch_execute(&format!("CREATE SCHEMA {schema}"))).await.expect("create schema");
        Self { url, admin, schema }
    }

    pub(crate) async fn drop_schema(self) {
        let sql = format!("DROP SCHEMA {} CASCADE", self.schema);
        within("drop schema", self.admin.batch_execute(&sql)).await.expect("drop schema");
    }
}

// ------------------------------------------------------------ the servers

pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) address: SocketAddr,
}

/// Starts a server on `listen` (port 0: a free one) with `extra` flags, and
/// waits for `/healthz`.
pub(crate) async fn start_node(database: &Database, listen: &str, extra: &[&str]) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_talk-server"));
    command.args(["--listen", listen, "--postgres", &database.url, "--postgres-schema", &database.schema]);
    command.args(extra);
    for (agent, token) in AGENTS {
        command.args(["--agent", &format!("{agent}={token}")]);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null()).kill_on_drop(true);
    let mut child = command.spawn().expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
    let address = within("the server's address", async {
        loop {
            let line = lines.next_line().await.expect("stdout").expect("the server announces its address");
            if let Some(rest) = line.strip_prefix("Talk demo server on http://") {
                let address = rest.split_whitespace().next().expect("an address");
                return address.parse::<SocketAddr>().expect("a socket address");
            }
        }
    })
    .await;
    // Keep reading, so that the server never writes to a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    within("/healthz", async {
        loop {
            if let Ok((200, _)) = http(address, "GET", "/healthz", None, None).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    Node { child, address }
}

// ------------------------------------------------------------ HTTP

/// One HTTP/1.1 request on its own connection: the status and the JSON body
/// (`null` when empty or not JSON).
pub(crate) async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    agent: Option<&str>,
    body: Option<Value>,
) -> std::io::Result<(u16, Value)> {
    let exchange = async {
        let mut stream = TcpStream::connect(address).await?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        if let Some(agent) = agent {
            request.push_str(&format!("Authorization: Bearer {}\r\n", token(agent)));
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(PATIENCE, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"))??;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("no header end"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A request that must succeed.
pub(crate) async fn ok(address: SocketAddr, method: &str, path: &str, agent: &str, body: Option<Value>) -> Value {
    let (status, body) = http(address, method, path, Some(agent), body).await.expect("an answer");
    assert!((200..300).contains(&status), "{method} {path}: {status} {body}");
    body
}

/// Two talks, made through the first two addresses: "One" (agent-1 with
/// agent-2 and agent-3) and "Two" (agent-2 with agent-1 and agent-4).
pub(crate) async fn two_talks(first: SocketAddr, second: SocketAddr) -> (String, String) {
    let made = |address, agent, body| async move {
        ok(address, "POST", "/v1.0/talks", agent, Some(body)).await["id"].as_str().expect("an id").to_owned()
    };
    let one = made(first, "agent-1", json!({"name": "One", "participant_ids": ["agent-2", "agent-3"]})).await;
    let two = made(second, "agent-2", json!({"name": "Two", "participant_ids": ["agent-1", "agent-4"]})).await;
    (one, two)
}

// ------------------------------------------------------------ WebSocket clients

/// What one client follows, and what it received: `(seq, type)` in order.
pub(crate) struct Follower {
    pub(crate) agent: &'static str,
    /// `"*"` or a talk id.
    pub(crate) scope: String,
    pub(crate) node: usize,
    pub(crate) received: Mutex<Vec<(u64, String)>>,
}

/// Clients on every one of three nodes, following everything or one of the
/// talks of [`two_talks`].
pub(crate) fn followers(one: &str, two: &str) -> Vec<Arc<Follower>> {
    [
        ("agent-1", "*", 0),
        ("agent-2", one, 0),
        ("agent-2", "*", 1),
        ("agent-3", one, 1),
        ("agent-4", "*", 1),
        ("agent-3", "*", 2),
        ("agent-1", two, 2),
        ("agent-4", "*", 2),
    ]
    .into_iter()
    .map(|(agent, scope, node)| {
        Arc::new(Follower { agent, scope: scope.to_owned(), node, received: Mutex::new(Vec::new()) })
    })
    .collect()
}

/// Runs every follower until `stop`.
pub(crate) fn follow_all(
    followers: &[Arc<Follower>],
    addresses: &Arc<Mutex<Vec<SocketAddr>>>,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    followers.iter().map(|f| tokio::spawn(follow(f.clone(), addresses.clone(), stop.clone()))).collect()
}

/// Follows `scope` on the node at `addresses[node]`, reconnecting (with
/// `since` = the last `seq` seen) whenever the connection drops, until `stop`.
async fn follow(follower: Arc<Follower>, addresses: Arc<Mutex<Vec<SocketAddr>>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let address = addresses.lock().expect("lock")[follower.node];
        let url = format!("ws://{address}/v1.0/ws?token={}", token(follower.agent));
        let Ok(Ok((mut socket, _))) = tokio::time::timeout(PATIENCE, connect_async(url)).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let since = follower.received.lock().expect("lock").last().map_or(0, |(seq, _)| *seq);
        let frame = json!({"type": "subscribe", "talk_id": follower.scope, "since": since});
        if socket.send(Message::text(frame.to_string())).await.is_err() {
            continue;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), socket.next()).await;
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let message = match next {
                Err(_) => continue,
                Ok(Some(Ok(message))) => message,
                Ok(_) => break,
            };
            let Message::Text(text) = message else { continue };
            let frame: Value = serde_json::from_str(&text).expect("JSON");
            let kind = frame["type"].as_str().expect("a type").to_owned();
            match kind.as_str() {
                "subscribed" | "unsubscribed" => {}
                "error" => panic!("{} on {}: {frame}", follower.agent, follower.scope),
                _ => {
                    let seq = frame["seq"].as_u64().expect("an event's seq");
                    follower.received.lock().expect("lock").push((seq, kind));
                }
            }
        }
    }
}

/// Every follower ends up with exactly the events `GET /v1.0/events` (read
/// through `address`) says its agent sees in its scope, each once, in `seq`
/// order; then the followers are stopped. Answers a summary to print.
pub(crate) async fn every_follower_matches_the_log(
    address: SocketAddr,
    followers: &[Arc<Follower>],
    stop: &AtomicBool,
    tasks: Vec<JoinHandle<()>>,
) -> String {
    // What each agent sees, from the log (paged).
    let mut seen: BTreeMap<&str, Vec<(u64, String, String)>> = BTreeMap::new();
    for (agent, _) in AGENTS {
        let mut since = 0u64;
        let mut events = Vec::new();
        loop {
            let page = ok(address, "GET", &format!("/v1.0/events?since={since}&page_size=100"), agent, None).await;
            let result = page["result"].as_array().expect("a list");
            if result.is_empty() {
                break;
            }
            for event in result {
                let seq = event["seq"].as_u64().expect("a seq");
                assert!(seq > since, "{agent}: seq {seq} after {since}");
                since = seq;
                events.push((
                    seq,
                    event["type"].as_str().expect("a type").to_owned(),
                    event["talk_id"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        seen.insert(agent, events);
    }

    let expected: Vec<Vec<(u64, String)>> = followers
        .iter()
        .map(|f| {
            seen[f.agent]
                .iter()
                .filter(|(_, _, talk)| f.scope == "*" || *talk == f.scope)
                .map(|(seq, kind, _)| (*seq, kind.clone()))
                .collect()
        })
        .collect();
    within("every follower catching up", async {
        loop {
            let behind = followers.iter().zip(&expected).any(|(f, want)| {
                let got = f.received.lock().expect("lock");
                got.last().map(|(seq, _)| *seq) < want.last().map(|(seq, _)| *seq)
            });
            if !behind {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // A moment for anything extra (a duplicate) to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        within("a follower stopping", task).await.expect("a follower");
    }
    let mut summary = Vec::new();
    for (f, want) in followers.iter().zip(&expected) {
        let got = f.received.lock().expect("lock");
        assert!(!want.is_empty(), "{} on {} sees nothing", f.agent, f.scope);
        assert_eq!(*got, *want, "{} on {} (node {})", f.agent, f.scope, f.node);
        summary.push(format!("{}@node{}:{}={}", f.agent, f.node, if f.scope == "*" { "*" } else { "talk" }, got.len()));
    }
    summary.join(", ")
}
