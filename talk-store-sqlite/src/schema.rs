//! Schema migrations: numbered SQL files in `migrations/`, embedded in the
//! binary, applied in order, tracked with `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::OpenError;

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

/// Brings the database to [`latest_version`]: applies each missing
/// migration in its own transaction together with its `user_version`, so a
/// failure leaves the database at the version before it. An up-to-date
/// database is left untouched; a newer one is refused.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let sqlite = |source: rusqlite::Error| crate::classify_open_error(path, source);
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sqlite)?;
    let supported = latest_version();
    if found > supported {
        return Err(OpenError::TooNew { path: path.to_owned(), found, supported });
    }
    for (name, script) in MIGRATIONS {
        let version = version_of(name);
        if version <= found {
            continue;
        }
        let failed = |source: rusqlite::Error| match crate::classify_open_error(path, source) {
            OpenError::Sqlite { source, .. } => OpenError::Migration { path: path.to_owned(), version, source },
            other => other,
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        tx.execute_batch(script).map_err(failed)?;
        after_script(&tx, name).map_err(failed)?;
        tx.pragma_update(None, "user_version", version).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

/// What a migration needs beyond its SQL, in its transaction: the search
/// index of the messages already stored (their words are folded by
/// talk-core, not by SQL).
fn after_script(tx: &Connection, name: &str) -> rusqlite::Result<()> {
    if name == "0006_search.sql" {
        let mut insert = tx.prepare(crate::sql::INDEX_MESSAGE_WORDS)?;
        let mut messages = tx.prepare(crate::sql::MESSAGES_TO_INDEX)?;
        let mut rows = messages.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let words = talk_core::text::index_text(row.get_ref(1)?.as_str()?);
            if !words.is_empty() {
                insert.execute(rusqlite::params![seq, words])?;
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
