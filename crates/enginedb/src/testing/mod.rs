//! Test support for adapters and applications: [`Masked`] hides capabilities, so one store can
//! be proved in transaction, batch and sequential mode; [`Faulty`] makes the backend fail at
//! the Nth write op or the Nth read, so atomicity and error propagation are proved under real
//! failures, not only under failed checks; [`RawRow`] is a row written past the core (by
//! [`tamper_memory`] on a `MemoryDb`, by each adapter's harness on its own store), so stored
//! bytes no enginedb writes are proved to read as `Corrupt`.

mod faulty;
mod masked;
mod tamper;

pub use faulty::{Faulty, InjectedFault};
pub use masked::{Mask, Masked};
pub use tamper::{RawRow, tamper_memory};
