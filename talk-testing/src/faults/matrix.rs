//! The (command, fault point) matrix.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use talk_core::{Delivery, ErrorKind, Event, ManualClock, Scope, Store, Subscription};

use super::points::*;
use super::scenario::*;

/// What a fault does to the command whose change set meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The command fails and nothing of it is stored.
    NotCommitted,
    /// The command fails, but its change is committed (the acknowledgement
    /// was lost): reads show exactly what a success shows.
    CommittedUnacked,
    /// The store stops taking writes (a panic stopped its writer, or
    /// poisoned its lock); the command fails or panics, and so does the
    /// next write. A store that can be opened again ([`Rig::reopen`]) must
    /// then show the state before the command, or after it when
    /// `committed`; one that cannot (memory) must fail every read rather
    /// than show anything.
    Stops {
        /// Whether the change is committed.
        committed: bool,
    },
    /// The store cannot tell whether the change committed
    /// (`StoreError::OutcomeUnknown`); it did when `committed`. The Hub
    /// reads again: a command whose change inserts a row must then answer
    /// what happened (success when committed, `unavailable` when not); one
    /// that inserts none answers `unavailable` either way. Reads show the
    /// state before the command, or after it when `committed`.
    OutcomeUnknown {
        /// Whether the change is committed.
        committed: bool,
    },
}

/// Which points of a store a [`FaultCase`] arms.
#[derive(Debug, Clone, Copy)]
pub enum Points<P> {
    /// One point.
    At(P),
    /// `at(first)`, `at(first + 1)`, … while the command's change set
    /// reaches them (the first must be reached): "after the k-th write" for
    /// every k.
    Each {
        /// The first `k`.
        first: usize,
        /// The point for `k`.
        at: fn(usize) -> P,
    },
}

/// One fault: points, the failure they inject, and what it must do.
#[derive(Debug, Clone)]
pub struct FaultCase<P, F> {
    /// The points armed.
    pub points: Points<P>,
    /// The failure.
    pub failure: F,
    /// What the command and the store must do.
    pub expect: Expect,
}

/// A store for one case of the matrix.
pub struct Rig<P, F> {
    /// A fresh, empty store.
    pub store: Arc<dyn Store>,
    /// Its fail points.
    pub fail_points: FailPoints<P, F>,
    /// Opens the store again on the same data, after it stopped; `None` when
    /// its data do not outlive it (memory).
    pub reopen: Option<Box<dyn FnMut() -> Arc<dyn Store> + Send>>,
    /// Whatever must live as long as the store (a temporary directory).
    pub keep: Option<Box<dyn std::any::Any + Send>>,
}

/// What [`run_fault_matrix`] ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixReport {
    /// Commands run.
    pub commands: usize,
    /// Fault cases given (a [`Points::Each`] family counts once).
    pub faults: usize,
    /// Distinct points that fired (each `k` of a family counts).
    pub fault_points: usize,
    /// (command, fault point) cases in which the fault fired and was checked.
    pub cases: usize,
}

impl fmt::Display for MatrixReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fault injection: {} cases (command, fault point), {} fault points met ({} faults armed), {} commands",
            self.cases, self.fault_points, self.faults, self.commands
        )
    }
}

/// What the run of a command without a fault left.
struct Reference {
    universe: Universe,
    after: Snapshot,
}

/// Runs every [`HubCommand`] into every fault of `faults` on stores from
/// `rig` (see the [module documentation](crate::faults) for what each case checks),
/// on a Tokio runtime of its own. Panics with the command, the point, the
/// failure and the first difference when a case fails.
pub fn run_fault_matrix<P, F>(rig: impl Fn() -> Rig<P, F>, faults: &[FaultCase<P, F>]) -> MatrixReport
where
    P: Copy + PartialEq + fmt::Debug + Send + Sync + 'static,
    F: Clone + fmt::Debug + Send + Sync + 'static,
{
    quiet_injected_panics();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build the Tokio runtime of the fault matrix: {e}"));
    runtime.block_on(async {
        let mut report =
            MatrixReport { commands: HubCommand::ALL.len(), faults: faults.len(), ..MatrixReport::default() };
        let mut points_met: Vec<String> = Vec::new();
        for command in HubCommand::ALL {
            let reference = reference(&rig, command).await;
            for fault in faults {
                let mut k = match fault.points {
                    Points::At(_) => 0,
                    Points::Each { first, .. } => first,
                };
                loop {
                    let point = match fault.points {
                        Points::At(point) => point,
                        Points::Each { at, .. } => at(k),
                    };
                    let fired = run_case(rig(), command, fault, point, &reference).await;
                    let first = matches!(fault.points, Points::At(_))
                        || matches!(fault.points, Points::Each { first, .. } if first == k);
                    if !fired {
                        assert!(!first, "{}: the fault point {point:?} was never reached", command.name());
                        break;
                    }
                    report.cases += 1;
                    let name = format!("{point:?}/{:?}", fault.failure);
                    if !points_met.contains(&name) {
                        points_met.push(name);
                    }
                    if matches!(fault.points, Points::At(_)) || k >= 64 {
                        break;
                    }
                    k += 1;
                }
            }
        }
        report.fault_points = points_met.len();
        report
    })
}

async fn reference<P, F>(rig: &impl Fn() -> Rig<P, F>, command: HubCommand) -> Reference
where
    P: Copy + PartialEq,
    F: Clone,
{
    let Rig { store, keep, .. } = rig();
    let ids = Arc::new(SequentialIds::default());
    let clock = Arc::new(ManualClock::default());
    let hub = scenario_hub(store.clone(), &ids, &clock);
    let fixture = setup(&hub).await.unwrap_or_else(|e| panic!("setup failed: {e}"));
    command.run(&hub, &fixture).await.unwrap_or_else(|e| panic!("{} failed without a fault: {e}", command.name()));
    let universe = Universe::sequential(ids.issued());
    let after = snapshot(store.as_ref(), &universe).await.unwrap_or_else(|e| panic!("snapshot: {e}"));
    check_consistency(&after).unwrap_or_else(|e| panic!("{} without a fault: {e}", command.name()));
    drop((hub, store, keep));
    Reference { universe, after }
}

/// Runs one case; answers whether the fault fired.
async fn run_case<P, F>(
    rig: Rig<P, F>,
    command: HubCommand,
    fault: &FaultCase<P, F>,
    point: P,
    reference: &Reference,
) -> bool
where
    P: Copy + PartialEq + fmt::Debug + Send + Sync + 'static,
    F: Clone + fmt::Debug + Send + Sync + 'static,
{
    let what = format!("{} with {point:?} failing with {:?}", command.name(), fault.failure);
    let Rig { store, fail_points, mut reopen, keep } = rig;
    let ids = Arc::new(SequentialIds::default());
    let clock = Arc::new(ManualClock::default());
    let hub = scenario_hub(store.clone(), &ids, &clock);
    let fixture = setup(&hub).await.unwrap_or_else(|e| panic!("{what}: setup failed: {e}"));
    let universe = &reference.universe;
    let before = snapshot(store.as_ref(), universe).await.unwrap_or_else(|e| panic!("{what}: snapshot: {e}"));
    let mut subscribers = Vec::new();
    for agent in agents() {
        let mut subscription =
            hub.subscribe(&agent, Scope::All, None).await.unwrap_or_else(|e| panic!("{what}: subscribe {agent}: {e}"));
        let Some(Delivery::Subscribed { seq }) = subscription.next().await else {
            panic!("{what}: a live subscription starts with `subscribed`");
        };
        subscribers.push((agent, subscription, seq));
    }

    fail_points.arm(point, fault.failure.clone());
    let (task_hub, task_fixture) = (hub.clone(), fixture);
    let outcome = tokio::spawn(async move { command.run(&task_hub, &task_fixture).await }).await;
    let fired = fail_points.hits(point) > 0;
    fail_points.disarm_all();

    if !fired {
        assert!(matches!(outcome, Ok(Ok(()))), "{what}: not reached, yet the command failed: {outcome:?}");
        let after = snapshot(store.as_ref(), universe).await.unwrap_or_else(|e| panic!("{what}: snapshot: {e}"));
        if let Some(difference) = after.difference(&reference.after) {
            panic!("{what}: not reached, yet the store differs from the reference: {difference}");
        }
        return false;
    }

    let expected_error = |outcome: &Result<talk_core::Result<()>, tokio::task::JoinError>| match outcome {
        Ok(Err(e)) => matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable),
        _ => false,
    };
    let unavailable = |outcome: &Result<talk_core::Result<()>, tokio::task::JoinError>| matches!(outcome, Ok(Err(e)) if e.kind() == ErrorKind::Unavailable);
    let committed = match fault.expect {
        Expect::NotCommitted => Some(false),
        Expect::CommittedUnacked => Some(true),
        Expect::OutcomeUnknown { committed } => {
            if committed && command.inserts_a_row() {
                assert!(matches!(outcome, Ok(Ok(()))), "{what}: it committed, the Hub must say so: {outcome:?}");
            } else {
                assert!(unavailable(&outcome), "{what}: the Hub cannot tell, it must say unavailable: {outcome:?}");
            }
            Some(committed)
        }
        Expect::Stops { .. } => None,
    };
    match fault.expect {
        Expect::NotCommitted | Expect::CommittedUnacked | Expect::OutcomeUnknown { .. } => {
            if !matches!(fault.expect, Expect::OutcomeUnknown { .. }) {
                assert!(expected_error(&outcome), "{what}: expected a backend error, got {outcome:?}");
            }
            let expected = if committed == Some(true) { &reference.after } else { &before };
            let after = verify(store.as_ref(), universe, expected, &what).await;
            let first = next_command(&hub).await.unwrap_or_else(|e| panic!("{what}: the next command failed: {e}"));
            verify_next(store.as_ref(), &ids, &after, first, &what).await;
            for (agent, mut subscription, position) in subscribers {
                let expected = store
                    .agent_events(&agent, None, position, ALL)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: agent events: {e}"));
                let received = receive_through(&mut subscription, expected.last().map_or(0, |e| e.seq)).await;
                assert_eq!(received, expected, "{what}: {agent}'s subscription received other events than it sees");
            }
        }
        Expect::Stops { committed } => {
            assert!(
                outcome.as_ref().map_or(true, |answer| answer.is_err()),
                "{what}: the command succeeded though the store stopped"
            );
            assert!(next_command(&hub).await.is_err(), "{what}: a stopped store took the next write");
            drop(subscribers);
            drop(hub);
            match reopen.as_mut() {
                None => {
                    let read = snapshot(store.as_ref(), universe).await;
                    assert!(read.is_err(), "{what}: a store stopped inside a write answered reads: {read:?}");
                }
                Some(reopen) => {
                    drop(store);
                    let store = reopen();
                    let expected = if committed { &reference.after } else { &before };
                    let after = verify(store.as_ref(), universe, expected, &what).await;
                    let hub = scenario_hub(store.clone(), &ids, &clock);
                    let first = next_command(&hub)
                        .await
                        .unwrap_or_else(|e| panic!("{what}: the next command after reopening failed: {e}"));
                    verify_next(store.as_ref(), &ids, &after, first, &what).await;
                }
            }
        }
    }
    drop(keep);
    true
}

/// Reads a snapshot, compares it with `expected` and checks it.
async fn verify(store: &dyn Store, universe: &Universe, expected: &Snapshot, what: &str) -> Snapshot {
    let after = snapshot(store, universe).await.unwrap_or_else(|e| panic!("{what}: snapshot: {e}"));
    if let Some(difference) = after.difference(expected) {
        panic!("{what}: the store shows a change it should not: {difference}");
    }
    check_consistency(&after).unwrap_or_else(|e| panic!("{what}: {e}"));
    after
}

/// After the next command: its events follow the head without a gap, the
/// log before it is untouched, and the store is consistent.
async fn verify_next(store: &dyn Store, ids: &SequentialIds, before: &Snapshot, first: u64, what: &str) {
    assert_eq!(first, before.head + 1, "{what}: the next command's events do not follow the head");
    let now = snapshot(store, &Universe::sequential(ids.issued()))
        .await
        .unwrap_or_else(|e| panic!("{what}: snapshot after the next command: {e}"));
    assert_eq!(now.log[..before.log.len()], before.log[..], "{what}: the next command changed earlier events");
    check_consistency(&now).unwrap_or_else(|e| panic!("{what}: after the next command: {e}"));
}

/// Receives events from `subscription` until one with `seq ≥ last` (none
/// when `last` is at or below where it is). Panics if the subscription
/// ends, or if nothing arrives for a minute (rather than hang).
pub async fn receive_through(subscription: &mut Subscription, last: u64) -> Vec<Event> {
    let mut received = Vec::new();
    while subscription.last_seq() < last {
        match tokio::time::timeout(Duration::from_secs(60), subscription.next()).await {
            Ok(Some(Delivery::Event(shared))) => received.push(shared.event.clone()),
            Ok(Some(Delivery::Subscribed { .. } | Delivery::ResyncRequired { .. })) => {}
            Ok(other) => panic!(
                "{}'s subscription ended at {} before seq {last}: {other:?}",
                subscription.agent(),
                subscription.last_seq()
            ),
            Err(_) => panic!(
                "{}'s subscription received nothing for a minute, at {} of {last}",
                subscription.agent(),
                subscription.last_seq()
            ),
        }
    }
    received
}
