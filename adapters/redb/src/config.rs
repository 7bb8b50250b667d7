//! How to open a redb store: from code or from a `redb://` URL.

use std::path::PathBuf;
use std::time::Duration;

use enginedb::Result;
use enginedb_kit::store::FileUrl;
pub use enginedb_kit::store::{Durability, Location};

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
    /// Open an existing store for reading only (`mode=ro`): nothing is created or changed,
    /// read-only files open, any number of processes may read at once, and writes fail with
    /// `Unsupported`. redb lets no process read while another has the file open for writing:
    /// that open fails with `Busy`.
    pub read_only: bool,
    /// Read on the caller's thread (`reads=inline`): see [`crate::RedbDb::inline_reads`].
    pub inline_reads: bool,
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
            read_only: false,
            inline_reads: false,
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
    /// parameters `namespace=NAME`, `durability=full|relaxed`, `readers=N`, `mode=ro|rw` (see
    /// [`RedbConfig::read_only`]), `reads=threads|inline` (see [`RedbConfig::inline_reads`]).
    ///
    /// # Errors
    /// `InvalidInput` naming what is wrong with the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let url = FileUrl::parse(url, "redb")?;
        url.no_other_params()?;
        let mut config = match url.location {
            Location::File(path) => RedbConfig::file(path),
            Location::Memory => RedbConfig::memory(),
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
