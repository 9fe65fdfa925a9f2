//! Fault injection into [`MemoryStore`] (feature `fault-injection`): every
//! Hub command meets every fail point of `apply` — before it, after each of
//! its steps, after all of them — failing with an error or a panic; see
//! `talk_testing::faults` for what each case checks.
#![cfg(feature = "fault-injection")]

use std::sync::Arc;

use talk_core::{ManualClock, Store};
use talk_store_memory::MemoryStore;
use talk_store_memory::faults::{FailPoint, Failure};
use talk_testing::faults::{Expect, FaultCase, HubCommand, Points, Rig, run_fault_matrix, scenario_hub, setup};

fn rig() -> Rig<FailPoint, Failure> {
    let store = MemoryStore::new();
    let fail_points = store.fail_points();
    Rig { store: Arc::new(store), fail_points, reopen: None, keep: None }
}

fn mid_apply(k: usize) -> FailPoint {
    FailPoint::MidApply(k)
}

#[test]
fn every_command_fails_atomically_at_every_fail_point() {
    let faults = [
        FaultCase { points: Points::At(FailPoint::BeforeApply), failure: Failure::Error, expect: Expect::NotCommitted },
        FaultCase {
            points: Points::Each { first: 0, at: mid_apply },
            failure: Failure::Error,
            expect: Expect::NotCommitted,
        },
        FaultCase {
            points: Points::At(FailPoint::AfterApply),
            failure: Failure::Error,
            expect: Expect::CommittedUnacked,
        },
        FaultCase {
            points: Points::At(FailPoint::BeforeApply),
            failure: Failure::Panic,
            expect: Expect::Stops { committed: false },
        },
        FaultCase {
            points: Points::Each { first: 0, at: mid_apply },
            failure: Failure::Panic,
            expect: Expect::Stops { committed: false },
        },
        FaultCase {
            points: Points::At(FailPoint::AfterApply),
            failure: Failure::Panic,
            expect: Expect::Stops { committed: true },
        },
    ];
    let report = run_fault_matrix(rig, &faults);
    eprintln!("{report}");
    assert_eq!(report.commands, HubCommand::ALL.len());
    assert!(report.cases >= HubCommand::ALL.len() * faults.len());
}

#[tokio::test]
async fn a_fail_point_armed_once_fails_one_write_and_the_retry_succeeds() {
    let store = Arc::new(MemoryStore::new());
    let fail_points = store.fail_points();
    let ids = Arc::default();
    let hub = scenario_hub(store.clone() as Arc<dyn Store>, &ids, &Arc::new(ManualClock::default()));
    let fixture = setup(&hub).await.expect("setup");
    let head = store.head().await.expect("head");
    fail_points.arm_once(FailPoint::MidApply(1), Failure::Error);
    assert!(HubCommand::Send.run(&hub, &fixture).await.is_err());
    assert_eq!(store.head().await.expect("head"), head, "the failed send took no seq");
    HubCommand::Send.run(&hub, &fixture).await.expect("the second send");
    assert_eq!(fail_points.hits(FailPoint::MidApply(1)), 1);
    assert!(!fail_points.is_armed());
    assert_eq!(store.head().await.expect("head"), head + 1);
}
