//! [`SqliteOptions`]: how a [`SqliteStore`](crate::SqliteStore) opens its database.

use std::time::Duration;

/// SQLite's `synchronous` setting: how far a commit goes before the writer
/// acknowledges it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Synchronous {
    /// `synchronous=FULL` (the default): every acknowledged change set
    /// survives a crash of the process *and* a power loss or OS crash.
    #[default]
    Full,
    /// `synchronous=NORMAL`: an acknowledged change set survives a crash of
    /// the process; the last ones may be lost on power loss or an OS crash
    /// (the database stays consistent). Faster commits.
    Normal,
}

impl Synchronous {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// How to open a [`SqliteStore`](crate::SqliteStore). `SqliteOptions::default()`:
/// `synchronous=FULL`, 4 read connections, batches of at most 256 change
/// sets, a queue of 1024 change sets, a 5 s busy timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    pub(crate) synchronous: Synchronous,
    pub(crate) read_connections: usize,
    pub(crate) max_batch: usize,
    pub(crate) queue_bound: usize,
    pub(crate) busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            read_connections: 4,
            max_batch: 256,
            queue_bound: 1024,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl SqliteOptions {
    /// The durability of a commit (default [`Synchronous::Full`]).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// The number of read-only connections (at least 1; default 4). Reads
    /// beyond it wait for a free connection, never for the writer.
    pub fn read_connections(mut self, count: usize) -> Self {
        self.read_connections = count.max(1);
        self
    }

    /// The most change sets the writer commits in one transaction (at least
    /// 1; default 256).
    pub fn max_batch(mut self, count: usize) -> Self {
        self.max_batch = count.max(1);
        self
    }

    /// The most change sets waiting for the writer (at least 1; default
    /// 1024). A caller beyond it waits (asynchronously) for room.
    pub fn queue_bound(mut self, count: usize) -> Self {
        self.queue_bound = count.max(1);
        self
    }

    /// How long a connection waits for a lock another program holds on the
    /// database before it gives up (default 5 s). The store's own reads and
    /// writes never wait for each other; this only matters when something
    /// else opens the file.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}
