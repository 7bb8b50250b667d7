#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod exec;
mod group;
mod tx;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use enginedb::port::{
    AdapterInfo, BatchCapability, EncodedWrite, EngineDb, EngineTx, ListOptions, ListPlan, TransactionCapability,
    validate_namespace,
};
use enginedb::{Db, Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_kit::blocking::{Worker, open_on_thread};
use enginedb_kit::group::{CommitQueue, Unit};
use enginedb_kit::packed::PackedKeys;
use enginedb_sql::schema;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

pub use config::{Durability, Location, SqliteConfig};
use exec::{StatementFault, map_err};
/// The driver, re-exported so code next to the adapter (e.g. `enginedb bench`'s raw baselines)
/// uses the very same build of it.
pub use rusqlite;

/// An `EngineDb` on SQLite. Clones share the connections.
#[derive(Clone)]
pub struct SqliteDb {
    shared: Arc<Shared>,
    namespace: Arc<str>,
}

struct Shared {
    writer: Worker<Connection>,
    readers: Worker<Connection>,
    queue: Arc<CommitQueue<Unit>>,
    fault: Arc<StatementFault>,
    transaction_idle_timeout: Duration,
    read_only: bool,
    // Dropped after the workers: the temporary database of `Location::Memory` lives here.
    _temporary: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl SqliteDb {
    /// Opens (creating if needed) the database `config` describes. The blocking work runs on
    /// the adapter's own threads.
    ///
    /// # Errors
    /// `IncompatibleSchema` for a database written by a newer enginedb; `InvalidInput` for a
    /// bad namespace; `Backend` when SQLite cannot open the file.
    pub async fn open(config: SqliteConfig) -> Result<SqliteDb> {
        let namespace = match &config.namespace {
            Some(ns) => {
                validate_namespace(ns)?;
                ns.clone()
            }
            None => String::new(),
        };
        let shared = open_on_thread("enginedb-sqlite-open", move || open_blocking(config)).await?;
        Ok(SqliteDb {
            shared: Arc::new(shared),
            namespace: namespace.into(),
        })
    }

    /// Opens the database a `sqlite://` URL names; see [`SqliteConfig::from_url`].
    ///
    /// # Errors
    /// As [`SqliteConfig::from_url`] and [`SqliteDb::open`].
    pub async fn open_url(url: &str) -> Result<SqliteDb> {
        SqliteDb::open(SqliteConfig::from_url(url)?).await
    }

    /// Opens the database a `sqlite://` URL names, as a [`Db`].
    ///
    /// # Errors
    /// As [`SqliteDb::open_url`].
    pub async fn open_db(url: &str) -> Result<Db> {
        SqliteDb::open_url(url).await.map(Db::from)
    }

    /// A handle on namespace `name` of the same database: same connections and versions,
    /// separate keys.
    ///
    /// # Errors
    /// `InvalidInput` unless `name` is a strict identifier.
    pub fn namespace(&self, name: &str) -> Result<SqliteDb> {
        validate_namespace(name)?;
        Ok(SqliteDb {
            shared: self.shared.clone(),
            namespace: name.into(),
        })
    }

    /// Test support: makes statement `k` (1-based; the version draw is statement 1) of the next
    /// unit or transaction fail with a backend error, once.
    #[doc(hidden)]
    pub fn inject_statement_fault(&self, k: usize) {
        self.shared.fault.arm(k);
    }

    /// Queues the unit for the next group commit and waits until it is committed.
    async fn commit_unit(&self, ops: &[Write]) -> Result<Version> {
        let unit = Unit {
            namespace: self.namespace.clone(),
            ops: EncodedWrite::unit(ops)?,
        };
        let fault = self.shared.fault.clone();
        let commit = move |connection: &mut Connection, units: &[Unit]| group::commit(connection, units, &fault);
        self.shared.queue.submit(&self.shared.writer, unit, commit).await
    }
}

fn open_blocking(config: SqliteConfig) -> Result<Shared> {
    let (path, temporary) = match &config.location {
        Location::File(path) if config.read_only => {
            let mut connections = open_read_only(path, &config)?.into_iter();
            return Ok(Shared {
                writer: Worker::spawn("enginedb-sqlite-writer", connections.next().into_iter().collect())?,
                readers: Worker::spawn("enginedb-sqlite-reader", connections.collect())?,
                queue: Arc::default(),
                fault: Arc::default(),
                transaction_idle_timeout: config.transaction_idle_timeout,
                read_only: true,
                _temporary: None,
            });
        }
        Location::Memory if config.read_only => {
            return Err(Error::invalid("a memory store cannot be opened read-only"));
        }
        Location::File(path) => (path.clone(), None),
        Location::Memory => {
            let dir = tempfile::Builder::new()
                .prefix("enginedb-sqlite-")
                .tempdir()
                .map_err(|e| Error::backend("sqlite", e))?;
            (dir.path().join("memory.sqlite3"), Some(dir))
        }
    };
    let synchronous = match (&config.location, config.durability) {
        (Location::Memory, _) => "OFF",
        (_, Durability::Full) => "FULL",
        (_, Durability::Relaxed) => "NORMAL",
    };
    let open = |read_only: bool| -> Result<Connection> {
        let connection = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(map_err)?;
        connection.busy_timeout(config.busy_timeout).map_err(map_err)?;
        connection.set_prepared_statement_cache_capacity(64);
        let journal: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(map_err)?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(Error::backend(
                "sqlite",
                format!("cannot switch {} to WAL (got {journal})", path.display()),
            ));
        }
        let pragmas = format!(
            "PRAGMA synchronous = {synchronous}; PRAGMA query_only = {};",
            if read_only { "ON" } else { "OFF" }
        );
        connection.execute_batch(&pragmas).map_err(map_err)?;
        Ok(connection)
    };
    let mut writer = open(false)?;
    create_schema(&mut writer)?;
    let readers = (0..config.readers.max(1))
        .map(|_| open(true))
        .collect::<Result<Vec<_>>>()?;
    Ok(Shared {
        writer: Worker::spawn("enginedb-sqlite-writer", vec![writer])?,
        readers: Worker::spawn("enginedb-sqlite-reader", readers)?,
        queue: Arc::default(),
        fault: Arc::default(),
        transaction_idle_timeout: config.transaction_idle_timeout,
        read_only: false,
        _temporary: temporary,
    })
}

/// Connections to the existing store at `path` for reading only (one for transactions, then
/// the readers), its schema checked. Where SQLite cannot have the WAL's index (read-only media)
/// and no WAL is left, the file is opened immutable: nobody can be writing it.
fn open_read_only(path: &Path, config: &SqliteConfig) -> Result<Vec<Connection>> {
    if !path.is_file() {
        return Err(Error::invalid(format!(
            "there is no SQLite store at {} (mode=ro never creates one)",
            path.display()
        )));
    }
    let connect = |immutable: bool| -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(file_uri(path, immutable)?, flags).map_err(map_err)?;
        connection.busy_timeout(config.busy_timeout).map_err(map_err)?;
        connection.set_prepared_statement_cache_capacity(64);
        // The first read: where the WAL's index cannot be had, it fails here.
        if !check_schema(&connection)? {
            return Err(Error::invalid(format!("{} holds no enginedb store", path.display())));
        }
        Ok(connection)
    };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let (first, immutable) = match connect(false) {
        Ok(first) => (first, false),
        Err(error) if Path::new(&wal).exists() => return Err(error),
        Err(error) => (connect(true).map_err(|_| error)?, true),
    };
    let mut connections = vec![first];
    for _ in 0..config.readers.max(1) {
        connections.push(connect(immutable)?);
    }
    Ok(connections)
}

/// `path` as an SQLite URI that opens it read-only, and `immutable` if asked.
fn file_uri(path: &Path, immutable: bool) -> Result<String> {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = path
        .to_str()
        .ok_or_else(|| Error::invalid(format!("{} is not a UTF-8 path", path.display())))?;
    let path = percent_encoding::utf8_percent_encode(text, ESCAPED);
    let immutable = if immutable { "&immutable=1" } else { "" };
    Ok(format!("file:{path}?mode=ro{immutable}"))
}

/// Whether the database holds an enginedb schema; refuses a newer one, and one whose version
/// counter is gone (versions would start again below those stored).
fn check_schema(connection: &Connection) -> Result<bool> {
    let exists: i64 = connection
        .query_row(schema::SQLITE_META_EXISTS, [], |r| r.get(0))
        .map_err(map_err)?;
    if exists == 0 {
        return Ok(false);
    }
    let recorded: Option<String> = connection
        .query_row(schema::SQLITE_SCHEMA_VERSION, [], |r| r.get(0))
        .optional()
        .map_err(map_err)?;
    schema::check_version(recorded.as_deref(), schema::SCHEMA_VERSION)?;
    exec::last_version(connection)?;
    Ok(true)
}

/// Refuses a newer schema before touching anything, then creates what is missing.
fn create_schema(connection: &mut Connection) -> Result<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    check_schema(&tx)?;
    for statement in schema::SQLITE_CREATE {
        tx.execute_batch(statement).map_err(map_err)?;
    }
    tx.commit().map_err(map_err)
}

#[async_trait::async_trait]
impl EngineDb for SqliteDb {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("sqlite").read_only(self.shared.read_only)
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let (key, namespace) = (key.clone(), self.namespace.clone());
        self.shared
            .readers
            .run(move |c| exec::get(c, &namespace, key, None))
            .await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let (encoded, namespace) = (PackedKeys::new(keys), self.namespace.clone());
        let rows = self
            .shared
            .readers
            .run(move |c| {
                // One read transaction: every key from the same snapshot.
                let snapshot = c.transaction().map_err(map_err)?;
                exec::lookups(&snapshot, &namespace, &encoded, None)
            })
            .await?;
        rows.entries(keys)
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let (read_plan, namespace) = (plan.clone(), self.namespace.clone());
        let rows = self
            .shared
            .readers
            .run(move |c| exec::list(c, &namespace, &read_plan, None))
            .await?;
        rows.page(&plan)
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        self.commit_unit(std::slice::from_ref(op)).await
    }

    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        Some(self)
    }

    fn batches(&self) -> Option<&dyn BatchCapability> {
        Some(self)
    }

    async fn pause(&self, duration: Duration) {
        futures_timer::Delay::new(duration).await;
    }

    /// Closes the readers, checkpoints the WAL into the database file and truncates it (so the
    /// file alone holds every commit), then closes the writer. Closing another handle of the
    /// same database (a namespace) afterwards is fine.
    async fn close(&self) -> Result<()> {
        self.shared.readers.close().await;
        if self.shared.read_only {
            self.shared.writer.close().await;
            return Ok(());
        }
        let checkpoint = self
            .shared
            .writer
            .run(|connection| {
                let busy: i64 = connection
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
                    .map_err(map_err)?;
                match busy {
                    0 => Ok(()),
                    _ => Err(Error::busy(
                        "another connection to the database kept the WAL from being checkpointed",
                    )),
                }
            })
            .await;
        self.shared.writer.close().await;
        match checkpoint {
            Err(Error::Closed) => Ok(()),
            other => other,
        }
    }
}

#[async_trait::async_trait]
impl BatchCapability for SqliteDb {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        self.commit_unit(ops).await
    }
}

#[async_trait::async_trait]
impl TransactionCapability for SqliteDb {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        let tx = tx::begin(
            &self.shared.writer,
            self.namespace.clone(),
            self.shared.fault.clone(),
            self.shared.transaction_idle_timeout,
            self.shared.read_only,
        )
        .await?;
        Ok(Box::new(tx))
    }

    /// The batch path: the same serializable, all-or-nothing commit without a session (on
    /// SQLite and redb it joins the writer's group commit).
    async fn run_unit(&self, ops: &[Write]) -> Result<Version> {
        self.apply_batch(ops).await
    }
}
