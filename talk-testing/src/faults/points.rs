//! The fail-point registry: which points of a store are armed, with what failure.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

type Predicate = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// One armed point.
struct Arming<P, F> {
    point: P,
    failure: F,
    /// How many more times it fires; `None`: every time.
    remaining: Option<usize>,
    /// Fires only when this holds for the change set's index in its batch.
    when: Option<Predicate>,
}

struct Table<P, F> {
    armings: Vec<Arming<P, F>>,
    /// How many times each point fired.
    hits: Vec<(P, usize)>,
}

struct Registry<P, F> {
    /// Whether anything is armed: the one load of the path where nothing is.
    armed: AtomicBool,
    table: Mutex<Table<P, F>>,
}

/// The fail points of one store: which of its points are armed, with what
/// failure, and how often each fired. Cheap to clone; clones share the
/// points. `P` is the store's point type, `F` its failure type.
pub struct FailPoints<P, F> {
    registry: Arc<Registry<P, F>>,
}

impl<P, F> Clone for FailPoints<P, F> {
    fn clone(&self) -> Self {
        Self { registry: Arc::clone(&self.registry) }
    }
}

impl<P, F> Default for FailPoints<P, F> {
    fn default() -> Self {
        Self {
            registry: Arc::new(Registry {
                armed: AtomicBool::new(false),
                table: Mutex::new(Table { armings: Vec::new(), hits: Vec::new() }),
            }),
        }
    }
}

impl<P: fmt::Debug, F: fmt::Debug> fmt::Debug for FailPoints<P, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.registry.table.lock().unwrap_or_else(PoisonError::into_inner);
        let armed: Vec<(&P, &F)> = table.armings.iter().map(|a| (&a.point, &a.failure)).collect();
        f.debug_struct("FailPoints").field("armed", &armed).field("hits", &table.hits).finish()
    }
}

impl<P: Copy + PartialEq, F: Clone> FailPoints<P, F> {
    /// Fail points with nothing armed.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self) -> MutexGuard<'_, Table<P, F>> {
        self.registry.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, arming: Arming<P, F>) {
        let mut table = self.table();
        table.armings.retain(|a| a.point != arming.point);
        table.armings.push(arming);
        self.registry.armed.store(true, Ordering::Release);
    }

    /// Arms `point` to fail with `failure` every time it is reached, until
    /// disarmed. Replaces an earlier arming of the same point.
    pub fn arm(&self, point: P, failure: F) {
        self.set(Arming { point, failure, remaining: None, when: None });
    }

    /// Arms `point` to fail with `failure` the next time it is reached only.
    pub fn arm_once(&self, point: P, failure: F) {
        self.arm_times(point, failure, 1);
    }

    /// Arms `point` to fail with `failure` the next `times` times it is
    /// reached (`0` disarms it).
    pub fn arm_times(&self, point: P, failure: F, times: usize) {
        if times == 0 {
            self.disarm(point);
        } else {
            self.set(Arming { point, failure, remaining: Some(times), when: None });
        }
    }

    /// Arms `point` to fail with `failure` every time it is reached by a
    /// change set whose index in its batch satisfies `when` (stores without
    /// batches, and points that concern a whole batch, pass index `0`).
    pub fn arm_when(&self, point: P, failure: F, when: impl Fn(usize) -> bool + Send + Sync + 'static) {
        self.set(Arming { point, failure, remaining: None, when: Some(Arc::new(when)) });
    }

    /// Disarms `point`.
    pub fn disarm(&self, point: P) {
        let mut table = self.table();
        table.armings.retain(|a| a.point != point);
        self.registry.armed.store(!table.armings.is_empty(), Ordering::Release);
    }

    /// Disarms every point.
    pub fn disarm_all(&self) {
        let mut table = self.table();
        table.armings.clear();
        self.registry.armed.store(false, Ordering::Release);
    }

    /// How many times `point` fired (injected its failure) since these fail
    /// points were made.
    pub fn hits(&self, point: P) -> usize {
        self.table().hits.iter().find(|(p, _)| *p == point).map_or(0, |(_, n)| *n)
    }

    /// How many times any point fired.
    pub fn total_hits(&self) -> usize {
        self.table().hits.iter().map(|(_, n)| n).sum()
    }

    /// Whether any point is armed.
    pub fn is_armed(&self) -> bool {
        self.registry.armed.load(Ordering::Acquire)
    }

    /// For the store: the failure to inject at `point`, reached by the
    /// change set at `index` in its batch, if the point is armed for it.
    /// Counts the hit and uses up one of a limited arming.
    pub fn fire(&self, point: P, index: usize) -> Option<F> {
        if !self.is_armed() {
            return None;
        }
        let mut table = self.table();
        let position =
            table.armings.iter().position(|a| a.point == point && a.when.as_ref().is_none_or(|when| when(index)))?;
        let arming = &mut table.armings[position];
        let failure = arming.failure.clone();
        if let Some(remaining) = arming.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                table.armings.remove(position);
            }
        }
        match table.hits.iter_mut().find(|(p, _)| *p == point) {
            Some((_, hits)) => *hits += 1,
            None => table.hits.push((point, 1)),
        }
        self.registry.armed.store(!table.armings.is_empty(), Ordering::Release);
        Some(failure)
    }
}

/// The message every panic injected by a fail point starts with; the
/// scenarios keep such panics out of the test output.
pub const INJECTED_PANIC: &str = "fault injection: injected panic";

/// Keeps panics whose message starts with [`INJECTED_PANIC`] out of stderr
/// (every other panic is reported as before). Idempotent.
pub fn quiet_injected_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|m| m.starts_with(INJECTED_PANIC)) {
                previous(info);
            }
        }));
    });
}
