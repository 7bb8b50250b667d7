//! The database every adapter thread shares, and the newest snapshot of its entries: reads share
//! one read transaction and its open table until the next commit, since opening them costs
//! twice a point read. Every commit goes through [`Db::commit`], which retires that snapshot
//! before the commit is acknowledged, so a read that starts after an acknowledgement sees the
//! commit — and no snapshot outlives the reads using it by more than one commit (a live read
//! transaction keeps the pages it sees from being reused).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use enginedb::{Error, Result};
use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase, WriteTransaction};

use crate::store::{ENTRIES, map_err};

/// The entries table as of one commit.
pub(crate) type Snapshot = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// redb's database, the commits made through it, and the snapshot reads share.
pub(crate) struct Db {
    /// Declared first, so it is dropped before the database closes.
    latest: Mutex<Option<(u64, Arc<Snapshot>)>>,
    /// Commits so far; a snapshot is current while this is the count it was opened at.
    commits: AtomicU64,
    database: Database,
}

/// redb's database, opened for writing or (`mode=ro`) for reading only.
pub(crate) enum Database {
    /// Opened for writing.
    Writable(redb::Database),
    /// Opened for reading only: no process writes while it is open (redb's lock), so its
    /// snapshot never goes stale.
    ReadOnly(redb::ReadOnlyDatabase),
}

impl Db {
    pub(crate) fn new(database: Database) -> Db {
        Db {
            latest: Mutex::new(None),
            commits: AtomicU64::new(0),
            database,
        }
    }

    /// Closes the database (the snapshot first), reporting what redb's drop would only log.
    pub(crate) fn close(self) -> Result<()> {
        let Db { latest, database, .. } = self;
        drop(latest);
        match database {
            Database::Writable(database) => database.close(),
            Database::ReadOnly(database) => database.close(),
        }
        .map_err(|e| Error::backend("redb", format!("closing the database: {e}")))
    }

    /// Begins redb's one write transaction.
    pub(crate) fn begin_write(&self) -> Result<WriteTransaction> {
        match &self.database {
            Database::Writable(database) => database.begin_write().map_err(map_err),
            Database::ReadOnly(_) => Err(Error::backend("redb", "the database was opened read-only")),
        }
    }

    /// Begins a read transaction.
    pub(crate) fn begin_read(&self) -> Result<ReadTransaction> {
        match &self.database {
            Database::Writable(database) => database.begin_read(),
            Database::ReadOnly(database) => database.begin_read(),
        }
        .map_err(map_err)
    }

    /// Commits `tx`, then retires the shared snapshot (also when the commit failed: what it left
    /// is not for a snapshot opened before to say). A failed commit may have been made durable
    /// in part (its last step is a sync): `OutcomeUnknown`.
    pub(crate) fn commit(&self, tx: WriteTransaction) -> Result<()> {
        let committed = tx.commit().map_err(|e| Error::OutcomeUnknown {
            message: format!("the redb commit failed: {e}"),
        });
        self.commits.fetch_add(1, Ordering::SeqCst);
        let retired = self.latest().take();
        drop(retired);
        committed
    }

    /// The entries as of the last commit made through [`Db::commit`] or later.
    pub(crate) fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let commits = self.commits.load(Ordering::SeqCst);
        if let Some((opened_at, snapshot)) = &*self.latest()
            && *opened_at == commits
        {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(self.begin_read()?.open_table(ENTRIES).map_err(map_err)?);
        let mut latest = self.latest();
        // A read that began before a later commit does not displace a newer snapshot.
        let replaced = match &*latest {
            Some((opened_at, _)) if *opened_at > commits => None,
            _ => latest.replace((commits, snapshot.clone())),
        };
        drop(latest);
        drop(replaced);
        Ok(snapshot)
    }

    fn latest(&self) -> MutexGuard<'_, Option<(u64, Arc<Snapshot>)>> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_memory() -> Db {
        let database = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let db = Db::new(Database::Writable(database));
        let tx = db.begin_write().unwrap();
        tx.open_table(ENTRIES).unwrap();
        db.commit(tx).unwrap();
        db
    }

    fn put(db: &Db, key: &[u8], value: &[u8]) {
        let tx = db.begin_write().unwrap();
        tx.open_table(ENTRIES).unwrap().insert(key, value).unwrap();
        db.commit(tx).unwrap();
    }

    fn read(db: &Db, key: &[u8]) -> Option<Vec<u8>> {
        db.snapshot().unwrap().get(key).unwrap().map(|v| v.value().to_vec())
    }

    #[test]
    fn reads_share_a_snapshot_until_a_commit_retires_it() {
        let db = in_memory();
        put(&db, b"k", b"1");
        let first = db.snapshot().unwrap();
        assert!(
            Arc::ptr_eq(&first, &db.snapshot().unwrap()),
            "no commit between: shared"
        );
        put(&db, b"k", b"2");
        assert!(db.latest().is_none(), "a commit retires the shared snapshot at once");
        assert_eq!(read(&db, b"k").as_deref(), Some(&b"2"[..]));
        assert_eq!(
            first.get(&b"k"[..]).unwrap().unwrap().value(),
            b"1",
            "a read under way keeps its own"
        );
    }

    #[test]
    fn an_aborted_transaction_keeps_the_snapshot() {
        let db = in_memory();
        let first = db.snapshot().unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(ENTRIES).unwrap().insert(&b"k"[..], &b"1"[..]).unwrap();
        tx.abort().unwrap();
        assert!(Arc::ptr_eq(&first, &db.snapshot().unwrap()));
        assert_eq!(read(&db, b"k"), None);
    }
}
