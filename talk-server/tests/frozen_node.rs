//! A node that freezes while it holds the PostgreSQL log's tail (a pause,
//! `SIGSTOP`, a partition) must not stall the others. Three demo servers
//! share one schema, with senders on every node; the node whose writer holds
//! the tail in the middle of a batch is stopped (`SIGSTOP`). The server ends
//! its transaction, idle from the server's side, after
//! `idle_in_transaction_session_timeout` (nothing else can while the process
//! is stopped), which frees the tail, and the other two nodes keep
//! committing meanwhile. Woken (`SIGCONT`), the node finds its connection
//! dead, answers its callers, reconnects and goes on. At the end every
//! acknowledged send is in the log once, the log has no hole, and every
//! WebSocket client received exactly what `GET /v1.0/events` says.
//!
//! Needs `TALK_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`): ignored unless run with
//! `--ignored` (as `.ci/run` does), and then fails without it.

mod cluster;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_postgres::Client;

use cluster::{
    Database, Node, PATIENCE, every_follower_matches_the_log, follow_all, followers, http, start_node, two_talks,
    within,
};

/// Senders per node, each sending one message after the other.
const SENDERS: usize = 2;
/// Sends each node is to acknowledge at each step of the test.
const SOME: usize = 5;

/// One acknowledged send: through which node, its id, and when the attempt
/// that was acknowledged started.
struct Ack {
    node: usize,
    id: String,
    sent: Instant,
}

/// What the senders did.
#[derive(Default)]
struct Sends {
    acks: Mutex<Vec<Ack>>,
    /// The answers other than success, by node and status (0: no answer).
    failures: Mutex<BTreeMap<(usize, u16), usize>>,
}

impl Sends {
    /// The sends through `node` acknowledged on an attempt started after `since`.
    fn acked_since(&self, node: usize, since: Instant) -> usize {
        self.acks.lock().expect("lock").iter().filter(|a| a.node == node && a.sent > since).count()
    }

    async fn wait_for(&self, what: &str, nodes: &[usize], since: Instant) {
        within(what, async {
            while !nodes.iter().all(|&n| self.acked_since(n, since) >= SOME) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    fn failed(&self, node: usize, status: u16) {
        *self.failures.lock().expect("lock").entry((node, status)).or_default() += 1;
    }
}

/// A random UUID (version 4), as a client chooses a message's id.
fn client_id() -> String {
    let bits = (rand::random::<u128>() & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Sends `kill -<signal>` to a node's process.
fn signal(node: &Node, signal: &str) {
    let pid = node.child.id().expect("the server is running").to_string();
    let status = std::process::Command::new("kill").args([signal, &pid]).status().expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// Sends messages through the node at `address` until `stop`, each with a
/// client-chosen id and sent again, the same, until acknowledged (a `5xx`
/// or no answer may hide a commit: the id makes resending safe).
async fn send(
    node: usize,
    sender: usize,
    address: SocketAddr,
    (one, two): (String, String),
    sends: Arc<Sends>,
    stop: Arc<AtomicBool>,
) {
    for k in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (talk, author) = if k % 2 == 0 { (&one, "agent-1") } else { (&two, "agent-2") };
        let id = client_id();
        let body = json!({"id": id, "text": format!("node {node} sender {sender} message {k}")});
        let path = format!("/v1.0/talks/{talk}/messages");
        let give_up = Instant::now() + 4 * PATIENCE;
        loop {
            let sent = Instant::now();
            match http(address, "POST", &path, Some(author), Some(body.clone())).await {
                Ok((200 | 201, answer)) => {
                    assert_eq!(answer["id"].as_str(), Some(id.as_str()), "{answer}");
                    sends.acks.lock().expect("lock").push(Ack { node, id, sent });
                    break;
                }
                Ok((status, answer)) => {
                    assert!(status >= 500, "node {node}: {status} {answer}");
                    sends.failed(node, status);
                }
                Err(_) => sends.failed(node, 0),
            }
            assert!(Instant::now() < give_up, "node {node} never acknowledged message {id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Stops (`SIGSTOP`) the node whose writer holds the log's tail in the
/// middle of a batch: answers the node and its writer's backend pid.
///
/// Every writing transaction takes the tail's row lock first, and only then
/// gets a transaction id: a writer session with one holds the tail. Its node
/// is stopped, and kept stopped if the session then settles idle in its
/// transaction (the server ran what it was sent and waits for the rest);
/// if it commits instead, the node had sent its `COMMIT` already: it is woken
/// and another try made.
async fn freeze_the_tail_holder(admin: &Client, nodes: &[Node], writers: &[String]) -> (usize, i32) {
    within("freezing a node while it holds the tail mid-batch", async {
        loop {
            let holders = admin
                .query(
                    "SELECT pid, application_name FROM pg_stat_activity \
                     WHERE application_name = ANY($1) AND backend_xid IS NOT NULL",
                    &[&writers],
                )
                .await
                .expect("pg_stat_activity");
            let Some(holder) = holders.first() else {
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue;
            };
            let (pid, name): (i32, String) = (holder.get(0), holder.get(1));
            let node = writers.iter().position(|w| *w == name).expect("a node's writer");
            signal(&nodes[node], "-STOP");
            if holds_while_idle(admin, pid).await {
                return (node, pid);
            }
            signal(&nodes[node], "-CONT");
        }
    })
    .await
}

/// Whether session `pid` settles idle in its transaction, its transaction
/// id kept (seen so twice in a row), rather than ending the transaction.
async fn holds_while_idle(admin: &Client, pid: i32) -> bool {
    let mut idle_in_a_row = 0;
    for _ in 0..100 {
        let row = admin
            .query_opt("SELECT state, backend_xid IS NOT NULL FROM pg_stat_activity WHERE pid = $1", &[&pid])
            .await
            .expect("pg_stat_activity");
        match row.map(|row| (row.get::<_, Option<String>>(0), row.get::<_, bool>(1))) {
            Some((Some(state), true)) if state == "idle in transaction" => idle_in_a_row += 1,
            // Still running what it was sent.
            Some((_, true)) => idle_in_a_row = 0,
            // Committed, or gone.
            _ => return false,
        }
        if idle_in_a_row == 2 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_node_frozen_while_holding_the_tail_stalls_no_other_node() {
    let database = Database::fresh("talk_frozen_node").await;
    let began = Instant::now();
    let names: Vec<String> = (0..3).map(|i| format!("node{i}-{}", database.schema)).collect();
    let writers: Vec<String> = names.iter().map(|name| format!("{name} writer")).collect();
    let flags: Vec<[&str; 2]> = names.iter().map(|name| ["--postgres-application-name", name.as_str()]).collect();
    let (a, b, c) = tokio::join!(
        start_node(&database, "127.0.0.1:0", &flags[0]),
        start_node(&database, "127.0.0.1:0", &flags[1]),
        start_node(&database, "127.0.0.1:0", &flags[2]),
    );
    let nodes = [a, b, c];
    let addresses: Vec<SocketAddr> = nodes.iter().map(|n| n.address).collect();
    let (one, two) = two_talks(addresses[0], addresses[1]).await;
    let followers = followers(&one, &two);
    let stop_following = Arc::new(AtomicBool::new(false));
    let follow_tasks = follow_all(&followers, &Arc::new(Mutex::new(addresses.clone())), &stop_following);

    let sends = Arc::new(Sends::default());
    let stop_sending = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3)
        .flat_map(|node| (0..SENDERS).map(move |sender| (node, sender)))
        .map(|(node, sender)| {
            let talks = (one.clone(), two.clone());
            tokio::spawn(send(node, sender, addresses[node], talks, sends.clone(), stop_sending.clone()))
        })
        .collect();
    sends.wait_for("every node acknowledging sends", &[0, 1, 2], began).await;

    // Under load, the node holding the tail mid-batch stops.
    let (frozen, session) = freeze_the_tail_holder(&database.admin, &nodes, &writers).await;
    let stopped = Instant::now();
    let others: Vec<usize> = (0..3).filter(|&n| n != frozen).collect();

    // The other nodes' writers wait for its transaction, until the server
    // ends its session: the process being stopped, only the server's
    // idle_in_transaction_session_timeout can.
    let mut waited_for_it = false;
    within("the server ending the frozen node's session", async {
        loop {
            let row = database
                .admin
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1), \
                     EXISTS (SELECT 1 FROM pg_stat_activity \
                             WHERE application_name = ANY($2) AND $1 = ANY(pg_blocking_pids(pid)))",
                    &[&session, &writers],
                )
                .await
                .expect("pg_stat_activity");
            waited_for_it |= row.get::<_, bool>(1);
            if !row.get::<_, bool>(0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let ended = stopped.elapsed();
    assert!(waited_for_it, "no writer of another node was seen waiting for the frozen node's transaction");

    // The other two keep committing while it is still stopped.
    sends.wait_for("the other nodes committing while one is frozen", &others, stopped).await;
    let went_on = stopped.elapsed();
    assert_eq!(sends.acked_since(frozen, stopped), 0, "node {frozen} answered while stopped");

    // Woken, it answers its callers, reconnects and goes on.
    signal(&nodes[frozen], "-CONT");
    let woken = Instant::now();
    sends.wait_for("the woken node committing again", &[frozen], woken).await;
    let reconnected = database
        .admin
        .query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", &[&writers[frozen]])
        .await
        .expect("pg_stat_activity");
    assert!(reconnected.iter().all(|row| row.get::<_, i32>(0) != session), "the old session is gone");

    stop_sending.store(true, Ordering::SeqCst);
    for sender in senders {
        within("the senders", sender).await.expect("a sender");
    }

    // The log has no hole, and every acknowledged send is in it once.
    let schema = &database.schema;
    let seqs: Vec<i64> = database
        .admin
        .query(&format!("SELECT seq FROM {schema}.events ORDER BY seq"), &[])
        .await
        .expect("the log")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let tail: i64 =
        database.admin.query_one(&format!("SELECT seq FROM {schema}.log_tail"), &[]).await.expect("tail").get(0);
    assert_eq!(seqs, (1..=tail).collect::<Vec<_>>(), "the log up to its tail, without a hole");
    let created: BTreeMap<String, i64> = database
        .admin
        .query(
            &format!(
                "SELECT message_id::text, count(*) FROM {schema}.events \
                 WHERE type = 'message_created' GROUP BY message_id"
            ),
            &[],
        )
        .await
        .expect("the messages created")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let acks = sends.acks.lock().expect("lock").iter().map(|a| (a.node, a.id.clone())).collect::<Vec<_>>();
    for (node, id) in &acks {
        assert_eq!(created.get(id), Some(&1), "message {id}, acknowledged by node {node}, once in the log");
    }

    // Every client received exactly what the log says, each once, in order.
    let summary = every_follower_matches_the_log(addresses[0], &followers, &stop_following, follow_tasks).await;
    let failures = sends.failures.lock().expect("lock").clone();
    eprintln!(
        "frozen_node: node {frozen} stopped holding the tail (backend {session}); its session ended after {ended:?}; \
         the other nodes acknowledged {SOME} sends each within {went_on:?} of the stop; {} sends acknowledged, \
         failed answers by (node, status): {failures:?}; clients: {summary}; the test took {:?}",
        acks.len(),
        began.elapsed()
    );

    for mut node in nodes {
        let _ = node.child.kill().await;
    }
    database.drop_schema().await;
}
