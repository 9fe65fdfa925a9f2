//! Each unique key, also inside one change set, and writes to missing rows.

use super::support::*;

/// A talk id is taken once (`Conflict::RowMismatch`), also inside one change set.
pub async fn talk_id_is_unique(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let again = Talk { name: "Another".into(), created_seq: 0, ..group.talk.clone() };
    refuse(store, ChangeSetBuilder::new().insert_talk(&again).build(), Conflict::RowMismatch, "a taken talk id").await;
    assert_eq!(read_talk(store, group.talk.id).await, group.talk, "the stored talk is unchanged");
    let talk = group_talk(&agent("bob"), "Twice");
    let twice = ChangeSetBuilder::new().insert_talk(&talk).insert_talk(&Talk { name: "Again".into(), ..talk.clone() });
    refuse(store, twice.build(), Conflict::RowMismatch, "one talk id inserted twice in one change set").await;
    assert!(store.talk(talk.id).await.must("talk").is_none());
}

/// A direct pair has one talk, ever: a closed direct talk still holds its
/// pair, in either order of the agents (`Conflict::DirectPairTaken`).
pub async fn direct_pair_is_unique_ever(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (alice, bob) = (agent("alice"), agent("bob"));
    let talk = direct_talk(&alice, &bob);
    apply(store, create_talk(&talk, &[participant(talk.id, &alice), participant(talk.id, &bob)]), "direct").await;
    let stored = read_talk(store, talk.id).await;
    let close = ChangeSetBuilder::new().guard_talk_version(&stored).close_talk(&closed(&stored, at(1))).build();
    apply(store, close, "closing the direct talk").await;
    let reversed = direct_talk(&bob, &alice);
    let changes = create_talk(&reversed, &[participant(reversed.id, &bob), participant(reversed.id, &alice)]);
    refuse(store, changes, Conflict::DirectPairTaken, "a second direct talk for a pair whose talk is closed").await;
    assert!(store.talk(reversed.id).await.must("talk").is_none());
    let pair = AgentPair::new(alice.clone(), bob.clone()).unwrap_or_else(|| panic!("two agents"));
    let found = store.direct_talk(&pair).await.must("direct_talk").map(|t| t.id);
    assert_eq!(found, Some(talk.id), "the pair still names its first talk");
    let other = direct_talk(&alice, &agent("carol"));
    apply(store, create_talk(&other, &[participant(other.id, &alice)]), "another pair").await;
}

/// Two direct talks of one pair in one change set collide.
pub async fn direct_pair_is_unique_within_one_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (alice, bob) = (agent("alice"), agent("bob"));
    let (first, second) = (direct_talk(&alice, &bob), direct_talk(&bob, &alice));
    let changes = ChangeSetBuilder::new().insert_talk(&first).insert_talk(&second).build();
    refuse(store, changes, Conflict::DirectPairTaken, "two direct talks of one pair in one change set").await;
    let pair = AgentPair::new(alice, bob).unwrap_or_else(|| panic!("two agents"));
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none(), "neither talk was inserted");
    assert!(store.talk(first.id).await.must("talk").is_none());
}

/// A participant id is taken once (`Conflict::RowMismatch`), also inside one
/// change set.
pub async fn participant_id_is_unique(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let carol = Participant { id: bob.id, ..participant(group.talk.id, &agent("carol")) };
    refuse(
        store,
        ChangeSetBuilder::new().insert_participant(&carol).build(),
        Conflict::RowMismatch,
        "a taken record id",
    )
    .await;
    assert_eq!(read_participant(store, bob).await, *bob);
    let dave = participant(group.talk.id, &agent("dave"));
    let erin = Participant { id: dave.id, ..participant(group.talk.id, &agent("erin")) };
    let changes = ChangeSetBuilder::new().insert_participant(&dave).insert_participant(&erin).build();
    refuse(store, changes, Conflict::RowMismatch, "one record id inserted twice in one change set").await;
    assert!(store.participant(dave.id).await.must("participant").is_none());
}

/// An agent has one active record per talk (`Conflict::ActiveParticipantExists`);
/// other agents, other talks, and the same agent after its record ended are fine.
pub async fn one_active_record_per_talk_and_agent(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let second = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new().insert_participant(&second).build();
    refuse(store, changes, Conflict::ActiveParticipantExists, "a second active record of bob").await;
    add_member(store, group.talk.id, "carol").await;
    let other = seed_group(store, "dave", &[]).await;
    add_member(store, other.talk.id, "bob").await;
    end_member(store, &group.members[1], LeftReason::Left).await;
    let back = add_member(store, group.talk.id, "bob").await;
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(
        ids(&records, |p| (p.id, p.status)),
        [(group.members[1].id, ParticipantStatus::Left), (back.id, ParticipantStatus::Active)]
    );
    let third = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new().insert_participant(&third).build();
    refuse(store, changes, Conflict::ActiveParticipantExists, "a second active record of a re-added agent").await;
}

/// Two active records of one agent in one talk in one change set collide,
/// also when the change set creates the talk.
pub async fn two_active_records_for_one_agent_in_one_change_set_conflict(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let carol = agent("carol");
    let (first, second) = (participant(group.talk.id, &carol), participant(group.talk.id, &carol));
    let changes = ChangeSetBuilder::new().insert_participant(&first).insert_participant(&second).build();
    refuse(store, changes, Conflict::ActiveParticipantExists, "two records of carol in one change set").await;
    assert!(store.agent_records(group.talk.id, &carol).await.must("agent_records").is_empty());
    let talk = group_talk(&carol, "Twice");
    let changes = create_talk(&talk, &[participant(talk.id, &carol), participant(talk.id, &carol)]);
    refuse(store, changes, Conflict::ActiveParticipantExists, "a new talk listing its creator twice").await;
    assert!(store.talk(talk.id).await.must("talk").is_none(), "the talk of the refused change set was not inserted");
}

/// Ending a record frees its (talk, agent) key for a later write of the same
/// change set; inserting before ending collides.
pub async fn ending_a_record_frees_its_key_within_the_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let again = participant(group.talk.id, &agent("bob"));
    let insert_first = ChangeSetBuilder::new()
        .insert_participant(&again)
        .end_participant(&ended(bob, LeftReason::Left, at(1)))
        .build();
    refuse(store, insert_first, Conflict::ActiveParticipantExists, "a new record before the old one ends").await;
    let end_first = ChangeSetBuilder::new()
        .end_participant(&ended(bob, LeftReason::Left, at(1)))
        .insert_participant(&again)
        .build();
    apply(store, end_first, "ending a record then adding the agent again").await;
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(ids(&records, |p| (p.id, p.is_active())), [(bob.id, false), (again.id, true)]);
}

/// A message id is taken once, in any talk (`Conflict::MessageIdTaken`),
/// also inside one change set.
pub async fn message_id_is_unique(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let other = seed_group(store, "bob", &[]).await;
    let m = send(store, group.talk.id, "alice", "first").await;
    let same_talk = Message { text: "again".into(), seq: 0, ..m.clone() };
    let other_talk = Message { talk_id: other.talk.id, agent_id: Some(agent("bob")), ..same_talk.clone() };
    for (what, taken) in [("the same talk", same_talk), ("another talk", other_talk)] {
        let changes = ChangeSetBuilder::new().insert_message(&taken).build();
        refuse(store, changes, Conflict::MessageIdTaken, &format!("a taken message id in {what}")).await;
    }
    assert_eq!(read_message(store, m.id).await, m, "the stored message is unchanged");
    let fresh = message(group.talk.id, &agent("alice"), "twice");
    let changes = ChangeSetBuilder::new().insert_message(&fresh).insert_message(&fresh).build();
    refuse(store, changes, Conflict::MessageIdTaken, "one message id inserted twice in one change set").await;
    assert!(store.message(fresh.id, LISTED).await.must("message").is_none());
}

/// One reaction per (message, emoji, agent) (`Conflict::ReactionExists`),
/// also inside one change set; another emoji, another agent, or the same
/// reaction after its removal are fine.
pub async fn reaction_is_unique_per_message_emoji_and_agent(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let first = react(store, &m, "👍", "alice", at(1)).await;
    let again = reaction(m.id, &emoji("thumbsup"), &agent("alice"), at(2));
    let changes = ChangeSetBuilder::new().insert_reaction(m.talk_id, &again).build();
    refuse(store, changes, Conflict::ReactionExists, "alice's second 👍").await;
    react(store, &m, "heart", "alice", at(3)).await;
    react(store, &m, "👍", "bob", at(4)).await;
    let carol = reaction(m.id, &emoji("tada"), &agent("carol"), at(5));
    let changes = ChangeSetBuilder::new().insert_reaction(m.talk_id, &carol).insert_reaction(m.talk_id, &carol).build();
    refuse(store, changes, Conflict::ReactionExists, "one reaction inserted twice in one change set").await;
    assert!(store.reaction(m.id, &carol.emoji, &carol.agent_id).await.must("reaction").is_none());
    unreact(store, &m, &first, at(6)).await;
    react(store, &m, "👍", "alice", at(7)).await;
}

/// A collision late in a change set applies none of its earlier writes.
pub async fn collision_late_in_a_change_set_applies_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "taken").await;
    let fresh = message(group.talk.id, &agent("alice"), "fresh");
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .update_talk(&Talk { name: "Renamed".into(), ..touched(&group.talk, at(1)) })
        .insert_message(&fresh)
        .insert_reaction(fresh.talk_id, &reaction(fresh.id, &emoji("tada"), &agent("alice"), at(1)))
        .write(Write::IncrementReplyCount(m.id))
        .insert_participant(&participant(group.talk.id, &agent("bob")))
        .insert_message(&Message { seq: 0, ..m.clone() })
        .build();
    refuse(store, changes, Conflict::MessageIdTaken, "a change set whose last write collides").await;
    assert_eq!(read_talk(store, group.talk.id).await, group.talk, "the talk was not updated");
    assert!(store.message(fresh.id, LISTED).await.must("message").is_none(), "the fresh message was not inserted");
    assert_eq!(read_message(store, m.id).await, m, "the reply count did not move");
    assert!(store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records").is_empty());
}

/// Each write that names a missing row refuses its change set
/// (`Conflict::RowMismatch`), and the change set's earlier writes are not applied.
pub async fn writes_to_missing_rows_conflict_and_apply_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "here").await;
    let nobody = reaction(m.id, &emoji("tada"), &agent("bob"), at(1));
    let missing_message = message(group.talk.id, &agent("alice"), "missing");
    let missing_record = ended(&participant(group.talk.id, &agent("carol")), LeftReason::Left, at(1));
    let cases: Vec<(&str, ChangeSetBuilder)> = vec![
        ("UpdateTalk of a missing talk", ChangeSetBuilder::new().update_talk(&group_talk(&agent("alice"), "Missing"))),
        ("UpdateParticipant of a missing record", ChangeSetBuilder::new().end_participant(&missing_record)),
        ("UpdateMessage of a missing message", ChangeSetBuilder::new().update_message(&missing_message)),
        (
            "SetMessageVersion of a missing message",
            ChangeSetBuilder::new().write(Write::SetMessageVersion { message_id: message_id(), version: 2 }),
        ),
        (
            "IncrementReplyCount of a missing message",
            ChangeSetBuilder::new().write(Write::IncrementReplyCount(message_id())),
        ),
        (
            "InsertReaction on a missing message",
            ChangeSetBuilder::new()
                .insert_reaction(m.talk_id, &reaction(message_id(), &emoji("tada"), &agent("bob"), at(1))),
        ),
        ("DeleteReaction of a missing reaction", ChangeSetBuilder::new().delete_reaction(m.talk_id, &nobody, at(1))),
        (
            "DeleteAllReactions of a missing message",
            ChangeSetBuilder::new().write(Write::DeleteAllReactions(message_id())),
        ),
    ];
    for (what, bad) in cases {
        let before = message(group.talk.id, &agent("alice"), "written before the missing row");
        let mut changes =
            ChangeSetBuilder::new().insert_message(&before).write(Write::IncrementReplyCount(m.id)).build();
        let bad = bad.build();
        changes.writes.extend(bad.writes);
        changes.events.extend(bad.events);
        refuse(store, changes, Conflict::RowMismatch, what).await;
        assert!(
            store.message(before.id, LISTED).await.must("message").is_none(),
            "{what}: an earlier write was applied"
        );
        assert_eq!(read_message(store, m.id).await.reply_count, 0, "{what}: an earlier write was applied");
    }
}

/// Writes may name rows inserted by earlier writes of the same change set.
pub async fn writes_may_name_rows_inserted_earlier_in_the_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let alice = agent("alice");
    let talk = group_talk(&alice, "All at once");
    let record = participant(talk.id, &alice);
    let m = message(talk.id, &alice, "parent");
    let r = reply(&m, &alice, "reply");
    let thumbs = reaction(m.id, &emoji("thumbsup"), &alice, at(2));
    let changes = ChangeSetBuilder::new()
        .insert_talk(&talk)
        .insert_participant(&record)
        .update_talk(&Talk { name: "Renamed".into(), ..touched(&talk, at(1)) })
        .insert_message(&m)
        .insert_message(&r)
        .insert_reaction(talk.id, &thumbs)
        .update_message(&edited(&m, "parent, edited", at(3)))
        .delete_reaction(talk.id, &thumbs, at(4))
        .insert_reaction(talk.id, &reaction(m.id, &emoji("heart"), &alice, at(5)))
        .end_participant(&ended(&record, LeftReason::Left, at(6)))
        .build();
    let events = apply(store, changes, "a change set writing the rows it inserts").await;
    assert_eq!(events.len(), 10);
    let stored_talk = read_talk(store, talk.id).await;
    assert_eq!((stored_talk.name.as_str(), stored_talk.version), ("Renamed", 2));
    let stored = read_message(store, m.id).await;
    assert_eq!((stored.text.as_str(), stored.reply_count, stored.tm_update), ("parent, edited", 1, at(5)));
    assert_eq!(stored.reactions, [summary("heart", 1, &["alice"])]);
    let stored_record = read_participant(store, &record).await;
    assert_eq!((stored_record.status, stored_record.left_seq), (ParticipantStatus::Left, Some(10)));
}
