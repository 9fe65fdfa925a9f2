//! The writer: batches wait for the log's tail, a failed commit acknowledges
//! nobody of its batch, and a killed connection is replaced.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestSchema, admin, database_url, new_talk};
use talk_core::Store;
use talk_core::store::StoreError;
use talk_store_postgres::PostgresOptions;

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_failed_commit_acknowledges_nobody_of_its_batch() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let store = Arc::new(schema.store_with(PostgresOptions { max_batch: 64, ..schema.options() }).await);
    // A check that only runs at commit: inserting the talk named "refused at
    // commit" makes the whole transaction fail there.
    let admin = admin(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION \"{s}\".refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.name = 'refused at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NEW; END $$; \
             CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON \"{s}\".talks \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION \"{s}\".refuse_at_commit();",
            s = schema.name
        ))
        .await
        .expect("creating the trigger");

    // Hold the log's tail, so that the writer's first batch waits for it
    // while the next batch queues up behind.
    let mut holder = common::admin(&url).await;
    let hold = holder.transaction().await.expect("begin");
    hold.query_one(&format!("SELECT seq FROM \"{}\".log_tail FOR UPDATE", schema.name), &[])
        .await
        .expect("locking the tail");

    let (first_id, first) = new_talk("first");
    let first = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.apply(first).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!first.is_finished(), "the first batch waits for the tail");
    let mut batch = Vec::new();
    for i in 0..40 {
        let (id, changes) = new_talk(if i == 20 { "refused at commit" } else { "innocent" });
        let store = Arc::clone(&store);
        batch.push((id, tokio::spawn(async move { store.apply(changes).await })));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    hold.commit().await.expect("releasing the tail");

    let first = first.await.expect("first").expect("the first batch commits");
    assert_eq!(first.last().map(|e| e.seq), Some(2));
    for (i, (id, outcome)) in batch.into_iter().enumerate() {
        match outcome.await.expect("an apply panicked") {
            Err(StoreError::Backend(error)) => {
                let message = error.to_string();
                assert!(message.contains("rolled back"), "change set {i}: {message}");
            }
            other => panic!("change set {i} shared a batch with a failed commit, yet answered {other:?}"),
        }
        assert!(store.talk(id).await.expect("talk").is_none(), "change set {i} left its talk behind");
    }
    assert!(store.talk(first_id).await.expect("talk").is_some());
    assert_eq!(store.head().await.expect("head"), 2, "the failed batch took no seq");
    // The writer goes on.
    let (_, after) = new_talk("after");
    assert_eq!(store.apply(after).await.expect("a later change set").first().map(|e| e.seq), Some(3));
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_writer_replaces_a_killed_connection() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let name = format!("w-{}", schema.name);
    let store = schema.store_with(PostgresOptions { application_name: name.clone(), ..schema.options() }).await;
    store.apply(new_talk("before").1).await.expect("a write");
    let admin = admin(&url).await;
    for round in 0..3 {
        let killed = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&format!("{name} writer")],
            )
            .await
            .expect("pg_terminate_backend");
        assert_eq!(killed.len(), 1, "round {round}: one writer connection");
        let events = store.apply(new_talk("after").1).await.expect("a write after the writer's connection was killed");
        assert_eq!(events.first().map(|e| e.seq), Some(3 + 2 * round));
    }
}
