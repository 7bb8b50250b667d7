//! `MemoryDb` through the whole suite: natively, masked to batch-only, masked to
//! sequential-only. One `#[test]` per case and mode, plus one whole-suite report per mode.

use enginedb::{EngineDb, Mask, Masked, MemoryDb, Result};
use enginedb_conformance::{Case, Harness, Report, case_root, run_all_with, run_case};

struct MemoryHarness {
    mask: Mask,
}

#[async_trait::async_trait(?Send)]
impl Harness for MemoryHarness {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        Ok(Box::new(Masked::new(MemoryDb::new(), self.mask)))
    }

    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        let db = MemoryDb::new();
        let open = |name| {
            db.namespace(name)
                .map(|ns| Box::new(Masked::new(ns, self.mask)) as Box<dyn EngineDb>)
        };
        Some(open("alpha").and_then(|a| Ok([a, open("beta")?])))
    }
}

fn run(mask: Mask, case: &'static Case) {
    let harness = MemoryHarness { mask };
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

const NO_REOPEN: &[&str] = &[
    "persistence::reopen_keeps_data",
    "persistence::reopen_versions_keep_increasing",
];
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
    let harness = MemoryHarness { mask };
    let db = Masked::new(MemoryDb::new(), mask);
    let report = futures::executor::block_on(run_all_with(&harness, &db));
    eprintln!("\n{report}");
    assert_eq!(report.failed_names(), Vec::<&str>::new(), "{mask:?}: failures");
    let mut skipped: Vec<&str> = report.not_applicable().into_iter().map(|(name, _)| name).collect();
    let mut expected: Vec<&str> = not_applicable.concat();
    skipped.sort_unstable();
    expected.sort_unstable();
    assert_eq!(skipped, expected, "{mask:?}: cases not applicable");
    assert!(
        report.results.len() >= 60,
        "at least 60 cases, got {}",
        report.results.len()
    );
    report
}

#[test]
fn report_native() {
    report(Mask::Native, &[NO_REOPEN, OPTIMISTIC]);
}

#[test]
fn report_batch_only() {
    report(Mask::BatchOnly, &[NO_REOPEN, INTERACTIVE]);
}

#[test]
fn report_sequential_only() {
    report(Mask::SequentialOnly, &[NO_REOPEN, INTERACTIVE, OPTIMISTIC, ATOMIC]);
}
