//! How patiently work that lost a race is run again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often and how patiently units and `transact` bodies that lost a race (`Conflict`) are
/// run again. Set it on a [`crate::Db`] or per call. (`Busy` is not retried: the store has
/// already waited for its lock, as long as it was configured to.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Pause before the second attempt; it doubles each retry, with jitter.
    pub base_delay: Duration,
    /// The longest pause.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One attempt, no retry: the caller handles `Conflict` itself.
    pub const NONE: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// This policy with `max_attempts` attempts in all.
    #[must_use]
    pub fn attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The pause before attempt number `attempt` (2 or more): doubling from the base delay,
    /// capped, with jitter (between half and all of it).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        static JITTER: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
        let doubled = self.base_delay.saturating_mul(1 << attempt.saturating_sub(2).min(16));
        let ceiling = doubled.min(self.max_delay);
        // xorshift: enough to keep retrying peers apart; no randomness crate in the core.
        let mut x = JITTER.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        JITTER.store(x, Ordering::Relaxed);
        ceiling.mul_f64(0.5 + (x % 1000) as f64 / 2000.0)
    }
}

impl Default for RetryPolicy {
    /// 1,000 attempts, pauses from 1 ms doubling up to 50 ms: enough for 64 tasks incrementing
    /// one hot key at once, natively on PostgreSQL's SERIALIZABLE transactions or optimistically
    /// over batches, to all get through (a lone conflict costs a millisecond; a task gives up
    /// only after about 50 s of lost races).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1_000,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
        }
    }
}
