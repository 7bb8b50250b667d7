//! For adapters' `tests/` (not on wasm32): a harness for file-backed stores, and
//! [`conformance_suite!`](crate::conformance_suite), which expands the whole suite in all three
//! modes: one test per case that applies in the mode.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use enginedb::port::EngineDb;
use enginedb::testing::{Mask, Masked, RawRow};
use enginedb::{Db, Result};
use futures::future::LocalBoxFuture;

use crate::Harness;

/// Opens the store at a path.
pub type OpenPath<D> = fn(PathBuf) -> LocalBoxFuture<'static, Result<D>>;
/// A handle on another namespace of the same database.
pub type OpenNamespace<D> = fn(&D, &str) -> Result<D>;
/// Writes rows as they are into the default namespace of the closed store at a path, past
/// the adapter (see [`crate::Harness::tamper`]).
pub type TamperPath = fn(&Path, &[RawRow]) -> Result<()>;

/// Each store is a fresh file in a temporary directory, masked with `mask`; `reopen` closes the
/// store and opens the most recently opened file again; `namespaces` opens one file and two
/// namespaces of it; with [`FileHarness::tampering`], `tamper` closes the store, writes into
/// its file and opens it again.
pub struct FileHarness<D> {
    mask: Mask,
    dir: tempfile::TempDir,
    opened: RefCell<Vec<PathBuf>>,
    open: OpenPath<D>,
    namespace: OpenNamespace<D>,
    tamper: Option<TamperPath>,
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
            tamper: None,
        })
    }

    /// This harness, tampering with a closed store's file through `tamper`.
    #[must_use]
    pub fn tampering(mut self, tamper: TamperPath) -> Self {
        self.tamper = Some(tamper);
        self
    }

    fn masked(&self, db: D) -> Db {
        Db::from(Masked::new(db, self.mask))
    }

    fn last_opened(&self) -> Result<PathBuf> {
        let path = self.opened.borrow().last().cloned();
        path.ok_or_else(|| enginedb::Error::invalid("no store was opened"))
    }
}

#[async_trait::async_trait(?Send)]
impl<D: EngineDb + 'static> Harness for FileHarness<D> {
    async fn open(&self) -> Result<Db> {
        let path = self.dir.path().join(format!("store-{}", self.opened.borrow().len()));
        self.opened.borrow_mut().push(path.clone());
        Ok(self.masked((self.open)(path).await?))
    }

    fn reopens(&self) -> bool {
        true
    }

    async fn reopen(&self, db: Db) -> Result<Db> {
        db.close().await?;
        Ok(self.masked((self.open)(self.last_opened()?).await?))
    }

    fn has_namespaces(&self) -> bool {
        true
    }

    async fn namespaces(&self) -> Result<[Db; 2]> {
        let db = (self.open)(self.dir.path().join("namespaces")).await?;
        Ok([
            self.masked((self.namespace)(&db, "alpha")?),
            self.masked((self.namespace)(&db, "alpha_b")?),
        ])
    }

    fn tampers(&self) -> bool {
        self.tamper.is_some()
    }

    async fn tamper(&self, db: Db, rows: &[RawRow]) -> Result<Db> {
        let tamper = self.tamper.ok_or_else(|| enginedb::Error::Unsupported {
            operation: "tamper",
            adapter: "this harness".into(),
        })?;
        db.close().await?;
        let path = self.last_opened()?;
        tamper(&path, rows)?;
        Ok(self.masked((self.open)(path).await?))
    }
}

/// Expands, in an adapter's test file, one `#[test]` per case in each of the three modes
/// (modules `native`, `batch_only`, `sequential_only`), for a store with both capabilities:
/// the cases a mode does not apply to are not generated, and a generated case that finds its
/// needs unmet fails.
///
/// `$harness` is a path to `fn(Mask) -> enginedb::Result<H>` (`H: Harness`); `reopen`,
/// `namespaces` and `tamper` (`true`/`false`) say whether it supports those; `block_on`
/// (optional; `futures`' executor by default) runs a future to completion, for adapters that
/// need a runtime.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:path, reopen = $reopen:tt, namespaces = $namespaces:tt, tamper = $tamper:tt) => {
        $crate::conformance_suite!(
            $harness,
            reopen = $reopen,
            namespaces = $namespaces,
            tamper = $tamper,
            block_on = $crate::__block_on
        );
    };
    ($harness:path, reopen = $reopen:tt, namespaces = $namespaces:tt, tamper = $tamper:tt, block_on = $block_on:path) => {
        fn run_in(mask: ::enginedb::testing::Mask, case: &'static $crate::Case) {
            let harness = match $harness(mask) {
                Ok(harness) => harness,
                Err(error) => panic!("the harness cannot start: {error}"),
            };
            let outcome = $block_on($crate::run_case(&harness, case, $crate::case_root(1, case)));
            outcome.assert_passed(case.name);
        }
        fn run_native(case: &'static $crate::Case) {
            run_in(::enginedb::testing::Mask::Native, case);
        }
        fn run_batch_only(case: &'static $crate::Case) {
            run_in(::enginedb::testing::Mask::BatchOnly, case);
        }
        fn run_sequential_only(case: &'static $crate::Case) {
            run_in(::enginedb::testing::Mask::SequentialOnly, case);
        }
        mod native {
            $crate::conformance_tests!(
                super::super::run_native,
                native,
                reopen = $reopen,
                namespaces = $namespaces,
                tamper = $tamper
            );
        }
        mod batch_only {
            $crate::conformance_tests!(
                super::super::run_batch_only,
                batch_only,
                reopen = $reopen,
                namespaces = $namespaces,
                tamper = $tamper
            );
        }
        mod sequential_only {
            $crate::conformance_tests!(
                super::super::run_sequential_only,
                sequential_only,
                reopen = $reopen,
                namespaces = $namespaces,
                tamper = $tamper
            );
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
