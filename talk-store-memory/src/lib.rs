//! Talk's in-memory store (in progress).
