//! The store conformance suite: every sentence of the [`Store`] contract
//! (see [`crate::store`]) as a case that any store must pass.
//!
//! Each case is a `pub async fn case(store: Arc<dyn Store>)` that takes a
//! fresh, empty store, drives it through the trait only, and panics with a
//! message naming what broke.
//! [`store_conformance_tests!`](crate::store_conformance_tests) expands to
//! one test per case, named after it, each on its own multi-threaded runtime
//! (4 worker threads), so a store crate runs the whole suite with one line
//! in `tests/conformance.rs`:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use talk_core::Store;
//!
//! /// A fresh, empty store for each case (here: whatever your crate makes).
//! fn fresh_store() -> Arc<dyn Store> {
//!     unimplemented!("make your store")
//! }
//!
//! // One `#[test]` per case: `conformance::refused_change_set_uses_no_seq`, …
//! talk_core::store_conformance_tests!(fresh_store);
//! # fn main() {}
//! ```
//!
//! A store that needs `.await` to open (a pool, a writer task on the
//! runtime) passes an async factory instead:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use talk_core::Store;
//!
//! async fn fresh_store() -> Arc<dyn Store> {
//!     unimplemented!("open your store")
//! }
//!
//! talk_core::store_conformance_tests!(async_factory = fresh_store);
//! # fn main() {}
//! ```
//!
//! The factory is any expression that can be called with no arguments (a
//! function path or a closure) and returns something that coerces to
//! `Arc<dyn Store>`; it runs inside the case's runtime, once per case. The
//! generated module does `use super::*`, so the factory may name anything
//! the test file imports. The crate needs no direct `tokio` dependency.
//!
//! Every case can also be called alone, e.g. from a test with a custom
//! set-up: `conformance::run(async { conformance::message_id_is_unique(store).await })`.
//!
//! What the cases check, by section: numbering of the event log; `resolve`
//! filling every `seq` of rows and payloads; each guard holding, failing and
//! applying nothing when it fails; each unique key, also inside one change
//! set; writes to missing rows; how each write replaces its row; the
//! counters the store keeps (reply counts, reaction summaries, `tm_update`);
//! redaction; every read's order, filters and keyset pages, also while
//! writers insert; which events each agent sees; retention; and, for every
//! guard and unique key, many concurrent callers of which exactly one wins.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::clock::Timestamp;
use crate::error::{Conflict, StoreError};
use crate::event::{Event, EventData};
use crate::id::{AgentId, MessageId, TalkId};
use crate::message::{Message, MessageKind, ReactionSummary, SystemEvent, SystemInfo};
use crate::participant::{LeftReason, Participant, ParticipantStatus};
use crate::reaction::Reaction;
use crate::store::{ChangeSet, Guard, Store, Write};
use crate::talk::{AgentPair, Talk, TalkKind, TalkStatus};
use crate::testing::builders::{
    ChangeSetBuilder, agent, at, closed, create_talk, direct_talk, edited, emoji, ended, epoch, group_talk, media,
    message, message_id, participant, participant_id, reaction, reply, talk_id, tombstone, touched,
};

/// Runs the cases of the suite against a store: one test per case, named
/// after it, in a module `conformance`.
///
/// `store_conformance_tests!(factory)` takes an expression callable with no
/// arguments (a function path or a closure) that returns a fresh store
/// (anything that coerces to `Arc<dyn Store>`);
/// `store_conformance_tests!(async_factory = factory)` takes one whose call
/// is awaited. Each test builds a multi-threaded Tokio runtime with 4 worker
/// threads, calls the factory inside it, and runs one case. See
/// [`testing::conformance`](crate::testing::conformance) for an example.
#[macro_export]
macro_rules! store_conformance_tests {
    (@cases $make:block $($case:ident),* $(,)?) => {
        /// The store conformance suite of talk-core, one test per case.
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $case() {
                    $crate::testing::conformance::run(async {
                        let store: ::std::sync::Arc<dyn $crate::Store> = $make;
                        $crate::testing::conformance::$case(store).await;
                    });
                }
            )*
        }
    };
    (@make $make:block) => {
        $crate::store_conformance_tests! { @cases $make
            first_change_set_is_numbered_from_one,
            apply_returns_the_events_as_stored,
            refused_change_set_uses_no_seq,
            empty_change_set_answers_nothing_and_changes_nothing,
            change_set_without_events_takes_no_seq,
            events_are_read_in_order_after_a_cursor,
            inserted_talk_takes_the_seq_of_its_talk_created_event,
            inserted_participant_spans_from_the_first_event_of_its_change_set,
            ended_participant_takes_the_seq_of_its_participant_left_event,
            inserted_message_takes_the_seq_of_its_message_created_event,
            inserted_reaction_takes_the_seq_of_its_reaction_added_event,
            inserted_row_without_its_event_is_refused_whole,
            guard_on_talk_version_holds_when_the_version_is_current,
            guard_on_talk_version_refuses_a_stale_change_set,
            guard_on_talk_version_refuses_a_missing_talk,
            guard_on_participant_active_holds_for_an_active_record,
            guard_on_participant_active_refuses_an_ended_record,
            guard_on_participant_active_refuses_a_missing_record,
            guard_on_message_version_holds_when_the_version_is_current,
            guard_on_message_version_refuses_a_stale_change_set,
            guard_on_message_version_refuses_a_missing_message,
            guards_are_checked_before_the_writes_of_their_change_set,
            one_failing_guard_among_holding_ones_refuses_the_change_set,
            talk_id_is_unique,
            direct_pair_is_unique_ever,
            direct_pair_is_unique_within_one_change_set,
            participant_id_is_unique,
            one_active_record_per_talk_and_agent,
            two_active_records_for_one_agent_in_one_change_set_conflict,
            ending_a_record_frees_its_key_within_the_change_set,
            message_id_is_unique,
            reaction_is_unique_per_message_emoji_and_agent,
            collision_late_in_a_change_set_applies_nothing,
            writes_to_missing_rows_conflict_and_apply_nothing,
            writes_may_name_rows_inserted_earlier_in_the_change_set,
            update_talk_replaces_all_but_the_identity_of_the_talk,
            update_participant_replaces_only_how_the_record_ended,
            update_message_replaces_only_the_messages_own_fields,
            inserted_message_is_stored_as_given_with_empty_counters,
            increment_reply_count_adds_one_per_write,
            set_message_version_moves_only_the_version,
            reaction_summaries_count_and_list_reactors_in_order,
            reaction_summaries_list_at_most_reactors_listed,
            emoji_keep_the_order_of_their_first_use,
            emoji_whose_last_reaction_goes_loses_its_place,
            reaction_changes_set_the_message_tm_update,
            delete_all_reactions_removes_every_reaction_of_one_message,
            reaction_reads_one_reaction_or_none,
            reactions_are_listed_in_the_order_added_with_keyset_pages,
            redact_message_removes_its_content_from_earlier_events,
            reads_of_missing_rows_answer_none_or_empty,
            direct_talk_is_found_by_its_pair,
            talks_of_agent_are_newest_first_with_keyset_pages,
            talks_of_agent_filter_by_status,
            talks_of_agent_list_only_talks_with_an_active_record,
            participants_are_listed_in_join_order_with_status_filter_and_keyset,
            agent_records_list_every_record_of_the_agent_in_join_order,
            talk_and_records_answer_the_talk_with_the_agents_records,
            message_and_talk_answer_the_message_with_its_talk_and_the_agents_records,
            agent_memberships_list_active_records_and_those_ended_after_a_seq,
            messages_are_newest_first_and_top_level_unless_replies_are_included,
            replies_are_oldest_first_with_keyset_pages,
            agent_events_of_a_late_joiner_start_at_its_joining_change,
            agent_events_of_an_ended_record_stop_at_its_participant_left,
            agent_events_of_a_readded_agent_cover_both_spans_but_not_the_gap,
            agent_events_filter_by_talk_and_merge_talks_in_seq_order,
            agent_events_page_after_a_cursor,
            prune_events_removes_events_through_a_seq_and_moves_the_low_water_mark,
            prune_events_never_lets_a_seq_be_reused,
            message_pages_never_skip_or_repeat_while_messages_are_added,
            reply_pages_never_skip_or_repeat_while_replies_are_added,
            event_pages_never_skip_or_repeat_while_events_are_added,
            agent_event_pages_never_skip_or_repeat_while_events_are_added,
            talk_pages_never_skip_or_repeat_while_talks_are_created,
            participant_pages_never_skip_or_repeat_while_participants_are_added,
            reaction_pages_never_skip_or_repeat_while_reactions_are_added,
            concurrent_inserts_of_one_talk_id_create_one_talk,
            concurrent_inserts_of_one_direct_pair_create_one_talk,
            concurrent_inserts_of_one_participant_id_create_one_record,
            concurrent_inserts_for_one_talk_and_agent_leave_one_active_record,
            concurrent_inserts_of_one_message_id_create_one_message,
            concurrent_inserts_of_one_reaction_create_one_reaction,
            concurrent_change_sets_guarded_on_one_talk_version_commit_once,
            concurrent_change_sets_guarded_on_one_active_record_commit_once,
            concurrent_change_sets_guarded_on_one_message_version_commit_once,
            concurrent_deletes_of_one_reaction_delete_it_once,
            concurrent_independent_change_sets_all_commit_without_holes,
            readers_see_change_sets_whole_or_not_at_all,
        }
    };
    (async_factory = $factory:expr $(,)?) => {
        $crate::store_conformance_tests! { @make { ($factory)().await } }
    };
    ($factory:expr $(,)?) => {
        $crate::store_conformance_tests! { @make { ($factory)() } }
    };
}

/// Runs one case (or any future) to completion on a fresh multi-threaded
/// Tokio runtime with 4 worker threads, the runtime every generated test
/// uses.
///
/// # Panics
/// When the runtime cannot be built, or when the future panics.
pub fn run(case: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build the Tokio runtime of a conformance case: {e}"));
    runtime.block_on(case);
}

// ================================================================ helpers

/// A limit that reads a whole list in these small stores.
const ALL: usize = 100_000;
/// Reactors listed per emoji in reads that do not test the truncation.
const LISTED: usize = 100;
/// How many callers race in the concurrency cases.
const RACERS: usize = 32;

/// Unwraps a store answer, naming the read that failed.
trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T> Must<T> for Result<T, StoreError> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: the store failed: {e:?}"))
    }
}

/// Applies a change set that must commit.
async fn apply(store: &dyn Store, changes: ChangeSet, what: &str) -> Vec<Event> {
    match store.apply(changes).await {
        Ok(events) => events,
        Err(e) => panic!("{what}: the store refused a change set it must accept: {e:?}"),
    }
}

/// Applies a change set that must be refused with `expected`, and checks
/// that it left the log and the head as they were.
async fn refuse(store: &dyn Store, changes: ChangeSet, expected: Conflict, what: &str) {
    let head = store.head().await.must(what);
    let log = all_events(store).await;
    match store.apply(changes).await {
        Err(StoreError::Conflict(conflict)) => {
            assert_eq!(conflict, expected, "{what}: the change set was refused with the wrong conflict");
        }
        Ok(events) => panic!("{what}: the store applied a change set it must refuse with {expected:?}: {events:?}"),
        Err(other) => panic!("{what}: expected StoreError::Conflict({expected:?}), got {other:?}"),
    }
    assert_eq!(store.head().await.must(what), head, "{what}: a refused change set must take no seq");
    assert_eq!(all_events(store).await, log, "{what}: a refused change set must leave the event log as it was");
}

async fn all_events(store: &dyn Store) -> Vec<Event> {
    store.events(0, ALL).await.must("reading the whole event log")
}

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.data.type_name()).collect()
}

fn ids<T, I>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    items.iter().map(id).collect()
}

/// Checks that the log holds exactly the events `low + 1 ..= head`, in order.
async fn assert_log_without_holes(store: &dyn Store, what: &str) -> Vec<Event> {
    let head = store.head().await.must(what);
    let low = store.low_water_mark().await.must(what);
    let events = all_events(store).await;
    assert_eq!(
        seqs(&events),
        (low + 1..=head).collect::<Vec<_>>(),
        "{what}: the log must hold every seq up to the head"
    );
    events
}

async fn read_talk(store: &dyn Store, id: TalkId) -> Talk {
    store.talk(id).await.must("reading a talk").unwrap_or_else(|| panic!("talk {id} should exist"))
}

async fn read_participant(store: &dyn Store, record: &Participant) -> Participant {
    store
        .participant(record.id)
        .await
        .must("reading a participant record")
        .unwrap_or_else(|| panic!("participant record {} should exist", record.id))
}

async fn read_message(store: &dyn Store, id: MessageId) -> Message {
    store.message(id, LISTED).await.must("reading a message").unwrap_or_else(|| panic!("message {id} should exist"))
}

async fn read_reaction(store: &dyn Store, r: &Reaction) -> Reaction {
    store
        .reaction(r.message_id, &r.emoji, &r.agent_id)
        .await
        .must("reading a reaction")
        .unwrap_or_else(|| panic!("the reaction {} of {} should exist", r.emoji, r.agent_id))
}

/// A talk and its first records, as stored.
struct Seeded {
    talk: Talk,
    members: Vec<Participant>,
}

/// Creates a group talk of `creator` and `others` (in that order): one change
/// set, `1 + members` events.
async fn seed_group(store: &dyn Store, creator: &str, others: &[&str]) -> Seeded {
    let creator = agent(creator);
    let talk = group_talk(&creator, "Group");
    let mut members = vec![participant(talk.id, &creator)];
    members.extend(others.iter().map(|other| participant(talk.id, &agent(other))));
    apply(store, create_talk(&talk, &members), "creating a group talk").await;
    let talk = read_talk(store, talk.id).await;
    let mut stored = Vec::new();
    for member in &members {
        stored.push(read_participant(store, member).await);
    }
    Seeded { talk, members: stored }
}

/// Sends a top-level message: one event.
async fn send(store: &dyn Store, talk: TalkId, author: &str, text: &str) -> Message {
    let m = message(talk, &agent(author), text);
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a message").await;
    read_message(store, m.id).await
}

/// Sends a reply: one event.
async fn send_reply(store: &dyn Store, parent: &Message, author: &str, text: &str) -> Message {
    let m = reply(parent, &agent(author), text);
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a reply").await;
    read_message(store, m.id).await
}

/// Adds a reaction made at `now`: one event.
async fn react(store: &dyn Store, m: &Message, spelling: &str, who: &str, now: Timestamp) -> Reaction {
    let r = reaction(m.id, &emoji(spelling), &agent(who), now);
    apply(store, ChangeSetBuilder::new().insert_reaction(m.talk_id, &r).build(), "adding a reaction").await;
    read_reaction(store, &r).await
}

/// Removes a reaction at `now`: one event.
async fn unreact(store: &dyn Store, m: &Message, r: &Reaction, now: Timestamp) {
    apply(store, ChangeSetBuilder::new().delete_reaction(m.talk_id, r, now).build(), "removing a reaction").await;
}

/// Adds a record of `who` to `talk`: one event.
async fn add_member(store: &dyn Store, talk: TalkId, who: &str) -> Participant {
    let p = participant(talk, &agent(who));
    apply(store, ChangeSetBuilder::new().insert_participant(&p).build(), "adding a participant").await;
    read_participant(store, &p).await
}

/// Ends a record: one event.
async fn end_member(store: &dyn Store, record: &Participant, reason: LeftReason) -> Participant {
    let left = ended(record, reason, at(1));
    apply(store, ChangeSetBuilder::new().end_participant(&left).build(), "ending a participant record").await;
    read_participant(store, record).await
}

fn summary(spelling: &str, count: u32, agents: &[&str]) -> ReactionSummary {
    ReactionSummary { emoji: emoji(spelling), count, agent_ids: agents.iter().map(|a| agent(a)).collect() }
}

fn reactor_names(summary: &ReactionSummary) -> Vec<&str> {
    summary.agent_ids.iter().map(AgentId::as_str).collect()
}

/// The direction of a list: which way its `seq` cursor moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Oldest first: pages continue with `seq > after`.
    Ascending,
    /// Newest first: pages continue with `seq < before`.
    Descending,
}

/// Reads a list page by page, each page continuing from the key of the
/// previous page's last item, until an empty page. Checks that every page
/// has at most `size` items and that every key moves strictly past the
/// cursor in the list's order, so a store that repeats items fails here
/// instead of paging forever.
async fn read_pages<T, F, Fut>(what: &str, order: Order, size: usize, key: fn(&T) -> u64, fetch: F) -> Vec<T>
where
    F: Fn(Option<u64>, usize) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor, size).await;
        assert!(page.len() <= size, "{what}: a page of limit {size} had {} items", page.len());
        let mut previous = cursor;
        for item in &page {
            let next = key(item);
            if let Some(previous) = previous {
                let moved = match order {
                    Order::Ascending => next > previous,
                    Order::Descending => next < previous,
                };
                assert!(
                    moved,
                    "{what}: {order:?} pages went from seq {previous} to {next}: an item repeated or out of order"
                );
            }
            previous = Some(next);
        }
        let Some(last) = page.last() else { break };
        cursor = Some(key(last));
        items.extend(page);
        tokio::task::yield_now().await;
    }
    items
}

// ====================================================== numbering and log

/// An empty store has head 0 and an empty log; the first change set's events
/// are numbered 1, 2, 3… in their order, with their talk and time kept.
pub async fn first_change_set_is_numbered_from_one(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert_eq!(store.head().await.must("head"), 0, "the head of an empty store is 0");
    assert!(all_events(store).await.is_empty(), "the log of an empty store is empty");
    let alice = agent("alice");
    let talk = group_talk(&alice, "Plans");
    let changes = ChangeSetBuilder::new()
        .at(at(7))
        .insert_talk(&talk)
        .insert_participant(&participant(talk.id, &alice))
        .insert_participant(&participant(talk.id, &agent("bob")))
        .build();
    let events = apply(store, changes, "creating a talk").await;
    assert_eq!(seqs(&events), [1, 2, 3], "the first events are numbered from 1, consecutively");
    assert_eq!(types(&events), ["talk_created", "participant_joined", "participant_joined"], "events keep their order");
    assert!(events.iter().all(|e| e.talk_id == talk.id && e.tm_create == at(7)), "events keep their talk and time");
    assert_eq!(store.head().await.must("head"), 3, "the head is the last committed seq");
}

/// `apply` answers the events exactly as the log then keeps them, and each
/// change set continues where the previous one ended.
pub async fn apply_returns_the_events_as_stored(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let alice = agent("alice");
    let talk = group_talk(&alice, "Plans");
    let first = apply(store, create_talk(&talk, &[participant(talk.id, &alice)]), "creating a talk").await;
    let talk = read_talk(store, talk.id).await;
    let (m1, m2) = (message(talk.id, &alice, "one"), message(talk.id, &alice, "two"));
    let changes = ChangeSetBuilder::new()
        .at(at(3))
        .guard_talk_version(&talk)
        .update_talk(&Talk { name: "Renamed".into(), ..touched(&talk, at(3)) })
        .insert_message(&m1)
        .insert_message(&m2)
        .build();
    let second = apply(store, changes, "renaming and sending").await;
    assert_eq!(seqs(&first), [1, 2]);
    assert_eq!(seqs(&second), [3, 4, 5], "the next change set continues at head + 1");
    assert_eq!(types(&second), ["talk_updated", "message_created", "message_created"]);
    let log = all_events(store).await;
    assert_eq!(log, [first, second].concat(), "apply answers the events as the log keeps them");
}

/// A change set refused by a guard or a unique key takes no seq: the next
/// one committed gets head + 1, and the log has no hole.
pub async fn refused_change_set_uses_no_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let stale = Talk { version: group.talk.version + 5, ..group.talk.clone() };
    let m = message(group.talk.id, &agent("alice"), "refused");
    let guarded = ChangeSetBuilder::new().guard_talk_version(&stale).insert_message(&m).build();
    refuse(store, guarded, Conflict::TalkVersion, "a change set with a stale guard").await;
    let sent = send(store, group.talk.id, "alice", "first").await;
    assert_eq!(sent.seq, 4, "the change set after a refused one takes head + 1");
    let duplicate = ChangeSetBuilder::new().insert_message(&Message { text: "again".into(), ..sent.clone() }).build();
    refuse(store, duplicate, Conflict::MessageIdTaken, "a change set with a taken message id").await;
    let next = send(store, group.talk.id, "bob", "second").await;
    assert_eq!(next.seq, 5, "the change set after a refused one takes head + 1");
    assert_log_without_holes(store, "after refused change sets").await;
}

/// An empty change set answers an empty list and changes nothing.
pub async fn empty_change_set_answers_nothing_and_changes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let log = all_events(store).await;
    let events = apply(store, ChangeSet::default(), "an empty change set").await;
    assert!(events.is_empty(), "an empty change set answers no events");
    assert_eq!(store.head().await.must("head"), 2, "an empty change set takes no seq");
    assert_eq!(all_events(store).await, log, "an empty change set leaves the log as it was");
    assert_eq!(read_talk(store, group.talk.id).await, group.talk);
    let m = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(m.seq, 3);
}

/// A change set with writes but no events applies its writes and takes no seq.
pub async fn change_set_without_events_takes_no_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    let events = apply(
        store,
        ChangeSet { writes: vec![Write::IncrementReplyCount(m.id)], ..ChangeSet::default() },
        "a write alone",
    )
    .await;
    assert!(events.is_empty(), "a change set without events answers no events");
    assert_eq!(store.head().await.must("head"), 3, "a change set without events takes no seq");
    assert_eq!(read_message(store, m.id).await.reply_count, 1, "its writes are applied");
    assert_eq!(send(store, group.talk.id, "alice", "next").await.seq, 4);
}

/// `events(after, limit)` answers the events with `seq > after`, ascending,
/// at most `limit`; pages chained on the last seq read the whole log.
pub async fn events_are_read_in_order_after_a_cursor(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    for i in 0..5 {
        send(store, group.talk.id, "alice", &format!("message {i}")).await;
    }
    assert_eq!(store.head().await.must("head"), 8);
    let log = all_events(store).await;
    assert_eq!(seqs(&log), (1..=8).collect::<Vec<_>>());
    assert_eq!(seqs(&store.events(2, 3).await.must("events")), [3, 4, 5]);
    assert_eq!(seqs(&store.events(5, 100).await.must("events")), [6, 7, 8]);
    assert!(store.events(8, 10).await.must("events").is_empty(), "nothing after the head");
    assert!(store.events(100, 10).await.must("events").is_empty(), "nothing after a cursor above the head");
    assert!(store.events(0, 0).await.must("events").is_empty(), "a limit of 0 answers nothing");
    let fetch = |after: Option<u64>, limit| async move { store.events(after.unwrap_or(0), limit).await.must("events") };
    let paged = read_pages("events", Order::Ascending, 3, |e: &Event| e.seq, fetch).await;
    assert_eq!(paged, log, "pages of events read the whole log once, in order");
}

// ========================================================= resolve

/// An inserted talk's `created_seq` is the seq of its `talk_created` event,
/// in the row and in the payloads of its change set.
pub async fn inserted_talk_takes_the_seq_of_its_talk_created_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed_group(store, "alice", &["bob"]).await;
    let carol = agent("carol");
    let talk = group_talk(&carol, "Second");
    let changes = ChangeSetBuilder::new()
        .insert_talk(&talk)
        .insert_participant(&participant(talk.id, &carol))
        .update_talk(&touched(&talk, at(1)))
        .build();
    let events = apply(store, changes, "creating and updating a talk").await;
    assert_eq!(seqs(&events), [4, 5, 6]);
    assert_eq!(read_talk(store, talk.id).await.created_seq, 4, "created_seq is the seq of talk_created");
    for event in &events {
        if let EventData::TalkCreated(t) | EventData::TalkUpdated(t) = &event.data {
            assert_eq!(t.created_seq, 4, "the {} payload carries the talk's created_seq", event.data.type_name());
        }
    }
}

/// An inserted record spans from the first event of its change set
/// (`joined_seq`), is listed by its own `participant_joined` (`seq`), in the
/// row and in the payload.
pub async fn inserted_participant_spans_from_the_first_event_of_its_change_set(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    assert_eq!((group.members[0].joined_seq, group.members[0].seq), (1, 2), "a creator spans from talk_created");
    let bob = participant(group.talk.id, &agent("bob"));
    let system = message(group.talk.id, &agent("alice"), "bob joined");
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .update_talk(&Talk { member_count: 2, ..touched(&group.talk, at(1)) })
        .insert_participant(&bob)
        .insert_message(&system)
        .build();
    let events = apply(store, changes, "adding a participant").await;
    assert_eq!(seqs(&events), [3, 4, 5]);
    let stored = read_participant(store, &bob).await;
    assert_eq!(
        Participant { seq: 4, joined_seq: 3, ..bob.clone() },
        stored,
        "seq is its own event's, joined_seq the first"
    );
    let EventData::ParticipantJoined(payload) = &events[1].data else { panic!("expected participant_joined") };
    assert_eq!((payload.seq, payload.joined_seq), (4, 3), "the participant_joined payload carries both seqs");
}

/// An ended record's `left_seq` is the seq of its own `participant_left`,
/// wherever it stands in the change set; its other seqs stay.
pub async fn ended_participant_takes_the_seq_of_its_participant_left_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let left = ended(bob, LeftReason::Removed, at(9));
    let changes = ChangeSetBuilder::new()
        .guard_active(bob)
        .insert_message(&message(group.talk.id, &agent("alice"), "bob was removed"))
        .end_participant(&left)
        .update_talk(&touched(&group.talk, at(9)))
        .build();
    let events = apply(store, changes, "removing a participant").await;
    assert_eq!(types(&events), ["message_created", "participant_left", "talk_updated"]);
    let stored = read_participant(store, bob).await;
    assert_eq!(stored, Participant { left_seq: Some(5), ..left }, "left_seq is the seq of its own participant_left");
    assert_eq!((stored.joined_seq, stored.seq), (1, 3), "an ended record keeps its joined_seq and seq");
    let EventData::ParticipantLeft(payload) = &events[1].data else { panic!("expected participant_left") };
    assert_eq!(payload.left_seq, Some(5), "the participant_left payload carries left_seq");
}

/// An inserted message's `seq` is the seq of its `message_created` event, in
/// the row and in every payload of its change set.
pub async fn inserted_message_takes_the_seq_of_its_message_created_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let alice = agent("alice");
    let (m1, m2) = (message(group.talk.id, &alice, "one"), message(group.talk.id, &alice, "two"));
    let changes = ChangeSetBuilder::new()
        .insert_message(&m1)
        .insert_message(&m2)
        .update_message(&edited(&m1, "one!", at(1)))
        .build();
    let events = apply(store, changes, "sending two messages").await;
    assert_eq!(seqs(&events), [3, 4, 5]);
    assert_eq!(read_message(store, m1.id).await.seq, 3);
    assert_eq!(read_message(store, m2.id).await.seq, 4);
    for event in &events {
        if let EventData::MessageCreated(m) | EventData::MessageUpdated(m) = &event.data {
            let expected = if m.id == m1.id { 3 } else { 4 };
            assert_eq!(m.seq, expected, "the {} payload carries the message's seq", event.data.type_name());
        }
    }
}

/// An inserted reaction's `seq` is the seq of its `reaction_added` event.
pub async fn inserted_reaction_takes_the_seq_of_its_reaction_added_event(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let thumbs = emoji("thumbsup");
    let (r1, r2) = (reaction(m.id, &thumbs, &agent("alice"), at(1)), reaction(m.id, &thumbs, &agent("bob"), at(1)));
    let changes = ChangeSetBuilder::new().insert_reaction(m.talk_id, &r1).insert_reaction(m.talk_id, &r2).build();
    let events = apply(store, changes, "adding two reactions").await;
    assert_eq!(seqs(&events), [5, 6]);
    assert_eq!(read_reaction(store, &r1).await, Reaction { seq: 5, ..r1 });
    assert_eq!(read_reaction(store, &r2).await, Reaction { seq: 6, ..r2 });
}

/// A change set that inserts a row without the event that numbers it (see
/// `ChangeSet::resolve`) is refused with `StoreError::Backend`, applies
/// nothing and takes no `seq`; the next change set is numbered on.
pub async fn inserted_row_without_its_event_is_refused_whole(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let head = store.head().await.must("head");
    let alice = agent("alice");
    let other = group_talk(&alice, "unnumbered");
    let unnumbered = [
        Write::InsertTalk(other.clone()),
        Write::InsertParticipant(participant(group.talk.id, &agent("carol"))),
        Write::InsertMessage(message(group.talk.id, &alice, "no event")),
        Write::InsertReaction(reaction(m.id, &emoji("tada"), &alice, at(1))),
    ];
    for write in unnumbered {
        // A numbered write first: it must not stay behind either.
        let fine = message(group.talk.id, &alice, "numbered");
        let mut changes = ChangeSetBuilder::new().insert_message(&fine).build();
        changes.writes.push(write.clone());
        let refused = store.apply(changes).await;
        assert!(matches!(refused, Err(StoreError::Backend(_))), "{write:?} without its event: {refused:?}");
        assert_eq!(store.message(fine.id, 0).await.must("message"), None, "nothing of a refused change set stays");
        assert_eq!(store.head().await.must("head"), head, "a refused change set takes no seq");
    }
    assert_eq!(store.talk(other.id).await.must("talk"), None);
    assert_eq!(read_message(store, m.id).await.reactions, Vec::new());
    let next = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(next.seq, head + 1, "the next change set is numbered on");
}

// ============================================================== guards

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

// ========================================================== unique keys

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

// ============================================================ row writes

/// `UpdateTalk` replaces everything but `id`, `kind`, `direct_pair`,
/// `creator_id`, `created_seq` and `tm_create`.
pub async fn update_talk_replaces_all_but_the_identity_of_the_talk(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let pair = AgentPair::new(agent("x"), agent("y"));
    let update = Talk {
        id: group.talk.id,
        kind: TalkKind::Direct,
        direct_pair: pair.clone(),
        name: "New name".into(),
        detail: "New detail".into(),
        status: TalkStatus::Closed,
        creator_id: agent("mallory"),
        member_count: 7,
        version: 9,
        created_seq: 99,
        tm_create: at(100),
        tm_update: at(101),
        tm_close: Some(at(102)),
    };
    apply(store, ChangeSetBuilder::new().update_talk(&update).build(), "an update of every field").await;
    let expected = Talk {
        id: group.talk.id,
        kind: group.talk.kind,
        direct_pair: None,
        creator_id: group.talk.creator_id.clone(),
        created_seq: group.talk.created_seq,
        tm_create: group.talk.tm_create,
        ..update
    };
    assert_eq!(read_talk(store, group.talk.id).await, expected);
    let pair = pair.unwrap_or_else(|| panic!("two agents"));
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none(), "an update does not give a talk a pair");
}

/// `UpdateParticipant` replaces only status, reason, `left_seq` and `tm_left`.
pub async fn update_participant_replaces_only_how_the_record_ended(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let bob = &group.members[1];
    let update = Participant {
        id: bob.id,
        talk_id: talk_id(),
        agent_id: agent("mallory"),
        status: ParticipantStatus::Left,
        left_reason: Some(LeftReason::Removed),
        seq: 99,
        joined_seq: 98,
        left_seq: None,
        tm_joined: at(100),
        tm_left: Some(at(101)),
    };
    let events =
        apply(store, ChangeSetBuilder::new().end_participant(&update).build(), "an update of every field").await;
    let expected = Participant {
        status: ParticipantStatus::Left,
        left_reason: Some(LeftReason::Removed),
        left_seq: Some(events[0].seq),
        tm_left: Some(at(101)),
        ..bob.clone()
    };
    assert_eq!(read_participant(store, bob).await, expected);
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [expected], "the record stays bob's, in its talk");
    assert!(store.agent_records(group.talk.id, &agent("mallory")).await.must("agent_records").is_empty());
}

/// `UpdateMessage` replaces only `text`, `medias`, `version`, `tm_update`,
/// `tm_edit`, `tm_delete`; the counters the store keeps stay as they are.
pub async fn update_message_replaces_only_the_messages_own_fields(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let original = Message { request_digest: Some("digest".into()), ..message(group.talk.id, &agent("alice"), "v1") };
    apply(store, ChangeSetBuilder::new().insert_message(&original).build(), "send").await;
    let m = read_message(store, original.id).await;
    send_reply(store, &m, "bob", "a reply").await;
    react(store, &m, "👍", "bob", at(1)).await;
    let m = read_message(store, m.id).await;
    let update = Message {
        id: m.id,
        talk_id: talk_id(),
        parent_id: Some(message_id()),
        kind: MessageKind::System,
        agent_id: Some(agent("mallory")),
        text: "v2".into(),
        medias: vec![media("photo.png")],
        system: Some(SystemInfo {
            event: SystemEvent::TalkRenamed,
            agent_id: agent("mallory"),
            actor_id: None,
            name: Some("x".into()),
        }),
        reactions: Vec::new(),
        reply_count: 42,
        version: 5,
        seq: 999,
        request_digest: None,
        tm_create: at(50),
        tm_update: at(51),
        tm_edit: Some(at(52)),
        tm_delete: Some(at(53)),
    };
    apply(store, ChangeSetBuilder::new().update_message(&update).build(), "an update of every field").await;
    let expected = Message {
        text: "v2".into(),
        medias: vec![media("photo.png")],
        version: 5,
        tm_update: at(51),
        tm_edit: Some(at(52)),
        tm_delete: Some(at(53)),
        ..m.clone()
    };
    assert_eq!(read_message(store, m.id).await, expected, "only the message's own fields were replaced");
    assert_eq!(expected.reply_count, 1);
    assert_eq!(expected.reactions, [summary("👍", 1, &["bob"])]);
    let listed = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(listed, [expected], "the message stays where it was listed");
}

/// `InsertMessage` stores the message as given, but with empty reactions and
/// a zero reply count whatever the value says.
pub async fn inserted_message_is_stored_as_given_with_empty_counters(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let info = SystemInfo {
        event: SystemEvent::ParticipantJoined,
        agent_id: agent("alice"),
        actor_id: Some(agent("alice")),
        name: None,
    };
    let system = Message {
        kind: MessageKind::System,
        agent_id: None,
        system: Some(info),
        ..message(group.talk.id, &agent("alice"), "alice joined the talk.")
    };
    let normal = Message {
        medias: vec![media("a.png"), media("b.png")],
        request_digest: Some("abc".into()),
        reactions: vec![summary("👍", 3, &["x", "y", "z"])],
        reply_count: 9,
        version: 3,
        tm_create: at(1),
        tm_update: at(2),
        tm_edit: Some(at(3)),
        ..message(group.talk.id, &agent("alice"), "with everything")
    };
    for (m, seq) in [(system, 3), (normal, 4)] {
        apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "send").await;
        let expected = Message { reactions: Vec::new(), reply_count: 0, seq, ..m.clone() };
        assert_eq!(read_message(store, m.id).await, expected, "a message is stored as given, counters empty");
    }
}

/// `IncrementReplyCount` adds one per write, several in one change set too.
pub async fn increment_reply_count_adds_one_per_write(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    for i in 0..3 {
        send_reply(store, &m, "bob", &format!("reply {i}")).await;
    }
    assert_eq!(read_message(store, m.id).await.reply_count, 3);
    let twice = ChangeSet {
        writes: vec![Write::IncrementReplyCount(m.id), Write::IncrementReplyCount(m.id)],
        ..ChangeSet::default()
    };
    apply(store, twice, "two increments in one change set").await;
    assert_eq!(read_message(store, m.id).await.reply_count, 5);
    let other = send(store, group.talk.id, "alice", "no replies").await;
    assert_eq!(read_message(store, other.id).await.reply_count, 0, "other messages keep their count");
}

/// `SetMessageVersion` sets the version and leaves every other field, the
/// reactions and the reply count as they are.
pub async fn set_message_version_moves_only_the_version(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let m = send(store, group.talk.id, "alice", "parent").await;
    send_reply(store, &m, "bob", "reply").await;
    react(store, &m, "👍", "bob", at(5)).await;
    let before = read_message(store, m.id).await;
    let set = Write::SetMessageVersion { message_id: m.id, version: before.version + 3 };
    apply(store, ChangeSetBuilder::new().write(set).build(), "set the version").await;
    let after = read_message(store, m.id).await;
    assert_eq!(after, Message { version: before.version + 3, ..before }, "only the version moved");
}

// ============================================================ reactions

/// Each emoji's summary counts its reactions exactly and lists its reactors
/// in the order they reacted, in `message`, `messages` and `replies` alike.
pub async fn reaction_summaries_count_and_list_reactors_in_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol", "dave"]).await;
    let m = send(store, group.talk.id, "alice", "top").await;
    let r = send_reply(store, &m, "bob", "reply").await;
    for target in [&m, &r] {
        for who in ["bob", "carol", "alice"] {
            react(store, target, "👍", who, at(1)).await;
        }
        react(store, target, "heart", "dave", at(2)).await;
    }
    let expected = [summary("👍", 3, &["bob", "carol", "alice"]), summary("heart", 1, &["dave"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected);
    let top = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(top[0].reactions, expected, "messages answers each message as message does");
    let replies = store.replies(m.id, None, ALL, LISTED).await.must("replies");
    assert_eq!(replies[0].reactions, expected, "replies answers each message as message does");
}

/// `reactors_listed` caps the agents listed per emoji (the first ones); the
/// count stays exact.
pub async fn reaction_summaries_list_at_most_reactors_listed(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "popular").await;
    let reply_to = send_reply(store, &m, "alice", "reply").await;
    let agents = ["a1", "a2", "a3", "a4", "a5"];
    for who in agents {
        react(store, &m, "👍", who, at(1)).await;
        react(store, &reply_to, "👍", who, at(1)).await;
    }
    react(store, &m, "tada", "a9", at(2)).await;
    let two = store.message(m.id, 2).await.must("message").unwrap_or_else(|| panic!("message"));
    assert_eq!(two.reactions, [summary("👍", 5, &["a1", "a2"]), summary("tada", 1, &["a9"])]);
    let none = store.message(m.id, 0).await.must("message").unwrap_or_else(|| panic!("message"));
    assert_eq!(none.reactions, [summary("👍", 5, &[]), summary("tada", 1, &[])], "0 lists no agent, counts stay");
    let listed = store.messages(group.talk.id, true, None, ALL, 3).await.must("messages");
    for each in &listed {
        assert_eq!(reactor_names(&each.reactions[0]), ["a1", "a2", "a3"], "messages caps the listed reactors");
        assert_eq!(each.reactions[0].count, 5);
    }
    let replies = store.replies(m.id, None, ALL, 1).await.must("replies");
    assert_eq!(replies[0].reactions, [summary("👍", 5, &["a1"])], "replies caps the listed reactors");
}

/// Emoji are listed in the order of their first use; later reactions and
/// the removal of a reaction that is not an emoji's last keep that order.
pub async fn emoji_keep_the_order_of_their_first_use(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let first = react(store, &m, "👍", "a", at(1)).await;
    react(store, &m, "heart", "b", at(2)).await;
    react(store, &m, "tada", "c", at(3)).await;
    react(store, &m, "👍", "d", at(4)).await;
    react(store, &m, "tada", "e", at(5)).await;
    react(store, &m, "heart", "f", at(6)).await;
    let expected = [summary("👍", 2, &["a", "d"]), summary("heart", 2, &["b", "f"]), summary("tada", 2, &["c", "e"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected);
    unreact(store, &m, &first, at(7)).await;
    let expected = [summary("👍", 1, &["d"]), summary("heart", 2, &["b", "f"]), summary("tada", 2, &["c", "e"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "an emoji with reactions left keeps its place");
}

/// An emoji whose last reaction is removed loses its place; a later reaction
/// with it takes the last place.
pub async fn emoji_whose_last_reaction_goes_loses_its_place(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let thumbs = react(store, &m, "👍", "a", at(1)).await;
    react(store, &m, "heart", "b", at(2)).await;
    react(store, &m, "tada", "c", at(3)).await;
    unreact(store, &m, &thumbs, at(4)).await;
    assert_eq!(read_message(store, m.id).await.reactions, [summary("heart", 1, &["b"]), summary("tada", 1, &["c"])]);
    assert!(store.reactions(m.id, &emoji("👍"), None, ALL).await.must("reactions").is_empty());
    react(store, &m, "👍", "d", at(5)).await;
    let expected = [summary("heart", 1, &["b"]), summary("tada", 1, &["c"]), summary("👍", 1, &["d"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "the emoji used again takes the last place");
}

/// Inserting a reaction sets the message's `tm_update` to the reaction's
/// `tm_create`; deleting one sets it to the given time; neither moves the
/// message's version.
pub async fn reaction_changes_set_the_message_tm_update(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    assert_eq!(m.tm_update, epoch());
    let first = react(store, &m, "👍", "a", at(10)).await;
    assert_eq!(read_message(store, m.id).await.tm_update, at(10));
    react(store, &m, "👍", "b", at(20)).await;
    assert_eq!(read_message(store, m.id).await.tm_update, at(20));
    unreact(store, &m, &first, at(30)).await;
    let stored = read_message(store, m.id).await;
    assert_eq!((stored.tm_update, stored.version), (at(30), m.version), "the store never moves a message's version");
}

/// `DeleteAllReactions` removes every reaction of one message (none is
/// fine), and frees their keys; other messages keep theirs.
pub async fn delete_all_reactions_removes_every_reaction_of_one_message(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "cleared").await;
    let kept = send(store, group.talk.id, "alice", "kept").await;
    for target in [&m, &kept] {
        react(store, target, "👍", "a", at(1)).await;
        react(store, target, "👍", "b", at(1)).await;
        react(store, target, "heart", "a", at(1)).await;
    }
    let all = ChangeSet { writes: vec![Write::DeleteAllReactions(m.id)], ..ChangeSet::default() };
    apply(store, all.clone(), "deleting every reaction").await;
    assert!(read_message(store, m.id).await.reactions.is_empty());
    assert!(store.reaction(m.id, &emoji("👍"), &agent("a")).await.must("reaction").is_none());
    assert!(store.reactions(m.id, &emoji("heart"), None, ALL).await.must("reactions").is_empty());
    assert_eq!(read_message(store, kept.id).await.reactions.len(), 2, "another message keeps its reactions");
    apply(store, all, "deleting every reaction of a message that has none").await;
    react(store, &m, "👍", "a", at(2)).await;
    assert_eq!(read_message(store, m.id).await.reactions, [summary("👍", 1, &["a"])]);
    let again = reaction(m.id, &emoji("👍"), &agent("a"), at(3));
    let changes = ChangeSetBuilder::new()
        .write(Write::DeleteAllReactions(m.id))
        .insert_reaction(m.talk_id, &again)
        .insert_reaction(m.talk_id, &reaction(m.id, &emoji("tada"), &agent("b"), at(3)))
        .build();
    apply(store, changes, "deleting every reaction, then reacting again in the same change set").await;
    let expected = [summary("👍", 1, &["a"]), summary("tada", 1, &["b"])];
    assert_eq!(read_message(store, m.id).await.reactions, expected, "the keys were freed for the later writes");
    assert_eq!(read_reaction(store, &again).await.tm_create, at(3));
}

/// `reaction` answers one reaction as stored, and `None` for any other key.
pub async fn reaction_reads_one_reaction_or_none(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let other = send(store, group.talk.id, "alice", "other").await;
    let r = react(store, &m, "👍", "bob", at(5)).await;
    assert_eq!(r, Reaction { message_id: m.id, emoji: emoji("👍"), agent_id: agent("bob"), seq: 5, tm_create: at(5) });
    let (thumbs, bob) = (emoji("👍"), agent("bob"));
    assert!(store.reaction(m.id, &emoji("heart"), &bob).await.must("reaction").is_none(), "another emoji");
    assert!(store.reaction(m.id, &thumbs, &agent("carol")).await.must("reaction").is_none(), "another agent");
    assert!(store.reaction(other.id, &thumbs, &bob).await.must("reaction").is_none(), "another message");
}

/// `reactions` lists one emoji's reactions in the order they were added,
/// keyset on `seq > after`, at most `limit`.
pub async fn reactions_are_listed_in_the_order_added_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    let order = ["g", "c", "e", "a", "f", "b", "d"];
    for (i, who) in order.iter().enumerate() {
        react(store, &m, "👍", who, at(i as i64)).await;
        react(store, &m, "heart", who, at(i as i64)).await;
    }
    let thumbs = emoji("👍");
    let all = store.reactions(m.id, &thumbs, None, ALL).await.must("reactions");
    assert_eq!(ids(&all, |r| r.agent_id.as_str().to_owned()), order, "reactions are in the order they were added");
    assert!(all.iter().all(|r| r.emoji == thumbs && r.message_id == m.id));
    let fetch = |after, limit| async move { store.reactions(m.id, &thumbs, after, limit).await.must("reactions") };
    let paged = read_pages("reactions", Order::Ascending, 3, |r: &Reaction| r.seq, fetch).await;
    assert_eq!(paged, all, "pages of reactions read the list once, in order");
    assert!(store.reactions(m.id, &thumbs, None, 0).await.must("reactions").is_empty());
    let last = all.last().map(|r| r.seq);
    assert!(store.reactions(m.id, &thumbs, last, ALL).await.must("reactions").is_empty());
}

// ============================================================ redaction

/// `RedactMessage` removes the message's content from every event already in
/// the log; other messages' events keep theirs.
pub async fn redact_message_removes_its_content_from_earlier_events(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let original = Message { medias: vec![media("secret.png")], ..message(group.talk.id, &agent("alice"), "secret") };
    apply(store, ChangeSetBuilder::new().insert_message(&original).build(), "send").await;
    react(store, &read_message(store, original.id).await, "👍", "bob", at(1)).await;
    let m = read_message(store, original.id).await;
    apply(store, ChangeSetBuilder::new().update_message(&edited(&m, "still secret", at(2))).build(), "edit").await;
    let other = send(store, group.talk.id, "bob", "not secret").await;
    let answer = send_reply(store, &m, "bob", "a reply").await;
    let gone = tombstone(&read_message(store, m.id).await, at(3));
    apply(store, ChangeSetBuilder::new().delete_message(&gone).build(), "delete").await;
    let payloads = |events: &[Event]| -> Vec<Message> {
        events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::MessageCreated(p) | EventData::MessageUpdated(p) | EventData::MessageDeleted(p) => {
                    Some(p.clone())
                }
                _ => None,
            })
            .collect()
    };
    let log = all_events(store).await;
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    for (what, events) in [("events", &log), ("agent_events", &seen)] {
        let messages = payloads(events);
        let of_m: Vec<&Message> = messages.iter().filter(|p| p.id == m.id).collect();
        assert_eq!(of_m.len(), 3, "{what}: message_created, message_updated and message_deleted of the message");
        for payload in of_m {
            assert!(
                payload.text.is_empty() && payload.medias.is_empty() && payload.reactions.is_empty(),
                "{what}: a payload of the deleted message kept content: {payload:?}"
            );
        }
        let texts: Vec<&str> = messages.iter().filter(|p| p.id != m.id).map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["not secret", "a reply"], "{what}: other messages keep their content");
    }
    assert_eq!(read_message(store, other.id).await.text, "not secret");
    assert_eq!(read_message(store, answer.id).await.parent_id, Some(m.id), "replies keep pointing at the tombstone");
    let stored = read_message(store, m.id).await;
    assert!(stored.text.is_empty() && stored.medias.is_empty() && stored.reactions.is_empty());
}

// ================================================================= reads

/// Every read answers `None` or an empty list for what does not exist.
pub async fn reads_of_missing_rows_answer_none_or_empty(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (nobody, thumbs) = (agent("nobody"), emoji("👍"));
    let pair = AgentPair::new(agent("a"), agent("b")).unwrap_or_else(|| panic!("two agents"));
    assert_eq!(store.head().await.must("head"), 0);
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 0);
    assert!(store.talk(talk_id()).await.must("talk").is_none());
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none());
    assert!(store.talks_of_agent(&nobody, None, None, ALL).await.must("talks_of_agent").is_empty());
    assert!(store.participant(participant_id()).await.must("participant").is_none());
    assert!(store.agent_records(talk_id(), &nobody).await.must("agent_records").is_empty());
    assert!(store.agent_memberships(&nobody, 0).await.must("agent_memberships").is_empty());
    assert!(store.participants(talk_id(), None, None, ALL).await.must("participants").is_empty());
    assert!(store.message(message_id(), LISTED).await.must("message").is_none());
    assert!(store.messages(talk_id(), true, None, ALL, LISTED).await.must("messages").is_empty());
    assert!(store.replies(message_id(), None, ALL, LISTED).await.must("replies").is_empty());
    assert!(store.reaction(message_id(), &thumbs, &nobody).await.must("reaction").is_none());
    assert!(store.reactions(message_id(), &thumbs, None, ALL).await.must("reactions").is_empty());
    assert!(store.events(0, ALL).await.must("events").is_empty());
    assert!(store.agent_events(&nobody, None, 0, ALL).await.must("agent_events").is_empty());
    let group = seed_group(store, "alice", &[]).await;
    assert!(store.agent_records(group.talk.id, &nobody).await.must("agent_records").is_empty());
    assert!(store.messages(group.talk.id, true, None, ALL, LISTED).await.must("messages").is_empty());
    assert!(store.agent_events(&nobody, Some(group.talk.id), 0, ALL).await.must("agent_events").is_empty());
}

/// `direct_talk` finds a direct talk by its pair, whichever agent is named
/// first; group talks are never found by it.
pub async fn direct_talk_is_found_by_its_pair(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (alice, bob) = (agent("alice"), agent("bob"));
    let talk = direct_talk(&bob, &alice);
    apply(store, create_talk(&talk, &[participant(talk.id, &bob), participant(talk.id, &alice)]), "direct").await;
    seed_group(store, "alice", &["carol"]).await;
    let stored = read_talk(store, talk.id).await;
    for pair in [AgentPair::new(alice.clone(), bob.clone()), AgentPair::new(bob.clone(), alice.clone())] {
        let pair = pair.unwrap_or_else(|| panic!("two agents"));
        assert_eq!(store.direct_talk(&pair).await.must("direct_talk"), Some(stored.clone()));
    }
    let pair = AgentPair::new(alice, agent("carol")).unwrap_or_else(|| panic!("two agents"));
    assert!(store.direct_talk(&pair).await.must("direct_talk").is_none(), "a group talk has no pair");
}

/// `talks_of_agent` lists newest first (descending `created_seq`), keyset on
/// `created_seq < before`, at most `limit`.
pub async fn talks_of_agent_are_newest_first_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mut created = Vec::new();
    for i in 0..7 {
        let others: &[&str] = if i % 2 == 0 { &["bob"] } else { &[] };
        created.push(seed_group(store, "alice", others).await.talk);
        seed_group(store, "carol", &[]).await;
    }
    let alice = agent("alice");
    let all = store.talks_of_agent(&alice, None, None, ALL).await.must("talks_of_agent");
    let expected: Vec<Talk> = created.iter().rev().cloned().collect();
    assert_eq!(all, expected, "talks are newest first, each as stored");
    let bob_talks = store.talks_of_agent(&agent("bob"), None, None, ALL).await.must("talks_of_agent");
    assert_eq!(ids(&bob_talks, |t| t.id), [created[6].id, created[4].id, created[2].id, created[0].id]);
    let fetch =
        |before, limit| async move { store.talks_of_agent(&agent("alice"), None, before, limit).await.must("talks") };
    let paged = read_pages("talks_of_agent", Order::Descending, 3, |t: &Talk| t.created_seq, fetch).await;
    assert_eq!(paged, all, "pages of talks read the list once, in order");
    assert!(store.talks_of_agent(&alice, None, None, 0).await.must("talks_of_agent").is_empty());
    let oldest = Some(created[0].created_seq);
    assert!(store.talks_of_agent(&alice, None, oldest, ALL).await.must("talks_of_agent").is_empty());
}

/// `talks_of_agent` with a status lists only the talks in that status, with
/// the same order and keyset.
pub async fn talks_of_agent_filter_by_status(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mut talks = Vec::new();
    for i in 0..6 {
        let group = seed_group(store, "alice", &[]).await;
        let talk = if i % 3 == 0 {
            let shut = closed(&group.talk, at(i));
            apply(store, ChangeSetBuilder::new().close_talk(&shut).build(), "close").await;
            read_talk(store, group.talk.id).await
        } else {
            group.talk
        };
        talks.push(talk);
    }
    talks.reverse();
    let alice = agent("alice");
    for status in [TalkStatus::Active, TalkStatus::Closed] {
        let expected: Vec<Talk> = talks.iter().filter(|t| t.status == status).cloned().collect();
        let listed = store.talks_of_agent(&alice, Some(status), None, ALL).await.must("talks_of_agent");
        assert_eq!(listed, expected, "the {status:?} talks, newest first");
        let fetch = |before, limit| async move {
            store.talks_of_agent(&agent("alice"), Some(status), before, limit).await.must("talks")
        };
        let paged = read_pages("talks_of_agent by status", Order::Descending, 1, |t: &Talk| t.created_seq, fetch).await;
        assert_eq!(paged, expected, "pages of {status:?} talks read the list once");
    }
    assert_eq!(store.talks_of_agent(&alice, None, None, ALL).await.must("talks_of_agent"), talks);
}

/// `talks_of_agent` lists a talk only while the agent has an active record
/// in it: not after the record ends, again once the agent is back.
pub async fn talks_of_agent_list_only_talks_with_an_active_record(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let first = seed_group(store, "alice", &["bob"]).await;
    let second = seed_group(store, "alice", &["bob"]).await;
    let bob = agent("bob");
    let listed = |status| async move {
        let talks = store.talks_of_agent(&agent("bob"), status, None, ALL).await.must("talks_of_agent");
        ids(&talks, |t| t.id)
    };
    assert_eq!(listed(None).await, [second.talk.id, first.talk.id]);
    end_member(store, &first.members[1], LeftReason::Removed).await;
    assert_eq!(listed(None).await, [second.talk.id], "a talk whose record of bob ended is not listed");
    assert_eq!(listed(Some(TalkStatus::Active)).await, [second.talk.id]);
    add_member(store, first.talk.id, "bob").await;
    assert_eq!(listed(None).await, [second.talk.id, first.talk.id], "a talk bob is back in is listed, in its place");
    end_member(store, &second.members[1], LeftReason::Left).await;
    let records = store.agent_records(first.talk.id, &bob).await.must("agent_records");
    end_member(store, &records[1], LeftReason::Left).await;
    assert!(listed(None).await.is_empty(), "an agent with only ended records is in no talk");
    let alice = store.talks_of_agent(&agent("alice"), None, None, ALL).await.must("talks_of_agent");
    assert_eq!(alice.len(), 2, "other agents' listings are untouched");
}

/// `participants` lists a talk's records in the order they joined
/// (ascending `seq`), with a status filter, keyset on `seq > after`.
pub async fn participants_are_listed_in_join_order_with_status_filter_and_keyset(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol", "dave"]).await;
    let other = seed_group(store, "erin", &["bob"]).await;
    end_member(store, &group.members[1], LeftReason::Left).await;
    let bob_again = add_member(store, group.talk.id, "bob").await;
    add_member(store, other.talk.id, "frank").await;
    let mut all: Vec<Participant> = Vec::new();
    for record in group.members.iter().chain([&bob_again]) {
        all.push(read_participant(store, record).await);
    }
    let listed = store.participants(group.talk.id, None, None, ALL).await.must("participants");
    assert_eq!(listed, all, "every record, in join order, as stored");
    for status in [ParticipantStatus::Active, ParticipantStatus::Left] {
        let expected: Vec<Participant> = all.iter().filter(|p| p.status == status).cloned().collect();
        let listed = store.participants(group.talk.id, Some(status), None, ALL).await.must("participants");
        assert_eq!(listed, expected, "the {status:?} records, in join order");
    }
    let talk = group.talk.id;
    let fetch = |after, limit| async move { store.participants(talk, None, after, limit).await.must("participants") };
    let paged = read_pages("participants", Order::Ascending, 2, |p: &Participant| p.seq, fetch).await;
    assert_eq!(paged, all, "pages of participants read the list once, in order");
    let active_after = store
        .participants(group.talk.id, Some(ParticipantStatus::Active), Some(all[1].seq), 2)
        .await
        .must("participants");
    assert_eq!(ids(&active_after, |p| p.id), [all[2].id, all[3].id], "the filter applies after the cursor");
    assert!(store.participants(group.talk.id, None, None, 0).await.must("participants").is_empty());
}

/// `agent_records` lists every record of one agent in one talk, active or
/// not, in join order; no other agent's, no other talk's.
pub async fn agent_records_list_every_record_of_the_agent_in_join_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol"]).await;
    let other = seed_group(store, "bob", &[]).await;
    let first = end_member(store, &group.members[1], LeftReason::Left).await;
    let second = add_member(store, group.talk.id, "bob").await;
    let second = end_member(store, &second, LeftReason::Removed).await;
    let third = add_member(store, group.talk.id, "bob").await;
    let records = store.agent_records(group.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [first, second, third], "every record of bob in the talk, in join order");
    let records = store.agent_records(other.talk.id, &agent("bob")).await.must("agent_records");
    assert_eq!(records, [other.members[0].clone()]);
}

/// `talk_and_records` answers what `talk` and `agent_records` answer, read
/// together: the talk with every record of the agent in it (none for an
/// agent never in it), and `None` for a talk that does not exist.
pub async fn talk_and_records_answer_the_talk_with_the_agents_records(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let first = end_member(store, &group.members[1], LeftReason::Left).await;
    let second = add_member(store, group.talk.id, "bob").await;
    let talk = read_talk(store, group.talk.id).await;
    let found = store.talk_and_records(group.talk.id, &agent("bob")).await.must("talk_and_records");
    let found = found.unwrap_or_else(|| panic!("the talk exists"));
    assert_eq!(found.talk, talk, "the talk as `talk` reads it");
    assert_eq!(found.records, [first, second], "every record of bob in the talk, in join order");
    let stranger = store.talk_and_records(group.talk.id, &agent("carol")).await.must("talk_and_records");
    assert_eq!(stranger.map(|f| f.records), Some(Vec::new()), "a stranger sees the talk with no records");
    let missing = store.talk_and_records(talk_id(), &agent("bob")).await.must("talk_and_records");
    assert_eq!(missing, None, "a missing talk");
}

/// `message_and_talk` answers what `message` answers (reactions and reply
/// count current, at most `reactors_listed` reactors) with what
/// `talk_and_records` answers for its talk; `None` for a missing message.
pub async fn message_and_talk_answer_the_message_with_its_talk_and_the_agents_records(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob", "carol"]).await;
    let m = send(store, group.talk.id, "alice", "hello").await;
    send_reply(store, &m, "bob", "hi").await;
    react(store, &m, "👍", "bob", at(10)).await;
    react(store, &m, "👍", "carol", at(11)).await;
    let found = store.message_and_talk(m.id, &agent("bob"), 1).await.must("message_and_talk");
    let (message, talk) = found.unwrap_or_else(|| panic!("the message exists"));
    assert_eq!(message, store.message(m.id, 1).await.must("message").unwrap_or_else(|| panic!("the message")));
    assert_eq!(message.reply_count, 1, "the reply count is current");
    assert_eq!(message.reactions, [summary("👍", 2, &["bob"])], "reactions current, one reactor listed");
    assert_eq!(talk.talk, read_talk(store, group.talk.id).await, "its talk");
    assert_eq!(talk.records, [group.members[1].clone()], "bob's records in its talk");
    let stranger = store.message_and_talk(m.id, &agent("dave"), 1).await.must("message_and_talk");
    assert_eq!(stranger.map(|(_, t)| t.records), Some(Vec::new()), "a stranger gets no records");
    let missing = store.message_and_talk(message_id(), &agent("bob"), 1).await.must("message_and_talk");
    assert_eq!(missing, None, "a missing message");
}

/// `agent_memberships` lists an agent's records in every talk that are
/// active or ended after `after` (`left_seq > after`), ascending `seq`.
pub async fn agent_memberships_list_active_records_and_those_ended_after_a_seq(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &["bob"]).await;
    let t2 = seed_group(store, "carol", &["bob"]).await;
    let t3 = seed_group(store, "dave", &["bob"]).await;
    seed_group(store, "erin", &[]).await;
    let ended_t2 = end_member(store, &t2.members[1], LeftReason::Left).await;
    let ended_t3 = end_member(store, &t3.members[1], LeftReason::Removed).await;
    let back_t3 = add_member(store, t3.talk.id, "bob").await;
    let bob = agent("bob");
    let (left2, left3) = (ended_t2.left_seq.unwrap_or(0), ended_t3.left_seq.unwrap_or(0));
    let memberships = |after| async move { store.agent_memberships(&agent("bob"), after).await.must("memberships") };
    let all = [t1.members[1].clone(), ended_t2.clone(), ended_t3.clone(), back_t3.clone()];
    assert_eq!(memberships(0).await, all, "every record active or ended after 0, ascending seq");
    assert_eq!(memberships(left2 - 1).await, all, "a record that ended after the cursor is listed");
    assert_eq!(memberships(left2).await, [t1.members[1].clone(), ended_t3.clone(), back_t3.clone()]);
    assert_eq!(memberships(left3).await, [t1.members[1].clone(), back_t3.clone()], "only active ones remain");
    assert_eq!(store.agent_memberships(&bob, u64::MAX).await.must("memberships"), [t1.members[1].clone(), back_t3]);
}

/// `messages` lists newest first (descending `seq`), top-level only unless
/// `include_replies`, keyset on `seq < before`, at most `limit`.
pub async fn messages_are_newest_first_and_top_level_unless_replies_are_included(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let other = seed_group(store, "carol", &[]).await;
    let m1 = send(store, group.talk.id, "alice", "m1").await;
    send(store, other.talk.id, "carol", "elsewhere").await;
    let m2 = send(store, group.talk.id, "bob", "m2").await;
    let r1 = send_reply(store, &m1, "bob", "r1").await;
    let m3 = send(store, group.talk.id, "alice", "m3").await;
    let r2 = send_reply(store, &m3, "alice", "r2").await;
    let (m1, m3) = (read_message(store, m1.id).await, read_message(store, m3.id).await);
    let top = store.messages(group.talk.id, false, None, ALL, LISTED).await.must("messages");
    assert_eq!(top, [m3.clone(), m2.clone(), m1.clone()], "top-level messages, newest first, as stored");
    let with_replies = store.messages(group.talk.id, true, None, ALL, LISTED).await.must("messages");
    assert_eq!(with_replies, [r2, m3.clone(), r1, m2.clone(), m1.clone()], "all messages, newest first");
    for include_replies in [false, true] {
        let talk = group.talk.id;
        let fetch = |before, limit| async move {
            store.messages(talk, include_replies, before, limit, LISTED).await.must("messages")
        };
        let paged = read_pages("messages", Order::Descending, 2, |m: &Message| m.seq, fetch).await;
        let expected = if include_replies { &with_replies } else { &top };
        assert_eq!(&paged, expected, "pages of messages (replies: {include_replies}) read the list once");
    }
    let before_m2 = store.messages(group.talk.id, false, Some(m2.seq), ALL, LISTED).await.must("messages");
    assert_eq!(before_m2, [m1], "the cursor is exclusive");
    assert!(store.messages(group.talk.id, true, None, 0, LISTED).await.must("messages").is_empty());
}

/// `replies` lists one message's replies oldest first (ascending `seq`),
/// keyset on `seq > after`, at most `limit`.
pub async fn replies_are_oldest_first_with_keyset_pages(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await;
    let parent = send(store, group.talk.id, "alice", "parent").await;
    let other = send(store, group.talk.id, "alice", "other parent").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(send_reply(store, &parent, "bob", &format!("reply {i}")).await);
        send_reply(store, &other, "alice", "noise").await;
    }
    let all = store.replies(parent.id, None, ALL, LISTED).await.must("replies");
    assert_eq!(all, expected, "replies oldest first, as stored");
    let parent_id = parent.id;
    let fetch = |after, limit| async move { store.replies(parent_id, after, limit, LISTED).await.must("replies") };
    let paged = read_pages("replies", Order::Ascending, 2, |m: &Message| m.seq, fetch).await;
    assert_eq!(paged, expected, "pages of replies read the list once, in order");
    assert!(store.replies(parent.id, None, 0, LISTED).await.must("replies").is_empty());
    assert!(store.replies(expected[0].id, None, ALL, LISTED).await.must("replies").is_empty(), "a reply has none");
}

// ====================================================== agent visibility

/// A late joiner sees the events of its talk from the first event of the
/// change set that added it, nothing before.
pub async fn agent_events_of_a_late_joiner_start_at_its_joining_change(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    send(store, group.talk.id, "alice", "before bob").await; // 3
    let bob = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new()
        .guard_talk_version(&group.talk)
        .update_talk(&Talk { member_count: 2, ..touched(&group.talk, at(1)) }) // 4
        .insert_participant(&bob) // 5
        .insert_message(&message(group.talk.id, &agent("alice"), "bob joined")) // 6
        .build();
    apply(store, changes, "adding bob").await;
    send(store, group.talk.id, "alice", "after bob").await; // 7
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&seen), [4, 5, 6, 7], "bob's feed starts with the change that added him");
    let in_talk = store.agent_events(&agent("bob"), Some(group.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(in_talk, seen);
    let alice = store.agent_events(&agent("alice"), None, 0, ALL).await.must("agent_events");
    assert_eq!(alice, all_events(store).await, "the creator sees every event of its talk");
}

/// An ended record's agent sees up to its own `participant_left`, not the
/// events after it, even in the same change set.
pub async fn agent_events_of_an_ended_record_stop_at_its_participant_left(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    send(store, group.talk.id, "bob", "hello").await; // 4
    let left = ended(&group.members[1], LeftReason::Removed, at(1));
    let changes = ChangeSetBuilder::new()
        .insert_message(&message(group.talk.id, &agent("alice"), "bob was removed")) // 5
        .end_participant(&left) // 6
        .update_talk(&touched(&group.talk, at(1))) // 7
        .build();
    apply(store, changes, "removing bob").await;
    send(store, group.talk.id, "alice", "after bob").await; // 8
    let seen = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&seen), [1, 2, 3, 4, 5, 6], "bob sees up to his own participant_left");
    assert_eq!(seen.last().map(|e| e.data.type_name()), Some("participant_left"));
    let alice = store.agent_events(&agent("alice"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&alice), (1..=8).collect::<Vec<_>>());
}

/// An agent added again sees both of its spans, not the gap between them.
pub async fn agent_events_of_a_readded_agent_cover_both_spans_but_not_the_gap(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    send(store, group.talk.id, "alice", "one").await; // 4
    end_member(store, &group.members[1], LeftReason::Left).await; // 5
    send(store, group.talk.id, "alice", "gap 1").await; // 6
    send(store, group.talk.id, "alice", "gap 2").await; // 7
    let talk = read_talk(store, group.talk.id).await;
    let back = participant(group.talk.id, &agent("bob"));
    let changes = ChangeSetBuilder::new()
        .update_talk(&touched(&talk, at(1))) // 8
        .insert_participant(&back) // 9
        .build();
    apply(store, changes, "adding bob again").await;
    send(store, group.talk.id, "alice", "two").await; // 10
    let bob = agent("bob");
    let feed =
        |after, limit| async move { seqs(&store.agent_events(&agent("bob"), None, after, limit).await.must("feed")) };
    assert_eq!(feed(0, ALL).await, [1, 2, 3, 4, 5, 8, 9, 10], "both spans, not the gap");
    assert_eq!(feed(4, ALL).await, [5, 8, 9, 10]);
    assert_eq!(feed(5, ALL).await, [8, 9, 10], "a cursor at the end of the first span resumes at the second");
    assert_eq!(feed(3, 2).await, [4, 5], "at most `limit` events");
    assert_eq!(feed(5, 1).await, [8]);
    let in_talk = store.agent_events(&bob, Some(group.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&in_talk), [1, 2, 3, 4, 5, 8, 9, 10]);
}

/// An agent's feed merges its talks in `seq` order; the talk filter keeps
/// one talk; talks it was never in are never seen.
pub async fn agent_events_filter_by_talk_and_merge_talks_in_seq_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &[]).await;
    let t2 = seed_group(store, "bob", &["alice"]).await;
    let t3 = seed_group(store, "carol", &[]).await;
    for i in 0..4 {
        for talk in [&t1.talk, &t2.talk, &t3.talk] {
            let author = talk.creator_id.as_str().to_owned();
            send(store, talk.id, &author, &format!("message {i}")).await;
        }
    }
    let log = all_events(store).await;
    let of =
        |talks: &[TalkId]| -> Vec<u64> { log.iter().filter(|e| talks.contains(&e.talk_id)).map(|e| e.seq).collect() };
    let alice = agent("alice");
    let feed = store.agent_events(&alice, None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&feed), of(&[t1.talk.id, t2.talk.id]), "alice's two talks, merged in seq order");
    let only_t1 = store.agent_events(&alice, Some(t1.talk.id), 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&only_t1), of(&[t1.talk.id]), "the talk filter keeps one talk");
    assert!(store.agent_events(&alice, Some(t3.talk.id), 0, ALL).await.must("agent_events").is_empty());
    let bob = store.agent_events(&agent("bob"), Some(t1.talk.id), 0, ALL).await.must("agent_events");
    assert!(bob.is_empty(), "bob was never in t1");
    let bob_all = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&bob_all), of(&[t2.talk.id]));
}

/// `agent_events` pages chained on the last seq read an agent's feed once,
/// in order, at most `limit` each.
pub async fn agent_events_page_after_a_cursor(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let t1 = seed_group(store, "alice", &["bob"]).await;
    let t2 = seed_group(store, "bob", &[]).await;
    let t3 = seed_group(store, "alice", &[]).await;
    for i in 0..5 {
        send(store, t1.talk.id, "alice", &format!("t1 {i}")).await;
        send(store, t2.talk.id, "bob", &format!("t2 {i}")).await;
        send(store, t3.talk.id, "alice", &format!("t3 {i}")).await;
    }
    let alice = agent("alice");
    let all = store.agent_events(&alice, None, 0, ALL).await.must("agent_events");
    let fetch = |after: Option<u64>, limit| async move {
        store.agent_events(&agent("alice"), None, after.unwrap_or(0), limit).await.must("agent_events")
    };
    let paged = read_pages("agent_events", Order::Ascending, 4, |e: &Event| e.seq, fetch).await;
    assert_eq!(paged, all, "pages of the feed read it once, in order");
    assert!(all.iter().all(|e| e.talk_id != t2.talk.id));
    let head = store.head().await.must("head");
    assert!(store.agent_events(&alice, None, head, ALL).await.must("agent_events").is_empty());
    assert!(store.agent_events(&alice, None, 0, 0).await.must("agent_events").is_empty());
}

// ============================================================= retention

/// `prune_events` removes the events through a seq and moves the low-water
/// mark there; the head, the rows and later events stay; a `through` below
/// the mark changes nothing.
pub async fn prune_events_removes_events_through_a_seq_and_moves_the_low_water_mark(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &["bob"]).await; // 1, 2, 3
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(store, group.talk.id, "alice", &format!("m{i}")).await); // 4, 5, 6
    }
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 0);
    store.prune_events(4).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4);
    assert_eq!(store.head().await.must("head"), 6, "pruning does not move the head");
    assert_eq!(seqs(&all_events(store).await), [5, 6], "events through 4 are gone");
    assert_eq!(seqs(&store.events(2, ALL).await.must("events")), [5, 6]);
    let feed = store.agent_events(&agent("bob"), None, 0, ALL).await.must("agent_events");
    assert_eq!(seqs(&feed), [5, 6], "pruned events are gone from every feed");
    assert_eq!(read_talk(store, group.talk.id).await, group.talk, "rows are untouched");
    assert_eq!(store.participants(group.talk.id, None, None, ALL).await.must("participants"), group.members);
    for m in &sent {
        assert_eq!(read_message(store, m.id).await, *m);
    }
    store.prune_events(2).await.must("prune_events below the mark");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 4, "a prune below the mark changes nothing");
    assert_eq!(seqs(&all_events(store).await), [5, 6]);
    let next = send(store, group.talk.id, "bob", "after pruning").await;
    assert_eq!(next.seq, 7);
    assert_eq!(seqs(&all_events(store).await), [5, 6, 7]);
}

/// Pruning through a seq above the head prunes through the head; `seq`
/// values are never reused afterwards.
pub async fn prune_events_never_lets_a_seq_be_reused(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let group = seed_group(store, "alice", &[]).await; // 1, 2
    send(store, group.talk.id, "alice", "m").await; // 3
    store.prune_events(100).await.must("prune_events");
    assert_eq!(store.low_water_mark().await.must("low_water_mark"), 3, "a prune above the head stops at the head");
    assert_eq!(store.head().await.must("head"), 3);
    assert!(all_events(store).await.is_empty());
    let next = send(store, group.talk.id, "alice", "after").await;
    assert_eq!(next.seq, 4, "the next event takes head + 1, never a pruned seq");
    assert_eq!(seqs(&all_events(store).await), [4]);
    assert_log_without_holes(store, "after pruning everything").await;
}

// ======================================= pagination under concurrent writes

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
