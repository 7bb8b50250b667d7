//! Dev-only test support of the enginedb workspace (never a dependency of a published crate):
//! [`crash`], the SIGKILL crash harness of the file-backed adapters; [`differential`], random
//! units checked against `MemoryDb`; [`read_only`], what a store opened with `mode=ro` must do;
//! [`hot_key_race`] and [`feed_tail`], concurrency under load.
//! The throwaway PostgreSQL server is `enginedb_postgres::throwaway` (the CLI's benchmark needs
//! it too).

pub mod crash;
pub mod differential;
pub mod read_only;

mod race;
mod tail;

pub use race::{Race, hot_key_race};
pub use tail::{Tail, feed_tail};
