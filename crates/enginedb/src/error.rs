//! The one error type (DESIGN §6): what went wrong, what the caller should do, and what was
//! written — nothing, something ([`Error::PartialWrite`]) or unknown ([`Error::OutcomeUnknown`]).

use crate::key::Key;

/// A boxed driver error, kept opaque so adapters never leak their driver types.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;
/// A boxed driver error, kept opaque so adapters never leak their driver types.
#[cfg(target_arch = "wasm32")]
pub type BoxedSource = Box<dyn std::error::Error + 'static>;

/// `Result` with enginedb's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, for every adapter alike.
///
/// Each variant says what the caller should do. Variants that reads and writes share carry a
/// `nothing_written` flag: set when the failed operation was a write (which then wrote
/// nothing), and said in the message; a read's message never talks about writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed (empty key, bad selector, bad cursor…). Fix the input; retrying
    /// it unchanged fails the same way.
    #[error("invalid input: {message}{}", written(*nothing_written))]
    InvalidInput {
        /// What is wrong with it.
        message: String,
        /// The request was a write, and wrote nothing.
        nothing_written: bool,
    },
    /// A documented limit ([`crate::limits`]) was exceeded. Split the work or shrink the data.
    #[error("limit exceeded: {what} is {actual}, the limit is {limit}{}", written(*nothing_written))]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The offending size or count.
        actual: u64,
        /// The request was a write, and wrote nothing.
        nothing_written: bool,
    },
    /// A `Check` did not hold, or an `Insert` found its key present; nothing was written.
    /// Read again and decide.
    #[error("{} did not hold; nothing was written", describe_check(*index, key.as_ref()))]
    CheckFailed {
        /// Index of the failed op within the unit.
        index: usize,
        /// The key it checked (`None` for a `CheckRange`).
        key: Option<Key>,
    },
    /// A `Sum`, `Min` or `Max` overflowed or met a `Bytes` value; nothing was written.
    #[error("counter op {index}{} failed: {reason}; nothing was written", on_key(key.as_ref()))]
    SumFailed {
        /// Index of the failed op within the unit.
        index: usize,
        /// The counter's key.
        key: Option<Key>,
        /// Why it failed.
        reason: SumFailure,
    },
    /// A serialization failure or a lost optimistic race; nothing was written. Run it again
    /// (`transact` and units do, under their [`crate::RetryPolicy`]).
    #[error("conflict with a concurrent writer: {message}; nothing was written")]
    Conflict {
        /// Details from the backend or the optimistic check that failed.
        message: String,
    },
    /// The store stayed locked by someone else for as long as it was set to wait. Retry later.
    #[error("store busy: {message}{}", written(*nothing_written))]
    Busy {
        /// Details from the backend.
        message: String,
        /// The request was a write, and wrote nothing.
        nothing_written: bool,
    },
    /// The backend cannot be reached (refused, DNS, TLS, authentication…). Fix the
    /// configuration or wait for the backend; the library does not retry it.
    #[error("backend unavailable: {message}{}", written(*nothing_written))]
    Unavailable {
        /// The driver's reason.
        message: String,
        /// The request was a write, and wrote nothing.
        nothing_written: bool,
    },
    /// The commit may or may not have happened (say, the connection was lost during COMMIT).
    /// Never retried by the library: read back to find out before writing again.
    #[error("the outcome is unknown: {message}; the write may or may not have been committed")]
    OutcomeUnknown {
        /// What happened.
        message: String,
    },
    /// Sequential mode failed midway: ops before `failed_at` that write were applied and stay.
    #[error(
        "partial write: {applied} op(s) applied and kept, op {failed_at} failed: {}",
        source.to_string().trim_end_matches("; nothing was written")
    )]
    PartialWrite {
        /// How many writing ops took effect (checks excluded).
        applied: usize,
        /// Index of the op that failed.
        failed_at: usize,
        /// Why it failed.
        source: Box<Error>,
    },
    /// The adapter cannot do this, was asked to refuse a weaker mode, or the store was opened
    /// read-only and this is a write; nothing was written.
    #[error("{operation} is not supported by {adapter}; nothing was written")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// The adapter's name.
        adapter: String,
    },
    /// Stored bytes do not decode; they are reported, never skipped or truncated.
    #[error("corrupt stored data: {message}")]
    Corrupt {
        /// What failed to decode.
        message: String,
    },
    /// A stored value is not of the type the application asked for (see `Value::decode`).
    #[error("the value does not decode as {expected}: {message}")]
    Decode {
        /// The type asked for.
        expected: &'static str,
        /// Why it does not decode.
        message: String,
    },
    /// The database was written by a newer enginedb: its schema version is one this build does
    /// not know. Nothing was read or written; upgrade enginedb to open it.
    #[error(
        "the database has schema version {found}, newer than the {supported} this enginedb supports; upgrade enginedb to open it"
    )]
    IncompatibleSchema {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build supports.
        supported: i64,
    },
    /// The store (or the transaction) was closed; open it again.
    #[error("the store or transaction is closed")]
    Closed,
    /// Any other backend failure. Whether a write wrote anything is stated by the flag: units
    /// are atomic except in sequential mode, which reports `PartialWrite`.
    #[error("{adapter} backend error: {source}{}", written(*nothing_written))]
    Backend {
        /// The adapter's name.
        adapter: String,
        /// The driver's error.
        source: BoxedSource,
        /// The request was a write, and wrote nothing.
        nothing_written: bool,
    },
}

fn written(nothing_written: bool) -> &'static str {
    if nothing_written { "; nothing was written" } else { "" }
}

fn on_key(key: Option<&Key>) -> String {
    key.map_or_else(String::new, |key| format!(" on {key}"))
}

fn describe_check(index: usize, key: Option<&Key>) -> String {
    match key {
        Some(key) => format!("the precondition on {key} (op {index})"),
        None => format!("the precondition of op {index}"),
    }
}

/// Why a `Sum`, `Min` or `Max` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SumFailure {
    /// The result would leave the i64 range.
    #[error("i64 overflow")]
    Overflow,
    /// The key holds a `Bytes` value, not a counter.
    #[error("the key holds bytes, not a counter")]
    NotACounter,
}

/// The variant of an [`Error`], without its data: for matching and for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::LimitExceeded`].
    LimitExceeded,
    /// See [`Error::CheckFailed`].
    CheckFailed,
    /// See [`Error::SumFailed`].
    SumFailed,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::Busy`].
    Busy,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::OutcomeUnknown`].
    OutcomeUnknown,
    /// See [`Error::PartialWrite`].
    PartialWrite,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Corrupt`].
    Corrupt,
    /// See [`Error::Decode`].
    Decode,
    /// See [`Error::IncompatibleSchema`].
    IncompatibleSchema,
    /// See [`Error::Closed`].
    Closed,
    /// See [`Error::Backend`].
    Backend,
}

impl Error {
    /// The variant, without its data.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::LimitExceeded { .. } => ErrorKind::LimitExceeded,
            Error::CheckFailed { .. } => ErrorKind::CheckFailed,
            Error::SumFailed { .. } => ErrorKind::SumFailed,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
            Error::PartialWrite { .. } => ErrorKind::PartialWrite,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::IncompatibleSchema { .. } => ErrorKind::IncompatibleSchema,
            Error::Closed => ErrorKind::Closed,
            Error::Backend { .. } => ErrorKind::Backend,
        }
    }

    /// Whether running the same operation again may succeed, and wrote nothing: `Conflict` and
    /// `Busy`. `OutcomeUnknown` is not: the first attempt may have committed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Conflict | ErrorKind::Busy)
    }

    /// Shorthand for [`Error::InvalidInput`] (of a read; see [`Error::on_write`]).
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            nothing_written: false,
        }
    }

    /// Shorthand for [`Error::Busy`] (of a read; see [`Error::on_write`]).
    pub fn busy(message: impl Into<String>) -> Self {
        Error::Busy {
            message: message.into(),
            nothing_written: false,
        }
    }

    /// Shorthand for [`Error::Unavailable`] (of a read; see [`Error::on_write`]).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
            nothing_written: false,
        }
    }

    /// The refusal of a write to a store opened read-only.
    pub(crate) fn read_only(adapter: &str) -> Self {
        Error::Unsupported {
            operation: "writing to a store opened read-only",
            adapter: adapter.to_owned(),
        }
    }

    /// Shorthand for [`Error::CheckFailed`] at op `index`; the core names the key.
    pub fn check_failed(index: usize) -> Self {
        Error::CheckFailed { index, key: None }
    }

    /// Shorthand for [`Error::SumFailed`] at op `index`; the core names the key.
    pub fn sum_failed(index: usize, reason: SumFailure) -> Self {
        Error::SumFailed {
            index,
            key: None,
            reason,
        }
    }

    /// Wraps a driver error as [`Error::Backend`] (of a read; see [`Error::on_write`]).
    pub fn backend(adapter: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Error::Backend {
            adapter: adapter.into(),
            source: source.into(),
            nothing_written: false,
        }
    }

    /// This error as the failure of a write that wrote nothing: its message says so.
    #[must_use]
    pub fn on_write(mut self) -> Self {
        match &mut self {
            Error::InvalidInput { nothing_written, .. }
            | Error::LimitExceeded { nothing_written, .. }
            | Error::Busy { nothing_written, .. }
            | Error::Unavailable { nothing_written, .. }
            | Error::Backend { nothing_written, .. } => *nothing_written = true,
            _ => {}
        }
        self
    }

    /// `CheckFailed` and `SumFailed` at `index` of a unit, with the key that op addresses.
    pub(crate) fn at_op(self, index: usize, key: Option<&Key>) -> Self {
        match self {
            Error::CheckFailed { .. } => Error::CheckFailed {
                index,
                key: key.cloned(),
            },
            Error::SumFailed { reason, .. } => Error::SumFailed {
                index,
                key: key.cloned(),
                reason,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key;

    #[test]
    fn reads_do_not_talk_about_writing_and_writes_do() {
        let read = Error::invalid("malformed cursor");
        assert!(!read.to_string().contains("written"), "{read}");
        let write = Error::invalid("malformed cursor").on_write();
        assert!(write.to_string().ends_with("nothing was written"), "{write}");
        let check = Error::check_failed(2).at_op(2, Some(&key!["users", 7]));
        assert!(check.to_string().contains(r#"("users", 7)"#), "{check}");
        let unknown = Error::OutcomeUnknown {
            message: "connection lost during COMMIT".into(),
        };
        assert!(!unknown.to_string().contains("nothing was written"), "{unknown}");
        assert!(!unknown.is_retryable());
    }
}
