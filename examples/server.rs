//! The demo server: the whole Talk API (HTTP + WebSocket) on one address.
//!
//! ```text
//! cargo run --release --example server -- [--listen 127.0.0.1:8080]
//!                                          [--db talk.db | --db :memory: | --postgres URL [--postgres-schema NAME]]
//!                                          [--agent ID=TOKEN]... [--agents-file PATH]
//!                                          [--rate-limit N]
//! ```
//!
//! Without `--agent` or `--agents-file` it knows `agent-id-1` … `agent-id-4`
//! and `agent-123`, and prints a fresh random token for each at start-up.
//! With `--postgres URL` it keeps everything in PostgreSQL instead of
//! SQLite and hears the commits of the other servers sharing that database
//! (LISTEN/NOTIFY): start one on each machine behind a load balancer. The
//! line it prints at start-up names the address it actually serves on (so
//! `--listen 127.0.0.1:0` picks a free port).
//! One log line per request goes to stderr (method, path without the query
//! string, status, latency); Ctrl-C stops it cleanly.

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use talk_core::{AgentId, Hub, Notifier, StaticDirectory, Store};
use talk_http::{Options, RateLimit, StaticTokens, WireEncoder};
use talk_store_memory::MemoryStore;
use talk_store_postgres::{PostgresNotifier, PostgresOptions, PostgresStore};
use talk_store_sqlite::{SqliteOptions, SqliteStore};

const USAGE: &str = "\
usage: server [--listen ADDR] [--db PATH | --postgres URL [--postgres-schema NAME]]
              [--agent ID=TOKEN]... [--agents-file PATH] [--rate-limit N]

  --listen ADDR       address to serve on (default 127.0.0.1:8080)
  --db PATH           SQLite database file (default talk.db); :memory: keeps everything in memory
  --postgres URL      PostgreSQL instead of SQLite (postgres://user:password@host/db), shared
                      by every server started with the same URL and schema
  --postgres-schema NAME  the schema in that database, created if missing
                      (default: the connection's current schema, usually public)
  --agent ID=TOKEN    an agent and its token (repeatable)
  --agents-file PATH  agents and tokens, one ID=TOKEN a line (# starts a comment)
  --rate-limit N      at most N requests a second per agent (bursts of N); over it: 429 rate_limited

Without --agent or --agents-file, the agents agent-id-1 … agent-id-4 and agent-123
are known, each with a random token printed at start-up.";

/// The agents known by default, as in the Talk overview.
const DEFAULT_AGENTS: [&str; 5] = ["agent-id-1", "agent-id-2", "agent-id-3", "agent-id-4", "agent-123"];

/// The command line.
struct Args {
    listen: SocketAddr,
    db: String,
    /// The PostgreSQL URL and schema, instead of `db`.
    postgres: Option<(String, Option<String>)>,
    agents: Vec<(AgentId, String)>,
    /// Whether the tokens were made up here (and so must be shown).
    generated: bool,
    /// Requests a second per agent, if limited.
    rate_limit: Option<u32>,
}

fn parse_agent(spec: &str) -> Result<(AgentId, String), String> {
    let (id, token) = spec.split_once('=').ok_or_else(|| format!("{spec:?} is not ID=TOKEN"))?;
    let id = AgentId::parse(id.trim()).map_err(|e| e.to_string())?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!("agent {id} has an empty token"));
    }
    Ok((id, token.to_owned()))
}

fn read_agents_file(path: &PathBuf) -> Result<Vec<(AgentId, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| parse_agent(line).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

fn random_token() -> String {
    rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut db = "talk.db".to_owned();
    let mut db_given = false;
    let mut postgres = None;
    let mut postgres_schema = None;
    let mut agents = Vec::new();
    let mut rate_limit = None;
    while let Some(flag) = args.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
            _ => (flag.clone(), None),
        };
        if name == "--help" || name == "-h" {
            return Err(String::new());
        }
        let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match name.as_str() {
            "--listen" => listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--db" => {
                db = value()?;
                db_given = true;
            }
            "--postgres" => postgres = Some(value()?),
            "--postgres-schema" => postgres_schema = Some(value()?),
            "--agent" => agents.push(parse_agent(&value()?)?),
            "--agents-file" => agents.extend(read_agents_file(&PathBuf::from(value()?))?),
            "--rate-limit" => {
                let n: u32 = value()?.parse().map_err(|e| format!("--rate-limit: {e}"))?;
                if n == 0 {
                    return Err("--rate-limit must be at least 1".to_owned());
                }
                rate_limit = Some(n);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if postgres.is_some() && db_given {
        return Err("--db and --postgres are exclusive: the store is either SQLite or PostgreSQL".to_owned());
    }
    if postgres.is_none() && postgres_schema.is_some() {
        return Err("--postgres-schema needs --postgres".to_owned());
    }
    let postgres = postgres.map(|url| (url, postgres_schema));
    let generated = agents.is_empty();
    if generated {
        for id in DEFAULT_AGENTS {
            agents.push((AgentId::parse(id).map_err(|e| e.to_string())?, random_token()));
        }
    }
    Ok(Args { listen, db, postgres, agents, generated, rate_limit })
}

/// The shell variable the README's examples read an agent's token from:
/// `agent-id-1` → `TOKEN_AGENT_ID_1`.
fn token_variable(agent: &AgentId) -> String {
    let name: String =
        agent.as_str().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("TOKEN_{name}")
}

/// What the operator reads at start-up: the program's output, not a log line.
#[allow(clippy::print_stdout)]
fn announce(args: &Args) {
    println!("Talk demo server on http://{}  (database: {})", args.listen, database_name(args));
    if args.generated {
        println!("agents and their tokens; paste these lines into a shell to run the README's examples:");
        println!("  export TALK=http://{}", args.listen);
        for (agent, token) in &args.agents {
            println!("  export {}={token}", token_variable(agent));
        }
        if let Some((agent, _)) = args.agents.first() {
            println!();
            println!("try, as {agent}:");
            println!("  curl -s \"$TALK/v1.0/talks?token=${}\"", token_variable(agent));
        }
    } else {
        println!("{} agents known", args.agents.len());
    }
    if let Some(n) = args.rate_limit {
        println!("rate limit: {n} requests a second per agent");
    }
    println!("OpenAPI document: http://{}/v1.0/openapi.json", args.listen);
}

/// The database, as shown at start-up: a PostgreSQL URL without its user
/// and password.
fn database_name(args: &Args) -> String {
    match &args.postgres {
        None => args.db.clone(),
        Some((url, schema)) => {
            let shown = match url.rsplit_once('@') {
                Some((_, host)) => format!("postgres://…@{host}"),
                None => url.clone(),
            };
            match schema {
                Some(schema) => format!("PostgreSQL {shown}, schema {schema}"),
                None => format!("PostgreSQL {shown}"),
            }
        }
    }
}

/// The store, and for PostgreSQL the notifier that hears the other nodes.
type Opened = (Arc<dyn Store>, Option<Arc<dyn Notifier>>);

async fn open_store(args: &Args) -> Result<Opened, Box<dyn Error + Send + Sync>> {
    if let Some((url, schema)) = &args.postgres {
        let options = PostgresOptions { schema: schema.clone(), ..PostgresOptions::default() };
        let store = PostgresStore::connect(url, options).await?;
        let notifier = PostgresNotifier::start(&store).await?;
        return Ok((Arc::new(store), Some(Arc::new(notifier))));
    }
    if args.db == ":memory:" {
        return Ok((Arc::new(MemoryStore::new()), None));
    }
    let path = args.db.clone();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path, SqliteOptions::default())).await??;
    Ok((Arc::new(store), None))
}

#[tokio::main]
pub(crate) async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprintln!("{USAGE}");
            std::process::exit(if message.is_empty() { 0 } else { 2 });
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .init();

    let (store, notifier) = open_store(&args).await?;
    let directory = StaticDirectory::new(args.agents.iter().map(|(agent, _)| agent.clone()));
    let mut hub = Hub::builder(store).encoder(Arc::new(WireEncoder)).directory(Arc::new(directory));
    if let Some(notifier) = notifier {
        hub = hub.notifier(notifier);
    }
    let hub = hub.build();
    let tokens = StaticTokens::new(args.agents.iter().map(|(agent, token)| (token.clone(), agent.clone())));
    let mut options = Options::default();
    if let Some(n) = args.rate_limit {
        options = options.rate_limit(RateLimit::new(f64::from(n), n));
    }
    let app = talk_http::router_with_options(hub, Arc::new(tokens), options);

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    // The address actually bound (`--listen 127.0.0.1:0` picks a free port).
    let args = Args { listen: listener.local_addr()?, ..args };
    announce(&args);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await?;
    Ok(())
}
