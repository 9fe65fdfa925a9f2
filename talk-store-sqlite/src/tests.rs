//! Unit tests of what only the inside of the store can show: the query
//! plans of the list queries, and the writer's batches, whole-transaction
//! failures and panics (through test hooks).

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use talk_core::store::{ChangeSet, Conflict, StoreError};
use talk_core::{Store, Talk, TalkId};
use talk_testing::builders::{self, ChangeSetBuilder, agent, emoji};
use tokio::sync::oneshot;

use super::*;
use crate::writer::TestHook;

fn open(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(dir.path().join("talk.db"), SqliteOptions::default()).expect("open"))
}

/// A change set that creates a group talk with one member, `alice`.
fn new_talk() -> (Talk, ChangeSet) {
    let talk = builders::group_talk(&agent("alice"), "plans");
    let record = builders::participant(talk.id, &agent("alice"));
    let changes = builders::create_talk(&talk, &[record]);
    (talk, changes)
}

/// A change set that sends a message in `talk`.
fn send(talk: TalkId, text: &str) -> ChangeSet {
    ChangeSetBuilder::new().insert_message(&builders::message(talk, &agent("alice"), text)).build()
}

impl SqliteStore {
    /// How many commands wait in the writer's queue.
    fn queued(&self) -> usize {
        self.commands.as_ref().map_or(0, |c| c.max_capacity() - c.capacity())
    }

    /// Holds the writer until the returned sender is used or dropped.
    async fn hold_writer(&self) -> std::sync::mpsc::Sender<()> {
        let (release, hold) = std::sync::mpsc::channel();
        self.test_hook(TestHook::Hold(hold)).await;
        // Taken by the writer thread, which holds the writer while it waits.
        while self.queued() > 0 || self.writer.try_lock().is_ok() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release
    }

    /// The size of each batch committed since the last call, and whether
    /// the writer thread committed it.
    async fn batch_sizes(&self) -> Vec<(usize, bool)> {
        let (reply, sizes) = oneshot::channel();
        self.test_hook(TestHook::BatchSizes(reply)).await;
        sizes.await.expect("batch sizes")
    }

    /// Waits until `count` commands are queued.
    async fn wait_queued(&self, count: usize) {
        while self.queued() < count {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_set_finding_the_writer_idle_commits_on_the_callers_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    for k in 0..3 {
        let events = store.apply(send(talk.id, &format!("m{k}"))).await.expect("send");
        assert_eq!(events.len(), 1);
    }
    assert_eq!(store.batch_sizes().await, [(1, false); 4], "four batches of one, none on the writer thread");
    assert_eq!(store.events(0, 100).await.expect("events").len(), 5, "every event is in the log");
}

#[tokio::test(flavor = "current_thread")]
async fn on_a_current_thread_runtime_the_writer_thread_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    store.apply(send(talk.id, "m")).await.expect("send");
    assert_eq!(store.batch_sizes().await, [(1, true); 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_change_sets_commit_in_one_batch_and_a_refused_one_fails_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create.clone()).await.expect("create");
    let head = store.head().await.expect("head");
    let _ = store.batch_sizes().await;

    let release = store.hold_writer().await;
    let mut calls = Vec::new();
    for k in 0..10 {
        // Every third one reuses the talk's id: refused by its unique key.
        let changes = if k % 3 == 1 { create.clone() } else { send(talk.id, &format!("m{k}")) };
        let caller = Arc::clone(&store);
        calls.push(tokio::spawn(async move { caller.apply(changes).await }));
        store.wait_queued(k + 1).await;
    }
    store.wait_queued(10).await;
    release.send(()).expect("release");

    let mut next = head + 1;
    for (k, call) in calls.into_iter().enumerate() {
        let result = call.await.expect("task");
        if k % 3 == 1 {
            assert!(matches!(result, Err(StoreError::Conflict(Conflict::RowMismatch))), "{k}: {result:?}");
        } else {
            let events = result.expect("applied");
            assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![next], "{k}: no hole in seq");
            next += 1;
        }
    }
    assert_eq!(store.head().await.expect("head"), next - 1);
    assert_eq!(store.batch_sizes().await, [(10, true)], "the ten queued change sets went in one transaction");
    let log = store.events(0, 100).await.expect("events");
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..next).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_rolled_back_whole_acknowledges_nobody_and_leaves_no_hole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    let head = store.head().await.expect("head");

    let release = store.hold_writer().await;
    let before = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.apply(send(talk.id, "before")).await })
    };
    store.wait_queued(1).await;
    let (reply, failed) = oneshot::channel();
    store.test_hook(TestHook::RollBackEverything(reply)).await;
    let after = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.apply(send(talk.id, "after")).await })
    };
    store.wait_queued(3).await;
    release.send(()).expect("release");

    assert!(before.await.expect("task").is_err(), "applied before the rollback, but not committed: not acked");
    assert!(failed.await.expect("reply").is_err());
    assert!(after.await.expect("task").is_err(), "in the same batch: not acked");
    assert_eq!(store.head().await.expect("head"), head);
    assert_eq!(store.events(0, 100).await.expect("events").len() as u64, head, "nothing of the batch is visible");

    let events = store.apply(send(talk.id, "next")).await.expect("the writer goes on");
    assert_eq!(events[0].seq, head + 1, "the rolled-back batch left no hole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_panic_fails_waiting_and_later_callers_instead_of_hanging_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    let head = store.head().await.expect("head");

    let release = store.hold_writer().await;
    let in_batch = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.apply(send(talk.id, "in the batch")).await })
    };
    store.wait_queued(1).await;
    let (reply, panicked) = oneshot::channel();
    store.test_hook(TestHook::Panic(reply)).await;
    store.wait_queued(2).await;
    release.send(()).expect("release");

    let deadline = Duration::from_secs(10);
    let in_batch = tokio::time::timeout(deadline, in_batch).await.expect("no hang").expect("task");
    let error = in_batch.expect_err("the batch did not commit");
    assert!(format!("{:?}", error).contains("panicked"), "{error:?}");
    assert!(tokio::time::timeout(deadline, panicked).await.expect("no hang").expect("reply").is_err());
    let later = tokio::time::timeout(deadline, store.apply(send(talk.id, "later"))).await.expect("no hang");
    let error = later.expect_err("the writer is gone");
    assert!(format!("{error:?}").contains("panicked"), "{error:?}");
    // Reads go on, and see nothing of the failed batch.
    assert_eq!(store.events(0, 100).await.expect("events").len() as u64, head);
    assert_eq!(store.talk(talk.id).await.expect("read").map(|t| t.id), Some(talk.id));
}

/// Runs `EXPLAIN QUERY PLAN` on a statement and answers the plan's lines.
fn plan(conn: &Connection, statement: &str) -> Vec<String> {
    let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {statement}")).expect("explain");
    let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, explain.parameter_count()));
    explain.query_map(nulls, |row| row.get::<_, String>(3)).expect("plan").collect::<Result<_, _>>().expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_query_searches_an_index_and_scans_no_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    // Some rows in every table, so that the planner sees a real database.
    for t in 0..5 {
        let (talk, create) = new_talk();
        store.apply(create).await.expect("create");
        for m in 0..20 {
            let message = builders::message(talk.id, &agent("alice"), &format!("{t}/{m}"));
            let reply = builders::reply(&message, &agent("alice"), "re");
            let reaction = builders::reaction(message.id, &emoji("+1"), &agent("alice"), builders::epoch());
            let changes = ChangeSetBuilder::new()
                .insert_message(&message)
                .insert_message(&reply)
                .insert_reaction(talk.id, &reaction)
                .build();
            store.apply(changes).await.expect("send");
        }
    }
    let conn = Connection::open_with_flags(store.path(), OpenFlags::SQLITE_OPEN_READ_ONLY).expect("connection");
    rusqlite::vtab::array::load_module(&conn).expect("rarray");
    let big = ["talks", "participants", "messages", "reactions", "message_emoji", "events", "log_state"];
    for (name, statement, indexes) in sql::LIST_QUERIES {
        let lines = plan(&conn, statement);
        let shown = lines.join("\n  ");
        assert!(lines.iter().any(|l| l.starts_with("SEARCH ")), "{name} searches an index:\n  {shown}");
        for index in *indexes {
            assert!(
                lines.iter().any(|l| l.starts_with("SEARCH ") && l.contains(index)),
                "{name} searches {index}:\n  {shown}"
            );
        }
        for line in &lines {
            let scanned = line.strip_prefix("SCAN ").map(|rest| rest.split_whitespace().next().unwrap_or(""));
            let table = scanned.map(|alias| match alias {
                "t" => "talks",
                "p" => "participants",
                "m" => "messages",
                "r" | "r2" => "reactions",
                "e" | "e2" => "message_emoji or events",
                other => other,
            });
            assert!(!table.is_some_and(|t| big.iter().any(|b| t.contains(b))), "{name} scans a table:\n  {shown}");
        }
    }
}

/// The virtual machine steps one run of `statement` takes: a measure of the
/// rows it visits.
fn steps(conn: &Connection, statement: &str, params: impl rusqlite::Params) -> i32 {
    let mut statement = conn.prepare(statement).expect("prepare");
    let rows = statement.query_map(params, |_| Ok(())).expect("query").count();
    assert!(rows > 0, "the query answers rows");
    statement.get_status(rusqlite::StatementStatus::VmStep)
}

/// Adds `count` messages (and their events) to `talk`, 500 per change set.
async fn fill(store: &SqliteStore, talk: TalkId, count: usize) {
    for chunk in 0..count.div_ceil(500) {
        let builder = (0..500.min(count - chunk * 500)).fold(ChangeSetBuilder::new(), |b, k| {
            b.insert_message(&builders::message(talk, &agent("alice"), &format!("{chunk}/{k}")))
        });
        store.apply(builder.build()).await.expect("fill");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_events_and_reactors_visit_rows_bounded_by_the_page_not_by_the_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    let message = builders::message(talk.id, &agent("alice"), "popular");
    store.apply(ChangeSetBuilder::new().insert_message(&message).build()).await.expect("send");
    let conn = Connection::open_with_flags(store.path(), OpenFlags::SQLITE_OPEN_READ_ONLY).expect("connection");
    rusqlite::vtab::array::load_module(&conn).expect("rarray");
    let ids: rusqlite::vtab::array::Array =
        std::rc::Rc::new(vec![rusqlite::types::Value::Blob(message.id.0.as_bytes().to_vec())]);

    let mut measured = Vec::new();
    for size in [1_000, 10_000] {
        fill(&store, talk.id, size - measured.len() * 1_000).await;
        let reactions = (0..size / 10).fold(ChangeSetBuilder::new(), |b, k| {
            let reactor = agent(&format!("r{size}-{k}"));
            b.insert_reaction(talk.id, &builders::reaction(message.id, &emoji("+1"), &reactor, builders::epoch()))
        });
        store.apply(reactions.build()).await.expect("react");
        let events = steps(&conn, sql::AGENT_EVENTS, params!["alice", 0, 49, 50]);
        let reactors = steps(&conn, sql::REACTORS_OF_MESSAGES, params![Rc::clone(&ids), 9]);
        measured.push((events, reactors));
    }
    let [(events_small, reactors_small), (events_big, reactors_big)] = measured[..] else { unreachable!() };
    assert!(events_big < events_small * 2, "agent_events: {events_small} steps, then {events_big} with 10x the log");
    assert!(
        reactors_big < reactors_small * 2,
        "reactors: {reactors_small} steps, then {reactors_big} with 10x the reactions"
    );
}
