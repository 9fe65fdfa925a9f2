//! Rows T1–T4: typing and presence. T1–T3 load `talk-bench-server` (Talk
//! on MemoryStore, a process of its own) over WebSockets with row 5's fleet
//! of 1 000 subscribers and measure beside row 5's message fan-out on the
//! same server and fleet; T4 runs two Hubs on one PostgreSQL in process,
//! beside P2.
//!
//! The Hub sends at most one typing frame per typist, talk and thread a
//! second and holds back (coalesces) a change that comes sooner, so the
//! timed rows rotate many typists ([`Rota`]), each a member of the talk
//! with a socket of its own subscribed to it (typing needs a subscription).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use talk_benches::load::{HttpClient, PATIENCE, Socket, connect_websocket, cpu_seconds, subscribe, token};
use talk_benches::{Mode, Row, median, show, show_rate};
use talk_core::{Delivery, Hub, NewMessage, Scope, Subscription, TalkId, TypingState};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::agent;
use crate::postgres_rows::{self, node, talk_of};
use crate::socket_rows::{Fleet, Target, round};

/// Row 5's subscribers, and the N of every row here.
const SUBSCRIBERS: usize = 1000;

/// The start of a `typing` server frame (kind 1 of the fleets here).
const TYPING: &str = r#"{"type":"typing","#;

/// The start of a `presence` server frame.
const PRESENCE: &str = r#"{"type":"presence","#;

/// The least time between two typing changes of one typist: the Hub's
/// coalescing interval (1 s) with a margin for the time a frame takes to
/// arrive, so that no timed frame is held back.
const SPACING: Duration = Duration::from_millis(1200);

/// Rounds run and not counted: connections, caches, the Hub's first reads.
const WARM_UP: usize = 3;

/// Runs T1–T4, printing each row as it is measured.
pub(crate) async fn run(mode: Mode) {
    typing_fan_out(mode).await.print();
    typing_storm(mode, false).await.print();
    typing_storm(mode, true).await.print();
    match presence_churn(mode).await {
        Ok(row) => row.print(),
        Err(why) => crate::println_skip(&format!("T3: {why}")),
    }
    match cross_node_typing(mode).await {
        Some(row) => row.print(),
        None => crate::println_skip("T4: set TALK_BENCH_POSTGRES_URL to a PostgreSQL server to run it"),
    }
}

/// Typists taking turns so that no frame of theirs is coalesced: each
/// change of a typist comes at least [`SPACING`] after its previous one.
struct Rota {
    last: Vec<Option<Instant>>,
}

impl Rota {
    fn new(typists: usize) -> Self {
        Self { last: vec![None; typists] }
    }

    /// Waits until typist `j` may change its state, and notes that it does now.
    async fn turn(&mut self, j: usize) {
        if let Some(at) = self.last[j] {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at + SPACING)).await;
        }
        self.last[j] = Some(Instant::now());
    }

    /// The typist that starts in round `i`, and the one that stops before
    /// it (the one that started half a rotation earlier), if any.
    fn of_round(&self, i: usize) -> (usize, Option<usize>) {
        let k = self.last.len();
        let stop = (i >= k / 2).then(|| (i + k - k / 2) % k);
        (i % k, stop)
    }
}

/// The CPU the server and this process (the clients) used over some
/// stretches of a run, in cores: the 2-core machine is shared, so a row
/// that needs more than it has shows it here.
#[derive(Default)]
struct CpuUse {
    /// CPU seconds of the server, and of this process.
    server: f64,
    clients: f64,
    wall: Duration,
}

/// Where a stretch measured by [`CpuUse`] began.
struct CpuMark {
    server: f64,
    clients: f64,
    at: Instant,
}

impl CpuUse {
    fn mark(target: &Target) -> CpuMark {
        CpuMark {
            server: cpu_seconds(target.server.pid()).unwrap_or_default(),
            clients: cpu_seconds(std::process::id()).unwrap_or_default(),
            at: Instant::now(),
        }
    }

    /// Adds the stretch from `mark` until now.
    fn add(&mut self, mark: CpuMark, target: &Target) {
        let now = Self::mark(target);
        self.server += now.server - mark.server;
        self.clients += now.clients - mark.clients;
        self.wall += now.at - mark.at;
    }

    fn show(&self) -> String {
        let wall = self.wall.as_secs_f64().max(1e-9);
        format!("server {:.2} + clients {:.2} cores", self.server / wall, self.clients / wall)
    }
}

// ------------------------------------------------------ typist sockets

/// The sockets of typing agents: each subscribed to the talk, written by
/// the rows, read by a task of its own that counts `error` frames.
struct Typists {
    talk: String,
    sinks: Vec<SplitSink<Socket, Message>>,
    readers: Vec<JoinHandle<()>>,
    errors: Arc<AtomicUsize>,
    first_error: Arc<std::sync::OnceLock<String>>,
}

impl Typists {
    /// Subscribes the agents `agents` to the target's talk.
    async fn connect(target: &Target, agents: std::ops::Range<usize>) -> Self {
        let address = target.server.address();
        let errors = Arc::new(AtomicUsize::new(0));
        let first_error = Arc::new(std::sync::OnceLock::new());
        let (mut sinks, mut readers) = (Vec::new(), Vec::new());
        for i in agents {
            let socket = subscribe(address, &token(i), &target.talk).await.expect("a typist's WebSocket");
            let (sink, mut stream) = socket.split();
            let (errors, first_error) = (Arc::clone(&errors), Arc::clone(&first_error));
            readers.push(tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Text(text) = message
                        && text.as_str().starts_with(r#"{"type":"error""#)
                    {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let _ = first_error.set(text.as_str().to_owned());
                    }
                }
            }));
            sinks.push(sink);
        }
        Self { talk: target.talk.clone(), sinks, readers, errors, first_error }
    }

    fn len(&self) -> usize {
        self.sinks.len()
    }

    /// Typist `j` types (a `typing` frame) or stops (`typing_stop`).
    async fn send(&mut self, j: usize, typing: bool) {
        let kind = if typing { "typing" } else { "typing_stop" };
        let frame = format!(r#"{{"type":"{kind}","talk_id":"{}"}}"#, self.talk);
        self.sinks[j].send(Message::text(frame)).await.expect("a typing frame written");
    }

    /// Panics with the first `error` frame the typists got, if any.
    fn assert_no_errors(&self) {
        let errors = self.errors.load(Ordering::Relaxed);
        assert_eq!(errors, 0, "the typists got {errors} error frames, the first: {:?}", self.first_error.get());
    }
}

impl Drop for Typists {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// A Talk bench server whose talk has `members` members, the participants
/// limit raised to fit them; with `nodelay`, its sockets send small frames
/// at once (`TCP_NODELAY`), without, as `axum::serve` does by default.
async fn server(members: usize, nodelay: bool) -> Target {
    let agents = members.to_string();
    let mut args = vec!["talk", "--agents", &agents, "--participants-max", &agents];
    if nodelay {
        args.push("--nodelay");
    }
    Target::talk(&args, members).await
}

/// From writing typist `j`'s frame until every socket of the fleet holds
/// the `typing` frame it makes.
async fn typing_round(typists: &mut Typists, fleet: &Fleet, j: usize, typing: bool) -> Duration {
    let expected = fleet.next_target_of(1);
    let start = Instant::now();
    typists.send(j, typing).await;
    fleet.completed_of(1, expected).await.saturating_duration_since(start)
}

// ---------------------------------------------------------------- T1

/// Row T1: a typing frame to 1 000 subscribers of one talk against row 5's
/// message to the same subscribers, alternating round by round (which goes
/// first alternates too).
async fn typing_fan_out(mode: Mode) -> Row {
    let typists = 32;
    let target = server(SUBSCRIBERS + typists, false).await;
    let fleet = Fleet::counting(&target, SUBSCRIBERS, &[TYPING]).await;
    let mut sockets = Typists::connect(&target, SUBSCRIBERS..SUBSCRIBERS + typists).await;
    let mut client = HttpClient::connect(target.server.address()).await.expect("connect");
    let mut rota = Rota::new(typists);
    let rounds = mode.pick(20, 100);
    let (mut typing, mut messages) = (Vec::new(), Vec::new());
    for i in 0..WARM_UP + rounds {
        let (starts, stops) = rota.of_round(i);
        if let Some(s) = stops {
            rota.turn(s).await;
            typing_round(&mut sockets, &fleet, s, false).await;
        }
        rota.turn(starts).await;
        let (t, m) = if i % 2 == 0 {
            let t = typing_round(&mut sockets, &fleet, starts, true).await;
            (t, round(&mut client, &target, &fleet, i).await)
        } else {
            let m = round(&mut client, &target, &fleet, i).await;
            (typing_round(&mut sockets, &fleet, starts, true).await, m)
        };
        if i >= WARM_UP {
            typing.push(t);
            messages.push(m);
        }
    }
    sockets.assert_no_errors();
    let (figure, base) = (median(typing), median(messages));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    Row {
        id: "T1".into(),
        what: format!(
            "WebSocket typing fan-out: `typing` written → {SUBSCRIBERS} subscribers hold the `typing` frame, \
             Talk on MemoryStore, {typists} typists taking turns (p50 of {rounds})"
        ),
        figure: show(figure),
        baseline: format!("{} (row 5: POST → the same subscribers hold `message_created`, alternating)", show(base)),
        ratio,
        goal: "≤ 1.1×".into(),
        met: ratio <= 1.1,
    }
}

// ---------------------------------------------------------------- T2

/// Typists that each start and stop typing in turn, a change a second,
/// while switched on.
struct Storm {
    on: watch::Sender<bool>,
    /// Typists typing now (their tasks are between a switch-on and its end).
    running: Arc<AtomicUsize>,
    /// `typing` and `typing_stop` frames written.
    sent: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
    _typists: Typists,
}

impl Storm {
    /// Takes over the typists' sockets; typist `j` changes at `j`/len of
    /// each second, so that the changes spread evenly.
    fn new(mut typists: Typists) -> Self {
        let (on, _) = watch::channel(false);
        let running = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let count = typists.len();
        let talk = typists.talk.clone();
        let tasks = std::mem::take(&mut typists.sinks)
            .into_iter()
            .enumerate()
            .map(|(j, sink)| {
                let phase = Duration::from_secs(1) * u32::try_from(j).unwrap_or(0) / u32::try_from(count).unwrap_or(1);
                let (switch, running, sent, talk) = (on.subscribe(), running.clone(), sent.clone(), talk.clone());
                tokio::spawn(storm_typist(sink, talk, phase, switch, running, sent))
            })
            .collect();
        Self { on, running, sent, tasks, _typists: typists }
    }

    fn start(&self) {
        self.running.store(self.tasks.len(), Ordering::Release);
        self.on.send_replace(true);
    }

    /// Switches the storm off and waits until every typist sent its last
    /// stop and the Hub sent what it held back.
    async fn stop(&self) {
        self.on.send_replace(false);
        let deadline = Instant::now() + PATIENCE;
        while self.running.load(Ordering::Acquire) > 0 {
            assert!(Instant::now() < deadline, "the storm's typists did not stop");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // A stop within a second of its start is held back until the
        // second ends; the Hub's sweep then sends it.
        tokio::time::sleep(Duration::from_millis(1300)).await;
    }

    fn sent(&self) -> usize {
        self.sent.load(Ordering::Acquire)
    }
}

impl Drop for Storm {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One typist of a storm: while switched on, a `typing` and a
/// `typing_stop` in turn, one a second, `phase` into each second.
async fn storm_typist(
    mut sink: SplitSink<Socket, Message>,
    talk: String,
    phase: Duration,
    mut on: watch::Receiver<bool>,
    running: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
) {
    let frame = |kind: &str| Message::text(format!(r#"{{"type":"{kind}","talk_id":"{talk}"}}"#));
    loop {
        if on.wait_for(|on| *on).await.is_err() {
            return;
        }
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + phase, Duration::from_secs(1));
        let mut typing = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = on.wait_for(|on| !*on) => break,
            }
            typing = !typing;
            sink.send(frame(if typing { "typing" } else { "typing_stop" })).await.expect("a storm frame written");
            sent.fetch_add(1, Ordering::AcqRel);
        }
        if typing {
            sink.send(frame("typing_stop")).await.expect("a storm frame written");
            sent.fetch_add(1, Ordering::AcqRel);
        }
        running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The bench server's signal counts: typing frames delivered, dropped and
/// coalesced by its Hub.
async fn signal_counts(client: &mut HttpClient) -> [u64; 3] {
    let status = client.request("GET", "/bench/signal-counts", "", "").await.expect("the signal counts");
    assert_eq!(status, 200, "the signal counts");
    let text = String::from_utf8_lossy(client.body()).into_owned();
    let counts: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    assert!(counts.len() >= 3, "signal counts: {text:?}");
    [counts[0], counts[1], counts[2]]
}

/// Row T2: row 5's message fan-out (N = 1 000) while 50 typists start and
/// stop in turn, against the same without them: blocks of rounds, one
/// without the storm, one with, in turn.
async fn typing_storm(mode: Mode, nodelay: bool) -> Row {
    let typists = 50;
    let target = server(SUBSCRIBERS + typists, nodelay).await;
    let fleet = Fleet::counting(&target, SUBSCRIBERS, &[TYPING]).await;
    let sockets = Typists::connect(&target, SUBSCRIBERS..SUBSCRIBERS + typists).await;
    let errors = (Arc::clone(&sockets.errors), Arc::clone(&sockets.first_error));
    let storm = Storm::new(sockets);
    let mut client = HttpClient::connect(target.server.address()).await.expect("connect");
    let (blocks, per_block) = mode.pick((1, 20), (8, 25));
    let mut sent_messages = 0;
    for i in 0..WARM_UP {
        round(&mut client, &target, &fleet, i).await;
        sent_messages += 1;
    }
    let (mut quiet, mut stormy) = (Vec::new(), Vec::new());
    let (mut quiet_cpu, mut stormy_cpu) = (CpuUse::default(), CpuUse::default());
    for _ in 0..blocks {
        let mark = CpuUse::mark(&target);
        for _ in 0..per_block {
            quiet.push(round(&mut client, &target, &fleet, sent_messages).await);
            sent_messages += 1;
        }
        quiet_cpu.add(mark, &target);
        storm.start();
        // Every typist under way: it changes within its first second.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mark = CpuUse::mark(&target);
        for _ in 0..per_block {
            stormy.push(round(&mut client, &target, &fleet, sent_messages).await);
            sent_messages += 1;
        }
        stormy_cpu.add(mark, &target);
        storm.stop().await;
    }
    let errors_seen = errors.0.load(Ordering::Relaxed);
    assert_eq!(errors_seen, 0, "the storm's typists got {errors_seen} error frames, the first: {:?}", errors.1.get());
    let events = fleet.received(0);
    let all_events = events == SUBSCRIBERS * sent_messages;
    let (sent, received) = (storm.sent(), fleet.received(1));
    let [_, dropped, coalesced] = signal_counts(&mut client).await;
    let (figure, base) = (median(stormy), median(quiet));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    let expected = sent * SUBSCRIBERS;
    Row {
        id: "T2".into(),
        what: format!(
            "row 5 (N = {SUBSCRIBERS}{}) while {typists} typists start and stop in turn (a change a second each): \
             events {events}/{} held (every subscriber, every message); typing frames held {received} of \
             {sent} changes × {SUBSCRIBERS} = {expected} ({:.1} % coalesced or dropped; the Hub coalesced {coalesced} \
             changes, dropped {dropped} frames on full queues); CPU {} (p50 of {})",
            if nodelay { ", server sockets with TCP_NODELAY" } else { "" },
            SUBSCRIBERS * sent_messages,
            100.0 * expected.saturating_sub(received) as f64 / expected.max(1) as f64,
            stormy_cpu.show(),
            blocks * per_block
        ),
        figure: show(figure),
        baseline: format!(
            "{} (the same rounds without the typists, in alternating blocks; CPU {})",
            show(base),
            quiet_cpu.show()
        ),
        ratio,
        goal: "≤ 1.3×, no event frame dropped".into(),
        met: ratio <= 1.3 && all_events,
    }
}

// ---------------------------------------------------------------- T3

/// The presence agents each watching socket follows (the API's most).
const WATCHED: usize = 200;

/// Agents whose sockets come and go: `agent-1000` … `agent-10999`.
const CHURNING: usize = 10_000;

/// Sockets connected a second.
const CHURN_RATE: u32 = 200;

/// How long each of them stays open.
const CHURN_HOLD: Duration = Duration::from_secs(1);

/// The reconnect grace (`SignalOptions::reconnect_grace`): an agent goes
/// offline this long after its last socket closed.
const GRACE: Duration = Duration::from_secs(5);

/// The soft limit of open files of this process (the server's is the same).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Sockets that each follow the presence of [`WATCHED`] churning agents
/// (watcher `i` follows agents `i × 10` … `i × 10 + 199` of them, so each
/// churning agent has 20 watchers), read by tasks that count the
/// `presence` frames.
struct Watchers {
    received: Arc<AtomicUsize>,
    /// The first frame a watcher got that is not `presence` (an error).
    other: Arc<std::sync::OnceLock<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Watchers {
    async fn connect(target: &Target, count: usize) -> Self {
        let address = target.server.address();
        let received = Arc::new(AtomicUsize::new(0));
        let other = Arc::new(std::sync::OnceLock::new());
        let sockets: Vec<Socket> = futures::stream::iter(0..count)
            .map(|i| async move {
                let path = format!("/v1.0/ws?token={}", token(i));
                let mut socket = connect_websocket(address, &path).await.expect("a watcher's WebSocket");
                let ids: Vec<String> = (0..WATCHED)
                    .map(|j| format!("\"agent-{}\"", SUBSCRIBERS + (i * CHURNING / count + j) % CHURNING))
                    .collect();
                let frame = format!(r#"{{"type":"presence_subscribe","agent_ids":[{}]}}"#, ids.join(","));
                socket.send(Message::text(frame)).await.expect("a presence_subscribe");
                socket
            })
            .buffer_unordered(32)
            .collect()
            .await;
        let readers = sockets
            .into_iter()
            .map(|mut socket| {
                let (received, other) = (Arc::clone(&received), Arc::clone(&other));
                tokio::spawn(async move {
                    while let Some(Ok(message)) = socket.next().await {
                        let Message::Text(text) = message else { continue };
                        if text.as_str().starts_with(PRESENCE) {
                            received.fetch_add(1, Ordering::AcqRel);
                        } else {
                            let _ = other.set(text.as_str().to_owned());
                        }
                    }
                })
            })
            .collect();
        Self { received, other, readers }
    }

    fn received(&self) -> usize {
        self.received.load(Ordering::Acquire)
    }

    /// Waits until the watchers hold `count` presence frames in all.
    async fn hold(&self, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.received() < count {
            assert!(
                Instant::now() < deadline,
                "the watchers hold {} of {count} presence frames (first other frame: {:?})",
                self.received(),
                self.other.get()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Connects sockets of churning agents `first` … `first + count - 1`,
/// [`CHURN_RATE`] a second, each closed after [`CHURN_HOLD`]. Answers
/// when the last is closed, with the rate achieved and the failures.
async fn churn(address: std::net::SocketAddr, first: usize, count: usize) -> (f64, usize) {
    let failures = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now();
    let every = Duration::from_secs(1) / CHURN_RATE;
    let mut sockets = Vec::with_capacity(count);
    for k in 0..count {
        tokio::time::sleep_until(start + every * u32::try_from(k).unwrap_or(u32::MAX)).await;
        let failures = Arc::clone(&failures);
        sockets.push(tokio::spawn(async move {
            let agent = SUBSCRIBERS + (first + k) % CHURNING;
            let Ok(mut socket) = connect_websocket(address, &format!("/v1.0/ws?token={}", token(agent))).await else {
                failures.fetch_add(1, Ordering::Relaxed);
                return;
            };
            tokio::time::sleep(CHURN_HOLD).await;
            if socket.close(None).await.is_err() {
                failures.fetch_add(1, Ordering::Relaxed);
            }
            // Until the server answers the close.
            let _ = tokio::time::timeout(PATIENCE, async { while let Some(Ok(_)) = socket.next().await {} }).await;
        }));
    }
    let rate = count as f64 / start.elapsed().as_secs_f64().max(1e-9);
    for socket in sockets {
        socket.await.expect("a churning socket's task");
    }
    (rate, failures.load(Ordering::Relaxed))
}

/// Row T3: row 5's rounds while sockets of 10 000 agents (fewer in quick
/// mode) connect and disconnect at 200 a second and 1 000 other sockets
/// each follow the presence of 200 of those agents, against row 5's rounds
/// without the churn (the watchers then idle), in blocks.
async fn presence_churn(mode: Mode) -> Result<Row, String> {
    let (blocks, per_block) = mode.pick((1, 1000), (2, 5000));
    let watchers = SUBSCRIBERS;
    // The fleet, the watchers, the churning sockets open at once, and room.
    let needed = SUBSCRIBERS + watchers + 2 * CHURN_RATE as usize * CHURN_HOLD.as_secs() as usize + 200;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        Some(limit) => {
            return Err(format!(
                "needs {needed} open files in this process and the server's, the limit is {limit}: \
                 raise it (`ulimit -n {needed}`)"
            ));
        }
        None => return Err("cannot read the limit of open files (/proc/self/limits)".into()),
    }
    let target = server(SUBSCRIBERS + CHURNING, false).await;
    let address = target.server.address();
    let fleet = Fleet::counting(&target, SUBSCRIBERS, &[]).await;
    let mut client = HttpClient::connect(address).await.expect("connect");
    let following = Watchers::connect(&target, watchers).await;
    // Each watcher first gets the presence of each of its agents now.
    following.hold(watchers * WATCHED).await;
    let mut sent_messages = 0;
    for i in 0..WARM_UP {
        round(&mut client, &target, &fleet, i).await;
        sent_messages += 1;
    }
    let quiet_rounds = mode.pick(100, 400);
    let (mut quiet, mut churning) = (Vec::new(), Vec::new());
    let (mut rates, mut failures) = (Vec::new(), 0);
    let before = following.received();
    let (mut quiet_cpu, mut churning_cpu) = (CpuUse::default(), CpuUse::default());
    for block in 0..blocks {
        let mark = CpuUse::mark(&target);
        for _ in 0..quiet_rounds {
            quiet.push(round(&mut client, &target, &fleet, sent_messages).await);
            sent_messages += 1;
        }
        quiet_cpu.add(mark, &target);
        let mark = CpuUse::mark(&target);
        // Rounds until the last socket of the block closed and its agent
        // went offline.
        let churn = tokio::spawn(churn(address, block * per_block, per_block));
        while !churn.is_finished() {
            churning.push(round(&mut client, &target, &fleet, sent_messages).await);
            sent_messages += 1;
        }
        let (rate, failed) = churn.await.expect("the churn");
        rates.push(rate);
        failures += failed;
        let settled = Instant::now() + GRACE + Duration::from_millis(500);
        while Instant::now() < settled {
            churning.push(round(&mut client, &target, &fleet, sent_messages).await);
            sent_messages += 1;
        }
        churning_cpu.add(mark, &target);
    }
    let presence = following.received() - before;
    let sockets = blocks * per_block;
    // Each agent online, then offline, to each of its 20 watchers.
    let expected = sockets * 2 * watchers * WATCHED / CHURNING;
    let all_events = fleet.received(0) == SUBSCRIBERS * sent_messages;
    let rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let (n_quiet, n_churning) = (quiet.len(), churning.len());
    let (figure, base) = (median(churning), median(quiet));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    Ok(Row {
        id: "T3".into(),
        what: format!(
            "row 5 (N = {SUBSCRIBERS}) while {sockets} sockets of as many agents connect ({} achieved) and close \
             1 s later ({failures} failed), and {watchers} sockets each follow the presence of {WATCHED} of them: \
             {presence} presence frames of {expected} (online and offline to each watcher); CPU {} (p50 of \
             {n_churning}, until the last went offline)",
            show_rate(rate),
            churning_cpu.show()
        ),
        figure: show(figure),
        baseline: format!(
            "{} (the same rounds without the churn, the watchers idle, in alternating blocks; CPU {}; p50 of \
             {n_quiet})",
            show(base),
            quiet_cpu.show()
        ),
        ratio,
        goal: "≤ 1.2×".into(),
        met: ratio <= 1.2 && all_events && failures == 0,
    })
}

// ---------------------------------------------------------------- T4

/// Reads `subscription` until an item `wanted` says is the one.
async fn until(subscription: &mut Subscription, wanted: impl Fn(&Delivery) -> bool) {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("the delivery arrives within 10 s")
            .expect("the subscription goes on");
        if wanted(&item) {
            return;
        }
    }
}

/// Typist `typist` types (or stops) on `hub`; answers when `watcher`
/// holds the frame.
async fn typed(hub: &Hub, watcher: &mut Subscription, talk: TalkId, typist: usize, typing: bool) -> Duration {
    let who = agent(typist);
    let state = if typing { TypingState::Started } else { TypingState::Stopped };
    let start = Instant::now();
    hub.typing(&who, talk, None, typing).await.expect("typing");
    until(watcher, |item| matches!(item, Delivery::Typing(t) if t.typing.agent_id == who && t.typing.state == state))
        .await;
    start.elapsed()
}

/// A message sent by `agent-0` on `hub`; answers when `watcher` holds its event.
async fn sent(hub: &Hub, watcher: &mut Subscription, talk: TalkId, round: usize) -> Duration {
    let start = Instant::now();
    let message = NewMessage { text: format!("ping {round}"), ..NewMessage::default() };
    let sent = hub.send_message(&agent(0), talk, message).await.expect("send");
    let seq = sent.resource.seq;
    until(watcher, |item| matches!(item, Delivery::Event(shared) if shared.event.seq == seq)).await;
    start.elapsed()
}

/// Row T4: `Hub::typing` on node A until a subscriber on node B holds the
/// frame, beside P2 (a send on A until the event is at B), alternating;
/// `None` without PostgreSQL.
async fn cross_node_typing(mode: Mode) -> Option<Row> {
    let url = postgres_rows::url()?;
    let schema = format!("talk_bench_{:x}", postgres_rows::rand_suffix());
    let (a, b) = (node(&url, &schema).await, node(&url, &schema).await);
    // agent-0 sends, agent-1 watches on B, agents 2… type on A.
    let typists = 16;
    let talk = talk_of(&a.hub, 2 + typists).await;
    // Each typist holds a subscription on A, as over a WebSocket, so that A
    // answers `typing` from its routes; read and ignored.
    let mut drains = Vec::new();
    for j in 0..typists {
        let mut subscription = a.hub.subscribe(&agent(2 + j), Scope::Talk(talk), None).await.expect("subscribe on A");
        drains.push(tokio::spawn(async move { while subscription.next().await.is_some() {} }));
    }
    let mut watcher = b.hub.subscribe(&agent(1), Scope::Talk(talk), None).await.expect("subscribe on B");
    let mut rota = Rota::new(typists);
    let rounds = mode.pick(10, 100);
    let (mut typing, mut messages) = (Vec::new(), Vec::new());
    for i in 0..WARM_UP + rounds {
        let (starts, stops) = rota.of_round(i);
        if let Some(s) = stops {
            rota.turn(s).await;
            typed(&a.hub, &mut watcher, talk, 2 + s, false).await;
        }
        rota.turn(starts).await;
        let (t, m) = if i % 2 == 0 {
            let t = typed(&a.hub, &mut watcher, talk, 2 + starts, true).await;
            (t, sent(&a.hub, &mut watcher, talk, i).await)
        } else {
            let m = sent(&a.hub, &mut watcher, talk, i).await;
            (typed(&a.hub, &mut watcher, talk, 2 + starts, true).await, m)
        };
        if i >= WARM_UP {
            typing.push(t);
            messages.push(m);
        }
    }
    for drain in drains {
        drain.abort();
    }
    drop(watcher);
    drop((a, b));
    postgres_rows::drop_schema(&url, &schema).await;
    let (figure, base) = (median(typing), median(messages));
    Some(Row {
        id: "T4".into(),
        what: format!(
            "`Hub::typing` on one node → a subscriber on another node holds the typing frame, two nodes on one \
             PostgreSQL, signals on their `NOTIFY` channel (p50 of {rounds})"
        ),
        figure: show(figure),
        baseline: format!(
            "{} (P2: a send on the same node → the event at the same subscriber, alternating)",
            show(base)
        ),
        ratio: figure.as_secs_f64() / base.as_secs_f64().max(1e-9),
        goal: "report".into(),
        met: true,
    })
}
