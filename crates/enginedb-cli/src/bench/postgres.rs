//! The PostgreSQL backend of the bench: a throwaway cluster (or `DATABASE_URL`'s server), the
//! adapter and sqlx on it — in a build with the `postgres` feature (the default).

use std::sync::Arc;

use enginedb::{Db, Error, Result};

use super::store::Store;

/// The server the bench runs against, for as long as it runs.
#[cfg(feature = "postgres")]
pub(crate) struct Server(enginedb_postgres::throwaway::PgServer);

/// The server the bench runs against: none in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
pub(crate) enum Server {}

impl Server {
    /// A throwaway cluster, or `DATABASE_URL`'s server.
    pub(crate) fn start() -> Result<Server> {
        #[cfg(feature = "postgres")]
        return enginedb_postgres::throwaway::PgServer::start()
            .map(Server)
            .map_err(|e| Error::backend("bench postgres", e));
        #[cfg(not(feature = "postgres"))]
        Err(unsupported())
    }

    /// Its URL.
    pub(crate) fn url(&self) -> &str {
        #[cfg(feature = "postgres")]
        return &self.0.url;
        #[cfg(not(feature = "postgres"))]
        match *self {}
    }
}

/// The adapter (in a namespace of its own) and the raw driver on the server at `url`.
#[cfg(feature = "postgres")]
pub(crate) async fn open(url: &str) -> Result<(Db, Arc<dyn Store>)> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let namespace = format!("bench_{}", std::process::id());
    let config = enginedb_postgres::PgConfig::from_url(&format!("{url}{separator}enginedb_namespace={namespace}"))?;
    let pool = config.max_connections;
    Ok((
        Db::from(enginedb_postgres::PgDb::open(config).await?),
        Arc::new(super::raw::RawPostgres::open(url, pool).await?),
    ))
}

/// The adapter and the raw driver: none in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
pub(crate) async fn open(_url: &str) -> Result<(Db, Arc<dyn Store>)> {
    Err(unsupported())
}

#[cfg(not(feature = "postgres"))]
fn unsupported() -> Error {
    Error::invalid("this enginedb was built without the postgres feature")
}
