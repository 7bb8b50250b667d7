//! How to open a SQLite store: from code or from a `sqlite://` URL.

use std::path::PathBuf;
use std::time::Duration;

use enginedb::Result;
use enginedb::url::FileUrl;

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A database file (created if missing), with its `-wal` and `-shm` files beside it.
    File(PathBuf),
    /// A private database in a temporary directory, removed when the last handle is dropped.
    /// Not durable; for tests and scratch work.
    Memory,
}

/// What a commit waits for before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: the WAL is synced on every commit. An acknowledged unit survives a
    /// process kill and a power loss. The default.
    #[default]
    Full,
    /// `synchronous = NORMAL`: an acknowledged unit survives a process kill; the last units
    /// before a power loss may be lost (never half of one).
    Normal,
}

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
    /// query parameters `namespace=NAME`, `durability=full|normal`, `readers=N`.
    ///
    /// # Errors
    /// `InvalidInput` naming what is wrong with the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let url = FileUrl::parse(url, "sqlite")?;
        let mut config = url.path.map_or_else(SqliteConfig::memory, SqliteConfig::file);
        config.namespace = url.namespace;
        config.readers = url.readers.unwrap_or(config.readers);
        for (name, value) in &url.params {
            match (name.as_str(), value.as_str()) {
                ("durability", "full") => config.durability = Durability::Full,
                ("durability", "normal") => config.durability = Durability::Normal,
                (name, value) => return Err(FileUrl::unknown(name, value)),
            }
        }
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
        let c = SqliteConfig::from_url("sqlite://a.db?namespace=tenant_1&durability=normal&readers=2").unwrap();
        assert_eq!(
            (c.namespace.as_deref(), c.durability, c.readers),
            (Some("tenant_1"), Durability::Normal, 2)
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
