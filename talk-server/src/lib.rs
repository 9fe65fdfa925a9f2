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
//!   query string, status, latency); Ctrl-C stops it cleanly.
//! - When it cannot start, it prints one sentence to stderr naming what is
//!   wrong and the flag that fixes it, and exits with code 1; a bad command
//!   line exits with code 2.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use talk_core::{Hub, Notifier, StaticDirectory, Store};
use talk_http::{Options, RateLimit, StaticTokens};
use talk_store_memory::MemoryStore;
use talk_store_postgres::{PostgresNotifier, PostgresOptions, PostgresStore};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

mod agents;
mod cli;
mod error;

use agents::{Agents, Origin};
use cli::{Cli, IN_MEMORY};
use error::StartupError;

/// Runs the demo server with the process's command line until Ctrl-C.
///
/// A bad command line ends the process here with clap's message and exit
/// code 2 (`--help` and `--version` with 0). A failure to start returns
/// exit code 1 after printing one sentence to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// The store, and for PostgreSQL the notifier that hears the other nodes.
type Opened = (Arc<dyn Store>, Option<Arc<dyn Notifier>>);

async fn open_store(cli: &Cli) -> Result<Opened, StartupError> {
    if let Some(url) = &cli.postgres {
        let failed = |source| StartupError::Postgres { url: shown_url(url), source };
        let mut options = PostgresOptions { schema: cli.postgres_schema.clone(), ..PostgresOptions::default() };
        if let Some(name) = &cli.postgres_application_name {
            options.application_name.clone_from(name);
        }
        let store = PostgresStore::connect(url, options).await.map_err(failed)?;
        let notifier = PostgresNotifier::start(&store).await.map_err(failed)?;
        return Ok((Arc::new(store), Some(Arc::new(notifier))));
    }
    if cli.db == IN_MEMORY {
        return Ok((Arc::new(MemoryStore::new()), None));
    }
    let path = cli.db.clone();
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open(path, SqliteOptions::default()))
        .await
        .map_err(|join| StartupError::Runtime(std::io::Error::other(join)))?;
    let store = opened.map_err(|source| StartupError::Sqlite { db: cli.db.clone(), source })?;
    Ok((Arc::new(store), None))
}

/// Starts the server and serves until Ctrl-C.
async fn serve(cli: Cli) -> Result<(), StartupError> {
    // The operator's own files and the address first: their mistakes are
    // told before anything is made (a database, a tokens file).
    let given = agents::given(&cli)?;
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .map_err(|source| StartupError::Listen { address: cli.listen, source })?;
    // The address actually bound (`--listen 127.0.0.1:0` picks a free port).
    let address = listener.local_addr().map_err(|source| StartupError::Listen { address: cli.listen, source })?;
    let (store, notifier) = open_store(&cli).await?;
    // The tokens file after the database, whose lock keeps a second server
    // from making it at the same time.
    let agents = match given {
        Some(agents) => agents,
        None => agents::defaults(cli.tokens_file())?,
    };

    let directory = StaticDirectory::new(agents.list.iter().map(|(agent, _)| agent.clone()));
    let mut hub = Hub::builder(store).directory(Arc::new(directory));
    if let Some(notifier) = notifier {
        hub = hub.notifier(notifier);
    }
    let tokens = StaticTokens::new(agents.list.iter().map(|(agent, token)| (token.clone(), agent.clone())));
    let mut options = Options::default();
    if let Some(n) = cli.rate_limit {
        options = options.rate_limit(RateLimit::new(f64::from(n), n));
    }
    let app = talk_http::router_with_options(hub.build(), Arc::new(tokens), options);

    announce(&cli, address, &agents);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await
        .map_err(StartupError::Serve)
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
