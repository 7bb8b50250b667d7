//! Proof that the suite can fail: deliberately broken stores must fail the cases that guard
//! what they break, and every case of the suite must be failed by at least one of them.

mod store;

use std::collections::BTreeMap;

use enginedb::Db;
use enginedb_conformance::{CASES, Report, run_all_with};
use store::{Broken, BrokenHarness, Flaw};

fn run(flaw: Flaw) -> Report {
    futures::executor::block_on(run_all_with(&BrokenHarness::new(flaw), &Db::from(Broken::new(flaw))))
}

/// Runs the suite on a store with `flaw` and asserts that each guard case failed.
fn assert_caught(flaw: Flaw, guards: &[&str]) {
    let report = run(flaw);
    let failed = report.failed_names();
    for guard in guards {
        assert!(
            failed.contains(guard),
            "{flaw:?} must fail {guard}; failed: {failed:?}\n{report}"
        );
    }
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
            "concurrency::units_never_interleave",
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
        &[
            "codec::order_across_types",
            "codec::order_within_types",
            "codec::generated_keys_list_sorted",
        ],
    );
}

#[test]
fn wrapping_counters_are_caught() {
    assert_caught(
        Flaw::WrappingCounters,
        &[
            "counters::reaches_max_then_overflow_fails",
            "counters::reaches_min_then_underflow_fails",
        ],
    );
}

#[test]
fn wrapping_min_max_is_caught() {
    assert_caught(Flaw::WrappingMinMax, &["counters::min_and_max_keep_the_extreme"]);
}

#[test]
fn ignored_prefix_bounds_are_caught() {
    assert_caught(
        Flaw::PrefixStartIgnored,
        &["list::prefix_from", "list::prefix_bounded_by_start_and_end"],
    );
    assert_caught(Flaw::PrefixEndIgnored, &["list::prefix_bounded_by_start_and_end"]);
}

#[test]
fn shifted_check_index_is_caught() {
    assert_caught(
        Flaw::CheckIndexShifted,
        &[
            "checks::failure_reports_index",
            "checks::failure_names_the_key",
            "atomic::failed_insert_at_end_writes_nothing",
        ],
    );
}

#[test]
fn early_stamps_are_caught() {
    assert_caught(
        Flaw::EarlyStamps,
        &[
            "versionstamps::keys_list_in_commit_order",
            "versionstamps::tail_never_finds_an_earlier_key",
        ],
    );
}

#[test]
fn stamps_outside_the_unit_are_caught() {
    assert_caught(Flaw::StampsOutsideTheUnit, &["versionstamps::failed_unit_leaves_none"]);
}

#[test]
fn queue_bugs_are_caught() {
    // A stale lease acknowledged.
    assert_caught(
        Flaw::ChecksIgnored,
        &["queues::unacknowledged_messages_return_after_lease_and_backoff"],
    );
    // An acknowledgement without its unit; a message moved by two receivers whose checks
    // both passed before either wrote.
    assert_caught(
        Flaw::NonAtomicBatch,
        &[
            "queues::acknowledgement_commits_with_the_consumers_writes",
            "queues::concurrent_receivers_take_each_message_once",
        ],
    );
    // A message without its unit.
    assert_caught(
        Flaw::StampsOutsideTheUnit,
        &["queues::messages_enqueue_with_their_unit"],
    );
    // Delayed messages received early.
    assert_caught(Flaw::PrefixEndIgnored, &["queues::delayed_messages_wait"]);
}

#[test]
fn versions_not_advanced_are_caught() {
    assert_caught(
        Flaw::VersionNotAdvanced,
        &["versionstamps::advanced_versions_stamp_past_it"],
    );
}

#[test]
fn swallowed_read_error_is_caught() {
    assert_caught(Flaw::SwallowedReadError, &["errors::read_failure_mid_scan_is_an_error"]);
}

#[test]
fn skipping_cursor_is_caught() {
    assert_caught(
        Flaw::SkippingCursor,
        &[
            "list::pages_cover_all_forward",
            "list::pages_cover_all_reverse",
            "list::cursor_under_concurrent_inserts",
        ],
    );
}

#[test]
fn repeating_cursor_is_caught() {
    assert_caught(
        Flaw::RepeatingCursor,
        &[
            "list::pages_cover_all_forward",
            "list::pages_cover_all_reverse",
            "list::cursor_under_concurrent_inserts",
        ],
    );
}

#[test]
fn hidden_partial_write_is_caught() {
    assert_caught(Flaw::HiddenPartialWrite, &["atomic::fault_at_every_position"]);
}

#[test]
fn skipped_foreign_rows_are_caught() {
    assert_caught(
        Flaw::ForeignRowsSkipped,
        &[
            "stored::foreign_first_byte_is_corrupt",
            "stored::undecodable_tail_is_corrupt",
            "stored::bad_keys_are_corrupt_in_a_transaction",
        ],
    );
}

#[test]
fn hidden_corruption_is_caught() {
    assert_caught(
        Flaw::CorruptionHidden,
        &[
            "stored::foreign_first_byte_is_corrupt",
            "stored::undecodable_tail_is_corrupt",
            "stored::bad_keys_are_corrupt_in_a_transaction",
            "stored::impossible_version_is_corrupt",
        ],
    );
}

/// DESIGN §7: a suite that can only pass is a defect. Every case must fail against at least
/// one broken store, and every broken store must fail at least one case.
#[test]
fn every_case_is_seen_to_fail() {
    let mut caught_by: BTreeMap<&str, Vec<Flaw>> = BTreeMap::new();
    for &flaw in Flaw::ALL {
        let failed = run(flaw).failed_names();
        assert!(!failed.is_empty(), "{flaw:?} slipped through the whole suite");
        for name in failed {
            caught_by.entry(name).or_default().push(flaw);
        }
    }
    let never: Vec<&str> = CASES
        .iter()
        .map(|c| c.name)
        .filter(|n| !caught_by.contains_key(n))
        .collect();
    for (case, flaws) in &caught_by {
        eprintln!("{case}: failed by {flaws:?}");
    }
    assert!(never.is_empty(), "cases no broken store fails: {never:#?}");
}
