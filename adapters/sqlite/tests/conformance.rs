//! `SqliteDb` through the whole suite: natively, masked to batch-only, masked to
//! sequential-only; with reopen (a file on disk) and namespaces.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::cell::RefCell;
use std::path::PathBuf;

use enginedb::{EngineDb, Mask, Masked, Result};
use enginedb_conformance::{Case, Harness, Report, case_root, run_all_with, run_case};
use enginedb_sqlite::{SqliteConfig, SqliteDb};

struct SqliteHarness {
    mask: Mask,
    dir: tempfile::TempDir,
    opened: RefCell<Vec<PathBuf>>,
}

impl SqliteHarness {
    fn new(mask: Mask) -> Self {
        SqliteHarness {
            mask,
            dir: tempfile::tempdir().expect("temporary directory"),
            opened: RefCell::default(),
        }
    }

    async fn open_file(&self, path: PathBuf) -> Result<Box<dyn EngineDb + '_>> {
        let mut config = SqliteConfig::file(&path);
        config.readers = 2;
        let db = SqliteDb::open(config).await?;
        Ok(Box::new(Masked::new(db, self.mask)))
    }
}

#[async_trait::async_trait(?Send)]
impl Harness for SqliteHarness {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        let path = self
            .dir
            .path()
            .join(format!("store-{}.sqlite3", self.opened.borrow().len()));
        self.opened.borrow_mut().push(path.clone());
        self.open_file(path).await
    }

    async fn reopen<'s>(&'s self, db: Box<dyn EngineDb + 's>) -> Option<Result<Box<dyn EngineDb + 's>>> {
        drop(db);
        let path = self.opened.borrow().last().cloned()?;
        Some(self.open_file(path).await)
    }

    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        let opened = async {
            let db = SqliteDb::open(SqliteConfig::file(self.dir.path().join("namespaces.sqlite3"))).await?;
            let store = |name| {
                db.namespace(name)
                    .map(|ns| Box::new(Masked::new(ns, self.mask)) as Box<dyn EngineDb>)
            };
            Ok([store("alpha")?, store("beta")?])
        };
        Some(opened.await)
    }
}

fn run(mask: Mask, case: &'static Case) {
    let harness = SqliteHarness::new(mask);
    futures::executor::block_on(run_case(&harness, case, case_root(1, case))).assert_passed(case.name);
}

fn run_native(case: &'static Case) {
    run(Mask::Native, case);
}
fn run_batch_only(case: &'static Case) {
    run(Mask::BatchOnly, case);
}
fn run_sequential_only(case: &'static Case) {
    run(Mask::SequentialOnly, case);
}

mod native {
    enginedb_conformance::conformance_tests!(crate::run_native);
}
mod batch_only {
    enginedb_conformance::conformance_tests!(crate::run_batch_only);
}
mod sequential_only {
    enginedb_conformance::conformance_tests!(crate::run_sequential_only);
}

const OPTIMISTIC: &[&str] = &[
    "transact::conflict_retries",
    "transact::phantom_detected",
    "transact::span_is_what_was_read",
    "transact::gives_up_with_conflict",
];
const INTERACTIVE: &[&str] = &[
    "tx::plain_write_never_joins",
    "tx::dropped_rolls_back_and_frees",
    "tx::reads_own_writes_pending",
    "tx::commit_stamps_one_version",
    "tx::explicit_rollback",
];
const ATOMIC: &[&str] = &[
    "transact::read_modify_write",
    "transact::sees_own_writes",
    "transact::body_error_writes_nothing",
    "transact::concurrent_increments_exact",
    "transact::write_skew_prevented",
    "concurrency::concurrent_cas_no_lost_update",
    "concurrency::units_never_interleave",
];

fn report(mask: Mask, not_applicable: &[&[&str]]) -> Report {
    let harness = SqliteHarness::new(mask);
    let report = futures::executor::block_on(async {
        let db = harness.open().await.expect("open");
        run_all_with(&harness, &*db).await
    });
    eprintln!("\n{report}");
    assert_eq!(report.failed_names(), Vec::<&str>::new(), "{mask:?}: failures");
    let mut skipped: Vec<&str> = report.not_applicable().into_iter().map(|(name, _)| name).collect();
    let mut expected: Vec<&str> = not_applicable.concat();
    skipped.sort_unstable();
    expected.sort_unstable();
    assert_eq!(skipped, expected, "{mask:?}: cases not applicable");
    report
}

#[test]
fn report_native() {
    report(Mask::Native, &[OPTIMISTIC]);
}

#[test]
fn report_batch_only() {
    report(Mask::BatchOnly, &[INTERACTIVE]);
}

#[test]
fn report_sequential_only() {
    report(Mask::SequentialOnly, &[INTERACTIVE, OPTIMISTIC, ATOMIC]);
}
