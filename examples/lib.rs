//! Programs that embed Talk, in `examples/`: `server` (the demo server) and
//! `embed_sqlite` (chat inside an axum app). This library only compiles the
//! project README's examples as doctests.

/// The project README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ProjectReadme;
