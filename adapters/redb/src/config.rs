//! How to open a redb store: from code or from a `redb://` URL.

use std::path::PathBuf;
use std::time::Duration;

use enginedb::Result;
use enginedb::url::FileUrl;

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A database file (created if missing).
    File(PathBuf),
    /// redb's in-memory backend: gone when the last handle is dropped.
    Memory,
}

/// What a commit waits for before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// redb's `Durability::Immediate`: persisted when the commit returns; survives a process
    /// kill and a power loss. The default.
    #[default]
    Full,
    /// redb's `Durability::None`: commits are atomic and visible, but only persisted by the next
    /// `Full` commit; a crash may lose the last units (never half of one).
    Relaxed,
}

/// Settings of [`crate::RedbDb::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedbConfig {
    /// Where the database lives.
    pub location: Location,
    /// The namespace this handle works in (`None`: the default one).
    pub namespace: Option<String>,
    /// See [`Durability`].
    pub durability: Durability,
    /// Reader threads (reads run on read transactions there, never on the writer).
    pub readers: usize,
    /// An open transaction that receives no command for this long is rolled back, so an
    /// abandoned transaction cannot hold redb's single write transaction forever.
    pub transaction_idle_timeout: Duration,
}

impl RedbConfig {
    /// Defaults for a database file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        RedbConfig {
            location: Location::File(path.into()),
            namespace: None,
            durability: Durability::Full,
            readers: 4,
            transaction_idle_timeout: Duration::from_secs(30),
        }
    }

    /// Defaults for an in-memory database.
    pub fn memory() -> Self {
        RedbConfig {
            location: Location::Memory,
            ..RedbConfig::file("")
        }
    }

    /// Parses `redb://PATH`, `redb:///ABSOLUTE/PATH` or `redb::memory:`, with optional query
    /// parameters `namespace=NAME`, `durability=full|relaxed`, `readers=N`.
    ///
    /// # Errors
    /// `InvalidInput` naming what is wrong with the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let url = FileUrl::parse(url, "redb")?;
        let mut config = url.path.map_or_else(RedbConfig::memory, RedbConfig::file);
        config.namespace = url.namespace;
        config.readers = url.readers.unwrap_or(config.readers);
        for (name, value) in &url.params {
            match (name.as_str(), value.as_str()) {
                ("durability", "full") => config.durability = Durability::Full,
                ("durability", "relaxed") => config.durability = Durability::Relaxed,
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
            RedbConfig::from_url("redb://data/app.redb").unwrap().location,
            Location::File("data/app.redb".into())
        );
        assert_eq!(
            RedbConfig::from_url("redb:///var/app.redb").unwrap().location,
            Location::File("/var/app.redb".into())
        );
        assert_eq!(
            RedbConfig::from_url("redb::memory:").unwrap().location,
            Location::Memory
        );
        let c = RedbConfig::from_url("redb://a?namespace=t1&durability=relaxed&readers=1").unwrap();
        assert_eq!(
            (c.namespace.as_deref(), c.durability, c.readers),
            (Some("t1"), Durability::Relaxed, 1)
        );
        for bad in [
            "sqlite://x",
            "redb://",
            "redb://a?namespace=9",
            "redb://a?durability=maybe",
        ] {
            assert!(RedbConfig::from_url(bad).is_err(), "{bad}");
        }
    }
}
