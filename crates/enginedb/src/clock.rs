//! The time the library reads, for queues (when a message is ready, when a lease ends):
//! injectable, so tests and simulations move it by hand, and portable (wasm32 has no
//! `SystemTime::now`).

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::port::MaybeSendSync;

/// A source of the current time.
pub trait Clock: MaybeSendSync + Debug {
    /// Now, as milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The machine's clock (JavaScript's `Date.now()` on wasm32): what a [`crate::Db`] reads
/// unless given another with [`crate::Db::with_clock`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    fn now_ms(&self) -> u64 {
        // A clock before 1970 reads as the epoch.
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    #[cfg(target_arch = "wasm32")]
    fn now_ms(&self) -> u64 {
        // Whole non-negative milliseconds, far below 2^53: the conversion is exact.
        js_sys::Date::now().max(0.0) as u64
    }
}

/// A clock that moves only when told to: for tests. Clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at `at`.
    pub fn at(at: SystemTime) -> ManualClock {
        let clock = ManualClock::default();
        clock.set(at);
        clock
    }

    /// Sets the time.
    pub fn set(&self, at: SystemTime) {
        let ms = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        self.0.store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// Moves the time on by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| Some(ms.saturating_add(by)));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
