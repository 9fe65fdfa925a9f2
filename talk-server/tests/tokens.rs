//! The default agents' tokens are the same at every start on one database
//! (kept in a file beside it), and new at every start in memory.

mod common;

use common::{get_status, start};

const TOKENS: [&str; 5] =
    ["TOKEN_AGENT_ID_1", "TOKEN_AGENT_ID_2", "TOKEN_AGENT_ID_3", "TOKEN_AGENT_ID_4", "TOKEN_AGENT_123"];

fn tokens(server: &common::Running) -> Vec<String> {
    TOKENS.iter().map(|name| server.export(name).to_owned()).collect()
}

#[test]
fn tokens_are_the_same_at_every_start_on_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("talk.db");
    let args = ["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"];

    let first = start(&args);
    let before = tokens(&first);
    assert_eq!(get_status(first.address, "/v1.0/talks", &before[0]), 200);
    let file = dir.path().join("talk.db.tokens");
    assert!(first.announcement.contains(&format!("new, kept in {}", file.display())), "{}", first.announcement);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    drop(first);

    let second = start(&args);
    assert_eq!(tokens(&second), before);
    assert!(second.announcement.contains(&format!("(kept in {})", file.display())), "{}", second.announcement);
    // A token pasted from the first run works on the second; others do not.
    for token in &before {
        assert_eq!(get_status(second.address, "/v1.0/talks", token), 200);
    }
    assert_eq!(get_status(second.address, "/v1.0/talks", "not-a-token"), 401);
}

#[test]
fn tokens_are_new_at_every_start_in_memory() {
    let args = ["--db", ":memory:", "--listen", "127.0.0.1:0"];
    let first = tokens(&start(&args));
    let second = start(&args);
    assert_ne!(tokens(&second), first);
    assert_eq!(get_status(second.address, "/v1.0/talks", &first[0]), 401);
    assert!(second.announcement.contains("new at every start"), "{}", second.announcement);
}

#[test]
fn given_agents_replace_the_default_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("talk.db");
    let server = start(&["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0", "--agent", "agent-9=token-9"]);
    assert!(server.exports.is_empty(), "{}", server.announcement);
    assert_eq!(get_status(server.address, "/v1.0/talks", "token-9"), 200);
    assert!(!dir.path().join("talk.db.tokens").exists());
}

/// A PostgreSQL schema of its own, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.expect("PostgreSQL");
            tokio::spawn(connection);
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .await
                .expect("schema dropped");
        });
    }
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[test]
fn on_postgres_tokens_are_kept_with_a_tokens_file_only() {
    let url = common::postgres_url();
    let schema = Schema { url: url.clone(), name: format!("talk_tokens_{:016x}", rand::random::<u64>()) };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("talk.tokens");
    let mut args = vec!["--postgres", &url, "--postgres-schema", &schema.name, "--listen", "127.0.0.1:0"];

    let fresh = start(&args);
    assert!(fresh.announcement.contains("--tokens-file keeps them"), "{}", fresh.announcement);
    let fresh = tokens(&fresh);

    args.extend(["--tokens-file", file.to_str().unwrap()]);
    let first = tokens(&start(&args));
    assert_ne!(first, fresh);
    let second = start(&args);
    assert_eq!(tokens(&second), first);
    assert_eq!(get_status(second.address, "/v1.0/talks", &first[0]), 200);
}
