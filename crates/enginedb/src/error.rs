//! The one error type of the port (DESIGN §5).

/// A boxed driver error, kept opaque so adapters never leak their driver types.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;
/// A boxed driver error, kept opaque so adapters never leak their driver types.
#[cfg(target_arch = "wasm32")]
pub type BoxedSource = Box<dyn std::error::Error + 'static>;

/// `Result` with the port's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, for every adapter alike.
///
/// Each message says what failed and whether anything was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed (empty key, bad selector, bad cursor…); nothing was written.
    #[error("invalid input: {message}; nothing was written")]
    InvalidInput {
        /// What is wrong with it.
        message: String,
    },
    /// A documented limit was exceeded; nothing was written.
    #[error("limit exceeded: {what} is {actual}, the limit is {limit}; nothing was written")]
    LimitExceeded {
        /// Which limit (see [`crate::limits`]).
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The offending size or count.
        actual: u64,
    },
    /// The op at `index` of the unit was a `Check` that did not hold or an `Insert` whose key
    /// existed; nothing was written.
    #[error("precondition of op {index} did not hold; nothing was written")]
    CheckFailed {
        /// Index of the failed op within the unit.
        index: usize,
    },
    /// The `Sum` at `index` overflowed i64 or met a `Bytes` value; nothing was written.
    #[error("sum at op {index} failed: {reason}; nothing was written")]
    SumFailed {
        /// Index of the failed op within the unit.
        index: usize,
        /// Why it failed.
        reason: SumFailure,
    },
    /// A serialization failure or a lost optimistic race; nothing was written. Retry.
    #[error("conflict with a concurrent writer: {message}; nothing was written")]
    Conflict {
        /// Details from the backend or the optimistic check that failed.
        message: String,
    },
    /// The store is locked by someone else; nothing was written. Retry.
    #[error("store busy: {message}; nothing was written")]
    Busy {
        /// Details from the backend.
        message: String,
    },
    /// Sequential mode failed midway: ops before `failed_at` that write were applied and stay.
    #[error("partial write: {applied} op(s) applied and kept, op {failed_at} failed: {source}")]
    PartialWrite {
        /// How many writing ops took effect (checks excluded).
        applied: usize,
        /// Index of the op that failed.
        failed_at: usize,
        /// Why it failed.
        source: Box<Error>,
    },
    /// The adapter cannot do this (or was asked to refuse a weaker mode); nothing was written.
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
    /// The store (or the transaction) was closed.
    #[error("store or transaction closed")]
    Closed,
    /// Any other backend failure. Whether anything was written is stated by the operation that
    /// returned it: units are atomic except in sequential mode, which reports `PartialWrite`.
    #[error("{adapter} backend error: {source}")]
    Backend {
        /// The adapter's name.
        adapter: String,
        /// The driver's error.
        source: BoxedSource,
    },
}

/// Why a `Sum` failed.
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
    /// See [`Error::PartialWrite`].
    PartialWrite,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Corrupt`].
    Corrupt,
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
            Error::PartialWrite { .. } => ErrorKind::PartialWrite,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::IncompatibleSchema { .. } => ErrorKind::IncompatibleSchema,
            Error::Closed => ErrorKind::Closed,
            Error::Backend { .. } => ErrorKind::Backend,
        }
    }

    /// Whether running the same unit again may succeed: `Conflict` and `Busy`.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Conflict | ErrorKind::Busy)
    }

    /// An error of the same kind and message, for reporting one failure (say, of a group
    /// commit) to several callers: errors are not `Clone`, because driver errors are not.
    pub fn replicate(&self) -> Error {
        match self {
            Error::Busy { message } => Error::Busy {
                message: message.clone(),
            },
            Error::Conflict { message } => Error::Conflict {
                message: message.clone(),
            },
            Error::Closed => Error::Closed,
            Error::Corrupt { message } => Error::Corrupt {
                message: message.clone(),
            },
            Error::Backend { adapter, source } => Error::backend(adapter.clone(), source.to_string()),
            other => Error::backend("enginedb", other.to_string()),
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// Wraps a driver error as [`Error::Backend`].
    pub fn backend(adapter: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Error::Backend {
            adapter: adapter.into(),
            source: source.into(),
        }
    }
}
