//! Rows 4, 5 and 7: Talk's router over real sockets. Each server runs in a
//! process of its own (`talk-bench-server`, Talk or the bare baseline of
//! `baseline.rs`) on 127.0.0.1; this process is the load tool and the
//! clients.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use talk_benches::load::{HttpClient, PATIENCE, Server, Socket, create_talk, subscribe, token};
use talk_benches::{Mode, Row, median, show, show_rate};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// The server binary, built with the suite.
const SERVER: &str = env!("CARGO_BIN_EXE_talk-bench-server");

/// The concurrent connections of row 4.
const CONNECTIONS: usize = 64;

/// The most WebSocket connections opened at once while a fleet connects.
const CONNECTING: usize = 32;

fn start(args: &[&str]) -> Server {
    let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
    Server::start(SERVER, &args).expect("start talk-bench-server")
}

/// A server with its talk: a group talk of `agent-0` … `agent-(members-1)`
/// on a Talk server (created over HTTP by `agent-0`), or any talk id on the
/// bare one, which keeps no talks.
pub(crate) struct Target {
    pub(crate) server: Server,
    pub(crate) talk: String,
}

impl Target {
    pub(crate) async fn talk(args: &[&str], members: usize) -> Self {
        let server = start(args);
        let talk = create_talk(server.address(), "bench", members).await.expect("create the talk");
        Self { server, talk }
    }

    fn bare(args: &[&str]) -> Self {
        Self { server: start(args), talk: uuid::Uuid::now_v7().to_string() }
    }

    pub(crate) fn messages(&self) -> String {
        format!("/v1.0/talks/{}/messages", self.talk)
    }
}

/// The sorted keys of a JSON object, and of its `data` object if any.
pub(crate) fn shape(json: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(json).expect("JSON");
    let mut keys: Vec<String> = value.as_object().expect("an object").keys().cloned().collect();
    if let Some(data) = value.get("data").and_then(|d| d.as_object()) {
        keys.extend(data.keys().map(|k| format!("data.{k}")));
    }
    keys.sort();
    keys
}

// ---------------------------------------------------------------- row 4

/// One load slice: every client sends `POST …/messages` as its own agent
/// (client `i` is `agent-i`), one request at a time, for about `slice`.
/// Answers the clients, the number of `201` answers and the time taken.
async fn load_slice(clients: Vec<HttpClient>, path: &str, slice: Duration) -> (Vec<HttpClient>, usize, Duration) {
    let start = Instant::now();
    let tasks: Vec<JoinHandle<(HttpClient, usize)>> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut client)| {
            let path = path.to_owned();
            tokio::spawn(async move {
                let token = token(i);
                let mut sent = 0;
                while sent < 1_000_000 && start.elapsed() < slice {
                    let body = format!(r#"{{"text":"message {sent} from sender {i}"}}"#);
                    let status = client.post(&path, &token, &body).await.expect("a send");
                    assert_eq!(status, 201, "a send: {}", String::from_utf8_lossy(client.body()));
                    sent += 1;
                }
                (client, sent)
            })
        })
        .collect();
    let mut clients = Vec::with_capacity(tasks.len());
    let mut sent = 0;
    for task in tasks {
        let (client, count) = task.await.expect("a load task");
        clients.push(client);
        sent += count;
    }
    (clients, sent, start.elapsed())
}

/// One server under row 4's load, with what it did so far.
struct Loaded {
    target: Target,
    clients: Vec<HttpClient>,
    sent: usize,
    time: Duration,
}

impl Loaded {
    async fn new(target: Target) -> Self {
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            clients.push(HttpClient::connect(target.server.address()).await.expect("connect"));
        }
        Self { target, clients, sent: 0, time: Duration::ZERO }
    }

    async fn run(&mut self, slice: Duration, counted: bool) {
        let clients = std::mem::take(&mut self.clients);
        let (clients, sent, time) = load_slice(clients, &self.target.messages(), slice).await;
        self.clients = clients;
        if counted {
            self.sent += sent;
            self.time += time;
        }
    }

    fn rate(&self) -> f64 {
        self.sent as f64 / self.time.as_secs_f64().max(1e-9)
    }

    /// The body of the last answer to client 0.
    fn last_answer(&self) -> &[u8] {
        self.clients.first().map(HttpClient::body).unwrap_or_default()
    }
}

/// Row 4: `POST /v1.0/talks/{id}/messages` by 64 keep-alive connections (64
/// agents of one talk) against Talk on MemoryStore, Talk on SqliteStore
/// (default options: `synchronous=FULL`) and the bare axum handler, in
/// turns of equal slices so that all three see the same load.
pub(crate) async fn http_sends(mode: Mode) -> Vec<Row> {
    let (slices, slice) = mode.pick((2, Duration::from_millis(300)), (6, Duration::from_millis(1500)));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("row4.db");
    let db = db.to_str().expect("a UTF-8 path");
    let agents = CONNECTIONS.to_string();
    let mut memory = Loaded::new(Target::talk(&["talk", "--agents", &agents], CONNECTIONS).await).await;
    let mut sqlite = Loaded::new(Target::talk(&["talk", "--agents", &agents, "--sqlite", db], CONNECTIONS).await).await;
    let mut bare = Loaded::new(Target::bare(&["bare", "--agents", &agents])).await;
    // A first short slice each, not counted: connections, caches, allocator.
    for loaded in [&mut memory, &mut sqlite, &mut bare] {
        loaded.run(slice / 4, false).await;
    }
    for _ in 0..slices {
        for loaded in [&mut memory, &mut sqlite, &mut bare] {
            loaded.run(slice, true).await;
        }
    }
    let bare_shape = shape(bare.last_answer());
    assert_eq!(shape(memory.last_answer()), bare_shape, "the bare handler answers a message of Talk's shape");
    let size = |l: &Loaded| l.last_answer().len();
    let base = bare.rate();
    [(&memory, "MemoryStore", 0.6), (&sqlite, "SqliteStore (synchronous=FULL)", 0.35)]
        .into_iter()
        .map(|(loaded, store, goal)| {
            let ratio = loaded.rate() / base.max(1e-9);
            Row {
                id: "4".into(),
                what: format!(
                    "HTTP POST …/messages, Talk on {store}, {CONNECTIONS} keep-alive connections, \
                     load tool in its own process ({} B answers)",
                    size(loaded)
                ),
                figure: show_rate(loaded.rate()),
                baseline: format!(
                    "{} (bare axum handler, same body and answer shape, {} B)",
                    show_rate(base),
                    size(&bare)
                ),
                ratio,
                goal: format!("≥ {goal}×"),
                met: ratio >= goal,
            }
        })
        .collect()
}

// ---------------------------------------------------------------- row 5

/// The frames row 5 counts.
const MESSAGE_CREATED: &str = r#"{"type":"message_created""#;

/// What a fleet's readers share, for one kind of frame: those whose text
/// starts with `prefix`.
#[derive(Default)]
struct Tally {
    prefix: &'static str,
    /// Frames of the kind received, all sockets together.
    received: AtomicUsize,
    /// When `received` last reached a multiple of the fleet's size, and the count then.
    completed: Mutex<Option<(usize, Instant)>>,
    done: tokio::sync::Notify,
    /// The first event frame received, to compare shapes.
    first: OnceLock<Vec<u8>>,
}

/// `n` subscribed WebSockets of one server, each read by its own task,
/// which counts the event frames (`message_created`) it receives, and the
/// frames of any other kinds asked for.
pub(crate) struct Fleet {
    n: usize,
    /// One per kind of frame counted; the first counts `message_created`.
    tallies: Vec<Arc<Tally>>,
    readers: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Subscribes `agent-0` … `agent-(n-1)` to the target's talk,
    /// [`CONNECTING`] at a time.
    pub(crate) async fn connect(target: &Target, n: usize) -> Self {
        Self::counting(target, n, &[]).await
    }

    /// As [`Fleet::connect`], counting besides the frames that start with
    /// each of `prefixes` (kind 1, 2, …).
    pub(crate) async fn counting(target: &Target, n: usize, prefixes: &[&'static str]) -> Self {
        let address = target.server.address();
        Self::open_counting(n, prefixes, |i| {
            let talk = target.talk.clone();
            async move { subscribe(address, &token(i), &talk).await.expect("a subscribed WebSocket") }
        })
        .await
    }

    /// `n` sockets opened by `open(0)` … `open(n-1)`, [`CONNECTING`] at a
    /// time, each read by its own task.
    pub(crate) async fn open<F: Future<Output = Socket>>(n: usize, open: impl FnMut(usize) -> F) -> Self {
        Self::open_counting(n, &[], open).await
    }

    async fn open_counting<F: Future<Output = Socket>>(
        n: usize,
        prefixes: &[&'static str],
        open: impl FnMut(usize) -> F,
    ) -> Self {
        let sockets: Vec<Socket> = futures::stream::iter(0..n).map(open).buffer_unordered(CONNECTING).collect().await;
        let tallies: Vec<Arc<Tally>> = [MESSAGE_CREATED]
            .iter()
            .chain(prefixes)
            .map(|&prefix| Arc::new(Tally { prefix, ..Tally::default() }))
            .collect();
        let readers = sockets.into_iter().map(|socket| tokio::spawn(read(socket, n, tallies.clone()))).collect();
        Self { n, tallies, readers }
    }

    /// Its number of sockets.
    pub(crate) fn size(&self) -> usize {
        self.n
    }

    /// The count `received` reaches when every socket holds one more frame.
    pub(crate) fn next_target(&self) -> usize {
        self.next_target_of(0)
    }

    /// As [`Fleet::next_target`], for frames of `kind`.
    pub(crate) fn next_target_of(&self, kind: usize) -> usize {
        self.received(kind) + self.n
    }

    /// Frames of `kind` received so far, all sockets together.
    pub(crate) fn received(&self, kind: usize) -> usize {
        self.tallies[kind].received.load(Ordering::Acquire)
    }

    /// When every socket held its frame of the round that ends at `target`.
    pub(crate) async fn completed(&self, target: usize) -> Instant {
        self.completed_of(0, target).await
    }

    /// As [`Fleet::completed`], for frames of `kind`.
    pub(crate) async fn completed_of(&self, kind: usize, target: usize) -> Instant {
        let tally = &self.tallies[kind];
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let done = tally.done.notified();
            if let Some((count, at)) = *tally.completed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
                && count >= target
            {
                return at;
            }
            let received = tally.received.load(Ordering::Acquire);
            let waited = tokio::time::timeout_at(deadline, done).await;
            assert!(waited.is_ok(), "{received} of {target} frames arrived within {PATIENCE:?}");
        }
    }

    pub(crate) fn first_frame(&self) -> &[u8] {
        self.tallies[0].first.get().map(Vec::as_slice).unwrap_or_default()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Reads one socket until it ends, counting the frames of each tally's kind.
async fn read(mut socket: Socket, n: usize, tallies: Vec<Arc<Tally>>) {
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else { continue };
        let Some(tally) = tallies.iter().find(|tally| text.as_str().starts_with(tally.prefix)) else { continue };
        let _ = tally.first.set(text.as_bytes().to_vec());
        let count = tally.received.fetch_add(1, Ordering::AcqRel) + 1;
        if count.is_multiple_of(n) {
            *tally.completed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((count, Instant::now()));
            tally.done.notify_one();
        }
    }
}

/// One round: from writing the `POST` until every socket of the fleet holds
/// the message's frame.
pub(crate) async fn round(client: &mut HttpClient, target: &Target, fleet: &Fleet, round: usize) -> Duration {
    let expected = fleet.next_target();
    let body = format!(r#"{{"text":"fan-out round {round}"}}"#);
    let start = Instant::now();
    let status = client.post(&target.messages(), &token(0), &body).await.expect("a send");
    assert_eq!(status, 201, "a send: {}", String::from_utf8_lossy(client.body()));
    fleet.completed(expected).await.saturating_duration_since(start)
}

/// One side of row 5: a server, its talk and the sender's connection.
struct FanOutSide {
    target: Target,
    client: HttpClient,
    samples: Vec<Duration>,
    frame: Vec<u8>,
}

impl FanOutSide {
    async fn new(target: Target) -> Self {
        let client = HttpClient::connect(target.server.address()).await.expect("connect");
        Self { target, client, samples: Vec::new(), frame: Vec::new() }
    }

    async fn rounds(&mut self, fleet: &Fleet, rounds: usize) {
        for r in 0..rounds {
            let sample = round(&mut self.client, &self.target, fleet, self.samples.len() + r).await;
            self.samples.push(sample);
        }
        if self.frame.is_empty() {
            self.frame = fleet.first_frame().to_vec();
        }
    }
}

/// Row 5 for `n` subscribers: the Talk server (MemoryStore; the limit of
/// participants raised above 1000 only when `n` needs it) against the bare
/// server. With both fleets fitting in the fd limit (n ≤ 1000) the two
/// alternate round by round; else in blocks, one fleet connected at a time.
async fn fan_out_row(mode: Mode, n: usize) -> Row {
    let agents = n.to_string();
    let mut talk_args = vec!["talk", "--agents", &agents];
    if n > 1000 {
        talk_args.extend(["--participants-max", &agents]);
    }
    let mut talk = FanOutSide::new(Target::talk(&talk_args, n).await).await;
    let mut bare = FanOutSide::new(Target::bare(&["bare", "--agents", &agents])).await;
    let warm_up = 3;
    if n <= 1000 {
        let rounds = mode.pick(20, if n >= 1000 { 100 } else { 300 });
        let talk_fleet = Fleet::connect(&talk.target, n).await;
        let bare_fleet = Fleet::connect(&bare.target, n).await;
        talk.rounds(&talk_fleet, warm_up).await;
        bare.rounds(&bare_fleet, warm_up).await;
        talk.samples.clear();
        bare.samples.clear();
        for _ in 0..rounds {
            talk.rounds(&talk_fleet, 1).await;
            bare.rounds(&bare_fleet, 1).await;
        }
    } else {
        // Blocks of a few rounds, Talk first in one block and the bare
        // server first in the next, so that a change in the machine's load
        // falls on both sides alike.
        let (blocks, rounds) = mode.pick((2, 3), (4, 8));
        for block in 0..blocks {
            let sides = if block % 2 == 0 { [&mut talk, &mut bare] } else { [&mut bare, &mut talk] };
            for side in sides {
                let fleet = Fleet::connect(&side.target, n).await;
                side.rounds(&fleet, warm_up).await;
                let kept = side.samples.len() - warm_up;
                side.samples.truncate(kept);
                side.rounds(&fleet, rounds).await;
            }
        }
    }
    assert_eq!(shape(&talk.frame), shape(&bare.frame), "the bare frame has the shape of Talk's");
    let rounds = talk.samples.len();
    let (figure, base) = (median(talk.samples), median(bare.samples));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    let limit = if n > 1000 { ", participants limit raised" } else { "" };
    Row {
        id: "5".into(),
        what: format!(
            "WebSocket fan-out, POST → {n} {} the frame ({} B), Talk on MemoryStore{limit}, \
             clients in their own process (p50 of {rounds})",
            if n == 1 { "subscriber holds" } else { "subscribers hold" },
            talk.frame.len()
        ),
        figure: show(figure),
        baseline: format!("{} (bare axum WebSocket server, same POST, {} B frame)", show(base), bare.frame.len()),
        ratio,
        goal: if n >= 100 { "≤ 1.5×".into() } else { "report".into() },
        met: n < 100 || ratio <= 1.5,
    }
}

/// Row 5: N = 1, 100, 1000 (the default participants limit) and 10,000.
pub(crate) async fn fan_out(mode: Mode) -> Vec<Row> {
    let mut rows = Vec::new();
    for n in mode.pick(vec![1, 100, 1000], vec![1, 100, 1000, 10_000]) {
        rows.push(fan_out_row(mode, n).await);
    }
    rows
}

// ---------------------------------------------------------------- row 7

/// The resident memory `target`'s server grows by per connection, with `n`
/// WebSockets open, subscribed and idle: RSS after minus RSS before, over
/// `n`. Answers bytes per connection.
async fn per_connection(target: &Target, n: usize) -> f64 {
    let settle = Duration::from_millis(500);
    tokio::time::sleep(settle).await;
    let before = target.server.rss_bytes().expect("the server's RSS");
    let fleet = Fleet::connect(target, n).await;
    tokio::time::sleep(settle).await;
    // Settled: three readings a little apart, the last one counts.
    let mut after = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = target.server.rss_bytes().expect("the server's RSS");
    }
    drop(fleet);
    after.saturating_sub(before) as f64 / n as f64
}

/// Row 7: memory per idle subscribed WebSocket at `n` connections, Talk
/// (MemoryStore, one talk of all `n` agents, limit raised) against the bare
/// server with the same buffer settings; each in a fresh process.
pub(crate) async fn idle_memory(mode: Mode) -> Vec<Row> {
    let mut rows = Vec::new();
    for n in mode.pick(vec![1000], vec![1000, 8000]) {
        let agents = n.to_string();
        let talk = Target::talk(&["talk", "--agents", &agents, "--participants-max", &agents], n).await;
        let figure = per_connection(&talk, n).await;
        drop(talk);
        let bare = Target::bare(&["bare", "--agents", &agents]);
        let base = per_connection(&bare, n).await;
        drop(bare);
        let kib = |bytes: f64| format!("{:.1} KiB", bytes / 1024.0);
        let ratio = figure / base.max(1.0);
        rows.push(Row {
            id: "7".into(),
            what: format!("memory per idle subscribed WebSocket, {n} connections, Talk server RSS growth / N"),
            figure: kib(figure),
            baseline: format!("{} (bare axum WebSocket, same buffer settings)", kib(base)),
            ratio,
            goal: "≤ 16 KiB per connection".into(),
            met: figure <= 16.0 * 1024.0,
        });
    }
    rows
}
