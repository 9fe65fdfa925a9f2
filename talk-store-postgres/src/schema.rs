//! Schema migrations: numbered SQL files in `migrations/`, embedded in the
//! binary, applied in order in one transaction under an advisory lock (so
//! that several nodes starting at once migrate once), tracked in the table
//! `talk_schema_version` of the store's schema.

use tokio_postgres::Client;

use crate::connect::quoted;
use crate::error::ConnectError;

/// The migrations, in order: each brings the schema to the version its
/// name starts with (`0005_…`: 5; numbers increase, one may be missing
/// while features developed side by side land). A new schema change is a
/// new file here; a file once released never changes.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial.sql", include_str!("../migrations/0001_initial.sql")),
    ("0002_event_holds.sql", include_str!("../migrations/0002_event_holds.sql")),
    ("0003_secret_key.sql", include_str!("../migrations/0003_secret_key.sql")),
    ("0004_read_state.sql", include_str!("../migrations/0004_read_state.sql")),
    ("0005_public_talks.sql", include_str!("../migrations/0005_public_talks.sql")),
    ("0006_search.sql", include_str!("../migrations/0006_search.sql")),
    ("0007_consumers.sql", include_str!("../migrations/0007_consumers.sql")),
];

/// The version a migration brings the schema to: the number its name starts with.
fn version_of(name: &str) -> i64 {
    name.get(..4).and_then(|digits| digits.parse().ok()).unwrap_or(i64::MAX)
}

/// The schema version this crate writes: the last migration's.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(name, _)| version_of(name))
}

/// The advisory lock that serialises migrations of one schema, keyed by
/// its name, held until the migrating transaction ends.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('talk-store-postgres migrate ' || $1))";

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS talk_schema_version (\
     version    integer     NOT NULL PRIMARY KEY, \
     name       text        NOT NULL, \
     applied_at timestamptz NOT NULL DEFAULT now())";

/// Brings the schema to [`latest_version`] and answers its name: creates it
/// if `schema` is given and missing, then applies each missing migration,
/// all in one transaction under the schema's advisory lock, so a failure
/// leaves the schema as it was and concurrent nodes migrate once. An
/// up-to-date schema is left untouched; a newer one is refused.
///
/// Without `schema`, works in the connection's `current_schema()`.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<String, ConnectError> {
    let asked = schema.unwrap_or_default().to_owned();
    let setup = |source| ConnectError::Setup { schema: asked.clone(), source };
    let tx = client.transaction().await.map_err(setup)?;
    // A migration may take long (and wait for another node's): it is not
    // bounded by the store's statement_timeout.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await.map_err(setup)?;
    let schema = match schema {
        Some(schema) => {
            tx.execute(LOCK, &[&schema]).await.map_err(setup)?;
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {name}; SET LOCAL search_path TO {name}",
                name = quoted(schema)
            ))
            .await
            .map_err(setup)?;
            schema.to_owned()
        }
        None => {
            let current: Option<String> = tx.query_one("SELECT current_schema()", &[]).await.map_err(setup)?.get(0);
            let current = current.ok_or(ConnectError::NoSchema)?;
            tx.execute(LOCK, &[&current]).await.map_err(setup)?;
            current
        }
    };
    let setup = |source| ConnectError::Setup { schema: schema.clone(), source };
    tx.batch_execute(VERSION_TABLE).await.map_err(setup)?;
    let found: i64 = tx
        .query_one("SELECT coalesce(max(version), 0)::bigint FROM talk_schema_version", &[])
        .await
        .map_err(setup)?
        .get(0);
    let supported = latest_version();
    if found > supported {
        // Leave the schema exactly as it was (the version table existed).
        let _ = tx.rollback().await;
        return Err(ConnectError::TooNew { schema, found, supported });
    }
    for (version, (name, script)) in MIGRATIONS.iter().map(|migration| (version_of(migration.0), migration)) {
        if version <= found {
            continue;
        }
        let failed = |source| ConnectError::Migration { schema: schema.clone(), version, source };
        tx.batch_execute(script).await.map_err(failed)?;
        after_script(&tx, name).await.map_err(failed)?;
        let number = i32::try_from(version).unwrap_or(i32::MAX);
        tx.execute("INSERT INTO talk_schema_version (version, name) VALUES ($1, $2)", &[&number, name])
            .await
            .map_err(failed)?;
    }
    tx.commit().await.map_err(|source| ConnectError::Setup { schema: schema.clone(), source })?;
    Ok(schema)
}

/// What a migration needs beyond its SQL, in its transaction: the search
/// words of the messages already stored (folded by talk-core, not by SQL).
async fn after_script(tx: &tokio_postgres::Transaction<'_>, name: &str) -> Result<(), tokio_postgres::Error> {
    if name == "0006_search.sql" {
        let rows = tx.query(crate::sql::MESSAGES_TO_INDEX, &[]).await?;
        let set = tx.prepare(crate::sql::SET_SEARCH_WORDS).await?;
        for row in rows {
            let (id, text): (uuid::Uuid, String) = (row.get(0), row.get(1));
            if let Some(words) = crate::search::tsvector(&text) {
                tx.execute(&set, &[&id, &words]).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|(name, _)| *name).collect();
        talk_testing::migrations::assert_embedded_in_order(&dir, &embedded);
    }
}
