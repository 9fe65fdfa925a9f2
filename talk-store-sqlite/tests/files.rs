//! What the database files hold: after a clean close (or the drop of the
//! last handle) the database file alone holds every commit; a deleted
//! message's text and request digest are in no file once the WAL is
//! checkpointed; an online
//! backup taken while writers go on is a consistent database of its own.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use talk_core::store::StoreError;
use talk_core::{AgentId, Hub, MessageId, NewMessage, NewTalk, Store, TalkId, TalkKind};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

fn alice() -> AgentId {
    AgentId::parse("alice").expect("agent")
}

fn open(path: &Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(path, SqliteOptions::default()).expect("open"))
}

async fn new_talk(hub: &Hub) -> TalkId {
    let input = NewTalk { kind: TalkKind::Group, name: Some("files".into()), detail: None, participant_ids: vec![] };
    hub.create_talk(&alice(), input).await.expect("talk").resource.id
}

async fn send(hub: &Hub, talk: TalkId, text: &str) -> MessageId {
    let input = NewMessage { text: text.to_owned(), ..NewMessage::default() };
    hub.send_message(&alice(), talk, input).await.expect("send").resource.id
}

/// A store on a new database in `dir`, a Hub on it, and a talk.
async fn scene(dir: &tempfile::TempDir) -> (PathBuf, Arc<SqliteStore>, Hub, TalkId) {
    let path = dir.path().join("talk.db");
    let store = open(&path);
    let hub = Hub::new(store.clone());
    let talk = new_talk(&hub).await;
    (path, store, hub, talk)
}

/// A store on a new database in `dir` with 40 messages sent through a Hub:
/// the database, the store, the Hub, the talk, the messages and the head.
async fn with_messages(dir: &tempfile::TempDir) -> (PathBuf, Arc<SqliteStore>, Hub, TalkId, Vec<MessageId>, u64) {
    let (path, store, hub, talk) = scene(dir).await;
    let mut sent = Vec::new();
    for k in 0..40 {
        sent.push(send(&hub, talk, &format!("message {k}")).await);
    }
    let head = store.head().await.expect("head");
    (path, store, hub, talk, sent, head)
}

/// Copies the database file alone (no `-wal`, no `-shm`) into a new
/// directory, and checks that the copy holds every message of `sent` and
/// ends at `head`.
async fn the_file_alone_holds(path: &Path, sent: &[MessageId], head: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).expect("copy the database file");
    assert_eq!(common::check_database(&copy, sent, "the copy of the database file alone").await.1, head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_close_the_database_file_alone_holds_every_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store, hub, talk, sent, head) = with_messages(&dir).await;

    store.close().await.expect("close");
    let refused = hub.send_message(&alice(), talk, NewMessage { text: "late".into(), ..NewMessage::default() }).await;
    assert_eq!(refused.expect_err("closed").kind(), talk_core::ErrorKind::Unavailable);
    assert!(matches!(store.head().await, Err(StoreError::Unavailable(_))), "reads are refused too");
    store.close().await.expect("a second close answers at once");

    the_file_alone_holds(&path, &sent, head).await;
    // The lock file is free: the database opens again.
    drop(open(&path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_also_leaves_every_message_in_the_database_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store, hub, _, sent, head) = with_messages(&dir).await;
    drop(hub);
    drop(store);
    the_file_alone_holds(&path, &sent, head).await;
}

/// The bytes of the database file and of its WAL, if it has one.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("read the database file");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(PathBuf::from(wal)) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_messages_text_and_digest_are_in_no_file_after_a_checkpoint() {
    const SHORT: &str = "zebra-quartz-7431-marmalade";
    const EDITED: &str = "okapi-garnet-2968-chutney";
    const LONG: &str = "narwhal-topaz-5802-compote ";
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, store, hub, talk) = scene(&dir).await;
    // Sent with a client-chosen id: its row keeps the request's digest.
    let short = MessageId(uuid::Uuid::now_v7());
    let request = NewMessage { id: Some(short), text: SHORT.to_owned(), ..NewMessage::default() };
    hub.send_message(&alice(), talk, request).await.expect("send");
    let digest = store.message(short, 0).await.expect("read").and_then(|m| m.request_digest).expect("a digest");
    hub.edit_message(&alice(), short, EDITED.to_owned()).await.expect("edit");
    // Long enough to spill into overflow pages, in its row and in its event.
    let long = send(&hub, talk, &LONG.repeat(4000 / LONG.len())).await;
    let kept = send(&hub, talk, "kept").await;
    let bytes = file_bytes(&path);
    for needle in [SHORT, EDITED, LONG, &digest] {
        assert!(contains(&bytes, needle), "{needle} is in the files before the delete");
    }

    hub.delete_message(&alice(), short).await.expect("delete");
    hub.delete_message(&alice(), long).await.expect("delete");
    store.close().await.expect("close, with its checkpoint");

    let bytes = file_bytes(&path);
    for needle in [SHORT, EDITED, LONG.trim(), &digest] {
        assert!(!contains(&bytes, needle), "{needle} is in the files after the delete");
    }
    assert!(contains(&bytes, "kept"), "the other message is still there");
    let store = open(&path);
    assert_eq!(store.message(kept, 0).await.expect("read").map(|m| m.text), Some("kept".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writers_send_is_a_consistent_database() {
    backup_while_writers_send(Through::Store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_from_outside_the_store_while_writers_send_is_a_consistent_database() {
    backup_while_writers_send(Through::Outside).await;
}

/// How a backup is taken.
#[derive(Clone, Copy)]
enum Through {
    /// [`SqliteStore::backup_to`].
    Store,
    /// [`SqliteStore::backup_database`], on the database file, beside the store.
    Outside,
}

async fn back_up(store: &SqliteStore, through: Through, copy: &Path) -> Result<(), StoreError> {
    match through {
        Through::Store => store.backup_to(copy).await,
        Through::Outside => {
            let (database, copy) = (store.path().to_owned(), copy.to_owned());
            tokio::task::spawn_blocking(move || SqliteStore::backup_database(database, copy))
                .await
                .expect("the backup task")
        }
    }
}

/// Backs the database up while 4 tasks send, and checks the copy: the
/// database as of one moment, and nothing overwritten.
async fn backup_while_writers_send(through: Through) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_path, store, hub, talk) = scene(&dir).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for task in 0..4 {
        let (hub, stop) = (hub.clone(), Arc::clone(&stop));
        senders.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                sent.push(send(&hub, talk, &format!("task {task} message {}", sent.len())).await);
                tokio::task::yield_now().await;
            }
            sent
        }));
    }
    while store.head().await.expect("head") < 100 {
        tokio::task::yield_now().await;
    }
    let backed_up = store.head().await.expect("head");
    let before: Vec<MessageId> =
        common::created_messages(&common::whole_log(store.as_ref()).await).into_iter().collect();
    let copy = dir.path().join("backup.db");
    back_up(&store, through, &copy).await.expect("backup");
    let after = store.head().await.expect("head");
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.expect("sender");
    }

    assert!(!Path::new(&format!("{}-partial", copy.display())).exists(), "no partial copy is left");
    let refused = back_up(&store, through, &copy).await;
    assert!(refused.is_err(), "an existing file is not overwritten");
    let (_, head) = common::check_database(&copy, &before, "the backup").await;
    assert!(backed_up <= head && head <= after, "the copy is the database as of one moment during the backup");
    // The original goes on.
    send(&hub, talk, "after the backup").await;
}
