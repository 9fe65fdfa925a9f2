//! Timeouts and lost connections: every wait of the writer is bounded, and
//! each way a batch can fail answers what the store contract says —
//! `Unavailable` when nothing was applied and later may work (a timeout, the
//! connection lost before `COMMIT` went out), `OutcomeUnknown` when the
//! connection was lost after it did. Nothing is ever half applied.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestSchema, admin, database_url, new_talk, url_with_options};
use talk_core::store::StoreError;
use talk_core::{Event, Store};
use talk_store_postgres::{PostgresOptions, PostgresStore};
use tokio_postgres::Client;

/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(30);

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Adds `trigger` (its text, `{s}` standing for the schema) on the schema's
/// talks, calling `nap(seconds)`, a trigger function that sleeps.
async fn nap_trigger(admin: &Client, schema: &str, trigger: &str) {
    admin
        .batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION \"{s}\".nap() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_sleep(TG_ARGV[0]::float); RETURN NEW; END $$; {trigger}",
            s = schema,
            trigger = trigger.replace("{s}", schema),
        ))
        .await
        .expect("creating the trigger");
}

/// Locks the log's tail in a transaction of `holder`'s, until it commits.
async fn hold_tail<'c>(holder: &'c mut Client, schema: &str) -> tokio_postgres::Transaction<'c> {
    let hold = holder.transaction().await.expect("begin");
    hold.query_one(&format!("SELECT seq FROM \"{schema}\".log_tail FOR UPDATE"), &[]).await.expect("locking the tail");
    hold
}

/// Waits for the writer of the store named `name` to run a statement like
/// `query`, and ends its session as an administrator would.
async fn terminate_writer_during(admin: &Client, name: &str, query: &str) {
    let writer = format!("{name} writer");
    within(&format!("the writer running {query}"), async {
        loop {
            let killed = admin
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND state = 'active' AND query LIKE $2",
                    &[&writer, &query],
                )
                .await
                .expect("pg_terminate_backend");
            if !killed.is_empty() {
                return;
            }
            tokio::time::sleep(ms(20)).await;
        }
    })
    .await;
}

fn assert_unavailable(outcome: Result<Vec<Event>, StoreError>, why: &str) {
    match outcome {
        Err(StoreError::Unavailable(message)) => assert!(message.contains(why), "expected {why:?} in: {message}"),
        other => panic!("expected Unavailable ({why}), got {other:?}"),
    }
}

/// The store goes on: a new change set commits (retried a few times, while
/// sessions the store gave up on still leave the tail), with the next `seq`.
async fn goes_on(store: &PostgresStore, seq: u64) {
    let mut last = None;
    for _ in 0..20 {
        match within("a later change set", store.apply(new_talk("after").1)).await {
            Ok(events) => {
                assert_eq!(events.first().map(|e| e.seq), Some(seq), "a refused change set took no seq");
                return;
            }
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(ms(100)).await;
    }
    panic!("the store did not go on: {last:?}");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_timeout_waiting_for_the_tail_answers_unavailable_and_applies_nothing() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    // The store's statement_timeout, then a lock_timeout the connection
    // string sets.
    let statement = PostgresStore::connect(&url, PostgresOptions { statement_timeout: ms(300), ..schema.options() });
    let statement = statement.await.expect("store");
    let lock_url = url_with_options(&url, "-c lock_timeout=300");
    let lock =
        PostgresStore::connect(&lock_url, PostgresOptions { statement_timeout: Duration::ZERO, ..schema.options() });
    let lock = lock.await.expect("store");

    let mut holder = admin(&url).await;
    let hold = hold_tail(&mut holder, &schema.name).await;
    let (first, changes) = new_talk("waits for the tail");
    assert_unavailable(within("apply", statement.apply(changes)).await, "statement timeout");
    let (second, changes) = new_talk("waits for the tail");
    assert_unavailable(within("apply", lock.apply(changes)).await, "lock timeout");
    hold.commit().await.expect("releasing the tail");

    for id in [first, second] {
        assert!(statement.talk(id).await.expect("talk").is_none(), "a timed-out change set was applied");
    }
    assert_eq!(statement.head().await.expect("head"), 0);
    goes_on(&statement, 1).await;
    goes_on(&lock, 3).await;
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_statement_timeout_inside_a_change_set_fails_only_that_change_set() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let store = Arc::new(schema.store_with(PostgresOptions { statement_timeout: ms(300), ..schema.options() }).await);
    let admin = admin(&url).await;
    nap_trigger(
        &admin,
        &schema.name,
        "CREATE TRIGGER slow BEFORE INSERT ON \"{s}\".talks FOR EACH ROW WHEN (NEW.name = 'slow') \
         EXECUTE FUNCTION \"{s}\".nap(5)",
    )
    .await;

    let applies: Vec<_> = ["fine", "fine", "slow", "fine", "fine"]
        .into_iter()
        .map(|name| {
            let (id, changes) = new_talk(name);
            let store = Arc::clone(&store);
            (name, id, tokio::spawn(async move { store.apply(changes).await }))
        })
        .collect();
    for (name, id, outcome) in applies {
        let outcome = within("apply", outcome).await.expect("an apply panicked");
        let stored = store.talk(id).await.expect("talk");
        if name == "slow" {
            assert_unavailable(outcome, "statement timeout");
            assert!(stored.is_none(), "the timed-out change set was applied");
        } else {
            outcome.expect("the other change sets commit");
            assert!(stored.is_some());
        }
    }
    assert_eq!(store.head().await.expect("head"), 8, "four talks of two events each");
}

/// Applies a talk named `talk` through a store whose writer then sleeps in
/// `trigger`, ends the writer's session while it runs a statement like
/// `query`, and answers what `apply` said, once checked that the change set
/// was not applied (the session ended before anything was durable) and
/// that the store goes on.
async fn writer_killed_during(url: &str, trigger: &str, talk: &str, query: &str) -> Result<Vec<Event>, StoreError> {
    let schema = TestSchema::new(url);
    let name = format!("killed-{}", schema.name);
    let options = PostgresOptions {
        application_name: name.clone(),
        statement_timeout: Duration::ZERO,
        call_timeout: Duration::from_secs(60),
        ..schema.options()
    };
    let store = Arc::new(schema.store_with(options).await);
    let admin = admin(url).await;
    nap_trigger(&admin, &schema.name, trigger).await;

    let (id, changes) = new_talk(talk);
    let apply = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.apply(changes).await }
    });
    terminate_writer_during(&admin, &name, query).await;
    let outcome = within("apply", apply).await.expect("the apply panicked");
    assert!(store.talk(id).await.expect("talk").is_none(), "{talk}: applied");
    assert_eq!(store.head().await.expect("head"), 0);
    goes_on(&store, 1).await;
    outcome
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_connection_lost_before_commit_answers_unavailable_and_applies_nothing() {
    let url = database_url();
    let trigger = "CREATE TRIGGER stuck BEFORE INSERT ON \"{s}\".talks FOR EACH ROW WHEN (NEW.name = 'stuck') \
                   EXECUTE FUNCTION \"{s}\".nap(20)";
    let outcome = writer_killed_during(&url, trigger, "stuck", "%INSERT INTO talks%").await;
    assert_unavailable(outcome, "terminating connection");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_connection_lost_while_committing_answers_outcome_unknown() {
    let url = database_url();
    // Deferred: runs inside COMMIT.
    let trigger = "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON \"{s}\".talks \
                   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = 'slow commit') \
                   EXECUTE FUNCTION \"{s}\".nap(20)";
    // Here the change set was not applied, but the store cannot know it.
    match writer_killed_during(&url, trigger, "slow commit", "COMMIT").await {
        Err(StoreError::OutcomeUnknown(_)) => {}
        other => panic!("a connection lost during COMMIT must answer OutcomeUnknown, got {other:?}"),
    }
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_caller_s_wait_is_bounded_and_leaves_nothing_half_applied() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let options = PostgresOptions { statement_timeout: Duration::ZERO, call_timeout: ms(500), ..schema.options() };
    let store = Arc::new(schema.store_with(options).await);

    // The tail stays held until every caller was answered: the first change
    // set waits for it in a batch, the others in the queue.
    let mut holder = admin(&url).await;
    let hold = hold_tail(&mut holder, &schema.name).await;
    let applies: Vec<_> = (0..5)
        .map(|_| {
            let (id, changes) = new_talk("gives up");
            let store = Arc::clone(&store);
            (id, tokio::spawn(async move { store.apply(changes).await }))
        })
        .collect();
    let mut ids = Vec::new();
    for (id, outcome) in applies {
        let outcome = within("a caller's bounded wait", outcome).await.expect("an apply panicked");
        assert_unavailable(outcome, "");
        ids.push(id);
    }
    hold.commit().await.expect("releasing the tail");

    for id in ids {
        assert!(store.talk(id).await.expect("talk").is_none(), "a change set given up on was applied");
    }
    assert_eq!(store.head().await.expect("head"), 0);
    goes_on(&store, 1).await;
}
