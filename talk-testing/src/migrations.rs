//! Checks of a store's schema migrations: numbered SQL files in a folder
//! (`0001_initial.sql`, `0002_…`), embedded in the store's binary in order.

use std::path::Path;

/// The names of the `.sql` files in `dir`, sorted.
///
/// # Panics
/// When `dir` cannot be read.
pub fn files(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("the migrations folder {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// The schema version a store with the migrations in `dir` writes: their number.
pub fn latest_version(dir: &Path) -> i64 {
    i64::try_from(files(dir).len()).unwrap_or(i64::MAX)
}

/// Checks that `embedded` (the names a store applies, in order) are the
/// files of `dir`, each numbered by its place: `0001_…`, `0002_…`.
///
/// # Panics
/// When a file is missing from `embedded`, the order differs, or a name's
/// number is not its place.
pub fn assert_embedded_in_order(dir: &Path, embedded: &[&str]) {
    assert_eq!(files(dir), embedded, "each file in {} is embedded, in order", dir.display());
    for (number, name) in (1..).zip(embedded) {
        assert!(name.starts_with(&format!("{number:04}_")), "{name} is migration {number}");
    }
}
