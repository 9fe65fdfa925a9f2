//! talk-core's store conformance suite against SqliteStore: one test per
//! case, each on its own temporary database.

mod common;

use talk_store_sqlite::SqliteOptions;

talk_testing::store_conformance_tests!(|| common::temp_store(SqliteOptions::default()));
talk_testing::delivery_tests!(|| common::temp_store(SqliteOptions::default()));
