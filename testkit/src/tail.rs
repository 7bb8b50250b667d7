//! The feed tail: committers emit events while a reader tails the feed from just past the last
//! event it read. Versions follow commit order, so the tail must see cursors only increase,
//! and at the end the whole feed must be exactly what it saw: no event may appear behind it.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use enginedb::{Db, Event, FeedCursor, key};
use futures::TryStreamExt;

/// What a [`feed_tail`] came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tail {
    /// Units committed, each with one event.
    pub committed: usize,
    /// Events the tail read, in the order it read them.
    pub seen: usize,
    /// Reads that returned a cursor at or before the last one seen.
    pub backwards: usize,
    /// Events in the final feed the tail had passed without seeing (a gap filled later).
    pub filled_later: usize,
    /// The first error of a committer or of the tail, if any.
    pub first_failure: Option<String>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Tail {
    /// Whether the feed held: every commit's event seen once, in order, nothing filled later.
    pub fn held(&self) -> bool {
        self.committed == self.seen && self.backwards == 0 && self.filled_later == 0 && self.first_failure.is_none()
    }
}

impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "feed tail: {} units committed, {} events seen, {} backwards, {} filled later, in {:.1}s",
            self.committed,
            self.seen,
            self.backwards,
            self.filled_later,
            self.elapsed.as_secs_f64()
        )?;
        if let Some(failure) = &self.first_failure {
            write!(f, "; first failure: {failure}")?;
        }
        Ok(())
    }
}

/// Runs `committers` concurrent tasks (futures on the caller's executor) committing units of a
/// set and an event to the feed `"tail"` of `db` for `run_for`, while one more task tails that
/// feed; then compares what the tail saw with the whole feed.
pub async fn feed_tail(db: &Db, committers: usize, run_for: Duration) -> Tail {
    let started = Instant::now();
    let finished = Cell::new(0);
    let committer = |id: usize| {
        let finished = &finished;
        async move {
            let outcome = commit_for(db, id, started, run_for).await;
            finished.set(finished.get() + 1);
            outcome
        }
    };
    let tail = async {
        let (mut seen, mut backwards) = (Vec::<FeedCursor>::new(), 0);
        // One more read once every committer has stopped, to catch up.
        let mut last_round = false;
        loop {
            let done = finished.get() == committers;
            let events: Vec<Event> = db.feed("tail").since(seen.last().copied()).read().await?;
            for event in events {
                if seen.last().is_some_and(|last| event.cursor <= *last) {
                    backwards += 1;
                }
                seen.push(event.cursor);
            }
            if last_round {
                return Ok::<_, enginedb::Error>((seen, backwards));
            }
            last_round = done;
        }
    };
    let (outcomes, tailed) = futures::join!(futures::future::join_all((0..committers).map(committer)), tail);
    let committed = outcomes.iter().map(|(n, _)| n).sum();
    let mut failures: Vec<String> = outcomes.into_iter().filter_map(|(_, f)| f).collect();
    let (seen, backwards) = tailed.unwrap_or_else(|error| {
        failures.push(format!("tail: {error}"));
        (Vec::new(), 0)
    });
    let seen_set: HashSet<FeedCursor> = seen.iter().copied().collect();
    let whole: Result<Vec<Event>, _> = db.feed("tail").since(None).stream().try_collect().await;
    let filled_later = match whole {
        Ok(whole) => whole.iter().filter(|e| !seen_set.contains(&e.cursor)).count(),
        Err(error) => {
            failures.push(format!("final read: {error}"));
            0
        }
    };
    Tail {
        committed,
        seen: seen.len(),
        backwards,
        filled_later,
        first_failure: failures.into_iter().next(),
        elapsed: started.elapsed(),
    }
}

/// One committer: units of a set and an event until `run_for` has passed since `started`;
/// how many it committed, and its error if one stopped it.
async fn commit_for(db: &Db, id: usize, started: Instant, run_for: Duration) -> (usize, Option<String>) {
    let mut committed = 0;
    while started.elapsed() < run_for {
        let unit = db
            .atomic()
            .set(key!["tail", id as i64], committed as i64)
            .emit("tail", format!("{id}/{committed}"))
            .commit()
            .await;
        if let Err(error) = unit {
            return (committed, Some(error.to_string()));
        }
        committed += 1;
    }
    (committed, None)
}
