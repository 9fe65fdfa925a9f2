//! A [`SqliteStore`] on its own temporary database, removed when the store
//! is dropped: what the shared suites' factories hand out.

use std::sync::Arc;

use talk_core::Store;
use talk_store_sqlite::{SqliteOptions, SqliteStore};
use talk_testing::ForwardingStore;

/// A fresh store on a new database in a new temporary directory, which goes
/// when the store does.
pub(crate) fn temp_store(options: SqliteOptions) -> Arc<dyn Store> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("talk.db"), options).expect("open a fresh database");
    Arc::new(ForwardingStore::keeping(Arc::new(store), dir))
}
