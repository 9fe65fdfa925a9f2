//! talk-core's store conformance suite, run against [`MemoryStore`].

use std::sync::Arc;

use talk_store_memory::MemoryStore;

talk_testing::store_conformance_tests!(|| Arc::new(MemoryStore::new()));
