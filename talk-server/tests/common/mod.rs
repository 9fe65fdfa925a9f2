//! Runs the `talk-server` binary as a process: until it fails to start, or
//! until it has announced itself (then it is killed when dropped).

#![allow(dead_code)] // Each test file uses its own part of this.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(60);

/// The server's command, with `args`.
pub(crate) fn server(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_talk-server"));
    command.args(args).stdin(Stdio::null());
    command
}

/// What a process that ended said.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the server with `args` until it ends by itself (killed, and the
/// test failed, if it is still running after a long while).
pub(crate) fn run(args: &[&str]) -> Ended {
    let mut child = server(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the server starts");
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().expect("its status").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("talk-server {args:?} is still running: it was expected to end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("its output");
    Ended {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A server that started: killed when dropped.
pub(crate) struct Running {
    child: Child,
    /// The address it serves on.
    pub(crate) address: SocketAddr,
    /// The `export NAME=VALUE` lines it printed, as `(NAME, VALUE)`, in order.
    pub(crate) exports: Vec<(String, String)>,
    /// Everything it printed at start-up.
    pub(crate) announcement: String,
}

impl Running {
    /// The value of the exported variable `name`.
    pub(crate) fn export(&self, name: &str) -> &str {
        self.exports.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| {
            panic!("no export of {name} in:\n{}", self.announcement);
        })
    }
}

impl Running {
    /// Sends the signal `signal` (`"TERM"`, `"INT"`) and waits for the
    /// server to end (killed, and the test failed, if it is still running
    /// after a long while).
    #[cfg(unix)]
    pub(crate) fn stop(mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("kill");
        assert!(sent.success(), "kill -{signal} {pid}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("its status") {
                return status;
            }
            assert!(Instant::now() < deadline, "talk-server did not stop on SIG{signal}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server with `args` and reads what it prints at start-up
/// (up to the OpenAPI line, its last).
pub(crate) fn start(args: &[&str]) -> Running {
    let mut child = server(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
    let mut announcement = String::new();
    let mut address = None;
    let mut exports = Vec::new();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let status = child.wait().expect("its status");
            panic!("talk-server {args:?} ended ({status}) after printing:\n{announcement}");
        };
        announcement.push_str(&line);
        announcement.push('\n');
        if let Some(rest) = line.strip_prefix("Talk demo server on http://") {
            let served = rest.split_whitespace().next().expect("an address");
            address = Some(served.parse::<SocketAddr>().expect("a socket address"));
        }
        if let Some((name, value)) = line.trim().strip_prefix("export ").and_then(|e| e.split_once('=')) {
            exports.push((name.to_owned(), value.to_owned()));
        }
        if line.starts_with("OpenAPI document:") {
            break;
        }
    }
    // Keep reading, so that the server never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Running { child, address: address.expect("the address line"), exports, announcement }
}

/// The status of `GET path` with `token` as a bearer token.
pub(crate) fn get_status(address: SocketAddr, path: &str, token: &str) -> u16 {
    request(address, "GET", path, token, None).0
}

/// `method path` with `token` as a bearer token and a JSON `body`: the
/// status and the body of the answer.
pub(crate) fn request(address: SocketAddr, method: &str, path: &str, token: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("a connection");
    stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    let body = body.unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("the request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response");
    let status = response.split_whitespace().nth(1).and_then(|status| status.parse().ok()).expect("a status line");
    (status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

/// The PostgreSQL server of the tests that need one: each is
/// `#[ignore = "needs TALK_TEST_POSTGRES_URL"]` and has `postgres` in its
/// name (`.ci/run` runs them with `-- --ignored postgres`).
///
/// # Panics
/// When `TALK_TEST_POSTGRES_URL` is not set.
pub(crate) fn postgres_url() -> String {
    std::env::var("TALK_TEST_POSTGRES_URL").ok().filter(|url| !url.trim().is_empty()).unwrap_or_else(|| {
        panic!("TALK_TEST_POSTGRES_URL is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test)")
    })
}

/// `GET path` without a token: the status, the header lines (names in
/// lowercase, `name: value`) and the body.
pub(crate) fn get_plain(address: SocketAddr, path: &str) -> (u16, Vec<String>, String) {
    let mut stream = TcpStream::connect(address).expect("a connection");
    stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").expect("the request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines.next().and_then(|line| line.split_whitespace().nth(1)?.parse().ok()).expect("a status line");
    let headers = lines
        .map(|line| match line.split_once(':') {
            Some((name, value)) => format!("{}: {}", name.to_ascii_lowercase(), value.trim()),
            None => line.to_owned(),
        })
        .collect();
    (status, headers, body.to_owned())
}
