//! What MemoryStore does where the Store contract leaves the choice to the store.

use talk_core::store::{ChangeSet, Conflict, Guard, StoreError, Write};
use talk_core::{LeftReason, Participant, ParticipantStatus, Store};
use talk_store_memory::MemoryStore;
use talk_testing::builders::{ChangeSetBuilder, agent, at, create_talk, ended, group_talk, participant};

#[tokio::test]
async fn empty_change_set_still_checks_its_guards() {
    let store = MemoryStore::new();
    let guarded =
        ChangeSetBuilder::new().guard(Guard::TalkVersion { talk_id: group_talk(&agent("a"), "x").id, version: 1 });
    let refused = store.apply(guarded.build()).await;
    assert!(matches!(refused, Err(StoreError::Conflict(Conflict::TalkVersion))), "{refused:?}");
    assert!(store.apply(ChangeSet::default()).await.expect("empty").is_empty());
}

#[tokio::test]
async fn reactivating_a_record_keeps_one_active_record_per_talk_and_agent() {
    let store = MemoryStore::new();
    let alice = agent("alice");
    let talk = group_talk(&alice, "Plans");
    let first = participant(talk.id, &alice);
    store.apply(create_talk(&talk, std::slice::from_ref(&first))).await.expect("create");
    let first = store.participant(first.id).await.expect("read").expect("first record");
    store
        .apply(ChangeSetBuilder::new().end_participant(&ended(&first, LeftReason::Left, at(1))).build())
        .await
        .expect("leave");
    let second = participant(talk.id, &alice);
    store.apply(ChangeSetBuilder::new().insert_participant(&second).build()).await.expect("rejoin");
    let reactivated = Participant { status: ParticipantStatus::Active, left_reason: None, left_seq: None, ..first };
    let changes = ChangeSet { writes: vec![Write::UpdateParticipant(reactivated)], ..ChangeSet::default() };
    let refused = store.apply(changes).await;
    assert!(matches!(refused, Err(StoreError::Conflict(Conflict::ActiveParticipantExists))), "{refused:?}");
}

#[tokio::test]
async fn debug_shows_the_head() {
    let store = MemoryStore::new();
    assert_eq!(format!("{store:?}"), "MemoryStore { head: Some(0), .. }");
}
