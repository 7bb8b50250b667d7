//! The PostgreSQL dialect: schema, the server-side functions a unit runs through, and the
//! arrays that carry a unit to them.
//!
//! Entries of every namespace live in `enginedb_entries`, keyed by one `bytea`: the namespace,
//! `0x00`, the encoded key ([`enginedb_kit::table_key`]), so each namespace is one span of the
//! primary key and every lookup compares one byte string.
//!
//! A unit of any size is **one statement**: the adapter binds the unit as parallel arrays
//! ([`UnitArrays`]) and calls [`UNIT`] (a unit of plain sets runs as [`SETS`], one upsert that
//! does the same without the function call). On the server, `enginedb_unit` takes a
//! transaction-scoped advisory lock, draws the version from a sequence, and `enginedb_apply`
//! walks the ops in order (so their semantics are exactly the reference ones), writing rows with
//! that version and raising `enginedb-guard:<reason>:<index>` for a failed precondition. The lock
//! is held to COMMIT, so versions follow commit order; each row is written once.
//!
//! An interactive transaction cannot hold that lock while its caller thinks: it calls [`APPLY`]
//! per `apply`, writing rows with the placeholder version 0, and [`STAMP`] just before `COMMIT`,
//! which takes the lock, draws the version and stamps the rows. A unit holding the lock
//! therefore never waits long for a row such a transaction holds (it would wait for a
//! transaction that waits for it): after a few milliseconds it fails with `lock_not_available`
//! (55P03), having written nothing, and the adapter re-runs it.
//!
//! Rows carrying version 0 are never visible outside their own transaction.
//!
//! Units that queue in one process while a commit is in flight share the next one: [`UNITS`]
//! runs them in order in one statement (one transaction, one lock, one WAL flush), each unit in
//! a subtransaction of its own with its own version, and answers one row per unit: its version,
//! or the error it failed with alone.

use enginedb::port::int_part;
use enginedb::{Result, Value, Version, Write};
use enginedb_kit::table_key::{table_key, table_span};

/// Whether the schema exists (one boolean).
pub const META_EXISTS: &str = "SELECT to_regclass('enginedb_meta') IS NOT NULL";

/// The schema version this dialect writes and reads. 5: versionstamped sets (op kind 11, and
/// `enginedb_stamp` writes a transaction's). 4: `enginedb_units`, the group commit's
/// function (entries unchanged). 3: entries under flat keys in `enginedb_entries`. Schema 2 kept
/// them under `(ns, k)` in `enginedb_kv`, whose two-part key cost a unit of 1,000 sets a third
/// more than one `bytea` key; schema 1 also wrote a unit's rows as placeholders and stamped
/// them. Opening a schema-1 to -4 database upgrades it.
pub const SCHEMA_VERSION: i64 = 5;

/// Whether the version sequence exists (one boolean): a database with a schema and no sequence
/// is corrupt (recreated, it would draw versions below those stored).
pub const SEQUENCE_EXISTS: &str = "SELECT to_regclass('enginedb_version') IS NOT NULL";

/// The recorded schema version (one BIGINT, or no row).
pub const READ_SCHEMA_VERSION: &str = "SELECT value FROM enginedb_meta WHERE name = 'schema_version'";

/// Serialises schema creation between processes (inside the creating transaction). The advisory
/// lock keys are `enginedc` (schema) and `enginedb` (commit tails) in ASCII.
pub const LOCK_SCHEMA: &str = "SELECT pg_advisory_xact_lock(7308892947790259299)";

/// Creates what is missing, and upgrades an older schema; safe to run on every open (under
/// [`LOCK_SCHEMA`], in one transaction: a failed upgrade leaves the old schema whole).
pub const CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS enginedb_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO enginedb_meta (name, value) VALUES ('schema_version', 5) \
        ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    // Schema 1's and 2's functions (they took the namespace apart from the keys).
    "DROP FUNCTION IF EXISTS enginedb_unit(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[], BYTEA[])",
    "DROP FUNCTION IF EXISTS enginedb_unit(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[])",
    "DROP FUNCTION IF EXISTS enginedb_apply(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[])",
    "DROP FUNCTION IF EXISTS enginedb_apply(TEXT, BIGINT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[])",
    "DROP FUNCTION IF EXISTS enginedb_stamp(TEXT, BYTEA[])",
    // Schema 4's (it took no versionstamped writes).
    "DROP FUNCTION IF EXISTS enginedb_stamp(BYTEA[])",
    "CREATE SEQUENCE IF NOT EXISTS enginedb_version",
    "CREATE TABLE IF NOT EXISTS enginedb_entries (\
        k BYTEA PRIMARY KEY, v BYTEA, n BIGINT, ver BIGINT NOT NULL, CHECK ((v IS NULL) <> (n IS NULL)))",
    // Schema 1's and 2's entries move over, bytes and versions unchanged; the lock keeps an older
    // enginedb still running from writing an entry the move would miss.
    r#"DO $do$ BEGIN
        IF to_regclass('enginedb_kv') IS NOT NULL THEN
            LOCK TABLE enginedb_kv IN EXCLUSIVE MODE;
            INSERT INTO enginedb_entries (k, v, n, ver)
                SELECT convert_to(ns, 'UTF8') || '\x00'::bytea || k, v, n, ver FROM enginedb_kv;
            DROP TABLE enginedb_kv;
        END IF;
    END $do$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_apply(
        p_ver BIGINT, p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS VOID LANGUAGE plpgsql AS $fn$
    DECLARE
        i INT;
        found_n BIGINT;
        total BIGINT;
        largest BIGINT;
    BEGIN
        -- Only plain sets: one set-based upsert, the last write of a key winning, as in order.
        IF p_kind <@ ARRAY[4]::SMALLINT[] THEN
            INSERT INTO enginedb_entries (k, v, n, ver)
                SELECT DISTINCT ON (u.k) u.k, u.v, u.n, p_ver
                FROM unnest(p_key, p_blob, p_num) WITH ORDINALITY AS u (k, v, n, o)
                ORDER BY u.k, u.o DESC
                ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = p_ver;
            RETURN;
        END IF;
        FOR i IN 1 .. coalesce(array_length(p_kind, 1), 0) LOOP
            CASE p_kind[i]
            WHEN 1 THEN
                PERFORM 1 FROM enginedb_entries WHERE k = p_key[i] AND ver = p_num[i];
                IF NOT FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
            WHEN 2 THEN
                PERFORM 1 FROM enginedb_entries WHERE k = p_key[i];
                IF FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
            WHEN 3 THEN
                SELECT count(*), max(ver) INTO total, largest
                    FROM enginedb_entries WHERE k >= p_key[i] AND k < p_end[i];
                IF total <> p_num[i] OR largest IS DISTINCT FROM p_num2[i] THEN
                    RAISE EXCEPTION 'enginedb-guard:check:%', i - 1;
                END IF;
            WHEN 4 THEN
                INSERT INTO enginedb_entries (k, v, n, ver) VALUES (p_key[i], p_blob[i], p_num[i], p_ver)
                    ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = p_ver;
            WHEN 5 THEN
                PERFORM 1 FROM enginedb_entries WHERE k = p_key[i];
                IF FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
                INSERT INTO enginedb_entries (k, v, n, ver) VALUES (p_key[i], p_blob[i], p_num[i], p_ver);
            WHEN 6 THEN
                DELETE FROM enginedb_entries WHERE k = p_key[i];
            WHEN 11 THEN
                -- The version as an Int key part: tag 3, 8 big-endian bytes, sign bit flipped.
                INSERT INTO enginedb_entries (k, v, n, ver) VALUES (
                    p_key[i] || '\x03'::bytea || int8send(p_ver # (-9223372036854775807 - 1)) || p_end[i],
                    p_blob[i], p_num[i], p_ver)
                    ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = p_ver;
            WHEN 7 THEN
                DELETE FROM enginedb_entries WHERE k >= p_key[i] AND k < p_end[i];
            WHEN 8 THEN
                SELECT n INTO found_n FROM enginedb_entries WHERE k = p_key[i];
                IF FOUND AND found_n IS NULL THEN RAISE EXCEPTION 'enginedb-guard:not-a-counter:%', i - 1; END IF;
                -- numeric cannot overflow: the bounds are checked exactly, before adding.
                IF coalesce(found_n, 0)::numeric + p_num[i] NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
                    RAISE EXCEPTION 'enginedb-guard:overflow:%', i - 1;
                END IF;
                INSERT INTO enginedb_entries (k, v, n, ver) VALUES (p_key[i], NULL, p_num[i], p_ver)
                    ON CONFLICT (k) DO UPDATE SET n = enginedb_entries.n + excluded.n, ver = p_ver;
            WHEN 9, 10 THEN
                SELECT n INTO found_n FROM enginedb_entries WHERE k = p_key[i];
                IF FOUND AND found_n IS NULL THEN RAISE EXCEPTION 'enginedb-guard:not-a-counter:%', i - 1; END IF;
                INSERT INTO enginedb_entries (k, v, n, ver) VALUES (p_key[i], NULL, p_num[i], p_ver)
                    ON CONFLICT (k) DO UPDATE SET n = CASE WHEN p_kind[i] = 9
                        THEN least(enginedb_entries.n, excluded.n)
                        ELSE greatest(enginedb_entries.n, excluded.n) END, ver = p_ver;
            END CASE;
        END LOOP;
    END
    $fn$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_stamp(
        p_written BYTEA[], p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS BIGINT LANGUAGE plpgsql AS $fn$
    DECLARE
        drawn BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(7308892947790259298);
        drawn := nextval('enginedb_version');
        UPDATE enginedb_entries SET ver = drawn WHERE k = ANY(p_written) AND ver = 0;
        -- The versionstamped writes, whose keys hold the version.
        PERFORM enginedb_apply(drawn, p_kind, p_key, p_end, p_blob, p_num, p_num2);
        RETURN drawn;
    END
    $fn$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_unit(
        p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS BIGINT LANGUAGE plpgsql AS $fn$
    DECLARE
        drawn BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(7308892947790259298);
        drawn := nextval('enginedb_version');
        -- An open transaction holding a row this unit writes waits for this lock to commit.
        PERFORM set_config('lock_timeout', '5ms', true);
        PERFORM enginedb_apply(drawn, p_kind, p_key, p_end, p_blob, p_num, p_num2);
        RETURN drawn;
    END
    $fn$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_units(
        p_last INT[], p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS TABLE (version BIGINT, failure TEXT) LANGUAGE plpgsql AS $fn$
    DECLARE
        first INT := 1;
        drawn BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(7308892947790259298);
        PERFORM set_config('lock_timeout', '5ms', true);
        FOR u IN 1 .. coalesce(array_length(p_last, 1), 0) LOOP
            drawn := nextval('enginedb_version');
            BEGIN
                PERFORM enginedb_apply(drawn, p_kind[first:p_last[u]], p_key[first:p_last[u]],
                    p_end[first:p_last[u]], p_blob[first:p_last[u]], p_num[first:p_last[u]],
                    p_num2[first:p_last[u]]);
                version := drawn;
                failure := NULL;
            EXCEPTION WHEN OTHERS THEN
                version := NULL;
                failure := SQLSTATE || ' ' || SQLERRM;
            END;
            RETURN NEXT;
            first := p_last[u] + 1;
        END LOOP;
    END
    $fn$"#,
];

/// Makes the sequence's next value larger than `$1` (a BIGINT), under the commit lock that
/// every version draw holds, so no commit draws a version between the read of the sequence
/// and its setting. As in [`SETS`], the functions of the outer row run per row of `locked`,
/// so only once the lock is held (`pg_sequence_last_value` is NULL for a sequence never
/// drawn from, which `greatest` skips).
pub const ADVANCE_VERSION: &str = "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(7308892947790259298)) \
     SELECT setval('enginedb_version', greatest($1, pg_sequence_last_value('enginedb_version'))) FROM locked";

/// A whole unit as one statement (`$1`..`$6` the arrays); returns its version. It fails with
/// `lock_not_available` (55P03), nothing written, when a row it writes is held by an open
/// transaction: re-run it.
pub const UNIT: &str = "SELECT enginedb_unit($1, $2, $3, $4, $5, $6)";

/// A unit of sets, plain and versionstamped, as one plain statement without the function call
/// (`$1`..`$6` the arrays, as [`UNIT`]); returns its version. As [`UNIT`]: `drawn` reads
/// `locked`, so the commit lock is held before the version is drawn and the lock timeout set;
/// a versionstamped set's key is made from `drawn` as `enginedb_apply` makes it (tag 3, the
/// version's 8 big-endian bytes with the sign bit flipped, then `Int(n)`); the upsert reads
/// `drawn`, and the last write of a key wins.
pub const SETS: &str = "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(7308892947790259298)), \
     drawn AS MATERIALIZED (SELECT nextval('enginedb_version') AS ver, set_config('lock_timeout', '5ms', true) FROM locked), \
     written AS (INSERT INTO enginedb_entries (k, v, n, ver) \
         SELECT DISTINCT ON (u.k) u.k, u.v, u.n, u.ver FROM ( \
             SELECT CASE WHEN s.kind = 11 \
                     THEN s.k || '\\x03'::bytea || int8send(drawn.ver # (-9223372036854775807 - 1)) || s.e \
                     ELSE s.k END AS k, \
                 s.v, s.n, s.o, drawn.ver \
             FROM unnest($1::smallint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bigint[]) \
                 WITH ORDINALITY AS s (kind, k, e, v, n, n2, o) CROSS JOIN drawn) AS u \
         ORDER BY u.k, u.o DESC \
         ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = excluded.ver) \
     SELECT ver FROM drawn";

/// Units in order as one statement (`$1` the 1-based index of each unit's last op, `$2`..`$7`
/// the units' arrays end to end: [`Group`]); answers `(version, failure)` per unit: its version,
/// or `"SQLSTATE message"` of the error it failed with (then it wrote nothing; the others are
/// unaffected). At most [`MAX_GROUP_UNITS`] units: each takes a subtransaction.
pub const UNITS: &str = "SELECT version, failure FROM enginedb_units($1, $2, $3, $4, $5, $6, $7)";

/// The most units [`UNITS`] takes: PostgreSQL tracks 64 subtransactions per transaction
/// cheaply, and every concurrent snapshot pays for more.
pub const MAX_GROUP_UNITS: usize = 32;

/// Units as one [`UNITS`] call: their arrays end to end, and where each one ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// The 1-based index of each unit's last op in `arrays`.
    pub last: Vec<i32>,
    /// The units' arrays, end to end.
    pub arrays: UnitArrays,
}

impl Group {
    /// Appends `unit` (moved: its bytes are not copied).
    pub fn push(&mut self, mut unit: UnitArrays) {
        let arrays = &mut self.arrays;
        arrays.kind.append(&mut unit.kind);
        arrays.key.append(&mut unit.key);
        arrays.end.append(&mut unit.end);
        arrays.blob.append(&mut unit.blob);
        arrays.num.append(&mut unit.num);
        arrays.num2.append(&mut unit.num2);
        self.last.push(i32::try_from(arrays.kind.len()).unwrap_or(i32::MAX));
    }
}

/// Applies ops inside an open transaction, as placeholders (`$1`..`$6` the arrays).
pub const APPLY: &str = "SELECT enginedb_apply(0, $1, $2, $3, $4, $5, $6)";

/// Draws the version and stamps an open transaction's writes (`$1` the written table keys),
/// then writes its versionstamped sets (`$2`..`$7` their arrays); the last statement before
/// COMMIT.
pub const STAMP: &str = "SELECT enginedb_stamp($1, $2, $3, $4, $5, $6, $7)";

/// One entry (`$1` table key) as `(v, n, ver)`.
pub const GET: &str = "SELECT v, n, ver FROM enginedb_entries WHERE k = $1";

/// Several entries in one round trip (`$1` table keys) as `(k, v, n, ver)`, in any order.
/// One primary-key lookup per key, whatever the planner believes of the table's size (from
/// stale statistics it may otherwise scan the whole table and filter or hash it).
pub const GET_MANY: &str = "SELECT wanted.k, kv.v, kv.n, kv.ver FROM unnest($1::bytea[]) AS wanted (k) \
     CROSS JOIN LATERAL (SELECT v, n, ver FROM enginedb_entries WHERE k = wanted.k LIMIT 1) AS kv";

/// A span of table keys ascending (`$1`..`$2` span, `$3` limit) as `(k, v, n, ver)`.
pub const LIST_ASC: &str = "SELECT k, v, n, ver FROM enginedb_entries WHERE k >= $1 AND k < $2 ORDER BY k ASC LIMIT $3";

/// A span of table keys descending (`$1`..`$2` span, `$3` limit) as `(k, v, n, ver)`.
pub const LIST_DESC: &str =
    "SELECT k, v, n, ver FROM enginedb_entries WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3";

/// The op kind of a versionstamped set in [`UnitArrays::kind`].
pub const STAMPED: i16 = 11;

/// A unit as the parallel arrays `enginedb_apply` takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitArrays {
    /// The op kind: 1 check version, 2 check absent, 3 check range, 4 set, 5 insert, 6 delete,
    /// 7 delete range, 8 sum, 9 min, 10 max, 11 versionstamped set.
    pub kind: Vec<i16>,
    /// The table key, or a span's first table key.
    pub key: Vec<Vec<u8>>,
    /// A span's end (a table key); for a versionstamped set, the encoded `Int(n)` that follows
    /// the version.
    pub end: Vec<Option<Vec<u8>>>,
    /// A bytes value.
    pub blob: Vec<Option<Vec<u8>>>,
    /// A counter value, a delta, a version or a count.
    pub num: Vec<Option<i64>>,
    /// A span's largest version.
    pub num2: Vec<Option<i64>>,
}

/// A version as stored: a transaction's own uncommitted rows carry 0.
fn stored_version(version: Version) -> i64 {
    if version == Version::PENDING {
        0
    } else {
        // No committed version exceeds the sequence's BIGINT range: -1 matches nothing.
        i64::try_from(version.0).unwrap_or(-1)
    }
}

/// The version a row reports. 0 marks a row written by the reading transaction itself (only
/// such a transaction can see one), read as [`Version::PENDING`].
///
/// # Errors
/// `Corrupt` for a negative version, or a 0 read outside a transaction.
pub fn read_version(stored: i64, in_transaction: bool) -> Result<Version> {
    match u64::try_from(stored) {
        Ok(0) if in_transaction => Ok(Version::PENDING),
        Ok(v) if v > 0 => Ok(Version(v)),
        _ => Err(enginedb::Error::Corrupt {
            message: format!("stored row holds version {stored}"),
        }),
    }
}

impl UnitArrays {
    /// Encodes `ops` in order, their keys as table keys of `namespace`.
    ///
    /// # Errors
    /// `InvalidInput` for a `DeleteRange` with an invalid selector.
    pub fn new(namespace: &str, ops: &[Write]) -> Result<UnitArrays> {
        let mut arrays = UnitArrays::default();
        let mut stamped = 0;
        for op in ops {
            arrays.push(namespace, op, &mut stamped)?;
        }
        Ok(arrays)
    }

    /// The bytes of its keys and values: what it weighs in a group.
    pub fn bytes(&self) -> usize {
        let keys: usize = self.key.iter().map(Vec::len).sum();
        let ends: usize = self.end.iter().flatten().map(Vec::len).sum();
        let blobs: usize = self.blob.iter().flatten().map(Vec::len).sum();
        keys + ends + blobs + 32 * self.kind.len()
    }

    /// Whether every op is a set, plain or versionstamped (such a unit can run as [`SETS`]).
    pub fn only_sets(&self) -> bool {
        self.kind.iter().all(|&kind| kind == 4 || kind == STAMPED)
    }

    /// The table keys the ops write (an interactive transaction stamps them at commit).
    pub fn written(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.kind
            .iter()
            .zip(&self.key)
            .filter(|(kind, _)| matches!(kind, 4 | 5 | 8 | 9 | 10))
            .map(|(_, key)| key)
    }

    /// Whether every op is a versionstamped set (an interactive transaction writes them at
    /// commit, when its version is drawn).
    pub fn only_versionstamped(&self) -> bool {
        self.kind.iter().all(|&kind| kind == STAMPED)
    }

    /// Appends `op`; `stamped` counts the unit's versionstamped writes so far.
    fn push(&mut self, namespace: &str, op: &Write, stamped: &mut u32) -> Result<()> {
        let key_of = |key: &enginedb::Key| table_key(namespace, key.as_bytes());
        let (kind, key, end, value, num2) = match op {
            Write::Check {
                key,
                version: Some(version),
            } => (1, key_of(key), None, Some(Value::I64(stored_version(*version))), None),
            Write::Check { key, version: None } => (2, key_of(key), None, None, None),
            Write::CheckRange {
                range,
                count,
                max_version,
            } => {
                let count = i64::try_from(*count).unwrap_or(-1);
                let span = table_span(namespace, range);
                (
                    3,
                    span.start,
                    Some(span.end),
                    Some(Value::I64(count)),
                    max_version.map(stored_version),
                )
            }
            Write::Set { key, value } => (4, key_of(key), None, Some(value.clone()), None),
            Write::SetVersionstamped { prefix, value } => {
                let n = int_part((*stamped).into()).to_vec();
                *stamped = stamped.saturating_add(1);
                (STAMPED, key_of(prefix), Some(n), Some(value.clone()), None)
            }
            Write::Insert { key, value } => (5, key_of(key), None, Some(value.clone()), None),
            Write::Delete { key } => (6, key_of(key), None, None, None),
            Write::DeleteRange { range } => {
                let span = table_span(namespace, &range.byte_range()?);
                (7, span.start, Some(span.end), None, None)
            }
            Write::Sum { key, delta } => (8, key_of(key), None, Some(Value::I64(*delta)), None),
            Write::Min { key, operand } => (9, key_of(key), None, Some(Value::I64(*operand)), None),
            Write::Max { key, operand } => (10, key_of(key), None, Some(Value::I64(*operand)), None),
        };
        let (blob, num) = match value {
            Some(Value::Bytes(b)) => (Some(b), None),
            Some(Value::I64(n)) => (None, Some(n)),
            None => (None, None),
        };
        self.kind.push(kind);
        self.key.push(key);
        self.end.push(end);
        self.blob.push(blob);
        self.num.push(num);
        self.num2.push(num2);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use enginedb::{Selector, key};
    use enginedb_kit::table_key::table_key;

    use super::*;

    #[test]
    fn encodes_ops_in_order_and_collects_written_keys() {
        let ops = [
            Write::check(key!["a"], Some(Version(7))),
            Write::check(key!["b"], None),
            Write::set(key!["c"], "x"),
            Write::insert(key!["d"], 4),
            Write::delete(key!["e"]),
            Write::delete_range(Selector::prefix(key!["f"])),
            Write::sum(key!["g"], -2),
            Write::check(key!["h"], Some(Version::PENDING)),
        ];
        let arrays = UnitArrays::new("ns", &ops).unwrap();
        assert_eq!(arrays.kind, vec![1, 2, 4, 5, 6, 7, 8, 1]);
        assert!(!arrays.only_sets());
        assert!(UnitArrays::new("ns", &ops[2..3]).unwrap().only_sets());
        let stamped = [Write::set(key!["s"], 1), Write::set_versionstamped(key!["f"], 2)];
        assert!(UnitArrays::new("ns", &stamped).unwrap().only_sets());
        assert_eq!(
            arrays.num,
            vec![Some(7), None, None, Some(4), None, None, Some(-2), Some(0)]
        );
        assert_eq!(arrays.blob[2], Some(b"x".to_vec()));
        let in_ns = |key: enginedb::Key| table_key("ns", key.as_bytes());
        assert_eq!(arrays.key[0], in_ns(key!["a"]));
        let (start, end) = key!["f"].prefix_range();
        assert_eq!(
            (&arrays.key[5], &arrays.end[5]),
            (&table_key("ns", &start), &Some(table_key("ns", &end)))
        );
        assert_eq!(
            arrays.written().cloned().collect::<Vec<_>>(),
            vec![in_ns(key!["c"]), in_ns(key!["d"]), in_ns(key!["g"])]
        );
        assert_eq!(read_version(0, true).unwrap(), Version::PENDING);
        assert_eq!(read_version(5, false).unwrap(), Version(5));
        for (stored, in_transaction) in [(0, false), (-1, true), (-1, false), (i64::MIN, false)] {
            assert!(
                read_version(stored, in_transaction).is_err(),
                "{stored} {in_transaction}"
            );
        }
    }
}
