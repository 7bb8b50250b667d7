//! PostgreSQL-specific proofs, each printing its figures: round trips per unit, the hot-key
//! race through `transact` under the default retry policy, write skew, crash recovery after
//! `pg_ctl stop -m immediate`, and an unreachable server failing fast.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use enginedb::port::{BatchCapability, EngineDb, TransactionCapability};
use enginedb::testing::{Mask, Masked};
use enginedb::{Atomicity, Db, ErrorKind, KeyPart, RetryPolicy, Value, Write, key, run_atomic_writes};
use enginedb_postgres::{PgConfig, PgDb};

async fn pool(url: &str, namespace: &str, connections: u32) -> PgDb {
    let mut config = PgConfig::new(url);
    config.namespace = Some(namespace.to_owned());
    config.max_connections = connections;
    config.acquire_timeout = Duration::from_secs(5);
    PgDb::open(config).await.expect("open")
}

fn int(value: Option<Value>) -> i64 {
    match value {
        Some(Value::I64(n)) => n,
        _ => 0,
    }
}

const PATIENT: RetryPolicy = RetryPolicy {
    max_attempts: 10_000,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(20),
};

/// A unit of any size is one statement as a batch and through `run_atomic_writes`, and four
/// (BEGIN, apply, stamp, COMMIT) in an interactive transaction: independent of its number of ops.
#[test]
fn report_round_trips_per_unit() {
    common::block_on(async {
        let db = pool(
            common::PgServer::shared().expect("a PostgreSQL server"),
            &common::unique_namespace(),
            2,
        )
        .await;
        let mut rows = Vec::new();
        for ops in [1usize, 10, 100, 1000] {
            let unit =
                |tag: &str| -> Vec<Write> { (0..ops).map(|i| Write::set(key![tag, i as i64], i as i64)).collect() };
            let before = db.statements_sent();
            db.apply_batch(&unit("batch")).await.expect("batch");
            let batch = db.statements_sent() - before;
            let before = db.statements_sent();
            let commit = run_atomic_writes(&db, &unit("unit"), Atomicity::Require)
                .await
                .expect("unit");
            assert_eq!(commit.mode, enginedb::Mode::Transaction);
            let resolved = db.statements_sent() - before;
            let before = db.statements_sent();
            let mut tx = db.begin().await.expect("begin");
            tx.apply(&unit("tx")).await.expect("apply");
            tx.commit().await.expect("commit");
            let interactive = db.statements_sent() - before;
            rows.push((ops, batch, resolved, interactive));
        }
        eprintln!("\npostgres round trips per unit (ops: batch, run_atomic_writes, interactive transaction):");
        for (ops, batch, resolved, interactive) in &rows {
            eprintln!("  {ops:>4} ops: {batch}, {resolved}, {interactive}");
        }
        assert!(
            rows.iter()
                .all(|&(_, batch, resolved, interactive)| (batch, resolved, interactive) == (1, 1, 4)),
            "constant round trips: {rows:?}"
        );
    });
}

/// The hot-key race: 64 tasks × 200 read-add-one-write increments of one key through
/// `transact`, under the default retry policy, with native transactions (and 64 × 50
/// optimistically over batches, where each lost race costs a read and a batch, so the full race
/// takes minutes; `ENGINEDB_HOT_KEY_ROUNDS=200` runs it): every increment lands and no task
/// gives up.
#[test]
fn report_hot_key_race() {
    on_each_mask(async |db, mask| {
        let optimistic_rounds = std::env::var("ENGINEDB_HOT_KEY_ROUNDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(50);
        let rounds = if mask == Mask::Native { 200 } else { optimistic_rounds };
        let race = enginedb_testkit::hot_key_race(&db, 64, rounds).await;
        eprintln!("\npostgres {}: {race}", mask.name());
        assert_eq!((race.total, race.gave_up), (64 * rounds as i64, 0), "{mask:?}: {race}");
    });
}

/// A feed tailed while 16 tasks commit events for 10 s, natively and over batches (group
/// commit and versions drawn at COMMIT included): no event appears behind the tail.
#[test]
fn report_feed_tail() {
    on_each_mask(async |db, mask| {
        let tail = enginedb_testkit::feed_tail(&db, 16, std::time::Duration::from_secs(10)).await;
        eprintln!("\npostgres {}: {tail}", mask.name());
        assert!(tail.held() && tail.committed > 0, "{mask:?}: {tail}");
    });
}

/// Runs `work` natively and over batches, each on a fresh namespace of the shared server (a
/// pool of 16), on a two-thread runtime.
fn on_each_mask(mut work: impl AsyncFnMut(Db, Mask)) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for mask in [Mask::Native, Mask::BatchOnly] {
            let server = common::PgServer::shared().expect("a PostgreSQL server");
            let store = pool(server, &common::unique_namespace(), 16).await;
            work(Db::from(Masked::new(store, mask)), mask).await;
        }
    });
}

/// Two transactions each keep "x + y >= 1" by reading both and zeroing their own; run
/// concurrently again and again, they never break it together.
#[test]
fn report_write_skew() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for mask in [Mask::Native, Mask::BatchOnly] {
            let db = Db::from(Masked::new(
                pool(
                    common::PgServer::shared().expect("a PostgreSQL server"),
                    &common::unique_namespace(),
                    8,
                )
                .await,
                mask,
            ));
            let rounds = 50;
            let mut broken = 0;
            for round in 0..rounds {
                let (x, y) = (key!["x", round], key!["y", round]);
                db.write(
                    &[Write::set(x.clone(), 1), Write::set(y.clone(), 1)],
                    Atomicity::Require,
                )
                .await
                .expect("seed");
                let zero = |mine: enginedb::Key| {
                    let (db, x, y) = (db.clone(), x.clone(), y.clone());
                    tokio::spawn(async move {
                        db.transaction()
                            .retry(PATIENT)
                            .run(async move |tx| {
                                let sum =
                                    int(tx.get(&x).await?.map(|e| e.value)) + int(tx.get(&y).await?.map(|e| e.value));
                                tokio::time::sleep(Duration::from_millis(2)).await;
                                if sum >= 2 {
                                    tx.set(mine.clone(), 0);
                                }
                                Ok::<_, enginedb::Error>(())
                            })
                            .await
                    })
                };
                let (a, b) = (zero(x.clone()), zero(y.clone()));
                a.await.expect("task").expect("transact");
                b.await.expect("task").expect("transact");
                let x = int(db.get(&x).await.expect("get").map(|e| e.value));
                let y = int(db.get(&y).await.expect("get").map(|e| e.value));
                if x + y < 1 {
                    broken += 1;
                }
            }
            eprintln!(
                "\npostgres {}: write skew: {rounds} rounds, invariant broken {broken} times",
                mask.name()
            );
            assert_eq!(broken, 0, "{mask:?}: write skew");
        }
    });
}

/// While units stream, the server is stopped with `pg_ctl stop -m immediate` and restarted;
/// after each restart no unit is partial and no acknowledged unit is lost. At least 10 stops;
/// `ENGINEDB_PG_CRASHES` asks for more.
#[test]
fn report_crash_immediate_stop() {
    let crashes: usize = std::env::var("ENGINEDB_PG_CRASHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
        .max(10);
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let db = pool(&server.url, "crash", 2).await;
        let acked = Arc::new(Mutex::new(BTreeSet::new()));
        // Units whose error said nothing was written (every error but `OutcomeUnknown`).
        let refused = Arc::new(Mutex::new(BTreeSet::new()));
        let unknown = Arc::new(Mutex::new(0usize));
        let writer = {
            let (db, acked, refused, unknown) = (db.clone(), acked.clone(), refused.clone(), unknown.clone());
            tokio::spawn(async move {
                for id in 0i64.. {
                    let mut unit: Vec<Write> = (0..4).map(|j| Write::set(key!["unit", id, j], id)).collect();
                    unit.push(Write::sum(key!["units"], 1));
                    match db.apply_batch(&unit).await {
                        Ok(_) => {
                            acked.lock().expect("lock").insert(id);
                        }
                        Err(error) => {
                            if error.kind() == ErrorKind::OutcomeUnknown {
                                *unknown.lock().expect("lock") += 1;
                            } else {
                                refused.lock().expect("lock").insert(id);
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        };
        let mut violations = Vec::new();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..crashes {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            tokio::time::sleep(Duration::from_millis(100 + seed % 300)).await;
            let acked_before: BTreeSet<i64> = acked.lock().expect("lock").clone();
            server.crash().expect("pg_ctl stop -m immediate");
            server.restart().expect("restart");
            let reader = Db::from(pool(&server.url, "crash", 1).await);
            let entries = enginedb_conformance::contents(&reader, &key!["unit"])
                .await
                .expect("read after restart");
            let mut units: BTreeMap<i64, usize> = BTreeMap::new();
            for (key, value) in entries {
                match (key.parts().as_slice(), value) {
                    ([_, KeyPart::Int(id), KeyPart::Int(_)], Value::I64(v)) if v == *id => {
                        *units.entry(*id).or_default() += 1
                    }
                    (_, value) => violations.push(format!("round {round}: unexpected {key} = {value}")),
                }
            }
            violations.extend(
                units
                    .iter()
                    .filter(|(_, n)| **n != 4)
                    .map(|(id, n)| format!("round {round}: unit {id} has {n} of 4 keys")),
            );
            violations.extend(
                acked_before
                    .iter()
                    .filter(|id| !units.contains_key(id))
                    .map(|id| format!("round {round}: acknowledged unit {id} lost")),
            );
            violations.extend(
                refused
                    .lock()
                    .expect("lock")
                    .iter()
                    .filter(|id| units.contains_key(id))
                    .map(|id| format!("round {round}: unit {id} was committed, its error said nothing was written")),
            );
        }
        writer.abort();
        let acked = acked.lock().expect("lock").len();
        let (refused, unknown) = (refused.lock().expect("lock").len(), *unknown.lock().expect("lock"));
        eprintln!(
            "\npostgres crash test: {crashes} immediate stops, {acked} units acknowledged, {refused} refused \
             (none committed), {unknown} with an unknown outcome, {} violations",
            violations.len()
        );
        assert!(acked > 0, "no unit was acknowledged");
        assert!(violations.is_empty(), "{violations:#?}");
    });
}

/// A database written by a newer enginedb is refused, and left untouched.
#[test]
fn a_newer_schema_is_refused_untouched() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let db = pool(&server.url, "schema", 1).await;
        drop(db);
        let raw = sqlx::PgPool::connect(&server.url).await.expect("raw pool");
        sqlx::query("UPDATE enginedb_meta SET value = 99 WHERE name = 'schema_version'")
            .execute(&raw)
            .await
            .expect("bump");
        let error = PgDb::open(PgConfig::new(server.url.as_str()))
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), enginedb::ErrorKind::IncompatibleSchema, "{error}");
        let version: i64 = sqlx::query_scalar("SELECT value FROM enginedb_meta WHERE name = 'schema_version'")
            .fetch_one(&raw)
            .await
            .expect("read");
        assert_eq!(version, 99, "left as it was");
    });
}

/// Random units (runs of every op kind, on few keys, often failing) have the outcomes and
/// leave the data `MemoryDb` does.
#[test]
fn random_units_match_the_reference() {
    common::block_on(async {
        let db = Db::from(common::open(&common::unique_namespace()).await.expect("open"));
        enginedb_testkit::differential::units_match_memory(&db, 400).await;
        db.close().await.expect("close");
    });
}

/// A database whose version sequence is gone is refused, never given a new one (it would draw
/// versions below those stored).
#[test]
fn a_missing_version_sequence_is_corrupt() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        drop(pool(&server.url, "sequence", 1).await);
        let raw = sqlx::PgPool::connect(&server.url).await.expect("raw pool");
        sqlx::query("DROP SEQUENCE enginedb_version")
            .execute(&raw)
            .await
            .expect("tamper");
        let error = PgDb::open(PgConfig::new(server.url.as_str()))
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), enginedb::ErrorKind::Corrupt, "{error}");
        let recreated: bool = sqlx::query_scalar("SELECT to_regclass('enginedb_version') IS NOT NULL")
            .fetch_one(&raw)
            .await
            .expect("read");
        assert!(!recreated, "not recreated");
    });
}

/// A schema-3 database (before the group commit's function) gains it on open.
#[test]
fn schema_3_gains_the_group_commit_function() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        drop(pool(&server.url, "schema3", 1).await);
        let raw = sqlx::PgPool::connect(&server.url).await.expect("raw pool");
        let functions = || {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_proc WHERE proname = 'enginedb_units'")
                .fetch_one(&raw)
        };
        for statement in [
            "DROP FUNCTION enginedb_units",
            "UPDATE enginedb_meta SET value = 3 WHERE name = 'schema_version'",
        ] {
            sqlx::query(statement).execute(&raw).await.expect("make schema 3");
        }
        assert_eq!(functions().await.expect("count"), 0);
        drop(pool(&server.url, "schema3", 1).await);
        assert_eq!(functions().await.expect("count"), 1, "created on open");
    });
}

/// Schema 1's and 2's functions, as stubs: an upgrade drops them.
const OLD_FUNCTIONS: [&[&str]; 2] = [
    &[
        "CREATE FUNCTION enginedb_unit(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[], BYTEA[]) \
         RETURNS BIGINT LANGUAGE sql AS 'SELECT 0::BIGINT'",
        "CREATE FUNCTION enginedb_apply(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[]) \
         RETURNS VOID LANGUAGE sql AS ''",
    ],
    &[
        "CREATE FUNCTION enginedb_unit(TEXT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[]) \
         RETURNS BIGINT LANGUAGE sql AS 'SELECT 0::BIGINT'",
        "CREATE FUNCTION enginedb_apply(TEXT, BIGINT, SMALLINT[], BYTEA[], BYTEA[], BYTEA[], BIGINT[], BIGINT[]) \
         RETURNS VOID LANGUAGE sql AS ''",
        "CREATE FUNCTION enginedb_stamp(TEXT, BYTEA[]) RETURNS BIGINT LANGUAGE sql AS 'SELECT 0::BIGINT'",
    ],
];

/// A schema-1 or -2 database (entries under `(ns, k)` in `enginedb_kv`) is upgraded on open:
/// every entry moves to its namespace with its bytes and version, the old table and functions
/// are gone, the current version is recorded, and versions go on from the sequence.
#[test]
fn older_schemas_are_upgraded_with_every_entry() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let admin = sqlx::PgPool::connect(&server.url).await.expect("admin pool");
        for (old, functions) in (1_i64..).zip(OLD_FUNCTIONS) {
            let database = format!("schema_{old}");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(&admin)
                .await
                .expect("create database");
            let url = server.url.replace("/postgres", &format!("/{database}"));
            let raw = sqlx::PgPool::connect(&url).await.expect("raw pool");
            for statement in [
                "CREATE TABLE enginedb_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "CREATE SEQUENCE enginedb_version",
                "SELECT setval('enginedb_version', 7)",
                "CREATE TABLE enginedb_kv (ns TEXT COLLATE \"C\" NOT NULL, k BYTEA NOT NULL, v BYTEA, n BIGINT, \
                 ver BIGINT NOT NULL, PRIMARY KEY (ns, k), CHECK ((v IS NULL) <> (n IS NULL)))",
            ]
            .iter()
            .chain(functions)
            {
                sqlx::query(*statement)
                    .execute(&raw)
                    .await
                    .expect("make the old schema");
            }
            sqlx::query("INSERT INTO enginedb_meta VALUES ('schema_version', $1)")
                .bind(old)
                .execute(&raw)
                .await
                .expect("record the old version");
            let entries = [
                ("upgrade", key!["a"], Some(b"x".to_vec()), None, 5_i64),
                ("upgrade", key!["c", 2], None, Some(3_i64), 7),
                ("upgrade_b", key!["a"], Some(b"y".to_vec()), None, 6),
                ("", key!["a"], Some(b"z".to_vec()), None, 2),
            ];
            for (ns, key, v, n, ver) in &entries {
                sqlx::query("INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES ($1, $2, $3, $4, $5)")
                    .bind(ns)
                    .bind(key.encode())
                    .bind(v)
                    .bind(n)
                    .bind(ver)
                    .execute(&raw)
                    .await
                    .expect("an old entry");
            }

            let db = PgDb::open_url(&url).await.expect("open upgrades");
            for (ns, key, v, n, ver) in entries {
                let db = if ns.is_empty() {
                    db.clone()
                } else {
                    db.namespace(ns).expect("namespace")
                };
                let entry = db.get(&key).await.expect("get").expect("kept");
                let value = v.map_or_else(|| Value::I64(n.expect("a counter")), Value::Bytes);
                assert_eq!(
                    (entry.value, entry.version.0),
                    (value, ver as u64),
                    "{ns}/{key} from schema {old}"
                );
            }
            let listed = db.namespace("upgrade").expect("namespace");
            let page = listed
                .list(
                    &enginedb::Selector::prefix(key![]),
                    &enginedb::port::ListOptions::default(),
                )
                .await
                .expect("list");
            let keys: Vec<_> = page.entries.into_iter().map(|e| e.key).collect();
            assert_eq!(keys, vec![key!["a"], key!["c", 2]], "schema {old}");
            let next = listed.write(&Write::sum(key!["c", 2], 1)).await.expect("write");
            assert_eq!(next.0, 8, "versions go on from the sequence");

            let (version, old_table, old_functions): (i64, bool, i64) = sqlx::query_as(
                "SELECT (SELECT value FROM enginedb_meta WHERE name = 'schema_version'), \
                 to_regclass('enginedb_kv') IS NOT NULL, \
                 (SELECT count(*) FROM pg_proc WHERE proname LIKE 'enginedb%' AND proargtypes[0] = 'text'::regtype)",
            )
            .fetch_one(&raw)
            .await
            .expect("read the schema");
            assert_eq!(
                (version, old_table, old_functions),
                (enginedb_sql::postgres::SCHEMA_VERSION, false, 0),
                "schema {old}"
            );
        }
    });
}

/// A unit takes the commit lock before it draws its version, through either statement (plain
/// sets, and the function for other ops): while another session holds the lock and draws a
/// version, the waiting unit's version comes after that one, so versions follow commit order.
#[test]
fn a_unit_draws_its_version_only_once_it_holds_the_commit_lock() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let db = pool(&server.url, "order", 2).await;
        let raw = sqlx::PgPool::connect(&server.url).await.expect("raw pool");
        for unit in [vec![Write::set(key!["k"], 1)], vec![Write::sum(key!["n"], 1)]] {
            let mut holder = raw.begin().await.expect("begin");
            sqlx::query("SELECT pg_advisory_xact_lock(7308892947790259298)")
                .execute(&mut *holder)
                .await
                .expect("take the commit lock");
            let waiting = tokio::spawn({
                let db = db.clone();
                async move { db.apply_batch(&unit).await }
            });
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let waiters: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                        .fetch_one(&raw)
                        .await
                        .expect("read pg_locks");
                if waiters > 0 {
                    break;
                }
                assert!(Instant::now() < deadline, "the unit never waited for the commit lock");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let drawn: i64 = sqlx::query_scalar("SELECT nextval('enginedb_version')")
                .fetch_one(&mut *holder)
                .await
                .expect("draw while holding the lock");
            holder.commit().await.expect("release the lock");
            let version = waiting.await.expect("join").expect("the unit commits");
            assert!(version.0 > drawn as u64, "{version:?} drawn before {drawn}");
        }
    });
}

/// A unit holding the commit lock does not wait for a row an open transaction holds (that
/// transaction takes the same lock to commit, so waiting could deadlock): it fails with
/// `Conflict` at once, the transaction then commits, and the unit re-run commits after it.
#[test]
fn a_unit_does_not_wait_for_an_open_transactions_row() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let mut config = PgConfig::new(server.url.as_str());
        config.namespace = Some("held".into());
        config.read_retries = 0;
        let db = PgDb::open(config).await.expect("open");
        let mut tx = db.begin().await.expect("begin");
        tx.apply(&[Write::set(key!["k"], 1)]).await.expect("apply");
        let unit = tokio::time::timeout(Duration::from_secs(30), db.apply_batch(&[Write::set(key!["k"], 2)]))
            .await
            .expect("the unit returned while the transaction was open");
        assert_eq!(unit.map_err(|e| e.kind()), Err(enginedb::ErrorKind::Conflict));
        let first = tx.commit().await.expect("the transaction commits");
        let second = db.apply_batch(&[Write::set(key!["k"], 2)]).await.expect("re-run");
        assert!(second > first, "{second:?} after {first:?}");
        assert_eq!(int(db.get(&key!["k"]).await.expect("get").map(|e| e.value)), 2);
    });
}

/// A server that cannot be reached fails at once with `Unavailable` and the driver's reason,
/// not after the pool's acquire timeout as `Busy`.
#[test]
fn an_unreachable_server_fails_fast_as_unavailable() {
    common::block_on(async {
        // Port 1 on loopback: nothing listens there, so the connection is refused.
        let started = Instant::now();
        let error = PgDb::open_url("postgres://enginedb@127.0.0.1:1/nothing")
            .await
            .expect_err("nothing listens on port 1");
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
        assert!(error.to_string().to_lowercase().contains("refused"), "{error}");
        assert!(
            !error.to_string().contains("written"),
            "opening writes nothing: {error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    });
}

/// A server that goes away while the store is open: the next read and the next unit fail at
/// once with `Unavailable` and the driver's reason (nothing was sent), not as `Busy` after the
/// pool's acquire timeout.
#[test]
fn a_server_gone_mid_run_fails_fast_as_unavailable() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let db = Db::from(pool(&server.url, "gone", 2).await);
        db.set(key!["k"], 1).await.expect("a write while the server is up");
        server.crash().expect("pg_ctl stop -m immediate");
        let started = Instant::now();
        let read = db.get(&key!["k"]).await.expect_err("the server is gone");
        let write = db.set(key!["k"], 2).await.expect_err("the server is gone");
        let elapsed = started.elapsed();
        assert_eq!(read.kind(), ErrorKind::Unavailable, "{read}");
        assert!(!read.to_string().contains("written"), "a read's message: {read}");
        assert_eq!(write.kind(), ErrorKind::Unavailable, "{write}");
        assert!(write.to_string().ends_with("nothing was written"), "{write}");
        assert!(
            elapsed < Duration::from_secs(3),
            "took {elapsed:?} (the acquire timeout is 5 s)"
        );
        server.restart().expect("restart");
        assert_eq!(
            int(db
                .get(&key!["k"])
                .await
                .expect("read once the server is back")
                .map(|e| e.value)),
            1
        );
    });
}

/// A stored version no commit can have (0 outside the transaction that wrote it, negative)
/// reads as `Corrupt`, never as the largest version there is.
#[test]
fn an_impossible_stored_version_is_corrupt() {
    let server = common::PgServer::throwaway().expect("a throwaway cluster");
    common::block_on(async {
        let db = Db::from(pool(&server.url, "versions", 2).await);
        db.set(key!["k"], 1).await.expect("write");
        let raw = sqlx::PgPool::connect(&server.url).await.expect("raw pool");
        for bad in [0i64, -5] {
            sqlx::query("UPDATE enginedb_entries SET ver = $1")
                .bind(bad)
                .execute(&raw)
                .await
                .expect("tamper");
            let error = db.get(&key!["k"]).await.expect_err("corrupt");
            assert_eq!(error.kind(), ErrorKind::Corrupt, "{bad}: {error}");
            let listed = db.list(enginedb::Selector::prefix(key![])).collect().await;
            assert_eq!(listed.map_err(|e| e.kind()), Err(ErrorKind::Corrupt), "{bad}");
        }
    });
}
