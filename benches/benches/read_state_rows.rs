//! Rows R1, R1b and R3: read state (see the README table).

use super::*;

// ----------------------------------------------------------- rows R1, R1b

/// A SQLite database in `dir` where agent-0 is in `talks` group talks (with
/// agent-1), each holding `unread` normal messages of agent-1 that agent-0
/// has not read. The talks are made through the Hub; the messages are
/// written in bulk with plain rusqlite as the store numbers them (seq, ord,
/// the talk's normal_total), which is what the counts read.
async fn unread_db(dir: &Path, talks: usize, unread: usize) -> Hub {
    let path = dir.join("bench.db");
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).expect("open the database");
        let hub = Hub::new(Arc::new(store));
        for t in 0..talks {
            let input = NewTalk {
                kind: TalkKind::Group,
                name: Some(format!("talk {t}")),
                detail: None,
                participant_ids: vec![agent(1)],
            };
            hub.create_talk(&agent(0), input).await.expect("create a talk");
        }
    }
    let mut conn = baseline::sqlite_connection(&path, "OFF").expect("open the database");
    let ids: Vec<Vec<u8>> = {
        let mut statement = conn.prepare("SELECT id FROM talks").expect("talk ids");
        statement.query_map([], |row| row.get(0)).expect("talks").collect::<Result<_, _>>().expect("ids")
    };
    let tx = conn.transaction().expect("a transaction");
    {
        let mut seq: i64 = 1_000_000;
        let mut insert = tx
            .prepare(
                "INSERT INTO messages (id, talk_id, kind, agent_id, text, medias, version, seq, tm_create, tm_update, ord) \
                 VALUES (?1, ?2, 'normal', 'agent-1', 'unread', '[]', 1, ?3, 0, 0, ?4)",
            )
            .expect("insert");
        for talk in &ids {
            for ord in 1..=unread {
                seq += 1;
                let id = uuid::Uuid::now_v7();
                insert.execute(rusqlite::params![id.as_bytes().as_slice(), talk, seq, ord as i64]).expect("a message");
            }
        }
        tx.execute("UPDATE talks SET normal_total = ?1", [unread as i64]).expect("the totals");
    }
    tx.commit().expect("commit");
    drop(conn);
    let store = SqliteStore::open(&path, SqliteOptions::default()).expect("reopen the database");
    Hub::new(Arc::new(store))
}

/// The fastest of `blocks` blocks of `per_block` calls of `page`, per call.
async fn fastest<F, Fut>(blocks: usize, per_block: usize, mut page: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = Duration::MAX;
    for _ in 0..blocks {
        let t = Instant::now();
        for _ in 0..per_block {
            page().await;
        }
        best = best.min(t.elapsed());
    }
    best / u32::try_from(per_block).unwrap_or(u32::MAX)
}

/// Rows R1 and R1b: the talk list page of 50 talks with counts, on SQLite,
/// when every talk holds many unread messages against few, and against
/// the same page without counts; the unread totals of an agent in 1 000
/// talks.
pub(crate) async fn talk_page_counts(mode: Mode) -> Vec<Row> {
    let many = mode.pick(10_000, 100_000);
    let (blocks, per_block) = mode.pick((5, 20), (20, 50));
    let (many_dir, few_dir, totals_dir) = (tempfile::tempdir(), tempfile::tempdir(), tempfile::tempdir());
    let (many_dir, few_dir, totals_dir) =
        (many_dir.expect("a directory"), few_dir.expect("a directory"), totals_dir.expect("a directory"));
    let many_hub = unread_db(many_dir.path(), 50, many).await;
    let few_hub = unread_db(few_dir.path(), 50, 100).await;
    let me = agent(0);
    let page = PageRequest::of_size(50);
    let check = many_hub.talks_with_counts(&me, None, &page).await.expect("a page");
    assert!(check.items.iter().all(|t| t.counts.is_some_and(|c| c.unread_count == many as u64)), "exact counts");
    let (mut with_many, mut with_few, mut without) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        with_many = with_many.min(
            fastest(blocks, per_block, || async {
                std::hint::black_box(many_hub.talks_with_counts(&me, None, &page).await.expect("a page"));
            })
            .await,
        );
        with_few = with_few.min(
            fastest(blocks, per_block, || async {
                std::hint::black_box(few_hub.talks_with_counts(&me, None, &page).await.expect("a page"));
            })
            .await,
        );
        without = without.min(
            fastest(blocks, per_block, || async {
                std::hint::black_box(many_hub.talks(&me, None, &page).await.expect("a page"));
            })
            .await,
        );
    }
    let growth = with_many.as_secs_f64() / with_few.as_secs_f64();
    let cost = with_many.as_secs_f64() / without.as_secs_f64();
    let totals_hub = unread_db(totals_dir.path(), 1_000, 10).await;
    let totals = totals_hub.unread_totals(&me).await.expect("the totals");
    assert_eq!((totals.talks, totals.messages), (1_000, 10_000), "exact totals");
    let totals_time = fastest(blocks.min(10), 5, || async {
        std::hint::black_box(totals_hub.unread_totals(&me).await.expect("the totals"));
    })
    .await;
    let many_shown = if many >= 100_000 { "100 000".to_owned() } else { many.to_string() };
    vec![
        Row {
            id: "R1".into(),
            what: format!(
                "talk list page of 50 with counts (Hub::talks_with_counts, SqliteStore), {many_shown} unread messages a talk"
            ),
            figure: show(with_many),
            baseline: format!("{} (same page, 100 unread a talk)", show(with_few)),
            ratio: growth,
            goal: "≤ 1.2×".into(),
            met: growth <= 1.2,
        },
        Row {
            id: "R1".into(),
            what: format!("same page with counts against without ({many_shown} unread a talk)"),
            figure: show(with_many),
            baseline: format!("{} (Hub::talks, the page without counts)", show(without)),
            ratio: cost,
            goal: "≤ 2×".into(),
            met: cost <= 2.0,
        },
        Row {
            id: "R1b".into(),
            what: "unread totals of an agent in 1 000 talks (Hub::unread_totals, SqliteStore)".into(),
            figure: show(totals_time),
            baseline: format!("{} (R1's page of 50 with counts)", show(with_many)),
            ratio: totals_time.as_secs_f64() / with_many.as_secs_f64(),
            goal: "report".into(),
            met: true,
        },
    ]
}

// ---------------------------------------------------------------- row R3

/// `mark_read` by `readers` concurrent agents (agent-1 … agent-readers) for
/// about `budget`, each moving its marker forward one message at a time
/// through `messages` (sent before by agent-0): every call moves a marker
/// (a write and a `talk_read` event). Answers the calls and their time.
async fn hub_reads(
    hub: &Hub,
    talk: TalkId,
    messages: &Arc<Vec<MessageId>>,
    next: &Arc<Vec<AtomicUsize>>,
    budget: Duration,
) -> (usize, Duration) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..next.len())
        .map(|i| {
            let (hub, messages, next) = (hub.clone(), messages.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = 0;
                while start.elapsed() < budget {
                    let k = next[i].fetch_add(1, Ordering::Relaxed);
                    let Some(&message) = messages.get(k) else { break };
                    hub.mark_read(&agent(i + 1), talk, Some(message)).await.expect("mark_read");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("a reader task");
    }
    (done, start.elapsed())
}

/// Row R3: `mark_read` throughput on SQLite (NORMAL), 64 agents at once,
/// against `send_message` by 64 agents at once, in alternating slices of
/// time, each on its own database.
pub(crate) async fn mark_read_rate(mode: Mode) -> Row {
    const AGENTS: usize = 64;
    let (slices, slice) = mode.pick((2, Duration::from_millis(150)), (6, Duration::from_millis(400)));
    let read_dir = tempfile::tempdir().expect("a temporary directory");
    let send_dir = tempfile::tempdir().expect("a temporary directory");
    let (reader_hub, read_talk) = sqlite_hub(read_dir.path(), Synchronous::Normal, AGENTS + 1).await;
    let (sender_hub, send_talk) = sqlite_hub(send_dir.path(), Synchronous::Normal, AGENTS).await;
    // Enough messages for every reader to move forward on every call.
    let enough = mode.pick(2_000, 12_000);
    let mut messages = Vec::with_capacity(enough);
    for k in 0..enough {
        let text = format!("to read {k}");
        let sent = reader_hub
            .send_message(&agent(0), read_talk, NewMessage { text, ..NewMessage::default() })
            .await
            .expect("send");
        messages.push(sent.resource.id);
    }
    let messages = Arc::new(messages);
    let next: Arc<Vec<AtomicUsize>> = Arc::new((0..AGENTS).map(|_| AtomicUsize::new(0)).collect());
    let (mut reads, mut read_time, mut sends, mut send_time) = (0, Duration::ZERO, 0, Duration::ZERO);
    for _ in 0..slices {
        let (done, time) = hub_reads(&reader_hub, read_talk, &messages, &next, slice).await;
        reads += done;
        read_time += time;
        let (done, time) = hub_sends(&sender_hub, send_talk, AGENTS, slice).await;
        sends += done;
        send_time += time;
    }
    let read_rate = reads as f64 / read_time.as_secs_f64();
    let send_rate = sends as f64 / send_time.as_secs_f64();
    let ratio = read_rate / send_rate;
    Row {
        id: "R3".into(),
        what: "mark_read, Hub on SqliteStore (NORMAL), 64 agents at once (each call moves a marker)".into(),
        figure: show_rate(read_rate),
        baseline: format!("{} (send_message, 64 senders at once, same run)", show_rate(send_rate)),
        ratio,
        goal: "≥ 0.5×".into(),
        met: ratio >= 0.5,
    }
}
