//! [`Transaction`]: `transact` with a retry policy of its own, reporting how it committed.

use tracing::Instrument;

use crate::error::{Error, ErrorKind, Result};
use crate::retry::RetryPolicy;
use crate::tx::{Transacted, Tx};

use super::Db;

impl Db {
    /// Runs `body` in a serializable transaction and commits what it wrote, retrying it under
    /// this handle's [`RetryPolicy`] when it loses a race; returns what `body` returned. See
    /// [`Transaction`] for a policy per call, and the attempts and commit of the result.
    ///
    /// ```
    /// use enginedb::{Db, MemoryDb, key};
    ///
    /// #[derive(Debug)]
    /// enum AppError { Store(enginedb::Error), Empty }
    /// impl From<enginedb::Error> for AppError {
    ///     fn from(e: enginedb::Error) -> Self { AppError::Store(e) }
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let db = Db::from(MemoryDb::new());
    /// let k = key!["stock", "apples"];
    /// db.set(k.clone(), 3).await?;
    /// let left = db.transact(async |tx| {
    ///     let n = tx.get(&k).await?.and_then(|e| e.value.as_i64()).unwrap_or(0);
    ///     if n == 0 {
    ///         return Err(AppError::Empty);
    ///     }
    ///     tx.set(k.clone(), n - 1);
    ///     Ok(n - 1)
    /// }).await?;
    /// assert_eq!(left, 2);
    /// # Ok::<(), AppError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// `body` may run more than once, so it must be safe to repeat; it borrows what it
    /// captures. It works through `tx` only: on a store with one writer (MemoryDb, SQLite,
    /// redb) a write through a `Db` of the same store inside the body waits for the
    /// transaction to end — forever on MemoryDb, until the transaction's idle timeout ends it
    /// on SQLite and redb. On a store with only batches (D1) the
    /// whole transaction — a check per key read, a fingerprint per span listed, and its
    /// writes — must fit the limits of one unit. In a future that must be `Send` (`tokio::spawn`, an axum handler), a body
    /// that captures references hits a limitation of today's compiler ("implementation of
    /// `Send` is not general enough"): make it `async move` over owned values instead.
    ///
    /// # Errors
    /// `body`'s own error (the transaction is rolled back and nothing is written);
    /// `Conflict` when every attempt lost a race, `Busy` when the last found the store
    /// locked; `Unsupported` on a store with neither transactions nor batches; the errors of
    /// reads and writes as for [`Db::get`] and [`crate::Atomic::commit`].
    pub async fn transact<T, E, F>(&self, body: F) -> Result<T, E>
    where
        F: AsyncFnMut(&mut Tx) -> Result<T, E>,
        E: From<Error>,
    {
        Ok(self.transaction().run(body).await?.value)
    }

    /// A transaction whose retry policy can be set for this call: see [`Transaction`].
    pub fn transaction(&self) -> Transaction<'_> {
        Transaction::new(self)
    }
}

/// A read-modify-write transaction on a [`Db`], from [`Db::transaction`]; [`Db::transact`] is
/// the shorthand that returns only the body's value.
#[must_use = "a transaction does nothing until it is run"]
pub struct Transaction<'db> {
    db: &'db Db,
    retry: RetryPolicy,
}

impl<'db> Transaction<'db> {
    fn new(db: &'db Db) -> Self {
        Transaction { db, retry: db.retry }
    }

    /// Retries under `policy` instead of the handle's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Runs `body` in a serializable transaction and commits what it wrote.
    ///
    /// Where the store has transactions `body` runs inside one. On a batch-only store (D1) it
    /// runs optimistically: reads are recorded, writes buffered, and the commit is one atomic
    /// batch carrying a check of every key read and a fingerprint of every span listed, so a
    /// concurrent change to anything read fails the commit. A lost race (`Conflict`) runs
    /// `body` again, with backoff, up to the policy's attempts.
    ///
    /// # Errors
    /// As [`Db::transact`].
    pub async fn run<T, E, F>(self, body: F) -> Result<Transacted<T>, E>
    where
        F: AsyncFnMut(&mut Tx) -> Result<T, E>,
        E: From<Error>,
    {
        let span = self.db.span("transact");
        self.attempts(body).instrument(span).await
    }

    async fn attempts<T, E, F>(self, mut body: F) -> Result<Transacted<T>, E>
    where
        F: AsyncFnMut(&mut Tx) -> Result<T, E>,
        E: From<Error>,
    {
        let store = self.db.store().map_err(Error::on_write)?;
        let attempts = self.retry.max_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            if attempt > 1 {
                store.pause(self.retry.backoff(attempt)).await;
            }
            let mut tx = match Tx::begin(
                store,
                self.db.read_only_adapter(),
                self.db.sees_library(),
                self.db.clock(),
            )
            .await
            {
                Ok(tx) => tx,
                Err(error) if error.kind() == ErrorKind::Conflict => {
                    last = Some(error);
                    continue;
                }
                Err(error) => return Err(error.on_write().into()),
            };
            let outcome = body(&mut tx).await;
            // An attempt that lost a race (a read or write met a `Conflict`) runs again,
            // whatever the body made of the error; any other failure is the body's own.
            if let Some(lost) = tx.lost_race() {
                tx.rollback().await;
                last = Some(lost);
                continue;
            }
            let value = match outcome {
                Ok(value) => value,
                Err(error) => {
                    tx.rollback().await;
                    return Err(error);
                }
            };
            match tx.commit().await {
                Ok(commit) => {
                    return Ok(Transacted {
                        value,
                        commit,
                        attempts: attempt,
                    });
                }
                Err(error) if error.kind() == ErrorKind::Conflict => last = Some(error),
                Err(error) => return Err(error.on_write().into()),
            }
        }
        Err(gave_up(attempts, last).into())
    }
}

/// The error of a transaction that lost every race it ran.
fn gave_up(attempts: u32, last: Option<Error>) -> Error {
    let last = match last {
        Some(Error::Conflict { message }) => message,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Error::Conflict {
        message: format!("gave up after {attempts} attempts; last: {last}"),
    }
}
