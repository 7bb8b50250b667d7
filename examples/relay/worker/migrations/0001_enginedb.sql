-- The enginedb schema (SQLite dialect) for the relay Worker's D1 database, applied once by
-- `wrangler d1 migrations apply DB --local` (or `--remote`). Generated from
-- `enginedb_sql::schema::SQLITE_CREATE`; `cargo test -p relay-worker` checks it.

CREATE TABLE IF NOT EXISTS enginedb_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;

INSERT OR IGNORE INTO enginedb_meta (name, value) VALUES ('schema_version', 1), ('last_version', 0);

CREATE TABLE IF NOT EXISTS enginedb_kv (ns TEXT NOT NULL, k BLOB NOT NULL, v BLOB, n INTEGER, ver INTEGER NOT NULL, PRIMARY KEY (ns, k), CHECK ((v IS NULL) <> (n IS NULL))) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS enginedb_guard (op INTEGER NOT NULL, reason TEXT NOT NULL) STRICT;

DROP TRIGGER IF EXISTS enginedb_guard_raises;

CREATE TRIGGER IF NOT EXISTS enginedb_guard_fails BEFORE INSERT ON enginedb_guard BEGIN SELECT json_extract('{}', 'enginedb-guard:' || NEW.reason || ':' || NEW.op); END;
