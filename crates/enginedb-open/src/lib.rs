#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use enginedb::{Db, Error, MemoryDb, Result};

/// Opens the store `url` names, as a [`Db`]. Adapter-specific query parameters (namespace,
/// durability, …) are those of each adapter's `from_url`.
///
/// # Errors
/// `InvalidInput` for an unknown scheme (or one whose feature is off), and whatever the
/// adapter's open returns.
pub async fn open(url: &str) -> Result<Db> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "memory" => Ok(Db::from(MemoryDb::new())),
        #[cfg(feature = "sqlite")]
        "sqlite" => enginedb_sqlite::SqliteDb::open_db(url).await,
        #[cfg(feature = "redb")]
        "redb" => enginedb_redb::RedbDb::open_db(url).await,
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => enginedb_postgres::PgDb::open_db(url).await,
        // The scheme only: the rest of the URL may hold a password.
        _ => Err(Error::invalid(format!(
            "unknown store URL scheme {scheme:?}: use memory://, sqlite://, redb:// or postgres:// \
             (each of the last three when its cargo feature is on)"
        ))),
    }
}
