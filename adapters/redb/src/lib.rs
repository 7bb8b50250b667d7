#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod group;
mod latest;
mod store;
mod tx;

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use enginedb::port::{
    AdapterInfo, BatchCapability, EncodedWrite, EngineDb, EngineTx, ListOptions, ListPlan, TransactionCapability,
    validate_namespace,
};
use enginedb::{Db as Handle, Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_kit::blocking::{Worker, open_on_thread};
use enginedb_kit::group::{CommitQueue, Unit};
use enginedb_kit::packed::PackedKeys;
use latest::{Db, Snapshot};
use redb::Database;

pub use config::{Durability, Location, RedbConfig};
/// The driver, re-exported so code next to the adapter (e.g. `enginedb bench`'s raw baselines)
/// uses the very same build of it.
pub use redb;
use store::map_err;

/// An `EngineDb` on redb. Clones share the database.
#[derive(Clone)]
pub struct RedbDb {
    shared: Arc<Shared>,
    namespace: Arc<str>,
    /// Reads run on the caller's thread ([`RedbDb::inline_reads`]).
    inline: bool,
}

struct Shared {
    writer: Worker<Arc<Db>>,
    readers: Worker<Arc<Db>>,
    /// The database, held here too so that `close` can close it and report how that went,
    /// once the threads have let it go; `None` once closed.
    database: std::sync::Mutex<Option<Arc<Db>>>,
    queue: Arc<CommitQueue<Unit>>,
    durability: redb::Durability,
    transaction_idle_timeout: Duration,
    read_only: bool,
}

impl std::fmt::Debug for RedbDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbDb")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// How long `open` waits for a handle on the same file, just dropped in this process, to close.
const REOPEN_PATIENCE: Duration = Duration::from_secs(2);

impl RedbDb {
    /// Opens (creating if needed) the database `config` describes, on the adapter's threads.
    ///
    /// # Errors
    /// `IncompatibleSchema` for a database written by a newer enginedb; `Busy` when another
    /// process has the file open; `InvalidInput` for a bad namespace; `Backend` otherwise.
    pub async fn open(config: RedbConfig) -> Result<RedbDb> {
        let namespace = match &config.namespace {
            Some(ns) => {
                validate_namespace(ns)?;
                ns.clone()
            }
            None => String::new(),
        };
        let inline = config.inline_reads;
        let shared = open_on_thread("enginedb-redb-open", move || open_blocking(config)).await?;
        Ok(RedbDb {
            shared: Arc::new(shared),
            namespace: namespace.into(),
            inline,
        })
    }

    /// Opens the database a `redb://` URL names; see [`RedbConfig::from_url`].
    ///
    /// # Errors
    /// As [`RedbConfig::from_url`] and [`RedbDb::open`].
    pub async fn open_url(url: &str) -> Result<RedbDb> {
        RedbDb::open(RedbConfig::from_url(url)?).await
    }

    /// Opens the database a `redb://` URL names, as an [`enginedb::Db`].
    ///
    /// # Errors
    /// As [`RedbDb::open_url`].
    pub async fn open_db(url: &str) -> Result<Handle> {
        RedbDb::open_url(url).await.map(Handle::from)
    }

    /// A handle on namespace `name` of the same database: same threads and versions, separate
    /// keys.
    ///
    /// # Errors
    /// `InvalidInput` unless `name` is a strict identifier.
    pub fn namespace(&self, name: &str) -> Result<RedbDb> {
        validate_namespace(name)?;
        Ok(RedbDb {
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
    /// task that thread runs.
    #[must_use]
    pub fn inline_reads(mut self) -> RedbDb {
        self.inline = true;
        self
    }

    /// Queues the unit for the next group commit and waits until it is committed.
    async fn commit_unit(&self, ops: &[Write]) -> Result<Version> {
        let unit = Unit {
            namespace: self.namespace.clone(),
            ops: EncodedWrite::unit(ops)?,
        };
        let durability = self.shared.durability;
        let commit = move |db: &mut Arc<Db>, units: &[Unit]| group::commit(db, durability, units);
        self.shared.queue.submit(&self.shared.writer, unit, commit).await
    }

    async fn read<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Snapshot, &str) -> Result<T> + Send + 'static,
    {
        let namespace = self.namespace.clone();
        if self.inline {
            let database = self
                .shared
                .database
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let database = database.ok_or(Error::Closed)?;
            return read(&*database.snapshot()?, &namespace);
        }
        self.shared
            .readers
            .run(move |db| read(&*db.snapshot()?, &namespace))
            .await
    }
}

/// Opens the file at `path` with `open`, waiting up to [`REOPEN_PATIENCE`] for a handle just
/// dropped in this process to let it go.
fn patiently<T>(
    open: impl Fn() -> std::result::Result<T, redb::DatabaseError>,
) -> std::result::Result<T, redb::DatabaseError> {
    let deadline = std::time::Instant::now() + REOPEN_PATIENCE;
    loop {
        match open() {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            opened => return opened,
        }
    }
}

/// The existing store at `path`, for reading only; its layout checked, nothing written.
fn open_read_only(path: &std::path::Path) -> Result<Db> {
    if !path.is_file() {
        return Err(Error::invalid(format!(
            "there is no redb store at {} (mode=ro never creates one)",
            path.display()
        )));
    }
    let database = match patiently(|| redb::ReadOnlyDatabase::open(path)) {
        Ok(database) => Db::new(latest::Database::ReadOnly(database)),
        Err(redb::DatabaseError::RepairAborted) => {
            return Err(Error::invalid(format!(
                "{} was not closed cleanly and needs a repair, which a read-only open cannot make: \
                 open it once for writing (mode=rw) to repair it",
                path.display()
            )));
        }
        Err(error) => return Err(map_err(error)),
    };
    let tx = database.begin_read()?;
    let meta = match tx.open_table(store::META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return Err(Error::invalid(format!("{} holds no enginedb store", path.display())));
        }
        Err(error) => return Err(map_err(error)),
    };
    match meta.get("schema_version").map_err(map_err)?.map(|v| v.value()) {
        Some(store::SCHEMA_VERSION) => {}
        Some(found) if found > store::SCHEMA_VERSION => {
            return Err(Error::IncompatibleSchema {
                found: i64::try_from(found).unwrap_or(i64::MAX),
                supported: store::SCHEMA_VERSION as i64,
            });
        }
        _ => {
            return Err(Error::invalid(format!(
                "{} has an older layout: open it once for writing to upgrade it",
                path.display()
            )));
        }
    }
    store::last_version(&meta)?;
    drop((meta, tx));
    Ok(database)
}

fn open_blocking(config: RedbConfig) -> Result<Shared> {
    let database = match &config.location {
        Location::File(path) if config.read_only => Arc::new(open_read_only(path)?),
        Location::Memory if config.read_only => {
            return Err(Error::invalid("a memory store cannot be opened read-only"));
        }
        Location::Memory => Arc::new(Db::new(latest::Database::Writable(
            Database::builder()
                .create_with_backend(redb::backends::InMemoryBackend::new())
                .map_err(map_err)?,
        ))),
        Location::File(path) => Arc::new(Db::new(latest::Database::Writable(
            patiently(|| Database::create(path)).map_err(map_err)?,
        ))),
    };
    if !config.read_only {
        let tx = database.begin_write()?;
        store::check_schema(&tx)?;
        database.commit(tx)?;
    }
    let readers = vec![database.clone(); config.readers.max(1)];
    Ok(Shared {
        writer: Worker::spawn("enginedb-redb-writer", vec![database.clone()])?,
        database: std::sync::Mutex::new(Some(database)),
        readers: Worker::spawn("enginedb-redb-reader", readers)?,
        queue: Arc::default(),
        durability: match config.durability {
            Durability::Full => redb::Durability::Immediate,
            Durability::Relaxed => redb::Durability::None,
        },
        transaction_idle_timeout: config.transaction_idle_timeout,
        read_only: config.read_only,
    })
}

#[async_trait::async_trait]
impl EngineDb for RedbDb {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("redb").read_only(self.shared.read_only)
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let key = key.clone();
        self.read(move |table, ns| store::get(table, ns, key, None)).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let encoded = PackedKeys::new(keys);
        let rows = self
            .read(move |table, ns| store::lookups(table, ns, &encoded, None))
            .await?;
        rows.entries(keys)
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let read_plan = plan.clone();
        let rows = self
            .read(move |table, ns| store::list(table, ns, &read_plan, None))
            .await?;
        rows.page(&plan)
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        self.commit_unit(std::slice::from_ref(op)).await
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        let durability = self.shared.durability;
        self.shared
            .writer
            .run(move |db| {
                let mut tx = db.begin_write()?;
                tx.set_durability(durability).map_err(|e| Error::backend("redb", e))?;
                {
                    let mut meta = tx.open_table(store::META).map_err(map_err)?;
                    let last = store::last_version(&meta)?;
                    meta.insert("last_version", last.max(past.0)).map_err(map_err)?;
                }
                db.commit(tx)
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

    /// Ends the reader and writer threads, then closes the database, which redb records as
    /// cleanly shut down (the next open needs no repair). Closing another handle of the same
    /// database (a namespace) afterwards is fine.
    async fn close(&self) -> Result<()> {
        self.shared.readers.close().await;
        self.shared.writer.close().await;
        let database = self
            .shared
            .database
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match database.map(Arc::try_unwrap) {
            Some(Ok(database)) => database.close(),
            // Closed before, or still held by an inline read under way: dropping the last
            // holder closes it (the threads have ended, so nothing else holds it).
            None | Some(Err(_)) => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl BatchCapability for RedbDb {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        self.commit_unit(ops).await
    }
}

#[async_trait::async_trait]
impl TransactionCapability for RedbDb {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        let shared = &self.shared;
        let tx = tx::begin(
            &shared.writer,
            self.namespace.clone(),
            shared.durability,
            shared.transaction_idle_timeout,
            shared.read_only,
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
