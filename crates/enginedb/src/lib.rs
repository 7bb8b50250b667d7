#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod apply;
mod atomic;
#[cfg(not(target_arch = "wasm32"))]
pub mod blocking;
mod error;
mod faulty;
mod key;
pub mod limits;
mod list;
mod masked;
mod memory;
mod model;
mod optimistic;
pub mod packed;
mod port;
pub mod table_key;
mod transact;
pub mod url;

pub use apply::{EncodedWrite, OrderedKv, Stored, apply_ops};
pub use atomic::{Atomicity, Commit, Mode, UNIT_RETRIES, run_atomic_writes};
pub use error::{BoxedSource, Error, ErrorKind, Result, SumFailure};
pub use faulty::{Faulty, InjectedFault, poison};
pub use key::{KEY_FORMAT_V1, Key, KeyPart};
pub use limits::Limits;
pub use list::ListPlan;
pub use masked::{Mask, Masked};
pub use memory::MemoryDb;
pub use model::{ByteRange, Cursor, Entry, ListOptions, Page, Selector, Value, Version, Write};
pub use port::{
    AdapterInfo, BatchCapability, Capabilities, EngineDb, EngineTx, MaybeSend, MaybeSendSync, TransactionCapability,
};
pub use transact::{RetryPolicy, Transacted, Tx, transact, transact_with};

/// Re-exported so adapters implement the port with the same macro version.
pub use async_trait::async_trait;
