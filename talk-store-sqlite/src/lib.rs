//! Talk's SQLite store (in progress).
