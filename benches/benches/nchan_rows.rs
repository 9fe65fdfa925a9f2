//! Rows N1–N4: Talk's fan-out against nginx + nchan (see
//! `talk_benches::nchan`), with the same load tool on both sides: one
//! keep-alive HTTP client posts, N WebSockets (read by their own tasks, as
//! in row 5) receive, and a round ends when the last of them holds the
//! frame. nchan is sent the very frame Talk delivers as its message, so that
//! both deliver frames of the same size. Rounds are 50 ms apart (a `POST`
//! meets an idle server) and alternate between the servers, round by round
//! while every fleet fits at once (N ≤ 1000), in blocks of rounds beyond.
//!
//! - N1: fan-out p50, Talk on SQLite (`synchronous=FULL`) against nchan;
//! - N2: the same, Talk on MemoryStore;
//! - N3: frames delivered per server CPU-second (`utime + stime` of the
//!   server processes over the counted rounds: `talk-bench-server`, or
//!   nginx's master and workers);
//! - N4: the `POST` alone at N = 1 (until its answer), Talk on MemoryStore.

use std::time::{Duration, Instant};

use talk_benches::load::{HttpClient, connect_websocket, token};
use talk_benches::nchan::Nchan;
use talk_benches::{Mode, Row, median, show};

use crate::socket_rows::{Fleet, Target, shape};

/// The pause before each round's `POST`, so that it meets an idle server.
const PAUSE: Duration = Duration::from_millis(50);

/// Which server a side is.
enum Peer {
    /// Talk's router in `talk-bench-server`, with its talk.
    Talk(Target),
    /// nginx + nchan, with the channel of this `N`.
    Nchan { channel: String },
}

/// One server of a row: what it measured.
struct Side {
    peer: Peer,
    client: HttpClient,
    /// The path a round posts to.
    path: String,
    /// POST → every socket holds the frame.
    rounds: Vec<Duration>,
    /// POST → its answer.
    posts: Vec<Duration>,
    /// Server CPU seconds over the counted rounds, and the frames delivered then.
    cpu: f64,
    frames: usize,
    /// The first event frame one of its sockets received.
    frame: Vec<u8>,
}

impl Side {
    async fn new(peer: Peer, nchan: &Nchan) -> Self {
        let (address, path) = match &peer {
            Peer::Talk(target) => (target.server.address(), target.messages()),
            Peer::Nchan { channel } => (nchan.address(), format!("/pub/{channel}")),
        };
        let client = HttpClient::connect(address).await.expect("connect");
        Self { peer, client, path, rounds: Vec::new(), posts: Vec::new(), cpu: 0.0, frames: 0, frame: Vec::new() }
    }

    /// `n` sockets that receive this server's frames, all of them ready.
    async fn fleet(&self, n: usize, nchan: &Nchan) -> Fleet {
        match &self.peer {
            Peer::Talk(target) => Fleet::connect(target, n).await,
            Peer::Nchan { channel } => {
                let (address, path) = (nchan.address(), format!("/sub/{channel}"));
                let before = nchan.settled_subscribers().await.expect("nchan's subscriber count");
                let fleet = Fleet::open(n, |_| {
                    let path = path.clone();
                    async move { connect_websocket(address, &path).await.expect("a WebSocket to nchan") }
                })
                .await;
                nchan.await_subscribers(before + n).await.expect("nchan counts every subscriber");
                fleet
            }
        }
    }

    fn cpu_seconds(&self, nchan: &Nchan) -> f64 {
        match &self.peer {
            Peer::Talk(target) => talk_benches::load::cpu_seconds(target.server.pid()),
            Peer::Nchan { .. } => nchan.cpu_seconds(),
        }
        .expect("the server's CPU time")
    }

    /// `count` rounds on `fleet`; counted ones add to the samples and CPU
    /// time. nchan posts `body`, the frame Talk delivers.
    async fn rounds(&mut self, fleet: &Fleet, count: usize, counted: bool, body: &[u8], nchan: &Nchan) {
        for _ in 0..count {
            tokio::time::sleep(PAUSE).await;
            let expected = fleet.next_target();
            let body = match self.peer {
                Peer::Talk(_) => format!(r#"{{"text":"fan-out round {}"}}"#, self.rounds.len() % 10),
                Peer::Nchan { .. } => String::from_utf8_lossy(body).into_owned(),
            };
            let cpu_before = if counted { self.cpu_seconds(nchan) } else { 0.0 };
            let start = Instant::now();
            let status = self.client.post(&self.path, &token(0), &body).await.expect("a send");
            let posted = start.elapsed();
            let accepted = match self.peer {
                Peer::Talk(_) => status == 201,
                Peer::Nchan { .. } => status == 201 || status == 202,
            };
            assert!(accepted, "a send: {status} {}", String::from_utf8_lossy(self.client.body()));
            let held = fleet.completed(expected).await.saturating_duration_since(start);
            if counted {
                self.cpu += self.cpu_seconds(nchan) - cpu_before;
                self.frames += fleet.size();
                self.rounds.push(held);
                self.posts.push(posted);
            }
        }
        if self.frame.is_empty() {
            self.frame = fleet.first_frame().to_vec();
        }
    }

    fn frames_per_cpu_second(&self) -> f64 {
        self.frames as f64 / self.cpu.max(1e-9)
    }
}

/// What one `N` measured on each side.
struct Measured {
    n: usize,
    sqlite: Side,
    memory: Side,
    nchan: Side,
}

async fn measure(mode: Mode, n: usize, nchan: &Nchan) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("n1.db");
    let db = db.to_str().expect("a UTF-8 path");
    let agents = n.to_string();
    let mut memory_args = vec!["talk", "--agents", &agents];
    if n > 1000 {
        memory_args.extend(["--participants-max", &agents]);
    }
    let mut sqlite_args = memory_args.clone();
    sqlite_args.extend(["--sqlite", db]);
    let start = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        talk_benches::load::Server::start(env!("CARGO_BIN_EXE_talk-bench-server"), &args).expect("start the server")
    };
    let sqlite_server = start(&sqlite_args);
    let memory_server = start(&memory_args);
    let sqlite_talk = talk_benches::load::create_talk(sqlite_server.address(), "bench", n).await.expect("a talk");
    let memory_talk = talk_benches::load::create_talk(memory_server.address(), "bench", n).await.expect("a talk");
    let mut sqlite = Side::new(Peer::Talk(Target { server: sqlite_server, talk: sqlite_talk }), nchan).await;
    let mut memory = Side::new(Peer::Talk(Target { server: memory_server, talk: memory_talk }), nchan).await;
    let channel = format!("fan-out-{n}-{}", uuid::Uuid::now_v7().simple());
    let mut peer = Side::new(Peer::Nchan { channel }, nchan).await;
    let warm_up = 3;
    // The frame nchan is sent: Talk's own, once a Talk fleet received one.
    let mut body = Vec::new();
    if n <= 1000 {
        let rounds = mode.pick(10, if n >= 1000 { 50 } else { 100 });
        let sqlite_fleet = sqlite.fleet(n, nchan).await;
        let memory_fleet = memory.fleet(n, nchan).await;
        let nchan_fleet = peer.fleet(n, nchan).await;
        sqlite.rounds(&sqlite_fleet, warm_up, false, &body, nchan).await;
        memory.rounds(&memory_fleet, warm_up, false, &body, nchan).await;
        body.clone_from(&memory.frame);
        peer.rounds(&nchan_fleet, warm_up, false, &body, nchan).await;
        for _ in 0..rounds {
            sqlite.rounds(&sqlite_fleet, 1, true, &body, nchan).await;
            memory.rounds(&memory_fleet, 1, true, &body, nchan).await;
            peer.rounds(&nchan_fleet, 1, true, &body, nchan).await;
        }
    } else {
        // Blocks, one fleet connected at a time; each block starts with
        // another side, so that drift in the machine's load falls on all.
        let (blocks, rounds) = mode.pick((1, 5), (3, 10));
        for block in 0..blocks {
            let mut sides = [&mut sqlite, &mut memory, &mut peer];
            sides.rotate_left(block % 3);
            for side in sides {
                let fleet = side.fleet(n, nchan).await;
                side.rounds(&fleet, warm_up, false, &body, nchan).await;
                if body.is_empty() && !side.frame.is_empty() {
                    body.clone_from(&side.frame);
                }
                side.rounds(&fleet, rounds, true, &body, nchan).await;
            }
        }
    }
    assert_eq!(shape(&memory.frame), shape(&peer.frame), "nchan delivers Talk's frame");
    assert_eq!(peer.frame, body, "nchan delivers the frame it is sent, Talk's");
    Measured { n, sqlite, memory, nchan: peer }
}

fn latency_row(id: &str, m: &Measured, side: &Side, store: &str, goal: Option<f64>) -> Row {
    let rounds = side.rounds.len();
    let (figure, base) = (median(side.rounds.clone()), median(m.nchan.rounds.clone()));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    let n = m.n;
    Row {
        id: id.into(),
        what: format!(
            "fan-out, POST → {n} WebSocket{} hold{} the frame ({} B), Talk on {store}, rounds 50 ms apart (p50 of {rounds})",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            side.frame.len()
        ),
        figure: show(figure),
        baseline: format!("{} (nginx + nchan, 2 workers, same load tool and frame)", show(base)),
        ratio,
        goal: goal.map_or("report".into(), |g| format!("≤ {g}×")),
        met: goal.is_none_or(|g| ratio <= g),
    }
}

fn cpu_row(m: &Measured, side: &Side, store: &str) -> Row {
    let (figure, base) = (side.frames_per_cpu_second(), m.nchan.frames_per_cpu_second());
    let ratio = figure / base.max(1e-9);
    let per_second = |rate: f64| format!("{:.1} k frames/CPU-s", rate / 1000.0);
    Row {
        id: "N3".into(),
        what: format!(
            "frames delivered per server CPU-second, N = {}, Talk on {store} (talk-bench-server's utime + stime over {} rounds)",
            m.n,
            side.rounds.len()
        ),
        figure: per_second(figure),
        baseline: format!("{} (nginx + nchan: master and workers)", per_second(base)),
        ratio,
        goal: "≥ 0.9×".into(),
        met: ratio >= 0.9,
    }
}

fn post_row(m: &Measured) -> Row {
    let (figure, base) = (median(m.memory.posts.clone()), median(m.nchan.posts.clone()));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    Row {
        id: "N4".into(),
        what: format!(
            "POST at idle until its answer, N = {}, Talk on MemoryStore, rounds 50 ms apart (p50 of {})",
            m.n,
            m.memory.posts.len()
        ),
        figure: show(figure),
        baseline: format!("{} (nginx + nchan's publish)", show(base)),
        ratio,
        goal: "≤ 2×".into(),
        met: ratio <= 2.0,
    }
}

/// Prints rows N1–N4 as they come (a full run takes minutes), or answers
/// why they cannot run.
pub(crate) async fn rows(mode: Mode) -> Result<(), String> {
    let nchan = Nchan::start()?;
    let mut rows = Vec::new();
    for n in mode.pick(vec![1, 100, 1000], vec![1, 100, 1000, 5000]) {
        let m = measure(mode, n, &nchan).await;
        let (n1_goal, n2_goal) = match n {
            1 => (None, None),
            100 => (Some(1.5), Some(1.0)),
            _ => (Some(1.1), Some(1.0)),
        };
        rows.push(latency_row("N1", &m, &m.sqlite, "SqliteStore (synchronous=FULL)", n1_goal));
        rows.push(latency_row("N2", &m, &m.memory, "MemoryStore", n2_goal));
        if n >= 1000 {
            rows.push(cpu_row(&m, &m.memory, "MemoryStore"));
            rows.push(cpu_row(&m, &m.sqlite, "SqliteStore (synchronous=FULL)"));
        }
        if n == 1 {
            rows.push(post_row(&m));
        }
        rows.drain(..).for_each(|row: Row| row.print());
    }
    Ok(())
}
