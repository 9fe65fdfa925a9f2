//! Three demo servers sharing one PostgreSQL schema: WebSocket clients on
//! every node, writers on every node at once, one node killed (SIGKILL) and
//! restarted mid-way; every client must end up with exactly the events
//! `GET /v1.0/events` says its agent sees, each once, in `seq` order.
//!
//! Needs `TALK_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`): ignored unless run with
//! `--ignored` (as `.ci/run` does), and then fails without it.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(30);
/// Operations per writer (one writer per node).
const OPERATIONS: usize = 80;

const AGENTS: [(&str, &str); 4] =
    [("agent-1", "token-1"), ("agent-2", "token-2"), ("agent-3", "token-3"), ("agent-4", "token-4")];

fn token(agent: &str) -> &'static str {
    AGENTS.iter().find(|(id, _)| *id == agent).map(|(_, token)| *token).expect("a known agent")
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

// ------------------------------------------------------------ the servers

struct Node {
    child: Child,
    address: SocketAddr,
}

/// Starts a server on `listen` (port 0: a free one) and waits for `/healthz`.
async fn start_node(url: &str, schema: &str, listen: &str) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_talk-server"));
    command.args(["--listen", listen, "--postgres", url, "--postgres-schema", schema]);
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
async fn http(
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
async fn ok(address: SocketAddr, method: &str, path: &str, agent: &str, body: Option<Value>) -> Value {
    let (status, body) = http(address, method, path, Some(agent), body).await.expect("an answer");
    assert!((200..300).contains(&status), "{method} {path}: {status} {body}");
    body
}

// ------------------------------------------------------------ WebSocket clients

/// What one client follows, and what it received: `(seq, type)` in order.
struct Follower {
    agent: &'static str,
    /// `"*"` or a talk id.
    scope: String,
    node: usize,
    received: Mutex<Vec<(u64, String)>>,
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

// ------------------------------------------------------------ the test

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_three_nodes_one_killed_lose_nothing() {
    let url = common::postgres_url();
    let (admin, connection) =
        within("connecting to TALK_TEST_POSTGRES_URL", tokio_postgres::connect(&url, tokio_postgres::NoTls))
            .await
            .unwrap_or_else(|e| panic!("TALK_TEST_POSTGRES_URL={url} is unreachable: {e}"));
    tokio::spawn(connection);
    let schema = format!("talk_multi_node_{:016x}", rand::random::<u64>());
    within("create schema", admin.batch_execute(&format!("CREATE SCHEMA {schema}"))).await.expect("create schema");

    // Three nodes, started at once (they migrate the schema once between them).
    let (a, b, c) = tokio::join!(
        start_node(&url, &schema, "127.0.0.1:0"),
        start_node(&url, &schema, "127.0.0.1:0"),
        start_node(&url, &schema, "127.0.0.1:0"),
    );
    let mut nodes = vec![a, b, c];
    let addresses = Arc::new(Mutex::new(nodes.iter().map(|n| n.address).collect::<Vec<_>>()));
    let at = |i: usize| addresses.lock().expect("lock")[i];

    // Two talks, made through different nodes.
    let one = ok(
        at(0),
        "POST",
        "/v1.0/talks",
        "agent-1",
        Some(json!({"name": "One", "participant_ids": ["agent-2", "agent-3"]})),
    )
    .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let two = ok(
        at(1),
        "POST",
        "/v1.0/talks",
        "agent-2",
        Some(json!({"name": "Two", "participant_ids": ["agent-1", "agent-4"]})),
    )
    .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    // Followers on every node; node 2 is the one killed.
    let followers: Vec<Arc<Follower>> = [
        ("agent-1", "*", 0),
        ("agent-2", one.as_str(), 0),
        ("agent-2", "*", 1),
        ("agent-3", one.as_str(), 1),
        ("agent-4", "*", 1),
        ("agent-3", "*", 2),
        ("agent-1", two.as_str(), 2),
        ("agent-4", "*", 2),
    ]
    .into_iter()
    .map(|(agent, scope, node)| {
        Arc::new(Follower { agent, scope: scope.to_owned(), node, received: Mutex::new(Vec::new()) })
    })
    .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let follow_tasks: Vec<_> =
        followers.iter().map(|f| tokio::spawn(follow(f.clone(), addresses.clone(), stop.clone()))).collect();

    // Writers, one per node, at once: posts, reactions, and (writer 0)
    // agent-4 joining and leaving talk one. Failures while a node is down
    // are expected; the log says what happened.
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (addresses, done, one, two) = (addresses.clone(), done.clone(), one.clone(), two.clone());
            tokio::spawn(async move {
                let mut last_message: Option<String> = None;
                let mut joined = false;
                for k in 0..OPERATIONS {
                    let address = addresses.lock().expect("lock")[w];
                    let (talk, author) = if k % 2 == 0 { (&one, "agent-1") } else { (&two, "agent-2") };
                    let request = match k % 4 {
                        0 | 1 => Some((
                            "POST".to_owned(),
                            format!("/v1.0/talks/{talk}/messages"),
                            author,
                            Some(json!({"text": format!("writer {w} message {k}")})),
                        )),
                        2 => last_message.clone().map(|m| {
                            let emoji = ["👍", "🎉", "❤️", "👀"][(k / 4) % 4];
                            (
                                "POST".to_owned(),
                                format!("/v1.0/messages/{m}/reactions"),
                                "agent-2",
                                Some(json!({"emoji": emoji})),
                            )
                        }),
                        _ if w == 0 => Some(if joined {
                            ("DELETE".to_owned(), format!("/v1.0/talks/{one}/participants/me"), "agent-4", None)
                        } else {
                            (
                                "POST".to_owned(),
                                format!("/v1.0/talks/{one}/participants"),
                                "agent-1",
                                Some(json!({"agent_id": "agent-4"})),
                            )
                        }),
                        _ => Some((
                            "POST".to_owned(),
                            format!("/v1.0/talks/{two}/messages"),
                            "agent-4",
                            Some(json!({"text": format!("writer {w} note {k}")})),
                        )),
                    };
                    if let Some((method, path, agent, body)) = request {
                        match http(address, &method, &path, Some(agent), body).await {
                            Ok((status, answer)) if (200..300).contains(&status) => {
                                if k % 4 < 2 {
                                    last_message = answer["id"].as_str().map(str::to_owned);
                                } else if k % 4 == 3 && w == 0 {
                                    joined = !joined;
                                }
                            }
                            Ok((status, answer)) => {
                                assert!(status >= 500 || status == 409, "{method} {path}: {status} {answer}");
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Mid-way, node 2 dies (SIGKILL) and comes back on the same address.
    within("a third of the operations", async {
        while done.load(Ordering::SeqCst) < OPERATIONS {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let killed = nodes.remove(2);
    let mut child = killed.child;
    child.kill().await.expect("SIGKILL");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = start_node(&url, &schema, &killed.address.to_string()).await;
    addresses.lock().expect("lock")[2] = restarted.address;
    nodes.push(restarted);

    for writer in writers {
        within("the writers", writer).await.expect("a writer");
    }

    // What each agent sees, from the log (paged, through node 0).
    let mut seen: BTreeMap<&str, Vec<(u64, String, String)>> = BTreeMap::new();
    for (agent, _) in AGENTS {
        let mut since = 0u64;
        let mut events = Vec::new();
        loop {
            let page = ok(at(0), "GET", &format!("/v1.0/events?since={since}&page_size=100"), agent, None).await;
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

    // Every follower ends up with exactly that, each once, in order.
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
    for task in follow_tasks {
        within("a follower stopping", task).await.expect("a follower");
    }
    let mut summary = Vec::new();
    for (f, want) in followers.iter().zip(&expected) {
        let got = f.received.lock().expect("lock");
        assert!(!want.is_empty(), "{} on {} sees nothing", f.agent, f.scope);
        assert_eq!(*got, *want, "{} on {} (node {})", f.agent, f.scope, f.node);
        summary.push(format!("{}@node{}:{}={}", f.agent, f.node, if f.scope == "*" { "*" } else { "talk" }, got.len()));
    }
    eprintln!("multi_node: events verified per client: {}", summary.join(", "));

    for mut node in nodes {
        let _ = node.child.kill().await;
    }
    within("drop schema", admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))).await.expect("drop schema");
}
