//! Test support for adapters and applications: [`Masked`] hides capabilities, so one store can
//! be proved in transaction, batch and sequential mode; [`Faulty`] makes the backend fail at
//! the Nth write op or the Nth read, so atomicity and error propagation are proved under real
//! failures, not only under failed checks.

mod faulty;
mod masked;

pub use faulty::{Faulty, InjectedFault};
pub use masked::{Mask, Masked};
