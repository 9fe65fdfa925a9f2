//! Every way the server fails to start, each as a real process: one
//! sentence on stderr naming what is wrong and the flag that fixes it, no
//! output on stdout, exit code 1. (A bad command line is clap's: `cli.rs`.)

mod common;

use std::net::TcpListener;

use common::{run, start};

/// Runs the server with `args`, which must fail to start, and returns the
/// sentence it printed after checking its form.
fn refused(args: &[&str]) -> String {
    let ended = run(args);
    assert_eq!(ended.status.code(), Some(1), "talk-server {args:?}: {ended:?}");
    assert_eq!(ended.stdout, "", "talk-server {args:?}");
    let sentence = ended.stderr.strip_suffix('\n').unwrap_or_else(|| panic!("one line: {:?}", ended.stderr));
    assert!(!sentence.contains('\n'), "one line: {sentence:?}");
    let sentence = sentence.strip_prefix("error: ").unwrap_or_else(|| panic!("error: first: {sentence:?}"));
    // A sentence, not a debug dump.
    assert!(!sentence.contains('{') && !sentence.contains("Os "), "{sentence}");
    sentence.to_owned()
}

fn assert_names(sentence: &str, words: &[&str]) {
    for word in words {
        assert!(sentence.contains(word), "{word:?} missing from {sentence:?}");
    }
}

#[test]
fn a_busy_address_names_it_and_listen() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let sentence = refused(&["--db", ":memory:", "--listen", &address]);
    assert_names(&sentence, &[&address, "already uses", "--listen"]);
}

#[test]
fn a_database_in_use_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("talk.db");
    let db = db.to_str().unwrap();
    let _first = start(&["--db", db, "--listen", "127.0.0.1:0"]);
    let sentence = refused(&["--db", db, "--listen", "127.0.0.1:0"]);
    assert_names(&sentence, &[db, "already in use by another Talk server", "--db"]);
}

#[test]
fn a_file_that_is_not_a_database_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "not a database, but long enough to have a header that SQLite reads and rejects\n".repeat(20))
        .unwrap();
    let db = db.to_str().unwrap();
    let sentence = refused(&["--db", db, "--listen", "127.0.0.1:0"]);
    assert_names(&sentence, &[db, "not an SQLite database", "--db"]);
}

#[test]
fn a_database_in_a_missing_directory_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing").join("talk.db");
    let db = db.to_str().unwrap();
    let sentence = refused(&["--db", db, "--listen", "127.0.0.1:0"]);
    assert_names(&sentence, &[db, "no such file or directory", "--db"]);
}

#[test]
fn an_unreadable_agents_file_names_it_and_agents_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.txt");
    let file = file.to_str().unwrap();
    let sentence = refused(&["--db", ":memory:", "--listen", "127.0.0.1:0", "--agents-file", file]);
    assert_names(&sentence, &["cannot read the agents file", file, "no such file or directory", "--agents-file"]);
}

#[test]
fn a_wrong_line_in_an_agents_file_names_it_and_agents_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.txt");
    std::fs::write(&file, "# agents\nagent-1=token-1\nagent-2 token-2\n").unwrap();
    let file = file.to_str().unwrap();
    let sentence = refused(&["--db", ":memory:", "--listen", "127.0.0.1:0", "--agents-file", file]);
    assert_names(&sentence, &["line 3", file, "ID=TOKEN", "--agents-file"]);
}

#[test]
fn an_unreachable_postgres_names_it_and_postgres() {
    // A port of this machine that nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://talk:secret@127.0.0.1:{port}/talk");
    let sentence = refused(&["--postgres", &url, "--listen", "127.0.0.1:0"]);
    assert_names(&sentence, &[&format!("127.0.0.1:{port}/talk"), "cannot connect", "--postgres"]);
    assert!(!sentence.contains("secret"), "the password is not shown: {sentence}");
}

#[test]
fn a_malformed_postgres_url_names_postgres() {
    let sentence = refused(&["--postgres", "postgres://talk:secret@[::1/talk", "--listen", "127.0.0.1:0"]);
    assert_names(&sentence, &["PostgreSQL URL", "not valid", "--postgres"]);
    assert!(!sentence.contains("secret"), "the password is not shown: {sentence}");
}
