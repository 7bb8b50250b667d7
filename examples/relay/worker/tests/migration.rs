//! The Worker's D1 migrations hold the schema enginedb creates: the newest file in
//! `migrations/` must be exactly [`SQLITE_CREATE`] (rendered by [`render`]), so the schema
//! `wrangler d1 migrations apply` creates cannot drift from the one the adapter expects.
//!
//! When the schema changes, run `ENGINEDB_BLESS=1 cargo test -p relay-worker --test migration`
//! to rewrite the newest migration. Once a migration has been applied to a deployed database,
//! add a new file instead (`0002_….sql`, with `ENGINEDB_BLESS=1` writing it after you create
//! it empty): every statement of the list is idempotent, so the whole list is a valid upgrade.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::fs;
use std::path::{Path, PathBuf};

use enginedb_sql::schema::SQLITE_CREATE;

/// The migration file for `statements`: a header, then each statement ended by `;`.
fn render(statements: &[&str]) -> String {
    let mut sql = String::from(
        "-- The enginedb schema (SQLite dialect) for the relay Worker's D1 database, applied once by\n\
         -- `wrangler d1 migrations apply DB --local` (or `--remote`). Generated from\n\
         -- `enginedb_sql::schema::SQLITE_CREATE`; `cargo test -p relay-worker` checks it.\n",
    );
    for statement in statements {
        sql.push('\n');
        sql.push_str(statement);
        sql.push_str(";\n");
    }
    sql
}

/// The newest migration (the last name in `migrations/`, which wrangler applies last).
fn newest_migration() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
        .pop()
        .unwrap_or_else(|| panic!("no .sql file in {}", dir.display()))
}

#[test]
fn newest_migration_is_the_schema_enginedb_creates() {
    let path = newest_migration();
    let expected = render(SQLITE_CREATE);
    let found = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if found == expected {
        return;
    }
    if std::env::var_os("ENGINEDB_BLESS").is_some_and(|v| v == "1") {
        fs::write(&path, &expected).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    panic!(
        "{} differs from enginedb_sql::schema::SQLITE_CREATE; rewrite it with \
         `ENGINEDB_BLESS=1 cargo test -p relay-worker --test migration` (see this test's docs \
         for deployed databases). Expected:\n{expected}",
        path.display()
    );
}
