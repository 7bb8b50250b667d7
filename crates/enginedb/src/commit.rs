//! What a committed unit reports: its version and the guarantee it got (DESIGN §4).

use crate::version::Version;

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Atomicity {
    /// All or nothing, or refuse with `Unsupported` (nothing written).
    Require,
    /// All or nothing where the adapter can; else sequential, reported as such.
    #[default]
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
