//! The benchmark suite: `cargo bench -p talk-benches` (add `-- --quick` for a
//! short run). Prints one Markdown table row per figure, beside its baseline
//! measured in the same run.
//!
//! Rows built: 1 and 2 (SQLite sends, one and 64 senders, with 2b), 3 (the
//! Hub's commands on MemoryStore, one row per command), 4 (HTTP sends over
//! 64 keep-alive connections), 5 (WebSocket fan-out to 1 … 10,000
//! subscribers), 6 (history pages in a talk of 1,000,000 messages), 7
//! (memory per idle WebSocket), 8 (a subscriber that reads nothing), 3a
//! (in-process fan-out), PG1, PG2, P2 (PostgreSQL: one node against plain
//! tokio-postgres, two nodes; see `postgres_rows.rs`), N1–N4 (fan-out against
//! nginx + nchan; see `nchan_rows.rs`), and S1–S4 (search; see `search_rows.rs`). Rows 4, 5 and 7 run their servers in a process of
//! their own (`talk-bench-server`; see `socket_rows.rs`), and so does row 9
//! (reopening the 1,000,000-message database of row 6 after that server was
//! killed mid-write; see `reopen_row.rs`). Row D: the public talk
//! directory's first page with a one-word `q` over 100,000 talks. Rows
//! T1–T4: typing and presence (see `signal_rows.rs`).

mod directory_row;
mod nchan_rows;
mod postgres_rows;
mod read_state_rows;
mod reopen_row;
mod search_rows;
mod signal_rows;
mod socket_rows;
mod webhook_row;

use directory_row::directory;
use read_state_rows::{mark_read_rate, talk_page_counts};

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use talk_benches::baseline::{self, PlainChat, SqliteSends};
use talk_benches::{Mode, Row, median, print_header, show, show_rate};
use talk_core::{
    AgentId, Delivery, DeliveryOptions, Emoji, EndReason, EventData, Hub, Limits, MessageId, NewMessage, NewTalk,
    PageRequest, Scope, Store, TalkId, TalkKind,
};
use talk_store_memory::MemoryStore;
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn main() {
    let mode = Mode::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    print_header();
    runtime.block_on(async {
        if selected("1") || selected("2") {
            for synchronous in [Synchronous::Full, Synchronous::Normal] {
                for row in sqlite_sends(mode, synchronous).await {
                    row.print();
                }
            }
            send_reads(mode).await.print();
        }
        if selected("R") {
            for row in talk_page_counts(mode).await {
                row.print();
            }
            mark_read_rate(mode).await.print();
        }
        if selected("3") {
            for row in memory_commands(mode).await {
                row.print();
            }
        }
        if selected("4") {
            socket_rows::http_sends(mode).await.iter().for_each(Row::print);
        }
        if selected("5") {
            socket_rows::fan_out(mode).await.iter().for_each(Row::print);
        }
        let mut history_db = None;
        if selected("6") {
            let db = history_db.get_or_insert_with(|| HistoryDb::build(mode));
            for row in history(mode, db).await {
                row.print();
            }
        }
        if selected("7") {
            socket_rows::idle_memory(mode).await.iter().for_each(Row::print);
        }
        if selected("8") {
            lagged_subscriber(mode).await.print();
        }
        if selected("W1") {
            webhook_row::webhook_delivery(mode).await.print();
        }
        if selected("9") {
            let db = history_db.get_or_insert_with(|| HistoryDb::build(mode));
            reopen_row::reopen_after_kill(mode, db).await.print();
        }
        if selected("P") {
            match postgres_rows::rows(mode).await {
                Some(rows) => rows.iter().for_each(Row::print),
                None => println_skip("PG1, PG2, P2: set TALK_BENCH_POSTGRES_URL to a PostgreSQL server to run them"),
            }
        }
        if selected("N")
            && let Err(why) = nchan_rows::rows(mode).await
        {
            println_skip(&format!("N1–N4: nginx + nchan could not run: {why}"));
        }
        if selected("D") {
            directory(mode).await.print();
        }
        if selected("S") {
            search_rows::sqlite_search(mode).await.iter().for_each(Row::print);
            search_rows::index_on_write(mode).await.iter().for_each(Row::print);
            match search_rows::postgres_search(mode).await {
                Some(rows) => rows.iter().for_each(Row::print),
                None => println_skip("S4: set TALK_BENCH_POSTGRES_URL to a PostgreSQL server to run it"),
            }
        }
        if selected("T") {
            signal_rows::run(mode).await;
        }
        if selected("3a") {
            for n in mode.pick(vec![1_000], vec![1_000, 10_000]) {
                dispatch_fan_out(mode, n).await.print();
            }
        }
    });
}

/// Prints a row that says why some rows did not run.
fn println_skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "| skipped | {why} | | | | | |");
}

/// Whether a group of rows runs: all of them, or those listed in
/// `TALK_BENCH_ROWS` (comma-separated: `1`, `2`, `3`, `3a`, `4`, `5`, `6`,
/// `7`, `8`, `9`, `D`, `N`, `P`, `R`, `S`, `T`; `1` and `2` run together; `9` reuses the database
/// of `6`; `S` is the search rows S1–S4, `N` the rows N1–N4 against nginx + nchan, `T` the
/// typing and presence rows T1–T4).
fn selected(row: &str) -> bool {
    std::env::var("TALK_BENCH_ROWS").map_or(true, |rows| rows.split(',').any(|r| r.trim() == row))
}

fn agent(i: usize) -> AgentId {
    AgentId::parse(&format!("agent-{i}")).expect("a valid agent id")
}

// ------------------------------------------------------------ rows 1, 2

/// A Hub on a new SqliteStore in `dir` with one group talk of `senders`
/// agents (agent-0 … agent-(senders-1)).
async fn sqlite_hub(dir: &Path, synchronous: Synchronous, senders: usize) -> (Hub, TalkId) {
    let options = SqliteOptions::default().synchronous(synchronous);
    let store = SqliteStore::open(dir.join("bench.db"), options).expect("open the database");
    let hub = Hub::new(Arc::new(store));
    let talk = hub
        .create_talk(
            &agent(0),
            NewTalk {
                kind: TalkKind::Group,
                name: Some("throughput".into()),
                detail: None,
                participant_ids: (1..senders).map(agent).collect(),
            },
        )
        .await
        .expect("create the talk")
        .resource;
    (hub, talk.id)
}

/// Sends through a Hub on SqliteStore by `senders` concurrent senders (each
/// its own agent, in one talk) for about `budget`: answers the number of
/// sends and the time they took.
async fn hub_sends(hub: &Hub, talk: TalkId, senders: usize, budget: Duration) -> (usize, Duration) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|i| {
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut sent = 0;
                while sent < 100_000 && start.elapsed() < budget {
                    let text = format!("message {sent} from sender {i}");
                    hub.send_message(&agent(i), talk, NewMessage { text, ..NewMessage::default() })
                        .await
                        .expect("send");
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        sent += task.await.expect("a sender task");
    }
    (sent, start.elapsed())
}

/// The baseline of rows 1 and 2 for about `budget`: the same statements in
/// plain rusqlite, `senders` sends per transaction.
fn baseline_sends(sends: &mut SqliteSends, senders: usize, budget: Duration) -> (usize, Duration) {
    let start = Instant::now();
    let mut batches = 0;
    while batches < 100_000 && start.elapsed() < budget {
        sends.send_batch(senders).expect("a baseline batch");
        batches += 1;
    }
    (batches * senders, start.elapsed())
}

/// Sends per second of the Hub and of the baseline with `senders` senders,
/// in alternating slices of time (the machine is shared: both see the same
/// load), each on its own database in the same directory.
async fn send_rates(mode: Mode, synchronous: Synchronous, senders: usize) -> (f64, f64) {
    let (slices, slice) = mode.pick((2, Duration::from_millis(150)), (8, Duration::from_millis(400)));
    let hub_dir = tempfile::tempdir().expect("a temporary directory");
    let base_dir = tempfile::tempdir().expect("a temporary directory");
    let (hub, talk) = sqlite_hub(hub_dir.path(), synchronous, senders).await;
    let (setup, base_talk) = sqlite_hub(base_dir.path(), synchronous, senders).await;
    drop(setup);
    let pragma = match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    let conn = baseline::sqlite_connection(&base_dir.path().join("bench.db"), pragma).expect("open the database");
    let mut plain = SqliteSends::new(conn, base_talk, (0..senders).map(agent).collect());
    let (mut hub_sent, mut hub_time, mut base_sent, mut base_time) = (0, Duration::ZERO, 0, Duration::ZERO);
    for _ in 0..slices {
        let (sent, time) = hub_sends(&hub, talk, senders, slice).await;
        hub_sent += sent;
        hub_time += time;
        let (sent, time) = baseline_sends(&mut plain, senders, slice);
        base_sent += sent;
        base_time += time;
    }
    (hub_sent as f64 / hub_time.as_secs_f64(), base_sent as f64 / base_time.as_secs_f64())
}

/// Row 1r (a diagnostic of row 1): the two reads `send_message` does before
/// it applies (the talk row, the sender's records), as `Hub::talk` does
/// them on SqliteStore, against the same two queries in plain rusqlite;
/// alternating blocks, the fastest block of each, per call.
async fn send_reads(mode: Mode) -> Row {
    let (blocks, per_block) = mode.pick((5, 50), (20, 200));
    let hub_dir = tempfile::tempdir().expect("a temporary directory");
    let base_dir = tempfile::tempdir().expect("a temporary directory");
    let (hub, talk) = sqlite_hub(hub_dir.path(), Synchronous::Normal, 1).await;
    let (setup, base_talk) = sqlite_hub(base_dir.path(), Synchronous::Normal, 1).await;
    drop(setup);
    let conn = baseline::sqlite_connection(&base_dir.path().join("bench.db"), "NORMAL").expect("open the database");
    let plain = SqliteSends::new(conn, base_talk, vec![agent(0)]);
    let (mut figure, mut base) = (Duration::MAX, Duration::MAX);
    for _ in 0..blocks {
        let t = Instant::now();
        for _ in 0..per_block {
            std::hint::black_box(hub.talk(&agent(0), talk).await.expect("the talk"));
        }
        figure = figure.min(t.elapsed());
        let t = Instant::now();
        for _ in 0..per_block {
            std::hint::black_box(plain.read(0).expect("the reads"));
        }
        base = base.min(t.elapsed());
    }
    let n = u32::try_from(per_block).unwrap_or(u32::MAX);
    let (figure, base) = (figure / n, base / n);
    let ratio = base.as_secs_f64() / figure.as_secs_f64().max(1e-12);
    Row {
        id: "1r".into(),
        what: "the reads of one send (talk row, sender's records) via Hub::talk on SqliteStore (per call)".into(),
        figure: show(figure),
        baseline: format!("{} (plain rusqlite, same two queries, same thread)", show(base)),
        ratio,
        goal: "report".into(),
        met: true,
    }
}

/// Rows 1, 2 and 2b at one `synchronous` setting.
async fn sqlite_sends(mode: Mode, synchronous: Synchronous) -> Vec<Row> {
    let (one, one_base) = send_rates(mode, synchronous, 1).await;
    let (many, many_base) = send_rates(mode, synchronous, 64).await;
    let ratio1 = one / one_base;
    let ratio2 = many / many_base;
    let scaling = many / one;
    vec![
        Row {
            id: "1".into(),
            what: format!("send_message, Hub on SqliteStore ({synchronous:?}), one sender"),
            figure: show_rate(one),
            baseline: format!("{} (plain rusqlite, same statements, 1 send/tx)", show_rate(one_base)),
            ratio: ratio1,
            goal: "≥ 0.8×".into(),
            met: ratio1 >= 0.8,
        },
        Row {
            id: "2".into(),
            what: format!("send_message, Hub on SqliteStore ({synchronous:?}), 64 concurrent senders"),
            figure: show_rate(many),
            baseline: format!("{} (plain rusqlite, same statements, 64 sends/tx)", show_rate(many_base)),
            ratio: ratio2,
            goal: "≥ 0.5× (and ≥ 3× row 1: see 2b)".into(),
            met: ratio2 >= 0.5 && scaling >= 3.0,
        },
        Row {
            id: "2b".into(),
            what: format!("send_message, Hub on SqliteStore ({synchronous:?}), 64 concurrent senders vs one"),
            figure: show_rate(many),
            baseline: format!(
                "{} (one sender; plain rusqlite scales {:.2}× from 1 to 64 sends/tx)",
                show_rate(one),
                many_base / one_base
            ),
            ratio: scaling,
            goal: "≥ 3×".into(),
            met: scaling >= 3.0,
        },
    ]
}

// ---------------------------------------------------------------- row 3

/// The commands of row 3.
const COMMANDS: [&str; 5] =
    ["create_talk (2 members)", "add_participant", "send_message", "add_reaction", "messages (page of 50)"];

/// Times `blocks` blocks of `per_block` calls of one command on each side,
/// alternating, and answers the fastest block of each, per call: the
/// machine is shared, and the fastest block is the one least disturbed.
struct Blocks {
    hub: Duration,
    plain: Duration,
}

impl Blocks {
    fn new() -> Self {
        Self { hub: Duration::MAX, plain: Duration::MAX }
    }

    fn per_call(&self, per_block: usize) -> (Duration, Duration) {
        let n = u32::try_from(per_block.max(1)).unwrap_or(u32::MAX);
        (self.hub / n, self.plain / n)
    }
}

/// Row 3: each command through the Hub on MemoryStore against the same
/// logical work on plain maps ([`PlainChat`]), in alternating blocks.
async fn memory_commands(mode: Mode) -> Vec<Row> {
    let (blocks, per_block) = mode.pick((10, 50), (40, 100));
    let mut limits = Limits::default();
    limits.participants_per_talk_max = blocks * per_block + 10;
    let hub = Hub::builder(Arc::new(MemoryStore::new())).limits(limits).build();
    let chat = PlainChat::new();
    let (me, other) = (agent(0), agent(1));
    let emoji = Emoji::parse("👍").expect("an emoji");
    let mut results = Vec::new();

    let (mut hub_talk, mut plain_talk) = (None, None);
    let mut timing = Blocks::new();
    for b in 0..blocks {
        let t = Instant::now();
        for i in 0..per_block {
            let input = NewTalk {
                kind: TalkKind::Group,
                name: Some(format!("talk {b}.{i}")),
                detail: None,
                participant_ids: vec![other.clone()],
            };
            let created = hub.create_talk(&me, input).await.expect("create a talk").resource;
            hub_talk.get_or_insert(created.id);
        }
        timing.hub = timing.hub.min(t.elapsed());
        let t = Instant::now();
        for i in 0..per_block {
            let created =
                chat.create_talk(&me, std::slice::from_ref(&other), &format!("talk {b}.{i}")).expect("create");
            plain_talk.get_or_insert(created.id);
        }
        timing.plain = timing.plain.min(t.elapsed());
    }
    results.push(timing.per_call(per_block));
    let (hub_talk, plain_talk) = (hub_talk.expect("a talk"), plain_talk.expect("a talk"));

    let mut timing = Blocks::new();
    for b in 0..blocks {
        let t = Instant::now();
        for i in 0..per_block {
            hub.add_participant(&me, hub_talk, &agent(100 + b * per_block + i)).await.expect("add a participant");
        }
        timing.hub = timing.hub.min(t.elapsed());
        let t = Instant::now();
        for i in 0..per_block {
            chat.add_participant(&me, plain_talk, &agent(100 + b * per_block + i)).expect("add a participant");
        }
        timing.plain = timing.plain.min(t.elapsed());
    }
    results.push(timing.per_call(per_block));

    let (mut hub_ids, mut plain_ids): (Vec<MessageId>, Vec<MessageId>) = (Vec::new(), Vec::new());
    let mut timing = Blocks::new();
    for b in 0..blocks {
        let t = Instant::now();
        for i in 0..per_block {
            let text = format!("message {b}.{i}");
            let sent = hub.send_message(&me, hub_talk, NewMessage { text, ..NewMessage::default() }).await;
            hub_ids.push(sent.expect("send").resource.id);
        }
        timing.hub = timing.hub.min(t.elapsed());
        let t = Instant::now();
        for i in 0..per_block {
            plain_ids.push(chat.send(&me, plain_talk, format!("message {b}.{i}")).expect("send").id);
        }
        timing.plain = timing.plain.min(t.elapsed());
    }
    results.push(timing.per_call(per_block));

    let mut timing = Blocks::new();
    for b in 0..blocks {
        let block = b * per_block..(b + 1) * per_block;
        let t = Instant::now();
        for id in &hub_ids[block.clone()] {
            hub.add_reaction(&me, *id, emoji.as_str()).await.expect("react");
        }
        timing.hub = timing.hub.min(t.elapsed());
        let t = Instant::now();
        for id in &plain_ids[block] {
            std::hint::black_box(chat.react(&me, *id, emoji.as_str()).expect("react"));
        }
        timing.plain = timing.plain.min(t.elapsed());
    }
    results.push(timing.per_call(per_block));

    let page = PageRequest::of_size(50);
    let mut timing = Blocks::new();
    for _ in 0..blocks {
        let t = Instant::now();
        for _ in 0..per_block {
            let items =
                hub.messages(&me, hub_talk, talk_core::MessageFilter::TopLevel, &page).await.expect("a page").items;
            assert_eq!(items.len(), 50, "a full page");
        }
        timing.hub = timing.hub.min(t.elapsed());
        let t = Instant::now();
        for _ in 0..per_block {
            let items = chat.page(&me, plain_talk, 50).expect("a page");
            assert!(items.len() >= 50, "a full page");
        }
        timing.plain = timing.plain.min(t.elapsed());
    }
    results.push(timing.per_call(per_block));

    results
        .into_iter()
        .zip(COMMANDS)
        .map(|((figure, base), command)| {
            let ratio = base.as_secs_f64() / figure.as_secs_f64().max(1e-12);
            Row {
                id: "3".into(),
                what: format!("{command}, Hub on MemoryStore (per call; ratio = throughput)"),
                figure: show(figure),
                baseline: format!("{} (plain maps behind one Mutex)", show(base)),
                ratio,
                goal: "≥ 0.5×".into(),
                met: ratio >= 0.5,
            }
        })
        .collect()
}

// ---------------------------------------------------------------- row 6

/// What the history database holds.
struct History {
    talk: TalkId,
    /// The `seq` of every top-level message, ascending.
    top_seqs: Vec<i64>,
    /// The parent of the thread read, with the `seq` bound of its first page.
    thread_parent: MessageId,
}

/// The database of rows 6 and 9: one talk of 1,000,000 messages (20,000 in
/// quick mode) in the store's schema, in a temporary directory.
struct HistoryDb {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    history: History,
    /// The messages it holds.
    count: usize,
    /// How long building it took.
    built: Duration,
}

impl HistoryDb {
    fn build(mode: Mode) -> Self {
        let count = mode.pick(20_000, 1_000_000);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("history.db");
        drop(SqliteStore::open(&path, SqliteOptions::default()).expect("create the schema"));
        let started = Instant::now();
        let history = build_history(&path, count);
        Self { _dir: dir, path, history, count, built: started.elapsed() }
    }
}

/// Builds a talk of `count` messages in the store's schema at `path`: every
/// 2,000th message is a thread parent with a reply every 20 messages of its
/// block (reply counts set), every 10th message has 3 👍, every 20th one 🎉.
/// Plain SQL in one transaction (the schema exists: the store made it).
fn build_history(path: &Path, count: usize) -> History {
    use rusqlite::params;
    use talk_core::IdGenerator;
    let mut conn = rusqlite::Connection::open(path).expect("open the database");
    conn.pragma_update(None, "synchronous", "OFF").expect("a pragma");
    conn.pragma_update(None, "cache_size", -262_144).expect("a pragma");
    let tx = conn.transaction().expect("a transaction");
    let talk = talk_core::UuidV7Generator.new_uuid();
    let now: i64 = 1_700_000_000_000_000_000;
    tx.execute(
        "INSERT INTO talks (id, kind, name, detail, status, creator_id, member_count, version, created_seq, \
         tm_create, tm_update) VALUES (?1, 'group', 'history', '', 'active', 'agent-0', 1, 1, 1, ?2, ?2)",
        params![talk.as_bytes(), now],
    )
    .expect("the talk");
    let mut top_seqs = Vec::with_capacity(count);
    let mut parents = Vec::new();
    let mut seq: i64 = 1;
    {
        let mut message = tx
            .prepare(
                "INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, medias, reply_count, version, \
                 seq, tm_create, tm_update) VALUES (?1, ?2, ?3, 'normal', ?4, ?5, '[]', 0, 1, ?6, ?7, ?7)",
            )
            .expect("a statement");
        let mut reaction = tx
            .prepare("INSERT INTO reactions (message_id, emoji, agent_id, seq, tm_create) VALUES (?1, ?2, ?3, ?4, ?5)")
            .expect("a statement");
        let mut summary = tx
            .prepare("INSERT INTO message_emoji (message_id, emoji, first_seq, count) VALUES (?1, ?2, ?3, ?4)")
            .expect("a statement");
        let agents: Vec<String> = (0..8).map(|i| format!("agent-{i}")).collect();
        let mut parent: Option<[u8; 16]> = None;
        for i in 0..count {
            seq += 1;
            let id = *talk_core::UuidV7Generator.new_uuid().as_bytes();
            let reply_to = if i % 2_000 == 0 {
                parent = Some(id);
                parents.push(id);
                None
            } else if i % 20 == 10 {
                parent
            } else {
                None
            };
            let text = format!("history message {i}: a line of chat about as long as a typical one, give or take.");
            let at = now + seq;
            message
                .execute(params![
                    &id[..],
                    talk.as_bytes(),
                    reply_to.as_ref().map(|p| &p[..]),
                    agents[i % 4],
                    text,
                    seq,
                    at
                ])
                .expect("a message");
            if reply_to.is_none() {
                top_seqs.push(seq);
            }
            if i % 10 == 3 {
                let first = seq + 1;
                for agent in &agents[1..4] {
                    seq += 1;
                    reaction.execute(params![&id[..], "👍", agent, seq, now + seq]).expect("a reaction");
                }
                summary.execute(params![&id[..], "👍", first, 3]).expect("a summary");
                if i % 20 == 3 {
                    seq += 1;
                    reaction.execute(params![&id[..], "🎉", agents[4], seq, now + seq]).expect("a reaction");
                    summary.execute(params![&id[..], "🎉", seq, 1]).expect("a summary");
                }
            }
        }
    }
    for parent in &parents {
        tx.execute(
            "UPDATE messages SET reply_count = (SELECT count(*) FROM messages WHERE parent_id = ?1) WHERE id = ?1",
            [&parent[..]],
        )
        .expect("a reply count");
    }
    tx.commit().expect("commit the history");
    let thread_parent = parents.get(parents.len() / 2).copied().expect("a thread parent");
    History { talk: TalkId(talk), top_seqs, thread_parent: MessageId(uuid::Uuid::from_bytes(thread_parent)) }
}

/// Row 6: pages of 50 (the Hub asks for 51) in a talk of 1,000,000
/// messages, read through SqliteStore, against the same queries in plain
/// rusqlite on the same tables and indexes.
async fn history(mode: Mode, db: &HistoryDb) -> Vec<Row> {
    let (path, history, count, built) = (&db.path, &db.history, db.count, db.built);
    let store = SqliteStore::open(path, SqliteOptions::default()).expect("reopen the database");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags).expect("a read connection");
    conn.set_prepared_statement_cache_capacity(64);
    rusqlite::vtab::array::load_module(&conn).expect("rarray");
    let listed = Limits::default().reactors_listed_per_emoji;
    let tops = &history.top_seqs;
    let positions: [(&str, Option<i64>); 3] =
        [("newest", None), ("middle", Some(tops[tops.len() / 2])), ("oldest", Some(tops[50]))];
    let iterations = mode.pick(50, 400);
    let budget = mode.pick(Duration::from_secs(1), Duration::from_secs(4));
    let talk_key = history.talk.0.as_bytes().to_vec();
    let parent_key = history.thread_parent.0.as_bytes().to_vec();
    let mut rows = Vec::new();
    for (name, cursor) in positions.into_iter().map(|(n, c)| (n, Some(c))).chain([("thread", None)]) {
        let (mut figure, mut base) = (Vec::new(), Vec::new());
        let start = Instant::now();
        while figure.len() < iterations && (figure.is_empty() || start.elapsed() < budget) {
            let t = Instant::now();
            let got = match cursor {
                Some(before) => {
                    let before = before.map(|s| u64::try_from(s).expect("a seq"));
                    store.messages(history.talk, false, before, 51, listed).await.expect("a page").len()
                }
                None => store.replies(history.thread_parent, None, 51, listed).await.expect("a page").len(),
            };
            figure.push(t.elapsed());
            let t = Instant::now();
            let plain = match cursor {
                Some(before) => baseline::sqlite_page(&conn, &talk_key, false, before.unwrap_or(i64::MAX), 51, listed),
                None => baseline::sqlite_page(&conn, &parent_key, true, -1, 51, listed),
            }
            .expect("a baseline page");
            base.push(t.elapsed());
            assert_eq!(got, plain, "the same page");
            assert!(got >= 50, "a full page");
        }
        let (figure, base) = (median(figure), median(base));
        let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-12);
        rows.push(Row {
            id: "6".into(),
            what: if name == "thread" {
                format!("thread page of 50 (of 100 replies), SqliteStore, talk of {count} messages (p50)")
            } else {
                format!(
                    "main-view page of 50, {name}, SqliteStore, talk of {count} messages (built in {:.1} s) (p50)",
                    built.as_secs_f64()
                )
            },
            figure: show(figure),
            baseline: format!("{} (plain rusqlite, same queries and indexes)", show(base)),
            ratio,
            goal: "≤ 1.5×".into(),
            met: ratio <= 1.5,
        });
    }
    drop(store);
    rows
}

// ---------------------------------------------------------------- row 8

/// What one run of row 8 saw.
struct LagRun {
    /// Delivery latencies of the reading subscriber, send → `next()`.
    latencies: Vec<Duration>,
    /// Events the reading subscriber received.
    received: usize,
    /// Events the silent subscriber held before its end, and how it ended.
    silent: Option<(usize, Option<EndReason>)>,
}

/// `events` messages sent to one talk; one subscriber reads every event, and
/// (with `silent`) another reads nothing until the sends are done. The
/// sender sends the next message once the reader holds the previous one.
async fn lag_run(events: usize, options: DeliveryOptions, silent: bool) -> LagRun {
    let hub = Hub::builder(Arc::new(MemoryStore::new())).delivery(options).build();
    let talk = hub
        .create_talk(
            &agent(0),
            NewTalk {
                kind: TalkKind::Group,
                name: Some("lag".into()),
                detail: None,
                participant_ids: vec![agent(1), agent(2)],
            },
        )
        .await
        .expect("create the talk")
        .resource
        .id;
    let mut reader = hub.subscribe(&agent(1), Scope::Talk(talk), None).await.expect("subscribe");
    let mut quiet =
        if silent { Some(hub.subscribe(&agent(2), Scope::Talk(talk), None).await.expect("subscribe")) } else { None };
    let origin = Instant::now();
    let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..events).map(|_| AtomicU64::new(0)).collect());
    let received = Arc::new(AtomicUsize::new(0));
    let arrived = Arc::new(tokio::sync::Notify::new());
    let reading = {
        let (sent_at, received, arrived) = (Arc::clone(&sent_at), Arc::clone(&received), Arc::clone(&arrived));
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(events);
            while latencies.len() < events {
                let next = tokio::time::timeout(Duration::from_secs(30), reader.next()).await;
                match next {
                    Ok(Some(Delivery::Event(shared))) => {
                        if let EventData::MessageCreated(m) = &shared.event.data
                            && let Some(i) = m.text.strip_prefix('e').and_then(|n| n.parse::<usize>().ok())
                        {
                            let now = u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
                            let at = sent_at[i].load(Ordering::Acquire);
                            latencies.push(Duration::from_nanos(now.saturating_sub(at)));
                            received.fetch_add(1, Ordering::Release);
                            arrived.notify_one();
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            latencies
        })
    };
    for i in 0..events {
        // One event in flight at a time: the latency is the delivery's own,
        // not time spent queued behind earlier events.
        while i > received.load(Ordering::Acquire) {
            let woken = tokio::time::timeout(Duration::from_secs(30), arrived.notified()).await;
            if woken.is_err() {
                break;
            }
        }
        sent_at[i].store(u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Release);
        hub.send_message(&agent(0), talk, NewMessage { text: format!("e{i}"), ..NewMessage::default() })
            .await
            .expect("send");
    }
    let latencies = reading.await.expect("the reader");
    let silent = match quiet.as_mut() {
        None => None,
        Some(quiet) => {
            let (mut held, mut end) = (0, None);
            for _ in 0..events + 10 {
                match tokio::time::timeout(Duration::from_secs(5), quiet.next()).await {
                    Ok(Some(Delivery::Event(_))) => held += 1,
                    Ok(Some(Delivery::Ended(reason))) => {
                        end = Some(reason);
                        break;
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            Some((held, end))
        }
    };
    LagRun { received: latencies.len(), latencies, silent }
}

/// Row 8: a subscriber that reads nothing while 100,000 events go to its
/// talk is ended as lagged, its queue never above the bound, and a reading
/// subscriber of the same talk gets everything, as fast as without it.
async fn lagged_subscriber(mode: Mode) -> Row {
    let events = mode.pick(10_000, 100_000);
    let options = DeliveryOptions::default();
    let free = lag_run(events, options, false).await;
    let lagged = lag_run(events, options, true).await;
    let (held, end) = lagged.silent.clone().unwrap_or((usize::MAX, None));
    let bounded = held <= options.queue_bound;
    let ended_lagged = matches!(end, Some(EndReason::Lagged { .. }));
    let complete = lagged.received == events && free.received == events;
    let (figure, base) = (median(lagged.latencies), median(free.latencies));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-12);
    let end = match end {
        Some(EndReason::Lagged { .. }) => "Lagged".to_owned(),
        other => format!("{other:?}"),
    };
    Row {
        id: "8".into(),
        what: format!(
            "{events} events, one silent subscriber: it held {held} (bound {}), ended {end}; reader got {}/{events} (p50 delivery)",
            options.queue_bound, lagged.received
        ),
        figure: show(figure),
        baseline: format!("{} (no silent subscriber)", show(base)),
        ratio,
        goal: "held ≤ bound, Lagged, reader gets all (ratio: report)".into(),
        met: bounded && ended_lagged && complete,
    }
}

// --------------------------------------------------------------- row 3a

/// Dispatch to `n` in-process subscribers of one talk: from `send_message`
/// until every subscriber holds the event.
async fn dispatch_fan_out(mode: Mode, n: usize) -> Row {
    let rounds = mode.pick(5, 30);
    let mut limits = Limits::default();
    limits.participants_per_talk_max = n + 1;
    let hub = Hub::builder(Arc::new(MemoryStore::new())).limits(limits).build();
    let talk = hub
        .create_talk(
            &agent(0),
            NewTalk {
                kind: TalkKind::Group,
                name: Some("fan-out".into()),
                detail: None,
                participant_ids: (1..=n).map(agent).collect(),
            },
        )
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
                    std::hint::black_box(shared.encoded(&talk_http::WireFormat).ok());
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
