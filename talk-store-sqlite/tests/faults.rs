//! Fault injection into [`SqliteStore`] (feature `fault-injection`): every
//! Hub command meets every fail point of the writer — between the writes and
//! the events of its change set, before the commit, in the commit before or
//! after it reached the disk, after the commit but before the answer —
//! failing with an error, a full disk, an I/O error (with or without SQLite
//! rolling the whole transaction back), a busy database or a panic of the
//! writer; see `talk_testing::faults` for what each case checks. Then who
//! commits (the caller or the writer thread, and in which batches), a batch
//! mixing good and failing change sets, what each failure answers the
//! callers of a batch (`Unavailable`, `OutcomeUnknown`, `Backend`), a
//! database made full for real with `PRAGMA max_page_count` and one locked
//! for real by another program.
#![cfg(feature = "fault-injection")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use talk_core::store::{ChangeSet, Conflict, StoreError};
use talk_core::{ErrorKind, EventData, Hub, ManualClock, NewMessage, Store, Talk, TalkId};
use talk_store_sqlite::faults::{FailPoint, Failure, SqliteFailPoints, on_writer_thread};
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use talk_testing::builders::{self, ChangeSetBuilder, agent};
use talk_testing::faults::{
    Expect, FaultCase, Fixture, HubCommand, Points, Rig, SequentialIds, Snapshot, Universe, check_consistency,
    next_command, run_fault_matrix, scenario_hub, setup, snapshot,
};

/// NORMAL: these tests check atomicity, not power-loss durability, and
/// commit thousands of times.
fn options() -> SqliteOptions {
    SqliteOptions::default().synchronous(Synchronous::Normal)
}

fn rig() -> Rig<FailPoint, Failure> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("talk.db");
    let store = SqliteStore::open(&path, options()).expect("open a fresh database");
    let fail_points = store.fail_points().points();
    let reopen = move || Arc::new(SqliteStore::open(&path, options()).expect("reopen the database")) as Arc<dyn Store>;
    Rig { store: Arc::new(store), fail_points, reopen: Some(Box::new(reopen)), keep: Some(Box::new(dir)) }
}

fn after_write(k: usize) -> FailPoint {
    FailPoint::AfterWrite(k)
}

fn after_event(k: usize) -> FailPoint {
    FailPoint::AfterEvent(k)
}

#[test]
fn every_command_fails_atomically_at_every_fail_point() {
    use Expect::{CommittedUnacked, NotCommitted, OutcomeUnknown, Stops};
    use FailPoint::{AfterCommit, AfterEvent, AfterWrite, BeforeCommit, CommitAfterDisk, CommitBeforeDisk};
    let case = |points, failure, expect| FaultCase { points, failure, expect };
    let faults = [
        case(Points::Each { first: 0, at: after_write }, Failure::Error, NotCommitted),
        case(Points::Each { first: 1, at: after_event }, Failure::IoError, NotCommitted),
        case(Points::At(AfterWrite(1)), Failure::DiskFull, NotCommitted),
        case(Points::At(AfterEvent(1)), Failure::IoErrorRollsBack, NotCommitted),
        case(Points::At(BeforeCommit), Failure::Error, NotCommitted),
        case(Points::At(BeforeCommit), Failure::DiskFull, NotCommitted),
        case(Points::At(BeforeCommit), Failure::IoErrorRollsBack, NotCommitted),
        // The commit fails: rolled back for sure (busy), or of unknown
        // outcome (the caller gets an error, and the store shows whether it
        // committed).
        case(Points::At(CommitBeforeDisk), Failure::Busy, NotCommitted),
        case(Points::At(CommitBeforeDisk), Failure::IoError, OutcomeUnknown { committed: false }),
        case(Points::At(CommitBeforeDisk), Failure::DiskFull, OutcomeUnknown { committed: false }),
        case(Points::At(CommitAfterDisk), Failure::IoError, OutcomeUnknown { committed: true }),
        case(Points::At(AfterCommit), Failure::Error, CommittedUnacked),
        case(Points::At(AfterWrite(1)), Failure::Panic, Stops { committed: false }),
        case(Points::At(BeforeCommit), Failure::Panic, Stops { committed: false }),
        case(Points::At(AfterCommit), Failure::Panic, Stops { committed: true }),
    ];
    let report = run_fault_matrix(rig, &faults);
    eprintln!("{report}");
    assert_eq!(report.commands, HubCommand::ALL.len());
    assert!(report.cases >= HubCommand::ALL.len() * faults.len());
}

/// A store on a temporary database with the scenario's fixture.
struct Scene {
    store: Arc<SqliteStore>,
    hub: Hub,
    ids: Arc<SequentialIds>,
    fixture: Fixture,
    _dir: tempfile::TempDir,
}

impl Scene {
    async fn new(options: SqliteOptions) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Arc::new(SqliteStore::open(dir.path().join("talk.db"), options).expect("open"));
        let ids = Arc::new(SequentialIds::default());
        let hub = scenario_hub(store.clone(), &ids, &Arc::new(ManualClock::default()));
        let fixture = setup(&hub).await.expect("setup");
        Self { store, hub, ids, fixture, _dir: dir }
    }

    fn fail_points(&self) -> SqliteFailPoints {
        self.store.fail_points()
    }

    async fn snapshot(&self) -> Snapshot {
        let snapshot = snapshot(self.store.as_ref(), &Universe::sequential(self.ids.issued())).await.expect("snapshot");
        check_consistency(&snapshot).unwrap_or_else(|e| panic!("{e}"));
        snapshot
    }
}

/// Waits (without asserting any duration) until `count` change sets wait
/// for the held writer.
async fn wait_pending(fail_points: &SqliteFailPoints, count: usize) {
    for _ in 0..60_000 {
        if fail_points.pending() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{count} change sets never queued up for the writer");
}

// ---------------------------------------------------- who commits, in which batches

fn open_store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(dir.path().join("talk.db"), options()).expect("open"))
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

/// A store with a talk, and its head.
async fn store_with_talk(dir: &tempfile::TempDir) -> (Arc<SqliteStore>, TalkId, u64) {
    let store = open_store(dir);
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    let head = store.head().await.expect("head");
    (store, talk.id, head)
}

/// Applies `changes` on a task of its own.
fn spawn_apply(
    store: &Arc<SqliteStore>,
    changes: ChangeSet,
) -> tokio::task::JoinHandle<Result<Vec<talk_core::Event>, StoreError>> {
    let store = Arc::clone(store);
    tokio::spawn(async move { store.apply(changes).await })
}

/// The batches the writer applies from now on, as a point that never
/// fires sees them: a change set reaching [`FailPoint::AfterWrite`]`(0)`
/// at index 0 starts a batch.
struct Batches(Arc<Mutex<Vec<(usize, bool)>>>);

impl Batches {
    fn record(fail_points: &SqliteFailPoints) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        fail_points.arm_when(FailPoint::AfterWrite(0), Failure::Error, move |index| {
            log.lock().expect("log").push((index, on_writer_thread()));
            false
        });
        Self(seen)
    }

    /// The size of each batch, and whether the writer thread (rather than
    /// its caller) committed it.
    fn sizes(&self) -> Vec<(usize, bool)> {
        let mut sizes: Vec<(usize, bool)> = Vec::new();
        for &(index, on_writer) in self.0.lock().expect("log").iter() {
            match sizes.last_mut() {
                Some((size, _)) if index > 0 => *size += 1,
                _ => sizes.push((1, on_writer)),
            }
        }
        sizes
    }
}

/// Creates a talk and sends `sends` messages in it, one after the other,
/// on a new store; answers the batches they went in.
async fn batches_of_lone_change_sets(sends: usize) -> Vec<(usize, bool)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let batches = Batches::record(&store.fail_points());
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    for k in 0..sends {
        let events = store.apply(send(talk.id, &format!("m{k}"))).await.expect("send");
        assert_eq!(events.len(), 1);
    }
    assert_eq!(store.events(0, 100).await.expect("events").len(), 2 + sends, "every event is in the log");
    batches.sizes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_set_finding_the_writer_idle_commits_on_the_callers_thread() {
    let batches = batches_of_lone_change_sets(3).await;
    assert_eq!(batches, [(1, false); 4], "four batches of one, none on the writer thread");
}

#[tokio::test(flavor = "current_thread")]
async fn on_a_current_thread_runtime_the_writer_thread_commits() {
    assert_eq!(batches_of_lone_change_sets(1).await, [(1, true); 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_change_sets_commit_in_one_batch_and_a_refused_one_fails_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir);
    let (talk, create) = new_talk();
    store.apply(create.clone()).await.expect("create");
    let head = store.head().await.expect("head");

    let fail_points = store.fail_points();
    let batches = Batches::record(&fail_points);
    let hold = fail_points.hold_writer();
    let mut calls = Vec::new();
    for k in 0..10 {
        // Every third one reuses the talk's id: refused by its unique key.
        let changes = if k % 3 == 1 { create.clone() } else { send(talk.id, &format!("m{k}")) };
        calls.push(spawn_apply(&store, changes));
        wait_pending(&fail_points, k + 1).await;
    }
    drop(hold);

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
    assert_eq!(batches.sizes(), [(10, true)], "the ten queued change sets went in one transaction");
    let log = store.events(0, 100).await.expect("events");
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..next).collect::<Vec<_>>());
}

/// The texts the search for `q` finds, newest first, as `alice` sees them.
async fn found(store: &SqliteStore, q: &str) -> Vec<String> {
    let query = talk_core::store::SearchQuery::text(q);
    let hits = store.search_messages(&agent("alice"), &query, None, 50, 3).await.expect("a search");
    hits.into_iter().map(|m| m.text).collect()
}

/// A batch writes the search index of its applied change sets once they
/// are all applied: what each indexes, in their order (a message sent then
/// edited, and one sent then deleted, in the same batch), and nothing of a
/// refused one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_indexes_what_its_applied_change_sets_index_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, talk, _) = store_with_talk(&dir).await;
    let alice = agent("alice");
    let kept = builders::message(talk, &alice, "harbour kept");
    let edited = builders::message(talk, &alice, "harbour before edit");
    let deleted = builders::message(talk, &alice, "harbour deleted");
    let refused = talk_core::Message { text: "harbour refused zanzibar".to_owned(), ..kept.clone() };
    let now = builders::at(5);
    let batch = [
        ChangeSetBuilder::new().insert_message(&kept).build(),
        ChangeSetBuilder::new().insert_message(&edited).build(),
        ChangeSetBuilder::new().insert_message(&deleted).build(),
        // The id of `kept`: refused, with the words it would index.
        ChangeSetBuilder::new().insert_message(&refused).build(),
        ChangeSetBuilder::new().update_message(&builders::edited(&edited, "harbour after edit", now)).build(),
        ChangeSetBuilder::new().delete_message(&builders::tombstone(&deleted, now)).build(),
        send(talk, "harbour last"),
    ];
    let fail_points = store.fail_points();
    let batches = Batches::record(&fail_points);
    let hold = fail_points.hold_writer();
    let mut calls = Vec::new();
    for (k, changes) in batch.into_iter().enumerate() {
        calls.push(spawn_apply(&store, changes));
        wait_pending(&fail_points, k + 1).await;
    }
    drop(hold);
    for (k, call) in calls.into_iter().enumerate() {
        let result = call.await.expect("task");
        if k == 3 {
            assert!(matches!(result, Err(StoreError::Conflict(Conflict::MessageIdTaken))), "{k}: {result:?}");
        } else {
            result.unwrap_or_else(|e| panic!("{k}: {e}"));
        }
    }
    assert_eq!(batches.sizes(), [(7, true)], "one batch");
    assert_eq!(found(&store, "harbour").await, ["harbour last", "harbour after edit", "harbour kept"]);
    assert_eq!(found(&store, "edit").await, ["harbour after edit"]);
    assert!(found(&store, "before").await.is_empty(), "the words before the edit are gone");
    assert!(found(&store, "deleted").await.is_empty(), "a deleted message is not found");
    assert!(found(&store, "zanzibar").await.is_empty(), "nothing of the refused change set");
    // The next batches index as before.
    store.apply(send(talk, "harbour after the batch")).await.expect("send");
    assert_eq!(found(&store, "harbour").await.len(), 4);
}

/// Three sends queued as one batch while the writer is held, the middle one
/// meeting what `arm` arms; answers the three results.
async fn batch_of_three(
    store: &Arc<SqliteStore>,
    talk: TalkId,
    arm: impl FnOnce(&SqliteFailPoints),
) -> Vec<Result<Vec<talk_core::Event>, StoreError>> {
    let fail_points = store.fail_points();
    let hold = fail_points.hold_writer();
    let mut calls = Vec::new();
    for k in 0..3 {
        calls.push(spawn_apply(store, send(talk, &format!("batch {k}"))));
        wait_pending(&fail_points, k + 1).await;
    }
    arm(&fail_points);
    drop(hold);
    let mut results = Vec::new();
    for call in calls {
        let result = tokio::time::timeout(Duration::from_secs(60), call).await.expect("no hang").expect("task");
        results.push(result);
    }
    fail_points.disarm_all();
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_rolled_back_whole_acknowledges_nobody_and_leaves_no_hole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, talk, head) = store_with_talk(&dir).await;

    let results = batch_of_three(&store, talk, |points| {
        points.arm_when(FailPoint::AfterWrite(0), Failure::IoErrorRollsBack, |index| index == 1);
    })
    .await;
    assert!(results[0].is_err(), "applied before the rollback, but not committed: not acked");
    assert!(results[1].is_err());
    assert!(results[2].is_err(), "in the same batch: not acked");
    assert_eq!(store.head().await.expect("head"), head);
    assert_eq!(store.events(0, 100).await.expect("events").len() as u64, head, "nothing of the batch is visible");

    let events = store.apply(send(talk, "next")).await.expect("the writer goes on");
    assert_eq!(events[0].seq, head + 1, "the rolled-back batch left no hole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_panic_fails_waiting_and_later_callers_instead_of_hanging_them() {
    talk_testing::faults::quiet_injected_panics();
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, talk, head) = store_with_talk(&dir).await;

    let results = batch_of_three(&store, talk, |points| {
        points.arm_when(FailPoint::AfterWrite(0), Failure::Panic, |index| index == 1);
    })
    .await;
    for result in &results {
        let error = result.as_ref().expect_err("the batch did not commit");
        assert!(format!("{error:?}").contains("panicked"), "{error:?}");
    }
    let deadline = Duration::from_secs(10);
    let later = tokio::time::timeout(deadline, store.apply(send(talk, "later"))).await.expect("no hang");
    let error = later.expect_err("the writer is gone");
    assert!(format!("{error:?}").contains("panicked"), "{error:?}");
    // Reads go on, and see nothing of the failed batch.
    assert_eq!(store.events(0, 100).await.expect("events").len() as u64, head);
    assert_eq!(store.talk(talk).await.expect("read").map(|t| t.id), Some(talk));
}

// ------------------------------------------------------- mixed batches

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_mixing_good_and_failing_change_sets_fails_only_the_failing_ones() {
    let mut cases = 0;
    for failure in [Failure::Error, Failure::DiskFull, Failure::IoError, Failure::IoErrorRollsBack, Failure::Panic] {
        for point in [FailPoint::AfterWrite(0), FailPoint::AfterWrite(1), FailPoint::AfterEvent(1)] {
            mixed_batch(failure, point).await;
            cases += 1;
        }
    }
    eprintln!("mixed batches: {cases} cases of 3 change sets, the middle one failing");
}

/// Three change sets in one batch — carol sends, carol reacts, alice edits —
/// the second failing at `point` with `failure`.
async fn mixed_batch(failure: Failure, point: FailPoint) {
    let what = format!("{point:?} failing with {failure:?} in the middle of a batch");
    let scene = Scene::new(options()).await;
    let before = scene.snapshot().await;
    let fail_points = scene.fail_points();
    fail_points.arm_when(point, failure, |index| index == 1);
    let hold = fail_points.hold_writer();
    let mut tasks = Vec::new();
    for (i, command) in [HubCommand::Send, HubCommand::React, HubCommand::Edit].into_iter().enumerate() {
        let (hub, fixture) = (scene.hub.clone(), scene.fixture);
        tasks.push(tokio::spawn(async move { command.run(&hub, &fixture).await }));
        wait_pending(&fail_points, i + 1).await;
    }
    drop(hold);
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("command task").map_err(|e| e.to_string()));
    }
    assert_eq!(fail_points.hits(point), 1, "{what}: the point fired once");
    fail_points.disarm_all();
    let after = scene.snapshot().await;
    match failure {
        Failure::IoErrorRollsBack | Failure::Panic => {
            // The whole transaction is gone: nobody of the batch is acknowledged.
            assert!(answers.iter().all(Result::is_err), "{what}: {answers:?}");
            if let Some(difference) = after.difference(&before) {
                panic!("{what}: a rolled-back batch left a change: {difference}");
            }
            if failure == Failure::Panic {
                assert!(next_command(&scene.hub).await.is_err(), "{what}: the stopped writer took a write");
                return;
            }
        }
        _ => {
            assert!(answers[0].is_ok() && answers[1].is_err() && answers[2].is_ok(), "{what}: {answers:?}");
            let new: Vec<&EventData> = after.log[before.log.len()..].iter().map(|e| &e.data).collect();
            assert!(
                matches!(new.as_slice(), [EventData::MessageCreated(m), EventData::MessageUpdated(u)]
                    if m.text == "hi all" && u.text == "hello, edited"),
                "{what}: the log gained exactly the send and the edit: {new:?}"
            );
            assert!(
                after.reactions.iter().all(|r| r.emoji.as_str() != "🎉"),
                "{what}: the failed reaction is not stored"
            );
        }
    }
    let first = next_command(&scene.hub).await.unwrap_or_else(|e| panic!("{what}: the next command: {e}"));
    assert_eq!(first, after.head + 1, "{what}: the next events follow the head");
    scene.snapshot().await;
}

// ------------------------------------------- what each failure answers

/// What a failed `apply` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Unavailable,
    OutcomeUnknown,
    Backend,
}

fn answer(result: &Result<Vec<talk_core::Event>, StoreError>) -> Answer {
    match result {
        Err(StoreError::Unavailable(_)) => Answer::Unavailable,
        Err(StoreError::OutcomeUnknown(_)) => Answer::OutcomeUnknown,
        Err(StoreError::Backend(_)) => Answer::Backend,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_answers_its_whole_batch_unavailable_if_it_surely_rolled_back_else_outcome_unknown() {
    use Answer::{Backend, OutcomeUnknown, Unavailable};
    use FailPoint::{BeforeCommit, CommitAfterDisk, CommitBeforeDisk};
    let cases = [
        // SQLite keeps the transaction of a busy COMMIT open: the store rolls it back.
        (CommitBeforeDisk, Failure::Busy, Unavailable, false),
        // SQLite rolled back, but an I/O error or a full disk in the commit
        // may strike after the commit reached the WAL.
        (CommitBeforeDisk, Failure::IoError, OutcomeUnknown, false),
        (CommitBeforeDisk, Failure::DiskFull, OutcomeUnknown, false),
        (CommitAfterDisk, Failure::IoError, OutcomeUnknown, true),
        // Before COMMIT: rolled back for sure.
        (BeforeCommit, Failure::IoErrorRollsBack, Unavailable, false),
        (BeforeCommit, Failure::Busy, Unavailable, false),
        (BeforeCommit, Failure::Error, Backend, false),
    ];
    for (point, failure, expected, committed) in cases {
        let what = format!("{point:?} failing with {failure:?}");
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, talk, head) = store_with_talk(&dir).await;
        let results = batch_of_three(&store, talk, |points| points.arm_once(point, failure)).await;
        let answers: Vec<Answer> = results.iter().map(answer).collect();
        assert_eq!(answers, [expected; 3], "{what}: every caller of the batch");
        // Reading tells whether the batch committed, whole or not at all.
        let stored = if committed { 3 } else { 0 };
        let log = store.events(head, 100).await.expect("events");
        assert_eq!(log.len(), stored, "{what}: {log:?}");
        assert_eq!(store.head().await.expect("head"), head + stored as u64, "{what}");
        assert_eq!(*store.watch_head().borrow(), head + stored as u64, "{what}: what committed is published");
        let next = store.apply(send(talk, "next")).await.unwrap_or_else(|e| panic!("{what}: writes go on: {e}"));
        assert_eq!(next[0].seq, head + stored as u64 + 1, "{what}: no hole, no reuse");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_set_failing_on_a_busy_full_or_failing_disk_answers_unavailable_alone() {
    let cases = [
        (FailPoint::AfterWrite(1), Failure::DiskFull, Answer::Unavailable),
        (FailPoint::AfterWrite(1), Failure::IoError, Answer::Unavailable),
        (FailPoint::AfterEvent(1), Failure::Busy, Answer::Unavailable),
        (FailPoint::AfterWrite(1), Failure::Error, Answer::Backend),
    ];
    for (point, failure, expected) in cases {
        let what = format!("{point:?} failing with {failure:?}");
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, talk, head) = store_with_talk(&dir).await;
        let results = batch_of_three(&store, talk, |points| points.arm_when(point, failure, |index| index == 1)).await;
        assert!(results[0].is_ok() && results[2].is_ok(), "{what}: the others commit: {results:?}");
        assert_eq!(answer(&results[1]), expected, "{what}");
        assert_eq!(store.head().await.expect("head"), head + 2, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_by_another_program_answers_unavailable_and_writes_go_on_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("talk.db");
    let store = SqliteStore::open(&path, options().busy_timeout(Duration::from_millis(50))).expect("open");
    let (talk, create) = new_talk();
    store.apply(create).await.expect("create");
    let head = store.head().await.expect("head");
    let other = rusqlite::Connection::open(&path).expect("another program's connection");
    other.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");

    let refused = store.apply(send(talk.id, "busy")).await;
    assert_eq!(answer(&refused), Answer::Unavailable, "{refused:?}");
    assert_eq!(store.head().await.expect("reads go on"), head);

    other.execute_batch("ROLLBACK").expect("release the write lock");
    let events = store.apply(send(talk.id, "free")).await.expect("writes go on");
    assert_eq!(events[0].seq, head + 1);
}

/// The text of an error and of its sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_really_full_disk_fails_the_write_atomically_and_writes_go_on_when_there_is_room() {
    let scene = Scene::new(SqliteOptions::default()).await;
    let [alice, ..] = talk_testing::faults::agents();
    let big = || NewMessage { text: "x".repeat(4000), ..NewMessage::default() };
    scene.fail_points().set_disk_full(true);
    let mut sent = 0;
    let refused = loop {
        assert!(sent < 500, "max_page_count never made the database full");
        let before = scene.snapshot().await;
        match scene.hub.send_message(&alice, scene.fixture.group, big()).await {
            Ok(_) => sent += 1,
            Err(error) => {
                let after = scene.snapshot().await;
                if let Some(difference) = after.difference(&before) {
                    panic!("the refused send left a change: {difference}");
                }
                assert_eq!(error.kind(), ErrorKind::Unavailable, "a full disk is a failure of the moment (503)");
                break chain(&error);
            }
        }
    };
    assert!(refused.contains("full"), "the refusal says the database is full: {refused}");
    // Still full: small writes that need no new page may pass, big ones fail.
    assert!(scene.hub.send_message(&alice, scene.fixture.group, big()).await.is_err());
    scene.fail_points().set_disk_full(false);
    let before = scene.snapshot().await;
    let message = scene.hub.send_message(&alice, scene.fixture.group, big()).await.expect("a send with room again");
    assert_eq!(message.resource.seq, before.head + 1, "no seq was used up by the refused writes");
    let first = next_command(&scene.hub).await.expect("the next command");
    assert_eq!(first, before.head + 2);
    scene.snapshot().await;
    eprintln!("full disk: {sent} sends fit, the next was refused with: {refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_really_full_disk_every_acknowledged_send_of_a_batch_is_stored_and_no_other() {
    let scene = Scene::new(options()).await;
    let agents = talk_testing::faults::agents();
    let fail_points = scene.fail_points();
    fail_points.set_disk_full(true);
    let before = scene.snapshot().await;
    let hold = fail_points.hold_writer();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (hub, talk, agent) = (scene.hub.clone(), scene.fixture.group, agents[i % 3].clone());
        let text = format!("batch {i} {}", "x".repeat(3000 + i * 100));
        tasks.push(tokio::spawn(async move {
            let sent = hub.send_message(&agent, talk, NewMessage { text: text.clone(), ..NewMessage::default() }).await;
            (text, sent.map(|created| created.resource.id))
        }));
        wait_pending(&fail_points, i + 1).await;
    }
    drop(hold);
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("send task"));
    }
    let after = scene.snapshot().await;
    let stored: Vec<(&str, talk_core::MessageId)> = after.log[before.log.len()..]
        .iter()
        .filter_map(|e| match &e.data {
            EventData::MessageCreated(m) => Some((m.text.as_str(), m.id)),
            _ => None,
        })
        .collect();
    for (text, answer) in &answers {
        match answer {
            Ok(id) => assert!(stored.contains(&(text.as_str(), *id)), "an acknowledged send is stored"),
            Err(_) => assert!(stored.iter().all(|(t, _)| t != text), "a refused send is not stored"),
        }
    }
    let refused = answers.iter().filter(|(_, answer)| answer.is_err()).count();
    assert!(refused > 0, "the full database refused some of the batch");
    fail_points.set_disk_full(false);
    let first = next_command(&scene.hub).await.expect("the next command with room again");
    assert_eq!(first, after.head + 1);
    scene.snapshot().await;
    eprintln!("full disk, one batch of {}: {refused} refused, the others stored", answers.len());
}
