//! The SQLite dialect (rusqlite and D1): the statements of every write op and read.
//!
//! A unit runs as: [`BUMP_VERSION`] (its result is the unit's version), then the statements of
//! [`plan_unit`] in order. Every write stamps rows with the version drawn: bound as a parameter
//! where the caller has read it (rusqlite), else read back inside the same batch (D1), so one
//! unit has one version and versions follow commit order (SQLite has one writer at a time).

use std::borrow::Cow;

use enginedb::port::{EncodedWrite, ListPlan, int_part};
use enginedb::{ByteRange, Value, Version};

use crate::guard::CHECK;
use crate::{Param, Statement};

/// Draws the next version; returns it as text. The first statement of every unit.
pub const BUMP_VERSION: &str =
    "UPDATE enginedb_meta SET value = value + 1 WHERE name = 'last_version' RETURNING CAST(value AS TEXT) AS v";

/// The last version drawn, as text (a read-only transaction's commit reports it).
pub const LAST_VERSION: &str = "SELECT CAST(value AS TEXT) AS v FROM enginedb_meta WHERE name = 'last_version'";

/// Makes the counter at least `?1` (an integer), so later units draw versions above it.
pub const ADVANCE_VERSION: &str =
    "UPDATE enginedb_meta SET value = max(value, CAST(?1 AS INTEGER)) WHERE name = 'last_version'";

/// The version being written: parameter `$p` if bound, else the one [`BUMP_VERSION`] drew in
/// this transaction (SQLite's `coalesce` reads the table only when the parameter is NULL).
macro_rules! version_param {
    ($p:literal) => {
        concat!(
            "coalesce(CAST(",
            $p,
            " AS INTEGER), (SELECT value FROM enginedb_meta WHERE name = 'last_version'))"
        )
    };
}

mod rows;

pub use rows::MAX_ROWS;
use rows::{fold_of, plan_rows, run_length};

/// Guard: the key is not at the version (`?1` op, `?2` ns, `?3` key, `?4` version).
pub const CHECK_VERSION: &str = "INSERT INTO enginedb_guard (op, reason) SELECT CAST(?1 AS INTEGER), 'check' \
     WHERE NOT EXISTS (SELECT 1 FROM enginedb_kv WHERE ns = ?2 AND k = ?3 AND ver = CAST(?4 AS INTEGER))";

/// Guard: the key exists (`?1` op, `?2` ns, `?3` key, `?4` reason).
pub const CHECK_ABSENT: &str = "INSERT INTO enginedb_guard (op, reason) SELECT CAST(?1 AS INTEGER), ?4 \
     WHERE EXISTS (SELECT 1 FROM enginedb_kv WHERE ns = ?2 AND k = ?3)";

/// A span's statements come in two texts: bounded above (`k < ?`) and unbounded above (no
/// upper bound: the whole key space from the start on, see `enginedb::ByteRange`), so a
/// bounded span keeps a plan that stops at its end.
macro_rules! check_range {
    ($end:literal, $count:literal, $max:literal) => {
        concat!(
            "INSERT INTO enginedb_guard (op, reason) SELECT CAST(?1 AS INTEGER), 'check' ",
            "WHERE NOT EXISTS (SELECT 1 FROM (SELECT count(*) AS c, max(ver) AS m FROM enginedb_kv ",
            "WHERE ns = ?2 AND k >= ?3",
            $end,
            ") WHERE c = CAST(",
            $count,
            " AS INTEGER) AND m IS CAST(",
            $max,
            " AS INTEGER))"
        )
    };
}

/// Guard: the span's count or largest version differ (`?1` op, `?2` ns, `?3`..`?4` span,
/// `?5` count, `?6` max version or NULL).
pub const CHECK_RANGE: &str = check_range!(" AND k < ?4", "?5", "?6");

/// [`CHECK_RANGE`] of a span unbounded above (`?1` op, `?2` ns, `?3` start, `?4` count, `?5`
/// max version or NULL).
pub const CHECK_RANGE_FROM: &str = check_range!("", "?4", "?5");

/// Upsert (`?1` ns, `?2` key, `?3` bytes or NULL, `?4` counter or NULL, `?5` version or NULL).
pub const SET: &str = concat!(
    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (?1, ?2, ?3, CAST(?4 AS INTEGER), ",
    version_param!("?5"),
    ") ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = excluded.ver"
);

/// Upsert at a versionstamped key (`?1` ns, `?2` prefix, `?3` the encoded `Int(n)`, `?4` bytes
/// or NULL, `?5` counter or NULL, `?6` version or NULL): the key is the prefix, the version
/// encoded as an `Int` part (tag `0x03`, 8 big-endian bytes, sign bit set: versions are
/// positive), then `n`'s part. The version may be drawn in this very batch (D1), so the key is
/// made here (`||` makes text of its blobs, byte for byte; the cast makes it a blob again).
pub const SET_VERSIONSTAMPED: &str = concat!(
    "INSERT INTO enginedb_kv (ns, k, v, n, ver) SELECT ?1, ",
    "CAST(?2 || unhex(printf('03%02x%014x', 128 + (ver >> 56), ver & 72057594037927935)) || ?3 AS BLOB), ",
    "?4, CAST(?5 AS INTEGER), ver FROM (SELECT ",
    version_param!("?6"),
    " AS ver) WHERE true ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = excluded.ver"
);

/// Delete one key (`?1` ns, `?2` key).
pub const DELETE: &str = "DELETE FROM enginedb_kv WHERE ns = ?1 AND k = ?2";

/// Delete a span (`?1` ns, `?2`..`?3` span).
pub const DELETE_RANGE: &str = "DELETE FROM enginedb_kv WHERE ns = ?1 AND k >= ?2 AND k < ?3";

/// Delete a span unbounded above (`?1` ns, `?2` start).
pub const DELETE_RANGE_FROM: &str = "DELETE FROM enginedb_kv WHERE ns = ?1 AND k >= ?2";

/// Guard: the key holds bytes, or adding the delta would leave the i64 range (`?1` op, `?2` ns,
/// `?3` key, `?4` delta). Written without any operation that could overflow: SQLite would turn
/// it into a float silently.
pub const SUM_GUARD: &str = concat!(
    "INSERT INTO enginedb_guard (op, reason) SELECT CAST(?1 AS INTEGER), ",
    "CASE WHEN n IS NULL THEN 'not-a-counter' ELSE 'overflow' END ",
    "FROM enginedb_kv WHERE ns = ?2 AND k = ?3 AND (n IS NULL OR CASE ",
    "WHEN CAST(?4 AS INTEGER) > 0 THEN n > 9223372036854775807 - CAST(?4 AS INTEGER) ",
    "WHEN CAST(?4 AS INTEGER) < 0 THEN n < (-9223372036854775807 - 1) - CAST(?4 AS INTEGER) ",
    "ELSE 0 END)"
);

/// Add to a counter, absent = 0 (`?1` ns, `?2` key, `?3` delta, `?4` version or NULL). Runs
/// after [`SUM_GUARD`].
pub const SUM: &str = concat!(
    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (?1, ?2, NULL, CAST(?3 AS INTEGER), ",
    version_param!("?4"),
    ") ON CONFLICT (ns, k) DO UPDATE SET n = n + excluded.n, ver = excluded.ver"
);

/// Guard: the key holds bytes, not a counter (`?1` op, `?2` ns, `?3` key). Runs before
/// [`MIN`] and [`MAX`].
pub const COUNTER_GUARD: &str = "INSERT INTO enginedb_guard (op, reason) SELECT CAST(?1 AS INTEGER), 'not-a-counter' \
     FROM enginedb_kv WHERE ns = ?2 AND k = ?3 AND n IS NULL";

/// Keep the smaller of a counter and the operand, absent = the operand (`?1` ns, `?2` key,
/// `?3` operand, `?4` version or NULL). Runs after [`COUNTER_GUARD`].
pub const MIN: &str = concat!(
    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (?1, ?2, NULL, CAST(?3 AS INTEGER), ",
    version_param!("?4"),
    ") ON CONFLICT (ns, k) DO UPDATE SET n = min(n, excluded.n), ver = excluded.ver"
);

/// Keep the larger of a counter and the operand, absent = the operand (`?1` ns, `?2` key,
/// `?3` operand, `?4` version or NULL). Runs after [`COUNTER_GUARD`].
pub const MAX: &str = concat!(
    "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (?1, ?2, NULL, CAST(?3 AS INTEGER), ",
    version_param!("?4"),
    ") ON CONFLICT (ns, k) DO UPDATE SET n = max(n, excluded.n), ver = excluded.ver"
);

/// One entry (`?1` ns, `?2` key) as `(v, n, ver)`.
pub const GET: &str =
    "SELECT v, CAST(n AS TEXT) AS n, CAST(ver AS TEXT) AS ver FROM enginedb_kv WHERE ns = ?1 AND k = ?2";

macro_rules! list {
    ($end:literal, $order:literal, $limit:literal) => {
        concat!(
            "SELECT k, v, CAST(n AS TEXT) AS n, CAST(ver AS TEXT) AS ver FROM enginedb_kv ",
            "WHERE ns = ?1 AND k >= ?2",
            $end,
            " ORDER BY k ",
            $order,
            " LIMIT CAST(",
            $limit,
            " AS INTEGER)"
        )
    };
}

/// A span ascending (`?1` ns, `?2`..`?3` span, `?4` limit) as `(k, v, n, ver)`.
pub const LIST_ASC: &str = list!(" AND k < ?3", "ASC", "?4");

/// A span descending (`?1` ns, `?2`..`?3` span, `?4` limit) as `(k, v, n, ver)`.
pub const LIST_DESC: &str = list!(" AND k < ?3", "DESC", "?4");

/// A span unbounded above, ascending (`?1` ns, `?2` start, `?3` limit) as `(k, v, n, ver)`.
pub const LIST_ASC_FROM: &str = list!("", "ASC", "?3");

/// A span unbounded above, descending (`?1` ns, `?2` start, `?3` limit) as `(k, v, n, ver)`.
pub const LIST_DESC_FROM: &str = list!("", "DESC", "?3");

fn ns(namespace: &str) -> Param<'_> {
    Param::Text(Cow::Borrowed(namespace))
}

fn blob<'a>(bytes: impl Into<Cow<'a, [u8]>>) -> Param<'a> {
    Param::Blob(bytes.into())
}

/// The bounds of `range`: its start, and its end unless it is unbounded above (the statement
/// is then the `_FROM` text, which has no upper bound).
fn span(range: &ByteRange) -> impl Iterator<Item = Param<'_>> {
    std::iter::once(blob(range.start.as_slice())).chain(range.end.as_deref().map(blob))
}

fn value_params(value: &Value) -> [Param<'_>; 2] {
    match value {
        Value::Bytes(b) => [blob(b.as_slice()), Param::Null],
        Value::I64(n) => [Param::Null, Param::int(*n)],
    }
}

/// Appends to `out` the statements of op `index` of a unit in `namespace`, writing `version`
/// (`None`: the one [`BUMP_VERSION`] drew, read back by each write); `stamped` versionstamped
/// writes came before it in the unit.
fn plan_op<'a>(
    namespace: &'a str,
    (index, stamped): (usize, u32),
    op: &'a EncodedWrite,
    version: Option<Version>,
    out: &mut Vec<Statement<'a>>,
) {
    let at = Param::int(index as u64);
    let ver = || version.map_or(Param::Null, |v| Param::int(v.0));
    let check = || Param::Text(Cow::Borrowed(CHECK));
    let statement = match op {
        EncodedWrite::Check {
            key,
            version: Some(version),
        } => Statement::new(
            CHECK_VERSION,
            vec![at, ns(namespace), blob(key.as_slice()), Param::int(version.0)],
        ),
        EncodedWrite::Check { key, version: None } => {
            Statement::new(CHECK_ABSENT, vec![at, ns(namespace), blob(key.as_slice()), check()])
        }
        EncodedWrite::CheckRange {
            range,
            count,
            max_version,
        } => {
            let sql = if range.end.is_some() {
                CHECK_RANGE
            } else {
                CHECK_RANGE_FROM
            };
            let mut params = vec![at, ns(namespace)];
            params.extend(span(range));
            params.extend([Param::int(*count), max_version.map_or(Param::Null, |v| Param::int(v.0))]);
            Statement::new(sql, params)
        }
        EncodedWrite::Set { key, value } => {
            let [v, n] = value_params(value);
            Statement::new(SET, vec![ns(namespace), blob(key.as_slice()), v, n, ver()])
        }
        EncodedWrite::SetVersionstamped { prefix, value } => {
            let [v, n] = value_params(value);
            let index_part = blob(int_part(stamped.into()).to_vec());
            Statement::new(
                SET_VERSIONSTAMPED,
                vec![ns(namespace), blob(prefix.as_slice()), index_part, v, n, ver()],
            )
        }
        EncodedWrite::Insert { key, value } => {
            out.push(Statement::new(
                CHECK_ABSENT,
                vec![at, ns(namespace), blob(key.as_slice()), check()],
            ));
            let [v, n] = value_params(value);
            Statement::new(SET, vec![ns(namespace), blob(key.as_slice()), v, n, ver()])
        }
        EncodedWrite::Delete { key } => Statement::new(DELETE, vec![ns(namespace), blob(key.as_slice())]),
        EncodedWrite::DeleteRange { range } if range.is_empty() => return,
        EncodedWrite::DeleteRange { range } => {
            let sql = if range.end.is_some() {
                DELETE_RANGE
            } else {
                DELETE_RANGE_FROM
            };
            Statement::new(sql, std::iter::once(ns(namespace)).chain(span(range)).collect())
        }
        EncodedWrite::Sum { key, delta } => {
            out.push(Statement::new(
                SUM_GUARD,
                vec![at, ns(namespace), blob(key.as_slice()), Param::int(*delta)],
            ));
            Statement::new(
                SUM,
                vec![ns(namespace), blob(key.as_slice()), Param::int(*delta), ver()],
            )
        }
        EncodedWrite::Min { key, operand } | EncodedWrite::Max { key, operand } => {
            out.push(Statement::new(
                COUNTER_GUARD,
                vec![at, ns(namespace), blob(key.as_slice())],
            ));
            let sql = if matches!(op, EncodedWrite::Min { .. }) {
                MIN
            } else {
                MAX
            };
            Statement::new(
                sql,
                vec![ns(namespace), blob(key.as_slice()), Param::int(*operand), ver()],
            )
        }
    };
    out.push(statement);
}

/// The statements of a whole unit, after [`BUMP_VERSION`] drew `version` (`None`: read it back).
/// Runs of consecutive ops of one kind are folded into multi-row statements of up to
/// [`MAX_ROWS`] rows: sets (upserts: a key written twice keeps the later value, as SQLite
/// upserts a statement's rows in order), version checks, absence checks, deletes, and inserts,
/// sums, mins and maxes of distinct keys (one guard and one upsert per run). A multi-row guard
/// fails at its first failing row, so error indexes are those of the ops one by one; they
/// refer to `ops`. Only spans (`DeleteRange`, `CheckRange`) take a statement each, and D1
/// counts statements against a Worker's per-invocation limit: see [`batch_statements`].
pub fn plan_unit<'a>(namespace: &'a str, ops: &'a [EncodedWrite], version: Option<Version>) -> Vec<Statement<'a>> {
    let mut out = Vec::with_capacity(ops.len() / 2 + 4);
    let (mut rest, mut index, mut stamped) = (ops, 0, 0);
    while let Some(op) = rest.first() {
        let folded = fold_of(op).and_then(|fold| {
            let run = run_length(rest, fold);
            // The largest multi-row statement the run fills, if any.
            let rows = (1..=MAX_ROWS.ilog2())
                .rev()
                .map(|p| 1usize << p)
                .find(|&rows| rows <= run)?;
            Some((fold, rest.get(..rows)?))
        });
        let planned = match folded {
            Some((fold, run)) => {
                plan_rows(namespace, fold, index, run, version, &mut out);
                run.len()
            }
            None => {
                plan_op(namespace, (index, stamped), op, version, &mut out);
                if let EncodedWrite::SetVersionstamped { .. } = op {
                    stamped = stamped.saturating_add(1);
                }
                1
            }
        };
        rest = rest.get(planned..).unwrap_or_default();
        index += planned;
    }
    out
}

/// How many statements D1 runs for a unit of `ops` (its batch: [`BUMP_VERSION`], then
/// [`plan_unit`]'s): what the unit costs against a Worker's per-invocation query limit.
pub fn batch_statements(ops: &[EncodedWrite]) -> usize {
    1 + plan_unit("", ops, None).len()
}

/// The read of one encoded key.
pub fn get(namespace: &str, key: Vec<u8>) -> Statement<'_> {
    Statement::new(GET, vec![ns(namespace), blob(key)])
}

/// The read of one page of a list.
pub fn list<'a>(namespace: &'a str, plan: &'a ListPlan) -> Statement<'a> {
    let sql = match (plan.reverse, plan.range.end.is_some()) {
        (false, true) => LIST_ASC,
        (true, true) => LIST_DESC,
        (false, false) => LIST_ASC_FROM,
        (true, false) => LIST_DESC_FROM,
    };
    let mut params = Vec::with_capacity(4);
    params.push(ns(namespace));
    params.extend(span(&plan.range));
    params.push(Param::int(plan.fetch() as u64));
    Statement::new(sql, params)
}

#[cfg(test)]
mod tests {
    use enginedb::port::ListOptions;
    use enginedb::{Key, Selector, Write, key};

    use super::*;

    /// The highest `?N` of `sql`.
    fn last_placeholder(sql: &str) -> usize {
        sql.split('?')
            .skip(1)
            .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn runs_of_sets_become_multi_row_upserts_in_order() {
        let mut ops: Vec<Write> = (0..99).map(|i| Write::set(key!["k", i], i)).collect();
        ops.insert(50, Write::delete(key!["d"]));
        let encoded = EncodedWrite::unit(&ops).unwrap();
        let plan = plan_unit("ns", &encoded, Some(Version(9)));
        let shapes: Vec<String> = plan
            .iter()
            .map(|s| match s.sql {
                SET => "set".to_string(),
                DELETE => "delete".to_string(),
                _ => format!("{} rows", (s.params.len() - 2) / 3),
            })
            .collect();
        assert_eq!(
            shapes,
            ["32 rows", "16 rows", "2 rows", "delete", "32 rows", "16 rows", "set"]
        );
        let mut keys = Vec::new();
        for statement in &plan {
            assert_eq!(
                statement.params.len(),
                last_placeholder(statement.sql),
                "{}",
                statement.sql
            );
            assert!(statement.params.len() <= 100, "D1 binds at most 100 parameters");
            match statement.sql {
                SET | DELETE => keys.push(statement.params[1].clone()),
                _ => {
                    assert_eq!(statement.params[..2], [ns("ns"), Param::int(9u64)]);
                    keys.extend(statement.params[2..].iter().step_by(3).cloned());
                }
            }
        }
        let expected: Vec<Param<'_>> = encoded
            .iter()
            .map(|op| match op {
                EncodedWrite::Set { key, .. } | EncodedWrite::Delete { key } => blob(key.as_slice()),
                _ => unreachable!("only sets and a delete"),
            })
            .collect();
        assert_eq!(keys, expected, "every key once, in the unit's order");
    }

    #[test]
    fn a_span_unbounded_above_has_no_upper_bound() {
        let whole = Selector::prefix(Key::default());
        let prefix = Selector::prefix(key!["p"]);
        let check_range = |selector: &Selector| Write::CheckRange {
            range: selector.byte_range().unwrap(),
            count: 0,
            max_version: None,
        };
        let ops = [
            Write::delete_range(whole.clone()),
            Write::delete_range(prefix.clone()),
            check_range(&whole),
            check_range(&prefix),
        ];
        let encoded = EncodedWrite::unit(&ops).unwrap();
        let plans = [
            ListPlan::new(&whole, &ListOptions::default()).unwrap(),
            ListPlan::new(&whole, &ListOptions::default().reversed()).unwrap(),
            ListPlan::new(&prefix, &ListOptions::default().reversed()).unwrap(),
        ];
        let mut statements = plan_unit("", &encoded, None);
        statements.extend(plans.iter().map(|plan| list("", plan)));
        let sqls: Vec<&str> = statements.iter().map(|s| s.sql).collect();
        assert_eq!(
            sqls,
            [
                DELETE_RANGE_FROM,
                DELETE_RANGE,
                CHECK_RANGE_FROM,
                CHECK_RANGE,
                LIST_ASC_FROM,
                LIST_DESC_FROM,
                LIST_DESC
            ]
        );
        for statement in &statements {
            assert_eq!(
                statement.params.len(),
                last_placeholder(statement.sql),
                "{}",
                statement.sql
            );
            let unbounded =
                [DELETE_RANGE_FROM, CHECK_RANGE_FROM, LIST_ASC_FROM, LIST_DESC_FROM].contains(&statement.sql);
            assert_eq!(!statement.sql.contains("k < "), unbounded, "{}", statement.sql);
            assert_eq!(
                statement.params.contains(&blob(&[][..])),
                unbounded,
                "the whole space starts at b\"\""
            );
        }
    }

    /// Folded guards report the op of their first failing row; a run of inserts stops before a
    /// key it already holds (folded, both absence checks would run before either upsert).
    #[test]
    fn folded_runs_keep_op_indexes_and_insert_keys_distinct() {
        let ops = [
            Write::set(key!["a"], 1),
            Write::check(key!["b"], None),
            Write::check(key!["c"], None),
            Write::insert(key!["d"], 1),
            Write::insert(key!["e"], 1),
            Write::insert(key!["d"], 2),
        ];
        let encoded = EncodedWrite::unit(&ops).unwrap();
        let plan = plan_unit("ns", &encoded, None);
        let rows: Vec<(&str, usize)> = plan
            .iter()
            .map(|s| (s.sql.split_whitespace().next().unwrap_or_default(), s.params.len()))
            .collect();
        assert_eq!(
            rows,
            [
                ("INSERT", 5), // the single set
                ("INSERT", 5), // absence checks of ops 1 and 2
                ("INSERT", 5), // absence checks of the inserts 3 and 4
                ("INSERT", 8), // their two-row upsert
                ("INSERT", 4), // insert 5 alone: its check …
                ("INSERT", 5), // … and its upsert
            ]
        );
        assert_eq!(
            plan[1].params[1..],
            [
                Param::int(1u64),
                blob(&b"\x01\x02b\x00"[..]),
                Param::int(2u64),
                blob(&b"\x01\x02c\x00"[..])
            ][..]
        );
        for statement in &plan {
            assert_eq!(
                statement.params.len(),
                last_placeholder(statement.sql),
                "{}",
                statement.sql
            );
        }
    }

    #[test]
    fn a_run_of_one_set_keeps_the_single_upsert() {
        let ops = [
            Write::set(key!["a"], 1),
            Write::delete(key!["b"]),
            Write::set(key!["c"], 2),
        ];
        let encoded = EncodedWrite::unit(&ops).unwrap();
        let sqls: Vec<&str> = plan_unit("", &encoded, None).iter().map(|s| s.sql).collect();
        assert_eq!(sqls, [SET, DELETE, SET]);
    }
}
