//! Connecting and migrating: several nodes starting at once, a schema newer
//! than the code, schema names, the search_path schema, an unreachable server.

mod common;

use common::{TestSchema, admin, database_url};
use talk_core::Store;
use talk_store_postgres::{ConnectError, PostgresOptions, PostgresStore};

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_nodes_starting_at_once_migrate_the_schema_once() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let starts: Vec<_> = (0..6)
        .map(|_| {
            let (url, options) = (url.clone(), schema.options());
            tokio::spawn(async move { PostgresStore::connect(&url, options).await })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("a start panicked").expect("every node starts"));
    }
    let admin = admin(&url).await;
    let row = admin
        .query_one(&format!("SELECT count(*), max(version) FROM \"{}\".talk_schema_version", schema.name), &[])
        .await
        .expect("talk_schema_version");
    let (count, version): (i64, i32) = (row.get(0), row.get(1));
    let files = talk_testing::migrations::files(&migrations_dir()).len();
    let files = i64::try_from(files).expect("a few files");
    assert_eq!((count, i64::from(version)), (files, migrations()), "one row per migration, applied once");
    for store in &stores {
        assert_eq!(store.head().await.expect("head"), 0);
        assert_eq!(store.schema(), schema.name);
    }
    // Connecting again to an up-to-date schema changes nothing.
    let again = schema.store().await;
    assert_eq!(again.head().await.expect("head"), 0);
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test]
async fn postgres_a_schema_newer_than_the_code_is_refused() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    drop(schema.store().await);
    let admin = admin(&url).await;
    admin
        .execute(
            &format!(
                "INSERT INTO \"{}\".talk_schema_version (version, name) VALUES (999, 'from the future')",
                schema.name
            ),
            &[],
        )
        .await
        .expect("marking the schema newer");
    match PostgresStore::connect(&url, schema.options()).await {
        Err(ConnectError::TooNew { schema: name, found, supported }) => {
            assert_eq!((name.as_str(), found, supported), (schema.name.as_str(), 999, migrations()));
        }
        other => panic!("a newer schema must be refused with TooNew, got {other:?}"),
    }
    let message = PostgresStore::connect(&url, schema.options()).await.expect_err("refused").to_string();
    assert!(message.contains("newer") && message.contains("upgrade"), "a clear message: {message}");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test]
async fn postgres_without_a_schema_the_store_works_in_the_search_path_schema() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let admin = admin(&url).await;
    admin.batch_execute(&format!("CREATE SCHEMA \"{}\"", schema.name)).await.expect("creating the schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    let with_path = format!("{url}{separator}options=-c%20search_path%3D{}", schema.name);
    let store = PostgresStore::connect(&with_path, PostgresOptions { schema: None, ..PostgresOptions::default() })
        .await
        .expect("a store in the search_path schema");
    assert_eq!(store.schema(), schema.name);
    let tables: i64 = admin
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'events'", &[&schema.name])
        .await
        .expect("pg_tables")
        .get(0);
    assert_eq!(tables, 1, "the tables are in the search_path schema");
}

#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test]
async fn postgres_a_search_path_without_an_existing_schema_is_refused() {
    let url = database_url();
    let with_path = common::url_with_options(&url, "-c search_path=talk_test_missing_schema");
    let refused = PostgresStore::connect(&with_path, PostgresOptions::default()).await;
    assert!(matches!(refused, Err(ConnectError::NoSchema)), "got {refused:?}");
}

#[tokio::test]
async fn invalid_schema_names_and_options_are_refused_before_connecting() {
    // No server is needed: these are refused before any connection.
    let url = "postgres://nobody@127.0.0.1:1/none";
    for bad in ["", "1x", "has space", "semi;colon", "quo\"te", "pg_catalog", &"x".repeat(64)] {
        let options = PostgresOptions { schema: Some(bad.to_owned()), ..PostgresOptions::default() };
        match PostgresStore::connect(url, options).await {
            Err(ConnectError::InvalidSchema(name)) => assert_eq!(name, bad),
            other => panic!("schema {bad:?} must be refused, got {other:?}"),
        }
    }
    let second = std::time::Duration::from_secs(1);
    for bad in [
        PostgresOptions { pool_size: 0, ..PostgresOptions::default() },
        PostgresOptions { call_timeout: std::time::Duration::ZERO, ..PostgresOptions::default() },
        PostgresOptions { keepalives_idle: second / 2, ..PostgresOptions::default() },
        PostgresOptions { keepalives_interval: second / 2, ..PostgresOptions::default() },
        PostgresOptions { keepalives_retries: 0, ..PostgresOptions::default() },
    ] {
        let refused = PostgresStore::connect(url, bad.clone()).await;
        assert!(matches!(refused, Err(ConnectError::InvalidOptions(_))), "{bad:?}: got {refused:?}");
    }
    assert!(matches!(
        PostgresStore::connect("not a url ://", PostgresOptions::default()).await,
        Err(ConnectError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    // Port 1 on the loopback: nothing listens there.
    let refused = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none", PostgresOptions::default()).await;
    assert!(matches!(refused, Err(ConnectError::Connect(_))), "got {refused:?}");
}

fn migrations_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// The schema version this crate writes: the number of its last migration.
fn migrations() -> i64 {
    talk_testing::migrations::latest_version(&migrations_dir())
}

/// A schema made by the migrations before read state (0001–0003) with a
/// talk, records and messages in it: connecting numbers the messages and
/// puts every record's marker at its own join.
#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_schema_from_before_read_state_gets_markers_at_each_records_join() {
    let url = database_url();
    let schema = TestSchema::new(&url);
    let admin = admin(&url).await;
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut setup = format!("CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\";", schema.name);
    setup.push_str(
        "CREATE TABLE talk_schema_version (version integer NOT NULL PRIMARY KEY, name text NOT NULL, \
         applied_at timestamptz NOT NULL DEFAULT now());",
    );
    for (version, name) in (1..).zip(["0001_initial.sql", "0002_event_holds.sql", "0003_secret_key.sql"]) {
        setup.push_str(&std::fs::read_to_string(folder.join(name)).expect("a migration"));
        setup.push_str(&format!("\nINSERT INTO talk_schema_version (version, name) VALUES ({version}, '{name}');\n"));
    }
    let (talk, alice, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    setup.push_str(&format!(
        "INSERT INTO talks (id, kind, name, detail, status, creator_id, member_count, version, created_seq, \
         tm_create, tm_update) VALUES ('{talk}', 'group', 'old', '', 'active', 'alice', 2, 1, 1, now(), now());
         INSERT INTO participants (id, talk_id, agent_id, status, seq, joined_seq, talk_seq, tm_joined) VALUES
           ('{alice}', '{talk}', 'alice', 'active', 2, 2, 1, now()),
           ('{bob}', '{talk}', 'bob', 'active', 5, 5, 1, now());
         INSERT INTO messages (id, talk_id, kind, agent_id, text, medias, version, seq, tm_create, tm_update) VALUES
           ('{m1}', '{talk}', 'normal', 'alice', 'x', '[]', 1, 3, now(), now()),
           ('{m2}', '{talk}', 'normal', 'alice', 'x', '[]', 1, 4, now(), now()),
           ('{m3}', '{talk}', 'system', NULL, 'x', '[]', 1, 6, now(), now()),
           ('{m4}', '{talk}', 'normal', 'alice', 'x', '[]', 1, 7, now(), now());",
        m1 = uuid::Uuid::now_v7(),
        m2 = uuid::Uuid::now_v7(),
        m3 = uuid::Uuid::now_v7(),
        m4 = uuid::Uuid::now_v7(),
    ));
    admin.batch_execute(&setup).await.expect("a schema at version 3");

    let store = schema.store().await;
    let bob_marker = store.read_marker(talk_core::ParticipantId(bob)).await.expect("read").expect("bob's marker");
    assert_eq!(bob_marker.read_seq, 5, "at bob's own join");
    let alice_marker = store.read_marker(talk_core::ParticipantId(alice)).await.expect("read").expect("a marker");
    assert_eq!((alice_marker.read_seq, alice_marker.read_message_id), (2, None));
    let numbers = store.read_numbers(&talk_core::AgentId::parse("bob").expect("agent"), None).await.expect("numbers");
    assert_eq!(numbers.len(), 1);
    assert_eq!((numbers[0].normal_after, numbers[0].own_after), (1, 0), "the one normal message after bob joined");
    let row =
        admin.query_one(&format!("SELECT normal_total FROM \"{}\".talks", schema.name), &[]).await.expect("the talk");
    assert_eq!(row.get::<_, i64>(0), 3, "every old normal message numbered");
}

/// The search migration (0006) indexes the messages a schema already
/// holds: normal ones not deleted, folded by talk-core. The schema is taken
/// back to before it (and the later consumers' migration, 0007).
#[ignore = "needs TALK_TEST_POSTGRES_URL"]
#[tokio::test]
async fn postgres_the_search_migration_indexes_the_messages_already_stored() {
    use std::sync::Arc;
    use talk_core::{AgentId, Hub, NewMessage, NewTalk, PageRequest, SearchRequest, TalkKind};
    let url = database_url();
    let schema = TestSchema::new(&url);
    let alice = AgentId::parse("alice").expect("agent");
    let (talk, kept) = {
        let hub = Hub::new(Arc::new(schema.store().await));
        let new_talk =
            NewTalk { kind: TalkKind::Group, name: Some("plans".into()), detail: None, participant_ids: vec![] };
        let talk = hub.create_talk(&alice, new_talk).await.expect("talk").resource;
        let send = |text: &str| NewMessage { text: text.into(), ..NewMessage::default() };
        let kept = hub.send_message(&alice, talk.id, send("Réunion au café")).await.expect("send").resource;
        let gone = hub.send_message(&alice, talk.id, send("café supprimé")).await.expect("send").resource;
        hub.delete_message(&alice, gone.id).await.expect("delete");
        (talk, kept)
    };
    // The schema as it was before the search migration.
    let admin = admin(&url).await;
    let name = &schema.name;
    admin
        .batch_execute(&format!(
            "DROP INDEX \"{name}\".messages_search; ALTER TABLE \"{name}\".messages DROP COLUMN search_words; \
             DROP TABLE \"{name}\".consumers; DELETE FROM \"{name}\".talk_schema_version WHERE version >= 6;"
        ))
        .await
        .expect("undo the search migration");
    let hub = Hub::new(Arc::new(schema.store().await));
    let found = hub.search_messages(&alice, &SearchRequest::new("CAFE"), &PageRequest::first()).await.expect("search");
    assert_eq!(found.items.iter().map(|hit| hit.message.id).collect::<Vec<_>>(), [kept.id]);
    assert_eq!(found.items[0].message.talk_id, talk.id);
}
