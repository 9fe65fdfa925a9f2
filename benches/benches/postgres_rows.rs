//! The PostgreSQL rows: PG1 (`send_message` on one node against plain
//! tokio-postgres doing the same statements, batched the same way), PG2 and
//! P2 (Talk on two nodes sharing one database). They run when `TALK_BENCH_POSTGRES_URL` (or `TALK_TEST_POSTGRES_URL`)
//! names a server; each run works in a fresh schema, dropped at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use talk_benches::baseline::postgres_sends::PostgresSends;
use talk_benches::{Mode, Row, median, show, show_rate};
use talk_core::{Delivery, Hub, NewMessage, NewTalk, Scope, TalkId, TalkKind};
use talk_store_postgres::{PostgresNotifier, PostgresOptions, PostgresStore};

use crate::agent;

/// The server's URL, if one is configured.
pub(crate) fn url() -> Option<String> {
    std::env::var("TALK_BENCH_POSTGRES_URL").or_else(|_| std::env::var("TALK_TEST_POSTGRES_URL")).ok()
}

/// One node: a store with its own pool and writer, a cross-node notifier
/// (which carries the nodes' signals too), and a Hub.
pub(crate) struct Node {
    pub(crate) hub: Hub,
}

pub(crate) async fn node(url: &str, schema: &str) -> Node {
    let options = PostgresOptions { schema: Some(schema.to_owned()), ..PostgresOptions::default() };
    let store = PostgresStore::connect(url, options).await.expect("connect to PostgreSQL");
    let notifier = Arc::new(PostgresNotifier::start(&store).await.expect("start the notifier"));
    let hub = Hub::builder(Arc::new(store)).notifier(notifier.clone()).signal_bus(notifier).build();
    Node { hub }
}

pub(crate) async fn talk_of(hub: &Hub, members: usize) -> TalkId {
    hub.create_talk(
        &agent(0),
        NewTalk {
            kind: TalkKind::Group,
            name: Some("nodes".into()),
            detail: None,
            participant_ids: (1..members).map(agent).collect(),
        },
    )
    .await
    .expect("create the talk")
    .resource
    .id
}

/// Sends and the time they took, added up over the slices of a row.
#[derive(Default)]
struct Rate {
    sent: usize,
    time: Duration,
}

impl Rate {
    fn add(&mut self, sent: usize, start: Instant) {
        self.sent += sent;
        self.time += start.elapsed();
    }

    fn per_second(&self) -> f64 {
        self.sent as f64 / self.time.as_secs_f64().max(1e-9)
    }
}

/// 64 concurrent senders spread over `nodes`, `per_sender` sends each.
async fn send_rate(nodes: &[Node], talk: TalkId, per_sender: usize, rate: &mut Rate) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let hub = nodes[i % nodes.len()].hub.clone();
            tokio::spawn(async move {
                for n in 0..per_sender {
                    let text = format!("message {n} from sender {i}");
                    hub.send_message(&agent(i), talk, NewMessage { text, ..NewMessage::default() })
                        .await
                        .expect("send");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender task");
    }
    rate.add(64 * per_sender, start);
}

/// The same 64 senders as plain tokio-postgres (PG1's baseline).
async fn plain_send_rate(plain: &PostgresSends, per_sender: usize, rate: &mut Rate) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let plain = plain.clone();
            tokio::spawn(async move {
                for n in 0..per_sender {
                    plain.send(&agent(i), format!("message {n} from sender {i}")).await.expect("a plain send");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender task");
    }
    rate.add(64 * per_sender, start);
}

/// p50 from `send_message` on `sender` until a subscriber on `receiver` holds the event.
async fn delivery_latency(sender: &Node, receiver: &Node, talk: TalkId, rounds: usize) -> Duration {
    let mut subscription =
        receiver.hub.subscribe(&agent(1), Scope::Talk(talk), None).await.expect("subscribe on the receiving node");
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let start = Instant::now();
        let sent = sender
            .hub
            .send_message(&agent(0), talk, NewMessage { text: format!("ping {round}"), ..NewMessage::default() })
            .await
            .expect("send");
        loop {
            let item = tokio::time::timeout(Duration::from_secs(10), subscription.next())
                .await
                .expect("the event arrives within 10 s")
                .expect("the subscription goes on");
            if matches!(&item, Delivery::Event(shared) if shared.event.seq == sent.resource.seq) {
                break;
            }
        }
        samples.push(start.elapsed());
    }
    median(samples)
}

/// Rows PG1, PG2 and P2; `None` when no PostgreSQL server is configured.
pub(crate) async fn rows(mode: Mode) -> Option<Vec<Row>> {
    let url = url()?;
    let schema = format!("talk_bench_{:x}", rand_suffix());
    let a = node(&url, &schema).await;
    let b = node(&url, &schema).await;
    let talk = talk_of(&a.hub, 64).await;
    let plain = PostgresSends::connect(&url, &schema, talk).await.expect("the plain senders connect");
    let (slices, per_sender) = mode.pick((2, 5), (4, 20));
    let nodes = [a, b];
    let (mut one_node, mut two_nodes, mut baseline) = (Rate::default(), Rate::default(), Rate::default());
    // Slices in turn, so that drift in the machine's load falls on all three.
    for _ in 0..slices {
        send_rate(&nodes[..1], talk, per_sender, &mut one_node).await;
        plain_send_rate(&plain, per_sender, &mut baseline).await;
        send_rate(&nodes, talk, per_sender, &mut two_nodes).await;
    }
    drop(plain);
    let (one_node, two_nodes, baseline) = (one_node.per_second(), two_nodes.per_second(), baseline.per_second());
    let rounds = mode.pick(10, 100);
    let same_node = delivery_latency(&nodes[0], &nodes[0], talk, rounds).await;
    let cross_node = delivery_latency(&nodes[0], &nodes[1], talk, rounds).await;
    drop(nodes);
    drop_schema(&url, &schema).await;
    Some(vec![
        Row {
            id: "PG1".into(),
            what: "send_message on PostgresStore, 64 concurrent senders, one node".into(),
            figure: show_rate(one_node),
            baseline: format!(
                "{} (plain tokio-postgres: the same reads and statements, one writer batching the same way)",
                show_rate(baseline)
            ),
            ratio: one_node / baseline.max(1e-9),
            goal: "≥ 0.5×".into(),
            met: one_node / baseline.max(1e-9) >= 0.5,
        },
        Row {
            id: "PG2".into(),
            what: "send_message, 64 concurrent senders through two nodes on one PostgreSQL".into(),
            figure: show_rate(two_nodes),
            baseline: format!("{} (the same 64 senders through one node)", show_rate(one_node)),
            ratio: two_nodes / one_node.max(1e-9),
            goal: "≥ 0.9×".into(),
            met: two_nodes / one_node.max(1e-9) >= 0.9,
        },
        Row {
            id: "P2".into(),
            what: "send on one node → subscriber on another node holds the event (p50)".into(),
            figure: show(cross_node),
            baseline: format!("{} (subscriber on the sending node)", show(same_node)),
            ratio: cross_node.as_secs_f64() / same_node.as_secs_f64().max(1e-9),
            goal: "report".into(),
            met: true,
        },
    ])
}

pub(crate) fn rand_suffix() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

pub(crate) async fn drop_schema(url: &str, schema: &str) {
    let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await else { return };
    let task = tokio::spawn(connection);
    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
    drop(client);
    let _ = task.await;
}
