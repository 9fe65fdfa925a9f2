//! Unit tests of what only the inside of the store can show: the query
//! plans of the list queries, and the rows they visit. (The writer's
//! batches, whole-transaction failures and panics are tested through the
//! fail points: `tests/faults.rs`.)

use std::rc::Rc;
use std::sync::Arc;

use talk_core::store::ChangeSet;
use talk_core::{Store, Talk, TalkId};
use talk_testing::builders::{self, ChangeSetBuilder, agent, emoji};

use super::*;

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
    let conn =
        Connection::open_with_flags(store.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("connection");
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
    let conn =
        Connection::open_with_flags(store.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("connection");
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
