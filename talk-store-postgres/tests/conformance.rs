//! talk-core's store conformance suite and talk-testing's live delivery
//! cases against [`PostgresStore`], each case on a fresh schema of the
//! server named by `TALK_TEST_POSTGRES_URL`: the tests
//! `postgres::conformance::…` and `postgres::delivery::…`, ignored unless run
//! with `--ignored`.
//!
//! [`PostgresStore`]: talk_store_postgres::PostgresStore

mod common;

mod postgres {
    use crate::common::fresh_store;

    talk_testing::store_conformance_tests!(
        #[ignore = "needs TALK_TEST_POSTGRES_URL"]
        async_factory = fresh_store
    );
    talk_testing::delivery_tests!(
        #[ignore = "needs TALK_TEST_POSTGRES_URL"]
        async_factory = fresh_store
    );
}
