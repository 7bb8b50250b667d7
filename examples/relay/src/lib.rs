//! Relay: a messaging engine written once against [`Db`], so the same code serves a
//! self-hosted server (SQLite, redb, PostgreSQL) and a Worker (D1).
//!
//! Every user action is **one unit**, so a crash between its writes cannot leave a message
//! nobody receives, a delivery without its message, or a receipt without its transition:
//!
//! - **send**: the message, its attachments, one delivery per recipient, the thread index and
//!   the log entry;
//! - **reply**: the same, in the parent's thread, delivered to the thread's participants, on
//!   condition that the parent still exists;
//! - **mark read**: the receipt, the delivery's transition from unread to read (on condition
//!   that it is still the version read), and the reader's last-read id.
//!
//! Each action returns the [`Commit`] it got, so callers see whether it was atomic.
//!
//! | key                                   | value                          |
//! |---------------------------------------|--------------------------------|
//! | `("relay", "msg", id)`                | sender, thread, body           |
//! | `("relay", "attachment", id, n)`      | the attachment's bytes         |
//! | `("relay", "delivery", user, id)`     | `unread` / `read`              |
//! | `("relay", "thread", thread, id)`     | the sender (thread index)      |
//! | `("relay", "receipt", id, user)`      | `read`                         |
//! | `("relay", "last-read", user)`        | the last id read (counter)     |
//! | `("relay", "log", id)`                | what happened                  |
//! | `("relay", "ids")`                    | bumped to draw message ids     |

pub mod api;
pub mod selftest;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;

use enginedb::{Atomic, Atomicity, Commit, Db, Error, Key, KeyPart, Result, Selector, Value, Write, key};

/// The engine: a store and the atomicity its caller demands. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Relay {
    db: Db,
    atomicity: Atomicity,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: i64,
    /// Who sent it.
    pub from: String,
    /// The id of its thread's first message.
    pub thread: i64,
    /// Its text.
    pub body: String,
}

/// One line of an inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The message's id.
    pub id: i64,
    /// Whether it was read.
    pub read: bool,
}

/// A sent message and how it was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The new message's id.
    pub id: i64,
    /// The unit's commit.
    pub commit: Commit,
}

fn msg(id: i64) -> Key {
    key!["relay", "msg", id]
}
fn delivery(user: &str, id: i64) -> Key {
    key!["relay", "delivery", user, id]
}

fn encode(message: &Message) -> String {
    format!("{}\n{}\n{}", message.from, message.thread, message.body)
}

fn decode(id: i64, value: &Value) -> Result<Message> {
    let corrupt = || Error::Corrupt {
        message: format!("relay message {id} is not sender, thread, body"),
    };
    let mut lines = value.as_str().ok_or_else(corrupt)?.splitn(3, '\n');
    let (Some(from), Some(thread), Some(body)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(corrupt());
    };
    Ok(Message {
        id,
        from: from.to_owned(),
        thread: thread.parse().map_err(|_| corrupt())?,
        body: body.to_owned(),
    })
}

impl Relay {
    /// An engine on `db`. With [`Atomicity::Require`] a store that cannot write a unit
    /// atomically refuses the actions instead of half-doing them.
    pub fn new(db: Db, atomicity: Atomicity) -> Self {
        Relay { db, atomicity }
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A new unit, with the atomicity the caller demands.
    fn unit(&self) -> Atomic<'_> {
        match self.atomicity {
            Atomicity::Require => self.db.atomic().require_atomic(),
            Atomicity::BestEffort => self.db.atomic(),
        }
    }

    /// A fresh message id (each commit has a unique, increasing version).
    async fn next_id(&self) -> Result<i64> {
        let version = self.db.write_one(Write::sum(key!["relay", "ids"], 1)).await?;
        i64::try_from(version.0).map_err(|_| Error::invalid("message ids are exhausted"))
    }

    /// Adds to `unit` the writes of `message`: the message, its attachments, one delivery per
    /// recipient, the thread index and the log entry.
    fn message_unit<'u>(
        unit: Atomic<'u>,
        message: &Message,
        to: &[&str],
        attachments: &[Vec<u8>],
        what: &str,
    ) -> Atomic<'u> {
        let id = message.id;
        unit.insert(msg(id), encode(message))
            .ops(
                (0i64..)
                    .zip(attachments)
                    .map(|(n, a)| Write::set(key!["relay", "attachment", id, n], a.as_slice())),
            )
            .ops(to.iter().map(|user| Write::set(delivery(user, id), "unread")))
            .set(key!["relay", "thread", message.thread, id], &message.from)
            .insert(
                key!["relay", "log", id],
                format!("{what} by {} to {}", message.from, to.join(",")),
            )
    }

    /// Sends `body` (and `attachments`) from `from` to `to`, as one unit.
    ///
    /// # Errors
    /// `InvalidInput` for no recipient; the store's errors (`PartialWrite` on a sequential store).
    pub async fn send(&self, from: &str, to: &[&str], body: &str, attachments: &[Vec<u8>]) -> Result<Sent> {
        if to.is_empty() {
            return Err(Error::invalid("a message needs at least one recipient"));
        }
        let id = self.next_id().await?;
        let message = Message {
            id,
            from: from.to_owned(),
            thread: id,
            body: body.to_owned(),
        };
        let commit = Relay::message_unit(self.unit(), &message, to, attachments, "sent")
            .commit()
            .await?;
        Ok(Sent { id, commit })
    }

    /// Replies to message `parent` in its thread, delivered to everyone else in the thread; the
    /// unit fails with `CheckFailed` if the parent was deleted meanwhile.
    ///
    /// # Errors
    /// `InvalidInput` for an unknown parent; the store's errors.
    pub async fn reply(&self, from: &str, parent: i64, body: &str) -> Result<Sent> {
        let found = self
            .db
            .get(&msg(parent))
            .await?
            .ok_or_else(|| Error::invalid(format!("no message {parent}")))?;
        let parent_message = decode(parent, &found.value)?;
        let thread = self
            .db
            .list(Selector::prefix(key!["relay", "thread", parent_message.thread]))
            .collect()
            .await?;
        let mut people: Vec<&str> = thread
            .iter()
            .filter_map(|e| e.value.as_str())
            .filter(|who| *who != from)
            .collect();
        people.sort_unstable();
        people.dedup();
        if people.is_empty() {
            people.push(&parent_message.from);
        }
        let id = self.next_id().await?;
        let message = Message {
            id,
            from: from.to_owned(),
            thread: parent_message.thread,
            body: body.to_owned(),
        };
        let unit = self.unit().check(msg(parent), found.version);
        let commit = Relay::message_unit(unit, &message, &people, &[], "replied")
            .commit()
            .await?;
        Ok(Sent { id, commit })
    }

    /// Marks message `id` read by `user`: receipt, delivery transition and last-read id, as
    /// one unit that fails with `CheckFailed` if the delivery changed meanwhile.
    ///
    /// # Errors
    /// `InvalidInput` when `user` has no delivery of `id`; the store's errors.
    pub async fn mark_read(&self, user: &str, id: i64) -> Result<Commit> {
        let current = self
            .db
            .get(&delivery(user, id))
            .await?
            .ok_or_else(|| Error::invalid(format!("{user} has no message {id}")))?;
        self.unit()
            .check(delivery(user, id), current.version)
            .set(delivery(user, id), "read")
            .set(key!["relay", "receipt", id, user], "read")
            .set(key!["relay", "last-read", user], id)
            .commit()
            .await
    }

    /// The message `id`.
    ///
    /// # Errors
    /// The store's, or `Corrupt` for a malformed message.
    pub async fn message(&self, id: i64) -> Result<Option<Message>> {
        self.db.get(&msg(id)).await?.map(|e| decode(id, &e.value)).transpose()
    }

    /// `user`'s deliveries, oldest first.
    ///
    /// # Errors
    /// The store's.
    pub async fn inbox(&self, user: &str) -> Result<Vec<Delivery>> {
        let entries = self
            .db
            .list(Selector::prefix(key!["relay", "delivery", user]))
            .collect()
            .await?;
        Ok(entries
            .into_iter()
            .filter_map(|e| match e.key.parts().last() {
                Some(KeyPart::Int(id)) => Some(Delivery {
                    id: *id,
                    read: e.value.as_str() == Some("read"),
                }),
                _ => None,
            })
            .collect())
    }
}
