//! Interactive transactions: a session holding the writer thread and redb's one write
//! transaction until commit or rollback. Other writes wait behind it; reads don't. On a store
//! opened read-only, a read transaction instead.

use std::sync::Arc;
use std::time::Duration;

use enginedb::port::{EncodedWrite, EngineTx, ListOptions, ListPlan, apply_ops};
use enginedb::{Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_kit::blocking::{Flow, Session, Worker};
use enginedb_kit::packed::PackedKeys;
use redb::{ReadTransaction, WriteTransaction};

use crate::latest::Db;
use crate::store::{self, ENTRIES, Namespaced, map_err};

/// redb's transaction under an enginedb one.
#[allow(clippy::large_enum_variant)] // one per transaction, never moved in a loop
enum Txn {
    Write(WriteTransaction),
    /// On a store opened read-only (the core refuses every write before it comes here).
    Read(ReadTransaction),
}

struct State {
    /// `None` once committed.
    tx: Option<Txn>,
    namespace: Arc<str>,
    /// The version this transaction writes, drawn at its first write.
    version: Option<Version>,
}

/// The write transaction: refused on a store opened read-only.
fn writing(tx: &Option<Txn>) -> Result<&WriteTransaction> {
    match tx {
        Some(Txn::Write(tx)) => Ok(tx),
        Some(Txn::Read(_)) => Err(Error::backend("redb", "the database was opened read-only")),
        None => Err(Error::Closed),
    }
}

/// An open transaction. Dropping it (or leaving it idle past the configured timeout) aborts
/// redb's write transaction and frees the writer.
pub(crate) struct RedbTx(Session<Arc<Db>, State>);

pub(crate) async fn begin(
    writer: &Worker<Arc<Db>>,
    namespace: Arc<str>,
    durability: redb::Durability,
    idle: Duration,
    read_only: bool,
) -> Result<RedbTx> {
    let start = move |db: &mut Arc<Db>| {
        let tx = if read_only {
            Txn::Read(db.begin_read()?)
        } else {
            let mut tx = db.begin_write()?;
            tx.set_durability(durability).map_err(|e| Error::backend("redb", e))?;
            Txn::Write(tx)
        };
        Ok(State {
            tx: Some(tx),
            namespace,
            version: None,
        })
    };
    // Dropping the state drops the write transaction, which aborts it.
    let session = writer.session(start, idle, |_, state| drop(state)).await?;
    Ok(RedbTx(session))
}

/// Runs `$read` (a call taking `&$table`, any readable table) on the transaction's entries
/// table; the session goes on.
macro_rules! read {
    ($s:expr, |$table:ident| $read:expr) => {{
        let result = match &$s.tx {
            Some(Txn::Write(tx)) => tx.open_table(ENTRIES).map_err(map_err).and_then(|$table| $read),
            Some(Txn::Read(tx)) => tx.open_table(ENTRIES).map_err(map_err).and_then(|$table| $read),
            None => Err(Error::Closed),
        };
        (result, Flow::Continue)
    }};
}

#[async_trait::async_trait]
impl EngineTx for RedbTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        let key = key.clone();
        self.0
            .call(move |_, s| read!(s, |t| store::get(&t, &s.namespace, key, s.version)))
            .await
    }

    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let encoded = PackedKeys::new(keys);
        let rows = self
            .0
            .call(move |_, s| read!(s, |t| store::lookups(&t, &s.namespace, &encoded, s.version)))
            .await?;
        rows.entries(keys)
    }

    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let read_plan = plan.clone();
        let rows = self
            .0
            .call(move |_, s| read!(s, |t| store::list(&t, &s.namespace, &read_plan, s.version)))
            .await?;
        rows.page(&plan)
    }

    /// A failure aborts the whole transaction at once (no half-applied call survives).
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        let ops = EncodedWrite::unit(ops)?;
        self.0
            .call(move |_, s| {
                let applied = (|| {
                    let tx = writing(&s.tx)?;
                    let version = match s.version {
                        Some(version) => version,
                        None => store::draw_version(tx)?,
                    };
                    s.version = Some(version);
                    let mut table = tx.open_table(ENTRIES).map_err(map_err)?;
                    let mut kv = Namespaced::new(&mut table, &s.namespace);
                    apply_ops(&mut kv, &ops, version)
                })();
                // On error the session ends; dropping its state aborts the write transaction.
                let flow = if applied.is_ok() { Flow::Continue } else { Flow::Done };
                (applied, flow)
            })
            .await
    }

    async fn commit(self: Box<Self>) -> Result<Version> {
        self.0
            .call(|db, s| {
                let committed = (|| {
                    match s.tx.take().ok_or(Error::Closed)? {
                        Txn::Write(tx) => {
                            let version = match s.version {
                                Some(version) => version,
                                None => store::draw_version(&tx)?,
                            };
                            db.commit(tx)?;
                            Ok(version)
                        }
                        // It wrote nothing: it reports the version it read at.
                        Txn::Read(tx) => {
                            let meta = tx.open_table(store::META).map_err(map_err)?;
                            store::last_version(&meta).map(Version)
                        }
                    }
                })();
                (committed, Flow::Done)
            })
            .await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.0
            .call(|_, s| {
                let aborted = match s.tx.take() {
                    Some(Txn::Write(tx)) => tx.abort().map_err(map_err),
                    Some(Txn::Read(_)) | None => Ok(()),
                };
                (aborted, Flow::Done)
            })
            .await
    }
}
