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

/// The number a migration file's name starts with (`0005_…` is 5): the
/// schema version it brings a store to.
///
/// # Panics
/// When the name does not start with four digits and `_`.
pub fn number(name: &str) -> i64 {
    let digits = name.get(..4).filter(|_| name.get(4..5) == Some("_"));
    digits.and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("{name} starts with its number, `0001_`"))
}

/// The schema version a store with the migrations in `dir` writes: the
/// number of the last one.
pub fn latest_version(dir: &Path) -> i64 {
    files(dir).last().map_or(0, |name| number(name))
}

/// Checks that `embedded` (the names a store applies, in order) are the
/// files of `dir`, numbered from `0001_` in strictly increasing order. A
/// number may be missing: features developed side by side take their
/// numbers ahead, and a store applies each file whose number is above its
/// version, so a database never applies one twice.
///
/// # Panics
/// When a file is missing from `embedded`, the order differs, the first is
/// not `0001_`, or the numbers do not increase.
pub fn assert_embedded_in_order(dir: &Path, embedded: &[&str]) {
    assert_eq!(files(dir), embedded, "each file in {} is embedded, in order", dir.display());
    let numbers: Vec<i64> = embedded.iter().map(|name| number(name)).collect();
    assert_eq!(numbers.first(), Some(&1), "the first migration is 0001_");
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "migration numbers increase: {embedded:?}");
}
