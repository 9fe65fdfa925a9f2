//! Crash safety: a child process sends messages as fast as it can through a
//! Hub on SqliteStore and prints each acknowledged message id; it is killed
//! with SIGKILL at a random moment, and the reopened database must hold
//! every acknowledged message and its `message_created` event, an event log
//! without holes, and pass `PRAGMA integrity_check`. Several rounds on the
//! same database, alternating `synchronous=FULL` and `NORMAL` (both keep
//! what was acknowledged across a crash of the process).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use talk_core::{AgentId, Hub, MessageId, NewMessage, NewTalk, Store, TalkId, TalkKind};
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

const DB_ENV: &str = "TALK_SQLITE_CRASH_DB";
const TALK_ENV: &str = "TALK_SQLITE_CRASH_TALK";
const SYNC_ENV: &str = "TALK_SQLITE_CRASH_NORMAL";
const ROUNDS: usize = 6;
const SENDERS: usize = 8;
const AGENTS: [&str; 3] = ["a", "b", "c"];

fn agent(id: &str) -> AgentId {
    AgentId::parse(id).expect("agent")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// The child: sends from several tasks until it is killed, printing
/// `ACK <id>` for each acknowledged message.
#[test]
fn crash_child() {
    let (Some(path), Some(talk)) = (std::env::var_os(DB_ENV), std::env::var(TALK_ENV).ok()) else { return };
    let talk: TalkId = talk.parse().expect("talk id");
    let synchronous = if std::env::var_os(SYNC_ENV).is_some() { Synchronous::Normal } else { Synchronous::Full };
    runtime().block_on(async move {
        let store = SqliteStore::open(&path, SqliteOptions::default().synchronous(synchronous)).expect("open");
        let hub = Hub::new(Arc::new(store));
        let mut senders = Vec::new();
        for task in 0..SENDERS {
            let hub = hub.clone();
            senders.push(tokio::spawn(async move {
                let me = agent(AGENTS[task % AGENTS.len()]);
                for k in 0.. {
                    let text = NewMessage { text: format!("task {task} message {k}"), ..NewMessage::default() };
                    let sent = hub.send_message(&me, talk, text).await.expect("send");
                    writeln!(std::io::stdout().lock(), "ACK {}", sent.resource.id).expect("stdout");
                }
            }));
        }
        for sender in senders {
            sender.await.expect("sender");
        }
    });
}

/// Runs one child round: starts it, kills it with SIGKILL a random moment
/// after its first acknowledgement, and answers the ids it acknowledged.
fn crash_round(path: &Path, talk: TalkId, normal: bool) -> Vec<MessageId> {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(DB_ENV, path)
        .env(TALK_ENV, talk.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if normal {
        command.env(SYNC_ENV, "1");
    }
    let mut child = command.spawn().expect("child");
    let stdout = child.stdout.take().expect("stdout");
    let (first_ack, acked) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut ids = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // A line cut by the kill does not parse, and is no acknowledgement.
            if let Some(id) = line.split_once("ACK ").and_then(|(_, id)| id.trim().parse::<MessageId>().ok()) {
                if ids.is_empty() {
                    let _ = first_ack.send(());
                }
                ids.push(id);
            }
        }
        ids
    });
    let started = acked.recv_timeout(Duration::from_secs(60));
    if started.is_ok() {
        std::thread::sleep(Duration::from_millis(rand::random_range(0..400)));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let ids = reader.join().expect("reader");
    assert!(started.is_ok(), "the child acknowledged nothing within a minute");
    ids
}

#[test]
fn every_acknowledged_message_survives_sigkill_with_a_log_without_holes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let rt = runtime();
    let talk = rt.block_on(async {
        let store = SqliteStore::open(&path, SqliteOptions::default()).expect("open");
        let hub = Hub::new(Arc::new(store));
        let input = NewTalk {
            kind: TalkKind::Group,
            name: Some("crash".into()),
            detail: None,
            participant_ids: AGENTS[1..].iter().map(|a| agent(a)).collect(),
        };
        hub.create_talk(&agent(AGENTS[0]), input).await.expect("talk").resource.id
    });

    let mut acked_in_all = 0;
    for round in 0..ROUNDS {
        let acked = crash_round(&path, talk, round % 2 == 1);
        acked_in_all += acked.len();
        rt.block_on(async {
            let what = format!("round {round}, reopened after the kill");
            let (store, _) = common::check_database(&path, &acked, &what).await;
            for id in &acked {
                let message = store.message(*id, 0).await.expect("read");
                assert!(message.is_some_and(|m| m.talk_id == talk), "{what}: acknowledged {id} is in its talk");
            }
        });
        eprintln!("round {round}: {} acknowledged messages, all there", acked.len());
    }
    assert!(acked_in_all > 0);
}
