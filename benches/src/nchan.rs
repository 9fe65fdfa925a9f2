//! The peer of rows N1–N4: nginx with the nchan module (Debian's `nginx`
//! and `libnginx-mod-nchan`), a pub/sub server that keeps its messages in
//! memory. [`Nchan::start`] installs the packages when they are missing and
//! the suite runs as root, then starts nginx from a prefix of its own (a
//! temporary directory with its own `nginx.conf`): 2 workers, 127.0.0.1, a
//! free port, `daemon off`. Dropping it stops nginx, workers included.
//!
//! Publishing is `POST /pub/<channel>` (the body is the message, answered
//! `201` or `202`); subscribing is a WebSocket on `/sub/<channel>`, which
//! receives each message as one frame, from the next one published on.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::baseline::BoxError;
use crate::load::{self, HttpClient, PATIENCE};

/// Where Debian puts nginx and the module.
const NGINX: &str = "/usr/sbin/nginx";
const MODULE: &str = "/usr/lib/nginx/modules/ngx_nchan_module.so";

/// A running nginx + nchan.
pub struct Nchan {
    master: Child,
    address: SocketAddr,
    /// The prefix: configuration, logs, pid file and temporary files.
    prefix: tempfile::TempDir,
}

/// Whether this process runs as root (`Uid:` of `/proc/self/status`).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").ok().is_some_and(|status| {
        status.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1)) == Some("0")
    })
}

/// Installs nginx and the module with apt-get when missing (as root only).
fn ensure_installed() -> Result<(), String> {
    if Path::new(NGINX).exists() && Path::new(MODULE).exists() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!("{NGINX} or {MODULE} is missing, and installing them needs root"));
    }
    let install = Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", "nginx", "libnginx-mod-nchan"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !install.success() || !Path::new(NGINX).exists() || !Path::new(MODULE).exists() {
        return Err(format!("apt-get install nginx libnginx-mod-nchan failed ({install})"));
    }
    Ok(())
}

/// A port free on 127.0.0.1 now.
fn free_port() -> Result<u16, BoxError> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn config(prefix: &Path, port: u16) -> String {
    let prefix = prefix.display();
    format!(
        "load_module {MODULE};
worker_processes 2;
worker_rlimit_nofile 40000;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /status {{
            nchan_stub_status;
        }}
        location ~ ^/pub/([A-Za-z0-9_-]+)$ {{
            nchan_publisher;
            nchan_channel_id $1;
        }}
        location ~ ^/sub/([A-Za-z0-9_-]+)$ {{
            nchan_subscriber websocket;
            nchan_channel_id $1;
            nchan_subscriber_first_message newest;
        }}
    }}
}}
"
    )
}

impl Nchan {
    /// Starts nginx + nchan, installing it first if need be. The error says
    /// why it could not, for the rows' skip notice.
    pub fn start() -> Result<Self, String> {
        ensure_installed()?;
        let prefix = tempfile::tempdir().map_err(|e| format!("a prefix directory: {e}"))?;
        let port = free_port().map_err(|e| format!("a free port: {e}"))?;
        let conf = prefix.path().join("nginx.conf");
        std::fs::write(&conf, config(prefix.path(), port)).map_err(|e| format!("write nginx.conf: {e}"))?;
        let master = Command::new(NGINX)
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(prefix.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {NGINX}: {e}"))?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        // From here on, a failure stops nginx through Drop.
        let mut nchan = Self { master, address, prefix };
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = nchan.master.try_wait() {
                let log = std::fs::read_to_string(nchan.prefix.path().join("error.log")).unwrap_or_default();
                return Err(format!("nginx exited at start ({status}): {}", log.trim()));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err("nginx did not listen in time".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Both workers up, so that the CPU time counts them all.
        while nchan.workers().len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nchan)
    }

    /// The address nginx listens on (loopback).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The worker processes: the children of the master.
    fn workers(&self) -> Vec<u32> {
        let master = self.master.id();
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| {
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
                // After the command: state, then the parent's pid.
                let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
                parent.and_then(|p| p.parse::<u32>().ok()) == Some(master)
            })
            .collect()
    }

    /// The CPU time nginx has used so far, master and workers together, in
    /// seconds.
    pub fn cpu_seconds(&self) -> Result<f64, BoxError> {
        let mut total = load::cpu_seconds(self.master.id())?;
        for worker in self.workers() {
            total += load::cpu_seconds(worker)?;
        }
        Ok(total)
    }

    /// The subscribers of every channel, all workers together (nchan's
    /// `nchan_stub_status`; its channel info counts one worker's only).
    pub async fn subscribers(&self) -> Result<usize, BoxError> {
        let mut client = HttpClient::connect(self.address).await?;
        let status = client.request("GET", "/status", "none", "").await?;
        let body = String::from_utf8_lossy(client.body()).into_owned();
        let count = body.lines().find_map(|line| line.strip_prefix("subscribers:")).map(|c| c.trim().parse());
        match (status, count) {
            (200, Some(Ok(count))) => Ok(count),
            _ => Err(format!("nchan's status answered {status} {body:?}").into()),
        }
    }

    /// The subscribers once their count holds still for 100 ms (sockets
    /// closed a moment ago may still be counted).
    pub async fn settled_subscribers(&self) -> Result<usize, BoxError> {
        let deadline = Instant::now() + PATIENCE;
        let mut last = self.subscribers().await?;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.subscribers().await?;
            if now == last {
                return Ok(now);
            }
            if Instant::now() > deadline {
                return Err(format!("nchan's subscribers did not settle ({last}, then {now})").into());
            }
            last = now;
        }
    }

    /// Waits until nchan counts `n` subscribers, so that none misses the
    /// next message.
    pub async fn await_subscribers(&self, n: usize) -> Result<(), BoxError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let count = self.subscribers().await?;
            if count >= n {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{count} of {n} subscribers within {PATIENCE:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nchan {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits; SIGKILL whatever
        // is left after a while.
        let workers = self.workers();
        let _ = Command::new("kill").arg("-TERM").arg(self.master.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.master.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
        for worker in workers {
            // Only if the pid is still an nginx process (not reused since).
            let comm = std::fs::read_to_string(format!("/proc/{worker}/comm")).unwrap_or_default();
            if comm.trim() == "nginx" {
                let _ = Command::new("kill").arg("-KILL").arg(worker.to_string()).status();
            }
        }
    }
}
