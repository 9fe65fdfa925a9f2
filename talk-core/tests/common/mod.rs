//! Shared set-up for the Hub tests: a Hub on a MemoryStore with a manual clock.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::ops::Deref;
use std::sync::Arc;

use talk_core::{
    AgentId, Error, Event, Hub, Limits, ManualClock, Message, MessageFilter, MessageId, NewMessage, NewTalk,
    PageRequest, Store, Talk, TalkId, TalkKind,
};
use talk_store_memory::MemoryStore;

pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).expect("valid agent id")
}

/// A Hub with the store it runs on, for tests that read the store too.
pub struct TestHub {
    hub: Hub,
    pub store: Arc<dyn Store>,
}

impl Deref for TestHub {
    type Target = Hub;

    fn deref(&self) -> &Hub {
        &self.hub
    }
}

impl TestHub {
    /// `hub`, which runs on `store`.
    pub fn new(hub: Hub, store: Arc<dyn Store>) -> Self {
        Self { hub, store }
    }
}

pub fn hub() -> TestHub {
    hub_with(Limits::default())
}

pub fn hub_with(limits: Limits) -> TestHub {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hub = Hub::builder(store.clone()).clock(Arc::new(ManualClock::default())).limits(limits).build();
    TestHub { hub, store }
}

pub async fn group(hub: &Hub, creator: &str, others: &[&str]) -> Talk {
    hub.create_talk(
        &agent(creator),
        NewTalk {
            kind: TalkKind::Group,
            name: Some("Project Discussion".into()),
            detail: None,
            participant_ids: others.iter().map(|a| agent(a)).collect(),
        },
    )
    .await
    .expect("create group talk")
    .resource
}

pub async fn direct(hub: &Hub, caller: &str, other: &str) -> talk_core::Created<Talk> {
    hub.create_talk(
        &agent(caller),
        NewTalk { kind: TalkKind::Direct, name: None, detail: None, participant_ids: vec![agent(other)] },
    )
    .await
    .expect("direct get-or-create")
}

pub fn text(text: &str) -> NewMessage {
    NewMessage { text: text.into(), ..NewMessage::default() }
}

pub fn reply(text: &str, parent: MessageId) -> NewMessage {
    NewMessage { text: text.into(), parent_id: Some(parent), ..NewMessage::default() }
}

pub async fn send(hub: &Hub, author: &str, talk: TalkId, body: &str) -> Message {
    hub.send_message(&agent(author), talk, text(body)).await.expect("send").resource
}

pub async fn all_events(hub: &TestHub) -> Vec<Event> {
    hub.store.events(0, usize::MAX).await.expect("read the log")
}

pub async fn head(hub: &TestHub) -> u64 {
    hub.store.head().await.expect("head")
}

/// The types of the events after `since`.
pub async fn event_types_since(hub: &TestHub, since: u64) -> Vec<&'static str> {
    hub.store.events(since, usize::MAX).await.expect("read the log").iter().map(|e| e.data.type_name()).collect()
}

pub fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.code(),
    }
}

pub async fn main_view(hub: &Hub, who: &str, talk: TalkId) -> Vec<Message> {
    hub.messages(&agent(who), talk, MessageFilter::TopLevel, &PageRequest::of_size(100)).await.expect("main view").items
}
