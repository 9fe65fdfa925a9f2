//! Every way the server fails to start, each as a real process: one
//! sentence on stderr naming what is wrong and the flag that fixes it, no
//! output on stdout, exit code 1. (A bad command line is clap's: `cli.rs`.)

mod common;

use std::net::TcpListener;
use std::path::Path;

use common::{run, start};

/// Runs the server with `args`, which must fail to start with one sentence
/// that holds each of `words`; returns the sentence.
fn refused(args: &[&str], words: &[&str]) -> String {
    let ended = run(args);
    assert_eq!(ended.status.code(), Some(1), "talk-server {args:?}: {ended:?}");
    assert_eq!(ended.stdout, "", "talk-server {args:?}");
    let sentence = ended.stderr.strip_suffix('\n').unwrap_or_else(|| panic!("one line: {:?}", ended.stderr));
    assert!(!sentence.contains('\n'), "one line: {sentence:?}");
    let sentence = sentence.strip_prefix("error: ").unwrap_or_else(|| panic!("error: first: {sentence:?}"));
    // A sentence, not a debug dump.
    assert!(!sentence.contains('{') && !sentence.contains("Os "), "{sentence}");
    for word in words {
        assert!(sentence.contains(word), "{word:?} missing from {sentence:?}");
    }
    sentence.to_owned()
}

/// As [`refused`], on the SQLite database `db`: the sentence names it and `--db`.
fn refused_database(db: &Path, words: &[&str]) {
    let db = db.to_str().expect("a UTF-8 path");
    refused(&["--db", db, "--listen", "127.0.0.1:0"], &[&[db, "--db"], words].concat());
}

/// As [`refused`], with the agents file `file`: the sentence names it and `--agents-file`.
fn refused_agents_file(file: &Path, words: &[&str]) {
    let file = file.to_str().expect("a UTF-8 path");
    let args = ["--db", ":memory:", "--listen", "127.0.0.1:0", "--agents-file", file];
    refused(&args, &[&[file, "--agents-file"], words].concat());
}

#[test]
fn a_busy_address_names_it_and_listen_and_makes_nothing() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("talk.db");
    refused(&["--db", db.to_str().unwrap(), "--listen", &address], &[&address, "already uses", "--listen"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no database, no tokens file");
}

#[test]
fn a_database_in_use_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("talk.db");
    let _first = start(&["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    refused_database(&db, &["already in use by another Talk server"]);
}

#[test]
fn a_file_that_is_not_a_database_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "not a database, but long enough to have a header that SQLite reads and rejects\n".repeat(20))
        .unwrap();
    refused_database(&db, &["not an SQLite database"]);
}

#[test]
fn a_database_in_a_missing_directory_names_it_and_db() {
    let dir = tempfile::tempdir().unwrap();
    refused_database(&dir.path().join("missing").join("talk.db"), &["no such file or directory"]);
}

#[test]
fn an_unreadable_agents_file_names_it_and_agents_file() {
    let dir = tempfile::tempdir().unwrap();
    refused_agents_file(&dir.path().join("agents.txt"), &["cannot read the agents file", "no such file or directory"]);
}

#[test]
fn a_wrong_line_in_an_agents_file_names_it_and_agents_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.txt");
    std::fs::write(&file, "# agents\nagent-1=token-1\nagent-2 token-2\n").unwrap();
    refused_agents_file(&file, &["line 3", "ID=TOKEN"]);
}

#[test]
fn an_unreachable_postgres_names_it_and_postgres() {
    // A port of this machine that nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://talk:secret@127.0.0.1:{port}/talk");
    let shown = format!("127.0.0.1:{port}/talk");
    let sentence = refused(&["--postgres", &url, "--listen", "127.0.0.1:0"], &[&shown, "cannot connect", "--postgres"]);
    assert!(!sentence.contains("secret"), "the password is not shown: {sentence}");
}

#[test]
fn a_malformed_postgres_url_names_postgres() {
    let args = ["--postgres", "postgres://talk:secret@[::1/talk", "--listen", "127.0.0.1:0"];
    let sentence = refused(&args, &["PostgreSQL URL", "not valid", "--postgres"]);
    assert!(!sentence.contains("secret"), "the password is not shown: {sentence}");
}
