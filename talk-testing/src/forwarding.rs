//! [`ForwardingStore`]: a store that hands every call to another one, with
//! what a test needs around it: something kept alive as long as the store
//! (a temporary directory, a database schema), and a hook that may fail a
//! call before it reaches the store.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use talk_core::store::{ChangeSet, ConsumerRecord, Cursor, SearchQuery, StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    Store, Talk, TalkId, TalkStatus,
};

/// The [`Store`] method a call is about, as a [`ForwardingStore`]'s hook
/// sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs, reason = "each variant is the store method of the same name")]
pub enum StoreMethod {
    Apply,
    Head,
    LowWaterMark,
    PruneEvents,
    HoldEvents,
    ReleaseEvents,
    ClaimConsumer,
    AckConsumer,
    Consumers,
    RemoveConsumer,
    SecretKey,
    Talk,
    DirectTalk,
    TalksOfAgent,
    PublicTalks,
    Participant,
    AgentRecords,
    TalkAndRecords,
    MessageAndTalk,
    AgentMemberships,
    Participants,
    Message,
    Messages,
    Replies,
    SearchMessages,
    Reaction,
    Reactions,
    ReadMarker,
    ReadMarkers,
    ReadNumbers,
    Events,
    AgentEvents,
}

/// What a hook answers: a future, so that a hook may wait, or act on the
/// store, before it lets a call through.
pub type HookFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

type Hook = Arc<dyn Fn(StoreMethod) -> HookFuture + Send + Sync>;

/// A store that forwards every call to an inner store as it is, keeps
/// something alive until it is dropped (the inner store is dropped first),
/// and asks a hook before each call: a hook that answers an error fails the
/// call without reaching the inner store.
///
/// ```
/// use std::sync::Arc;
/// use talk_core::store::StoreError;
/// use talk_store_memory::MemoryStore;
/// use talk_testing::{ForwardingStore, StoreMethod};
///
/// let store = ForwardingStore::new(Arc::new(MemoryStore::new()));
/// store.set_hook(|method| match method {
///     StoreMethod::Talk => Err(StoreError::Unavailable("overloaded".into())),
///     _ => Ok(()),
/// });
/// ```
pub struct ForwardingStore {
    // Fields drop in order: the store first, then what it needed.
    inner: Arc<dyn Store>,
    hook: Mutex<Option<Hook>>,
    _kept: Box<dyn Any + Send + Sync>,
}

impl ForwardingStore {
    /// Forwards to `inner`, with no hook.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, hook: Mutex::new(None), _kept: Box::new(()) }
    }

    /// Forwards to `inner`, keeping `kept` alive until the store is dropped.
    pub fn keeping(inner: Arc<dyn Store>, kept: impl Any + Send + Sync) -> Self {
        Self { inner, hook: Mutex::new(None), _kept: Box::new(kept) }
    }

    /// Asks `hook` before every later call.
    pub fn set_hook(&self, hook: impl Fn(StoreMethod) -> Result<(), StoreError> + Send + Sync + 'static) {
        self.set_async_hook(move |method| {
            let answer = hook(method);
            Box::pin(async move { answer })
        });
    }

    /// Asks `hook` before every later call, and waits for its answer: a hook
    /// that holds a call back (until a test lets it go) or writes to the
    /// store first (through another handle) races the call with what it does.
    pub fn set_async_hook(&self, hook: impl Fn(StoreMethod) -> HookFuture + Send + Sync + 'static) {
        *self.hook.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    /// Asks nothing before later calls.
    pub fn clear_hook(&self) {
        *self.hook.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    async fn ask(&self, method: StoreMethod) -> Result<(), StoreError> {
        let hook = self.hook.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match hook {
            Some(hook) => hook(method).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Store for ForwardingStore {
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        self.ask(StoreMethod::Apply).await?;
        self.inner.apply(changes).await
    }
    async fn head(&self) -> Result<u64, StoreError> {
        self.ask(StoreMethod::Head).await?;
        self.inner.head().await
    }
    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        self.ask(StoreMethod::LowWaterMark).await?;
        self.inner.low_water_mark().await
    }
    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        self.ask(StoreMethod::PruneEvents).await?;
        self.inner.prune_events(through).await
    }
    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError> {
        self.ask(StoreMethod::HoldEvents).await?;
        self.inner.hold_events(holder, position, lease).await
    }
    async fn release_events(&self, holder: &str) -> Result<(), StoreError> {
        self.ask(StoreMethod::ReleaseEvents).await?;
        self.inner.release_events(holder).await
    }
    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        lease: Duration,
        start: u64,
    ) -> Result<Option<u64>, StoreError> {
        self.ask(StoreMethod::ClaimConsumer).await?;
        self.inner.claim_consumer(name, owner, lease, start).await
    }
    async fn ack_consumer(&self, name: &str, owner: &str, cursor: u64, lease: Duration) -> Result<bool, StoreError> {
        self.ask(StoreMethod::AckConsumer).await?;
        self.inner.ack_consumer(name, owner, cursor, lease).await
    }
    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError> {
        self.ask(StoreMethod::Consumers).await?;
        self.inner.consumers().await
    }
    async fn remove_consumer(&self, name: &str) -> Result<(), StoreError> {
        self.ask(StoreMethod::RemoveConsumer).await?;
        self.inner.remove_consumer(name).await
    }
    async fn secret_key(&self) -> Result<[u8; 32], StoreError> {
        self.ask(StoreMethod::SecretKey).await?;
        self.inner.secret_key().await
    }
    async fn talk(&self, id: TalkId) -> Result<Option<Talk>, StoreError> {
        self.ask(StoreMethod::Talk).await?;
        self.inner.talk(id).await
    }
    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        self.ask(StoreMethod::DirectTalk).await?;
        self.inner.direct_talk(pair).await
    }
    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before: Cursor,
        limit: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        self.ask(StoreMethod::TalksOfAgent).await?;
        self.inner.talks_of_agent(agent, status, before, limit).await
    }
    async fn public_talks(&self, words: &[String], before: Cursor, limit: usize) -> Result<Vec<Talk>, StoreError> {
        self.ask(StoreMethod::PublicTalks).await?;
        self.inner.public_talks(words, before, limit).await
    }
    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        self.ask(StoreMethod::Participant).await?;
        self.inner.participant(id).await
    }
    async fn agent_records(&self, talk: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        self.ask(StoreMethod::AgentRecords).await?;
        self.inner.agent_records(talk, agent).await
    }
    async fn talk_and_records(&self, talk: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        self.ask(StoreMethod::TalkAndRecords).await?;
        self.inner.talk_and_records(talk, agent).await
    }
    async fn message_and_talk(
        &self,
        message: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        self.ask(StoreMethod::MessageAndTalk).await?;
        self.inner.message_and_talk(message, agent, reactors_listed).await
    }
    async fn agent_memberships(&self, agent: &AgentId, after: u64) -> Result<Vec<Participant>, StoreError> {
        self.ask(StoreMethod::AgentMemberships).await?;
        self.inner.agent_memberships(agent, after).await
    }
    async fn participants(
        &self,
        talk: TalkId,
        status: Option<ParticipantStatus>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        self.ask(StoreMethod::Participants).await?;
        self.inner.participants(talk, status, after, limit).await
    }
    async fn message(&self, id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        self.ask(StoreMethod::Message).await?;
        self.inner.message(id, reactors_listed).await
    }
    async fn messages(
        &self,
        talk: TalkId,
        include_replies: bool,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.ask(StoreMethod::Messages).await?;
        self.inner.messages(talk, include_replies, before, limit, reactors_listed).await
    }
    async fn replies(
        &self,
        parent: MessageId,
        after: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.ask(StoreMethod::Replies).await?;
        self.inner.replies(parent, after, limit, reactors_listed).await
    }
    async fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before: Cursor,
        limit: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.ask(StoreMethod::SearchMessages).await?;
        self.inner.search_messages(agent, query, before, limit, reactors_listed).await
    }
    async fn reaction(
        &self,
        message: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        self.ask(StoreMethod::Reaction).await?;
        self.inner.reaction(message, emoji, agent).await
    }
    async fn reactions(
        &self,
        message: MessageId,
        emoji: &Emoji,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        self.ask(StoreMethod::Reactions).await?;
        self.inner.reactions(message, emoji, after, limit).await
    }
    async fn read_marker(&self, participant: ParticipantId) -> Result<Option<talk_core::ReadMarker>, StoreError> {
        self.ask(StoreMethod::ReadMarker).await?;
        self.inner.read_marker(participant).await
    }
    async fn read_markers(
        &self,
        talk: TalkId,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<talk_core::ReadMarker>, StoreError> {
        self.ask(StoreMethod::ReadMarkers).await?;
        self.inner.read_markers(talk, after, limit).await
    }
    async fn read_numbers(
        &self,
        agent: &AgentId,
        talks: Option<&[TalkId]>,
    ) -> Result<Vec<talk_core::ReadNumbers>, StoreError> {
        self.ask(StoreMethod::ReadNumbers).await?;
        self.inner.read_numbers(agent, talks).await
    }
    async fn events(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.ask(StoreMethod::Events).await?;
        self.inner.events(after, limit).await
    }
    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.ask(StoreMethod::AgentEvents).await?;
        self.inner.agent_events(agent, talk, after, limit).await
    }
}
