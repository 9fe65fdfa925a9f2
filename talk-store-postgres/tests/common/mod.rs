//! What the PostgreSQL tests share: the server from `TALK_TEST_POSTGRES_URL`,
//! a fresh schema per test (dropped when the test ends), and stores on it.
//!
//! Every test that needs the server is `#[ignore = "needs TALK_TEST_POSTGRES_URL"]`
//! and has `postgres` in its name, so that `cargo test` lists it as ignored
//! rather than passing it without a database; `.ci/run` runs them with
//! `cargo test … -- --ignored postgres`. Run so, a test without the variable,
//! or with a server that cannot be reached, fails.

#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::sync::Arc;

use talk_core::TalkId;
use talk_core::store::{ChangeSet, Store};
use talk_store_postgres::{PostgresOptions, PostgresStore};
use talk_testing::ForwardingStore;
use talk_testing::builders::{agent, create_talk, group_talk, participant};

/// The variable naming the test server.
pub const URL_VAR: &str = "TALK_TEST_POSTGRES_URL";

/// The test server's URL.
///
/// # Panics
/// When the variable is not set.
pub fn database_url() -> String {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{URL_VAR} is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test) \
             to run the PostgreSQL tests"
        ),
    }
}

/// `url` with `options` (for example `-c lock_timeout=300`) as its startup
/// options.
pub fn url_with_options(url: &str, options: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    let encoded = options.replace('%', "%25").replace(' ', "%20").replace('=', "%3D");
    format!("{url}{separator}options={encoded}")
}

/// A group talk named `name` with its creator: its id and the change set
/// that creates it.
pub fn new_talk(name: &str) -> (TalkId, ChangeSet) {
    let creator = agent("creator");
    let talk = group_talk(&creator, name);
    (talk.id, create_talk(&talk, &[participant(talk.id, &creator)]))
}

/// A new schema name, unique to this test.
pub fn fresh_schema_name() -> String {
    format!("talk_test_{:016x}", rand::random::<u64>())
}

/// A connection for the test's own SQL, driven on the current runtime.
///
/// # Panics
/// When the server cannot be reached.
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server named by {URL_VAR} ({url}): {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A schema that is dropped (with everything in it) when this value is.
#[derive(Debug)]
pub struct TestSchema {
    pub url: String,
    pub name: String,
}

impl TestSchema {
    /// A fresh schema name on the test server (created by the first store).
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), name: fresh_schema_name() }
    }

    /// Options for a store on this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions { schema: Some(self.name.clone()), pool_size: 4, ..PostgresOptions::default() }
    }

    /// A store on this schema.
    ///
    /// # Panics
    /// When the server cannot be reached or the store cannot be made.
    pub async fn store(&self) -> PostgresStore {
        self.store_with(self.options()).await
    }

    /// A store on this schema with `options`.
    pub async fn store_with(&self, options: PostgresOptions) -> PostgresStore {
        PostgresStore::connect(&self.url, options).await.unwrap_or_else(|e| {
            panic!("cannot open a PostgresStore on the test server named by {URL_VAR} ({}): {e:?}", self.url)
        })
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Dropping may happen inside a runtime: do it on a thread of its own.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                // Never wait long for a lock a stray session still holds.
                client
                    .batch_execute(&format!("SET lock_timeout = '20s'; DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            let _ = writeln!(std::io::stderr(), "note: could not drop test schema {}", self.name);
        }
    }
}

/// A fresh store on a fresh schema, for the conformance suite: the schema
/// goes when the store does.
pub async fn fresh_store() -> Arc<dyn Store> {
    let schema = TestSchema::new(&database_url());
    let store = schema.store().await;
    Arc::new(ForwardingStore::keeping(Arc::new(store), schema))
}
