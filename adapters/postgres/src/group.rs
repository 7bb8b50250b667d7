//! Group commit: units queued in this process while commits are in flight share the next one
//! (one statement, one transaction, one WAL flush; `enginedb_sql::postgres::UNITS`), each in a
//! subtransaction of its own, so a unit that fails fails alone. A unit that finds nothing in
//! flight commits at once in its caller's task (a lone committer pays no hand-over); otherwise
//! it queues, and fewer than [`IN_FLIGHT`] committing tasks start one: tasks of their own commit
//! group after group until the queue is empty. So no caller's progress depends on another caller
//! polling its future, and a caller that gives up before its queued unit is sent (drops its
//! future) leaves nothing written.
//!
//! Versions still follow commit order across processes: a group draws its units' versions in
//! order under the commit lock, which it holds until it commits.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use enginedb::port::replicate;
use enginedb::{Error, Result, Version};
use enginedb_sql::guard;
use enginedb_sql::postgres::{self, Group, UnitArrays};
use sqlx::Row;
use tokio::sync::oneshot;

use crate::Shared;
use crate::exec::{self, map_err, unit_error};

/// The most bytes of keys and values a group gathers beyond its first unit.
const MAX_GROUP_BYTES: usize = 8 << 20;

/// Commits in flight at once: two, so that the next one is on its way (and gathering a group)
/// while the server flushes the last.
const IN_FLIGHT: usize = 2;

/// The units waiting for the next commit, and how many commits are in flight.
#[derive(Default)]
pub(crate) struct Queue(Mutex<Waiting>);

#[derive(Default)]
struct Waiting {
    units: VecDeque<Pending>,
    /// Tasks committing (at most [`IN_FLIGHT`]).
    committing: usize,
    /// Units committing in their callers' tasks (lone committers).
    inline: usize,
}

struct Pending {
    arrays: UnitArrays,
    answer: oneshot::Sender<Result<Version>>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next group: the oldest unit, then as many more as fit; units whose caller gave up
    /// are dropped unsent. Empty when the queue is: the caller's task then ends, counted out
    /// under the same lock, so a unit queued meanwhile starts a task of its own.
    fn next_group(&self) -> Vec<Pending> {
        let mut waiting = self.lock();
        waiting.units.retain(|unit| !unit.answer.is_closed());
        let mut group: Vec<Pending> = Vec::new();
        let mut bytes = 0;
        while let Some(unit) = waiting.units.front() {
            let weight = unit.arrays.bytes();
            if !group.is_empty() && (group.len() == postgres::MAX_GROUP_UNITS || bytes + weight > MAX_GROUP_BYTES) {
                break;
            }
            bytes += weight;
            group.extend(waiting.units.pop_front());
        }
        if group.is_empty() {
            waiting.committing -= 1;
        }
        group
    }
}

/// Commits `arrays` as one unit, alone or in a group; returns its version.
pub(crate) async fn commit(shared: &Arc<Shared>, arrays: UnitArrays) -> Result<Version> {
    let queued = {
        let mut waiting = shared.queue.lock();
        if waiting.committing == 0 && waiting.inline == 0 && waiting.units.is_empty() {
            waiting.inline += 1;
            Err(arrays)
        } else {
            let (answer, answered) = oneshot::channel();
            waiting.units.push_back(Pending { arrays, answer });
            let start = waiting.committing < IN_FLIGHT;
            if start {
                waiting.committing += 1;
            }
            Ok((answered, start))
        }
    };
    let (answered, start) = match queued {
        Err(arrays) => {
            let _inline = Inline(shared);
            return commit_alone(shared, &arrays).await;
        }
        Ok(queued) => queued,
    };
    if start {
        tokio::spawn(drain(shared.clone()));
    }
    answered.await.unwrap_or_else(|_| {
        Err(Error::OutcomeUnknown {
            message: "the group commit carrying the unit ended before it answered".into(),
        })
    })
}

/// A lone committer's unit under way in its own task, counted in [`Waiting::inline`] until it
/// ends (or its caller drops it).
struct Inline<'a>(&'a Shared);

impl Drop for Inline<'_> {
    fn drop(&mut self) {
        self.0.queue.lock().inline -= 1;
    }
}

/// Commits groups until the queue is empty.
async fn drain(shared: Arc<Shared>) {
    let mut draining = Draining(&shared, true);
    loop {
        let mut group = shared.queue.next_group();
        match group.len() {
            0 => break,
            1 => {
                if let Some(unit) = group.pop() {
                    let _ = unit.answer.send(commit_alone(&shared, &unit.arrays).await);
                }
            }
            _ => commit_group(&shared, group).await,
        }
    }
    draining.1 = false;
}

/// A committing task, counted in [`Waiting::committing`] while `.1`. One that ends before the
/// queue ran dry (a panic, or its runtime shutting down) counts itself out, and if no other is
/// left, answers the units still queued: they were never sent.
struct Draining<'a>(&'a Shared, bool);

impl Drop for Draining<'_> {
    fn drop(&mut self) {
        if !self.1 {
            return;
        }
        let mut waiting = self.0.queue.lock();
        waiting.committing -= 1;
        if waiting.committing == 0 {
            for unit in waiting.units.drain(..) {
                let _ = unit.answer.send(Err(Error::Closed));
            }
        }
    }
}

/// One unit by itself, as one statement.
async fn commit_alone(shared: &Shared, arrays: &UnitArrays) -> Result<Version> {
    // A connection first: failing to get one sends nothing, whatever the reason.
    let mut connection = shared.connector.acquire().await?;
    shared.statements.fetch_add(1, Ordering::Relaxed);
    exec::unit(&mut *connection, arrays).await
}

/// Several units as one statement; each is answered with its own outcome.
async fn commit_group(shared: &Shared, units: Vec<Pending>) {
    let mut group = Group::default();
    let mut answers = Vec::with_capacity(units.len());
    for unit in units {
        group.push(unit.arrays);
        answers.push(unit.answer);
    }
    let rows = async {
        let mut connection = shared.connector.acquire().await?;
        shared.statements.fetch_add(1, Ordering::Relaxed);
        let statement = sqlx::query(postgres::UNITS)
            .bind(&group.last)
            .bind(&group.arrays.kind)
            .bind(&group.arrays.key)
            .bind(&group.arrays.end)
            .bind(&group.arrays.blob)
            .bind(&group.arrays.num)
            .bind(&group.arrays.num2);
        statement.fetch_all(&mut *connection).await.map_err(unit_error)
    }
    .await;
    match rows {
        Ok(rows) => {
            let mut rows = rows.iter();
            for answer in answers {
                let outcome = rows.next().map_or_else(
                    || {
                        Err(Error::OutcomeUnknown {
                            message: "the group committed without answering for this unit".into(),
                        })
                    },
                    outcome,
                );
                let _ = answer.send(outcome);
            }
        }
        // The statement failed whole: no unit of it was written (or, for a lost connection,
        // none is known to be).
        Err(error) => {
            for answer in answers {
                let _ = answer.send(Err(replicate(&error)));
            }
        }
    }
}

/// A unit's row of a group: its version, or the error it failed with alone.
fn outcome(row: &sqlx::postgres::PgRow) -> Result<Version> {
    let failure: Option<String> = row.try_get("failure").map_err(committed_unread)?;
    if let Some(failure) = failure {
        return Err(unit_failure(&failure));
    }
    let version: i64 = row.try_get("version").map_err(committed_unread)?;
    u64::try_from(version).map(Version).map_err(|_| Error::OutcomeUnknown {
        message: format!("the unit committed with version {version}, which is no version"),
    })
}

/// The unit committed with its group, but its row does not read back.
fn committed_unread(error: sqlx::Error) -> Error {
    Error::OutcomeUnknown {
        message: format!(
            "the group committed but this unit's outcome did not read back: {}",
            map_err(error)
        ),
    }
}

/// The error a unit failed with inside a group (`"SQLSTATE message"`), as it would have failed
/// alone: a guard's `CheckFailed`/`SumFailed`, a held row or a lost race a `Conflict` to re-run.
fn unit_failure(failure: &str) -> Error {
    if let Some(guarded) = guard::parse(failure) {
        return guarded;
    }
    match failure.split_once(' ').map(|(code, _)| code) {
        Some("55P03") => Error::Conflict {
            message: "a row of the unit is held by an open transaction".into(),
        },
        Some("40001" | "40P01") => Error::Conflict {
            message: failure.to_owned(),
        },
        _ => Error::backend("postgres", failure.to_owned()),
    }
    .on_write()
}

#[cfg(test)]
mod tests {
    use enginedb::{ErrorKind, SumFailure};

    use super::*;

    #[test]
    fn a_unit_fails_in_a_group_as_it_would_alone() {
        assert!(matches!(
            unit_failure("P0001 enginedb-guard:check:3"),
            Error::CheckFailed { index: 3, .. }
        ));
        assert!(matches!(
            unit_failure("P0001 enginedb-guard:overflow:0"),
            Error::SumFailed {
                reason: SumFailure::Overflow,
                ..
            }
        ));
        assert_eq!(unit_failure("55P03 lock timeout").kind(), ErrorKind::Conflict);
        assert_eq!(unit_failure("40001 could not serialize").kind(), ErrorKind::Conflict);
        let other = unit_failure("23514 check constraint");
        assert_eq!(other.kind(), ErrorKind::Backend);
        assert!(other.to_string().contains("nothing was written"), "{other}");
    }
}
