//! The safe head across nodes: several stores (each with its own pool and
//! writer, like several server processes) write to one schema at once while
//! readers check that no `seq` at or below the head is ever missing, and
//! every acknowledged write is in the log afterwards.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{TestSchema, database_url};
use talk_core::store::StoreError;
use talk_core::{Event, EventData, Store};
use talk_store_postgres::{PostgresOptions, PostgresStore};
use talk_testing::builders::{ChangeSetBuilder, agent, create_talk, group_talk, message, participant};

const NODES: usize = 3;
const WRITERS_PER_NODE: usize = 8;
const WRITES_PER_WRITER: usize = 30;

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_readers_never_see_a_hole_below_the_head_while_several_nodes_write() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let mut nodes: Vec<Arc<PostgresStore>> = Vec::new();
    for node in 0..NODES {
        let options = PostgresOptions {
            pool_size: 3,
            max_batch: 16,
            application_name: format!("talk-test-node-{node}"),
            ..schema.options()
        };
        nodes.push(Arc::new(schema.store_with(options).await));
    }

    // One talk everybody sends to, guarded like the Hub guards a send.
    let creator = agent("creator");
    let talk = group_talk(&creator, "busy");
    let members: Vec<_> = (0..NODES * WRITERS_PER_NODE)
        .map(|w| participant(talk.id, &agent(&format!("writer-{w}"))))
        .chain([participant(talk.id, &creator)])
        .collect();
    let seeded = nodes[0].apply(create_talk(&talk, &members)).await.expect("seeding the talk");
    let talk = nodes[0].talk(talk.id).await.expect("reading the talk").expect("the talk exists");

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(r, node)| {
            let (node, done) = (Arc::clone(node), Arc::clone(&done));
            tokio::spawn(async move {
                let mut reads = 0_u64;
                let mut highest = 0;
                while !done.load(Ordering::Acquire) || reads == 0 {
                    reads += 1;
                    let head = node.head().await.expect("head");
                    assert!(head >= highest, "reader {r}: the head went back from {highest} to {head}");
                    highest = head;
                    let log = node.events(0, 1_000_000).await.expect("events");
                    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
                    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
                    assert_eq!(seqs, expected, "reader {r}: a hole in the log (head was {head})");
                    assert!(
                        seqs.len() as u64 >= head,
                        "reader {r}: the head was {head} but only {} events were readable",
                        seqs.len()
                    );
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();

    let mut writers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..WRITERS_PER_NODE {
            let node = Arc::clone(node);
            let talk = talk.clone();
            let record = members[n * WRITERS_PER_NODE + w].clone();
            writers.push(tokio::spawn(async move {
                let mut acked: Vec<Event> = Vec::new();
                for i in 0..WRITES_PER_WRITER {
                    let changes = if i % 5 == 4 {
                        // Now and then a change set of several events.
                        let own = agent(&format!("owner-{n}-{w}-{i}"));
                        let other = group_talk(&own, "side");
                        create_talk(&other, &[participant(other.id, &own), participant(other.id, &record.agent_id)])
                    } else {
                        let m = message(talk.id, &record.agent_id, &format!("node {n} writer {w} message {i}"));
                        ChangeSetBuilder::new()
                            .guard_talk_version(&talk)
                            .guard_active(&record)
                            .insert_message(&m)
                            .build()
                    };
                    match node.apply(changes).await {
                        Ok(events) => acked.extend(events),
                        Err(StoreError::Conflict(conflict)) => {
                            panic!("an independent change set conflicted: {conflict}")
                        }
                        Err(error) => panic!("node {n} writer {w}: apply failed: {error:?}"),
                    }
                }
                acked
            }));
        }
    }
    let mut acked: BTreeMap<u64, Event> = seeded.into_iter().map(|e| (e.seq, e)).collect();
    for writer in writers {
        for event in writer.await.expect("a writer panicked") {
            assert!(acked.insert(event.seq, event.clone()).is_none(), "seq {} was answered twice", event.seq);
        }
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        let reads = reader.await.expect("a reader panicked");
        assert!(reads > 0);
    }

    for node in &nodes {
        let head = node.head().await.expect("head");
        let log = node.events(0, 1_000_000).await.expect("events");
        assert_eq!(head, acked.len() as u64, "the head counts every acknowledged event, nothing else");
        assert_eq!(log.len(), acked.len());
        for event in &log {
            assert_eq!(acked.get(&event.seq), Some(event), "the log holds what apply answered for seq {}", event.seq);
        }
    }
    let sent = nodes[1].messages(talk.id, false, None, 1_000_000, 0).await.expect("messages");
    let expected_messages = NODES * WRITERS_PER_NODE * (WRITES_PER_WRITER - WRITES_PER_WRITER / 5);
    assert_eq!(sent.len(), expected_messages, "every acknowledged message is stored");
    let created = acked.values().filter(|e| matches!(e.data, EventData::MessageCreated(_))).count();
    assert_eq!(created, expected_messages);
}
