//! The `embed_sqlite` example as a reader gets it: the README shows it as
//! it is, its errors compose as the README says, and it runs: serves the
//! app and its chat, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("the README");
    let example = std::fs::read_to_string(format!("{root}/examples/embed_sqlite.rs")).expect("the example");
    assert!(
        readme.contains(&format!("```rust,no_run\n{example}```\n")),
        "the README's copy of examples/embed_sqlite.rs differs from the file: copy the file into it again"
    );
}

/// What the README says: every error of Talk is one that `?` turns into a
/// `Box<dyn Error + Send + Sync>` (std's `From` for any such error).
#[test]
fn every_error_of_talk_converts_into_a_boxed_error() {
    fn boxes<E: std::error::Error + Send + Sync + 'static>() {}
    boxes::<talk_core::Error>();
    boxes::<talk_core::store::StoreError>();
    boxes::<talk_store_sqlite::OpenError>();
    boxes::<talk_store_postgres::ConnectError>();
}

/// The example program, built beside this test by `cargo test`.
fn example_program() -> PathBuf {
    let test = std::env::current_exe().expect("this test's path");
    // target/<profile>/deps/<this test> → target/<profile>/examples/embed_sqlite
    let profile = test.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let program = profile.join("examples").join(format!("embed_sqlite{}", std::env::consts::EXE_SUFFIX));
    assert!(
        program.exists(),
        "{} is missing: build it with `cargo build -p talk-examples --examples`",
        program.display()
    );
    program
}

/// `method path` with a bearer token and a JSON body: the status and the body.
fn request(address: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("a connection");
    stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    let length = body.len();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    )
    .expect("the request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[cfg(unix)]
#[test]
fn the_example_serves_its_chat_under_chat_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("chat.db");
    let mut child = Command::new(example_program())
        .env("CHAT_DB", &db)
        .env("CHAT_ADDRESS", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let mut lines = BufReader::new(child.stderr.take().expect("its stderr")).lines();
    let line = lines.next().expect("a first line").expect("its stderr");
    let address = line
        .strip_prefix("my app on http://")
        .and_then(|rest| rest.split(',').next())
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("not the address line: {line}"));
    std::thread::spawn(move || lines.for_each(drop));

    let (status, body) = request(address, "GET", "/", "", "");
    assert_eq!((status, body.as_str()), (200, "my app"));
    let talk = r#"{"name": "Plans", "participant_ids": ["bob"]}"#;
    let (status, body) = request(address, "POST", "/chat/v1.0/talks", "alice-key", talk);
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""name":"Plans""#), "{body}");
    let (status, body) = request(address, "GET", "/chat/v1.0/talks", "bob-key", "");
    assert!(status == 200 && body.contains(r#""name":"Plans""#), "{status} {body}");
    assert_eq!(request(address, "GET", "/chat/v1.0/talks", "someone-else", "").0, 401);

    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(interrupted.success());
    let deadline = std::time::Instant::now() + PATIENCE;
    let ended = loop {
        if let Some(ended) = child.try_wait().expect("its status") {
            break ended;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the example did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(ended.success(), "{ended}");
    assert!(std::fs::metadata(&db).expect("chat.db").len() > 0);
}
