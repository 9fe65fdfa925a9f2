//! `--webhook`: a local receiver that fails the first tries and is down for
//! a while, and a server restart mid-stream: every event arrives, in `seq`
//! order, at least once, each with a valid signature.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{request, start};
use serde_json::Value;

const SECRET: &str = "s3cret";
/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(60);
/// Requests the receiver fails (500) before it takes any.
const FAILED_FIRST: usize = 3;
/// After this many events taken, the receiver is down for [`DOWN_FOR`].
const DOWN_AFTER: usize = 5;
const DOWN_FOR: Duration = Duration::from_millis(1500);

/// One request the receiver took: `X-Talk-Delivery`, the body, and whether
/// `X-Talk-Signature` matched the body.
#[derive(Debug, Clone)]
struct Delivery {
    seq: u64,
    frame: Value,
    signed: bool,
}

/// A webhook receiver on 127.0.0.1, in a thread of its own.
struct Receiver {
    address: SocketAddr,
    taken: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = listener.local_addr().expect("its address");
        let taken = Arc::new(Mutex::new(Vec::new()));
        let record = taken.clone();
        std::thread::spawn(move || {
            let mut listener = listener;
            let mut requests = 0;
            loop {
                let Ok((stream, _)) = listener.accept() else { continue };
                requests += 1;
                let fail = requests <= FAILED_FIRST;
                let Some(delivery) = answer(stream, fail) else { continue };
                if fail {
                    continue;
                }
                let count = {
                    let mut taken = record.lock().unwrap_or_else(PoisonError::into_inner);
                    taken.push(delivery);
                    taken.len()
                };
                if count == DOWN_AFTER {
                    drop(listener);
                    std::thread::sleep(DOWN_FOR);
                    listener = TcpListener::bind(address).expect("the same port again");
                }
            }
        });
        Self { address, taken }
    }

    fn taken(&self) -> Vec<Delivery> {
        self.taken.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until an event frame about `message_id` was taken.
    fn wait_for_message(&self, message_id: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.taken().iter().any(|d| d.frame["data"]["id"] == message_id) {
            assert!(Instant::now() < deadline, "message {message_id} never arrived: {:?}", self.taken());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads one request and answers `500` when `fail`, else `200`: what it said.
fn answer(stream: TcpStream, fail: bool) -> Option<Delivery> {
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    let mut reader = BufReader::new(stream);
    let (mut length, mut seq, mut signature) = (0, 0, String::new());
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "x-talk-delivery" => seq = value.trim().parse().ok()?,
            "x-talk-signature" => value.trim().clone_into(&mut signature),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let status = if fail { "500 Internal Server Error" } else { "200 OK" };
    let mut stream = reader.into_inner();
    write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
    let frame = serde_json::from_slice(&body).ok()?;
    Some(Delivery { seq, frame, signed: signature == expected_signature(&body) })
}

fn expected_signature(body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn serve(db: &Path, receiver: &Receiver) -> common::Running {
    let hook = format!("http://{}/hook", receiver.address);
    let db = db.to_str().expect("a UTF-8 path");
    start(&[
        "--db",
        db,
        "--listen",
        "127.0.0.1:0",
        "--agent",
        "alice=t-alice",
        "--webhook",
        &hook,
        "--webhook-secret",
        SECRET,
    ])
}

fn json(status: u16, body: &str, expected: u16) -> Value {
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(body).expect("JSON")
}

/// Sends `count` messages: the id of the last.
fn send(address: SocketAddr, talk: &str, count: usize) -> String {
    let mut last = String::new();
    for i in 0..count {
        let message = format!(r#"{{"text": "message {i}"}}"#);
        let (status, body) =
            request(address, "POST", &format!("/v1.0/talks/{talk}/messages"), "t-alice", Some(&message));
        json(status, &body, 201)["id"].as_str().expect("an id").clone_into(&mut last);
    }
    last
}

#[test]
fn webhook_delivers_every_event_in_order_with_valid_signature_through_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("talk.db");
    let receiver = Receiver::start();

    let server = serve(&db, &receiver);
    let (status, body) =
        request(server.address, "POST", "/v1.0/talks", "t-alice", Some(r#"{"name": "Hooks", "participant_ids": []}"#));
    let talk = json(status, &body, 201)["id"].as_str().expect("an id").to_owned();
    send(server.address, &talk, 10);
    // Restart mid-stream: some events are still to send (the receiver failed
    // the first tries, and goes down after a few).
    assert!(server.stop("TERM").success());
    let server = serve(&db, &receiver);
    let last = send(server.address, &talk, 10);
    receiver.wait_for_message(&last);

    let taken = receiver.taken();
    assert!(taken.iter().all(|d| d.signed), "every signature is valid");
    assert!(taken.iter().all(|d| d.frame["seq"] == d.seq), "X-Talk-Delivery is the frame's seq");
    // In order, at least once: the first arrival of each seq is in seq order,
    // and the seqs run from the first event to the last without a gap.
    let mut first_arrivals = Vec::new();
    let mut seen = BTreeSet::new();
    for delivery in &taken {
        if seen.insert(delivery.seq) {
            first_arrivals.push(delivery.seq);
        }
    }
    let head = *seen.last().expect("deliveries");
    assert_eq!(first_arrivals, (1..=head).collect::<Vec<_>>(), "every event, in seq order, none skipped");
    let types: BTreeSet<&str> = taken.iter().filter_map(|d| d.frame["type"].as_str()).collect();
    assert!(types.contains("talk_created") && types.contains("message_created"), "{types:?}");
}
