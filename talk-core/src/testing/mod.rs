//! Test support for stores and embedders (feature `testing`).
//!
//! - [`conformance`]: the [`Store`](crate::Store) contract as executable
//!   cases, and the [`store_conformance_tests!`](crate::store_conformance_tests)
//!   macro that runs every case against a store.
//! - [`builders`]: valid domain values and change sets for store tests.
//! - [`faults`]: fail points and the (command, fault point) matrix.
//! - [`model`]: the reference model and the model test runner.
//! - [`StoreWith`]: a store that keeps its temporary directory or schema alive.

pub mod builders;
pub mod conformance;
pub mod faults;
mod keep;
pub mod model;

pub use keep::StoreWith;
