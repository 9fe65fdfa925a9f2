//! Opening a database: migrations and the schema, one store per database,
//! and the clear errors of everything that is not a usable database.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use talk_core::{AgentId, Hub, NewMessage, NewTalk, PageRequest, TalkKind};
use talk_store_sqlite::{OpenError, SqliteOptions, SqliteStore, lock_file_path};

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("talk.db")
}

fn open(path: &Path) -> Result<SqliteStore, OpenError> {
    SqliteStore::open(path, SqliteOptions::default())
}

fn alice() -> AgentId {
    AgentId::parse("alice").expect("agent")
}

/// The schema as SQLite keeps it: every table and index, in name order.
fn schema(path: &Path) -> String {
    let conn = Connection::open(path).expect("connection");
    let mut statement = conn
        .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY tbl_name, type DESC, name")
        .expect("schema query");
    let rows = statement.query_map([], |row| row.get::<_, String>(0)).expect("schema");
    rows.map(|sql| sql.expect("row") + ";\n").collect()
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path).expect("connection").query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version")
}

#[test]
fn the_schema_matches_the_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(&db(&dir)).expect("open"));
    let actual = schema(&db(&dir));
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/schema.sql");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &actual).expect("write the snapshot");
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        actual == expected,
        "the schema differs from tests/snapshots/schema.sql (a schema change is a new migration; \
         rerun with UPDATE_SNAPSHOTS=1 to accept it):\n{actual}"
    );
}

#[tokio::test]
async fn reopening_keeps_the_data_and_changes_nothing_in_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let store = Arc::new(open(&path).expect("open"));
    let hub = Hub::new(store.clone());
    let new_talk = NewTalk { kind: TalkKind::Group, name: Some("plans".into()), detail: None, participant_ids: vec![] };
    let talk = hub.create_talk(&alice(), new_talk).await.expect("talk").resource;
    let text = NewMessage { text: "kept".into(), ..NewMessage::default() };
    let sent = hub.send_message(&alice(), talk.id, text).await.expect("send").resource;
    drop(hub);
    drop(store);
    let (before, version) = (schema(&path), user_version(&path));
    assert_eq!(version, migrations());

    let store = Arc::new(open(&path).expect("reopen"));
    assert_eq!(schema(&path), before);
    assert_eq!(user_version(&path), version);
    let hub = Hub::new(store.clone());
    let page = hub
        .messages(&alice(), talk.id, talk_core::MessageFilter::TopLevel, &PageRequest::first())
        .await
        .expect("messages");
    assert_eq!(page.items.first().map(|m| m.id), Some(sent.id));
    use talk_core::Store;
    let head = store.head().await.expect("head");
    assert_eq!(head, 3, "talk_created, participant_joined, message_created");
    let next = hub.send_message(&alice(), talk.id, NewMessage { text: "next".into(), ..NewMessage::default() }).await;
    assert_eq!(next.expect("send").resource.seq, head + 1, "seq goes on where it was");
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    drop(open(&path).expect("open"));
    Connection::open(&path).expect("connection").pragma_update(None, "user_version", 99).expect("version");
    let before = schema(&path);
    let error = open(&path).expect_err("refused");
    assert!(matches!(error, OpenError::TooNew { found: 99, supported, .. } if supported == migrations()), "{error:?}");
    assert!(error.to_string().contains("newer"), "{error}");
    assert_eq!(schema(&path), before);
    assert_eq!(user_version(&path), 99);
}

#[test]
fn a_second_store_on_the_same_database_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let first = open(&path).expect("open");
    let error = open(&path).expect_err("second store refused");
    assert!(matches!(&error, OpenError::Locked { .. }), "{error:?}");
    assert!(error.to_string().contains("already open"), "{error}");
    drop(first);
    drop(open(&path).expect("free again once the first store is dropped"));
}

/// The child half of the next test: opens the database named by the
/// environment and prints how it went.
#[test]
fn second_process_child() {
    let Some(path) = std::env::var_os("TALK_SQLITE_SECOND_PROCESS_DB") else { return };
    let outcome = match open(Path::new(&path)) {
        Ok(_) => "opened".to_owned(),
        Err(OpenError::Locked { .. }) => "locked".to_owned(),
        Err(other) => format!("other: {other}"),
    };
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "OUTCOME {outcome}").expect("stdout");
}

#[test]
fn a_second_process_opening_the_database_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let run_child = || {
        let output = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "second_process_child", "--nocapture", "--test-threads=1"])
            .env("TALK_SQLITE_SECOND_PROCESS_DB", &path)
            .output()
            .expect("child");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout.lines().find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o.to_owned())).unwrap_or(stdout)
    };
    let store = open(&path).expect("open");
    assert_eq!(run_child(), "locked");
    drop(store);
    assert_eq!(run_child(), "opened");
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    std::fs::write(&path, "these are not the bytes of a database\n".repeat(200)).expect("write");
    let error = open(&path).expect_err("refused");
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error:?}");
    assert!(error.to_string().contains("not an SQLite database"), "{error}");
}

#[test]
fn a_directory_in_place_of_the_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = open(dir.path()).expect_err("refused");
    assert!(error.to_string().contains(&dir.path().display().to_string()), "names the path: {error}");
}

#[test]
fn a_missing_or_read_only_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = open(&dir.path().join("missing/talk.db")).expect_err("refused");
    assert!(matches!(error, OpenError::LockFile { .. }), "{error:?}");
    // Even root cannot create files in procfs.
    let error = open(Path::new("/proc/talk-store-sqlite-test.db")).expect_err("refused");
    assert!(matches!(error, OpenError::LockFile { .. }), "{error:?}");
    assert!(error.to_string().contains("is the directory writable"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_read_only_database_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    drop(open(&path).expect("open"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        // Running with the privilege to write anyway (root): nothing to refuse.
        return;
    }
    let error = open(&path).expect_err("refused");
    assert!(matches!(error, OpenError::ReadOnly { .. }), "{error:?}");
}

#[test]
fn a_database_locked_by_another_program_is_refused_after_the_busy_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let other = Connection::open(&path).expect("another program's connection");
    other.execute_batch("CREATE TABLE theirs (x); BEGIN EXCLUSIVE; INSERT INTO theirs VALUES (1);").expect("lock");
    let options = SqliteOptions::default().busy_timeout(Duration::from_millis(100));
    let error = SqliteStore::open(&path, options).expect_err("refused");
    assert!(matches!(error, OpenError::Busy { .. }), "{error:?}");
    assert!(error.to_string().contains("locked by another connection"), "{error}");
    // Refused cleanly: the lock file is free again.
    other.execute_batch("ROLLBACK").expect("unlock");
    drop(other);
    assert!(lock_file_path(&path).exists());
}

/// The schema version this crate writes: the number of its migrations.
fn migrations() -> i64 {
    talk_testing::migrations::latest_version(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
}

/// The search migration (the latest) indexes the messages a database
/// already holds: normal ones not deleted, folded by talk-core.
#[tokio::test]
async fn the_search_migration_indexes_the_messages_already_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let store = Arc::new(open(&path).expect("open"));
    let hub = Hub::new(store.clone());
    let new_talk = NewTalk { kind: TalkKind::Group, name: Some("plans".into()), detail: None, participant_ids: vec![] };
    let talk = hub.create_talk(&alice(), new_talk).await.expect("talk").resource;
    let send = |text: &str| NewMessage { text: text.into(), ..NewMessage::default() };
    let kept = hub.send_message(&alice(), talk.id, send("Réunion au café")).await.expect("send").resource;
    let gone = hub.send_message(&alice(), talk.id, send("café supprimé")).await.expect("send").resource;
    hub.delete_message(&alice(), gone.id).await.expect("delete");
    drop(hub);
    drop(store);
    // The database as it was before the search migration.
    let conn = Connection::open(&path).expect("connection");
    conn.execute_batch("DROP TABLE message_search; DROP INDEX messages_by_seq;").expect("drop the search index");
    conn.pragma_update(None, "user_version", migrations() - 1).expect("version");
    drop(conn);

    let store = Arc::new(open(&path).expect("reopen"));
    assert_eq!(user_version(&path), migrations());
    let hub = Hub::new(store.clone());
    let found = hub
        .search_messages(&alice(), &talk_core::SearchRequest::new("CAFE"), &PageRequest::first())
        .await
        .expect("search");
    assert_eq!(found.items.iter().map(|hit| hit.message.id).collect::<Vec<_>>(), [kept.id]);
}
