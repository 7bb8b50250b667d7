//! How to open a SQLite store: from code or from a `sqlite://` URL.

use std::path::PathBuf;
use std::time::Duration;

use enginedb::Result;
use enginedb_kit::store::FileUrl;
pub use enginedb_kit::store::{Durability, Location};

/// Settings of [`crate::SqliteDb::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteConfig {
    /// Where the database lives.
    pub location: Location,
    /// The namespace this handle works in (`None`: the default one).
    pub namespace: Option<String>,
    /// See [`Durability`].
    pub durability: Durability,
    /// How long a connection waits for a lock held by another process before `Busy`.
    pub busy_timeout: Duration,
    /// Reader connections (reads never wait for the writer).
    pub readers: usize,
    /// An open transaction that receives no command for this long is rolled back and closed,
    /// so an abandoned transaction cannot hold the writer forever.
    pub transaction_idle_timeout: Duration,
    /// Open an existing store for reading only (`mode=ro`): nothing is created or changed, no
    /// write lock is taken (reads work beside a process that writes), and writes fail with
    /// `Unsupported`. The database file is never written; SQLite may create its (empty) `-wal`
    /// and `-shm` files beside it, for the WAL's index, where the directory allows. Read-only
    /// files and media open too: on a read-only file system, with no WAL left, the file is
    /// opened immutable.
    pub read_only: bool,
    /// Read on the caller's thread (`reads=inline`): see [`crate::SqliteDb::inline_reads`].
    pub inline_reads: bool,
}

impl SqliteConfig {
    /// Defaults for a database file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            location: Location::File(path.into()),
            namespace: None,
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            transaction_idle_timeout: Duration::from_secs(30),
            read_only: false,
            inline_reads: false,
        }
    }

    /// Defaults for a private temporary database.
    pub fn memory() -> Self {
        SqliteConfig {
            location: Location::Memory,
            ..SqliteConfig::file("")
        }
    }

    /// Parses `sqlite://PATH`, `sqlite:///ABSOLUTE/PATH` or `sqlite::memory:`, with optional
    /// query parameters `namespace=NAME`, `durability=full|relaxed`, `readers=N`, `mode=ro|rw`,
    /// `reads=threads|inline` (see [`SqliteConfig::inline_reads`])
    /// (percent-decoded; `relaxed` is SQLite's `synchronous = NORMAL`; `ro`: see
    /// [`SqliteConfig::read_only`]).
    ///
    /// # Errors
    /// `InvalidInput` naming what is wrong with the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let url = FileUrl::parse(url, "sqlite")?;
        url.no_other_params()?;
        let mut config = match url.location {
            Location::File(path) => SqliteConfig::file(path),
            Location::Memory => SqliteConfig::memory(),
        };
        config.namespace = url.namespace;
        config.readers = url.readers.unwrap_or(config.readers);
        config.durability = url.durability.unwrap_or(config.durability);
        config.read_only = url.read_only.unwrap_or(config.read_only);
        config.inline_reads = url.inline_reads.unwrap_or(config.inline_reads);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            SqliteConfig::from_url("sqlite://data/app.db").unwrap().location,
            Location::File("data/app.db".into())
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite:///var/app.db").unwrap().location,
            Location::File("/var/app.db".into())
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite::memory:").unwrap().location,
            Location::Memory
        );
        let c = SqliteConfig::from_url("sqlite://a.db?namespace=tenant_1&durability=relaxed&readers=2").unwrap();
        assert_eq!(
            (c.namespace.as_deref(), c.durability, c.readers),
            (Some("tenant_1"), Durability::Relaxed, 2)
        );
        for bad in [
            "postgres://x",
            "sqlite://",
            "sqlite://a.db?namespace=Bad;",
            "sqlite://a.db?x=1",
            "sqlite://a?readers=0",
        ] {
            assert!(SqliteConfig::from_url(bad).is_err(), "{bad}");
        }
    }
}
