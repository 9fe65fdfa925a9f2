//! Test support for stores and embedders (feature `testing`).
//!
//! - [`conformance`]: the [`Store`](crate::Store) contract as executable
//!   cases, and the [`store_conformance_tests!`](crate::store_conformance_tests)
//!   macro that runs every case against a store.
//! - [`builders`]: valid domain values and change sets for store tests.

pub mod builders;
pub mod conformance;
pub mod faults;
pub mod model;
