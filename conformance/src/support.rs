//! For adapters' `tests/` (not on wasm32): a harness for file-backed stores, the cases each
//! mode must skip, and [`conformance_suite!`](crate::conformance_suite), which expands the
//! whole suite in all three modes plus one report per mode.

use std::cell::RefCell;
use std::path::PathBuf;

use enginedb::{EngineDb, Mask, Masked, Result};
use futures::future::LocalBoxFuture;

use crate::{Harness, Report};

/// Opens the store at a path.
pub type OpenPath<D> = fn(PathBuf) -> LocalBoxFuture<'static, Result<D>>;
/// A handle on another namespace of the same database.
pub type OpenNamespace<D> = fn(&D, &str) -> Result<D>;

/// Each store is a fresh file in a temporary directory, masked with `mask`; `reopen` opens the
/// most recently opened file again; `namespaces` opens one file and two namespaces of it.
pub struct FileHarness<D> {
    mask: Mask,
    dir: tempfile::TempDir,
    opened: RefCell<Vec<PathBuf>>,
    open: OpenPath<D>,
    namespace: OpenNamespace<D>,
}

impl<D: EngineDb + 'static> FileHarness<D> {
    /// A harness opening stores with `open` in a new temporary directory.
    ///
    /// # Errors
    /// `Backend` when the temporary directory cannot be made.
    pub fn new(mask: Mask, open: OpenPath<D>, namespace: OpenNamespace<D>) -> Result<Self> {
        Ok(FileHarness {
            mask,
            dir: tempfile::tempdir().map_err(|e| enginedb::Error::backend("harness", e))?,
            opened: RefCell::default(),
            open,
            namespace,
        })
    }

    fn masked(&self, db: D) -> Box<dyn EngineDb> {
        Box::new(Masked::new(db, self.mask))
    }
}

#[async_trait::async_trait(?Send)]
impl<D: EngineDb + 'static> Harness for FileHarness<D> {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        let path = self.dir.path().join(format!("store-{}", self.opened.borrow().len()));
        self.opened.borrow_mut().push(path.clone());
        Ok(self.masked((self.open)(path).await?))
    }

    async fn reopen<'s>(&'s self, db: Box<dyn EngineDb + 's>) -> Option<Result<Box<dyn EngineDb + 's>>> {
        drop(db);
        let path = self.opened.borrow().last().cloned()?;
        Some((self.open)(path).await.map(|db| self.masked(db)))
    }

    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        let opened = async {
            let db = (self.open)(self.dir.path().join("namespaces")).await?;
            Ok([
                self.masked((self.namespace)(&db, "alpha")?),
                self.masked((self.namespace)(&db, "alpha_b")?),
            ])
        };
        Some(opened.await)
    }
}

/// Cases that need `transact` to be optimistic (a batch-only store).
const OPTIMISTIC: &[&str] = &[
    "transact::conflict_retries",
    "transact::phantom_detected",
    "transact::span_is_what_was_read",
    "transact::gives_up_with_conflict",
];
/// Cases that need interactive transactions.
const INTERACTIVE: &[&str] = &[
    "tx::plain_write_never_joins",
    "tx::dropped_rolls_back_and_frees",
    "tx::reads_own_writes_pending",
    "tx::commit_stamps_one_version",
    "tx::explicit_rollback",
];
/// Cases that need atomic units.
const ATOMIC: &[&str] = &[
    "transact::read_modify_write",
    "transact::sees_own_writes",
    "transact::body_error_writes_nothing",
    "transact::concurrent_increments_exact",
    "transact::write_skew_prevented",
    "concurrency::concurrent_cas_no_lost_update",
    "concurrency::units_never_interleave",
];
/// Cases that need reopen.
const REOPEN: &[&str] = &[
    "persistence::reopen_keeps_data",
    "persistence::reopen_versions_keep_increasing",
];
/// Cases that need namespaces.
const NAMESPACES: &[&str] = &["namespaces::isolated"];

/// The cases a store with both capabilities, masked with `mask`, must report not applicable.
pub fn expected_not_applicable(mask: Mask, reopen: bool, namespaces: bool) -> Vec<&'static str> {
    let by_mask: &[&[&str]] = match mask {
        Mask::Native => &[OPTIMISTIC],
        Mask::BatchOnly => &[INTERACTIVE],
        Mask::SequentialOnly => &[INTERACTIVE, OPTIMISTIC, ATOMIC],
    };
    let mut names: Vec<&str> = by_mask.concat();
    if !reopen {
        names.extend(REOPEN);
    }
    if !namespaces {
        names.extend(NAMESPACES);
    }
    names.sort_unstable();
    names
}

/// Prints `report` and panics unless nothing failed and exactly `expected` was not applicable.
#[allow(clippy::panic)]
pub fn assert_report(report: &Report, expected: &[&str]) {
    eprintln!("\n{report}");
    let failed = report.failed_names();
    if !failed.is_empty() {
        panic!("{}: cases failed: {failed:?}", report.adapter);
    }
    let mut skipped: Vec<&str> = report.not_applicable().into_iter().map(|(name, _)| name).collect();
    skipped.sort_unstable();
    if skipped != expected {
        panic!("{}: not applicable {skipped:?}, expected {expected:?}", report.adapter);
    }
}

/// Expands, in an adapter's test file, one `#[test]` per case in each of the three
/// modes (modules `native`, `batch_only`, `sequential_only`) and one whole-suite report per mode
/// (`report_native`, …) asserting `0 failed` and exactly the expected cases not applicable.
///
/// `$harness` is a path to `fn(Mask) -> enginedb::Result<H>` (`H: Harness`); `reopen` and
/// `namespaces` say whether its stores support those; `block_on` (optional; `futures`'
/// executor by default) runs a future to completion, for adapters that need a runtime.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:path, reopen = $reopen:expr, namespaces = $namespaces:expr) => {
        $crate::conformance_suite!(
            $harness,
            reopen = $reopen,
            namespaces = $namespaces,
            block_on = $crate::__block_on
        );
    };
    ($harness:path, reopen = $reopen:expr, namespaces = $namespaces:expr, block_on = $block_on:path) => {
        fn harness_in(mask: ::enginedb::Mask) -> impl $crate::Harness {
            match $harness(mask) {
                Ok(harness) => harness,
                Err(error) => panic!("the harness cannot start: {error}"),
            }
        }
        fn run_in(mask: ::enginedb::Mask, case: &'static $crate::Case) {
            let harness = harness_in(mask);
            let outcome = $block_on($crate::run_case(&harness, case, $crate::case_root(1, case)));
            outcome.assert_passed(case.name);
        }
        fn run_native(case: &'static $crate::Case) {
            run_in(::enginedb::Mask::Native, case);
        }
        fn run_batch_only(case: &'static $crate::Case) {
            run_in(::enginedb::Mask::BatchOnly, case);
        }
        fn run_sequential_only(case: &'static $crate::Case) {
            run_in(::enginedb::Mask::SequentialOnly, case);
        }
        mod native {
            $crate::conformance_tests!(super::super::run_native);
        }
        mod batch_only {
            $crate::conformance_tests!(super::super::run_batch_only);
        }
        mod sequential_only {
            $crate::conformance_tests!(super::super::run_sequential_only);
        }
        fn report_in(mask: ::enginedb::Mask) {
            let harness = harness_in(mask);
            let report = $block_on(async {
                match $crate::Harness::open(&harness).await {
                    Ok(db) => $crate::run_all_with(&harness, &*db).await,
                    Err(error) => panic!("the harness cannot open a store: {error}"),
                }
            });
            let expected = $crate::support::expected_not_applicable(mask, $reopen, $namespaces);
            $crate::support::assert_report(&report, &expected);
        }
        #[test]
        fn report_native() {
            report_in(::enginedb::Mask::Native);
        }
        #[test]
        fn report_batch_only() {
            report_in(::enginedb::Mask::BatchOnly);
        }
        #[test]
        fn report_sequential_only() {
            report_in(::enginedb::Mask::SequentialOnly);
        }
    };
}

/// Group commit check, for adapters that fold concurrent batches into one commit: 16 threads
/// × 50 units (one in five bound to fail on an `Insert`), sent through `db`'s batch capability
/// (`run_atomic_writes` would take an interactive transaction, which does not group). Every unit that fails
/// leaves nothing; every one that succeeds is whole and has a version of its own; one `Sum`
/// per success. Panics on a violation.
#[allow(clippy::panic, clippy::expect_used)]
pub fn grouped_units_stay_independent<D: EngineDb + Clone + 'static>(db: D) {
    use enginedb::{ErrorKind, Value, Write, key};
    use futures::executor::block_on;
    block_on(db.write(&Write::set(key!["taken"], 1))).expect("seed");
    let threads: Vec<_> = (0..16i64)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                (0..50i64)
                    .map(|i| {
                        let mut unit = vec![Write::set(key!["unit", t, i], i), Write::sum(key!["count"], 1)];
                        let doomed = i % 5 == 0;
                        if doomed {
                            unit.push(Write::insert(key!["taken"], 2));
                        }
                        let batches = db.batches().expect("a batch capability");
                        (t, i, doomed, block_on(batches.apply_batch(&unit)))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut versions = std::collections::BTreeSet::new();
    let mut committed = 0;
    for thread in threads {
        for (t, i, doomed, outcome) in thread.join().expect("thread") {
            let stored = block_on(db.get(&key!["unit", t, i])).expect("get");
            match outcome {
                Ok(version) => {
                    assert!(!doomed, "unit {t}/{i} should have failed");
                    assert!(versions.insert(version), "version {version} given twice");
                    assert_eq!(stored.map(|e| e.version), Some(version), "unit {t}/{i} is whole");
                    committed += 1;
                }
                Err(error) => {
                    assert!(doomed, "unit {t}/{i} failed: {error}");
                    assert_eq!(error.kind(), ErrorKind::CheckFailed);
                    assert_eq!(stored, None, "failed unit {t}/{i} left nothing");
                }
            }
        }
    }
    let count = block_on(db.get(&key!["count"])).expect("get").map(|e| e.value);
    assert_eq!(count, Some(Value::I64(committed)), "one sum per committed unit");
    assert_eq!(committed, 16 * 40);
}
