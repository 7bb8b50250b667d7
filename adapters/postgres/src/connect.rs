//! Pooled connections that fail fast when the server cannot be reached. The pool retries a
//! refused connection until its acquire timeout and then reports only that it timed out; so a
//! caller that gets no connection at once makes one direct attempt of its own, which tells an
//! unreachable server (`Unavailable`, with the driver's reason, at once) from a pool that is
//! only busy (the wait goes on, and ends in `Busy` at the acquire timeout).

use std::time::Duration;

use enginedb::Result;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use crate::exec::map_err;

/// How long a caller waits for a pooled connection before it checks that the server answers.
const PROBE_AFTER: Duration = Duration::from_millis(200);

/// A pool and the options it connects with.
pub(crate) struct Connector {
    pub(crate) pool: PgPool,
    options: PgConnectOptions,
}

impl Connector {
    pub(crate) fn new(pool: PgPool, options: PgConnectOptions) -> Self {
        Connector { pool, options }
    }

    /// A pooled connection, or `Unavailable` as soon as a direct attempt shows the server
    /// cannot be reached.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        let acquire = self.pool.acquire();
        let mut acquire = std::pin::pin!(acquire);
        if let Ok(acquired) = tokio::time::timeout(PROBE_AFTER, &mut acquire).await {
            return acquired.map_err(map_err);
        }
        let probe = PgConnection::connect_with(&self.options);
        tokio::select! {
            acquired = &mut acquire => return acquired.map_err(map_err),
            probed = probe => match probed {
                Err(error) => return Err(map_err(error)),
                // The server answers: the pool is only busy.
                Ok(connection) => drop(connection.close().await),
            },
        }
        acquire.await.map_err(map_err)
    }
}
