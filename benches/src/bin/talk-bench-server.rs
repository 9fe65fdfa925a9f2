//! `talk-bench-server`: the server of the suite's rows 4, 5 and 7, in a
//! process of its own, so that the suite's load tools and clients never
//! share a runtime with it.
//!
//! ```text
//! talk-bench-server talk [--agents N] [--sqlite PATH] [--participants-max N] [--nodelay]
//! talk-bench-server bare [--agents N] [--nodelay]
//! ```
//!
//! `talk`: Talk's router (`talk_http::router_with_options`, default
//! options) on a Hub on a MemoryStore, or on a
//! SqliteStore at `PATH` (default options: `synchronous=FULL`); the agents
//! `agent-0` … `agent-(N-1)` with tokens `token-0` … (`StaticTokens`); with
//! `--participants-max`, that many active participants per talk instead of
//! the default 1000. `bare`: the bare axum baseline of `baseline.rs`, with
//! the same agents and tokens. With `--nodelay`, every accepted connection
//! has `TCP_NODELAY` set (as the suite's clients do); without it, Nagle's
//! algorithm holds a small write back while an earlier one awaits its ACK,
//! as in `axum::serve`'s default (and the demo server's).
//!
//! The Talk server also answers `GET /bench/signal-counts` (no token): the
//! Hub's [`SignalCounts`](talk_core::signal::SignalCounts) as `delivered dropped
//! coalesced bus_lagged`, for the typing rows to report.
//!
//! It binds 127.0.0.1:0, prints the address it serves on as the first line
//! of its stdout, and serves until its stdin closes: the suite holds it
//! open, so the server never outlives the suite, however the suite ends.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use talk_benches::baseline::{self, BoxError};
use talk_benches::load;
use talk_core::{AgentId, Hub, Limits, Store};
use talk_http::{Options, StaticTokens};
use talk_store_memory::MemoryStore;
use talk_store_sqlite::{SqliteOptions, SqliteStore};

const USAGE: &str = "usage: talk-bench-server talk [--agents N] [--sqlite PATH] [--participants-max N] [--nodelay]
       talk-bench-server bare [--agents N] [--nodelay]";

/// The command line.
struct Args {
    bare: bool,
    agents: usize,
    sqlite: Option<String>,
    participants_max: Option<usize>,
    nodelay: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let bare = match args.next().as_deref() {
        Some("talk") => false,
        Some("bare") => true,
        _ => return Err("the first argument is `talk` or `bare`".into()),
    };
    let mut parsed = Args { bare, agents: 64, sqlite: None, participants_max: None, nodelay: false };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--agents" => parsed.agents = value()?.parse().map_err(|e| format!("--agents: {e}"))?,
            "--sqlite" if !bare => parsed.sqlite = Some(value()?),
            "--nodelay" => parsed.nodelay = true,
            "--participants-max" if !bare => {
                parsed.participants_max = Some(value()?.parse().map_err(|e| format!("--participants-max: {e}"))?);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// Talk's router, as the arguments say.
fn talk_router(args: &Args) -> Result<axum::Router, BoxError> {
    let store: Arc<dyn Store> = match &args.sqlite {
        Some(path) => Arc::new(SqliteStore::open(path, SqliteOptions::default())?),
        None => Arc::new(MemoryStore::new()),
    };
    let mut limits = Limits::default();
    if let Some(max) = args.participants_max {
        limits.participants_per_talk_max = max;
    }
    let hub = Hub::builder(store).limits(limits).build();
    let counts = {
        let hub = hub.clone();
        axum::routing::get(move || async move {
            let c = hub.signal_counts();
            format!("{} {} {} {}", c.typing_delivered, c.typing_dropped, c.typing_coalesced, c.bus_lagged)
        })
    };
    let mut tokens = StaticTokens::default();
    for i in 0..args.agents {
        tokens.insert(load::token(i), AgentId::parse(&load::agent_name(i))?);
    }
    Ok(talk_http::router_with_options(hub, Arc::new(tokens), Options::default()).route("/bench/signal-counts", counts))
}

async fn serve(args: Args) -> Result<(), BoxError> {
    let router = if args.bare { baseline::bare_router(args.agents) } else { talk_router(&args)? };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{address}")?;
        out.flush()?;
    }
    if args.nodelay {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|stream| {
            // Best effort: a connection without it still works.
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, router).await?;
    } else {
        axum::serve(listener, router).await?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("talk-bench-server: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The suite holds stdin open; when it closes (the suite ended, however),
    // so does the server.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        std::process::exit(0);
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("talk-bench-server: a tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("talk-bench-server: {error}");
            ExitCode::FAILURE
        }
    }
}
