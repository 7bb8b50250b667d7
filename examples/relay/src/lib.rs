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
//! With [`Relay::with_outbox`], a send or reply also enqueues its webhook on the queue
//! [`WEBHOOKS`] and emits an event on the feed [`EVENTS`], **in the same unit**: a message
//! exists exactly when its webhook is due and its event is published, whatever crashes when.
//! The server's delivery loop (`webhooks`, native only) posts the webhooks.
//!
//! | key                                   | value                                          |
//! |---------------------------------------|------------------------------------------------|
//! | `("relay", "msg", id)`                | JSON `{"from", "thread", "body"}` (serde)      |
//! | `("relay", "attachment", id, n)`      | the attachment's bytes                         |
//! | `("relay", "delivery", user, id)`     | `unread` / `read`                              |
//! | `("relay", "thread", thread, id)`     | the sender's name (thread index)               |
//! | `("relay", "receipt", id, user)`      | `read`                                         |
//! | `("relay", "last-read", user)`        | the last id read (counter)                     |
//! | `("relay", "log", id)`                | what happened, as text                         |
//! | `("relay", "ids")`                    | a counter bumped to draw message ids           |
//!
//! Messages are stored as JSON through enginedb's `serde` feature ([`Value::json`] and
//! [`Value::decode`]), so any text — newlines, quotes, any Unicode — reads back as written.

pub mod api;
pub mod selftest;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
#[cfg(not(target_arch = "wasm32"))]
pub mod webhooks;

use std::time::Duration;

use enginedb::{Atomic, Atomicity, Commit, Db, Key, KeyPart, QueueOptions, Selector, Value, Write, key};
use serde::{Deserialize, Serialize};

/// Longest user name, in bytes (user names are parts of keys, which have a size limit).
pub const MAX_USER_BYTES: usize = 256;

/// Most recipients of one message (each is a write of the send's unit).
pub const MAX_RECIPIENTS: usize = 100;

/// The queue of webhooks due: one per sent message, its payload a [`Webhook`] as JSON.
pub const WEBHOOKS: &str = "relay-webhooks";

/// How the [`WEBHOOKS`] are delivered (relay-server's loop, the Worker's scheduled handler): a
/// 30 s lease, and 20 attempts with the backoff doubling from 1 s to 5 min between them, so a
/// receiver may be away for about an hour before a webhook becomes a dead letter (logged).
pub const WEBHOOK_DELIVERY: QueueOptions = QueueOptions {
    visibility: Duration::from_secs(30),
    max_attempts: 20,
    backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(300),
    poll: Duration::from_millis(500),
};

/// The feed of sent messages: one event per message, its payload the message id.
pub const EVENTS: &str = "relay-messages";

/// The engine: a store and the atomicity its caller demands. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Relay {
    db: Db,
    atomicity: Atomicity,
    outbox: bool,
}

/// What a message's webhook posts (as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// The message's id.
    pub id: i64,
    /// `sent` or `replied`.
    pub what: String,
    /// Who sent it.
    pub from: String,
    /// Who it was delivered to.
    pub to: Vec<String>,
    /// Its thread.
    pub thread: i64,
}

impl Webhook {
    /// The webhook a message of the [`WEBHOOKS`] queue carries.
    ///
    /// # Errors
    /// `Decode` for a payload that is not one.
    pub fn of(message: &enginedb::Message) -> enginedb::Result<Webhook> {
        message.payload.decode()
    }

    /// What is posted: the webhook as JSON.
    pub fn body(&self) -> String {
        // A struct of strings and integers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The writes that commit with the acknowledgement of its delivery: one more delivery
    /// counted at [`delivered`]. Acknowledged in the same unit, the count is exactly 1 per
    /// message however often the post was made.
    pub fn acknowledged(&self) -> Vec<Write> {
        vec![Write::sum(delivered(self.id), 1)]
    }
}

/// The count of acknowledged webhook deliveries of message `id`.
pub fn delivered(id: i64) -> Key {
    key!["relay", "webhook", id]
}

/// What a relay action can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message, or the user's delivery of it, does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The relay refuses the input (no recipient, an empty user name, …); nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The store's error: see [`enginedb::Error`] and its [`kind`](enginedb::Error::kind).
    #[error(transparent)]
    Store(#[from] enginedb::Error),
}

/// The relay's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A message as stored under `("relay", "msg", id)` (the id is in the key).
#[derive(Serialize, Deserialize)]
struct Record {
    from: String,
    thread: i64,
    body: String,
}

/// One line of an inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// `name`, if it is a user name: not empty, at most [`MAX_USER_BYTES`] bytes.
fn user(name: &str) -> Result<&str> {
    if name.is_empty() {
        Err(Error::Invalid("a user name cannot be empty".into()))
    } else if name.len() > MAX_USER_BYTES {
        Err(Error::Invalid(format!(
            "a user name is at most {MAX_USER_BYTES} bytes, not {}",
            name.len()
        )))
    } else {
        Ok(name)
    }
}

impl Relay {
    /// An engine on `db`. With [`Atomicity::Require`] a store that cannot write a unit
    /// atomically refuses the actions instead of half-doing them.
    pub fn new(db: Db, atomicity: Atomicity) -> Self {
        Relay {
            db,
            atomicity,
            outbox: false,
        }
    }

    /// This engine, enqueueing each message's webhook ([`WEBHOOKS`]) and emitting its event
    /// ([`EVENTS`]) in the message's own unit.
    #[must_use]
    pub fn with_outbox(mut self) -> Self {
        self.outbox = true;
        self
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A new unit, with the atomicity the caller demands.
    fn unit(&self) -> Atomic<'_> {
        self.db.atomic().atomicity(self.atomicity)
    }

    /// A fresh message id (each commit has a unique, increasing version).
    async fn next_id(&self) -> Result<i64> {
        let version = self.db.write_one(Write::sum(key!["relay", "ids"], 1)).await?;
        i64::try_from(version.0).map_err(|_| Error::Invalid("message ids are exhausted".into()))
    }

    /// Adds to `unit` the writes of message `id`: the message, its attachments, one delivery
    /// per recipient, the thread index and the log entry (and, with the outbox, its webhook
    /// and event).
    fn message_unit<'u>(
        &self,
        unit: Atomic<'u>,
        id: i64,
        record: &Record,
        to: &[&str],
        attachments: &[Vec<u8>],
        what: &str,
    ) -> Result<Atomic<'u>> {
        let unit = match self.outbox {
            true => {
                let webhook = Webhook {
                    id,
                    what: what.to_owned(),
                    from: record.from.clone(),
                    to: to.iter().map(|&user| user.to_owned()).collect(),
                    thread: record.thread,
                };
                unit.enqueue(WEBHOOKS, Value::json(&webhook)?).emit(EVENTS, id)
            }
            false => unit,
        };
        Ok(unit
            .insert(msg(id), Value::json(record)?)
            .ops(
                (0i64..)
                    .zip(attachments)
                    .map(|(n, a)| Write::set(key!["relay", "attachment", id, n], a.as_slice())),
            )
            .ops(to.iter().map(|user| Write::set(delivery(user, id), "unread")))
            .set(key!["relay", "thread", record.thread, id], &record.from)
            .insert(
                key!["relay", "log", id],
                format!("{what} by {:?} to {:?}", record.from, to),
            ))
    }

    /// Sends `body` (and `attachments`) from `from` to `to` (each recipient once), as one unit.
    ///
    /// # Errors
    /// [`Error::Invalid`] for no recipient, too many, or a bad user name; the store's errors
    /// (`LimitExceeded` for a message over the store's value limit, `PartialWrite` on a
    /// sequential store).
    pub async fn send(&self, from: &str, to: &[&str], body: &str, attachments: &[Vec<u8>]) -> Result<Sent> {
        let from = user(from)?;
        let mut recipients: Vec<&str> = Vec::with_capacity(to.len());
        for name in to {
            let name = user(name)?;
            if !recipients.contains(&name) {
                recipients.push(name);
            }
        }
        if recipients.is_empty() {
            return Err(Error::Invalid("a message needs at least one recipient".into()));
        }
        if recipients.len() > MAX_RECIPIENTS {
            return Err(Error::Invalid(format!(
                "a message has at most {MAX_RECIPIENTS} recipients, not {}",
                recipients.len()
            )));
        }
        let id = self.next_id().await?;
        let record = Record {
            from: from.to_owned(),
            thread: id,
            body: body.to_owned(),
        };
        let commit = self
            .message_unit(self.unit(), id, &record, &recipients, attachments, "sent")?
            .commit()
            .await?;
        Ok(Sent { id, commit })
    }

    /// Replies to message `parent` in its thread, delivered to everyone else in the thread; the
    /// unit fails with `CheckFailed` if the parent was deleted meanwhile.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown parent, [`Error::Invalid`] for a bad user name; the
    /// store's errors.
    pub async fn reply(&self, from: &str, parent: i64, body: &str) -> Result<Sent> {
        let from = user(from)?;
        let found = self
            .db
            .get(&msg(parent))
            .await?
            .ok_or_else(|| Error::NotFound(format!("no message {parent}")))?;
        let parent_record: Record = found.value.decode()?;
        let thread = self
            .db
            .list(Selector::prefix(key!["relay", "thread", parent_record.thread]))
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
            people.push(&parent_record.from);
        }
        let id = self.next_id().await?;
        let record = Record {
            from: from.to_owned(),
            thread: parent_record.thread,
            body: body.to_owned(),
        };
        let unit = self.unit().check(msg(parent), found.version);
        let commit = self
            .message_unit(unit, id, &record, &people, &[], "replied")?
            .commit()
            .await?;
        Ok(Sent { id, commit })
    }

    /// Marks message `id` read by `user`: receipt, delivery transition and last-read id, as
    /// one unit that fails with `CheckFailed` if the delivery changed meanwhile.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no message `id` or `user` did not receive it,
    /// [`Error::Invalid`] for a bad user name; the store's errors.
    pub async fn mark_read(&self, user_name: &str, id: i64) -> Result<Commit> {
        let user = user(user_name)?;
        let Some(current) = self.db.get(&delivery(user, id)).await? else {
            return Err(Error::NotFound(if self.db.get(&msg(id)).await?.is_some() {
                format!("{user:?} did not receive message {id}")
            } else {
                format!("no message {id}")
            }));
        };
        Ok(self
            .unit()
            .check(delivery(user, id), current.version)
            .set(delivery(user, id), "read")
            .set(key!["relay", "receipt", id, user], "read")
            .set(key!["relay", "last-read", user], id)
            .commit()
            .await?)
    }

    /// The message `id`, if there is one.
    ///
    /// # Errors
    /// The store's, `Decode` among them for a stored message that is not one.
    pub async fn message(&self, id: i64) -> Result<Option<Message>> {
        let Some(entry) = self.db.get(&msg(id)).await? else {
            return Ok(None);
        };
        let Record { from, thread, body } = entry.value.decode()?;
        Ok(Some(Message { id, from, thread, body }))
    }

    /// `user`'s deliveries, oldest first.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad user name; the store's.
    pub async fn inbox(&self, user_name: &str) -> Result<Vec<Delivery>> {
        let user = user(user_name)?;
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
