//! Multi-row statements: a run of consecutive ops of one kind folded into one statement of up
//! to [`MAX_ROWS`] rows (one guard and one upsert for inserts and counter ops).

use std::sync::LazyLock;

use enginedb::Version;
use enginedb::port::EncodedWrite;

use super::{blob, ns, value_params};
use crate::guard::CHECK;
use crate::{Param, Statement};

/// Most rows one multi-row statement holds: within D1's 100 parameters per statement (an
/// upsert binds 2 shared and 3 per row).
pub const MAX_ROWS: usize = 32;

/// The kinds of op a run of which folds into multi-row statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fold {
    Set,
    CheckVersion,
    CheckAbsent,
    Delete,
    Insert,
    Sum,
    Min,
    Max,
}

impl Fold {
    /// Whether folding a run runs all its guards before all its writes, which is the same as
    /// one by one only for distinct keys.
    fn needs_distinct_keys(self) -> bool {
        matches!(self, Fold::Insert | Fold::Sum | Fold::Min | Fold::Max)
    }
}

pub(super) fn fold_of(op: &EncodedWrite) -> Option<Fold> {
    match op {
        EncodedWrite::Set { .. } => Some(Fold::Set),
        EncodedWrite::Check { version: Some(_), .. } => Some(Fold::CheckVersion),
        EncodedWrite::Check { version: None, .. } => Some(Fold::CheckAbsent),
        EncodedWrite::Delete { .. } => Some(Fold::Delete),
        EncodedWrite::Insert { .. } => Some(Fold::Insert),
        EncodedWrite::Sum { .. } => Some(Fold::Sum),
        EncodedWrite::Min { .. } => Some(Fold::Min),
        EncodedWrite::Max { .. } => Some(Fold::Max),
        _ => None,
    }
}

/// The key an op of a foldable kind addresses.
fn key_of(op: &EncodedWrite) -> &[u8] {
    match op {
        EncodedWrite::Set { key, .. }
        | EncodedWrite::Check { key, .. }
        | EncodedWrite::Delete { key }
        | EncodedWrite::Insert { key, .. }
        | EncodedWrite::Sum { key, .. }
        | EncodedWrite::Min { key, .. }
        | EncodedWrite::Max { key, .. } => key.as_slice(),
        _ => &[],
    }
}

/// The operand of a counter op.
fn operand_of(op: &EncodedWrite) -> i64 {
    match op {
        EncodedWrite::Sum { delta: n, .. }
        | EncodedWrite::Min { operand: n, .. }
        | EncodedWrite::Max { operand: n, .. } => *n,
        _ => 0,
    }
}

/// How many ops at the start of `ops` (at most [`MAX_ROWS`]) form a run of `fold`; a run that
/// needs distinct keys stops before a key it already holds.
pub(super) fn run_length(ops: &[EncodedWrite], fold: Fold) -> usize {
    let mut keys: Vec<&[u8]> = Vec::new();
    ops.iter()
        .take(MAX_ROWS)
        .take_while(|op| {
            if fold_of(op) != Some(fold) {
                return false;
            }
            let key = key_of(op);
            let fresh = !fold.needs_distinct_keys() || !keys.contains(&key);
            keys.push(key);
            fresh
        })
        .count()
}

/// The multi-row statements of `run` (ops `first..` of the unit, all of kind `fold`).
pub(super) fn plan_rows<'a>(
    namespace: &'a str,
    fold: Fold,
    first: usize,
    run: &'a [EncodedWrite],
    version: Option<Version>,
    out: &mut Vec<Statement<'a>>,
) {
    let Some(texts) = (run.len().ilog2() as usize).checked_sub(1).and_then(|i| ROWS.get(i)) else {
        return;
    };
    let mut params = vec![ns(namespace)];
    let ops = run
        .iter()
        .enumerate()
        .map(|(i, op)| (Param::int((first + i) as u64), op));
    match fold {
        Fold::Set => out.push(upsert_rows(&texts.set, namespace, run, version, set_row)),
        Fold::CheckVersion => {
            for (at, op) in ops {
                if let EncodedWrite::Check {
                    key,
                    version: Some(version),
                } = op
                {
                    params.extend([at, blob(key.as_slice()), Param::int(version.0)]);
                }
            }
            out.push(Statement::new(&texts.check_version, params));
        }
        Fold::CheckAbsent | Fold::Insert => {
            for (at, op) in ops {
                params.extend([at, blob(key_of(op))]);
            }
            out.push(Statement::new(&texts.check_absent, params));
            if fold == Fold::Insert {
                out.push(upsert_rows(&texts.set, namespace, run, version, set_row));
            }
        }
        Fold::Delete => {
            params.extend(run.iter().map(|op| blob(key_of(op))));
            out.push(Statement::new(&texts.delete, params));
        }
        Fold::Sum => {
            for (at, op) in ops {
                params.extend([at, blob(key_of(op)), Param::int(operand_of(op))]);
            }
            out.push(Statement::new(&texts.sum_guard, params));
            out.push(upsert_rows(&texts.sum, namespace, run, version, counter_row));
        }
        Fold::Min | Fold::Max => {
            for (at, op) in ops {
                params.extend([at, blob(key_of(op))]);
            }
            out.push(Statement::new(&texts.counter_guard, params));
            let sql = if fold == Fold::Min { &texts.min } else { &texts.max };
            out.push(upsert_rows(sql, namespace, run, version, counter_row));
        }
    }
}

/// The multi-row upsert `sql` of `run`: `?1` ns, `?2` version or NULL, then each op's `row`.
fn upsert_rows<'a, const N: usize>(
    sql: &'static str,
    namespace: &'a str,
    run: &'a [EncodedWrite],
    version: Option<Version>,
    row: impl Fn(&'a EncodedWrite) -> [Param<'a>; N],
) -> Statement<'a> {
    let mut params = Vec::with_capacity(2 + N * run.len());
    params.push(ns(namespace));
    params.push(version.map_or(Param::Null, |v| Param::int(v.0)));
    params.extend(run.iter().flat_map(row));
    Statement::new(sql, params)
}

/// An upsert row of a set or an insert: key, bytes, counter.
fn set_row(op: &EncodedWrite) -> [Param<'_>; 3] {
    match op {
        EncodedWrite::Set { key, value } | EncodedWrite::Insert { key, value } => {
            let [v, n] = value_params(value);
            [blob(key.as_slice()), v, n]
        }
        _ => [blob(key_of(op)), Param::Null, Param::Null],
    }
}

/// An upsert row of a counter op: key, operand.
fn counter_row(op: &EncodedWrite) -> [Param<'_>; 2] {
    [blob(key_of(op)), Param::int(operand_of(op))]
}

/// The multi-row statements of one size.
struct RowTexts {
    /// Upsert: `?1` ns, `?2` version or NULL, then key, bytes, counter per row.
    set: String,
    /// Guard, the first row whose key is not at its version: `?1` ns, then op, key, version.
    check_version: String,
    /// Guard, the first row whose key exists: `?1` ns, then op, key per row.
    check_absent: String,
    /// Delete: `?1` ns, then one key per row.
    delete: String,
    /// Guard, the first row whose key holds bytes or would overflow: `?1` ns, then op, key,
    /// delta per row.
    sum_guard: String,
    /// Guard, the first row whose key holds bytes: `?1` ns, then op, key per row.
    counter_guard: String,
    /// Counter upserts: `?1` ns, `?2` version or NULL, then key, operand per row.
    sum: String,
    /// As `sum`, keeping the smaller.
    min: String,
    /// As `sum`, keeping the larger.
    max: String,
}

/// The multi-row statements of 2, 4, … [`MAX_ROWS`] rows (index `log2(rows) - 1`): a few texts
/// per kind, so every run is planned with statements a driver caches. A guard inserts only its
/// first failing row (by op index), which raises.
static ROWS: LazyLock<Vec<RowTexts>> = LazyLock::new(|| {
    let values = |rows: usize, per_row: usize, first: usize, row: &dyn Fn(usize) -> String| {
        (0..rows)
            .map(|r| row(first + per_row * r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (1..=MAX_ROWS.ilog2())
        .map(|power| {
            let rows = 1usize << power;
            let set = values(rows, 3, 3, &|p| {
                format!(
                    "(?1, ?{p}, ?{}, CAST(?{} AS INTEGER), {})",
                    p + 1,
                    p + 2,
                    version_param!("?2")
                )
            });
            let check_version = values(rows, 3, 2, &|p| {
                format!("(CAST(?{p} AS INTEGER), ?{}, CAST(?{} AS INTEGER))", p + 1, p + 2)
            });
            let check_absent = values(rows, 2, 2, &|p| format!("(CAST(?{p} AS INTEGER), ?{})", p + 1));
            let keys = values(rows, 1, 2, &|p| format!("?{p}"));
            let counters = values(rows, 2, 3, &|p| {
                format!("(?1, ?{p}, NULL, CAST(?{} AS INTEGER), {})", p + 1, version_param!("?2"))
            });
            let counter = |set: &str| {
                format!(
                    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES {counters} \
                     ON CONFLICT (ns, k) DO UPDATE SET n = {set}, ver = excluded.ver"
                )
            };
            RowTexts {
                set: format!(
                    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES {set} \
                     ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = excluded.ver"
                ),
                check_version: format!(
                    "INSERT INTO enginedb_guard (op, reason) SELECT column1, '{CHECK}' FROM (VALUES {check_version}) \
                     WHERE NOT EXISTS (SELECT 1 FROM enginedb_kv WHERE ns = ?1 AND k = column2 AND ver = column3) \
                     ORDER BY column1 LIMIT 1"
                ),
                check_absent: format!(
                    "INSERT INTO enginedb_guard (op, reason) SELECT column1, '{CHECK}' FROM (VALUES {check_absent}) \
                     WHERE EXISTS (SELECT 1 FROM enginedb_kv WHERE ns = ?1 AND k = column2) ORDER BY column1 LIMIT 1"
                ),
                delete: format!("DELETE FROM enginedb_kv WHERE ns = ?1 AND k IN ({keys})"),
                // Written without any operation that could overflow, as `SUM_GUARD`; the
                // correlated sub-select keeps the rows in `VALUES` order.
                sum_guard: format!(
                    "INSERT INTO enginedb_guard (op, reason) SELECT op, reason FROM (SELECT column1 AS op, \
                     (SELECT CASE WHEN n IS NULL THEN 'not-a-counter' ELSE 'overflow' END FROM enginedb_kv \
                     WHERE ns = ?1 AND k = column2 AND (n IS NULL OR CASE \
                     WHEN column3 > 0 THEN n > 9223372036854775807 - column3 \
                     WHEN column3 < 0 THEN n < (-9223372036854775807 - 1) - column3 ELSE 0 END)) AS reason \
                     FROM (VALUES {check_version})) WHERE reason IS NOT NULL ORDER BY op LIMIT 1"
                ),
                counter_guard: format!(
                    "INSERT INTO enginedb_guard (op, reason) SELECT column1, 'not-a-counter' FROM (VALUES {check_absent}) \
                     WHERE EXISTS (SELECT 1 FROM enginedb_kv WHERE ns = ?1 AND k = column2 AND n IS NULL) \
                     ORDER BY column1 LIMIT 1"
                ),
                sum: counter("enginedb_kv.n + excluded.n"),
                min: counter("min(enginedb_kv.n, excluded.n)"),
                max: counter("max(enginedb_kv.n, excluded.n)"),
            }
        })
        .collect()
});
