//! Fail points (feature `fault-injection`, for tests only): places inside
//! [`MemoryStore::apply`](talk_core::Store::apply) where a test makes it
//! fail, to check that the store stays atomic and that the Hub handles the
//! failure.
//!
//! ```
//! use talk_store_memory::MemoryStore;
//! use talk_store_memory::faults::{FailPoint, Failure};
//!
//! let store = MemoryStore::new();
//! store.fail_points().arm_once(FailPoint::MidApply(1), Failure::Error);
//! ```

use talk_core::Event;
use talk_core::store::ResolvedChangeSet;
use talk_core::store::StoreError;
use talk_testing::faults::{FailPoints, INJECTED_PANIC};

use crate::MemoryStore;
use crate::state::State;

/// A point of [`MemoryStore::apply`](talk_core::Store::apply) where a test
/// can make it fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailPoint {
    /// Under the lock, before the change set is checked: nothing is touched.
    BeforeApply,
    /// After the change set passed its checks, with `k` of its steps applied
    /// (its writes, then its events, in order; `0 ≤ k <` steps): the state is
    /// half written.
    MidApply(usize),
    /// After the whole change set is applied, before `apply` answers: it is
    /// committed, the answer is lost.
    AfterApply,
}

/// What a [`FailPoint`] does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// `apply` answers [`StoreError::Backend`]. In the middle of applying,
    /// the store first puts back the state it had before the change set,
    /// from a copy it takes only while a point is armed (this is the
    /// atomicity a store that can fail mid-way must have; the memory store's
    /// own commit cannot fail but by a panic).
    Error,
    /// `apply` panics while it holds the lock, as a bug would. The lock is
    /// poisoned and every later call answers [`StoreError::Backend`]: the
    /// store fails closed rather than show a half-written state.
    Panic,
}

/// The fail points of a [`MemoryStore`].
pub type MemoryFailPoints = FailPoints<FailPoint, Failure>;

impl MemoryStore {
    /// The store's fail points: arm one, and the next `apply` that reaches it
    /// fails (see [`FailPoint`]). Every index a predicate of
    /// [`FailPoints::arm_when`] sees is `0`: the memory store has no batches.
    #[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
    pub fn fail_points(&self) -> MemoryFailPoints {
        self.fail_points.clone()
    }

    /// [`FailPoint::BeforeApply`].
    pub(crate) fn before_apply(&self) -> Result<(), StoreError> {
        match self.fail_points.fire(FailPoint::BeforeApply, 0) {
            Some(failure) => Err(inject(failure, FailPoint::BeforeApply)),
            None => Ok(()),
        }
    }

    /// Commits a checked change set, through [`FailPoint::MidApply`] and
    /// [`FailPoint::AfterApply`] when a point is armed.
    pub(crate) fn commit(&self, state: &mut State, changes: ResolvedChangeSet) -> Result<Vec<Event>, StoreError> {
        if !self.fail_points.is_armed() {
            return Ok(state.commit(changes));
        }
        let before = state.clone();
        let committed =
            state.commit_stepwise(changes, |done| match self.fail_points.fire(FailPoint::MidApply(done), 0) {
                Some(failure) => Err((failure, done)),
                None => Ok(()),
            });
        match committed {
            Ok(events) => match self.fail_points.fire(FailPoint::AfterApply, 0) {
                Some(failure) => Err(inject(failure, FailPoint::AfterApply)),
                None => Ok(events),
            },
            Err((failure, done)) => {
                let error = inject(failure, FailPoint::MidApply(done));
                *state = before;
                Err(error)
            }
        }
    }
}

/// The error for `failure` at `point`, or the panic.
fn inject(failure: Failure, point: FailPoint) -> StoreError {
    match failure {
        Failure::Error => StoreError::backend(format!("fault injection: injected error at {point:?}")),
        Failure::Panic => panic!("{INJECTED_PANIC} at {point:?}"),
    }
}
