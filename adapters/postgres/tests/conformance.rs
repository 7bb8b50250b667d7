//! `PgDb` through the whole suite in all three modes, each case in its own namespace of the
//! test server; reopen is a new pool on the same namespace.

mod common;

use std::cell::RefCell;

use enginedb::{EngineDb, Mask, Masked, Result};
use enginedb_conformance::Harness;

struct PgHarness {
    mask: Mask,
    opened: RefCell<Vec<String>>,
}

impl PgHarness {
    async fn open_namespace(&self, namespace: &str) -> Result<Box<dyn EngineDb + '_>> {
        Ok(Box::new(Masked::new(common::open(namespace).await?, self.mask)))
    }
}

#[async_trait::async_trait(?Send)]
impl Harness for PgHarness {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        let namespace = common::unique_namespace();
        self.opened.borrow_mut().push(namespace.clone());
        self.open_namespace(&namespace).await
    }

    async fn reopen<'s>(&'s self, db: Box<dyn EngineDb + 's>) -> Option<Result<Box<dyn EngineDb + 's>>> {
        drop(db);
        let namespace = self.opened.borrow().last().cloned()?;
        Some(self.open_namespace(&namespace).await)
    }

    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        let opened = async {
            let name = common::unique_namespace();
            let db = common::open(&name).await?;
            let other = db.namespace(&format!("{name}_b"))?;
            Ok([
                Box::new(Masked::new(db, self.mask)) as Box<dyn EngineDb>,
                Box::new(Masked::new(other, self.mask)),
            ])
        };
        Some(opened.await)
    }
}

fn harness(mask: Mask) -> Result<PgHarness> {
    Ok(PgHarness {
        mask,
        opened: RefCell::default(),
    })
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true, block_on = common::block_on);
