//! The search rows: S1, S2 (SQLite: a search through SqliteStore beside the
//! same FTS5 query on a bare table), S3 (the cost of indexing on write), S4
//! (PostgreSQL: a search through PostgresStore beside a bare `tsvector`
//! query on the same rows).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::params;
use talk_benches::baseline::{self, SqliteSends};
use talk_benches::{Mode, Row, median, show, show_rate};
use talk_core::store::SearchQuery;
use talk_core::{IdGenerator, Limits, Store, UuidV7Generator};
use talk_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

use crate::agent;

/// The rare word: one message in 1,000 has it, followed by the phrase's
/// second word (which every message has).
const RARE: &str = "zanzibar";

/// A message's text: every one mentions the harbour; one in 1,000 is about
/// Zanzibar's.
fn text_of(i: usize) -> String {
    if i % 1_000 == 500 {
        format!("the {RARE} harbour shipment {i} arrived early, unloading starts at dawn")
    } else {
        format!("history message {i}: a line about the harbour and the shipment plan, give or take.")
    }
}

/// The database of S1 and S2: `count` messages over `talks` talks, the
/// searcher (agent-0) and agent-1 active in every one, in the store's
/// schema with its search index; beside them, the bare baseline: a table of
/// the same texts with the same FTS5 index, no talks, no participants.
struct SearchDb {
    _dir: tempfile::TempDir,
    path: PathBuf,
    count: usize,
    talks: usize,
    built: Duration,
}

impl SearchDb {
    fn build(mode: Mode) -> Self {
        let (count, talks) = mode.pick((100_000, 100), (1_000_000, 1_000));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("search.db");
        drop(SqliteStore::open(&path, SqliteOptions::default()).expect("create the schema"));
        let started = Instant::now();
        build(&path, count, talks);
        Self { _dir: dir, path, count, talks, built: started.elapsed() }
    }
}

/// Fills the database in plain SQL, one transaction: the talks, the two
/// agents' records, the messages with their index entries (words folded by
/// talk-core, as the store writes them), and the bare table and its index.
fn build(path: &Path, count: usize, talks: usize) {
    let mut conn = rusqlite::Connection::open(path).expect("open the database");
    conn.pragma_update(None, "synchronous", "OFF").expect("a pragma");
    conn.pragma_update(None, "cache_size", -262_144).expect("a pragma");
    let tx = conn.transaction().expect("a transaction");
    tx.execute_batch(
        "CREATE TABLE bare (id INTEGER PRIMARY KEY, text TEXT NOT NULL); \
         CREATE VIRTUAL TABLE bare_search USING fts5(words, content = '', contentless_delete = 1, \
         tokenize = 'ascii', prefix = '1 2 3 4'); \
         INSERT INTO bare_search (bare_search, rank) VALUES ('secure-delete', 1);",
    )
    .expect("the bare table");
    let now: i64 = 1_700_000_000_000_000_000;
    let mut seq: i64 = 0;
    let mut talk_ids = Vec::with_capacity(talks);
    {
        let mut talk = tx
            .prepare(
                "INSERT INTO talks (id, kind, name, detail, status, creator_id, member_count, version, created_seq, \
                 tm_create, tm_update) VALUES (?1, 'group', 'search', '', 'active', 'agent-0', 2, 1, ?2, ?3, ?3)",
            )
            .expect("a statement");
        let mut record = tx
            .prepare(
                "INSERT INTO participants (id, talk_id, agent_id, status, seq, joined_seq, talk_seq, tm_joined) \
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?5, ?6)",
            )
            .expect("a statement");
        for _ in 0..talks {
            seq += 1;
            let id = *UuidV7Generator.new_uuid().as_bytes();
            talk.execute(params![&id[..], seq, now + seq]).expect("a talk");
            let created = seq;
            for who in ["agent-0", "agent-1"] {
                seq += 1;
                let record_id = *UuidV7Generator.new_uuid().as_bytes();
                record.execute(params![&record_id[..], &id[..], who, seq, created, now + seq]).expect("a record");
            }
            talk_ids.push(id);
        }
        let mut message = tx
            .prepare(
                "INSERT INTO messages (id, talk_id, parent_id, kind, agent_id, text, medias, reply_count, version, \
                 seq, tm_create, tm_update) VALUES (?1, ?2, NULL, 'normal', ?3, ?4, '[]', 0, 1, ?5, ?6, ?6)",
            )
            .expect("a statement");
        let mut index = tx.prepare("INSERT INTO message_search (rowid, words) VALUES (?1, ?2)").expect("a statement");
        let mut bare = tx.prepare("INSERT INTO bare (id, text) VALUES (?1, ?2)").expect("a statement");
        let mut bare_index = tx.prepare("INSERT INTO bare_search (rowid, words) VALUES (?1, ?2)").expect("a statement");
        for i in 0..count {
            seq += 1;
            let id = *UuidV7Generator.new_uuid().as_bytes();
            let text = text_of(i);
            let words = talk_core::text::index_text(&text);
            let author = if i % 2 == 0 { "agent-0" } else { "agent-1" };
            message
                .execute(params![&id[..], &talk_ids[i % talks][..], author, text, seq, now + seq])
                .expect("a message");
            index.execute(params![seq, words]).expect("an index entry");
            bare.execute(params![seq, text]).expect("a bare row");
            bare_index.execute(params![seq, words]).expect("a bare index entry");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch(
        "PRAGMA optimize; INSERT INTO message_search (message_search) VALUES ('optimize'); \
                        INSERT INTO bare_search (bare_search) VALUES ('optimize');",
    )
    .expect("optimize");
}

/// The bare query: the FTS5 index walked newest first, each hit's row read
/// by its rowid, no visibility, no filters.
const BARE_QUERY: &str = "SELECT bare.id, bare.text FROM bare_search CROSS JOIN bare ON bare.id = bare_search.rowid \
     WHERE bare_search MATCH ?1 ORDER BY bare_search.rowid DESC LIMIT ?2";

fn bare_page(conn: &rusqlite::Connection, matching: &str, limit: i64) -> usize {
    let mut statement = conn.prepare_cached(BARE_QUERY).expect("the bare query");
    let rows = statement
        .query_map(params![matching, limit], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .expect("run the bare query");
    let rows: Vec<(i64, String)> = rows.map(|row| row.expect("a bare row")).collect();
    rows.len()
}

/// Rows S1 and S2: a first page of 50 through SqliteStore (visibility
/// join, filters, messages decoded with their reactions) beside the same
/// FTS5 query on the bare table, alternating, medians.
pub(crate) async fn sqlite_search(mode: Mode) -> Vec<Row> {
    let db = SearchDb::build(mode);
    let store = SqliteStore::open(&db.path, SqliteOptions::default()).expect("reopen the database");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&db.path, flags).expect("a read connection");
    let listed = Limits::default().reactors_listed_per_emoji;
    let searcher = agent(0);
    let cases = [
        ("S1", "one-word query", RARE.to_owned(), format!("\"{RARE}\"*"), "≤ 1.5×", 1.5),
        ("S2", "prefix query", "zanzi".to_owned(), "\"zanzi\"*".to_owned(), "≤ 2×", 2.0),
        ("S2", "two-word phrase", format!("\"{RARE} harbour\""), format!("\"{RARE} harbour\""), "≤ 2×", 2.0),
    ];
    let iterations = mode.pick(50, 300);
    let budget = mode.pick(Duration::from_secs(1), Duration::from_secs(5));
    let mut rows = Vec::new();
    for (id, name, q, matching, goal, bound) in cases {
        let query = SearchQuery::text(&q);
        let (mut figure, mut base) = (Vec::new(), Vec::new());
        let start = Instant::now();
        while figure.len() < iterations && (figure.is_empty() || start.elapsed() < budget) {
            let t = Instant::now();
            let got = store.search_messages(&searcher, &query, None, 51, listed).await.expect("a search").len();
            figure.push(t.elapsed());
            let t = Instant::now();
            let plain = bare_page(&conn, &matching, 51);
            base.push(t.elapsed());
            assert_eq!(got, plain, "{name}: the same page");
            assert_eq!(got, 51, "{name}: a full page and one more");
        }
        let (figure, base) = (median(figure), median(base));
        let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-12);
        rows.push(Row {
            id: id.into(),
            what: format!(
                "search, {name} `{q}`, first page of 50, SqliteStore: {} of {} messages match, {} talks the \
                 searcher is in (built in {:.1} s) (p50)",
                db.count / 1_000,
                db.count,
                db.talks,
                db.built.as_secs_f64()
            ),
            figure: show(figure),
            baseline: format!(
                "{} (the same FTS5 query on a bare table with the same index, no visibility)",
                show(base)
            ),
            ratio,
            goal: goal.into(),
            met: ratio <= bound,
        });
    }
    drop(store);
    rows
}

/// Row S3: what indexing costs on write: plain rusqlite sends with their
/// search index entry beside the same sends without it (rows 1 and 2's
/// baselines, with `synchronous=NORMAL`), 1 and 64 sends per transaction.
pub(crate) async fn index_on_write(mode: Mode) -> Vec<Row> {
    let (slices, slice) = mode.pick((2, Duration::from_millis(150)), (8, Duration::from_millis(400)));
    let mut rows = Vec::new();
    for senders in [1, 64] {
        let with_dir = tempfile::tempdir().expect("a temporary directory");
        let without_dir = tempfile::tempdir().expect("a temporary directory");
        let (setup, with_talk) = crate::sqlite_hub(with_dir.path(), Synchronous::Normal, senders).await;
        drop(setup);
        let (setup, without_talk) = crate::sqlite_hub(without_dir.path(), Synchronous::Normal, senders).await;
        drop(setup);
        let open = |dir: &tempfile::TempDir| {
            baseline::sqlite_connection(&dir.path().join("bench.db"), "NORMAL").expect("open the database")
        };
        let mut with = SqliteSends::new(open(&with_dir), with_talk, (0..senders).map(agent).collect());
        let mut without = SqliteSends::new(open(&without_dir), without_talk, (0..senders).map(agent).collect())
            .without_search_index();
        let (mut with_sent, mut with_time, mut without_sent, mut without_time) = (0, Duration::ZERO, 0, Duration::ZERO);
        for _ in 0..slices {
            let (sent, time) = crate::baseline_sends(&mut with, senders, slice);
            with_sent += sent;
            with_time += time;
            let (sent, time) = crate::baseline_sends(&mut without, senders, slice);
            without_sent += sent;
            without_time += time;
        }
        let (with_rate, without_rate) =
            (with_sent as f64 / with_time.as_secs_f64(), without_sent as f64 / without_time.as_secs_f64());
        let ratio = with_rate / without_rate;
        let cost = Duration::from_secs_f64((1.0 / with_rate - 1.0 / without_rate).max(0.0));
        rows.push(Row {
            id: "S3".into(),
            what: format!(
                "sends with the search index entry (NORMAL, {senders} send(s)/tx, plain rusqlite; rows 1 and 2 \
                 include it on both sides): indexing costs {} per message",
                show(cost)
            ),
            figure: show_rate(with_rate),
            baseline: format!("{} (the same sends without the index entry)", show_rate(without_rate)),
            ratio,
            goal: "report".into(),
            met: true,
        });
    }
    rows
}

/// Row S4: the S1 query through PostgresStore beside a bare `tsvector`
/// query on a copy of the same rows (a table of `seq`, text and words with
/// the same GIN index, no visibility join), medians; the messages are sent
/// through the Hub (so the store writes their words). `None` when no
/// PostgreSQL server is configured.
pub(crate) async fn postgres_search(mode: Mode) -> Option<Vec<Row>> {
    use std::sync::Arc;
    use talk_core::{Hub, NewMessage, NewTalk, TalkKind};
    use talk_store_postgres::{PostgresOptions, PostgresStore};

    let url = crate::postgres_rows::url()?;
    let schema = format!("talk_bench_search_{:x}", crate::postgres_rows::rand_suffix());
    let options = PostgresOptions { schema: Some(schema.clone()), ..PostgresOptions::default() };
    let store = Arc::new(PostgresStore::connect(&url, options).await.expect("connect to PostgreSQL"));
    let hub = Hub::new(store.clone());
    let (count, talks) = mode.pick((10_000, 20), (100_000, 100));
    let mut talk_ids = Vec::with_capacity(talks);
    for _ in 0..talks {
        let new_talk = NewTalk {
            kind: TalkKind::Group,
            name: Some("search".into()),
            detail: None,
            participant_ids: vec![agent(1)],
        };
        talk_ids.push(hub.create_talk(&agent(0), new_talk).await.expect("a talk").resource.id);
    }
    let started = Instant::now();
    let senders = 32;
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let (hub, talk_ids) = (hub.clone(), talk_ids.clone());
            tokio::spawn(async move {
                for i in (s..count).step_by(senders) {
                    let text = NewMessage { text: text_of(i), ..NewMessage::default() };
                    hub.send_message(&agent(i % 2), talk_ids[i % talks], text).await.expect("send");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender task");
    }
    let built = started.elapsed();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".bare AS SELECT seq, text, search_words FROM \"{schema}\".messages \
             WHERE kind = 'normal'; \
             CREATE INDEX bare_search ON \"{schema}\".bare USING gin (search_words); \
             ANALYZE \"{schema}\".bare; ANALYZE \"{schema}\".messages; ANALYZE \"{schema}\".participants;"
        ))
        .await
        .expect("the bare table");
    let bare = client
        .prepare(&format!(
            "SELECT seq, text FROM \"{schema}\".bare WHERE search_words @@ $1::text::tsquery \
             ORDER BY seq DESC LIMIT 51"
        ))
        .await
        .expect("the bare query");
    let listed = Limits::default().reactors_listed_per_emoji;
    let query = SearchQuery::text(RARE);
    let matching = format!("'{RARE}':*");
    let iterations = mode.pick(20, 200);
    let (mut figure, mut base) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        let t = Instant::now();
        let got = store.search_messages(&agent(0), &query, None, 51, listed).await.expect("a search").len();
        figure.push(t.elapsed());
        let t = Instant::now();
        let plain = client.query(&bare, &[&matching]).await.expect("the bare query").len();
        base.push(t.elapsed());
        assert_eq!(got, plain, "the same page");
        assert!(got > 0, "the query matches");
    }
    drop(client);
    let _ = connection.await;
    drop(hub);
    drop(store);
    crate::postgres_rows::drop_schema(&url, &schema).await;
    let (figure, base) = (median(figure), median(base));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-12);
    Some(vec![Row {
        id: "S4".into(),
        what: format!(
            "search, one-word query `{RARE}`, first page of 50, PostgresStore: {} of {count} messages match, \
             {talks} talks the searcher is in (sent through the Hub in {:.1} s) (p50)",
            count / 1_000,
            built.as_secs_f64()
        ),
        figure: show(figure),
        baseline: format!("{} (a bare tsvector query, same GIN index, same rows, no visibility)", show(base)),
        ratio,
        goal: "report".into(),
        met: true,
    }])
}
