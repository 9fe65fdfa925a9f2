//! Durable consumers across nodes: two Talk nodes (each its own pool, Hub
//! and notifier) on one PostgreSQL schema; one node at a time holds a
//! consumer, and the other takes over when the holder dies.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestSchema, database_url};
use talk_core::{AgentId, Event, Hub, NewMessage, NewTalk, TalkKind};
use talk_store_postgres::{PostgresNotifier, PostgresStore};

/// Short enough for the test to wait it out.
const LEASE: Duration = Duration::from_millis(500);

async fn node(store: PostgresStore) -> Hub {
    let notifier = PostgresNotifier::start(&store).await.expect("notifier");
    Hub::builder(Arc::new(store)).notifier(Arc::new(notifier)).build()
}

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_holds_a_consumer_and_another_takes_over_postgres() {
    let schema = TestSchema::new(&database_url());
    let (a, b) = (node(schema.store().await).await, node(schema.store().await).await);
    let alice = AgentId::parse("alice").expect("agent id");
    let input = NewTalk { kind: TalkKind::Group, name: Some("ops".into()), detail: None, participant_ids: vec![] };
    let talk = a.create_talk(&alice, input).await.expect("create").resource;
    let send = |hub: Hub, text: &'static str| {
        let alice = alice.clone();
        async move {
            let message = NewMessage { text: text.into(), ..NewMessage::default() };
            hub.send_message(&alice, talk.id, message).await.expect("send").resource.seq
        }
    };

    let mut on_a = a.consumer_with_lease("webhook", LEASE).await.expect("a's handle");
    let mut on_b = b.consumer_with_lease("webhook", LEASE).await.expect("b's handle");
    let first = send(a.clone(), "one").await;
    let second = send(b.clone(), "two").await;
    assert_eq!(seqs(&on_a.next(10).await.expect("a reads")), [first, second], "a holds it: every node's events");
    on_a.ack(first).await.expect("a acks");
    assert!(tokio::time::timeout(LEASE / 2, on_b.next(10)).await.is_err(), "b waits while a holds it");
    let listed = b.consumers().await.expect("consumers");
    assert_eq!((listed.len(), listed[0].cursor, listed[0].held), (1, first, true));

    drop(on_a); // node a dies before acknowledging `second`
    let third = send(b.clone(), "three").await;
    let taken_over = on_b.next(10).await.expect("b takes over");
    assert_eq!(seqs(&taken_over), [second, third], "after a's last ack: nothing skipped");
    on_b.ack(third).await.expect("b acks");
}
