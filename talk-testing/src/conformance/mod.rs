//! The store conformance suite: every sentence of the [`Store`](talk_core::Store) contract
//! (see [`talk_core::store`]) as a case that any store must pass.
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
//! talk_testing::store_conformance_tests!(fresh_store);
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
//! talk_testing::store_conformance_tests!(async_factory = fresh_store);
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
//! redaction; search (words, prefixes, phrases, folding, filters, the
//! index kept by edits and deletes, visibility, pages); every read's order, filters and keyset pages, also while
//! writers insert; which events each agent sees; retention; and, for every
//! guard and unique key, many concurrent callers of which exactly one wins.

use std::future::Future;

mod consumers;
mod directory;
mod guards;
mod keys;
mod log;
mod races;
mod read_state;
mod reads;
mod retention;
mod search;
mod support;
mod visibility;
mod writes;

pub use consumers::*;
pub use directory::*;
pub use guards::*;
pub use keys::*;
pub use log::*;
pub use races::*;
pub use read_state::*;
pub use reads::*;
pub use retention::*;
pub use search::*;
pub use visibility::*;
pub use writes::*;

/// Runs the cases of the suite against a store: one test per case, named
/// after it, in a module `conformance`.
///
/// `store_conformance_tests!(factory)` takes an expression callable with no
/// arguments (a function path or a closure) that returns a fresh store
/// (anything that coerces to `Arc<dyn Store>`);
/// `store_conformance_tests!(async_factory = factory)` takes one whose call
/// is awaited. Each test builds a multi-threaded Tokio runtime with 4 worker
/// threads, calls the factory inside it, and runs one case. See
/// [`testing::conformance`](crate::conformance) for an example.
///
/// Attributes written before the factory go on every test, e.g. for a store
/// that needs a server the test run may not have:
/// `store_conformance_tests!(#[ignore = "needs MY_TEST_DATABASE_URL"] async_factory = fresh_store)`
/// (the tests then run with `cargo test -- --ignored`).
#[macro_export]
macro_rules! store_conformance_tests {
    ($($input:tt)*) => {
        $crate::__store_case_tests! { @attrs "The store conformance suite of talk-core, one test per case." conformance [
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
            the_secret_key_is_made_once_and_kept,
            direct_talk_is_found_by_its_pair,
            talks_of_agent_are_newest_first_with_keyset_pages,
            talks_of_agent_filter_by_status,
            talks_of_agent_list_only_talks_with_an_active_record,
            public_talks_list_active_public_talks_newest_first_with_keyset_pages,
            public_talks_match_every_word_as_a_word_or_a_prefix_folded,
            public_talks_follow_renames_closes_and_reopens,
            public_talks_pages_never_skip_or_repeat_while_talks_are_created,
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
            prune_never_passes_a_live_hold,
            released_or_expired_holds_hold_nothing_back,
            claim_consumer_holds_one_owner_at_a_time,
            an_expired_consumer_lease_is_taken_over,
            ack_consumer_moves_the_cursor_forward_only,
            prune_never_passes_a_consumer_cursor,
            concurrent_claims_make_one_owner,
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
            inserted_record_marker_starts_at_its_join,
            set_read_marker_moves_the_marker_and_names_the_newest_message_at_or_below,
            guard_on_marker_refuses_a_moved_marker_and_a_missing_record,
            read_markers_list_active_records_in_join_order_with_keyset,
            unread_counts_other_agents_normal_messages_after_marker,
            own_send_marks_read,
            deleted_unread_message_leaves_the_count,
            edit_removing_mention_lowers_mention_count,
            left_participant_counts_freeze_at_leave,
            readded_participant_starts_at_new_join,
            counts_exact_under_concurrent_sends_and_reads,
            search_finds_words_prefixes_and_phrases,
            search_folds_case_and_accents,
            search_filters_by_talk_author_thread_media_and_time,
            search_finds_an_edited_message_by_its_new_text_only,
            search_never_finds_deleted_or_system_messages,
            search_sees_only_talks_with_an_active_record,
            search_pages_are_keyset_on_seq_with_ties,
            search_pages_never_skip_or_repeat_while_messages_are_added,
            search_without_a_match_answers_nothing,
        ] [] $($input)* }
    };
}

/// What [`store_conformance_tests!`](crate::store_conformance_tests) and
/// [`delivery_tests!`](crate::delivery_tests) expand to: a module `$module`
/// with one `#[test]` per case of `talk_testing::$module`, each carrying the
/// attributes written before the factory. Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_case_tests {
    (@case $module:ident [$($attr:tt)*] $make:block $case:ident) => {
        $($attr)*
        #[test]
        fn $case() {
            $crate::conformance::run(async {
                let store: ::std::sync::Arc<dyn ::talk_core::Store> = $make;
                $crate::$module::$case(store).await;
            });
        }
    };
    (@module $doc:literal $module:ident [$($case:ident),* $(,)?] $attrs:tt $make:block) => {
        #[doc = $doc]
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $( $crate::__store_case_tests! { @case $module $attrs $make $case } )*
        }
    };
    // The attributes given first, one at a time, then the factory.
    (@attrs $doc:literal $module:ident $cases:tt [$($attr:tt)*] #[$meta:meta] $($rest:tt)*) => {
        $crate::__store_case_tests! { @attrs $doc $module $cases [$($attr)* #[$meta]] $($rest)* }
    };
    (@attrs $doc:literal $module:ident $cases:tt $attrs:tt async_factory = $factory:expr $(,)?) => {
        $crate::__store_case_tests! { @module $doc $module $cases $attrs { ($factory)().await } }
    };
    (@attrs $doc:literal $module:ident $cases:tt $attrs:tt $factory:expr $(,)?) => {
        $crate::__store_case_tests! { @module $doc $module $cases $attrs { ($factory)() } }
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
