//! The PostgreSQL dialect: schema, the server-side functions a unit runs through, and the
//! arrays that carry a unit to them.
//!
//! A unit of any size is **one statement**: the adapter binds the unit as parallel arrays
//! ([`UnitArrays`]) and calls [`UNIT`]. On the server, `enginedb_unit` takes a
//! transaction-scoped advisory lock, draws the version from a sequence, and `enginedb_apply`
//! walks the ops in order (so their semantics are exactly the reference ones), writing rows with
//! that version and raising `enginedb-guard:<reason>:<index>` for a failed precondition. The lock
//! is held to COMMIT, so versions follow commit order; each row is written once.
//!
//! An interactive transaction cannot hold that lock while its caller thinks: it calls [`APPLY`]
//! per `apply`, writing rows with the placeholder version 0, and [`STAMP`] just before `COMMIT`,
//! which takes the lock, draws the version and stamps the rows. A unit holding the lock
//! therefore never waits long for a row such a transaction holds (it would wait for a
//! transaction that waits for it): after a few milliseconds it fails with a serialization
//! failure, and is re-run.
//!
//! Rows carrying version 0 are never visible outside their own transaction.

use enginedb::{Result, Value, Version, Write};

/// Whether the schema exists (one boolean).
pub const META_EXISTS: &str = "SELECT to_regclass('enginedb_meta') IS NOT NULL";

/// The schema version this dialect writes and reads. 2: a unit writes its version directly
/// (schema 1 wrote placeholders and stamped them); opening a schema-1 database upgrades it.
pub const SCHEMA_VERSION: i64 = 2;

/// The recorded schema version (one BIGINT, or no row).
pub const READ_SCHEMA_VERSION: &str = "SELECT value FROM enginedb_meta WHERE name = 'schema_version'";

/// Serialises schema creation between processes (inside the creating transaction). The advisory
/// lock keys are `enginedc` (schema) and `enginedb` (commit tails) in ASCII.
pub const LOCK_SCHEMA: &str = "SELECT pg_advisory_xact_lock(7308892947790259299)";

/// Creates what is missing; safe to run on every open (under [`LOCK_SCHEMA`]).
pub const CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS enginedb_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO enginedb_meta (name, value) VALUES ('schema_version', 2) \
        ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    // Schema 1's functions (a unit wrote placeholders and stamped them at the end).
    "DROP FUNCTION IF EXISTS enginedb_unit(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[], BYTEA[])",
    "DROP FUNCTION IF EXISTS enginedb_apply(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[])",
    "CREATE SEQUENCE IF NOT EXISTS enginedb_version",
    "CREATE TABLE IF NOT EXISTS enginedb_kv (\
        ns TEXT COLLATE \"C\" NOT NULL, k BYTEA NOT NULL, v BYTEA, n BIGINT, ver BIGINT NOT NULL, \
        PRIMARY KEY (ns, k), CHECK ((v IS NULL) <> (n IS NULL)))",
    r#"CREATE OR REPLACE FUNCTION enginedb_apply(
        p_ns TEXT, p_ver BIGINT, p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS VOID LANGUAGE plpgsql AS $fn$
    DECLARE
        i INT;
        found_n BIGINT;
        total BIGINT;
        largest BIGINT;
    BEGIN
        -- Only plain sets: one set-based upsert, the last write of a key winning, as in order.
        IF p_kind <@ ARRAY[4]::SMALLINT[] THEN
            INSERT INTO enginedb_kv (ns, k, v, n, ver)
                SELECT DISTINCT ON (u.k) p_ns, u.k, u.v, u.n, p_ver
                FROM unnest(p_key, p_blob, p_num) WITH ORDINALITY AS u (k, v, n, o)
                ORDER BY u.k, u.o DESC
                ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = p_ver;
            RETURN;
        END IF;
        FOR i IN 1 .. coalesce(array_length(p_kind, 1), 0) LOOP
            CASE p_kind[i]
            WHEN 1 THEN
                PERFORM 1 FROM enginedb_kv WHERE ns = p_ns AND k = p_key[i] AND ver = p_num[i];
                IF NOT FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
            WHEN 2 THEN
                PERFORM 1 FROM enginedb_kv WHERE ns = p_ns AND k = p_key[i];
                IF FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
            WHEN 3 THEN
                SELECT count(*), max(ver) INTO total, largest
                    FROM enginedb_kv WHERE ns = p_ns AND k >= p_key[i] AND k < p_end[i];
                IF total <> p_num[i] OR largest IS DISTINCT FROM p_num2[i] THEN
                    RAISE EXCEPTION 'enginedb-guard:check:%', i - 1;
                END IF;
            WHEN 4 THEN
                INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (p_ns, p_key[i], p_blob[i], p_num[i], p_ver)
                    ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, n = excluded.n, ver = p_ver;
            WHEN 5 THEN
                PERFORM 1 FROM enginedb_kv WHERE ns = p_ns AND k = p_key[i];
                IF FOUND THEN RAISE EXCEPTION 'enginedb-guard:check:%', i - 1; END IF;
                INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (p_ns, p_key[i], p_blob[i], p_num[i], p_ver);
            WHEN 6 THEN
                DELETE FROM enginedb_kv WHERE ns = p_ns AND k = p_key[i];
            WHEN 7 THEN
                DELETE FROM enginedb_kv WHERE ns = p_ns AND k >= p_key[i] AND k < p_end[i];
            WHEN 8 THEN
                SELECT n INTO found_n FROM enginedb_kv WHERE ns = p_ns AND k = p_key[i];
                IF FOUND AND found_n IS NULL THEN RAISE EXCEPTION 'enginedb-guard:not-a-counter:%', i - 1; END IF;
                -- numeric cannot overflow: the bounds are checked exactly, before adding.
                IF coalesce(found_n, 0)::numeric + p_num[i] NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
                    RAISE EXCEPTION 'enginedb-guard:overflow:%', i - 1;
                END IF;
                INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES (p_ns, p_key[i], NULL, p_num[i], p_ver)
                    ON CONFLICT (ns, k) DO UPDATE SET n = enginedb_kv.n + excluded.n, ver = p_ver;
            END CASE;
        END LOOP;
    END
    $fn$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_stamp(p_ns TEXT, p_written BYTEA[]) RETURNS BIGINT
    LANGUAGE plpgsql AS $fn$
    DECLARE
        drawn BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(7308892947790259298);
        drawn := nextval('enginedb_version');
        UPDATE enginedb_kv SET ver = drawn WHERE ns = p_ns AND k = ANY(p_written) AND ver = 0;
        RETURN drawn;
    END
    $fn$"#,
    r#"CREATE OR REPLACE FUNCTION enginedb_unit(
        p_ns TEXT, p_kind SMALLINT[], p_key BYTEA[], p_end BYTEA[], p_blob BYTEA[], p_num BIGINT[], p_num2 BIGINT[]
    ) RETURNS BIGINT LANGUAGE plpgsql AS $fn$
    DECLARE
        drawn BIGINT;
    BEGIN
        PERFORM pg_advisory_xact_lock(7308892947790259298);
        drawn := nextval('enginedb_version');
        -- An open transaction holding a row this unit writes waits for this lock to commit.
        PERFORM set_config('lock_timeout', '5ms', true);
        BEGIN
            PERFORM enginedb_apply(p_ns, drawn, p_kind, p_key, p_end, p_blob, p_num, p_num2);
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION 'enginedb: a row of the unit is held by an open transaction'
                USING ERRCODE = 'serialization_failure';
        END;
        RETURN drawn;
    END
    $fn$"#,
];

/// A whole unit as one statement (`$1` ns, `$2`..`$7` the arrays); returns its version.
pub const UNIT: &str = "SELECT enginedb_unit($1, $2, $3, $4, $5, $6, $7)";

/// Applies ops inside an open transaction, as placeholders (`$1` ns, `$2`..`$7` the arrays).
pub const APPLY: &str = "SELECT enginedb_apply($1, 0, $2, $3, $4, $5, $6, $7)";

/// Draws the version and stamps an open transaction's writes (`$1` ns, `$2` written keys);
/// the last statement before COMMIT.
pub const STAMP: &str = "SELECT enginedb_stamp($1, $2)";

/// One entry (`$1` ns, `$2` key) as `(v, n, ver)`.
pub const GET: &str = "SELECT v, n, ver FROM enginedb_kv WHERE ns = $1 AND k = $2";

/// Several entries in one round trip (`$1` ns, `$2` keys) as `(k, v, n, ver)`, in any order.
/// One primary-key lookup per key, whatever the planner believes of the namespace's size (from
/// stale statistics it may otherwise scan the whole namespace and filter or hash it).
pub const GET_MANY: &str = "SELECT wanted.k, kv.v, kv.n, kv.ver FROM unnest($2::bytea[]) AS wanted (k) \
     CROSS JOIN LATERAL (SELECT v, n, ver FROM enginedb_kv WHERE ns = $1 AND k = wanted.k LIMIT 1) AS kv";

/// A span ascending (`$1` ns, `$2`..`$3` span, `$4` limit) as `(k, v, n, ver)`.
pub const LIST_ASC: &str =
    "SELECT k, v, n, ver FROM enginedb_kv WHERE ns = $1 AND k >= $2 AND k < $3 ORDER BY k ASC LIMIT $4";

/// A span descending (`$1` ns, `$2`..`$3` span, `$4` limit) as `(k, v, n, ver)`.
pub const LIST_DESC: &str =
    "SELECT k, v, n, ver FROM enginedb_kv WHERE ns = $1 AND k >= $2 AND k < $3 ORDER BY k DESC LIMIT $4";

/// A unit as the parallel arrays `enginedb_apply` takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitArrays {
    /// The op kind: 1 check version, 2 check absent, 3 check range, 4 set, 5 insert, 6 delete,
    /// 7 delete range, 8 sum.
    pub kind: Vec<i16>,
    /// The key, or a span's start.
    pub key: Vec<Vec<u8>>,
    /// A span's end.
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

/// The version a row reports: 0 means "written by this transaction".
pub fn read_version(stored: i64) -> Version {
    match u64::try_from(stored) {
        Ok(0) | Err(_) => Version::PENDING,
        Ok(v) => Version(v),
    }
}

impl UnitArrays {
    /// Encodes `ops` in order.
    ///
    /// # Errors
    /// `InvalidInput` for a `DeleteRange` with an invalid selector.
    pub fn new(ops: &[Write]) -> Result<UnitArrays> {
        let mut arrays = UnitArrays::default();
        for op in ops {
            arrays.push(op)?;
        }
        Ok(arrays)
    }

    /// The keys the ops write (an interactive transaction stamps them at commit).
    pub fn written(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.kind
            .iter()
            .zip(&self.key)
            .filter(|(kind, _)| matches!(kind, 4 | 5 | 8))
            .map(|(_, key)| key)
    }

    fn push(&mut self, op: &Write) -> Result<()> {
        let (kind, key, end, value, num2) = match op {
            Write::Check {
                key,
                version: Some(version),
            } => (1, key.encode(), None, Some(Value::I64(stored_version(*version))), None),
            Write::Check { key, version: None } => (2, key.encode(), None, None, None),
            Write::CheckRange {
                range,
                count,
                max_version,
            } => {
                let count = i64::try_from(*count).unwrap_or(-1);
                (
                    3,
                    range.start.clone(),
                    Some(range.end.clone()),
                    Some(Value::I64(count)),
                    max_version.map(stored_version),
                )
            }
            Write::Set { key, value } => (4, key.encode(), None, Some(value.clone()), None),
            Write::Insert { key, value } => (5, key.encode(), None, Some(value.clone()), None),
            Write::Delete { key } => (6, key.encode(), None, None, None),
            Write::DeleteRange { range } => {
                let range = range.byte_range()?;
                (7, range.start, Some(range.end), None, None)
            }
            Write::Sum { key, delta } => (8, key.encode(), None, Some(Value::I64(*delta)), None),
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

    use super::*;

    #[test]
    fn encodes_ops_in_order_and_collects_written_keys() {
        let ops = [
            Write::check(key!["a"], Some(Version(7))),
            Write::check(key!["b"], None),
            Write::set(key!["c"], "x"),
            Write::insert(key!["d"], 4),
            Write::delete(key!["e"]),
            Write::delete_range(Selector::Prefix(key!["f"])),
            Write::sum(key!["g"], -2),
            Write::check(key!["h"], Some(Version::PENDING)),
        ];
        let arrays = UnitArrays::new(&ops).unwrap();
        assert_eq!(arrays.kind, vec![1, 2, 4, 5, 6, 7, 8, 1]);
        assert_eq!(
            arrays.num,
            vec![Some(7), None, None, Some(4), None, None, Some(-2), Some(0)]
        );
        assert_eq!(arrays.blob[2], Some(b"x".to_vec()));
        assert_eq!(
            arrays.written().cloned().collect::<Vec<_>>(),
            vec![key!["c"].encode(), key!["d"].encode(), key!["g"].encode()]
        );
        assert_eq!(read_version(0), Version::PENDING);
        assert_eq!(read_version(5), Version(5));
    }
}
