//! Pooled connections that fail fast when the server cannot be reached. The pool retries a
//! refused connection until its acquire timeout and then reports only that it timed out; so a
//! caller that gets no connection at once makes one direct attempt of its own, which tells an
//! unreachable server (`Unavailable`, with the driver's reason, at once) from a pool that is
//! only busy (the wait goes on, and ends in `Busy` at the acquire timeout).

use std::time::Duration;

use enginedb::{Error, ErrorKind, Result};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use crate::exec::map_err;

/// How long a caller waits for a pooled connection before it checks that the server answers.
const PROBE_AFTER: Duration = Duration::from_millis(200);

/// A pool, the options it connects with, and how long a connection attempt may take.
pub(crate) struct Connector {
    pub(crate) pool: PgPool,
    options: PgConnectOptions,
    connect_timeout: Duration,
}

/// One direct connection attempt, closed at once: `Unavailable` with the driver's reason when
/// the server refuses or does not answer within `timeout`.
pub(crate) async fn probe(options: &PgConnectOptions, timeout: Duration) -> Result<()> {
    match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => connection.close().await.map_err(map_err),
        Ok(Err(error)) => Err(map_err(error)),
        Err(_) => Err(Error::unavailable(format!(
            "the PostgreSQL server did not answer a connection attempt within {timeout:?}"
        ))),
    }
}

impl Connector {
    pub(crate) fn new(pool: PgPool, options: PgConnectOptions, connect_timeout: Duration) -> Self {
        Connector {
            pool,
            options,
            connect_timeout,
        }
    }

    /// A pooled connection, or `Unavailable` as soon as a direct attempt shows the server
    /// cannot be reached.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        let acquire = self.pool.acquire();
        let mut acquire = std::pin::pin!(acquire);
        if let Ok(acquired) = tokio::time::timeout(PROBE_AFTER, &mut acquire).await {
            return acquired.map_err(map_err);
        }
        tokio::select! {
            biased;
            acquired = &mut acquire => return acquired.map_err(map_err),
            // Only a server that cannot be reached ends the wait; one that answers (even with
            // an error, say too many connections) leaves the pool to it.
            probed = probe(&self.options, self.connect_timeout) => match probed {
                Err(error) if error.kind() == ErrorKind::Unavailable => return Err(error),
                _ => {}
            },
        }
        acquire.await.map_err(map_err)
    }
}
