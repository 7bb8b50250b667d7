//! The resolver: runs a unit of write ops with the strongest guarantee the adapter offers and
//! says which one it got (DESIGN §5).

use std::future::Future;

use crate::commit::{Atomicity, Commit, Mode};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use crate::model::{ByteRange, ListOptions, Selector, Write};
use crate::port::{EncodedWrite, EngineDb, State, Stored, apply_unit};
use crate::retry::RetryPolicy;
use crate::validate::validate_unit;
use crate::version::Version;

/// Runs `ops` as one unit: in a transaction if the adapter has them, else as one atomic batch,
/// else (unless `atomicity` is [`Atomicity::Require`]) sequentially. This is the resolver
/// behind [`crate::Db::atomic`], under the default [`RetryPolicy`].
///
/// Every mode validates the whole unit first: bad input writes nothing. In the atomic modes a
/// unit that loses a race (`Conflict`, so it wrote nothing) is run again, with backoff, under
/// the retry policy. Sequential mode dry-runs every precondition against the current
/// data before the first write, then applies the ops one by one; if one fails after others
/// were applied it returns `PartialWrite`.
///
/// # Errors
/// `InvalidInput`/`LimitExceeded`, `CheckFailed`/`SumFailed` naming the op and its key,
/// `Unsupported`, or the adapter's error — all with nothing written; `PartialWrite`
/// (sequential only); `OutcomeUnknown` when the commit may have happened.
pub async fn run_atomic_writes(db: &dyn EngineDb, ops: &[Write], atomicity: Atomicity) -> Result<Commit> {
    resolve(db, ops, atomicity, &RetryPolicy::default()).await
}

/// [`run_atomic_writes`] under `policy`.
pub(crate) async fn resolve(
    db: &dyn EngineDb,
    ops: &[Write],
    atomicity: Atomicity,
    policy: &RetryPolicy,
) -> Result<Commit> {
    validate_unit(ops)?;
    let commit = if let Some(transactions) = db.transactions() {
        retrying(db, policy, || transactions.run_unit(ops))
            .await
            .map(|version| Commit {
                version,
                mode: Mode::Transaction,
            })
    } else if let Some(batches) = db.batches() {
        retrying(db, policy, || batches.apply_batch(ops))
            .await
            .map(|version| Commit {
                version,
                mode: Mode::Batch,
            })
    } else if atomicity == Atomicity::Require {
        Err(Error::Unsupported {
            operation: "atomic multi-op unit",
            adapter: db.info().name,
        })
    } else {
        run_sequentially(db, ops, policy).await
    };
    commit.map_err(|error| name_op(error, ops, 0).on_write())
}

/// Applies one op by itself (atomic in every mode) under `policy`.
pub(crate) async fn write_one(db: &dyn EngineDb, op: &Write, policy: &RetryPolicy) -> Result<Version> {
    let ops = std::slice::from_ref(op);
    validate_unit(ops)?;
    retrying(db, policy, || db.write(op))
        .await
        .map_err(|error| name_op(error, ops, 0).on_write())
}

/// Runs an atomic attempt again, with backoff, while it loses a race (`Conflict`): it wrote
/// nothing, and it reads nothing on the caller's behalf, so running it again is always safe.
/// `Busy` is not retried: the store already waited for its lock.
async fn retrying<F, Fut>(db: &dyn EngineDb, policy: &RetryPolicy, mut attempt: F) -> Result<Version>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Version>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if error.kind() == ErrorKind::Conflict && tries < policy.max_attempts => {
                tries += 1;
                db.pause(policy.backoff(tries)).await;
            }
            other => return other,
        }
    }
}

/// `CheckFailed` and `SumFailed` at an index of `ops` name that op's key, and count from
/// `first` (the index of `ops[0]` in the whole unit or transaction).
pub(crate) fn name_op(error: Error, ops: &[Write], first: usize) -> Error {
    match error {
        Error::CheckFailed { index, .. } | Error::SumFailed { index, .. } => {
            let key = ops.get(index).and_then(Write::key);
            error.at_op(first + index, key)
        }
        Error::PartialWrite {
            applied,
            failed_at,
            source,
        } => Error::PartialWrite {
            applied,
            failed_at: first + failed_at,
            source: Box::new(name_op(*source, ops, first)),
        },
        other => other,
    }
}

/// Each op is atomic by itself, so one that lost a race is run again under `policy`.
async fn run_sequentially(db: &dyn EngineDb, ops: &[Write], policy: &RetryPolicy) -> Result<Commit> {
    dry_run(db, ops).await?;
    let mut applied = 0;
    let mut version = Version::ZERO;
    for (index, op) in ops.iter().enumerate() {
        match retrying(db, policy, || db.write(op)).await {
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
                entry.key.into(),
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
    // A versionstamped key is not known before its commit, and no precondition can name it.
    let mut unit = EncodedWrite::unit(ops)?;
    unit.retain(|op| !matches!(op, EncodedWrite::SetVersionstamped { .. }));
    apply_unit(&mut state, &unit, Version::PENDING).map(drop)
}

/// Copies the entries of `range` (read through `selector`, which covers it) into `state`.
async fn load_span(db: &dyn EngineDb, state: &mut State, selector: &Selector, range: &ByteRange) -> Result<()> {
    let mut options = ListOptions::default();
    loop {
        let page = db.list(selector, &options).await?;
        for entry in page.entries {
            let encoded: Vec<u8> = entry.key.into();
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
/// whole keys or the span is a prefix span, else everything (the empty prefix).
fn covering_selector(range: &ByteRange) -> Selector {
    let Some(end) = &range.end else {
        return Selector::prefix(Key::default());
    };
    if let (Ok(start), Ok(end)) = (Key::decode(&range.start), Key::decode(end))
        && start <= end
    {
        return Selector::range(start, end);
    }
    let prefix = end.strip_suffix(&[0xFF]).and_then(|stem| Key::decode(stem).ok());
    Selector::prefix(prefix.unwrap_or_default())
}

/// Points an op-level error at the op's index within the whole unit.
fn reindex(error: Error, index: usize) -> Error {
    error.at_op(index, None)
}
