#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod clock;
mod codec;
mod commit;
mod db;
mod error;
mod key;
mod library;
pub mod limits;
mod memory;
mod model;
mod optimistic;
pub mod port;
mod resolve;
mod retry;
pub mod testing;
mod tx;
mod validate;
mod value;
mod version;

pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::KEY_FORMAT_V1;
pub use commit::{Atomicity, Commit, Mode};
pub use db::Db;
pub use db::atomic::Atomic;
pub use db::feed::{Event, Feed, FeedCursor, Since};
pub use db::list::List;
pub use db::queue::{Message, MessageId, Queue, QueueOptions};
pub use db::transaction::Transaction;
pub use error::{BoxedSource, Error, ErrorKind, Result, SumFailure};
pub use key::{Key, KeyPart};
pub use memory::MemoryDb;
pub use model::{ByteRange, Cursor, Entry, Page, Selector, Write};
pub use resolve::run_atomic_writes;
pub use retry::RetryPolicy;
pub use tx::{Transacted, Tx};
pub use value::Value;
pub use version::Version;

/// Re-exported so adapters implement the port with the same macro version.
#[doc(hidden)]
pub use async_trait::async_trait;
