#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use std::sync::Arc;

use enginedb::{EngineDb, Error, MemoryDb, Result};

/// Opens the store `url` names. Adapter-specific query parameters (namespace, durability, …)
/// are those of each adapter's `from_url`.
///
/// # Errors
/// `InvalidInput` for an unknown scheme (or one whose feature is off), and whatever the
/// adapter's open returns.
pub async fn open(url: &str) -> Result<Arc<dyn EngineDb>> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "memory" => Ok(Arc::new(MemoryDb::new())),
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(enginedb_sqlite::SqliteDb::open_url(url).await?)),
        #[cfg(feature = "redb")]
        "redb" => Ok(Arc::new(enginedb_redb::RedbDb::open_url(url).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(enginedb_postgres::PgDb::open_url(url).await?)),
        _ => Err(Error::invalid(format!(
            "unknown store URL {url:?}: use memory://, sqlite://, redb:// or postgres://"
        ))),
    }
}
