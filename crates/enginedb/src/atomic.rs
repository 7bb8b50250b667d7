//! The resolver: runs a unit of write ops with the strongest guarantee the adapter offers and
//! says which one it got (DESIGN §4).

use crate::apply::{State, Stored, apply_unit};
use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::validate_unit;
use crate::model::{ByteRange, ListOptions, Selector, Version, Write};
use crate::port::EngineDb;
use crate::transact::{RetryPolicy, backoff};

/// How a unit was run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// In one interactive transaction: atomic and isolated.
    Transaction,
    /// As one atomic batch: atomic and isolated.
    Batch,
    /// Op by op: each op atomic by itself; a failure midway is a `PartialWrite`.
    Sequential,
}

impl Mode {
    /// Whether the unit applied all or nothing.
    pub fn is_atomic(self) -> bool {
        self != Mode::Sequential
    }
}

/// What the caller accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Atomicity {
    /// All or nothing, or refuse with `Unsupported` (nothing written).
    Require,
    /// All or nothing where the adapter can; else sequential, reported as such.
    BestEffort,
}

/// A committed unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Commit {
    /// The version of the commit. In sequential mode: that of the last op written, or
    /// [`Version::ZERO`] when the unit only checked.
    pub version: Version,
    /// How the unit ran.
    pub mode: Mode,
}

/// Runs `ops` as one unit: in a transaction if the adapter has them, else as one atomic batch,
/// else (unless `atomicity` is [`Atomicity::Require`]) sequentially.
///
/// Every mode validates the whole unit first: bad input writes nothing. In the atomic modes a
/// unit that fails with `Conflict` or `Busy` (so wrote nothing) is run again, with backoff, up
/// to [`UNIT_RETRIES`]' attempts before the error is returned. Sequential mode then
/// dry-runs every precondition against the current data before the first write, and applies
/// the ops one by one; if one fails after others were applied it returns `PartialWrite`.
///
/// # Errors
/// `InvalidInput`/`LimitExceeded` (nothing written), `CheckFailed`/`SumFailed` (nothing
/// written), `Unsupported` (nothing written), `PartialWrite` (sequential only), or the
/// adapter's error (nothing written in the atomic modes).
pub async fn run_atomic_writes(db: &dyn EngineDb, ops: &[Write], atomicity: Atomicity) -> Result<Commit> {
    validate_unit(ops)?;
    if let Some(transactions) = db.transactions() {
        let version = retrying(db, || transactions.run_unit(ops)).await?;
        return Ok(Commit {
            version,
            mode: Mode::Transaction,
        });
    }
    if let Some(batches) = db.batches() {
        let version = retrying(db, || batches.apply_batch(ops)).await?;
        return Ok(Commit {
            version,
            mode: Mode::Batch,
        });
    }
    if atomicity == Atomicity::Require {
        return Err(Error::Unsupported {
            operation: "atomic multi-op unit",
            adapter: db.info().name,
        });
    }
    run_sequentially(db, ops).await
}

/// How patiently a unit that lost a race is run again: units on a hot key contend hard on
/// SERIALIZABLE stores, and re-running a prebuilt unit is always safe.
pub const UNIT_RETRIES: RetryPolicy = RetryPolicy {
    max_attempts: 50,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(50),
};

/// Runs an atomic attempt again, with backoff, while it fails with a retryable error: a unit
/// that lost a serialization race or found the store locked wrote nothing, and it reads nothing
/// on the caller's behalf, so running it again is always safe.
async fn retrying<F, Fut>(db: &dyn EngineDb, mut attempt: F) -> Result<Version>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Version>>,
{
    let policy = UNIT_RETRIES;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if error.is_retryable() && tries < policy.max_attempts => {
                tries += 1;
                db.pause(backoff(&policy, tries)).await;
            }
            other => return other,
        }
    }
}

async fn run_sequentially(db: &dyn EngineDb, ops: &[Write]) -> Result<Commit> {
    dry_run(db, ops).await?;
    let mut applied = 0;
    let mut version = Version::ZERO;
    for (index, op) in ops.iter().enumerate() {
        match db.write(op).await {
            Ok(_) if op.is_precondition() => {}
            Ok(v) => {
                applied += 1;
                version = v;
            }
            Err(error) if applied == 0 => return Err(reindex(error, index)),
            Err(error) => {
                return Err(Error::PartialWrite {
                    applied,
                    failed_at: index,
                    source: Box::new(reindex(error, index)),
                });
            }
        }
    }
    Ok(Commit {
        version,
        mode: Mode::Sequential,
    })
}

/// Loads every key and span the unit touches and runs the unit against that copy, so a unit
/// whose preconditions do not hold now fails before its first write.
async fn dry_run(db: &dyn EngineDb, ops: &[Write]) -> Result<()> {
    let mut state = State::new();
    let keys: Vec<_> = ops.iter().filter_map(Write::key).cloned().collect();
    for chunk in keys.chunks(crate::limits::MAX_GET_MANY) {
        for entry in db.get_many(chunk).await?.into_iter().flatten() {
            state.insert(
                entry.key.encode(),
                Stored {
                    value: entry.value,
                    version: entry.version,
                },
            );
        }
    }
    for op in ops {
        let (selector, range) = match op {
            Write::DeleteRange { range } => (range.clone(), range.byte_range()?),
            Write::CheckRange { range, .. } => (covering_selector(range), range.clone()),
            _ => continue,
        };
        load_span(db, &mut state, &selector, &range).await?;
    }
    apply_unit(&mut state, ops, Version::PENDING).map(drop)
}

/// Copies the entries of `range` (read through `selector`, which covers it) into `state`.
async fn load_span(db: &dyn EngineDb, state: &mut State, selector: &Selector, range: &ByteRange) -> Result<()> {
    let mut options = ListOptions::default();
    loop {
        let page = db.list(selector, &options).await?;
        for entry in page.entries {
            let encoded = entry.key.encode();
            if range.contains(&encoded) {
                state.insert(
                    encoded,
                    Stored {
                        value: entry.value,
                        version: entry.version,
                    },
                );
            }
        }
        match page.cursor {
            Some(cursor) if options.cursor.as_ref() == Some(&cursor) => {
                return Err(Error::Corrupt {
                    message: format!("listing {selector:?} returned the same cursor twice"),
                });
            }
            Some(cursor) => options.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
}

/// A selector whose keys include every key of `range`: the exact one when both bounds are
/// whole keys or the span is a prefix span, else everything.
fn covering_selector(range: &ByteRange) -> Selector {
    if let (Ok(start), Ok(end)) = (Key::decode(&range.start), Key::decode(&range.end)) {
        if start <= end {
            return Selector::Range { start, end };
        }
    }
    let prefix = range.end.strip_suffix(&[0xFF]).and_then(|stem| Key::decode(stem).ok());
    Selector::Prefix(prefix.unwrap_or_default())
}

/// Points an op-level error at the op's index within the whole unit.
fn reindex(error: Error, index: usize) -> Error {
    match error {
        Error::CheckFailed { .. } => Error::CheckFailed { index },
        Error::SumFailed { reason, .. } => Error::SumFailed { index, reason },
        other => other,
    }
}
