//! The load tools of rows 4, 5 and 7: the server process (started from the
//! `talk-bench-server` binary, killed when dropped), a keep-alive HTTP/1.1
//! client over a plain [`TcpStream`], WebSocket subscribers
//! (tokio-tungstenite), and the server's resident memory.
//!
//! Every tool talks to 127.0.0.1 only (it refuses any other address), and
//! every wait is bounded by [`PATIENCE`].

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::baseline::BoxError;

/// The longest any single step waits (a start-up, a request, a frame).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The agent `i` of the bench servers: `agent-<i>`.
pub fn agent_name(i: usize) -> String {
    format!("agent-{i}")
}

/// The token of agent `i` on the bench servers: `token-<i>`.
pub fn token(i: usize) -> String {
    format!("token-{i}")
}

/// Creates a group talk of `agent-0` … `agent-(members-1)` over HTTP, as
/// `agent-0`, on a Talk bench server; answers its id.
pub async fn create_talk(address: SocketAddr, name: &str, members: usize) -> Result<String, BoxError> {
    let mut client = HttpClient::connect(address).await?;
    let others: Vec<String> = (1..members).map(|i| format!("\"{}\"", agent_name(i))).collect();
    let body = format!(r#"{{"name":"{name}","participant_ids":[{}]}}"#, others.join(","));
    let status = client.post("/v1.0/talks", &token(0), &body).await?;
    if status != 201 {
        return Err(format!("create the talk: {status} {}", String::from_utf8_lossy(client.body())).into());
    }
    let talk: serde_json::Value = serde_json::from_slice(client.body())?;
    Ok(talk["id"].as_str().ok_or("a talk without an id")?.to_owned())
}

/// Refuses any address but the loopback: the load tools never load
/// anything but the servers this suite started.
fn loopback(address: SocketAddr) -> Result<SocketAddr, BoxError> {
    if address.ip().is_loopback() {
        Ok(address)
    } else {
        Err(format!("the load tools only target 127.0.0.1, not {address}").into())
    }
}

/// A bench server in a process of its own. Dropping it kills the process
/// (and the process also ends by itself when its stdin closes, so it never
/// outlives the suite, however the suite ends).
pub struct Server {
    child: Child,
    /// Held open: the server exits when it closes.
    stdin: Option<ChildStdin>,
    address: SocketAddr,
}

impl Server {
    /// Starts `program` with `args` and waits (at most [`PATIENCE`]) for the
    /// address it prints as its first line of stdout, which must be a
    /// loopback address.
    pub fn start(program: &str, args: &[String]) -> Result<Self, BoxError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {program}: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on, a failure kills the child through the guard's Drop.
        let mut server = Self { child, stdin, address: SocketAddr::from(([127, 0, 0, 1], 0)) };
        let stdout = stdout.ok_or("the server's stdout")?;
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let mut reader = BufReader::new(stdout);
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = line_tx.send(read);
            // Keep reading so that the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = line_rx.recv_timeout(PATIENCE).map_err(|_| "the server did not print its address in time")??;
        let address: SocketAddr =
            line.trim().parse().map_err(|e| format!("the server printed {:?}, not an address: {e}", line.trim()))?;
        server.address = loopback(address)?;
        Ok(server)
    }

    /// The address it serves on (loopback).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once with `SIGKILL`, as a crash would (no
    /// shutdown, no final checkpoint), and waits until it is gone.
    pub fn kill(&mut self) -> Result<(), BoxError> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Its resident memory now, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_bytes(&self) -> Result<u64, BoxError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).ok_or("no VmRSS line")?;
        let kib: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse()?;
        Ok(kib * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin ends the server by itself (so a profiler wrapped
        // around it can write its output); kill it if it takes too long.
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// A keep-alive HTTP/1.1 client on one connection, one request at a time.
/// It reads `Content-Length` bodies (what axum answers) and nothing fancier.
pub struct HttpClient {
    stream: TcpStream,
    host: String,
    request: Vec<u8>,
    buffer: Vec<u8>,
    /// The bytes of `buffer` the last response took.
    consumed: usize,
    body: std::ops::Range<usize>,
}

impl HttpClient {
    /// Connects to `address`, which must be a loopback address.
    pub async fn connect(address: SocketAddr) -> Result<Self, BoxError> {
        let address = loopback(address)?;
        let stream = timeout(PATIENCE, TcpStream::connect(address)).await.map_err(|_| "connect: timed out")??;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            host: address.to_string(),
            request: Vec::with_capacity(1024),
            buffer: Vec::with_capacity(8192),
            consumed: 0,
            body: 0..0,
        })
    }

    /// Sends a request with a JSON body and bearer token; answers the
    /// response's status ([`HttpClient::body`] holds its body).
    pub async fn request(&mut self, method: &str, path: &str, token: &str, body: &str) -> Result<u16, BoxError> {
        use std::io::Write;
        self.request.clear();
        write!(
            self.request,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )?;
        timeout(PATIENCE, self.exchange()).await.map_err(|_| "the response did not come in time")?
    }

    /// `POST` of a JSON body.
    pub async fn post(&mut self, path: &str, token: &str, body: &str) -> Result<u16, BoxError> {
        self.request("POST", path, token, body).await
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        self.buffer.get(self.body.clone()).unwrap_or_default()
    }

    async fn exchange(&mut self) -> Result<u16, BoxError> {
        self.buffer.drain(..self.consumed.min(self.buffer.len()));
        self.consumed = 0;
        self.stream.write_all(&self.request).await?;
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end])?;
                let mut lines = head.split("\r\n");
                let status: u16 =
                    lines.next().and_then(|line| line.split_whitespace().nth(1)).ok_or("no status line")?.parse()?;
                let mut length = None;
                for line in lines {
                    let Some((name, value)) = line.split_once(':') else { continue };
                    if name.eq_ignore_ascii_case("content-length") {
                        length = Some(value.trim().parse::<usize>()?);
                    } else if name.eq_ignore_ascii_case("transfer-encoding") {
                        return Err("a chunked response: this client reads Content-Length bodies only".into());
                    }
                }
                let total = end + 4 + length.ok_or("a response without Content-Length")?;
                while self.buffer.len() < total {
                    self.fill().await?;
                }
                self.body = end + 4..total;
                self.consumed = total;
                return Ok(status);
            }
            if self.buffer.len() > 1024 * 1024 {
                return Err("a response head over 1 MiB".into());
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), BoxError> {
        if self.buffer.len() > 64 * 1024 * 1024 {
            return Err("a response over 64 MiB".into());
        }
        if self.stream.read_buf(&mut self.buffer).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}

/// A WebSocket client of a bench server.
pub type Socket = WebSocketStream<TcpStream>;

/// The CPU time a process has used so far, user and system together
/// (`utime + stime` of `/proc/<pid>/stat`), in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64, BoxError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, in parentheses, may hold spaces: count after it.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("a /proc stat line without a command")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state (3), …, utime (14), stime (15).
    let ticks = |field: usize| -> Result<u64, BoxError> {
        Ok(fields.get(field - 3).ok_or("a short /proc stat line")?.parse::<u64>()?)
    };
    Ok((ticks(14)? + ticks(15)?) as f64 / clock_ticks() as f64)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 if that
/// cannot be asked, the value on every common Linux build).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

/// Opens a WebSocket to `path` on `address` (loopback), with the buffer
/// settings talk-http uses on its side (4 KiB read buffer, no write buffer).
pub async fn connect_websocket(address: SocketAddr, path: &str) -> Result<Socket, BoxError> {
    let address = loopback(address)?;
    let stream = timeout(PATIENCE, TcpStream::connect(address)).await.map_err(|_| "connect: timed out")??;
    stream.set_nodelay(true)?;
    let request = format!("ws://{address}{path}").into_client_request()?;
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (socket, _) = timeout(PATIENCE, tokio_tungstenite::client_async_with_config(request, stream, Some(config)))
        .await
        .map_err(|_| "the upgrade did not come in time")??;
    Ok(socket)
}

/// Opens a WebSocket to `address` (loopback) as the agent of `token` (see
/// [`connect_websocket`]), sends `{"type": "subscribe", "talk_id"}` and waits for the
/// server's `subscribed`. Answers the socket, subscribed.
pub async fn subscribe(address: SocketAddr, token: &str, talk_id: &str) -> Result<Socket, BoxError> {
    let mut socket = connect_websocket(address, &format!("/v1.0/ws?token={token}")).await?;
    let frame = format!(r#"{{"type":"subscribe","talk_id":"{talk_id}"}}"#);
    futures::SinkExt::send(&mut socket, Message::text(frame)).await?;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for _ in 0..1000 {
        let next = tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut socket))
            .await
            .map_err(|_| "no `subscribed` in time")?;
        match next {
            Some(Ok(Message::Text(text))) if text.as_str().starts_with(r#"{"type":"subscribed""#) => {
                return Ok(socket);
            }
            Some(Ok(Message::Text(text))) => return Err(format!("subscribe answered {}", text.as_str()).into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("the server closed the socket".into()),
        }
    }
    Err("no `subscribed` among the first frames".into())
}
