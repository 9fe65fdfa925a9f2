//! Each guard holding, failing, and applying nothing when it fails.

use super::support::*;

/// A `TalkVersion` guard on the current version holds, also when the same
/// change set moves that version.
pub async fn guard_on_talk_version_holds_when_the_version_is_current(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let next = touched(&group.talk, at(1));
    apply(store, ChangeSetBuilder::new().guard_talk_version(&group.talk).update_talk(&next).build(), "update").await;
    assert_eq!(read_talk(store, group.talk.id).await.version, 2);
    let m = message(group.talk.id, &agent("alice"), "guarded send");
    apply(store, ChangeSetBuilder::new().guard_talk_version(&next).insert_message(&m).build(), "send").await;
    read_message(store, m.id).await;
}

/// A `TalkVersion` guard on a version that moved refuses the change set
/// with `Conflict::TalkVersion`, and none of its writes is applied.
pub async fn guard_on_talk_version_refuses_a_stale_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let renamed = Talk { name: "Renamed".into(), ..touched(&group.talk, at(1)) };
    apply(store, ChangeSetBuilder::new().guard_talk_version(&group.talk).update_talk(&renamed).build(), "rename").await;
    let m = message(group.talk.id, &agent("alice"), "stale");
    let stale = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .insert_message(&m)
        .update_talk(&Talk { name: "Stale".into(), ..touched(&group.talk, at(2)) })
        .build();
    refuse(store, stale, Conflict::TalkVersion, "a change set guarded on version 1 of a talk at version 2").await;
    assert_eq!(read_talk(store, group.talk.id).await, renamed, "the refused change set did not touch the talk");
    assert!(store.message(m.id, LISTED).await.must("message").is_none(), "the refused message was not inserted");
}

/// A `TalkVersion` guard on a missing talk refuses the change set.
pub async fn guard_on_talk_version_refuses_a_missing_talk(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = message(group.talk.id, &agent("alice"), "guarded on nothing");
    let changes =
        ChangeSetBuilder::new().guard(Guard::TalkVersion { talk_id: talk_id(), version: 1 }).insert_message(&m).build();
    refuse(store, changes, Conflict::TalkVersion, "a change set guarded on a missing talk").await;
    assert!(store.message(m.id, LISTED).await.must("message").is_none());
}

/// A `ParticipantActive` guard on an active record holds.
pub async fn guard_on_participant_active_holds_for_an_active_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = message(group.talk.id, &agent("bob"), "guarded");
    apply(store, ChangeSetBuilder::new().guard_active(&group.members[1]).insert_message(&m).build(), "send").await;
    read_message(store, m.id).await;
}

/// A `ParticipantActive` guard on an ended record refuses the change set
/// with `Conflict::ParticipantNotActive`, and nothing is applied.
pub async fn guard_on_participant_active_refuses_an_ended_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = end_member(store, &group.members[1], LeftReason::Left).await;
    let m = message(group.talk.id, &agent("bob"), "too late");
    let changes = ChangeSetBuilder::new().guard_active(&group.members[1]).insert_message(&m).build();
    refuse(store, changes, Conflict::ParticipantNotActive, "a change set guarded on an ended record").await;
    assert!(store.message(m.id, LISTED).await.must("message").is_none());
    assert_eq!(read_participant(store, &bob).await, bob);
}

/// A `ParticipantActive` guard on a missing record refuses the change set.
pub async fn guard_on_participant_active_refuses_a_missing_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = message(group.talk.id, &agent("alice"), "guarded on nothing");
    let changes = ChangeSetBuilder::new()
        .guard(Guard::ParticipantActive { participant_id: participant_id() })
        .insert_message(&m)
        .build();
    refuse(store, changes, Conflict::ParticipantNotActive, "a change set guarded on a missing record").await;
    assert!(store.message(m.id, LISTED).await.must("message").is_none());
}

/// A `MessageVersion` guard on the current version holds, also when the
/// same change set moves it.
pub async fn guard_on_message_version_holds_when_the_version_is_current(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "draft").await;
    let edit = edited(&m, "final", at(1));
    apply(store, ChangeSetBuilder::new().guard_message_version(&m).update_message(&edit).build(), "edit").await;
    let stored = read_message(store, m.id).await;
    assert_eq!((stored.text.as_str(), stored.version), ("final", 2));
}

/// A `MessageVersion` guard on a version that moved refuses the change set
/// with `Conflict::MessageVersion`, and nothing is applied.
pub async fn guard_on_message_version_refuses_a_stale_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "draft").await;
    apply(store, ChangeSetBuilder::new().update_message(&edited(&m, "second", at(1))).build(), "edit").await;
    let late = ChangeSetBuilder::new()
        .guard_message_version(&m)
        .update_message(&edited(&m, "stale", at(2)))
        .insert_reaction(m.talk_id, &reaction(m.id, &emoji("tada"), &agent("alice"), at(2)))
        .build();
    refuse(store, late, Conflict::MessageVersion, "an edit guarded on version 1 of a message at version 2").await;
    let stored = read_message(store, m.id).await;
    assert_eq!((stored.text.as_str(), stored.version), ("second", 2), "the refused edit changed nothing");
    assert!(stored.reactions.is_empty(), "the refused reaction was not inserted");
}

/// A `MessageVersion` guard on a missing message refuses the change set.
pub async fn guard_on_message_version_refuses_a_missing_message(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = message(group.talk.id, &agent("alice"), "guarded on nothing");
    let changes = ChangeSetBuilder::new()
        .guard(Guard::MessageVersion { message_id: message_id(), version: 1 })
        .insert_message(&m)
        .build();
    refuse(store, changes, Conflict::MessageVersion, "a change set guarded on a missing message").await;
}

/// Guards are checked against the stored state before any write of their
/// change set: a guard on a row the same change set inserts fails.
pub async fn guards_are_checked_before_the_writes_of_their_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let alice = agent("alice");
    let talk = group_talk(&alice, "New");
    let changes = ChangeSetBuilder::new().guard_talk_version(&talk).insert_talk(&talk).build();
    refuse(store, changes, Conflict::TalkVersion, "a guard on the talk its own change set inserts").await;
    assert!(store.talk(talk.id).await.must("talk").is_none());
    let group = seed_group(store, "alice", &[]).await;
    let bob = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new().guard_active(&bob).insert_participant(&bob).build();
    refuse(store, changes, Conflict::ParticipantNotActive, "a guard on the record its own change set inserts").await;
    let m = message(group.talk.id, &alice, "new");
    let changes = ChangeSetBuilder::new().guard_message_version(&m).insert_message(&m).build();
    refuse(store, changes, Conflict::MessageVersion, "a guard on the message its own change set inserts").await;
}

/// One failing guard among holding ones refuses the whole change set with
/// the failing guard's conflict.
pub async fn one_failing_guard_among_holding_ones_refuses_the_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "draft").await;
    let stale = Message { version: 7, ..m.clone() };
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .guard_active(&group.members[0])
        .guard_message_version(&stale)
        .update_message(&edited(&m, "edited", at(1)))
        .build();
    refuse(store, changes, Conflict::MessageVersion, "holding talk and record guards with a stale message guard").await;
    assert_eq!(read_message(store, m.id).await.text, "draft");
}
