//! Row 9: a Talk server (`talk-bench-server`, SQLite at its default
//! `synchronous=FULL`) holding the 1,000,000-message database of row 6 is
//! killed with `SIGKILL` while eight clients send over HTTP; then the store
//! is opened again. The figure is the time from the open to the first page
//! of the big talk; the baseline, `PRAGMA integrity_check` of the same file.
//! Every send the server acknowledged must be there after the crash.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use talk_benches::load::{HttpClient, Server, create_talk, token};
use talk_benches::{Mode, Row, median, show};
use talk_core::{MessageId, Store};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

use crate::HistoryDb;

/// The server binary, built with the suite.
const SERVER: &str = env!("CARGO_BIN_EXE_talk-bench-server");

/// The clients sending while the server is killed.
const SENDERS: usize = 8;

/// What one crash left: the sends acknowledged before it, and the size of
/// the write-ahead log it left behind.
struct Crash {
    acknowledged: Vec<MessageId>,
    wal_bytes: u64,
}

/// Starts the server on the database, creates a talk of the senders, lets
/// them send for `sending`, and kills the server while they do.
async fn crash_while_sending(path: &Path, sending: Duration) -> Crash {
    let args = ["talk", "--sqlite", path.to_str().expect("a UTF-8 path"), "--agents", "8"].map(str::to_owned);
    let mut server = Server::start(SERVER, &args).expect("start talk-bench-server");
    let talk = create_talk(server.address(), "crash", SENDERS).await.expect("create the talk");
    let messages = format!("/v1.0/talks/{talk}/messages");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let mut client = HttpClient::connect(server.address()).await.expect("connect");
        let (messages, acknowledged) = (messages.clone(), Arc::clone(&acknowledged));
        senders.push(tokio::spawn(async move {
            // Until the server is gone (bounded in count too).
            for n in 0..1_000_000 {
                let body = format!(r#"{{"text":"message {n} from sender {i}, sent before the crash"}}"#);
                match client.post(&messages, &token(i), &body).await {
                    Ok(201) => {
                        let sent: serde_json::Value = serde_json::from_slice(client.body()).expect("a Message");
                        let id = sent["id"].as_str().and_then(|id| id.parse().ok()).expect("a message id");
                        acknowledged.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
                    }
                    Ok(status) => panic!("a send answered {status}: {}", String::from_utf8_lossy(client.body())),
                    Err(_) => break,
                }
            }
        }));
    }
    tokio::time::sleep(sending).await;
    server.kill().expect("kill the server");
    for sender in senders {
        sender.await.expect("a sender task");
    }
    let wal = std::fs::metadata(format!("{}-wal", path.display())).map_or(0, |m| m.len());
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    Crash { acknowledged, wal_bytes: wal }
}

/// Opens the store again and reads the newest page of the big talk: the
/// time that takes, and how many acknowledged sends are missing.
async fn reopen(db: &HistoryDb, crash: &Crash) -> (Duration, usize) {
    let path = db.path.clone();
    let started = Instant::now();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path, SqliteOptions::default()))
        .await
        .expect("the open task")
        .expect("reopen the database after the crash");
    let page = store.messages(db.history.talk, false, None, 51, 100).await.expect("the newest page");
    let took = started.elapsed();
    assert_eq!(page.len(), 51, "a full page of the big talk");
    let mut missing = 0;
    for id in &crash.acknowledged {
        if store.message(*id, 0).await.expect("a message").is_none() {
            missing += 1;
        }
    }
    (took, missing)
}

/// `PRAGMA integrity_check` of the whole file: its time, and its verdict.
fn integrity_check(path: &Path) -> (Duration, String) {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database");
    let started = Instant::now();
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("integrity_check");
    (started.elapsed(), verdict)
}

/// Row 9: `rounds` crashes, each followed by a reopen and an integrity check.
pub(crate) async fn reopen_after_kill(mode: Mode, db: &HistoryDb) -> Row {
    let (rounds, sending) = mode.pick((1, Duration::from_millis(300)), (3, Duration::from_secs(2)));
    let (mut opens, mut checks) = (Vec::new(), Vec::new());
    let (mut acknowledged, mut missing, mut wal_bytes, mut verdicts) = (0, 0, 0, Vec::new());
    for _ in 0..rounds {
        let crash = crash_while_sending(&db.path, sending).await;
        let (took, lost) = reopen(db, &crash).await;
        opens.push(took);
        acknowledged += crash.acknowledged.len();
        missing += lost;
        wal_bytes = wal_bytes.max(crash.wal_bytes);
        let (took, verdict) = integrity_check(&db.path);
        checks.push(took);
        verdicts.push(verdict);
    }
    let (figure, base) = (median(opens), median(checks));
    let sound = verdicts.iter().all(|v| v == "ok");
    Row {
        id: "9".into(),
        what: format!(
            "reopen after SIGKILL of a server sending into a database of {} messages (WAL left: up to {:.1} MiB): \
             open to first page; {missing} of {acknowledged} acknowledged sends missing, integrity {} (p50 of {rounds})",
            db.count,
            wal_bytes as f64 / (1024.0 * 1024.0),
            if sound { "ok" } else { "FAILED" },
        ),
        figure: show(figure),
        baseline: format!("{} (PRAGMA integrity_check of the same file)", show(base)),
        ratio: figure.as_secs_f64() / base.as_secs_f64().max(1e-12),
        goal: "report (nothing acknowledged lost, integrity ok)".into(),
        met: missing == 0 && sound,
    }
}
