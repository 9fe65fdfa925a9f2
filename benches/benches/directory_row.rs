//! Row D: the public talk directory (see the README table).

use super::*;

// ---------------------------------------------------------------- row D

/// Row D: the directory's first page (50, the Hub asks for 51) with a
/// one-word `q`, through SqliteStore, over 100,000 talks of which 10,000
/// are public (every tenth; one in seven of those closed). A public talk is named
/// `<topic> <color> <n>` from 25 topics and 8 colors, so `q` (a topic's
/// first 5 letters) matches one public talk in 25: the page walks about
/// 1,500 index entries. Against the same query on a bare table of the
/// same rows with the same index, in the same database (plain rusqlite).
pub(crate) async fn directory(mode: Mode) -> Row {
    use rusqlite::params;
    use talk_core::IdGenerator;
    const TOPICS: [&str; 25] = [
        "general",
        "random",
        "support",
        "release",
        "design",
        "backend",
        "frontend",
        "mobile",
        "security",
        "billing",
        "growth",
        "hiring",
        "events",
        "music",
        "books",
        "travel",
        "gardening",
        "cooking",
        "running",
        "cycling",
        "chess",
        "movies",
        "photos",
        "science",
        "history",
    ];
    const COLORS: [&str; 8] = ["Red", "Green", "Blue", "Amber", "Ivory", "Coral", "Slate", "Olive"];
    let total = mode.pick(20_000, 100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("directory.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).expect("create the schema"));
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open the database");
        conn.pragma_update(None, "synchronous", "OFF").expect("a pragma");
        conn.execute_batch(baseline::BARE_DIRECTORY_SCHEMA).expect("the bare table");
        let tx = conn.transaction().expect("a transaction");
        {
            let mut talk = tx
                .prepare(
                    "INSERT INTO talks (id, kind, name, detail, status, creator_id, member_count, version, \
                     created_seq, tm_create, tm_update, name_words) \
                     VALUES (?1, ?2, ?3, '', ?4, 'agent-0', 1, 1, ?5, ?6, ?6, ?7)",
                )
                .expect("a statement");
            let mut bare = tx
                .prepare(
                    "INSERT INTO bare_talks (id, kind, status, name, name_words, created_seq) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .expect("a statement");
            let now: i64 = 1_700_000_000_000_000_000;
            for i in 0..total {
                let id = talk_core::UuidV7Generator.new_uuid();
                let public = i % 10 == 0;
                let kind = if public { "public" } else { "group" };
                let status = if public && (i / 10) % 7 == 6 { "closed" } else { "active" };
                let name = if public {
                    format!("{} {} {i}", TOPICS[(i / 10) % TOPICS.len()], COLORS[(i / 250) % COLORS.len()])
                } else {
                    format!("group {i}")
                };
                let words = talk_core::text::index_text(&name);
                let seq = i64::try_from(i + 1).expect("a seq");
                talk.execute(params![id.as_bytes(), kind, name, status, seq, now, words]).expect("a talk");
                bare.execute(params![id.as_bytes(), kind, status, name, words, seq]).expect("a bare talk");
            }
        }
        tx.commit().expect("commit the talks");
        conn.execute_batch("ANALYZE").expect("analyze");
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).expect("reopen the database");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&path, flags).expect("a read connection");
    let (q, word) = ("cycli", vec!["cycli".to_owned()]);
    let iterations = mode.pick(100, 1_000);
    let budget = mode.pick(Duration::from_secs(1), Duration::from_secs(4));
    let (mut figure, mut base) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while figure.len() < iterations && (figure.is_empty() || start.elapsed() < budget) {
        let t = Instant::now();
        let got = store.public_talks(&word, None, 51).await.expect("a page").len();
        figure.push(t.elapsed());
        let t = Instant::now();
        let plain = baseline::sqlite_directory_page(&conn, q, 51).expect("a baseline page");
        base.push(t.elapsed());
        assert_eq!(got, plain, "the same page");
        assert_eq!(got, 51, "a full page and one more");
    }
    drop(store);
    let (figure, base) = (median(figure), median(base));
    let ratio = figure.as_secs_f64() / base.as_secs_f64().max(1e-12);
    Row {
        id: "D".into(),
        what: format!(
            "directory first page, q=\"{q}\", SqliteStore, {total} talks of which {} public (p50)",
            total / 10
        ),
        figure: show(figure),
        baseline: format!("{} (plain rusqlite, same query on a bare table, same index)", show(base)),
        ratio,
        goal: "≤ 1.5×".into(),
        met: ratio <= 1.5,
    }
}
