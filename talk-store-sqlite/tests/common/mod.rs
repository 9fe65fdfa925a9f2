//! What several test files share: a [`SqliteStore`] on its own temporary
//! database, removed when the store is dropped (what the shared suites'
//! factories hand out), and the reading and checking of a whole database.
#![allow(dead_code, reason = "each test file uses a part of it")]

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use talk_core::{Event, EventData, MessageId, Store};
use talk_store_sqlite::{SqliteOptions, SqliteStore};
use talk_testing::ForwardingStore;

/// A fresh store on a new database in a new temporary directory, which goes
/// when the store does.
pub(crate) fn temp_store(options: SqliteOptions) -> Arc<dyn Store> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("talk.db"), options).expect("open a fresh database");
    Arc::new(ForwardingStore::keeping(Arc::new(store), dir))
}

/// Reads the whole log of `store`, in pages.
pub(crate) async fn whole_log(store: &dyn Store) -> Vec<Event> {
    let mut log: Vec<Event> = Vec::new();
    loop {
        let page = store.events(log.last().map_or(0, |e| e.seq), 5_000).await.expect("events");
        if page.is_empty() {
            return log;
        }
        log.extend(page);
    }
}

/// The messages whose `message_created` is in `log`.
pub(crate) fn created_messages(log: &[Event]) -> HashSet<MessageId> {
    log.iter()
        .filter_map(|e| match &e.data {
            EventData::MessageCreated(m) => Some(m.id),
            _ => None,
        })
        .collect()
}

/// Checks the database at `path`: `PRAGMA integrity_check` (before a store
/// opens it), then, on a store opened on it, a log `1..=head` without
/// holes, the row of every message created in the log, and every message
/// of `expected` among them. Answers the store and its head.
pub(crate) async fn check_database(path: &Path, expected: &[MessageId], what: &str) -> (SqliteStore, u64) {
    let conn = rusqlite::Connection::open(path).expect("connection");
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("integrity_check");
    assert_eq!(integrity, "ok", "{what}");
    drop(conn);
    let store = SqliteStore::open(path, SqliteOptions::default()).expect("open the database");
    let log = whole_log(&store).await;
    let head = store.head().await.expect("head");
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "{what}: the log is 1..=head without holes");
    let created = created_messages(&log);
    for id in &created {
        assert!(store.message(*id, 0).await.expect("read").is_some(), "{what}: created {id} has its row");
    }
    for id in expected {
        assert!(created.contains(id), "{what}: {id} has its message_created event");
    }
    (store, head)
}
