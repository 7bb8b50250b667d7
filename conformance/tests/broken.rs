//! Proof that the suite can fail: deliberately broken stores, each of which must fail the
//! cases that guard the property it breaks.

use std::collections::HashMap;

use enginedb::{
    AdapterInfo, BatchCapability, Capabilities, Cursor, EngineDb, Entry, Key, ListOptions, MemoryDb, Page, Result,
    Selector, TransactionCapability, Value, Version, Write,
};
use enginedb_conformance::{Harness, Report, run_all_with};

/// What each broken store gets wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// Its batch applies op by op and stops at the first failure, keeping what went before.
    NonAtomicBatch,
    /// It drops `Check`s and treats `Insert` as `Set`.
    ChecksIgnored,
    /// It lists keys ordered by their debug text instead of tuple order.
    WrongOrder,
    /// Its counters wrap around on overflow.
    WrappingCounters,
    /// Resuming from a cursor skips the first entry after it.
    SkippingCursor,
    /// Its cursors point one entry too early, so resuming repeats an entry.
    RepeatingCursor,
    /// Sequential-only, and a write that fails in the backend is reported as done: the
    /// sequential mode's partial writes are hidden.
    HiddenPartialWrite,
}

struct Broken {
    inner: MemoryDb,
    flaw: Flaw,
}

impl Broken {
    /// The unit as this store (mis)understands it.
    async fn rewrite(&self, ops: &[Write]) -> Result<Vec<Write>> {
        let mut counters: HashMap<Key, i64> = HashMap::new();
        let mut out = Vec::new();
        for op in ops {
            match (self.flaw, op) {
                (Flaw::ChecksIgnored, Write::Check { .. } | Write::CheckRange { .. }) => {}
                (Flaw::ChecksIgnored, Write::Insert { key, value }) => out.push(Write::set(key.clone(), value.clone())),
                (Flaw::WrappingCounters, Write::Sum { key, delta }) => {
                    let current = match counters.get(key) {
                        Some(n) => *n,
                        None => match self.inner.get(key).await?.map(|e| e.value) {
                            Some(Value::I64(n)) => n,
                            _ => 0,
                        },
                    };
                    counters.insert(key.clone(), current.wrapping_add(*delta));
                    out.push(Write::set(key.clone(), current.wrapping_add(*delta)));
                }
                _ => out.push(op.clone()),
            }
        }
        Ok(out)
    }
}

/// Re-points a page's cursor one entry earlier (the cursor bytes are a tag byte followed by
/// the encoded key, a documented stable form).
fn cursor_one_early(page: &Page) -> Option<Cursor> {
    let tag = *page.cursor.as_ref()?.as_bytes().first()?;
    let earlier = page.entries.iter().rev().nth(1)?;
    let mut bytes = vec![tag];
    bytes.extend(earlier.key.encode());
    Some(Cursor::from_bytes(bytes))
}

#[async_trait::async_trait]
impl EngineDb for Broken {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            name: format!("broken: {:?}", self.flaw),
            capabilities: Capabilities {
                transactions: self.transactions().is_some(),
                batches: self.batches().is_some(),
            },
            limits: self.inner.info().limits,
        }
    }
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
    }
    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let mut page = self.inner.list(selector, options).await?;
        match self.flaw {
            Flaw::WrongOrder => page.entries.sort_by_key(|e| format!("{:?}", e.key)),
            Flaw::SkippingCursor if options.cursor.is_some() && !page.entries.is_empty() => {
                page.entries.remove(0);
            }
            Flaw::RepeatingCursor => page.cursor = cursor_one_early(&page).or(page.cursor),
            _ => {}
        }
        Ok(page)
    }
    async fn write(&self, op: &Write) -> Result<Version> {
        let ops = self.rewrite(std::slice::from_ref(op)).await?;
        match (self.flaw, ops.as_slice()) {
            (Flaw::HiddenPartialWrite, [op]) => Ok(self.inner.write(op).await.unwrap_or(Version(0))),
            (_, [op]) => self.inner.write(op).await,
            (_, ops) => self.inner.apply_batch(ops).await,
        }
    }
    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        match self.flaw {
            Flaw::WrongOrder | Flaw::SkippingCursor | Flaw::RepeatingCursor => Some(&self.inner),
            _ => None,
        }
    }
    fn batches(&self) -> Option<&dyn BatchCapability> {
        match self.flaw {
            Flaw::HiddenPartialWrite => None,
            _ => Some(self),
        }
    }
}

#[async_trait::async_trait]
impl BatchCapability for Broken {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        let ops = self.rewrite(ops).await?;
        if self.flaw != Flaw::NonAtomicBatch {
            return self.inner.apply_batch(&ops).await;
        }
        let mut version = Version(0);
        for op in &ops {
            version = self.inner.write(op).await?;
        }
        Ok(version)
    }
}

struct BrokenHarness(Flaw);

#[async_trait::async_trait(?Send)]
impl Harness for BrokenHarness {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        Ok(Box::new(Broken {
            inner: MemoryDb::new(),
            flaw: self.0,
        }))
    }
}

/// Runs the suite on a store with `flaw` and asserts that each guard case failed.
fn assert_caught(flaw: Flaw, guards: &[&str]) -> Report {
    let harness = BrokenHarness(flaw);
    let db = Broken {
        inner: MemoryDb::new(),
        flaw,
    };
    let report = futures::executor::block_on(run_all_with(&harness, &db));
    eprintln!("{report}");
    let failed = report.failed_names();
    for guard in guards {
        assert!(failed.contains(guard), "{flaw:?} must fail {guard}; failed: {failed:?}");
    }
    report
}

#[test]
fn non_atomic_batch_is_caught() {
    assert_caught(
        Flaw::NonAtomicBatch,
        &[
            "atomic::failed_check_at_end_writes_nothing",
            "atomic::failed_insert_at_end_writes_nothing",
            "atomic::fault_at_every_position",
            "versions::one_unit_one_version",
        ],
    );
}

#[test]
fn ignored_checks_are_caught() {
    assert_caught(
        Flaw::ChecksIgnored,
        &[
            "checks::stale_version_fails",
            "checks::absent_check",
            "checks::cas_increment",
            "checks::check_range_fingerprint",
            "crud::insert_existing_fails",
            "transact::conflict_retries",
            "transact::phantom_detected",
        ],
    );
}

#[test]
fn wrong_key_order_is_caught() {
    assert_caught(
        Flaw::WrongOrder,
        &["codec::order_across_types", "codec::order_within_types", "codec::generated_keys_list_sorted"],
    );
}

#[test]
fn wrapping_counters_are_caught() {
    assert_caught(
        Flaw::WrappingCounters,
        &["counters::reaches_max_then_overflow_fails", "counters::reaches_min_then_underflow_fails"],
    );
}

#[test]
fn skipping_cursor_is_caught() {
    assert_caught(
        Flaw::SkippingCursor,
        &["list::pages_cover_all_forward", "list::pages_cover_all_reverse", "list::cursor_under_concurrent_inserts"],
    );
}

#[test]
fn repeating_cursor_is_caught() {
    assert_caught(
        Flaw::RepeatingCursor,
        &["list::pages_cover_all_forward", "list::pages_cover_all_reverse", "list::cursor_under_concurrent_inserts"],
    );
}

#[test]
fn hidden_partial_write_is_caught() {
    assert_caught(Flaw::HiddenPartialWrite, &["atomic::fault_at_every_position"]);
}

#[test]
fn coverage_probe() {
    let flaws = [
        Flaw::NonAtomicBatch,
        Flaw::ChecksIgnored,
        Flaw::WrongOrder,
        Flaw::WrappingCounters,
        Flaw::SkippingCursor,
        Flaw::RepeatingCursor,
        Flaw::HiddenPartialWrite,
    ];
    let mut caught = std::collections::BTreeSet::new();
    for flaw in flaws {
        caught.extend(assert_caught(flaw, &[]).failed_names());
    }
    let never: Vec<&str> = enginedb_conformance::CASES.iter().map(|c| c.name).filter(|n| !caught.contains(n)).collect();
    println!("NEVER CAUGHT ({}): {never:#?}", never.len());
}
