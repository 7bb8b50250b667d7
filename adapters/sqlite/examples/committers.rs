//! Probe: commits per second of N concurrent committers, each writing its own key. Not a
//! benchmark (that is `enginedb bench`); a quick look: `cargo run -p enginedb-sqlite --release
//! --example committers`.
#![allow(clippy::print_stdout, clippy::expect_used)]

use std::time::Instant;

use enginedb::{EngineDb, Write, key};
use enginedb_sqlite::{SqliteConfig, SqliteDb};

fn main() {
    futures::executor::block_on(async {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = SqliteDb::open(SqliteConfig::file(dir.path().join("probe.sqlite3")))
            .await
            .expect("open");
        for committers in [1usize, 8, 64] {
            let per = 1600 / committers;
            let started = Instant::now();
            let writers = (0..committers).map(|c| {
                let db = db.clone();
                async move {
                    for i in 0..per {
                        db.write(&Write::set(key!["c", c as i64, i as i64], 1))
                            .await
                            .expect("write");
                    }
                }
            });
            futures::future::join_all(writers).await;
            let rate = (per * committers) as f64 / started.elapsed().as_secs_f64();
            println!("{committers:>2} committers: {rate:>8.0} commits/s");
        }
    });
}
