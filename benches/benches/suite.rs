//! The benchmark suite: `cargo bench -p talk-benches` (add `-- --quick` for a
//! short run). Prints one Markdown table row per figure, beside its baseline
//! measured in the same run.

use std::sync::Arc;
use std::time::Instant;

use talk_benches::{Mode, Row, baseline, median, print_header, show, show_rate};
use talk_core::{AgentId, Delivery, Hub, Limits, NewMessage, NewTalk, Scope, TalkKind};
use talk_store_memory::MemoryStore;
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn main() {
    let mode = Mode::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    print_header();
    runtime.block_on(async {
        for synchronous in [Synchronous::Full, Synchronous::Normal] {
            sqlite_group_commit(mode, synchronous).await.print();
        }
        for n in mode.pick(vec![1_000], vec![1_000, 10_000]) {
            dispatch_fan_out(mode, n).await.print();
        }
    });
}

/// Sends per second through a Hub on SqliteStore with `senders` concurrent
/// senders (each its own agent, in one talk), `per_sender` sends each.
async fn sqlite_send_rate(synchronous: Synchronous, senders: usize, per_sender: usize) -> f64 {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = SqliteOptions::default().synchronous(synchronous);
    let store = SqliteStore::open(dir.path().join("bench.db"), options).expect("open the database");
    let hub = Hub::new(Arc::new(store));
    let talk = hub
        .create_talk(&agent(0), NewTalk {
            kind: TalkKind::Group,
            name: Some("throughput".into()),
            detail: None,
            participant_ids: (1..senders).map(agent).collect(),
        })
        .await
        .expect("create the talk")
        .resource;
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|i| {
            let hub = hub.clone();
            tokio::spawn(async move {
                for n in 0..per_sender {
                    let text = format!("message {n} from sender {i}");
                    hub.send_message(&agent(i), talk.id, NewMessage { text, ..NewMessage::default() })
                        .await
                        .expect("send");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender task");
    }
    (senders * per_sender) as f64 / start.elapsed().as_secs_f64()
}

/// Issue 4's figure: 64 concurrent senders against one, same Hub and store
/// settings: group commit must give at least 3× the throughput.
async fn sqlite_group_commit(mode: Mode, synchronous: Synchronous) -> Row {
    let one = sqlite_send_rate(synchronous, 1, mode.pick(100, 1_000)).await;
    let many = sqlite_send_rate(synchronous, 64, mode.pick(10, 100)).await;
    let ratio = many / one;
    Row {
        id: "2b".into(),
        what: format!("send_message, Hub on SqliteStore ({synchronous:?}), 64 concurrent senders vs one"),
        figure: show_rate(many),
        baseline: format!("{} (one sender)", show_rate(one)),
        ratio,
        goal: "≥ 3×".into(),
        met: ratio >= 3.0,
    }
}

fn agent(i: usize) -> AgentId {
    AgentId::parse(&format!("agent-{i}")).expect("a valid agent id")
}

/// Dispatch to `n` in-process subscribers of one talk: from `send_message`
/// until every subscriber holds the event.
async fn dispatch_fan_out(mode: Mode, n: usize) -> Row {
    let rounds = mode.pick(5, 30);
    let mut limits = Limits::default();
    limits.participants_per_talk_max = n + 1;
    let hub = Hub::builder(Arc::new(MemoryStore::new())).limits(limits).build();
    let talk = hub
        .create_talk(&agent(0), NewTalk {
            kind: TalkKind::Group,
            name: Some("fan-out".into()),
            detail: None,
            participant_ids: (1..=n).map(agent).collect(),
        })
        .await
        .expect("create the talk")
        .resource;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    for i in 1..=n {
        let mut subscription = hub.subscribe(&agent(i), Scope::Talk(talk.id), None).await.expect("subscribe");
        let done = done_tx.clone();
        tokio::spawn(async move {
            while let Some(item) = subscription.next().await {
                if let Delivery::Event(shared) = item {
                    std::hint::black_box(&shared.encoded);
                    let _ = done.send(shared.event.seq);
                }
            }
        });
    }
    let mut samples = Vec::with_capacity(rounds);
    let mut encoded_len = 0;
    for round in 0..rounds {
        let start = Instant::now();
        let sent = hub
            .send_message(&agent(0), talk.id, NewMessage { text: format!("round {round}"), ..NewMessage::default() })
            .await
            .expect("send");
        encoded_len = sent.resource.text.len() + 600;
        let mut received = 0;
        while received < n {
            if done_rx.recv().await == Some(sent.resource.seq) {
                received += 1;
            }
        }
        samples.push(start.elapsed());
    }
    let figure = median(samples);
    let bytes: Arc<str> = Arc::from("x".repeat(encoded_len));
    let base = median(baseline::channel_fan_out(n, rounds, bytes).await);
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-9);
    Row {
        id: "3a".into(),
        what: format!("send → {n} in-process subscribers hold the event (p50)"),
        figure: show(figure),
        baseline: format!("{} (bare tokio channel fan-out)", show(base)),
        ratio,
        goal: "report".into(),
        met: true,
    }
}
