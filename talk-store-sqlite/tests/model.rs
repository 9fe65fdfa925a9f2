//! The Hub on SqliteStore against the reference model: random command
//! sequences, every answer and the whole event log compared (see
//! `talk_testing::model`), each sequence on its own temporary
//! database. `PROPTEST_CASES` sets the number of sequences (256 by default).

mod common;

use talk_store_sqlite::{SqliteOptions, Synchronous};

#[test]
fn hub_on_sqlite_store_matches_the_reference_model() {
    // NORMAL: the model test checks answers, not power-loss durability, and
    // runs thousands of commits.
    talk_testing::model::run_model_test(|| {
        common::temp_store(SqliteOptions::default().synchronous(Synchronous::Normal))
    });
}
