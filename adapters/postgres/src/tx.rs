//! Interactive transactions: SERIALIZABLE, on one pooled connection. Writes carry the
//! placeholder version until `commit` stamps them, as its last step before COMMIT.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use enginedb::port::{EngineTx, ListOptions, ListPlan};
use enginedb::{Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_sql::postgres::{STAMPED, UnitArrays};
use sqlx::{Postgres, Transaction};

use crate::Shared;
use crate::exec::{self, Reader, commit_error, map_err};

/// An open transaction. Dropped without commit, sqlx rolls it back before the connection goes
/// back to the pool; left idle, the server ends it after `idle_in_transaction_session_timeout`.
pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
    namespace: Arc<str>,
    shared: Arc<Shared>,
    /// The table keys written so far, to stamp at commit.
    written: Vec<Vec<u8>>,
    /// The versionstamped writes, made at commit (their keys hold its version).
    stamped: UnitArrays,
}

impl PgTx {
    pub(crate) fn new(tx: Transaction<'static, Postgres>, namespace: Arc<str>, shared: Arc<Shared>) -> Self {
        PgTx {
            tx,
            namespace,
            shared,
            written: Vec::new(),
            stamped: UnitArrays::default(),
        }
    }

    fn count(&self, statements: u64) {
        self.shared.statements.fetch_add(statements, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl EngineTx for PgTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        self.count(1);
        exec::get(&mut *self.tx, Reader::Transaction, &self.namespace, key).await
    }

    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.count(1);
        exec::get_many(&mut *self.tx, Reader::Transaction, &self.namespace, keys).await
    }

    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        self.count(1);
        exec::list(&mut *self.tx, Reader::Transaction, &self.namespace, &plan).await
    }

    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        let arrays = UnitArrays::new(&self.namespace, ops)?;
        // The core sends a transaction's versionstamped writes in an `apply` of their own.
        if arrays.only_versionstamped() {
            self.stamped = arrays;
            return Ok(());
        }
        if arrays.kind.contains(&STAMPED) {
            return Err(Error::invalid(
                "versionstamped writes must come in an apply of their own (the core sends them so)",
            ));
        }
        self.count(1);
        exec::apply(&mut *self.tx, &arrays).await?;
        self.written.extend(arrays.written().cloned());
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<Version> {
        self.count(2);
        let version = exec::stamp(&mut *self.tx, &self.written, &self.stamped).await?;
        self.tx.commit().await.map_err(commit_error)?;
        Ok(version)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.count(1);
        self.tx.rollback().await.map_err(map_err)
    }
}
