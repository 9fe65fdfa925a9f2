//! What every section of the suite shares: imports, limits and helpers.
pub(super) use std::collections::BTreeSet;
pub(super) use std::sync::Arc;
pub(super) use std::sync::atomic::{AtomicBool, Ordering};
pub(super) use std::time::Duration;

pub(super) use crate::builders::{
    ChangeSetBuilder, agent, at, closed, create_talk, direct_talk, edited, emoji, ended, epoch, group_talk, media,
    message, message_id, participant, participant_id, public_talk, reaction, reply, talk_id, tombstone, touched,
};
pub(super) use talk_core::Reaction;
pub(super) use talk_core::Timestamp;
pub(super) use talk_core::store::{ChangeSet, Guard, Store, Write};
pub(super) use talk_core::store::{Conflict, StoreError};
pub(super) use talk_core::{AgentId, MessageId, TalkId};
pub(super) use talk_core::{AgentPair, Talk, TalkKind, TalkStatus};
pub(super) use talk_core::{Event, EventData};
pub(super) use talk_core::{LeftReason, Participant, ParticipantStatus};
pub(super) use talk_core::{Message, MessageKind, ReactionSummary, SystemEvent, SystemInfo};

pub(super) use tokio;

/// A limit that reads a whole list in these small stores.
pub(super) const ALL: usize = 100_000;
/// Reactors listed per emoji in reads that do not test the truncation.
pub(super) const LISTED: usize = 100;
/// How many callers race in the concurrency cases.
pub(super) const RACERS: usize = 32;

/// Unwraps a store answer, naming the read that failed.
pub(super) trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T> Must<T> for Result<T, StoreError> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: the store failed: {e:?}"))
    }
}

/// Applies a change set that must commit.
pub(super) async fn apply(store: &dyn Store, changes: ChangeSet, what: &str) -> Vec<Event> {
    match store.apply(changes).await {
        Ok(events) => events,
        Err(e) => panic!("{what}: the store refused a change set it must accept: {e:?}"),
    }
}

/// Applies a change set that must be refused with `expected`, and checks
/// that it left the log and the head as they were.
pub(super) async fn refuse(store: &dyn Store, changes: ChangeSet, expected: Conflict, what: &str) {
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

pub(super) async fn all_events(store: &dyn Store) -> Vec<Event> {
    store.events(0, ALL).await.must("reading the whole event log")
}

pub(super) fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

pub(super) fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.data.type_name()).collect()
}

pub(super) fn ids<T, I>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    items.iter().map(id).collect()
}

/// Checks that the log holds exactly the events `low + 1 ..= head`, in order.
pub(super) async fn assert_log_without_holes(store: &dyn Store, what: &str) -> Vec<Event> {
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

pub(super) async fn read_talk(store: &dyn Store, id: TalkId) -> Talk {
    store.talk(id).await.must("reading a talk").unwrap_or_else(|| panic!("talk {id} should exist"))
}

pub(super) async fn read_participant(store: &dyn Store, record: &Participant) -> Participant {
    store
        .participant(record.id)
        .await
        .must("reading a participant record")
        .unwrap_or_else(|| panic!("participant record {} should exist", record.id))
}

pub(super) async fn read_message(store: &dyn Store, id: MessageId) -> Message {
    store.message(id, LISTED).await.must("reading a message").unwrap_or_else(|| panic!("message {id} should exist"))
}

pub(super) async fn read_reaction(store: &dyn Store, r: &Reaction) -> Reaction {
    store
        .reaction(r.message_id, &r.emoji, &r.agent_id)
        .await
        .must("reading a reaction")
        .unwrap_or_else(|| panic!("the reaction {} of {} should exist", r.emoji, r.agent_id))
}

/// A talk and its first records, as stored.
pub(super) struct Seeded {
    pub(super) talk: Talk,
    pub(super) members: Vec<Participant>,
}

/// Creates a group talk of `creator` and `others` (in that order): one change
/// set, `1 + members` events.
pub(super) async fn seed_group(store: &dyn Store, creator: &str, others: &[&str]) -> Seeded {
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
pub(super) async fn send(store: &dyn Store, talk: TalkId, author: &str, text: &str) -> Message {
    let m = message(talk, &agent(author), text);
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a message").await;
    read_message(store, m.id).await
}

/// Sends a reply: one event.
pub(super) async fn send_reply(store: &dyn Store, parent: &Message, author: &str, text: &str) -> Message {
    let m = reply(parent, &agent(author), text);
    apply(store, ChangeSetBuilder::new().insert_message(&m).build(), "sending a reply").await;
    read_message(store, m.id).await
}

/// Adds a reaction made at `now`: one event.
pub(super) async fn react(store: &dyn Store, m: &Message, spelling: &str, who: &str, now: Timestamp) -> Reaction {
    let r = reaction(m.id, &emoji(spelling), &agent(who), now);
    apply(store, ChangeSetBuilder::new().insert_reaction(m.talk_id, &r).build(), "adding a reaction").await;
    read_reaction(store, &r).await
}

/// Removes a reaction at `now`: one event.
pub(super) async fn unreact(store: &dyn Store, m: &Message, r: &Reaction, now: Timestamp) {
    apply(store, ChangeSetBuilder::new().delete_reaction(m.talk_id, r, now).build(), "removing a reaction").await;
}

/// Adds a record of `who` to `talk`: one event.
pub(super) async fn add_member(store: &dyn Store, talk: TalkId, who: &str) -> Participant {
    let p = participant(talk, &agent(who));
    apply(store, ChangeSetBuilder::new().insert_participant(&p).build(), "adding a participant").await;
    read_participant(store, &p).await
}

/// Ends a record: one event.
pub(super) async fn end_member(store: &dyn Store, record: &Participant, reason: LeftReason) -> Participant {
    let left = ended(record, reason, at(1));
    apply(store, ChangeSetBuilder::new().end_participant(&left).build(), "ending a participant record").await;
    read_participant(store, record).await
}

pub(super) fn summary(spelling: &str, count: u32, agents: &[&str]) -> ReactionSummary {
    ReactionSummary { emoji: emoji(spelling), count, agent_ids: agents.iter().map(|a| agent(a)).collect() }
}

pub(super) fn reactor_names(summary: &ReactionSummary) -> Vec<&str> {
    summary.agent_ids.iter().map(AgentId::as_str).collect()
}

/// The direction of a list: which way its `seq` cursor moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
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
pub(super) async fn read_pages<T, F, Fut>(what: &str, order: Order, size: usize, key: fn(&T) -> u64, fetch: F) -> Vec<T>
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
