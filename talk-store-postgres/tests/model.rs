//! talk-core's reference-model test against [`PostgresStore`]: random
//! command sequences through the Hub, every answer and the whole event log
//! compared with the model.
//!
//! The model runner takes a synchronous factory and runs each case on a
//! current-thread runtime of its own, on which the factory cannot await a
//! connection. So the stores are opened on a background runtime that lives
//! for the whole test (their writers run there; reads run on each case's
//! runtime), on one schema emptied before each case.
//!
//! [`PostgresStore`]: talk_store_postgres::PostgresStore

mod common;

use std::sync::{Arc, OnceLock};

use common::{TestSchema, database_url};
use talk_core::Store;
use talk_testing::model::{ModelConfig, run_model_test_with};

/// Where the stores are opened and their writers run.
fn background() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the background runtime")
    })
}

/// Empties every table of the schema and rewinds the log.
async fn empty(schema: &TestSchema) {
    let admin = common::admin(&schema.url).await;
    admin
        .batch_execute(&format!(
            "SET search_path TO \"{}\"; \
             TRUNCATE talks, participants, messages, reactions, message_emoji, events; \
             UPDATE log_tail SET seq = 0, low_water_mark = 0",
            schema.name
        ))
        .await
        .expect("emptying the schema");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[test]
fn hub_on_postgres_store_matches_the_model() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    // Each case commits every command: fewer cases than the in-memory
    // stores run, unless PROPTEST_CASES says otherwise.
    let mut config = ModelConfig::from_env();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    run_model_test_with(config, || -> Arc<dyn Store> {
        background().block_on(async {
            let store = schema.store().await;
            empty(&schema).await;
            Arc::new(store)
        })
    });
}
