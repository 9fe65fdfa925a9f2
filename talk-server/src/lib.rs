//! Talk's demo server: the whole Talk API (HTTP + WebSocket) on one address,
//! on SQLite (default `talk.db`), in memory (`--db :memory:`) or on
//! PostgreSQL (`--postgres URL`, shared by several servers that hear each
//! other's commits). `talk-server --help` lists every flag.
//!
//! The `talk-server` binary and the `server` example
//! (`cargo run --release --example server`) are both [`main`].
//!
//! - Without `--agent` or `--agents-file` it knows `agent-id-1` …
//!   `agent-id-4` and `agent-123`, and prints a token for each at start-up as
//!   `export` lines; those tokens are kept beside the SQLite database
//!   (`talk.db.tokens`) and are the same at every start.
//! - The line it prints first names the address it actually serves on (so
//!   `--listen 127.0.0.1:0` picks a free port):
//!   `Talk demo server on http://ADDR  (database: …)`.
//! - One log line per request goes to stderr (method, path without the
//!   query string, status, latency).
//! - Ctrl-C (SIGINT) or SIGTERM stops it cleanly: it stops taking
//!   connections, finishes the requests under way, and closes the SQLite
//!   database ([`SqliteStore::close`]), so that `talk.db` alone then holds
//!   everything; it exits with code 0.
//! - `--webhook URL` (repeatable, with `--webhook-secret`) POSTs every event
//!   to each URL, signed, in order, at least once, by a durable consumer per
//!   URL (see the flag's help).
//! - It serves a web app at `/`: a chat client of the API in the browser,
//!   which signs in with the agents list of `GET /demo/agents` (every agent
//!   with its token). `--no-web` turns both off.
//! - `--backup PATH` copies the SQLite database of `--db` into a new file and
//!   exits, whether a server runs on it or not
//!   ([`SqliteStore::backup_database`]).
//! - When it cannot start, it prints one sentence to stderr naming what is
//!   wrong and the flag that fixes it, and exits with code 1; a bad command
//!   line exits with code 2.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use talk_core::{Hub, StaticDirectory, Store};
use talk_http::{Options, RateLimit, StaticTokens};
use talk_store_memory::MemoryStore;
use talk_store_postgres::{PostgresNotifier, PostgresOptions, PostgresStore};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

mod agents;
mod cli;
mod error;
mod web;
pub mod webhooks;

use agents::{Agents, Origin};
use cli::{Cli, IN_MEMORY};
use error::{BackupProblem, StartupError};

/// Runs the demo server with the process's command line until Ctrl-C or
/// SIGTERM (or, with `--backup`, makes the backup).
///
/// A bad command line ends the process here with clap's message and exit
/// code 2 (`--help` and `--version` with 0). A failure to start, to close
/// the database cleanly at the end, or to make the backup returns exit code
/// 1 after printing one sentence to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(copy) = &cli.backup {
        return exit(backup(&cli.db, copy));
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .init();
    let served = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartupError::Runtime)
        .and_then(|runtime| runtime.block_on(serve(cli)));
    exit(served)
}

/// Exit code 0, or 1 after telling what went wrong in one line on stderr.
fn exit(outcome: Result<(), StartupError>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// `--backup`: copies the database `db` into the new file `copy`, whether a
/// server runs on it or not.
#[allow(clippy::print_stdout)]
fn backup(db: &str, copy: &Path) -> Result<(), StartupError> {
    let failed = |problem| StartupError::Backup { db: db.to_owned(), copy: copy.to_owned(), problem };
    if db == IN_MEMORY {
        return Err(failed(BackupProblem::InMemory));
    }
    if !Path::new(db).exists() {
        return Err(failed(BackupProblem::NoDatabase));
    }
    if copy.exists() {
        return Err(failed(BackupProblem::Exists));
    }
    SqliteStore::backup_database(db, copy).map_err(|source| failed(BackupProblem::Failed(source)))?;
    println!("backed up {db} into {}", copy.display());
    Ok(())
}

/// The store, for PostgreSQL the notifier that hears the other nodes (and
/// carries typing and presence between them), and for SQLite the store
/// again, to close at the end.
struct Opened {
    store: Arc<dyn Store>,
    notifier: Option<Arc<PostgresNotifier>>,
    sqlite: Option<Arc<SqliteStore>>,
}

async fn open_store(cli: &Cli) -> Result<Opened, StartupError> {
    if let Some(url) = &cli.postgres {
        let failed = |source| StartupError::Postgres { url: shown_url(url), source };
        let mut options = PostgresOptions { schema: cli.postgres_schema.clone(), ..PostgresOptions::default() };
        if let Some(name) = &cli.postgres_application_name {
            options.application_name.clone_from(name);
        }
        let store = PostgresStore::connect(url, options).await.map_err(failed)?;
        let notifier = PostgresNotifier::start(&store).await.map_err(failed)?;
        return Ok(Opened { store: Arc::new(store), notifier: Some(Arc::new(notifier)), sqlite: None });
    }
    if cli.db == IN_MEMORY {
        return Ok(Opened { store: Arc::new(MemoryStore::new()), notifier: None, sqlite: None });
    }
    let path = cli.db.clone();
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open(path, SqliteOptions::default()))
        .await
        .map_err(|join| StartupError::Runtime(std::io::Error::other(join)))?;
    let store = Arc::new(opened.map_err(|source| StartupError::Sqlite { db: cli.db.clone(), source })?);
    Ok(Opened { store: store.clone(), notifier: None, sqlite: Some(store) })
}

/// Resolves at Ctrl-C (SIGINT) or, on Unix, SIGTERM: listening from when it
/// is made, so that a signal that comes early is not missed.
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Starts the server and serves until Ctrl-C or SIGTERM; then closes the
/// SQLite database.
async fn serve(cli: Cli) -> Result<(), StartupError> {
    // The operator's own files and the address first: their mistakes are
    // told before anything is made (a database, a tokens file).
    let given = agents::given(&cli)?;
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .map_err(|source| StartupError::Listen { address: cli.listen, source })?;
    // The address actually bound (`--listen 127.0.0.1:0` picks a free port).
    let address = listener.local_addr().map_err(|source| StartupError::Listen { address: cli.listen, source })?;
    let Opened { store, notifier, sqlite } = open_store(&cli).await?;
    // The tokens file after the database, whose lock keeps a second server
    // from making it at the same time.
    let agents = match given {
        Some(agents) => agents,
        None => agents::defaults(cli.tokens_file())?,
    };

    let directory = StaticDirectory::new(agents.list.iter().map(|(agent, _)| agent.clone()));
    let mut hub = Hub::builder(store).directory(Arc::new(directory));
    if let Some(notifier) = notifier {
        hub = hub.notifier(notifier.clone()).signal_bus(notifier);
    }
    let tokens = StaticTokens::new(agents.list.iter().map(|(agent, token)| (token.clone(), agent.clone())));
    let mut options = Options::default();
    if let Some(n) = cli.rate_limit {
        options = options.rate_limit(RateLimit::new(f64::from(n), n));
    }
    let hub = hub.build();
    let senders = webhooks::start(&hub, &cli.webhooks, cli.webhook_secret.as_deref().unwrap_or_default());
    let api = talk_http::router_with_options(hub, Arc::new(tokens), options);
    // The API's router answers every path the app's does not (its fallback).
    let app = if cli.no_web { api } else { web::router(&agents.list).merge(api) };

    let stop = stop_signal().map_err(StartupError::Runtime)?;
    announce(&cli, address, &agents);
    // Small frames go out at once: without TCP_NODELAY an event frame written
    // while a typing frame on the same socket waits for its ACK is held back
    // (bench row T2).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        // Best effort: a connection without it still works.
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            stop.await;
            tracing::info!("shutting down");
        })
        .await
        .map_err(StartupError::Serve)?;
    senders.stop().await;
    if let Some(sqlite) = sqlite {
        sqlite.close().await.map_err(|source| StartupError::Close { db: cli.db.clone(), source })?;
        tracing::info!("closed the database {}: it alone holds everything", cli.db);
    }
    Ok(())
}

/// The shell variable the README's examples read an agent's token from:
/// `agent-id-1` → `TOKEN_AGENT_ID_1`.
fn token_variable(agent: &talk_core::AgentId) -> String {
    let name: String =
        agent.as_str().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("TOKEN_{name}")
}

/// What the operator reads at start-up: the program's output, not a log line.
#[allow(clippy::print_stdout)]
fn announce(cli: &Cli, address: std::net::SocketAddr, agents: &Agents) {
    println!("Talk demo server on http://{address}  (database: {})", database_name(cli));
    let kept = match &agents.origin {
        Origin::Given => {
            println!("{} agents known", agents.list.len());
            None
        }
        Origin::Kept { file, created: true } => Some(format!("new, kept in {}", file.display())),
        Origin::Kept { file, created: false } => Some(format!("kept in {}", file.display())),
        Origin::Fresh if cli.postgres.is_some() => {
            Some("new at every start; --tokens-file keeps them, for every node".to_owned())
        }
        Origin::Fresh => Some("new at every start".to_owned()),
    };
    if let Some(kept) = kept {
        println!("agents and their tokens ({kept}); paste these lines into a shell to run the README's examples:");
        println!("  export TALK=http://{address}");
        for (agent, token) in &agents.list {
            println!("  export {}={token}", token_variable(agent));
        }
        if let Some((agent, _)) = agents.list.first() {
            println!();
            println!("try, as {agent}:");
            println!("  curl -s \"$TALK/v1.0/talks?token=${}\"", token_variable(agent));
        }
    }
    if let Some(n) = cli.rate_limit {
        println!("rate limit: {n} requests a second per agent");
    }
    if !cli.no_web {
        println!("Web app: http://{address}/  (sign in as any agent: --no-web turns it off)");
    }
    println!("OpenAPI document: http://{address}/v1.0/openapi.json");
}

/// The database, as shown at start-up.
fn database_name(cli: &Cli) -> String {
    let Some(url) = &cli.postgres else {
        return cli.db.clone();
    };
    match &cli.postgres_schema {
        Some(schema) => format!("PostgreSQL {}, schema {schema}", shown_url(url)),
        None => format!("PostgreSQL {}", shown_url(url)),
    }
}

/// A PostgreSQL URL or `key=value` connection string without its user
/// and password.
fn shown_url(url: &str) -> String {
    let shown = match url.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.rsplit_once('@')?.1))) {
        Some((scheme, host)) => format!("{scheme}://…@{host}"),
        None => url.to_owned(),
    };
    // A password given as a parameter: `password=…` in a connection string
    // or in a URL's query.
    shown
        .split_inclusive([' ', '?', '&'])
        .map(|part| match part.strip_prefix("password=") {
            Some(rest) => match rest.chars().last().filter(|c| [' ', '?', '&'].contains(c)) {
                Some(separator) => format!("password=…{separator}"),
                None => "password=…".to_owned(),
            },
            None => part.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(shown_url("postgres://talk:secret@db.internal/talk"), "postgres://…@db.internal/talk");
        assert_eq!(shown_url("postgresql://db.internal:5433/talk"), "postgresql://db.internal:5433/talk");
        assert_eq!(shown_url("host=db port=1 password=secret user=talk"), "host=db port=1 password=… user=talk");
        assert_eq!(shown_url("postgres://db/talk?password=secret&user=x"), "postgres://db/talk?password=…&user=x");
    }
}
