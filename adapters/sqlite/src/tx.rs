//! Interactive transactions: a session holding the writer thread from `BEGIN IMMEDIATE` to
//! `COMMIT`/`ROLLBACK`. Writes queued meanwhile wait behind it and never join it.

use std::sync::Arc;
use std::time::Duration;

use enginedb::port::{EncodedWrite, EngineTx, ListOptions, ListPlan};
use enginedb::{Entry, Key, Page, Result, Selector, Version, Write};
use enginedb_kit::blocking::{Flow, Session, Worker};
use enginedb_kit::packed::PackedKeys;
use rusqlite::Connection;

use crate::exec::{self, Counter, StatementFault, commit_error, map_err};

/// What an open transaction knows.
struct State {
    namespace: Arc<str>,
    fault: Arc<StatementFault>,
    /// The version this transaction writes, drawn at its first write.
    version: Option<Version>,
    /// On a store opened read-only: nothing can be written (the core refuses writes first).
    read_only: bool,
    statements: Counter,
}

/// An open transaction. Dropping it (or leaving it idle past the configured timeout) rolls it
/// back and frees the writer.
pub(crate) struct SqliteTx(Session<Connection, State>);

/// Starts a transaction on the writer: a write transaction (`BEGIN IMMEDIATE`), or on a store
/// opened `read_only` a read transaction on its snapshot.
pub(crate) async fn begin(
    writer: &Worker<Connection>,
    namespace: Arc<str>,
    fault: Arc<StatementFault>,
    idle: Duration,
    read_only: bool,
) -> Result<SqliteTx> {
    let start = move |connection: &mut Connection| {
        let begin = if read_only { "BEGIN DEFERRED" } else { "BEGIN IMMEDIATE" };
        connection.execute_batch(begin).map_err(map_err)?;
        Ok(State {
            namespace,
            fault,
            version: None,
            read_only,
            statements: Counter::default(),
        })
    };
    let session = writer
        .session(start, idle, |connection, _| roll_back(connection))
        .await?;
    Ok(SqliteTx(session))
}

fn roll_back(connection: &Connection) {
    // If ROLLBACK itself fails the connection has no transaction left to undo.
    let _ = connection.execute_batch("ROLLBACK");
}

#[async_trait::async_trait]
impl EngineTx for SqliteTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        let key = key.clone();
        self.0
            .call(move |c, s| (exec::get(c, &s.namespace, key, s.version), Flow::Continue))
            .await
    }

    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let encoded = PackedKeys::new(keys);
        let rows = self
            .0
            .call(move |c, s| (exec::lookups(c, &s.namespace, &encoded, s.version), Flow::Continue))
            .await?;
        rows.entries(keys)
    }

    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let read_plan = plan.clone();
        let rows = self
            .0
            .call(move |c, s| (exec::list(c, &s.namespace, &read_plan, s.version), Flow::Continue))
            .await?;
        rows.page(&plan)
    }

    /// A failure rolls the whole transaction back at once (no half-applied call survives).
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        let ops = EncodedWrite::unit(ops)?;
        self.0
            .call(move |c, s| {
                let applied = (|| {
                    let version = match s.version {
                        Some(version) => version,
                        None => *s.version.insert(exec::bump_version(c, &s.fault, &mut s.statements)?),
                    };
                    exec::apply(c, &s.namespace, &ops, version, &s.fault, &mut s.statements)
                })();
                match applied {
                    Ok(()) => (Ok(()), Flow::Continue),
                    Err(error) => {
                        roll_back(c);
                        (Err(error), Flow::Done)
                    }
                }
            })
            .await
    }

    async fn commit(self: Box<Self>) -> Result<Version> {
        self.0
            .call(|c, s| {
                let committed = (|| {
                    let version = match s.version {
                        Some(version) => version,
                        None if s.read_only => exec::last_version(c)?,
                        None => exec::bump_version(c, &s.fault, &mut s.statements)?,
                    };
                    c.execute_batch("COMMIT").map_err(commit_error)?;
                    Ok(version)
                })();
                if committed.is_err() {
                    roll_back(c);
                }
                (committed, Flow::Done)
            })
            .await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.0
            .call(|c, _| (c.execute_batch("ROLLBACK").map_err(map_err), Flow::Done))
            .await
    }
}
