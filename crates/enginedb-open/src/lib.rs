#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use enginedb::{Db, Error, MemoryDb, Result};

/// Opens the store `url` names, as a [`Db`]. Adapter-specific query parameters (namespace,
/// durability, …) are those of each adapter's `from_url`.
///
/// # Errors
/// `InvalidInput` for an unknown scheme, or for a known one whose cargo feature is off in this
/// build (the message names the feature to enable); and whatever the adapter's open returns.
pub async fn open(url: &str) -> Result<Db> {
    // The scheme only, in every message: the rest of the URL may hold a password.
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "memory" => Ok(Db::from(MemoryDb::new())),
        #[cfg(feature = "sqlite")]
        "sqlite" => enginedb_sqlite::SqliteDb::open_db(url).await,
        #[cfg(feature = "redb")]
        "redb" => enginedb_redb::RedbDb::open_db(url).await,
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => enginedb_postgres::PgDb::open_db(url).await,
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(feature_off(scheme, "sqlite")),
        #[cfg(not(feature = "redb"))]
        "redb" => Err(feature_off(scheme, "redb")),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(feature_off(scheme, "postgres")),
        _ => Err(Error::invalid(format!(
            "unknown store URL scheme {scheme:?}: use memory://, sqlite://, redb:// or postgres://"
        ))),
    }
}

/// The error for a `scheme` this build was compiled without.
#[cfg(not(all(feature = "sqlite", feature = "redb", feature = "postgres")))]
fn feature_off(scheme: &str, feature: &str) -> Error {
    Error::invalid(format!(
        "{scheme}:// URLs need enginedb-open's cargo feature {feature:?}, which this build was \
         compiled without: enable it (`enginedb-open = {{ version = \"…\", features = [\"{feature}\"] }}`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::open;

    #[test]
    fn an_unknown_scheme_is_refused_without_echoing_the_url() {
        let error = futures::executor::block_on(open("mysql://user:secret@host/db"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("\"mysql\""), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn a_sqlite_url_without_the_feature_names_the_feature() {
        let error = futures::executor::block_on(open("sqlite://app.db"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("feature \"sqlite\""), "{error}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_names_the_feature() {
        let error = futures::executor::block_on(open("postgres://user:secret@host/db"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("feature \"postgres\""), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }
}
