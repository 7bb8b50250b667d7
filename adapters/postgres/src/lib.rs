#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod connect;
mod exec;
mod group;
#[cfg(feature = "throwaway")]
pub mod throwaway;
mod tx;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use enginedb::port::{
    AdapterInfo, BatchCapability, EngineDb, EngineTx, ListOptions, ListPlan, TransactionCapability, validate_namespace,
};
use enginedb::{Db, Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_sql::postgres::{self, UnitArrays};
use enginedb_sql::schema;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub use config::PgConfig;
use exec::{Reader, map_err};
/// The driver, re-exported so code next to the adapter (e.g. `enginedb bench`'s raw baselines)
/// uses the very same build of it.
pub use sqlx;

/// An `EngineDb` on PostgreSQL. Clones share the pool.
#[derive(Clone)]
pub struct PgDb {
    shared: Arc<Shared>,
    namespace: Arc<str>,
}

pub(crate) struct Shared {
    pub(crate) connector: connect::Connector,
    pub(crate) statements: AtomicU64,
    pub(crate) read_retries: u32,
    pub(crate) queue: group::Queue,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl PgDb {
    /// Connects, and creates the schema if it is missing.
    ///
    /// # Errors
    /// `Unavailable`, at once and with the driver's reason, when the server cannot be reached
    /// (refused, unknown host, TLS, authentication, no such database); `IncompatibleSchema` for
    /// a database written by a newer enginedb; `InvalidInput` for a bad URL or namespace.
    pub async fn open(config: PgConfig) -> Result<PgDb> {
        let namespace = config.namespace.clone().unwrap_or_default();
        if !namespace.is_empty() {
            validate_namespace(&namespace)?;
        }
        let options = config.connect_options()?;
        // One direct attempt first: the pool retries a refused connection until its acquire
        // timeout and then reports only that it timed out.
        connect::probe(&options, config.connect_timeout).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        create_schema(&pool).await?;
        Ok(PgDb {
            shared: Arc::new(Shared {
                connector: connect::Connector::new(pool, options, config.connect_timeout),
                statements: AtomicU64::new(0),
                read_retries: config.read_retries,
                queue: group::Queue::default(),
            }),
            namespace: namespace.into(),
        })
    }

    /// Connects to the database a `postgres://` URL names; see [`PgConfig::from_url`].
    ///
    /// # Errors
    /// As [`PgConfig::from_url`] and [`PgDb::open`].
    pub async fn open_url(url: &str) -> Result<PgDb> {
        PgDb::open(PgConfig::from_url(url)?).await
    }

    /// Connects to the database a `postgres://` URL names, as a [`Db`].
    ///
    /// # Errors
    /// As [`PgDb::open_url`].
    pub async fn open_db(url: &str) -> Result<Db> {
        PgDb::open_url(url).await.map(Db::from)
    }

    /// A handle on namespace `name` of the same database: same pool and versions, separate keys.
    ///
    /// # Errors
    /// `InvalidInput` unless `name` is a strict identifier.
    pub fn namespace(&self, name: &str) -> Result<PgDb> {
        validate_namespace(name)?;
        Ok(PgDb {
            shared: self.shared.clone(),
            namespace: name.into(),
        })
    }

    /// How many statements this handle's pool has sent (each one round trip), for tests and
    /// benchmarks.
    pub fn statements_sent(&self) -> u64 {
        self.shared.statements.load(Ordering::Relaxed)
    }

    /// Runs a read, retrying it when the server reports a serialization failure.
    async fn retrying<T, F, Fut>(&self, mut statement: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 0;
        loop {
            self.shared.statements.fetch_add(1, Ordering::Relaxed);
            match statement().await {
                Err(Error::Conflict { .. }) if attempt < self.shared.read_retries => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_micros(200 << attempt.min(8))).await;
                }
                other => return other,
            }
        }
    }

    async fn commit_unit(&self, ops: &[Write]) -> Result<Version> {
        let arrays = UnitArrays::new(&self.namespace, ops)?;
        group::commit(&self.shared, arrays).await
    }
}

/// Checks the recorded schema version and creates what is missing (or upgrades an older
/// schema: the statements are idempotent and record the new version). Creation runs under an
/// advisory lock, at READ COMMITTED (DDL needs no serializability, and concurrent creators
/// must not fail each other), re-checking the version once the lock is held.
async fn create_schema(pool: &PgPool) -> Result<()> {
    let mut connection = pool.acquire().await.map_err(map_err)?;
    if recorded_version(&mut connection).await? == Some(postgres::SCHEMA_VERSION) {
        return Ok(());
    }
    drop(connection);
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
        .await
        .map_err(map_err)?;
    sqlx::query(postgres::LOCK_SCHEMA)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    if recorded_version(&mut tx).await? != Some(postgres::SCHEMA_VERSION) {
        for statement in postgres::CREATE {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(map_err)?;
        }
    }
    tx.commit().await.map_err(map_err)
}

/// The recorded schema version (`None`: no schema yet); a newer one is refused, and so is a
/// schema whose version sequence is gone.
async fn recorded_version(connection: &mut sqlx::PgConnection) -> Result<Option<i64>> {
    let exists: bool = sqlx::query_scalar(postgres::META_EXISTS)
        .fetch_one(&mut *connection)
        .await
        .map_err(map_err)?;
    if !exists {
        return Ok(None);
    }
    let recorded: Option<i64> = sqlx::query_scalar(postgres::READ_SCHEMA_VERSION)
        .fetch_optional(&mut *connection)
        .await
        .map_err(map_err)?;
    schema::check_version(recorded.map(|v| v.to_string()).as_deref(), postgres::SCHEMA_VERSION)?;
    let counted: bool = sqlx::query_scalar(postgres::SEQUENCE_EXISTS)
        .fetch_one(&mut *connection)
        .await
        .map_err(map_err)?;
    if recorded.is_some() && !counted {
        return Err(Error::Corrupt {
            message: "the version sequence (enginedb_version) is missing".into(),
        });
    }
    Ok(recorded)
}

#[async_trait::async_trait]
impl EngineDb for PgDb {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("postgres")
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.retrying(|| async {
            let mut connection = self.shared.connector.acquire().await?;
            exec::get(&mut *connection, Reader::Store, &self.namespace, key).await
        })
        .await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.retrying(|| async {
            let mut connection = self.shared.connector.acquire().await?;
            exec::get_many(&mut *connection, Reader::Store, &self.namespace, keys).await
        })
        .await
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        self.retrying(|| async {
            let mut connection = self.shared.connector.acquire().await?;
            exec::list(&mut *connection, Reader::Store, &self.namespace, &plan).await
        })
        .await
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        self.commit_unit(std::slice::from_ref(op)).await
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        let past = i64::try_from(past.0).map_err(|_| Error::invalid("a version above i64::MAX"))?;
        let mut connection = self.shared.connector.acquire().await?;
        sqlx::query(postgres::ADVANCE_VERSION)
            .bind(past)
            .execute(&mut *connection)
            .await
            .map_err(map_err)
            .map(drop)
    }

    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        Some(self)
    }

    fn batches(&self) -> Option<&dyn BatchCapability> {
        Some(self)
    }

    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// Closes every pooled connection, waiting for those in use to come back.
    async fn close(&self) -> Result<()> {
        self.shared.connector.pool.close().await;
        Ok(())
    }
}

#[async_trait::async_trait]
impl BatchCapability for PgDb {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        self.commit_unit(ops).await
    }
}

#[async_trait::async_trait]
impl TransactionCapability for PgDb {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        self.shared.statements.fetch_add(1, Ordering::Relaxed);
        let connection = self.shared.connector.acquire().await?;
        let tx = sqlx::Transaction::begin(connection, None).await.map_err(map_err)?;
        Ok(Box::new(tx::PgTx::new(tx, self.namespace.clone(), self.shared.clone())))
    }

    /// The batch path: the same serializable, all-or-nothing commit without a session (one statement
    /// instead of four).
    async fn run_unit(&self, ops: &[Write]) -> Result<Version> {
        self.apply_batch(ops).await
    }
}
