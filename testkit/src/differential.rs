//! A differential test any adapter can run: random units — runs of sets, inserts, checks,
//! deletes and counter ops up to 40 long, over 6 keys (often the same) or 80, often failing —
//! applied to the store and to `MemoryDb`, the reference. Outcomes (version order aside) and
//! the data after every unit must be the same.

#![allow(clippy::expect_used, clippy::panic)] // test support fails loudly

use enginedb::{Atomicity, Db, Error, MemoryDb, Selector, Value, Version, Write, key};

/// A small, seeded generator (the run is the same every time).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What an outcome shows, versions aside.
fn shown(outcome: &Result<enginedb::Commit, Error>) -> String {
    match outcome {
        Ok(commit) => format!("ok {:?}", commit.mode),
        Err(Error::CheckFailed { index, .. }) => format!("check failed at {index}"),
        Err(Error::SumFailed { index, reason, .. }) => format!("sum failed at {index}: {reason}"),
        Err(error) => format!("{:?}", error.kind()),
    }
}

/// The entries of `db` as (key, value), versions aside.
async fn contents(db: &Db) -> Vec<(enginedb::Key, Value)> {
    let entries = db.list(Selector::prefix(key!["d"])).collect().await.expect("list");
    entries.into_iter().map(|e| (e.key, e.value)).collect()
}

/// One op, with a version check naming a commit by its position among the successful units
/// (each store gave that commit a version of its own), or a version no store has given.
struct Spec {
    kind: u64,
    key: enginedb::Key,
    n: i64,
    commit: Option<usize>,
}

impl Spec {
    fn op(&self, versions: &[Version]) -> Write {
        let (key, n) = (self.key.clone(), self.n);
        match self.kind {
            0 => Write::set(key, if n % 2 == 0 { Value::I64(n) } else { Value::from("b") }),
            1 => Write::insert(key, n),
            2 => Write::check(key, None),
            3 => Write::check(
                key,
                Some(
                    self.commit
                        .and_then(|c| versions.get(c))
                        .copied()
                        .unwrap_or(Version(1 << 62)),
                ),
            ),
            4 => Write::delete(key),
            5 => Write::sum(key, n),
            6 => Write::min(key, n),
            7 => Write::max(key, n),
            _ => Write::set(key, n),
        }
    }
}

/// Applies `rounds` random units to `db` (empty under `["d"]`) and to a `MemoryDb`, and panics
/// at the first unit whose outcome or resulting data differ.
pub async fn units_match_memory(db: &Db, rounds: u32) {
    let reference = Db::from(MemoryDb::new());
    let mut random = Lcg(0x5eed);
    // The versions each store gave the successful units, in order.
    let (mut ours, mut theirs): (Vec<Version>, Vec<Version>) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut specs = Vec::new();
        // Few keys (runs repeat them) or many (long runs of distinct keys), short units or long.
        let keys = if random.below(2) == 0 { 6 } else { 80 };
        let longest = if random.below(4) == 0 { 200 } else { 40 };
        let length = 1 + random.below(longest) as usize;
        while specs.len() < length {
            // Runs of one kind, so that adapters which fold runs are tested at their edges.
            let kind = random.below(9);
            let longest = if random.below(3) == 0 { 40 } else { 6 };
            let run = 1 + random.below(longest);
            for _ in 0..run {
                let n = match random.below(4) {
                    0 => i64::MAX - random.below(3) as i64,
                    1 => i64::MIN + random.below(3) as i64,
                    _ => random.below(7) as i64 - 3,
                };
                let commit = ours.len().checked_sub(1 + random.below(3) as usize);
                specs.push(Spec {
                    kind,
                    key: key!["d", random.below(keys) as i64],
                    n,
                    commit,
                });
            }
        }
        let mine: Vec<Write> = specs.iter().map(|s| s.op(&ours)).collect();
        let reference_ops: Vec<Write> = specs.iter().map(|s| s.op(&theirs)).collect();
        let expected = reference.write(&reference_ops, Atomicity::Require).await;
        let got = db.write(&mine, Atomicity::Require).await;
        assert_eq!(shown(&got), shown(&expected), "round {round}: {mine:?}");
        if let (Ok(got), Ok(expected)) = (&got, &expected) {
            ours.push(got.version);
            theirs.push(expected.version);
        }
        assert_eq!(
            contents(db).await,
            contents(&reference).await,
            "round {round}: {mine:?}"
        );
    }
}
