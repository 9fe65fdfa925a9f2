//! talk-core's store conformance suite against [`PostgresStore`], each case
//! on a fresh schema of the server named by `TALK_TEST_POSTGRES_URL`.
//!
//! The suite is compiled only when that variable is set at build time (see
//! `build.rs`); without it, one test says that it is skipped.
//!
//! [`PostgresStore`]: talk_store_postgres::PostgresStore

mod common;

#[cfg(talk_postgres_tests)]
use common::fresh_store;

#[cfg(talk_postgres_tests)]
talk_testing::store_conformance_tests!(async_factory = fresh_store);

#[cfg(talk_postgres_tests)]
talk_testing::delivery_tests!(async_factory = fresh_store);

#[cfg(not(talk_postgres_tests))]
#[test]
fn conformance_suite_is_skipped_without_a_test_database() {
    common::skip_notice("the PostgreSQL store conformance suite");
}
