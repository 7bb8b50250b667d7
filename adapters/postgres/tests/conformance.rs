//! `PgDb` through the whole suite in all three modes, each case in its own namespace of the
//! test server; reopen is a new pool on the same namespace.

mod common;

use std::cell::RefCell;

use enginedb::testing::{Mask, Masked};
use enginedb::{Db, Result};
use enginedb_conformance::Harness;

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
}

fn harness(mask: Mask) -> Result<PgHarness> {
    Ok(PgHarness {
        mask,
        opened: RefCell::default(),
    })
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true, block_on = common::block_on);
