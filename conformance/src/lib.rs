#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use enginedb::testing::RawRow;
use enginedb::{Atomicity, Commit, Db, Key, Mode, Result, Selector, Value, Write};
use futures::future::LocalBoxFuture;

#[macro_use]
mod check;
pub mod cases;
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
/// their own root). A harness whose stores persist says so with `reopens`, and `reopen` then
/// closes a store and opens the same data again. A harness with `has_namespaces` returns from
/// `namespaces` two handles on different namespaces of one database, the second name extending
/// the first (say `alpha` and `alpha_b`), so a layout that tells namespaces apart by a bare
/// prefix is caught. A harness with `tampers` writes rows past the core with `tamper`, so the
/// cases prove that stored bytes no enginedb writes read as `Corrupt`; its `open` must then
/// return a store (or namespace) of the case's own, since a tampered row spoils every list of
/// the whole key space of the store it is in.
#[async_trait::async_trait(?Send)]
pub trait Harness {
    /// A store for one case.
    async fn open(&self) -> Result<Db>;

    /// Whether `reopen` works (the stores persist).
    fn reopens(&self) -> bool {
        false
    }

    /// Closes `db` and opens the same data again.
    async fn reopen(&self, db: Db) -> Result<Db> {
        drop(db);
        Err(enginedb::Error::Unsupported {
            operation: "reopen",
            adapter: "this harness".into(),
        })
    }

    /// Whether `namespaces` works.
    fn has_namespaces(&self) -> bool {
        false
    }

    /// Two stores in different namespaces of one database.
    async fn namespaces(&self) -> Result<[Db; 2]> {
        Err(enginedb::Error::Unsupported {
            operation: "namespaces",
            adapter: "this harness".into(),
        })
    }

    /// Whether `tamper` works.
    fn tampers(&self) -> bool {
        false
    }

    /// Writes `rows` as they are into the namespace of `db`, the store `open` returned last,
    /// bypassing the core's encoding and checks (each replaces what its key bytes held), and
    /// returns a handle on that data: `db` itself, or the store closed and opened again.
    ///
    /// # Errors
    /// `Unsupported` for a row the store cannot hold (a negative version where versions are
    /// unsigned: MemoryDb, redb); `db` may then be closed.
    async fn tamper(&self, db: Db, rows: &[RawRow]) -> Result<Db> {
        let _ = rows;
        drop(db);
        Err(enginedb::Error::Unsupported {
            operation: "tamper",
            adapter: "this harness".into(),
        })
    }
}

/// Why a case did not pass: an expectation failed; the message says which and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseError {
    /// An expectation failed.
    Failed(String),
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

/// What a case needs of its store or harness; a case whose needs are not met is not
/// applicable there (derived, never decided by the case itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Need {
    /// Interactive transactions.
    Transactions,
    /// Atomic units (transactions or batches).
    AtomicUnits,
    /// Optimistic `transact` (batches without transactions).
    OptimisticTransact,
    /// A persistent store the harness can reopen.
    Reopen,
    /// Namespaces.
    Namespaces,
    /// Rows written past the core ([`Harness::tamper`]).
    Tamper,
}

impl Need {
    /// Whether a store from `harness` meets it.
    pub fn met(self, db: &Db, harness: &dyn Harness) -> bool {
        match self {
            Need::Transactions => db.capabilities().transactions,
            Need::AtomicUnits => mode_of(db).is_atomic(),
            Need::OptimisticTransact => mode_of(db) == Mode::Batch,
            Need::Reopen => harness.reopens(),
            Need::Namespaces => harness.has_namespaces(),
            Need::Tamper => harness.tampers(),
        }
    }

    /// A short name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Need::Transactions => "interactive transactions",
            Need::AtomicUnits => "atomic units (transactions or batches)",
            Need::OptimisticTransact => "optimistic transact (batches without transactions)",
            Need::Reopen => "reopen (a persistent store)",
            Need::Namespaces => "namespaces",
            Need::Tamper => "tamper (rows written past the core)",
        }
    }
}

/// One case of the suite.
#[derive(Clone, Copy)]
pub struct Case {
    /// `category::name`.
    pub name: &'static str,
    /// What it needs to apply.
    pub needs: &'static [Need],
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
    db: Db,
    root: Key,
    harness: &'a dyn Harness,
}

impl<'a> Ctx<'a> {
    /// The store under test.
    pub fn db(&self) -> &Db {
        &self.db
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

    /// The mode a unit must report on this store.
    pub fn mode(&self) -> Mode {
        mode_of(&self.db)
    }

    /// Runs `ops` as one unit with [`Atomicity::BestEffort`].
    pub async fn unit(&self, ops: &[Write]) -> Result<Commit> {
        self.db.write(ops, Atomicity::BestEffort).await
    }

    /// Every entry under this case's root, ascending, as `(key, value)`.
    pub async fn contents(&self) -> Result<Vec<(Key, Value)>> {
        contents(&self.db, &self.root).await
    }
}

/// The mode a unit runs in on `db`.
pub fn mode_of(db: &Db) -> Mode {
    let capabilities = db.capabilities();
    if capabilities.transactions {
        Mode::Transaction
    } else if capabilities.batches {
        Mode::Batch
    } else {
        Mode::Sequential
    }
}

/// Every entry under `root`, ascending, as `(key, value)`.
pub async fn contents(db: &Db, root: &Key) -> Result<Vec<(Key, Value)>> {
    let entries = db.list(Selector::prefix(root.clone())).collect().await?;
    Ok(entries.into_iter().map(|e| (e.key, e.value)).collect())
}

/// Yields to the executor `times` times, so concurrent futures of the same case make progress
/// (cases know no timer: they also run inside a Worker).
pub async fn yield_a_while(times: usize) {
    for _ in 0..times {
        enginedb::port::YieldNow::default().await;
    }
}

/// Runs one case on a store from `harness`, its keys under `root`; a case whose needs the store
/// or harness does not meet is not applicable, and not run.
pub async fn run_case(harness: &dyn Harness, case: &Case, root: Key) -> CaseOutcome {
    let db = match harness.open().await {
        Ok(db) => db,
        Err(error) => return CaseOutcome::Failed(format!("harness could not open a store: {error}")),
    };
    if let Some(need) = case.needs.iter().find(|need| !need.met(&db, harness)) {
        return CaseOutcome::NotApplicable(need.name());
    }
    let cx = Ctx { db, root, harness };
    match (case.run)(&cx).await {
        Ok(()) => CaseOutcome::Passed,
        Err(CaseError::Failed(message)) => CaseOutcome::Failed(message),
    }
}

/// The root key of `case` within run number `run`.
pub fn case_root(run: i64, case: &Case) -> Key {
    enginedb::key!["enginedb-conformance", run, case.name]
}

/// Runs every case against the one store `db` (each case under its own root), then deletes
/// what the cases wrote, the run counter included. Used where no test harness exists:
/// `enginedb check`, a Worker.
pub async fn run_all(db: &Db) -> Report {
    struct Shared(Db);
    #[async_trait::async_trait(?Send)]
    impl Harness for Shared {
        async fn open(&self) -> Result<Db> {
            Ok(self.0.clone())
        }
    }
    run_numbered(&Shared(db.clone()), db, Counter::Remove).await
}

/// Runs every case with stores from `harness`; `db` is one of its stores, used to number the
/// run (so runs on persistent stores never collide: the run counter stays in `db`) and to
/// clean up after it.
pub async fn run_all_with(harness: &dyn Harness, db: &Db) -> Report {
    run_numbered(harness, db, Counter::Keep).await
}

/// What becomes of the run counter after a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counter {
    /// Kept: the harness's other stores may still hold earlier runs' keys.
    Keep,
    /// Removed by the last run out: every case ran in `db`, which the cleanup empties.
    Remove,
}

async fn run_numbered(harness: &dyn Harness, db: &Db, after: Counter) -> Report {
    let counter = enginedb::key!["enginedb-conformance", "runs"];
    let run = match db.write_one(Write::sum(counter.clone(), 1)).await {
        Ok(_) => match db.get(&counter).await {
            Ok(Some(entry)) => entry.value.as_i64().unwrap_or(0),
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
    let mut cleanup = vec![Write::delete_range(Selector::prefix(enginedb::key![
        "enginedb-conformance",
        run
    ]))];
    // The last run out removes the counter too: nothing of the suite stays in the store.
    if let (Counter::Remove, Ok(Some(entry))) = (after, db.get(&counter).await)
        && entry.value.as_i64() == Some(run)
    {
        cleanup.push(Write::check(counter.clone(), Some(entry.version)));
        cleanup.push(Write::delete(counter));
    }
    let cleanup = db
        .write(&cleanup, Atomicity::BestEffort)
        .await
        .err()
        .map(|e| e.to_string());
    Report {
        adapter: db.info().name,
        results,
        cleanup_error: cleanup,
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __case_table {
    ($($module:ident : [$($case:ident $(($($need:ident),*))?),* $(,)?]),* $(,)?) => {
        /// Every case of the suite, in report order.
        pub static CASES: &[Case] = &[$($(
            Case {
                name: concat!(stringify!($module), "::", stringify!($case)),
                needs: &[$($(Need::$need),*)?],
                run: |cx| Box::pin(cases::$module::$case(cx)),
            },
        )*)*];
    };
}
__with_cases!(@list __case_table);

/// Expands to one `#[test]` per case that applies to a store with both capabilities masked
/// in mode `$mode` (`native`, `batch_only` or `sequential_only`), with `reopen`,
/// `namespaces` and `tamper` (`true`/`false`) saying what the harness offers: cases that do not
/// apply are not generated, so no test passes without running. `$runner` is a path to a
/// `fn(&'static Case)` of the calling crate that runs the case and panics on failure (see
/// [`CaseOutcome::assert_passed`]).
#[macro_export]
macro_rules! conformance_tests {
    ($runner:path, $mode:ident, reopen = $reopen:tt, namespaces = $namespaces:tt, tamper = $tamper:tt) => {
        $crate::__with_cases!(@list $crate::__conformance_test_fns, [$runner, $mode, $reopen, $namespaces, $tamper]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ([$runner:path, $mode:ident, $reopen:tt, $namespaces:tt, $tamper:tt];
     $($module:ident : [$($case:ident $(($($need:ident),*))?),* $(,)?]),* $(,)?) => {$(
        mod $module {$(
            $crate::__if_applies! { $mode $reopen $namespaces $tamper [$($($need)*)?]
                #[test]
                fn $case() {
                    let name = concat!(stringify!($module), "::", stringify!($case));
                    match $crate::case(name) {
                        Some(case) => $runner(case),
                        None => unreachable!("the macro only names existing cases"),
                    }
                }
            }
        )*}
    )*};
}

/// Emits the item after the needs when a store with both capabilities, masked in `$mode`, and
/// its harness (`reopen`, `namespaces`, `tamper`) meet them; nothing otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! __if_applies {
    ($mode:ident $r:tt $n:tt $t:tt [] $($item:tt)*) => { $($item)* };
    (native $r:tt $n:tt $t:tt [OptimisticTransact $($rest:ident)*] $($item:tt)*) => {};
    (batch_only $r:tt $n:tt $t:tt [Transactions $($rest:ident)*] $($item:tt)*) => {};
    (sequential_only $r:tt $n:tt $t:tt [Transactions $($rest:ident)*] $($item:tt)*) => {};
    (sequential_only $r:tt $n:tt $t:tt [AtomicUnits $($rest:ident)*] $($item:tt)*) => {};
    (sequential_only $r:tt $n:tt $t:tt [OptimisticTransact $($rest:ident)*] $($item:tt)*) => {};
    ($mode:ident false $n:tt $t:tt [Reopen $($rest:ident)*] $($item:tt)*) => {};
    ($mode:ident $r:tt false $t:tt [Namespaces $($rest:ident)*] $($item:tt)*) => {};
    ($mode:ident $r:tt $n:tt false [Tamper $($rest:ident)*] $($item:tt)*) => {};
    ($mode:ident $r:tt $n:tt $t:tt [$need:ident $($rest:ident)*] $($item:tt)*) => {
        $crate::__if_applies! { $mode $r $n $t [$($rest)*] $($item)* }
    };
}

/// The case named `category::name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}
