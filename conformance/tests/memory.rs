//! `MemoryDb` through the whole suite: natively, masked to batch-only, masked to
//! sequential-only. One `#[test]` per case and mode, plus the whole suite against one store as
//! `enginedb check` runs it.
//! (Not persistent: the reopen cases are not applicable.)

use std::cell::RefCell;

use enginedb::testing::{Mask, Masked, RawRow, tamper_memory};
use enginedb::{Db, MemoryDb, Result};
use enginedb_conformance::{CASES, Harness, Need, run_all};

struct MemoryHarness {
    mask: Mask,
    /// The store `open` returned last, for `tamper`.
    opened: RefCell<Option<MemoryDb>>,
}

#[async_trait::async_trait(?Send)]
impl Harness for MemoryHarness {
    async fn open(&self) -> Result<Db> {
        let db = MemoryDb::new();
        *self.opened.borrow_mut() = Some(db.clone());
        Ok(Db::from(Masked::new(db, self.mask)))
    }

    fn tampers(&self) -> bool {
        true
    }

    async fn tamper(&self, db: Db, rows: &[RawRow]) -> Result<Db> {
        let opened = self.opened.borrow().clone();
        let opened = opened.ok_or_else(|| enginedb::Error::invalid("no store was opened"))?;
        tamper_memory(&opened, rows)?;
        Ok(db)
    }

    fn has_namespaces(&self) -> bool {
        true
    }

    async fn namespaces(&self) -> Result<[Db; 2]> {
        let db = MemoryDb::new();
        let open = |name: &str| -> Result<Db> { Ok(Db::from(Masked::new(db.namespace(name)?, self.mask))) };
        Ok([open("alpha")?, open("alpha_b")?])
    }
}

fn harness(mask: Mask) -> Result<MemoryHarness> {
    Ok(MemoryHarness {
        mask,
        opened: RefCell::default(),
    })
}

enginedb_conformance::conformance_suite!(harness, reopen = false, namespaces = true, tamper = true);

/// The whole suite against one store, as `enginedb check` runs it, in each mode: every case
/// that applies passes, exactly the cases whose needs the mode (or a lone store: no reopen, no
/// namespaces, no tampering) lacks are reported not applicable, and the run leaves nothing
/// behind.
#[test]
fn whole_suite_reports_per_mode() {
    for mask in Mask::ALL {
        let db = Db::from(Masked::new(MemoryDb::new(), mask));
        let report = futures::executor::block_on(run_all(&db));
        assert!(report.is_success(), "{report}");
        assert_eq!(report.cleanup_error, None, "{report}");
        let lacking: Vec<Need> = match mask {
            Mask::Native => vec![Need::OptimisticTransact, Need::Reopen, Need::Namespaces, Need::Tamper],
            Mask::BatchOnly => vec![Need::Transactions, Need::Reopen, Need::Namespaces, Need::Tamper],
            Mask::SequentialOnly => vec![
                Need::Transactions,
                Need::AtomicUnits,
                Need::OptimisticTransact,
                Need::Reopen,
                Need::Namespaces,
                Need::Tamper,
            ],
        };
        let expected: Vec<&str> = CASES
            .iter()
            .filter(|case| case.needs.iter().any(|need| lacking.contains(need)))
            .map(|case| case.name)
            .collect();
        let skipped: Vec<&str> = report.not_applicable().into_iter().map(|(name, _)| name).collect();
        assert_eq!(skipped, expected, "{mask:?}: the cases not applicable");
        assert_eq!(report.passed() + skipped.len(), CASES.len(), "{report}");
        assert!(
            futures::executor::block_on(
                db.list(enginedb::Selector::prefix(enginedb::key!["enginedb-conformance"]))
                    .collect()
            )
            .is_ok_and(|left| left.is_empty()),
            "{mask:?}: the run left keys behind"
        );
    }
}
