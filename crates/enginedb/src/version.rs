//! Versions: the order of commits (DESIGN §3).

use std::fmt;

use crate::error::{Error, Result};

/// The commit that last wrote a key. Versions increase in commit order per database: once a
/// reader has seen `V`, no later commit gets a version `<= V`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

impl Version {
    /// What a transaction reads back for a key it wrote itself and has not committed yet.
    pub const PENDING: Version = Version(u64::MAX);
    /// The version reported by a sequential unit that wrote nothing (it only checked).
    pub const ZERO: Version = Version(0);
    /// The largest version [`crate::Db::advance_version`] moves past: it leaves room for
    /// 2³² later commits below `i64::MAX`, the largest version a store holds.
    pub const MAX_ADVANCE: Version = Version(i64::MAX as u64 - u32::MAX as u64);

    /// A version read back from storage.
    ///
    /// # Errors
    /// `Corrupt` for 0: every commit's version is at least 1, so no stored row carries it.
    pub fn stored(raw: u64) -> Result<Version> {
        match raw {
            0 => Err(Error::Corrupt {
                message: "a stored row holds version 0, which no commit has".into(),
            }),
            raw => Ok(Version(raw)),
        }
    }

    /// This stored version as a transaction writing `writing` reads it: its own uncommitted
    /// writes read as [`Version::PENDING`].
    pub fn as_seen_by(self, writing: Option<Version>) -> Version {
        if Some(self) == writing { Version::PENDING } else { self }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
