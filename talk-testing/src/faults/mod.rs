//! Fault injection: the fail-point registry that the stores compile in with
//! their `fault-injection` feature, and the scenarios that run every Hub
//! command into every fault point of a store.
//!
//! # Fail points
//!
//! A store built with its `fault-injection` feature keeps a [`FailPoints`]
//! handle and asks it, at each of its named points (its own `FailPoint`
//! enum: "before commit", "after the k-th write", …), whether to fail there
//! ([`FailPoints::fire`]). A test takes the handle from the store and arms
//! points: every time they are reached ([`FailPoints::arm`]), once
//! ([`FailPoints::arm_once`]), a number of times, or when a predicate on the
//! index of the change set in its batch holds ([`FailPoints::arm_when`]).
//! While nothing is armed, [`FailPoints::fire`] is one atomic load.
//!
//! # The matrix
//!
//! [`run_fault_matrix`] runs each [`HubCommand`] (create a group talk,
//! create a direct talk, add, remove, leave, close, reopen, rename, send,
//! reply, edit, delete, react, unreact) on a fresh store with the same
//! [`setup`], once without a fault (the reference) and once per fault
//! point, and checks for each case:
//!
//! - the caller gets an error (or, for a fault that stops the store, an
//!   error or a panic);
//! - the store shows exactly the snapshot before the command
//!   ([`Expect::NotCommitted`]) or exactly the reference's snapshot after it
//!   ([`Expect::CommittedUnacked`]: committed, but the acknowledgement was
//!   lost): every read of the store compared, event log included, so no
//!   partial change is visible;
//! - [`check_consistency`]: the log is `1..=head` without holes, and no
//!   event exists without its change nor a change without its event;
//! - the next command works, and its events follow the head without a gap;
//! - every subscriber (one `Scope::All` subscription per agent, started
//!   before the command) receives exactly the events the store says it sees.
//!
//! Ids ([`SequentialIds`]) and time ([`ManualClock`](talk_core::ManualClock)) are deterministic, so
//! two runs of the same command make the same rows, and a snapshot after a
//! fault compares with the reference's snapshot field by field.

mod matrix;
mod points;
mod scenario;

pub use matrix::*;
pub use points::*;
pub use scenario::*;
