//! Test support for stores and embedders (feature `testing`).
