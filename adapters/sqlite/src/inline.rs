//! Reads on the caller's thread (a handle's opt-in: `SqliteDb::inline_reads`): connections kept
//! idle between reads, opened as they are first needed, closed with the store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use enginedb::{Error, Result};
use rusqlite::Connection;

use crate::connect::Opener;

/// The idle connections of reads made on callers' threads.
pub(crate) struct InlineReaders {
    opener: Opener,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl InlineReaders {
    pub(crate) fn new(opener: Opener) -> Self {
        InlineReaders {
            opener,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `read` on an idle connection (a new one if none is idle), blocking this thread.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let idle = self.idle().pop();
        let mut connection = match idle {
            Some(connection) => connection,
            None => self.opener.reader()?,
        };
        let result = read(&mut connection);
        // Checked under the lock `close` takes: a connection is kept only while open.
        let mut idle = self.idle();
        if !self.closed.load(Ordering::Acquire) {
            idle.push(connection);
        }
        result
    }

    /// Closes the idle connections; a read under way closes its own when it ends.
    pub(crate) fn close(&self) {
        let mut idle = self.idle();
        self.closed.store(true, Ordering::Release);
        idle.clear();
    }
}
