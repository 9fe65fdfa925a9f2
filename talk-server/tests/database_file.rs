//! The SQLite database as an operator handles it: after SIGTERM or Ctrl-C,
//! `talk.db` alone (copied without `-wal` and `-shm`) holds every message;
//! `--backup PATH` copies the database of a running server.
#![cfg(unix)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::{request, run, start};
use serde_json::Value;

const TEXTS: [&str; 5] = ["one", "two", "three", "four", "five"];

/// A server on the database `db`, knowing `alice` (token `t-alice`).
fn serve(db: &Path) -> common::Running {
    start(&["--db", db.to_str().expect("a UTF-8 path"), "--listen", "127.0.0.1:0", "--agent", "alice=t-alice"])
}

fn json(status: u16, body: &str, expected: u16) -> Value {
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(body).expect("JSON")
}

/// Makes a talk and sends [`TEXTS`] into it: the talk's id.
fn chat(address: SocketAddr) -> String {
    let talk = r#"{"name": "Notes", "participant_ids": []}"#;
    let (status, body) = request(address, "POST", "/v1.0/talks", "t-alice", Some(talk));
    let id = json(status, &body, 201)["id"].as_str().expect("an id").to_owned();
    for text in TEXTS {
        let message = format!(r#"{{"text": "{text}"}}"#);
        let (status, body) = request(address, "POST", &format!("/v1.0/talks/{id}/messages"), "t-alice", Some(&message));
        json(status, &body, 201);
    }
    id
}

/// Serves the database `db` and checks that the talk holds [`TEXTS`].
fn holds_every_message(db: &Path, talk: &str) {
    let server = serve(db);
    let (status, body) = request(server.address, "GET", &format!("/v1.0/talks/{talk}/messages"), "t-alice", None);
    let page = json(status, &body, 200);
    let messages = page["result"].as_array().expect("a list").iter().filter(|m| m["system"].is_null());
    let mut texts: Vec<&str> = messages.filter_map(|m| m["text"].as_str()).collect();
    texts.reverse();
    assert_eq!(texts, TEXTS, "{}: {body}", db.display());
}

#[test]
fn after_sigterm_or_ctrl_c_the_database_file_alone_holds_every_message() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().expect("a directory");
        let db = dir.path().join("talk.db");
        let server = serve(&db);
        let talk = chat(server.address);
        let ended = server.stop(signal);
        assert!(ended.success(), "SIG{signal}: {ended}");

        let elsewhere = tempfile::tempdir().expect("a directory");
        let copy = elsewhere.path().join("talk.db");
        std::fs::copy(&db, &copy).expect("talk.db copied alone");
        holds_every_message(&copy, &talk);
    }
}

/// The files `names` in `dir`, as the command line names them.
fn files<const N: usize>(dir: &tempfile::TempDir, names: [&str; N]) -> [String; N] {
    names.map(|name| dir.path().join(name).to_str().expect("a UTF-8 path").to_owned())
}

#[test]
fn backup_copies_the_database_of_a_running_server() {
    let dir = tempfile::tempdir().expect("a directory");
    let [db_arg, copy_arg] = files(&dir, ["talk.db", "copy.db"]);
    let (db_arg, copy_arg) = (db_arg.as_str(), copy_arg.as_str());
    let server = serve(Path::new(db_arg));
    let talk = chat(server.address);

    let backed_up = run(&["--db", db_arg, "--backup", copy_arg]);
    assert!(backed_up.status.success(), "{backed_up:?}");
    assert_eq!(backed_up.stdout, format!("backed up {db_arg} into {copy_arg}\n"));
    // The server goes on.
    let (status, body) = request(server.address, "GET", "/v1.0/talks", "t-alice", None);
    assert_eq!(status, 200, "{body}");

    // An existing file is never overwritten.
    let again = run(&["--db", db_arg, "--backup", copy_arg]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(again.stderr.contains(copy_arg) && again.stderr.contains("--backup"), "{}", again.stderr);
    drop(server);

    holds_every_message(Path::new(copy_arg), &talk);
}

#[test]
fn backup_without_a_database_file_says_so() {
    let dir = tempfile::tempdir().expect("a directory");
    let [missing, copy] = files(&dir, ["missing.db", "copy.db"]);
    let (missing, copy) = (missing.as_str(), copy.as_str());
    for (db, words) in [(missing, [missing, "--db"]), (":memory:", [":memory:", "--db"])] {
        let ended = run(&["--db", db, "--backup", copy]);
        assert_eq!(ended.status.code(), Some(1), "{ended:?}");
        assert!(words.iter().all(|word| ended.stderr.contains(word)), "{}", ended.stderr);
    }
    assert!(!Path::new(copy).exists());
}
