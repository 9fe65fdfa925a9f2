//! The command line, parsed by clap: `--help` shows every flag with its
//! default and an example, and a bad flag ends the program with clap's
//! message and exit code 2.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use talk_core::AgentId;

use crate::webhooks;

/// The SQLite database that stands for "everything in memory".
pub(crate) const IN_MEMORY: &str = ":memory:";

/// Talk's demo server: the whole Talk API (HTTP + WebSocket) on one address.
///
/// Without --agent or --agents-file it knows agent-id-1 … agent-id-4 and agent-123,
/// and prints a token for each at start-up as `export` lines to paste into a shell.
/// Those tokens are kept beside the SQLite database (talk.db.tokens for talk.db)
/// and are the same at every start; with --db :memory:, and with --postgres
/// unless --tokens-file is given, they are new at every start.
#[derive(Debug, Parser)]
#[command(name = "talk-server", version, verbatim_doc_comment)]
#[command(after_long_help = "\
Examples (`cargo run --release --example server -- FLAGS` takes the same flags):
  talk-server                                        # 127.0.0.1:8080, SQLite talk.db
  talk-server --listen 127.0.0.1:9000 --db :memory:  # another port, nothing kept
  talk-server --db talk.db --backup copy.db          # a copy of talk.db, even while it is served
  talk-server --postgres postgres://talk:secret@db.internal/talk --postgres-schema talk \\
              --listen 0.0.0.0:8080 --agents-file agents.txt   # one of several nodes")]
pub(crate) struct Cli {
    /// The address to serve on
    ///
    /// Port 0 picks a free port: the line printed at start-up names the
    /// address served on.
    /// Example: --listen 0.0.0.0:9000
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", verbatim_doc_comment)]
    pub(crate) listen: SocketAddr,

    /// The SQLite database file, created if missing
    ///
    /// `:memory:` keeps everything in memory instead, until the server stops.
    /// Example: --db /var/lib/talk/talk.db
    #[arg(long, value_name = "PATH", default_value = "talk.db", conflicts_with = "postgres", verbatim_doc_comment)]
    pub(crate) db: String,

    /// Keep everything in PostgreSQL instead of SQLite [default: none, SQLite]
    ///
    /// Every server started with the same URL and schema shares that
    /// database, and hears the others' commits.
    /// Example: --postgres postgres://talk:secret@db.internal/talk
    #[arg(long, value_name = "URL", verbatim_doc_comment)]
    pub(crate) postgres: Option<String>,

    /// The schema in the database of --postgres [default: its current one]
    ///
    /// Created if missing. Without it: the connection's current schema,
    /// usually public.
    /// Example: --postgres-schema talk
    #[arg(long, value_name = "NAME", requires = "postgres", verbatim_doc_comment)]
    pub(crate) postgres_schema: Option<String>,

    /// The application_name of the --postgres sessions [default: talk-store-postgres]
    ///
    /// Tells the nodes apart in pg_stat_activity; the session that writes
    /// adds " writer", the one that listens " listener".
    /// Example: --postgres-application-name talk-node-1
    #[arg(long, value_name = "NAME", requires = "postgres", verbatim_doc_comment)]
    pub(crate) postgres_application_name: Option<String>,

    /// An agent and its token, repeatable [default: none]
    ///
    /// With it (or --agents-file) the server knows these agents instead of
    /// the default ones.
    /// Example: --agent agent-1=s3cret
    #[arg(long = "agent", value_name = "ID=TOKEN", value_parser = parse_agent, verbatim_doc_comment)]
    pub(crate) agents: Vec<(AgentId, String)>,

    /// A file of agents and their tokens, repeatable [default: none]
    ///
    /// One ID=TOKEN a line; # starts a comment. With it (or --agent) the
    /// server knows these agents instead of the default ones.
    /// Example: --agents-file agents.txt
    #[arg(long = "agents-file", value_name = "PATH", verbatim_doc_comment)]
    pub(crate) agents_files: Vec<PathBuf>,

    /// Where the default agents' tokens are kept [default: the --db path + .tokens]
    ///
    /// Made with new tokens on the first start, read at the next ones; one
    /// ID=TOKEN a line, as in --agents-file. None by default with --db :memory:
    /// or --postgres: their tokens are then new at every start.
    /// Example: --tokens-file talk.tokens
    #[arg(long, value_name = "PATH", conflicts_with_all = ["agents", "agents_files"], verbatim_doc_comment)]
    pub(crate) tokens_file: Option<PathBuf>,

    /// Back up the SQLite database of --db into the new file PATH, and exit [default: none]
    ///
    /// Works while a server runs on that database, which goes on serving: the
    /// copy is the whole database as of one moment, an ordinary database that
    /// --db opens. PATH must not exist yet. The tokens file is not copied.
    /// Example: --backup talk-backup.db
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["listen", "postgres", "agents", "agents_files", "tokens_file", "rate_limit", "webhooks", "no_web"],
        verbatim_doc_comment
    )]
    pub(crate) backup: Option<PathBuf>,

    /// At most N requests a second per agent [default: no limit]
    ///
    /// In bursts of up to N; above it the server answers 429 rate_limited.
    /// Example: --rate-limit 100
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), verbatim_doc_comment)]
    pub(crate) rate_limit: Option<u32>,

    /// POST every event to this URL, signed with --webhook-secret [default: none]
    ///
    /// Repeatable: one durable consumer per URL (kept in the database, so a
    /// restart resumes after the last delivered event; with --postgres one
    /// node at a time sends). Each event is the WebSocket event frame's JSON,
    /// with `X-Talk-Delivery: <seq>` (to deduplicate: delivery is at least
    /// once) and `X-Talk-Signature: sha256=<hex HMAC-SHA256 of the body>`. In
    /// seq order, one request at a time per URL; a failure or a timeout (10 s)
    /// is retried with capped exponential backoff and jitter. http:// only.
    /// Example: --webhook http://127.0.0.1:9000/talk-events --webhook-secret s3cret
    #[arg(long = "webhook", value_name = "URL", value_parser = webhooks::parse_target, requires = "webhook_secret", verbatim_doc_comment)]
    pub(crate) webhooks: Vec<webhooks::Target>,

    /// The secret that signs every webhook request [default: none]
    ///
    /// The receiver computes HMAC-SHA256 of the raw body with it and compares
    /// it with X-Talk-Signature. Required with --webhook.
    /// Example: --webhook-secret s3cret
    #[arg(long, value_name = "SECRET", requires = "webhooks", verbatim_doc_comment)]
    pub(crate) webhook_secret: Option<String>,

    /// Serve the API alone: no web app at / and no agents list at /demo/agents
    ///
    /// By default the server also serves the web app (a chat client of the
    /// API, in the browser) and, for its sign-in, GET /demo/agents: every
    /// agent with its token. Use --no-web wherever that list must not be
    /// handed out.
    #[arg(long, verbatim_doc_comment)]
    pub(crate) no_web: bool,
}

impl Cli {
    /// Where the default agents' tokens are kept: `--tokens-file`, else
    /// beside an SQLite database file, else nowhere.
    pub(crate) fn tokens_file(&self) -> Option<PathBuf> {
        if self.tokens_file.is_some() {
            return self.tokens_file.clone();
        }
        if self.postgres.is_some() || self.db == IN_MEMORY {
            return None;
        }
        let mut path = self.db.clone();
        path.push_str(".tokens");
        Some(PathBuf::from(path))
    }
}

/// `ID=TOKEN`, as given to `--agent` or on a line of an agents file.
pub(crate) fn parse_agent(spec: &str) -> Result<(AgentId, String), String> {
    let (id, token) = spec.split_once('=').ok_or_else(|| format!("{spec:?} is not ID=TOKEN"))?;
    let id = AgentId::parse(id.trim()).map_err(|e| e.to_string())?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!("agent {id} has an empty token"));
    }
    Ok((id, token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("talk-server").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_readme_s() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.listen, ([127, 0, 0, 1], 8080).into());
        assert_eq!(cli.db, "talk.db");
        assert_eq!(cli.postgres, None);
        assert!(cli.agents.is_empty() && cli.agents_files.is_empty());
        assert_eq!(cli.rate_limit, None);
        assert_eq!(cli.backup, None);
        assert!(!cli.no_web);
        assert_eq!(cli.tokens_file(), Some(PathBuf::from("talk.db.tokens")));
    }

    #[test]
    fn every_flag_takes_its_value() {
        let cli = parse(&[
            "--listen",
            "0.0.0.0:0",
            "--postgres",
            "postgres://x@h/d",
            "--postgres-schema=talk",
            "--postgres-application-name",
            "node-1",
            "--agent",
            "agent-1=t1",
            "--agent=agent-2 = t2",
            "--agents-file",
            "a.txt",
            "--agents-file",
            "b.txt",
            "--rate-limit",
            "5",
            "--no-web",
        ])
        .unwrap();
        assert_eq!(cli.listen, ([0, 0, 0, 0], 0).into());
        assert_eq!(cli.postgres.as_deref(), Some("postgres://x@h/d"));
        assert_eq!(cli.postgres_schema.as_deref(), Some("talk"));
        assert_eq!(cli.postgres_application_name.as_deref(), Some("node-1"));
        let agents: Vec<_> = cli.agents.iter().map(|(id, token)| (id.as_str(), token.as_str())).collect();
        assert_eq!(agents, [("agent-1", "t1"), ("agent-2", "t2")]);
        assert_eq!(cli.agents_files, [PathBuf::from("a.txt"), PathBuf::from("b.txt")]);
        assert_eq!(cli.rate_limit, Some(5));
        assert!(cli.no_web);
        assert_eq!(cli.tokens_file(), None);
    }

    #[test]
    fn backup_takes_a_path_beside_db() {
        let cli = parse(&["--db", "/d/talk.db", "--backup", "/b/copy.db"]).unwrap();
        assert_eq!((cli.db.as_str(), cli.backup), ("/d/talk.db", Some(PathBuf::from("/b/copy.db"))));
    }

    #[test]
    fn where_the_tokens_are_kept() {
        assert_eq!(parse(&["--db", "/d/x.db"]).unwrap().tokens_file(), Some(PathBuf::from("/d/x.db.tokens")));
        assert_eq!(parse(&["--db", ":memory:"]).unwrap().tokens_file(), None);
        let given = parse(&["--db", ":memory:", "--tokens-file", "t"]).unwrap();
        assert_eq!(given.tokens_file(), Some(PathBuf::from("t")));
        let given = parse(&["--postgres", "postgres://h/d", "--tokens-file", "t"]).unwrap();
        assert_eq!(given.tokens_file(), Some(PathBuf::from("t")));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let kind = |args: &[&str]| parse(args).map(|_| ()).unwrap_err().kind();
        assert_eq!(kind(&["--nope"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--listen", "8080"]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["--listen"]), ErrorKind::InvalidValue);
        assert_eq!(kind(&["--db", "x.db", "--postgres", "postgres://h/d"]), ErrorKind::ArgumentConflict);
        assert_eq!(kind(&["--postgres-schema", "talk"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["--agent", "agent-1"]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["--agent", "agent-1="]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["--agent", "not an id=t"]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["--rate-limit", "0"]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["--rate-limit", "-3"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--agent", "a=b", "--tokens-file", "t"]), ErrorKind::ArgumentConflict);
        assert_eq!(kind(&["--agents-file", "a", "--tokens-file", "t"]), ErrorKind::ArgumentConflict);
        assert_eq!(kind(&["--backup", "b.db", "--postgres", "postgres://h/d"]), ErrorKind::ArgumentConflict);
        assert_eq!(kind(&["--backup", "b.db", "--listen", "127.0.0.1:1"]), ErrorKind::ArgumentConflict);
    }
}
