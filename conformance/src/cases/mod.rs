//! The cases, one module per category of DESIGN §7. Every case is a plain
//! `pub async fn(&Ctx) -> CaseResult` that touches only keys under `cx.root()`.

pub mod atomic;
pub mod checks;
pub mod codec;
pub mod concurrency;
pub mod counters;
pub mod crud;
pub mod errors;
pub mod feeds;
pub mod limits;
pub mod list;
pub mod namespaces;
pub mod persistence;
pub mod queues;
pub mod stored;
pub mod transact;
pub mod tx;
pub mod versions;
pub mod versionstamps;

use enginedb::{Key, Value, Write};

use crate::{CaseResult, Ctx};

/// The one list of cases, each with what it needs (`case(Need, …)`, see [`crate::Need`]):
/// `__with_cases!(@list callback)` expands to `callback! { category: [case, ...], ... }`, and
/// `__with_cases!(@list callback, extra)` to `callback! { extra; category: [case, ...], ... }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    (@list $callback:path $(, $extra:tt)?) => {
        $callback! { $($extra;)?
            codec: [
                order_across_types, order_within_types, prefix_sorts_before_extensions,
                prefix_is_a_tuple_prefix, all_part_types_roundtrip, generated_keys_list_sorted,
            ],
            crud: [
                get_missing, set_then_get, set_overwrites, delete_removes, delete_absent_is_ok,
                insert_absent_writes, insert_existing_fails, get_many_in_argument_order,
                bytes_values_roundtrip, counter_and_bytes_are_distinct, write_returns_entry_version,
            ],
            versions: [
                increase_across_commits, one_unit_one_version, recreated_key_gets_larger_version,
                failed_unit_keeps_versions, commit_version_is_read_back,
            ],
            versionstamps: [
                keys_list_in_commit_order, failed_unit_leaves_none,
                transaction_stamps_at_commit(AtomicUnits), transaction_errors_count_stamped_writes(AtomicUnits),
                tail_never_finds_an_earlier_key, advanced_versions_stamp_past_it,
            ],
            feeds: [
                events_commit_with_their_unit, reads_resume_after_a_cursor,
                consumers_apply_each_event_once(AtomicUnits), trim_removes_through_a_cursor,
                sequential_emit_can_be_orphaned, library_keys_are_reserved,
            ],
            queues: [
                messages_enqueue_with_their_unit, ready_messages_come_in_enqueue_order,
                delayed_messages_wait, unacknowledged_messages_return_after_lease_and_backoff,
                acknowledgement_commits_with_the_consumers_writes(AtomicUnits),
                spent_messages_become_dead_letters, released_messages_come_back,
                concurrent_receivers_take_each_message_once(AtomicUnits),
                drain_acknowledges_what_its_handler_handled,
            ],
            list: [
                prefix_excludes_prefix_key, range_bounds, prefix_from, prefix_bounded_by_start_and_end,
                reverse_order,
                pages_cover_all_forward, pages_cover_all_reverse, cursor_under_concurrent_inserts,
                cursor_survives_deleted_last_key, exact_page_has_no_cursor, empty_selection,
                bad_list_requests, cursor_text_roundtrip, entries_match_get,
            ],
            checks: [
                matching_version_passes, stale_version_fails, absent_check, failure_reports_index,
                failure_names_the_key, cas_increment, check_range_fingerprint,
            ],
            counters: [
                sum_absent_starts_at_zero, negative_delta, reaches_max_then_overflow_fails,
                reaches_min_then_underflow_fails, sum_on_bytes_fails, exact_beyond_two_pow_53,
                repeated_sums_in_one_unit, min_and_max_keep_the_extreme,
            ],
            atomic: [
                failed_check_at_end_writes_nothing, failed_insert_at_end_writes_nothing,
                failed_sum_at_end_writes_nothing, fault_at_every_position, reports_mode,
                require_refuses_sequential, ops_apply_in_order, repeated_sets_last_wins, delete_range_then_set_in_unit,
                empty_unit_commits,
            ],
            limits: [
                key_length_edge, value_size_edge, ops_per_unit_edge, unit_bytes_edge,
                empty_key_rejected, bad_op_in_unit_writes_nothing, get_many_edge,
                bad_delete_range_rejected,
            ],
            errors: [
                adapter_errors_have_kinds, errors_say_what_was_written, read_failure_mid_scan_is_an_error,
                read_errors_do_not_talk_about_writing,
            ],
            transact: [
                read_modify_write(AtomicUnits), sees_own_writes(AtomicUnits),
                body_error_writes_nothing(AtomicUnits), concurrent_increments_exact(AtomicUnits),
                write_skew_prevented(AtomicUnits), conflict_retries(OptimisticTransact),
                phantom_detected(OptimisticTransact), span_is_what_was_read(OptimisticTransact),
                gives_up_with_conflict(OptimisticTransact), commit_mode,
            ],
            tx: [
                plain_write_never_joins(Transactions), dropped_rolls_back_and_frees(Transactions),
                reads_own_writes_pending(Transactions), commit_stamps_one_version(Transactions),
                explicit_rollback(Transactions),
            ],
            concurrency: [
                concurrent_sums_exact, concurrent_cas_no_lost_update(AtomicUnits),
                concurrent_inserts_one_wins, units_never_interleave(AtomicUnits),
            ],
            persistence: [reopen_keeps_data(Reopen), reopen_versions_keep_increasing(Reopen)],
            namespaces: [isolated(Namespaces)],
            stored: [
                foreign_first_byte_is_corrupt(Tamper), undecodable_tail_is_corrupt(Tamper),
                bad_keys_are_corrupt_in_a_transaction(Tamper, AtomicUnits), impossible_version_is_corrupt(Tamper),
            ],
        }
    };
}

/// A small deterministic generator (xorshift64*), so generated cases are the same everywhere.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// One of `first` and `rest`, uniformly.
    pub(crate) fn pick<T: Copy>(&mut self, first: T, rest: &[T]) -> T {
        let i = self.below(rest.len() as u64 + 1) as usize;
        i.checked_sub(1).and_then(|j| rest.get(j).copied()).unwrap_or(first)
    }
}

/// Writes an empty value at each key, in units of at most 500 ops.
pub(crate) async fn write_keys(cx: &Ctx<'_>, keys: &[Key]) -> CaseResult {
    for chunk in keys.chunks(500) {
        let ops: Vec<Write> = chunk
            .iter()
            .map(|k| Write::set(k.clone(), Value::Bytes(vec![])))
            .collect();
        cx.unit(&ops).await?;
    }
    Ok(())
}

/// The keys under the case's root, in listed order.
pub(crate) async fn listed_keys(cx: &Ctx<'_>) -> Result<Vec<Key>, crate::CaseError> {
    Ok(cx.contents().await?.into_iter().map(|(k, _)| k).collect())
}

/// `value` as bytes.
pub(crate) fn bytes(value: &str) -> Value {
    Value::Bytes(value.as_bytes().to_vec())
}
