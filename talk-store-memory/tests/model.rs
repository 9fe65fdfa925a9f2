//! The Hub on a [`MemoryStore`] against the reference model: random command
//! sequences, every answer and the whole event log compared (see
//! `talk_testing::model`). `PROPTEST_CASES` sets the number of
//! sequences (256 by default).

use std::sync::Arc;

use talk_core::Store;
use talk_store_memory::MemoryStore;

#[test]
fn hub_on_memory_store_matches_the_reference_model() {
    talk_testing::model::run_model_test(|| Arc::new(MemoryStore::new()) as Arc<dyn Store>);
}
