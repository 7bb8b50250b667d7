#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod connect;
mod exec;
mod group;
mod inline;
mod tx;

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
use enginedb_sql::sqlite;
use rusqlite::Connection;

pub use config::{Durability, Location, SqliteConfig};
use connect::Opener;
use exec::{StatementFault, map_err};
use inline::InlineReaders;
/// The driver, re-exported so code next to the adapter (e.g. `enginedb bench`'s raw baselines)
/// uses the very same build of it.
pub use rusqlite;

/// An `EngineDb` on SQLite. Clones share the connections.
#[derive(Clone)]
pub struct SqliteDb {
    shared: Arc<Shared>,
    namespace: Arc<str>,
    /// Reads run on the caller's thread ([`SqliteDb::inline_reads`]).
    inline: bool,
}

struct Shared {
    writer: Worker<Connection>,
    readers: Worker<Connection>,
    inline: InlineReaders,
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
        let inline = config.inline_reads;
        let shared = open_on_thread("enginedb-sqlite-open", move || open_blocking(config)).await?;
        Ok(SqliteDb {
            shared: Arc::new(shared),
            namespace: namespace.into(),
            inline,
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
            inline: self.inline,
        })
    }

    /// This handle, reading on the caller's thread: `get`, `get_many` and `list` (outside
    /// transactions) block the calling thread for the read instead of handing it to a reader
    /// thread, which saves the hop (about a microsecond or two, and a thread switch) and
    /// costs an executor thread for the read's whole duration. For callers off an async
    /// executor, or reads of data in cache; reads from disk on an executor thread stall every
    /// task that thread runs. Connections are opened as needed and kept for the next read.
    #[must_use]
    pub fn inline_reads(mut self) -> SqliteDb {
        self.inline = true;
        self
    }

    /// Runs `read` on a reader thread, or on this thread for a handle that reads inline.
    async fn read<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        if self.inline {
            self.shared.inline.read(read)
        } else {
            self.shared.readers.run(read).await
        }
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
    // On a read-only store the "writer" serves transactions, which can only read there.
    let (opener, writer) = if config.read_only {
        Opener::read_only(path, &config)?
    } else {
        Opener::writable(path, &config)?
    };
    let readers = (0..config.readers.max(1))
        .map(|_| opener.reader())
        .collect::<Result<Vec<_>>>()?;
    Ok(Shared {
        writer: Worker::spawn("enginedb-sqlite-writer", vec![writer])?,
        readers: Worker::spawn("enginedb-sqlite-reader", readers)?,
        inline: InlineReaders::new(opener),
        queue: Arc::default(),
        fault: Arc::default(),
        transaction_idle_timeout: config.transaction_idle_timeout,
        read_only: config.read_only,
        _temporary: temporary,
    })
}

#[async_trait::async_trait]
impl EngineDb for SqliteDb {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("sqlite").read_only(self.shared.read_only)
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let (key, namespace) = (key.clone(), self.namespace.clone());
        self.read(move |c| exec::get(c, &namespace, key, None)).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let (encoded, namespace) = (PackedKeys::new(keys), self.namespace.clone());
        let rows = self
            .read(move |c| {
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
        let rows = self.read(move |c| exec::list(c, &namespace, &read_plan, None)).await?;
        rows.page(&plan)
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        self.commit_unit(std::slice::from_ref(op)).await
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        let past = i64::try_from(past.0).map_err(|_| Error::invalid("a version above i64::MAX"))?;
        self.shared
            .writer
            .run(move |connection| {
                let changed = connection.execute(sqlite::ADVANCE_VERSION, [past]).map_err(map_err)?;
                match changed {
                    1 => Ok(()),
                    _ => Err(Error::Corrupt {
                        message: "the version counter (last_version) is missing".into(),
                    }),
                }
            })
            .await
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
        self.shared.inline.close();
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
