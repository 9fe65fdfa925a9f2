//! Pages under concurrent writes, and many concurrent callers of which exactly one wins.

use super::support::*;

/// Pages through an ascending list while `writer` adds to it, then checks
/// that the pages, put together, are exactly the start of the whole list
/// read afterwards: no item skipped, none repeated.
async fn check_ascending_pages<T, F, Fut>(what: &str, writer: tokio::task::JoinHandle<()>, key: fn(&T) -> u64, fetch: F)
where
    F: Fn(Option<u64>, usize) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let seen: Vec<u64> = read_pages(what, Order::Ascending, 3, key, &fetch).await.iter().map(key).collect();
    writer.await.unwrap_or_else(|e| panic!("{what}: the writer failed: {e}"));
    let all: Vec<u64> = fetch(None, ALL).await.iter().map(key).collect();
    assert!(
        seen.len() <= all.len() && seen[..] == all[..seen.len()],
        "{what}: pages skipped an item: {seen:?} vs {all:?}"
    );
}

/// Pages through a descending list while `writer` adds to its top, then
/// checks that the pages, put together, are exactly the items at or below
/// the first one seen, in the whole list read afterwards.
async fn check_descending_pages<T, F, Fut>(
    what: &str,
    writer: tokio::task::JoinHandle<()>,
    key: fn(&T) -> u64,
    fetch: F,
) where
    F: Fn(Option<u64>, usize) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let seen: Vec<u64> = read_pages(what, Order::Descending, 3, key, &fetch).await.iter().map(key).collect();
    writer.await.unwrap_or_else(|e| panic!("{what}: the writer failed: {e}"));
    let first = *seen.first().unwrap_or_else(|| panic!("{what}: the first page was empty"));
    let all: Vec<u64> = fetch(None, ALL).await.iter().map(key).filter(|&k| k <= first).collect();
    assert_eq!(seen, all, "{what}: pages skipped an item");
}

/// Spawns a task that applies `count` change sets made by `make`, yielding
/// between them.
fn spawn_writer(
    store: &Arc<dyn Store>,
    count: usize,
    make: impl Fn(usize) -> ChangeSet + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    tokio::spawn(async move {
        for i in 0..count {
            apply(store.as_ref(), make(i), "a concurrent writer").await;
            tokio::task::yield_now().await;
        }
    })
}

/// Pages of `messages` never skip or repeat while messages are added.
pub async fn message_pages_never_skip_or_repeat_while_messages_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let talk = group.talk.id;
    for i in 0..20 {
        send(store.as_ref(), talk, "alice", &format!("before {i}")).await;
    }
    let writer = spawn_writer(&store, 40, move |i| {
        ChangeSetBuilder::new().insert_message(&message(talk, &agent("alice"), &format!("during {i}"))).build()
    });
    let fetch = |before, limit| {
        let store = store.clone();
        async move { store.messages(talk, false, before, limit, 0).await.must("a page of messages") }
    };
    check_descending_pages("messages", writer, |m: &Message| m.seq, fetch).await;
}

/// Pages of `search_messages` never skip or repeat while matching (and
/// other) messages are added, in the searched talk and in one the agent
/// cannot see.
pub async fn search_pages_never_skip_or_repeat_while_messages_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let unseen = seed_group(store.as_ref(), "carol", &[]).await;
    let (talk, other) = (group.talk.id, unseen.talk.id);
    for i in 0..20 {
        send(store.as_ref(), talk, "alice", &format!("found before {i}")).await;
    }
    let writer = spawn_writer(&store, 40, move |i| {
        ChangeSetBuilder::new()
            .insert_message(&message(talk, &agent("alice"), &format!("found during {i}")))
            .insert_message(&message(talk, &agent("alice"), &format!("other {i}")))
            .insert_message(&message(other, &agent("carol"), &format!("found unseen {i}")))
            .build()
    });
    let query = talk_core::store::SearchQuery::text("found");
    let fetch = |before, limit| {
        let (store, query) = (store.clone(), query.clone());
        async move { store.search_messages(&agent("alice"), &query, before, limit, 0).await.must("a page of search") }
    };
    check_descending_pages("search_messages", writer, |m: &Message| m.seq, fetch).await;
}

/// Pages of `replies` never skip or repeat while replies are added.
pub async fn reply_pages_never_skip_or_repeat_while_replies_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let parent = send(store.as_ref(), group.talk.id, "alice", "parent").await;
    for i in 0..10 {
        send_reply(store.as_ref(), &parent, "alice", &format!("before {i}")).await;
    }
    let writer_parent = parent.clone();
    let writer = spawn_writer(&store, 40, move |i| {
        ChangeSetBuilder::new().insert_message(&reply(&writer_parent, &agent("alice"), &format!("during {i}"))).build()
    });
    let parent_id = parent.id;
    let fetch = |after, limit| {
        let store = store.clone();
        async move { store.replies(parent_id, after, limit, 0).await.must("a page of replies") }
    };
    check_ascending_pages("replies", writer, |m: &Message| m.seq, fetch).await;
}

/// Pages of `events` never skip or repeat while events are added.
pub async fn event_pages_never_skip_or_repeat_while_events_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let talk = group.talk.id;
    for i in 0..10 {
        send(store.as_ref(), talk, "alice", &format!("before {i}")).await;
    }
    let writer = spawn_writer(&store, 40, move |i| {
        let (a, b) =
            (message(talk, &agent("alice"), &format!("a {i}")), message(talk, &agent("bob"), &format!("b {i}")));
        ChangeSetBuilder::new().insert_message(&a).insert_message(&b).build()
    });
    let fetch = |after: Option<u64>, limit| {
        let store = store.clone();
        async move { store.events(after.unwrap_or(0), limit).await.must("a page of events") }
    };
    check_ascending_pages("events", writer, |e: &Event| e.seq, fetch).await;
}

/// Pages of `agent_events` never skip or repeat while events are added.
pub async fn agent_event_pages_never_skip_or_repeat_while_events_are_added(store: Arc<dyn Store>) {
    let seen = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let unseen = seed_group(store.as_ref(), "carol", &[]).await;
    let (talk, other) = (seen.talk.id, unseen.talk.id);
    for i in 0..10 {
        send(store.as_ref(), talk, "alice", &format!("before {i}")).await;
    }
    let writer = spawn_writer(&store, 40, move |i| {
        let (a, c) =
            (message(talk, &agent("alice"), &format!("a {i}")), message(other, &agent("carol"), &format!("c {i}")));
        ChangeSetBuilder::new().insert_message(&c).insert_message(&a).build()
    });
    let fetch = |after: Option<u64>, limit| {
        let store = store.clone();
        async move { store.agent_events(&agent("bob"), None, after.unwrap_or(0), limit).await.must("a page of the feed") }
    };
    check_ascending_pages("agent_events", writer, |e: &Event| e.seq, fetch).await;
}

/// Pages of `talks_of_agent` never skip or repeat while talks are created.
pub async fn talk_pages_never_skip_or_repeat_while_talks_are_created(store: Arc<dyn Store>) {
    for _ in 0..15 {
        seed_group(store.as_ref(), "alice", &["bob"]).await;
    }
    let writer = spawn_writer(&store, 30, move |i| {
        let talk = group_talk(&agent("bob"), &format!("during {i}"));
        create_talk(&talk, &[participant(talk.id, &agent("bob")), participant(talk.id, &agent("alice"))])
    });
    let fetch = |before, limit| {
        let store = store.clone();
        async move { store.talks_of_agent(&agent("alice"), None, before, limit).await.must("a page of talks") }
    };
    check_descending_pages("talks_of_agent", writer, |t: &Talk| t.created_seq, fetch).await;
}

/// Pages of `participants` never skip or repeat while participants are added.
pub async fn participant_pages_never_skip_or_repeat_while_participants_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"]).await;
    let talk = group.talk.id;
    let writer = spawn_writer(&store, 40, move |i| {
        ChangeSetBuilder::new().insert_participant(&participant(talk, &agent(&format!("during-{i}")))).build()
    });
    let fetch = |after, limit| {
        let store = store.clone();
        async move { store.participants(talk, None, after, limit).await.must("a page of participants") }
    };
    check_ascending_pages("participants", writer, |p: &Participant| p.seq, fetch).await;
}

/// Pages of `reactions` never skip or repeat while reactions are added.
pub async fn reaction_pages_never_skip_or_repeat_while_reactions_are_added(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let m = send(store.as_ref(), group.talk.id, "alice", "popular").await;
    for i in 0..10 {
        react(store.as_ref(), &m, "👍", &format!("before-{i}"), at(i)).await;
    }
    let (id, talk) = (m.id, m.talk_id);
    let writer = spawn_writer(&store, 40, move |i| {
        let r = reaction(id, &emoji("👍"), &agent(&format!("during-{i}")), at(100));
        let noise = reaction(id, &emoji("heart"), &agent(&format!("during-{i}")), at(100));
        ChangeSetBuilder::new().insert_reaction(talk, &noise).insert_reaction(talk, &r).build()
    });
    let fetch = |after, limit| {
        let store = store.clone();
        async move { store.reactions(id, &emoji("👍"), after, limit).await.must("a page of reactions") }
    };
    check_ascending_pages("reactions", writer, |r: &Reaction| r.seq, fetch).await;
}

// ============================================================ concurrency

/// Applies every change set from its own task, all released at once.
async fn race(store: &Arc<dyn Store>, sets: Vec<ChangeSet>) -> Vec<Result<Vec<Event>, StoreError>> {
    let start = Arc::new(tokio::sync::Barrier::new(sets.len()));
    let tasks: Vec<_> = sets
        .into_iter()
        .map(|set| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.apply(set).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| panic!("a racing task failed: {e}")));
    }
    outcomes
}

/// Checks that exactly one racer committed and every other one got
/// `expected`; answers the winner's index and events.
fn one_winner(outcomes: Vec<Result<Vec<Event>, StoreError>>, expected: Conflict, what: &str) -> (usize, Vec<Event>) {
    let mut winner: Option<(usize, Vec<Event>)> = None;
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(events) => {
                if let Some((first, _)) = &winner {
                    panic!("{what}: racers {first} and {i} both committed; exactly one may");
                }
                winner = Some((i, events));
            }
            Err(StoreError::Conflict(conflict)) => {
                assert_eq!(conflict, expected, "{what}: racer {i} lost with the wrong conflict");
            }
            Err(other) => panic!("{what}: racer {i} failed: {other:?}"),
        }
    }
    winner.unwrap_or_else(|| panic!("{what}: no racer committed; exactly one must"))
}

/// Checks that the log ends with exactly the winner's events after `base`.
async fn assert_log_is(store: &dyn Store, base: u64, winner: &[Event], what: &str) {
    let log = assert_log_without_holes(store, what).await;
    let tail: Vec<Event> = log.into_iter().filter(|e| e.seq > base).collect();
    assert_eq!(tail, winner, "{what}: the log holds the winner's events and nothing of the losers");
}

/// Racing inserts of one talk id: one talk, the winner's.
pub async fn concurrent_inserts_of_one_talk_id_create_one_talk(store: Arc<dyn Store>) {
    let id = talk_id();
    let sets = (0..RACERS)
        .map(|i| {
            let creator = agent(&format!("creator-{i}"));
            let talk = Talk { id, ..group_talk(&creator, &format!("racer {i}")) };
            create_talk(&talk, &[participant(id, &creator)])
        })
        .collect();
    let (i, events) = one_winner(race(&store, sets).await, Conflict::RowMismatch, "racing inserts of one talk id");
    let talk = read_talk(store.as_ref(), id).await;
    assert_eq!(talk.name, format!("racer {i}"), "the stored talk is the winner's");
    assert_eq!(store.participants(id, None, None, ALL).await.must("participants").len(), 1);
    assert_log_is(store.as_ref(), 0, &events, "racing inserts of one talk id").await;
}

/// Racing inserts of one direct pair: one talk, found by the pair.
pub async fn concurrent_inserts_of_one_direct_pair_create_one_talk(store: Arc<dyn Store>) {
    let (alice, bob) = (agent("alice"), agent("bob"));
    let mut talks = Vec::new();
    let sets = (0..RACERS)
        .map(|i| {
            let talk = if i % 2 == 0 { direct_talk(&alice, &bob) } else { direct_talk(&bob, &alice) };
            talks.push(talk.id);
            create_talk(&talk, &[participant(talk.id, &alice), participant(talk.id, &bob)])
        })
        .collect();
    let what = "racing inserts of one direct pair";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::DirectPairTaken, what);
    let pair = AgentPair::new(alice.clone(), bob).unwrap_or_else(|| panic!("two agents"));
    let found = store.direct_talk(&pair).await.must("direct_talk").map(|t| t.id);
    assert_eq!(found, Some(talks[i]), "the pair names the winner's talk");
    let listed = store.talks_of_agent(&alice, None, None, ALL).await.must("talks_of_agent");
    assert_eq!(ids(&listed, |t| t.id), [talks[i]], "alice is in one direct talk with bob");
    assert_log_is(store.as_ref(), 0, &events, what).await;
}

/// Racing inserts of one participant id: one record.
pub async fn concurrent_inserts_of_one_participant_id_create_one_record(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let base = store.head().await.must("head");
    let id = participant_id();
    let sets = (0..RACERS)
        .map(|i| {
            let record = Participant { id, ..participant(group.talk.id, &agent(&format!("agent-{i}"))) };
            ChangeSetBuilder::new().insert_participant(&record).build()
        })
        .collect();
    let what = "racing inserts of one participant id";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::RowMismatch, what);
    let stored = store.participant(id).await.must("participant").unwrap_or_else(|| panic!("{what}: no record"));
    assert_eq!(stored.agent_id, agent(&format!("agent-{i}")), "the record is the winner's");
    assert_eq!(store.participants(group.talk.id, None, None, ALL).await.must("participants").len(), 2);
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing inserts of records of one agent in one talk: one active record.
pub async fn concurrent_inserts_for_one_talk_and_agent_leave_one_active_record(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let base = store.head().await.must("head");
    let bob = agent("bob");
    let mut records = Vec::new();
    let sets = (0..RACERS)
        .map(|_| {
            let record = participant(group.talk.id, &bob);
            records.push(record.id);
            ChangeSetBuilder::new().insert_participant(&record).build()
        })
        .collect();
    let what = "racing inserts of bob's record in one talk";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::ActiveParticipantExists, what);
    let stored = store.agent_records(group.talk.id, &bob).await.must("agent_records");
    assert_eq!(ids(&stored, |p| (p.id, p.is_active())), [(records[i], true)], "{what}: one active record");
    let active =
        store.participants(group.talk.id, Some(ParticipantStatus::Active), None, ALL).await.must("participants");
    assert_eq!(active.len(), 2);
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing inserts of one message id: one message.
pub async fn concurrent_inserts_of_one_message_id_create_one_message(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let base = store.head().await.must("head");
    let id = message_id();
    let sets = (0..RACERS)
        .map(|i| {
            let m = Message { id, ..message(group.talk.id, &agent("alice"), &format!("racer {i}")) };
            ChangeSetBuilder::new().insert_message(&m).build()
        })
        .collect();
    let what = "racing inserts of one message id";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::MessageIdTaken, what);
    assert_eq!(read_message(store.as_ref(), id).await.text, format!("racer {i}"));
    assert_eq!(store.messages(group.talk.id, true, None, ALL, 0).await.must("messages").len(), 1);
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing inserts of one reaction: one reaction, counted once.
pub async fn concurrent_inserts_of_one_reaction_create_one_reaction(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let m = send(store.as_ref(), group.talk.id, "alice", "hello").await;
    let base = store.head().await.must("head");
    let sets = (0..RACERS)
        .map(|i| {
            let r = reaction(m.id, &emoji("👍"), &agent("bob"), at(i as i64));
            ChangeSetBuilder::new().insert_reaction(m.talk_id, &r).build()
        })
        .collect();
    let what = "racing inserts of one reaction";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::ReactionExists, what);
    let stored = read_message(store.as_ref(), m.id).await;
    assert_eq!(stored.reactions, [summary("👍", 1, &["bob"])], "{what}: counted once");
    assert_eq!(stored.tm_update, at(i as i64), "{what}: tm_update is the winner's");
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing change sets guarded on one talk version that all move it: one
/// commits, the others get `Conflict::TalkVersion`.
pub async fn concurrent_change_sets_guarded_on_one_talk_version_commit_once(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let base = store.head().await.must("head");
    let sets = (0..RACERS)
        .map(|i| {
            let renamed = Talk { name: format!("racer {i}"), ..touched(&group.talk, at(i as i64)) };
            let m = message(group.talk.id, &agent("alice"), &format!("renamed by {i}"));
            ChangeSetBuilder::new().guard_talk_version(&group.talk).update_talk(&renamed).insert_message(&m).build()
        })
        .collect();
    let what = "racing renames guarded on one talk version";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::TalkVersion, what);
    let talk = read_talk(store.as_ref(), group.talk.id).await;
    assert_eq!((talk.name, talk.version), (format!("racer {i}"), 2), "{what}: the talk is the winner's");
    assert_eq!(store.messages(group.talk.id, true, None, ALL, 0).await.must("messages").len(), 1);
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing change sets guarded on one active record that all end it: one
/// commits, the others get `Conflict::ParticipantNotActive`.
pub async fn concurrent_change_sets_guarded_on_one_active_record_commit_once(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let base = store.head().await.must("head");
    let bob = &group.members[1];
    let sets = (0..RACERS)
        .map(|i| {
            let left = ended(bob, LeftReason::Left, at(i as i64));
            ChangeSetBuilder::new().guard_active(bob).end_participant(&left).build()
        })
        .collect();
    let what = "racing ends of one record guarded on it being active";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::ParticipantNotActive, what);
    let stored = read_participant(store.as_ref(), bob).await;
    assert_eq!((stored.tm_left, stored.left_seq), (Some(at(i as i64)), Some(base + 1)), "{what}: the winner's end");
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing change sets guarded on one message version that all move it: one
/// commits, the others get `Conflict::MessageVersion`.
pub async fn concurrent_change_sets_guarded_on_one_message_version_commit_once(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &[]).await;
    let m = send(store.as_ref(), group.talk.id, "alice", "draft").await;
    let base = store.head().await.must("head");
    let sets = (0..RACERS)
        .map(|i| {
            let edit = edited(&m, &format!("edit {i}"), at(i as i64));
            ChangeSetBuilder::new().guard_message_version(&m).update_message(&edit).build()
        })
        .collect();
    let what = "racing edits guarded on one message version";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::MessageVersion, what);
    let stored = read_message(store.as_ref(), m.id).await;
    assert_eq!((stored.text, stored.version), (format!("edit {i}"), 2), "{what}: the message is the winner's");
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing deletes of one reaction: one deletes it, the others find it
/// missing (`Conflict::RowMismatch`).
pub async fn concurrent_deletes_of_one_reaction_delete_it_once(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let m = send(store.as_ref(), group.talk.id, "alice", "hello").await;
    let r = react(store.as_ref(), &m, "👍", "bob", at(1)).await;
    let base = store.head().await.must("head");
    let sets = (0..RACERS)
        .map(|i| ChangeSetBuilder::new().delete_reaction(m.talk_id, &r, at(10 + i as i64)).build())
        .collect();
    let what = "racing deletes of one reaction";
    let (i, events) = one_winner(race(&store, sets).await, Conflict::RowMismatch, what);
    let stored = read_message(store.as_ref(), m.id).await;
    assert!(stored.reactions.is_empty());
    assert_eq!(stored.tm_update, at(10 + i as i64), "{what}: tm_update is the winner's");
    assert_log_is(store.as_ref(), base, &events, what).await;
}

/// Racing change sets that do not conflict (holding guards that none of them
/// moves) all commit, each with consecutive seqs, together `base + 1 ..= head`
/// without holes.
pub async fn concurrent_independent_change_sets_all_commit_without_holes(store: Arc<dyn Store>) {
    let group = seed_group(store.as_ref(), "alice", &["bob"]).await;
    let base = store.head().await.must("head");
    let sets: Vec<ChangeSet> = (0..RACERS * 2)
        .map(|i| {
            if i % 4 == 3 {
                let creator = agent(&format!("creator-{i}"));
                let talk = group_talk(&creator, "independent");
                create_talk(&talk, &[participant(talk.id, &creator), participant(talk.id, &agent("bob"))])
            } else {
                let m = message(group.talk.id, &agent("bob"), &format!("send {i}"));
                ChangeSetBuilder::new()
                    .guard_talk_version(&group.talk)
                    .guard_active(&group.members[1])
                    .insert_message(&m)
                    .build()
            }
        })
        .collect();
    let expected: usize = sets.iter().map(|s| s.events.len()).sum();
    let mut committed = Vec::new();
    for (i, outcome) in race(&store, sets).await.into_iter().enumerate() {
        let events = outcome.unwrap_or_else(|e| panic!("independent change set {i} was refused: {e:?}"));
        let numbers = seqs(&events);
        assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "change set {i} got non-consecutive seqs {numbers:?}");
        committed.extend(events);
    }
    committed.sort_by_key(|e| e.seq);
    let head = store.head().await.must("head");
    assert_eq!(head, base + expected as u64, "every event of every change set was numbered");
    assert_eq!(seqs(&committed), (base + 1..=head).collect::<Vec<_>>(), "seqs are consecutive across change sets");
    let log = assert_log_without_holes(store.as_ref(), "independent change sets").await;
    assert_eq!(log[base as usize..], committed[..], "the log holds what apply answered");
    let sent = store.messages(group.talk.id, false, None, ALL, 0).await.must("messages");
    assert_eq!(sent.len(), RACERS * 2 - RACERS / 2);
    assert!(sent.windows(2).all(|w| w[0].seq > w[1].seq));
}

/// While change sets commit concurrently, readers see each whole or not at
/// all, never an event above the head, never a hole.
pub async fn readers_see_change_sets_whole_or_not_at_all(store: Arc<dyn Store>) {
    const WRITERS: usize = 4;
    const TALKS_EACH: usize = 16;
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            spawn_writer(&store, TALKS_EACH, move |i| {
                let creator = agent(&format!("writer-{w}-{i}"));
                let talk = group_talk(&creator, "whole");
                let members = [
                    participant(talk.id, &creator),
                    participant(talk.id, &agent("x")),
                    participant(talk.id, &agent("y")),
                ];
                create_talk(&talk, &members)
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                let mut reads = 0;
                while !done.load(Ordering::Acquire) || reads == 0 {
                    reads += 1;
                    let before = store.head().await.must("head");
                    let log = all_events(store.as_ref()).await;
                    let after = store.head().await.must("head");
                    let seen = log.len() as u64;
                    assert_eq!(seqs(&log), (1..=seen).collect::<Vec<_>>(), "reader {r}: a hole in the log");
                    assert!(seen >= before, "reader {r}: the head was {before} but only {seen} events were readable");
                    assert!(seen <= after, "reader {r}: saw {seen} events, above the head {after}");
                    assert_eq!(seen % 4, 0, "reader {r}: saw part of a change set ({seen} events)");
                    let created = log.iter().rev().find_map(|e| match &e.data {
                        EventData::TalkCreated(t) => Some(t.clone()),
                        _ => None,
                    });
                    if let Some(talk) = created {
                        let members = store.participants(talk.id, None, None, ALL).await.must("participants");
                        assert_eq!(members.len(), 3, "reader {r}: a talk without all its records");
                        let listed = store.talks_of_agent(&talk.creator_id, None, None, ALL).await.must("talks");
                        assert_eq!(ids(&listed, |t| t.id), [talk.id], "reader {r}: a talk not listed for its creator");
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap_or_else(|e| panic!("a writer failed: {e}"));
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.await.unwrap_or_else(|e| panic!("a reader failed: {e}"));
    }
    let log = assert_log_without_holes(store.as_ref(), "after concurrent creations").await;
    assert_eq!(log.len(), WRITERS * TALKS_EACH * 4);
    let x = store.talks_of_agent(&agent("x"), None, None, ALL).await.must("talks_of_agent");
    assert_eq!(x.len(), WRITERS * TALKS_EACH);
    assert!(x.windows(2).all(|w| w[0].created_seq > w[1].created_seq), "talks newest first");
    let distinct: BTreeSet<TalkId> = x.iter().map(|t| t.id).collect();
    assert_eq!(distinct.len(), x.len(), "each talk listed once");
}
