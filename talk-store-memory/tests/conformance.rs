//! The store conformance suite and the live delivery cases of talk-testing, run against [`MemoryStore`].

use std::sync::Arc;

use talk_store_memory::MemoryStore;

talk_testing::store_conformance_tests!(|| Arc::new(MemoryStore::new()));
talk_testing::delivery_tests!(|| Arc::new(MemoryStore::new()));
