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

/// A database made by the migrations before read state (0001–0003) with a
/// talk, records and messages in it: opening it numbers the messages and
/// puts every record's marker at its own join.
#[tokio::test]
async fn a_database_from_before_read_state_gets_markers_at_each_records_join() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(&dir);
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let conn = Connection::open(&path).expect("connection");
    for name in ["0001_initial.sql", "0002_event_holds.sql", "0003_secret_key.sql"] {
        conn.execute_batch(&std::fs::read_to_string(folder.join(name)).expect("migration")).expect(name);
    }
    conn.pragma_update(None, "user_version", 3).expect("version");
    let (talk, alice_record, bob_record) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    conn.execute(
        "INSERT INTO talks (id, kind, name, detail, status, creator_id, member_count, version, created_seq, \
         tm_create, tm_update) VALUES (?1, 'group', 'old', '', 'active', 'alice', 2, 1, 1, 0, 0)",
        [talk.as_bytes().as_slice()],
    )
    .expect("talk");
    let record = |id: &uuid::Uuid, agent: &str, seq: i64| {
        conn.execute(
            "INSERT INTO participants (id, talk_id, agent_id, status, seq, joined_seq, talk_seq, tm_joined) \
             VALUES (?1, ?2, ?3, 'active', ?4, ?4, 1, 5)",
            rusqlite::params![id.as_bytes().as_slice(), talk.as_bytes().as_slice(), agent, seq],
        )
        .expect("record");
    };
    let message = |agent: Option<&str>, kind: &str, seq: i64| {
        let id = uuid::Uuid::now_v7();
        conn.execute(
            "INSERT INTO messages (id, talk_id, kind, agent_id, text, medias, version, seq, tm_create, tm_update) \
             VALUES (?1, ?2, ?3, ?4, 'x', '[]', 1, ?5, 0, 0)",
            rusqlite::params![id.as_bytes().as_slice(), talk.as_bytes().as_slice(), kind, agent, seq],
        )
        .expect("message");
        id
    };
    record(&alice_record, "alice", 2);
    message(Some("alice"), "normal", 3);
    message(Some("alice"), "normal", 4);
    record(&bob_record, "bob", 5);
    let system = message(None, "system", 6);
    message(Some("alice"), "normal", 7);
    drop(conn);

    let store = open(&path).expect("the old database opens");
    assert_eq!(user_version(&path), migrations());
    use talk_core::Store;
    let bob = store.read_marker(talk_core::ParticipantId(bob_record)).await.expect("read").expect("bob's marker");
    assert_eq!(bob.read_seq, 5, "at bob's own join");
    let alice_marker =
        store.read_marker(talk_core::ParticipantId(alice_record)).await.expect("read").expect("alice's marker");
    assert_eq!((alice_marker.read_seq, alice_marker.read_message_id), (2, None));
    let numbers = store.read_numbers(&AgentId::parse("bob").expect("agent"), None).await.expect("numbers");
    assert_eq!(numbers.len(), 1);
    assert_eq!((numbers[0].normal_after, numbers[0].own_after), (1, 0), "the one normal message after bob joined");
    let hub = Hub::new(Arc::new(store));
    let counts = hub.talk_with_counts(&alice(), talk_core::TalkId(talk)).await.expect("talk").counts;
    assert_eq!(counts.map(|c| c.unread_count), Some(0), "alice wrote every message");
    let sent = hub
        .send_message(
            &AgentId::parse("bob").expect("agent"),
            talk_core::TalkId(talk),
            NewMessage { text: "new".into(), ..NewMessage::default() },
        )
        .await
        .expect("send")
        .resource;
    let state = hub.read_states(&alice(), talk_core::TalkId(talk), &PageRequest::first()).await.expect("reads");
    let bob_state = state.items.iter().find(|s| s.agent_id.as_str() == "bob").expect("bob");
    assert_eq!(bob_state.last_read_message_id, Some(sent.id));
    assert_ne!(bob_state.last_read_message_id, Some(talk_core::MessageId(system)));
    let counts = hub.talk_with_counts(&alice(), talk_core::TalkId(talk)).await.expect("talk").counts;
    assert_eq!(counts.map(|c| c.unread_count), Some(1), "numbered after the old messages");
}

/// The search migration (0006) indexes the messages a database
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
    let conn = Connection::open(&path).expect("connection");
    // The database as it was before the search migration (0006) and the
    // consumers' one after it (0007).
    conn.execute_batch("DROP TABLE message_search; DROP INDEX messages_by_seq; DROP TABLE consumers;")
        .expect("drop the search index and the consumers");
    conn.pragma_update(None, "user_version", 5).expect("version");
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
