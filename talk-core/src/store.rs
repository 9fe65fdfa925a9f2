//! The store contract: what every store (memory, SQLite, PostgreSQL, or an
//! embedder's own) promises the [`Hub`](crate::Hub).
//!
//! # The shape
//!
//! A store **stores; it never decides**. Every business rule lives in
//! talk-core. A command on the Hub reads what its rule needs through the
//! read methods of [`Store`], decides in pure code, and hands the store one
//! [`ChangeSet`]: the [`Write`]s, the [`Guard`]s that must still hold, and
//! the events the change causes, without their `seq`. The store applies it
//! with [`Store::apply`] in one atomic step:
//!
//! 1. check every guard against the stored state;
//! 2. take the next `seq` values, one per event, consecutive, and call
//!    [`ChangeSet::resolve`] with the first of them: it fills every `seq`
//!    field of the writes and event payloads;
//! 3. apply the writes in order, enforcing the unique keys listed on
//!    [`Write`];
//! 4. append the events to the event log;
//!
//! and either all of it becomes visible at once or none of it does. A guard
//! that fails or a unique key that collides answers
//! [`StoreError::Conflict`] and leaves nothing behind, no `seq` taken
//! either: the Hub reads again and decides anew.
//!
//! # The event log and `seq`
//!
//! Every event of every talk gets one number from one store-wide sequence:
//! strictly increasing, starting at 1, **without holes** in what readers can
//! see. [`Store::head`] is the *safe head*: the greatest `seq` such that every
//! event up to it is committed and readable. A reader never sees an event
//! above the head. Every list is keyset-paginated on a `seq` (never on ids,
//! clocks or offsets), so a page never skips or repeats an item while new
//! items are written.
//!
//! # How the stores of this project implement it
//!
//! - **Memory**: one lock over plain maps; `apply` checks the guards and
//!   unique keys first, then writes, so a refused change set touches nothing.
//! - **SQLite** (single writer, group commit): `apply` queues the change set
//!   to the writer thread, which takes whatever is queued, opens one
//!   transaction, runs each change set in its own savepoint (guards as
//!   `SELECT`s, writes as statements whose unique indexes raise the
//!   conflicts, the next `seq` read from the database inside the savepoint,
//!   so a rolled-back change set gives its numbers back), commits once and
//!   then answers every caller. The head is the greatest committed `seq`:
//!   one writer commits in `seq` order.
//! - **PostgreSQL** (many writers): guards become row locks and conditional
//!   updates (`SELECT … FOR SHARE`, `UPDATE … WHERE version = $v`), unique
//!   keys are unique indexes; `seq` is taken under a lock on the log's tail
//!   held to commit (once per batch of change sets), so transactions commit
//!   in `seq` order and the head is the greatest committed `seq`.
//!
//! The conformance suite (the `talk-testing` crate) checks
//! every sentence of this contract; run it against any store with
//! `talk_testing::store_conformance_tests!`.

mod changes;

use std::time::Duration;

use async_trait::async_trait;

pub use crate::error::{Conflict, StoreError};
pub use crate::named::Named;
pub use crate::search::{SearchQuery, SearchTerm};
pub use changes::*;

use crate::clock::Timestamp;
use crate::event::{Event, EventData};
use crate::id::{AgentId, MessageId, ParticipantId, TalkId};
use crate::message::Message;
use crate::participant::{Participant, ParticipantStatus};
use crate::reaction::{Emoji, Reaction};
use crate::read::{ReadMarker, ReadNumbers};
use crate::talk::{AgentPair, Talk, TalkStatus};

/// A durable consumer as a store keeps it ([`Store::consumers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Its name.
    pub name: String,
    /// The `seq` through which its events are acknowledged.
    pub cursor: u64,
    /// The owner whose lease is live now, if any.
    pub owner: Option<String>,
}

/// A talk with every participant record one agent has (had) in it, in the
/// order they joined: what every command about a talk reads first, to tell
/// whether the agent may see it and act in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkAndRecords {
    /// The talk.
    pub talk: Talk,
    /// The agent's records in it, ascending `seq`; empty for an agent that
    /// was never in it.
    pub records: Vec<Participant>,
}

/// Where a page of a list starts: strictly after (or, for lists in
/// descending order, strictly before) the `seq` of the last item of the
/// previous page; `None` for the first page.
pub type Cursor = Option<u64>;

/// The store contract. See the [module documentation](self) for the shape
/// and the guarantees every method relies on.
///
/// Reads answer `Ok(None)` (or an empty list) for a missing row and never
/// fail for it; an `Err` means the backend failed. Reads see only committed
/// change sets, each whole or not at all. Lists answer at most `limit` items.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies a change set atomically: checks its guards, numbers its events
    /// with the next consecutive `seq` values, applies its writes in order and
    /// appends its events to the log. Answers the events as stored, `seq`
    /// included, in order.
    ///
    /// A failed guard or a unique-key collision answers
    /// [`StoreError::Conflict`] and applies nothing (no `seq` is used up). An
    /// empty change set answers an empty list and changes nothing.
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError>;

    /// The safe head: the greatest `seq` such that every event up to it is
    /// committed and readable; `0` when the log is empty.
    async fn head(&self) -> Result<u64, StoreError>;

    /// The low-water mark of the event log: the greatest `seq` removed by
    /// [`Store::prune_events`], `0` while nothing was. Events at or below it
    /// are no longer kept; a reader asking for events after a `since` below
    /// it must resync.
    async fn low_water_mark(&self) -> Result<u64, StoreError>;

    /// Removes the events with `seq ≤ through` from the log (retention) and
    /// moves the low-water mark there. `through` above the head is taken as
    /// the head, and above the position of a live hold
    /// ([`Store::hold_events`]) as that position: a reader that holds events
    /// never finds them pruned. Below the current mark it changes nothing.
    /// Rows (talks, messages, …) are untouched, and `seq` values are never
    /// reused.
    async fn prune_events(&self, through: u64) -> Result<(), StoreError>;

    /// Records that `holder` — a reader that must see every event after
    /// `position`: a node's dispatcher, a durable consumer — still needs the
    /// events after `position`: [`Store::prune_events`] keeps them while the
    /// hold lives. A hold with a `lease` lives until that long has passed
    /// without another call for the same holder (by the store's clock), so
    /// that a node that died stops holding the log back; one without a lease
    /// lives until [`Store::release_events`]. A call replaces the holder's
    /// position and lease, forward or back.
    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError>;

    /// Ends `holder`'s hold; none is fine.
    async fn release_events(&self, holder: &str) -> Result<(), StoreError>;

    /// Takes or renews `owner`'s lease on the durable consumer `name` for
    /// `lease` (by the store's clock), creating the consumer with its cursor
    /// at `start` if it does not exist. Answers the consumer's cursor when
    /// `owner` holds the lease now; `None` when another owner's lease is
    /// still live (one owner at a time, across every process on the store).
    /// While a consumer exists, [`Store::prune_events`] never passes its
    /// cursor.
    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        lease: Duration,
        start: u64,
    ) -> Result<Option<u64>, StoreError>;

    /// Moves the durable consumer `name`'s cursor to `cursor` (never back)
    /// and renews the lease for `lease`, if `owner` is still its owner;
    /// answers whether it was (`false`: another owner took it over, or the
    /// consumer was removed, and nothing changed).
    async fn ack_consumer(&self, name: &str, owner: &str, cursor: u64, lease: Duration) -> Result<bool, StoreError>;

    /// Every durable consumer, by name.
    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError>;

    /// Removes the durable consumer `name` (none is fine): it holds the log
    /// back no more.
    async fn remove_consumer(&self, name: &str) -> Result<(), StoreError>;

    /// The store's secret: 32 random bytes made once, when the store was
    /// created, and kept with its data (never in the event log). The Hub
    /// keys the digests it keeps of client-chosen ids' requests with it, so
    /// that a copy of the rows or the log alone confirms no guess of what a
    /// request said. Every call answers the same bytes.
    async fn secret_key(&self) -> Result<[u8; 32], StoreError>;

    /// A talk by id.
    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError>;

    /// The direct talk of a pair of agents, if there ever was one.
    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError>;

    /// The talks in which `agent` has an active participant record, with
    /// `status` if given, newest first (descending `created_seq`), those with
    /// `created_seq < before` when `before` is given.
    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError>;

    /// The directory: active public talks, newest first (descending
    /// `created_seq`), those with `created_seq < before` when `before` is
    /// given, and only those whose name matches every one of `words`.
    ///
    /// `words` are folded words ([`text::words`](crate::text::words)), each
    /// once. A talk's name matches a word when one of the name's words
    /// ([`text::words`](crate::text::words) of the name) equals it or starts
    /// with it. A store keeps a talk's name words as
    /// [`text::index_text`](crate::text::index_text) makes them (the words
    /// joined by single spaces), computed by the store itself on
    /// [`Write::InsertTalk`] and [`Write::UpdateTalk`] from the name those
    /// carry, so that no writer can pass words that disagree with the name;
    /// a word then matches where `" " + name_words` contains `" " + word`.
    ///
    /// The read must not scan every talk: it walks the active public talks
    /// only, newest first, from an index on (kind, status, `created_seq`),
    /// and stops once it has `limit` matches.
    async fn public_talks(&self, words: &[String], before: Cursor, limit: usize) -> Result<Vec<Talk>, StoreError>;

    /// A participant record by id.
    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError>;

    /// Every record of `agent` in `talk`, active or not, in the order they
    /// joined (ascending `seq`).
    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError>;

    /// A talk together with every record of `agent` in it, as [`Store::talk`]
    /// and [`Store::agent_records`] answer them; `None` when the talk does
    /// not exist. Every command about a talk starts with this read, so a
    /// store should answer it from one snapshot in one round trip; the
    /// default makes the two reads one after the other.
    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        let Some(found) = self.talk(talk).await? else { return Ok(None) };
        let records = self.agent_records(talk, agent).await?;
        Ok(Some(TalkAndRecords { talk: found, records }))
    }

    /// A message (as [`Store::message`] answers it) together with its talk
    /// and every record of `agent` in that talk (as
    /// [`Store::talk_and_records`]); `None` when the message does not exist.
    /// Every command about a message starts with this read; the default
    /// makes the reads one after the other.
    async fn message_and_talk(
        &self,
        message: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        let Some(found) = self.message(message, reactors_listed).await? else { return Ok(None) };
        let Some(talk) = self.talk_and_records(found.talk_id, agent).await? else { return Ok(None) };
        Ok(Some((found, talk)))
    }

    /// The records of `agent` in every talk that are active, or that ended
    /// after `after` (`left_seq > after`), in ascending `seq`. Live delivery
    /// uses it to know which talks an agent was in at a given `seq`.
    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError>;

    /// The records of a talk with `status` if given, in the order they joined
    /// (ascending `seq`), those with `seq > after` when `after` is given.
    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError>;

    /// A message by id, its reactions and reply count current; each reaction
    /// entry lists at most `reactors_listed` agents, the first ones.
    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError>;

    /// The messages of a talk, newest first (descending `seq`), only
    /// top-level ones unless `include_replies`, those with `seq < before`
    /// when `before` is given; as [`Store::message`] answers each.
    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// The replies to `parent`, oldest first (ascending `seq`), those with
    /// `seq > after` when `after` is given; as [`Store::message`] answers each.
    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// The messages `agent` finds with `query`, newest first (descending
    /// `seq`), those with `seq < before` when `before` is given; as
    /// [`Store::message`] answers each.
    ///
    /// A message is found when all of these hold:
    /// - it is a [`Normal`](crate::MessageKind::Normal) message that is not
    ///   deleted;
    /// - `agent` has an **active** record in its talk. This is part of the
    ///   query (a join on the agent's active records), never a filter
    ///   applied to a page already read: the answer holds `limit` messages
    ///   whenever that many are found;
    /// - every filter of the query holds ([`SearchQuery::filters_match`]);
    /// - every term holds ([`SearchQuery::words_match`]) for the folded
    ///   words of its current text, [`text::words`](crate::text::words). A
    ///   store indexes [`text::index_text`](crate::text::index_text) of the
    ///   text (the same words, joined by spaces) when it writes the message
    ///   and again in the change set that edits or deletes it: an edited
    ///   message is found by its new text only, a deleted one no more. A
    ///   [`SearchTerm::Prefix`] holds when a word starts with it (bytes of
    ///   the folded word), a [`SearchTerm::Phrase`] when its words are
    ///   consecutive words of the text, each whole.
    ///
    async fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError>;

    /// One agent's reaction with one emoji to one message.
    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError>;

    /// The reactions with `emoji` to `message`, in the order they were added
    /// (ascending `seq`), those with `seq > after` when `after` is given.
    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError>;

    /// The read marker of a participant record, active or not.
    async fn read_marker(&self, participant: ParticipantId) -> Result<Option<ReadMarker>, StoreError>;

    /// The read markers of a talk's active records, in the order they joined
    /// (ascending `participant_seq`), those with `participant_seq > after`
    /// when `after` is given.
    async fn read_markers(&self, talk: TalkId, after: Cursor, limit: usize) -> Result<Vec<ReadMarker>, StoreError>;

    /// The numbers of [`ReadNumbers`] for each active record of `agent` in
    /// `talks` (in every talk where it has one when `talks` is `None`), in
    /// no particular order; a talk without an active record of the agent has
    /// no entry. Each answer is a fixed number of index lookups, whatever
    /// the number of messages above the marker: the store numbers normal
    /// messages as it inserts them and keeps with each marker the number at
    /// or below it.
    async fn read_numbers(&self, agent: &AgentId, talks: Option<&[TalkId]>) -> Result<Vec<ReadNumbers>, StoreError>;

    /// Events of the whole log with `seq > after`, ascending, up to the safe
    /// head.
    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError>;

    /// The events an agent sees with `seq > after`, ascending, up to the safe
    /// head: those of talks (only `talk` when given) in which one of the
    /// agent's participant records spans the event (`joined_seq ≤ seq ≤
    /// left_seq`, open-ended while active). Read through the agent's own
    /// records, not the whole log.
    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;
}
