//! `PgDb` through the whole suite in all three modes, each case in its own namespace of the
//! test server; reopen is a new pool on the same namespace; tampering is plain SQL.

mod common;

use std::cell::RefCell;

use enginedb::testing::{Mask, Masked, RawRow};
use enginedb::{Db, Error, Result, Value};
use enginedb_conformance::Harness;
use sqlx::Connection;

struct PgHarness {
    mask: Mask,
    opened: RefCell<Vec<String>>,
}

impl PgHarness {
    async fn open_namespace(&self, namespace: &str) -> Result<Db> {
        Ok(Db::from(Masked::new(common::open(namespace).await?, self.mask)))
    }
}

#[async_trait::async_trait(?Send)]
impl Harness for PgHarness {
    async fn open(&self) -> Result<Db> {
        let namespace = common::unique_namespace();
        self.opened.borrow_mut().push(namespace.clone());
        self.open_namespace(&namespace).await
    }

    fn reopens(&self) -> bool {
        true
    }

    async fn reopen(&self, db: Db) -> Result<Db> {
        db.close().await?;
        let namespace = self.opened.borrow().last().cloned();
        let namespace = namespace.ok_or_else(|| enginedb::Error::invalid("no store was opened to reopen"))?;
        self.open_namespace(&namespace).await
    }

    fn has_namespaces(&self) -> bool {
        true
    }

    async fn namespaces(&self) -> Result<[Db; 2]> {
        let name = common::unique_namespace();
        let db = common::open(&name).await?;
        let other = db.namespace(&format!("{name}_b"))?;
        Ok([
            Db::from(Masked::new(db, self.mask)),
            Db::from(Masked::new(other, self.mask)),
        ])
    }

    fn tampers(&self) -> bool {
        true
    }

    /// Writes the rows into the namespace opened last, under the table keys the adapter uses
    /// (`namespace ++ 0x00 ++ key bytes`), over a connection of its own.
    async fn tamper(&self, db: Db, rows: &[RawRow]) -> Result<Db> {
        let sql = |e: sqlx::Error| Error::backend("tamper", e);
        let namespace = self.opened.borrow().last().cloned();
        let namespace = namespace.ok_or_else(|| Error::invalid("no store was opened"))?;
        let url = common::PgServer::shared().map_err(Error::unavailable)?;
        let mut connection = sqlx::PgConnection::connect(url).await.map_err(sql)?;
        for row in rows {
            let mut k = namespace.as_bytes().to_vec();
            k.push(0x00);
            k.extend_from_slice(&row.key);
            let (v, n) = match &row.value {
                Value::Bytes(bytes) => (Some(bytes.as_slice()), None),
                Value::I64(n) => (None, Some(*n)),
            };
            sqlx::query(
                "INSERT INTO enginedb_entries (k, v, n, ver) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = excluded.ver",
            )
            .bind(k)
            .bind(v)
            .bind(n)
            .bind(row.version)
            .execute(&mut connection)
            .await
            .map_err(sql)?;
        }
        connection.close().await.map_err(sql)?;
        Ok(db)
    }
}

fn harness(mask: Mask) -> Result<PgHarness> {
    Ok(PgHarness {
        mask,
        opened: RefCell::default(),
    })
}

enginedb_conformance::conformance_suite!(
    harness,
    reopen = true,
    namespaces = true,
    tamper = true,
    block_on = common::block_on
);
