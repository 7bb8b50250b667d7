//! Helpers shared by the PostgreSQL tests; the server itself is
//! `enginedb_postgres::throwaway::PgServer`.

#![allow(dead_code, clippy::expect_used)] // shared by several test files

use std::sync::atomic::{AtomicUsize, Ordering};

use enginedb_postgres::{PgConfig, PgDb};

pub(crate) use enginedb_postgres::throwaway::PgServer;

/// A namespace no other case or process uses.
pub(crate) fn unique_namespace() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A small pool on `namespace` of the shared server.
pub(crate) async fn open(namespace: &str) -> enginedb::Result<PgDb> {
    let mut config = PgConfig::new(PgServer::shared().map_err(enginedb::Error::unavailable)?);
    config.namespace = Some(namespace.to_owned());
    config.max_connections = 4;
    PgDb::open(config).await
}

/// Runs `future` on a fresh current-thread tokio runtime (sqlx needs one).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}
