//! Fault injection into [`SqliteStore`] (feature `fault-injection`): every
//! Hub command meets every fail point of the writer — between the writes and
//! the events of its change set, before the commit, after the commit but
//! before the answer — failing with an error, a full disk, an I/O error
//! (with or without SQLite rolling the whole transaction back) or a panic of
//! the writer; see `talk_testing::faults` for what each case checks.
//! Then a batch mixing good and failing change sets, and a database made
//! full for real with `PRAGMA max_page_count`.
#![cfg(feature = "fault-injection")]

use std::sync::Arc;
use std::time::Duration;

use talk_core::{EventData, Hub, ManualClock, NewMessage, Store};
use talk_store_sqlite::faults::{FailPoint, Failure, SqliteFailPoints};
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
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
    use Expect::{CommittedUnacked, NotCommitted, Stops};
    use FailPoint::{AfterCommit, AfterEvent, AfterWrite, BeforeCommit};
    let case = |points, failure, expect| FaultCase { points, failure, expect };
    let faults = [
        case(Points::Each { first: 0, at: after_write }, Failure::Error, NotCommitted),
        case(Points::Each { first: 1, at: after_event }, Failure::IoError, NotCommitted),
        case(Points::At(AfterWrite(1)), Failure::DiskFull, NotCommitted),
        case(Points::At(AfterEvent(1)), Failure::IoErrorRollsBack, NotCommitted),
        case(Points::At(BeforeCommit), Failure::Error, NotCommitted),
        case(Points::At(BeforeCommit), Failure::DiskFull, NotCommitted),
        case(Points::At(BeforeCommit), Failure::IoErrorRollsBack, NotCommitted),
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
