#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use enginedb::{Atomicity, Commit, EngineDb, Key, Mode, Result, Write, run_atomic_writes};
use futures::future::LocalBoxFuture;

#[macro_use]
mod check;
pub mod cases;
#[cfg(not(target_arch = "wasm32"))]
pub mod crash;
#[cfg(not(target_arch = "wasm32"))]
pub mod pg_server;
mod report;
#[cfg(not(target_arch = "wasm32"))]
pub mod support;

pub use report::{CaseOutcome, CaseReport, Report};

#[doc(hidden)]
pub use futures::executor::block_on as __block_on;

/// Hands out stores for the cases.
///
/// # Contract
/// `open` returns a store no other case uses (or one shared store: cases only touch keys under
/// their own root). `reopen` closes a store and opens the same data again (file-backed stores
/// only). `namespaces` returns two handles on different namespaces of one database, the second
/// name extending the first (say `alpha` and `alpha_b`), so a layout that tells namespaces apart
/// by a bare prefix is caught.
#[async_trait::async_trait(?Send)]
pub trait Harness {
    /// A store for one case.
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>>;

    /// Closes `db` and opens the same data again; `None` when the store does not persist.
    async fn reopen<'s>(&'s self, db: Box<dyn EngineDb + 's>) -> Option<Result<Box<dyn EngineDb + 's>>> {
        drop(db);
        None
    }

    /// Two stores in different namespaces of one database; `None` when not supported.
    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        None
    }
}

/// Why a case did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseError {
    /// An expectation failed; the message says which and where.
    Failed(String),
    /// The store lacks what the case needs (the capability is named).
    NotApplicable(&'static str),
}

impl From<enginedb::Error> for CaseError {
    fn from(error: enginedb::Error) -> Self {
        CaseError::Failed(format!("unexpected error: {error}"))
    }
}

/// What a case returns.
pub type CaseResult = std::result::Result<(), CaseError>;

/// A case's future.
pub type CaseFuture<'a> = LocalBoxFuture<'a, CaseResult>;

/// One case of the suite.
#[derive(Clone, Copy)]
pub struct Case {
    /// `category::name`.
    pub name: &'static str,
    /// Runs it.
    pub run: for<'a> fn(&'a Ctx<'a>) -> CaseFuture<'a>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// What a case works with: its store, its own key space, and the harness.
pub struct Ctx<'a> {
    db: Box<dyn EngineDb + 'a>,
    root: Key,
    harness: &'a dyn Harness,
}

impl<'a> Ctx<'a> {
    /// The store under test.
    pub fn db(&self) -> &dyn EngineDb {
        &*self.db
    }

    /// The harness that opened it.
    pub fn harness(&self) -> &'a dyn Harness {
        self.harness
    }

    /// The root every key of this case lives under.
    pub fn root(&self) -> &Key {
        &self.root
    }

    /// `root + part`.
    pub fn key(&self, part: impl Into<enginedb::KeyPart>) -> Key {
        self.root.clone().with(part)
    }

    /// The mode `run_atomic_writes` must report on this store.
    pub fn mode(&self) -> Mode {
        mode_of(self.db())
    }

    /// Runs `ops` as one unit with [`Atomicity::BestEffort`].
    pub async fn unit(&self, ops: &[Write]) -> Result<Commit> {
        run_atomic_writes(self.db(), ops, Atomicity::BestEffort).await
    }

    /// Every entry under this case's root, ascending, as `(key, value)`.
    pub async fn contents(&self) -> Result<Vec<(Key, enginedb::Value)>> {
        contents(self.db(), &self.root).await
    }

    /// `NotApplicable` unless the store has interactive transactions.
    pub fn needs_transactions(&self) -> CaseResult {
        match self.db().transactions() {
            Some(_) => Ok(()),
            None => Err(CaseError::NotApplicable("interactive transactions")),
        }
    }

    /// `NotApplicable` unless units run atomically (transactions or batches).
    pub fn needs_atomic_units(&self) -> CaseResult {
        match self.mode() {
            Mode::Sequential => Err(CaseError::NotApplicable("atomic units (transactions or batches)")),
            _ => Ok(()),
        }
    }

    /// `NotApplicable` unless `transact` runs optimistically (batches without transactions).
    pub fn needs_optimistic_transact(&self) -> CaseResult {
        match self.mode() {
            Mode::Batch => Ok(()),
            _ => Err(CaseError::NotApplicable(
                "optimistic transact (batches without transactions)",
            )),
        }
    }
}

/// The mode `run_atomic_writes` uses on `db`.
pub fn mode_of(db: &dyn EngineDb) -> Mode {
    if db.transactions().is_some() {
        Mode::Transaction
    } else if db.batches().is_some() {
        Mode::Batch
    } else {
        Mode::Sequential
    }
}

/// Every entry under `root`, ascending, as `(key, value)`.
pub async fn contents(db: &dyn EngineDb, root: &Key) -> Result<Vec<(Key, enginedb::Value)>> {
    let selector = enginedb::Selector::Prefix(root.clone());
    let mut options = enginedb::ListOptions::default();
    let mut out = Vec::new();
    // Bounded, so a store whose cursors never end cannot hang a case: it fails it instead.
    for _ in 0..MAX_PAGES {
        let page = db.list(&selector, &options).await?;
        out.extend(page.entries.into_iter().map(|e| (e.key, e.value)));
        match page.cursor {
            Some(cursor) => options.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
    Err(enginedb::Error::Corrupt {
        message: format!("listing {root} did not end after {MAX_PAGES} pages"),
    })
}

/// The most pages [`contents`] reads before it gives up.
const MAX_PAGES: usize = 10_000;

/// Yields to the executor `times` times, so concurrent futures of the same case make progress
/// (cases know no timer: they also run inside a Worker).
pub async fn yield_a_while(times: usize) {
    for _ in 0..times {
        let mut yielded = false;
        futures::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
    }
}

/// Runs one case on a store from `harness`, its keys under `root`.
pub async fn run_case(harness: &dyn Harness, case: &Case, root: Key) -> CaseOutcome {
    let db = match harness.open().await {
        Ok(db) => db,
        Err(error) => return CaseOutcome::Failed(format!("harness could not open a store: {error}")),
    };
    let cx = Ctx { db, root, harness };
    match (case.run)(&cx).await {
        Ok(()) => CaseOutcome::Passed,
        Err(CaseError::Failed(message)) => CaseOutcome::Failed(message),
        Err(CaseError::NotApplicable(needs)) => CaseOutcome::NotApplicable(needs),
    }
}

/// The root key of `case` within run number `run`.
pub fn case_root(run: i64, case: &Case) -> Key {
    enginedb::key!["enginedb-conformance", run, case.name]
}

/// Runs every case against the one store `db` (each case under its own root), then deletes
/// what the cases wrote. Used where no test harness exists: `enginedb check`, a Worker.
pub async fn run_all(db: &dyn EngineDb) -> Report {
    struct Shared<'d>(&'d dyn EngineDb);
    #[async_trait::async_trait(?Send)]
    impl Harness for Shared<'_> {
        async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
            Ok(Box::new(self.0))
        }
    }
    run_all_with(&Shared(db), db).await
}

/// Runs every case with stores from `harness`; `db` is one of its stores, used to number the
/// run (so repeated runs on a persistent store never collide) and to clean up after it.
pub async fn run_all_with(harness: &dyn Harness, db: &dyn EngineDb) -> Report {
    let counter = enginedb::key!["enginedb-conformance-runs"];
    let run = match db.write(&Write::sum(counter.clone(), 1)).await {
        Ok(_) => match db.get(&counter).await {
            Ok(Some(enginedb::Entry {
                value: enginedb::Value::I64(n),
                ..
            })) => n,
            _ => 0,
        },
        Err(_) => 0,
    };
    let mut results = Vec::with_capacity(CASES.len());
    for case in CASES {
        let outcome = run_case(harness, case, case_root(run, case)).await;
        results.push(CaseReport {
            name: case.name,
            outcome,
        });
    }
    let cleanup = Write::delete_range(enginedb::Selector::Prefix(enginedb::key!["enginedb-conformance", run]));
    let cleanup = db.write(&cleanup).await.err().map(|e| e.to_string());
    Report {
        adapter: db.info().name,
        results,
        cleanup_error: cleanup,
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __case_table {
    ($($module:ident : [$($case:ident),* $(,)?]),* $(,)?) => {
        /// Every case of the suite, in report order.
        pub static CASES: &[Case] = &[$($(
            Case {
                name: concat!(stringify!($module), "::", stringify!($case)),
                run: |cx| Box::pin(cases::$module::$case(cx)),
            },
        )*)*];
    };
}
__with_cases!(@list __case_table);

/// Expands to one `#[test]` per case, in modules named after the categories. `$runner` is a
/// path to a `fn(&'static Case)` of the calling crate (e.g. `crate::run_native`) that runs the
/// case on the adapter's harness and panics on failure (see [`CaseOutcome::assert_passed`]).
#[macro_export]
macro_rules! conformance_tests {
    ($runner:path) => {
        $crate::__with_cases!(@list $crate::__conformance_test_fns, $runner);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($runner:path; $($module:ident : [$($case:ident),* $(,)?]),* $(,)?) => {$(
        mod $module {$(
            #[test]
            fn $case() {
                let name = concat!(stringify!($module), "::", stringify!($case));
                match $crate::case(name) {
                    Some(case) => $runner(case),
                    None => unreachable!("the macro only names existing cases"),
                }
            }
        )*}
    )*};
}

/// The case named `category::name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}
