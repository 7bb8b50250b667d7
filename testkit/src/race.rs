//! The hot-key race: many tasks incrementing one key through `transact` at once, under the
//! store's retry policy. Every increment must land, and no task may give up.

use std::fmt;
use std::time::{Duration, Instant};

use enginedb::{Db, Error, key};

/// What a [`hot_key_race`] came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Race {
    /// Concurrent tasks.
    pub tasks: usize,
    /// Increments each task made (or tried).
    pub rounds: usize,
    /// The counter at the end.
    pub total: i64,
    /// Attempts of the transactions that committed.
    pub attempts: u64,
    /// Transactions that failed (a give-up under the retry policy, or any other error).
    pub gave_up: usize,
    /// The first failure, if any.
    pub first_failure: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for Race {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hot-key race, {} tasks x {} increments: total {}, {} attempts, {} gave up, in {:.1}s",
            self.tasks,
            self.rounds,
            self.total,
            self.attempts,
            self.gave_up,
            self.elapsed.as_secs_f64()
        )?;
        if let Some(failure) = &self.first_failure {
            write!(f, "; first failure: {failure}")?;
        }
        Ok(())
    }
}

/// Runs `tasks` concurrent tasks (futures on the caller's executor), each incrementing the key
/// `["hot"]` of `db` `rounds` times through `transact`, under `db`'s retry policy.
pub async fn hot_key_race(db: &Db, tasks: usize, rounds: usize) -> Race {
    let started = Instant::now();
    let task = |_| async {
        let (mut attempts, mut failures) = (0u64, Vec::new());
        for _ in 0..rounds {
            let done = db
                .transaction()
                .run(async |tx| {
                    let n = tx.get(&key!["hot"]).await?.and_then(|e| e.value.as_i64()).unwrap_or(0);
                    tx.set(key!["hot"], n + 1);
                    Ok::<_, Error>(())
                })
                .await;
            match done {
                Ok(done) => attempts += u64::from(done.attempts),
                Err(error) => failures.push(error.to_string()),
            }
        }
        (attempts, failures)
    };
    let outcomes = futures::future::join_all((0..tasks).map(task)).await;
    let total = match db.get(&key!["hot"]).await {
        Ok(entry) => entry.and_then(|e| e.value.as_i64()).unwrap_or(0),
        Err(_) => -1,
    };
    let failures: Vec<String> = outcomes.iter().flat_map(|(_, f)| f.iter().cloned()).collect();
    Race {
        tasks,
        rounds,
        total,
        attempts: outcomes.iter().map(|(a, _)| a).sum(),
        gave_up: failures.len(),
        first_failure: failures.into_iter().next(),
        elapsed: started.elapsed(),
    }
}
