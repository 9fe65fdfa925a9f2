//! The cross-node notifier: a commit through one node wakes every node's
//! watch, also after the listening connection was killed, and a lost
//! notification is made up by the poll.

mod common;

use std::time::Duration;

use common::{TestSchema, admin, database_url};
use talk_core::store::NewEvent;
use talk_core::{Event, EventData, Notifier, Store};
use talk_store_postgres::{NotifierOptions, PostgresNotifier, PostgresOptions, PostgresStore};
use talk_testing::builders::{ChangeSetBuilder, agent, create_talk, group_talk, participant};
use tokio::sync::watch;

/// Long enough that only `LISTEN` can announce a commit within a test.
const NO_POLL: Duration = Duration::from_secs(3600);
const PATIENCE: Duration = Duration::from_secs(10);

fn listen_only() -> NotifierOptions {
    NotifierOptions { poll_interval: NO_POLL, ..NotifierOptions::default() }
}

async fn node(schema: &TestSchema, name: &str) -> PostgresStore {
    schema.store_with(PostgresOptions { application_name: format!("{name}-{}", schema.name), ..schema.options() }).await
}

/// Creates a talk: answers the head after it.
async fn write(store: &PostgresStore) -> u64 {
    let creator = agent("creator");
    let talk = group_talk(&creator, "announced");
    let events = store.apply(create_talk(&talk, &[participant(talk.id, &creator)])).await.expect("apply");
    events.last().map(|e| e.seq).expect("events")
}

async fn wait_for(watch: &mut watch::Receiver<u64>, head: u64, what: &str) {
    let waited = tokio::time::timeout(PATIENCE, watch.wait_for(|seen| *seen >= head)).await.map(|r| r.is_ok());
    match waited {
        Ok(true) => {}
        Ok(false) => panic!("{what}: the notifier's watch closed"),
        Err(_) => panic!("{what}: head {head} was not announced within {PATIENCE:?} (saw {})", *watch.borrow()),
    }
}

/// The backend pids of the connections named `application_name`.
async fn backends(admin: &tokio_postgres::Client, application_name: &str) -> Vec<i32> {
    admin
        .query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", &[&application_name])
        .await
        .expect("pg_stat_activity")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_commit_through_one_node_wakes_the_watch_of_the_other() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let (a, b) = (node(&schema, "a").await, node(&schema, "b").await);
    let notifier_a = PostgresNotifier::start_with(&a, listen_only()).await.expect("notifier a");
    let notifier_b = PostgresNotifier::start_with(&b, listen_only()).await.expect("notifier b");
    let (mut watch_a, mut watch_b) = (notifier_a.watch(), notifier_b.watch());
    assert_eq!(*watch_b.borrow(), 0, "an empty log's head is announced as 0");

    let head = write(&a).await;
    wait_for(&mut watch_b, head, "a write through a, seen by b").await;
    wait_for(&mut watch_a, head, "a write through a, seen by a's own listener").await;
    let head = write(&b).await;
    wait_for(&mut watch_a, head, "a write through b, seen by a").await;
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_notifier_starts_at_the_current_head_and_ignores_other_schemas() {
    let url = database_url();
    let (schema, other) = (TestSchema::new(&url), TestSchema::new(&url));
    let store = node(&schema, "mine").await;
    let elsewhere = node(&other, "other").await;
    write(&store).await;
    let head = write(&store).await;
    let notifier = PostgresNotifier::start_with(&store, listen_only()).await.expect("notifier");
    assert_eq!(*notifier.watch().borrow(), head, "start announces the head as it is");
    let mut watch = notifier.watch();
    for _ in 0..3 {
        write(&elsewhere).await;
    }
    let mine = write(&store).await;
    wait_for(&mut watch, mine, "a write to the notifier's schema").await;
    assert_eq!(*watch.borrow(), mine, "heads of another schema are not announced here");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_listener_survives_its_connection_being_killed() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let (writer, listener) = (node(&schema, "w").await, node(&schema, "l").await);
    let notifier = PostgresNotifier::start_with(&listener, listen_only()).await.expect("notifier");
    let mut watch = notifier.watch();
    let admin = admin(&url).await;
    let listener_name = format!("l-{} listener", schema.name);

    for round in 0..3 {
        let before = backends(&admin, &listener_name).await;
        assert_eq!(before.len(), 1, "round {round}: one listening connection");
        let killed: bool = admin
            .query_one("SELECT pg_terminate_backend($1)", &[&before[0]])
            .await
            .expect("pg_terminate_backend")
            .get(0);
        assert!(killed, "round {round}: the listening backend was terminated");
        // Wait for the notifier to listen again on a new connection.
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let now = backends(&admin, &listener_name).await;
            if now.len() == 1 && now != before {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "round {round}: the listener did not reconnect");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let head = write(&writer).await;
        wait_for(&mut watch, head, &format!("round {round}: a write after the listener was killed")).await;
    }
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_commit_whose_notification_is_lost_is_found_by_the_poll() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let store = node(&schema, "p").await;
    let options = NotifierOptions { poll_interval: Duration::from_millis(100), ..NotifierOptions::default() };
    let notifier = PostgresNotifier::start_with(&store, options).await.expect("notifier");
    let mut watch = notifier.watch();
    let head = write(&store).await;
    wait_for(&mut watch, head, "a notified write").await;

    // Append one event by hand, the way a writer does but without NOTIFY:
    // as if the notification were lost.
    let creator = agent("creator");
    let talk = group_talk(&creator, "silent");
    let new = ChangeSetBuilder::new().insert_talk(&talk).build();
    let NewEvent { talk_id, tm_create, data } = new.events.into_iter().next().expect("an event");
    let event = Event { seq: head + 1, talk_id, tm_create, data };
    let admin = admin(&url).await;
    admin
        .execute(
            &format!(
                "WITH e AS (INSERT INTO \"{s}\".events (seq, talk_id, message_id, tm_create, type, data) \
                 VALUES ($1, $2, NULL, $3, $4, $5)) UPDATE \"{s}\".log_tail SET seq = $1",
                s = schema.name
            ),
            &[
                &i64::try_from(event.seq).expect("seq"),
                &event.talk_id.0,
                &event.tm_create,
                &event.data.type_name(),
                &serde_json::to_value(&event.data).expect("json"),
            ],
        )
        .await
        .expect("appending an event without notifying");
    wait_for(&mut watch, head + 1, "a commit nobody announced").await;
    assert!(matches!(store.events(head, 10).await.expect("events")[0].data, EventData::TalkCreated(_)));
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_publish_feeds_the_local_watch_and_never_goes_back() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let store = node(&schema, "local").await;
    let notifier = PostgresNotifier::start_with(&store, listen_only()).await.expect("notifier");
    let watch = notifier.watch();
    notifier.publish(7);
    assert_eq!(*watch.borrow(), 7, "publish is seen at once");
    notifier.publish(3);
    assert_eq!(*watch.borrow(), 7, "a lower head changes nothing");
}

/// Typing and presence between nodes: every message one node publishes
/// reaches the other once, in order, in batches that stay under
/// PostgreSQL's payload limit; the publisher hears its own at once, and
/// only once; another schema's signals are not heard.
#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_signals_reach_every_node_once_in_bounded_batches() {
    use talk_core::signal::{SignalBus, SignalMessage};

    let url = database_url();
    let (schema, other) = (TestSchema::new(&url), TestSchema::new(&url));
    let (a, b) = (node(&schema, "a").await, node(&schema, "b").await);
    let elsewhere = node(&other, "elsewhere").await;
    let notifier_a = PostgresNotifier::start_with(&a, listen_only()).await.expect("notifier a");
    let notifier_b = PostgresNotifier::start_with(&b, listen_only()).await.expect("notifier b");
    let notifier_other = PostgresNotifier::start_with(&elsewhere, listen_only()).await.expect("notifier elsewhere");
    let (mut heard_a, mut heard_b) = (notifier_a.receive(), notifier_b.receive());
    let mut heard_other = notifier_other.receive();
    // Enough long agent ids that they take several payloads.
    let sent: Vec<SignalMessage> =
        (0..600).map(|i| SignalMessage::Online { node: "a".into(), agent_id: agent(&format!("{i:0>100}")) }).collect();
    for message in &sent {
        SignalBus::publish(&notifier_a, message.clone());
    }
    for (heard, who) in [(&mut heard_a, "a itself"), (&mut heard_b, "b")] {
        for (k, want) in sent.iter().enumerate() {
            let got = tokio::time::timeout(PATIENCE, heard.recv()).await.expect("in time").expect("a message");
            assert_eq!(&got, want, "message {k} as heard by {who}");
        }
    }
    // Nothing twice, nothing from the other schema.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(heard_a.try_recv().is_err(), "a heard its own signals once");
    assert!(heard_other.try_recv().is_err(), "another schema's node heard nothing");
}
