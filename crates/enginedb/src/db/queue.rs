//! Queues (DESIGN §11): messages enqueued inside the unit or transaction that decides to send
//! them, so they exist exactly when its writes do; received under a lease, acknowledged inside
//! the consumer's own unit, delivered again with backoff when a lease ends unacknowledged, and
//! set aside as dead letters after too many attempts. Delivery is at least once; a consumer
//! whose effects and acknowledgement share a unit applies each message's effects once.
//!
//! A message is one entry under the queue's keys: `ready` + (the time it may next be delivered,
//! in milliseconds, its id), the id being the versionstamp of the commit that enqueued it.
//! Receiving moves it, under a check of its version, to the time its lease ends (plus the
//! backoff); acknowledging deletes it, under a check of the version the move gave it.

use std::convert::Infallible;
use std::fmt;
use std::pin::pin;
use std::time::Duration;

use futures::future::{self, Either};
use futures::stream::{FuturesUnordered, StreamExt};

use crate::commit::{Commit, Mode};
use crate::error::{Error, ErrorKind, Result};
use crate::key::{Key, KeyPart};
use crate::library;
use crate::limits::MAX_QUEUE_PAYLOAD_BYTES;
use crate::model::{Entry, ListOptions, Selector, Write};
use crate::tx::Tx;
use crate::value::Value;
use crate::version::Version;

use super::Db;
use super::atomic::Atomic;

/// How a queue delivers: lease, attempts, backoff, and how often an idle listener looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueOptions {
    /// How long a received message stays leased to its consumer (default 30 s).
    pub visibility: Duration,
    /// Deliveries before a message is set aside as a dead letter (default 5).
    pub max_attempts: u32,
    /// The wait after a failed delivery's lease before the next, doubling with each attempt
    /// (default 1 s)…
    pub backoff: Duration,
    /// …up to this (default 5 min).
    pub max_backoff: Duration,
    /// How long [`Queue::listen`] waits when no message is ready (default 500 ms).
    pub poll: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            visibility: Duration::from_secs(30),
            max_attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            poll: Duration::from_millis(500),
        }
    }
}

impl QueueOptions {
    /// Refuses options no queue can deliver with.
    fn validate(&self) -> Result<()> {
        if self.visibility < Duration::from_millis(1) {
            return Err(refuse("the visibility timeout must be at least 1 ms"));
        }
        if self.max_attempts == 0 {
            return Err(refuse("max_attempts must be at least 1"));
        }
        Ok(())
    }

    /// The wait added after the lease of delivery number `attempt` (from 1).
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self.backoff.saturating_mul(1 << attempt.saturating_sub(1).min(20));
        doubled.min(self.max_backoff)
    }
}

fn refuse(what: &str) -> Error {
    Error::invalid(format!("QueueOptions: {what}"))
}

/// Where a message came from: the version of the commit that enqueued it and its place
/// among that commit's versionstamped writes. Unique in its queue, for as long as it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId {
    /// The version of the enqueuing commit.
    pub version: Version,
    /// Its place among that commit's versionstamped writes.
    pub index: u32,
}

impl fmt::Display for MessageId {
    /// `version.index`, e.g. `42.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.version, self.index)
    }
}

/// A message received from a queue (or read from its dead letters), with the lease that
/// acknowledging it checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// What was enqueued.
    pub payload: Value,
    /// Deliveries so far, this one included.
    pub attempts: u32,
    /// Its entry while leased: acknowledging checks it is still at `lease_version`.
    lease: Key,
    lease_version: Version,
}

impl Message {
    /// Its entry is still the one read (the lease is this delivery's).
    fn check(&self) -> Write {
        Write::check(self.lease.clone(), Some(self.lease_version))
    }

    /// The ops that acknowledge it: it is still leased to this delivery, and it goes.
    fn ack_ops(&self) -> [Write; 2] {
        [self.check(), Write::delete(self.lease.clone())]
    }

    /// The ops that move it to `to`, counting `attempts`: it is still where it was read, it
    /// is written at `to` (first: in sequential mode a failure then leaves two copies, never
    /// none), and it leaves its old place — unless that is `to`.
    fn move_ops(&self, to: Key, attempts: u32) -> Vec<Write> {
        let stays = to == self.lease;
        let mut ops = vec![self.check(), Write::set(to, record(attempts, &self.payload))];
        if !stays {
            ops.push(Write::delete(self.lease.clone()));
        }
        ops
    }
}

/// What became of a message a receive found.
enum Taken {
    /// Leased to this receive.
    Leased(Message),
    /// Its attempts were spent: moved to the dead letters.
    Dead,
    /// Another consumer moved it first.
    Lost,
}

/// One queue of a [`Db`]: see [`Db::queue`].
#[derive(Clone, Debug)]
pub struct Queue<'db> {
    db: &'db Db,
    name: String,
    options: QueueOptions,
}

fn ready_prefix(queue: &str) -> Key {
    library::key([KeyPart::from("queue"), KeyPart::from(queue), KeyPart::from("ready")])
}

fn dead_prefix(queue: &str) -> Key {
    library::key([KeyPart::from("queue"), KeyPart::from(queue), KeyPart::from("dead")])
}

/// The key of message `id` in `queue`, ready at `at` (ms).
fn ready_key(queue: &str, at: u64, id: MessageId) -> Result<Key> {
    Key::versionstamped(&ready_prefix(queue).with(at_part(at)), id.version, id.index)
}

/// The key of message `id` among `queue`'s dead letters.
fn dead_key(queue: &str, id: MessageId) -> Result<Key> {
    Key::versionstamped(&dead_prefix(queue), id.version, id.index)
}

/// The write that enqueues `payload` on `queue`, ready at `at` (ms).
fn enqueue_op(queue: &str, payload: &Value, at: u64) -> Write {
    Write::set_versionstamped(ready_prefix(queue).with(at_part(at)), record(0, payload))
}

/// `LimitExceeded` for a payload over [`MAX_QUEUE_PAYLOAD_BYTES`].
fn payload_fits(payload: &Value) -> Result<()> {
    match payload {
        Value::Bytes(bytes) if bytes.len() > MAX_QUEUE_PAYLOAD_BYTES => Err(Error::LimitExceeded {
            what: "queue payload bytes",
            limit: MAX_QUEUE_PAYLOAD_BYTES as u64,
            actual: bytes.len() as u64,
            nothing_written: true,
        }),
        _ => Ok(()),
    }
}

/// A time as a key part (ms; beyond `i64::MAX` reads as the end of time).
fn at_part(at: u64) -> KeyPart {
    KeyPart::Int(i64::try_from(at).unwrap_or(i64::MAX))
}

/// A message's stored form: its attempts (u32, big-endian), then its payload: `0` and the
/// bytes, or `1` and the counter (i64, big-endian).
fn record(attempts: u32, payload: &Value) -> Value {
    let mut bytes = attempts.to_be_bytes().to_vec();
    match payload {
        Value::Bytes(b) => {
            bytes.push(0);
            bytes.extend_from_slice(b);
        }
        Value::I64(n) => {
            bytes.push(1);
            bytes.extend_from_slice(&n.to_be_bytes());
        }
    }
    Value::Bytes(bytes)
}

// The header `record` puts before a payload is what `MAX_QUEUE_PAYLOAD_BYTES` leaves room for.
const _: () = assert!(crate::limits::MAX_VALUE_BYTES - MAX_QUEUE_PAYLOAD_BYTES == size_of::<u32>() + 1);

/// The message an entry under a queue's keys holds.
fn message(entry: Entry) -> Result<Message> {
    let corrupt = |what: &str| Error::Corrupt {
        message: format!("queue entry {}: {what}", entry.key),
    };
    let (version, index) = entry.key.versionstamp().ok_or_else(|| corrupt("no message id"))?;
    let bytes = entry
        .value
        .as_bytes()
        .ok_or_else(|| corrupt("a counter, not a message"))?;
    let (attempts, rest) = bytes.split_first_chunk::<4>().ok_or_else(|| corrupt("too short"))?;
    let payload = match rest.split_first() {
        Some((0, b)) => Value::Bytes(b.to_vec()),
        Some((1, n)) => Value::I64(i64::from_be_bytes(n.try_into().map_err(|_| corrupt("a bad counter"))?)),
        _ => return Err(corrupt("an unknown payload tag")),
    };
    Ok(Message {
        id: MessageId { version, index },
        payload,
        attempts: u32::from_be_bytes(*attempts),
        lease: entry.key,
        lease_version: entry.version,
    })
}

/// How many messages a receive looks at before it reads again.
const RECEIVE_PAGE: usize = 16;
/// How many reads in a row a receive makes when others keep taking what it found.
const RECEIVE_RACES: usize = 8;
/// How many reads a receive makes at most (each page of spent messages it moves to the dead
/// letters takes one).
const RECEIVE_READS: usize = 64;

impl Db {
    /// The queue `name`, with the default [`QueueOptions`]. Messages are enqueued with
    /// [`Atomic::enqueue`] or [`Tx::enqueue`].
    ///
    /// ```
    /// use enginedb::{Db, MemoryDb, key};
    ///
    /// # futures::executor::block_on(async {
    /// let db = Db::from(MemoryDb::new());
    /// db.atomic().set(key!["msg", 1], "hi").enqueue("webhooks", "msg 1").commit().await?;
    /// let queue = db.queue("webhooks");
    /// let message = queue.receive().await?.expect("ready");
    /// assert_eq!(message.payload.as_str(), Some("msg 1"));
    /// // The acknowledgement commits with the consumer's own writes, or not at all.
    /// db.atomic().set(key!["sent", 1], "yes").ack(&message).commit().await?;
    /// assert!(queue.receive().await?.is_none());
    /// # Ok::<(), enginedb::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn queue(&self, name: &str) -> Queue<'_> {
        Queue {
            db: self,
            name: name.to_owned(),
            options: QueueOptions::default(),
        }
    }
}

impl Queue<'_> {
    /// This queue, delivering under `options`.
    #[must_use]
    pub fn options(mut self, options: QueueOptions) -> Self {
        self.options = options;
        self
    }

    fn now(&self) -> u64 {
        self.db.clock().now_ms()
    }

    /// Leases the first message ready now (earliest ready first; among those ready at the same
    /// time, in the order they were enqueued) for [`QueueOptions::visibility`]: until then
    /// acknowledging it succeeds and no other receive gets it. Unless acknowledged or released,
    /// it is ready again once the lease and the backoff of this attempt have passed. `None`: no
    /// message is ready. A message already delivered `max_attempts` times is moved to the dead
    /// letters instead (logged as a warning).
    ///
    /// In sequential mode (a store with neither transactions nor batches) the move is two
    /// writes, the new place first: a crash between them, or a concurrent receive, can deliver
    /// a message twice, never lose it.
    ///
    /// # Errors
    /// `InvalidInput` for options no queue can deliver with (a visibility or `max_attempts` of
    /// zero); `Corrupt` for a stored message that is none; `Conflict`, nothing received, when
    /// other consumers took every ready message found, read after read, or when this receive
    /// set many spent messages aside and found none to deliver yet (receive again); the
    /// store's errors.
    pub async fn receive(&self) -> Result<Option<Message>> {
        self.options.validate()?;
        let prefix = ready_prefix(&self.name);
        let (mut races, mut dead) = (0, 0);
        for _ in 0..RECEIVE_READS {
            let now = self.now();
            let ready = Selector::prefix(prefix.clone()).end(prefix.clone().with(at_part(now.saturating_add(1))));
            let page = self.db.page(&ready, &ListOptions::limit(RECEIVE_PAGE)).await?;
            if page.entries.is_empty() {
                return Ok(None);
            }
            let mut raced = false;
            for entry in page.entries {
                match self.take(message(entry)?, now).await? {
                    Taken::Leased(message) => return Ok(Some(message)),
                    Taken::Dead => dead += 1,
                    Taken::Lost => raced = true,
                }
            }
            races = if raced { races + 1 } else { 0 };
            if races == RECEIVE_RACES {
                return Err(Error::Conflict {
                    message: format!(
                        "other consumers of queue {:?} took every ready message found, {RECEIVE_RACES} reads in a row",
                        self.name
                    ),
                });
            }
        }
        Err(Error::Conflict {
            message: format!(
                "this receive set {dead} spent messages of queue {:?} aside as dead letters and found none to \
                 deliver yet: receive again",
                self.name
            ),
        })
    }

    /// Leases `found`, or sets it aside when its attempts are spent.
    async fn take(&self, found: Message, now: u64) -> Result<Taken> {
        if found.attempts >= self.options.max_attempts {
            let dead = dead_key(&self.name, found.id)?;
            let moved = self.moved(found.move_ops(dead, found.attempts)).await?;
            if moved.is_none() {
                return Ok(Taken::Lost);
            }
            tracing::warn!(queue = %self.name, id = %found.id, attempts = found.attempts, "a message whose attempts are spent is now a dead letter");
            return Ok(Taken::Dead);
        }
        let attempts = found.attempts.saturating_add(1);
        let wait = self.options.visibility.saturating_add(self.options.backoff(attempts));
        let lease = ready_key(&self.name, now.saturating_add(millis(wait)), found.id)?;
        let Some(commit) = self.moved(found.move_ops(lease.clone(), attempts)).await? else {
            return Ok(Taken::Lost);
        };
        let lease_version = match commit.mode {
            // The set was a commit of its own, before the delete's.
            Mode::Sequential => match self.db.get(&lease).await? {
                Some(entry) => entry.version,
                None => return Ok(Taken::Lost),
            },
            Mode::Transaction | Mode::Batch => commit.version,
        };
        Ok(Taken::Leased(Message {
            attempts,
            lease,
            lease_version,
            ..found
        }))
    }

    /// Runs a move of a message; `None` when its check failed (another consumer moved it).
    async fn moved(&self, ops: Vec<Write>) -> Result<Option<Commit>> {
        match self.db.atomic().library_ops(ops).commit().await {
            Ok(commit) => Ok(Some(commit)),
            Err(Error::CheckFailed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Acknowledges `message` by itself (a consumer with writes of its own acknowledges it in
    /// their unit: [`Atomic::ack`], [`Tx::ack`]).
    ///
    /// # Errors
    /// `CheckFailed` when its lease ended and another delivery took it; as [`Atomic::commit`].
    pub async fn ack(&self, message: &Message) -> Result<Commit> {
        self.db.atomic().ack(message).commit().await
    }

    /// Hands `message` back before its lease ends, to be delivered again after the backoff
    /// (or set aside as a dead letter when its attempts are spent).
    ///
    /// # Errors
    /// `CheckFailed` when its lease ended and another delivery took it; as [`Atomic::commit`].
    pub async fn release(&self, message: &Message) -> Result<Commit> {
        self.options.validate()?;
        let again = if message.attempts >= self.options.max_attempts {
            dead_key(&self.name, message.id)?
        } else {
            let at = self
                .now()
                .saturating_add(millis(self.options.backoff(message.attempts)));
            ready_key(&self.name, at, message.id)?
        };
        let ops = message.move_ops(again, message.attempts);
        self.db.atomic().library_ops(ops).commit().await
    }

    /// The first `limit` dead letters, oldest first: messages whose attempts were spent.
    /// Acknowledging one ([`Queue::ack`]) deletes it; to have one delivered again, acknowledge
    /// it and enqueue its payload in one unit (`db.atomic().ack(&dead).enqueue(…)`).
    ///
    /// # Errors
    /// As [`Queue::receive`]'s reads.
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<Message>> {
        let page = self
            .db
            .page(&Selector::prefix(dead_prefix(&self.name)), &ListOptions::limit(limit))
            .await?;
        page.entries.into_iter().map(message).collect()
    }

    /// Receives one message and runs `handler` on it; the writes the handler returns commit
    /// with the message's acknowledgement, as one unit, so its effects are applied once. The
    /// handler runs outside any transaction (a slow one — a webhook call — holds no lock);
    /// when it fails, or its unit does, the message is released for another delivery after
    /// the backoff. Returns whether a message was ready. (A consumer that must read inside a
    /// transaction receives with [`Queue::receive`] and acknowledges with [`Tx::ack`].)
    ///
    /// # Errors
    /// The handler's (after the release); as [`Queue::receive`] and [`Atomic::commit`]
    /// (`CheckFailed`: the lease ended and another delivery took the message).
    pub async fn handle<E, F>(&self, handler: F) -> Result<bool, E>
    where
        F: AsyncFn(&Message) -> Result<Vec<Write>, E>,
        E: From<Error>,
    {
        let Some(message) = self.receive().await? else {
            return Ok(false);
        };
        self.deliver(&message, &handler).await.map(|()| true)
    }

    /// Runs `handler` on a received `message` and commits its writes with the
    /// acknowledgement; releases the message when either fails — unless its lease ended and
    /// another delivery has it.
    async fn deliver<E, F>(&self, message: &Message, handler: &F) -> Result<(), E>
    where
        F: AsyncFn(&Message) -> Result<Vec<Write>, E>,
        E: From<Error>,
    {
        let failed = match handler(message).await {
            Ok(writes) => {
                // The lease's check first: in sequential mode a stale delivery then writes nothing.
                let [check, delete] = message.ack_ops();
                let unit = self.db.atomic().library_op(check).ops(writes).library_op(delete);
                match unit.commit().await {
                    Ok(_) => return Ok(()),
                    Err(lost @ Error::CheckFailed { index: 0, .. }) => {
                        tracing::warn!(queue = %self.name, id = %message.id, "the lease ended before the acknowledgement: another delivery has the message");
                        return Err(lost.into());
                    }
                    Err(error) => error.into(),
                }
            }
            Err(error) => error,
        };
        if let Err(error) = self.release(message).await {
            tracing::warn!(queue = %self.name, id = %message.id, %error, "a message whose delivery failed could not be released: it is delivered again when its lease ends");
        }
        Err(failed)
    }

    /// Handles up to `max` ready messages, one after another (as [`Queue::handle`]), and returns
    /// how many were acknowledged: the way to consume where nothing runs for long, such as a
    /// Cloudflare Worker's scheduled handler. A failed delivery (the handler's error, or its
    /// unit's) is logged (`tracing`) and its message released; the others go on.
    ///
    /// # Errors
    /// `InvalidInput` for options no queue can deliver with; the store's errors while receiving.
    pub async fn drain<E, F>(&self, max: usize, handler: F) -> Result<usize>
    where
        F: AsyncFn(&Message) -> Result<Vec<Write>, E>,
        E: From<Error> + fmt::Display,
    {
        let mut acknowledged = 0;
        for _ in 0..max {
            let message = match self.receive().await {
                Ok(Some(message)) => message,
                Ok(None) => break,
                // Others took what it found, or it set spent messages aside: look again.
                Err(error) if error.kind() == ErrorKind::Conflict => continue,
                Err(error) => return Err(error),
            };
            match self.deliver(&message, &handler).await {
                Ok(()) => acknowledged += 1,
                Err(error) => {
                    tracing::warn!(queue = %self.name, id = %message.id, %error, "delivering a message failed");
                }
            }
        }
        Ok(acknowledged)
    }

    /// Handles messages as they become ready (as [`Queue::handle`]), up to `concurrency` at a
    /// time, until `shutdown` completes; then receives no more and returns once the messages in
    /// hand are done. When nothing is ready it looks again every [`QueueOptions::poll`] (the
    /// store's `pause`: adapters that run on a runtime sleep). A failed delivery is logged
    /// (`tracing`) and its message released; a store error of a receive is logged, and the
    /// listener waits a poll interval and goes on.
    ///
    /// # Errors
    /// `InvalidInput` for options no queue can deliver with, or a poll interval under 1 ms;
    /// `Closed` once the store is closed (after the messages in hand are done).
    pub async fn listen<E, F>(&self, concurrency: usize, shutdown: impl Future<Output = ()>, handler: F) -> Result<()>
    where
        F: AsyncFn(&Message) -> Result<Vec<Write>, E>,
        E: From<Error> + fmt::Display,
    {
        self.options.validate()?;
        if self.options.poll < Duration::from_millis(1) {
            return Err(refuse("the poll interval must be at least 1 ms"));
        }
        let concurrency = concurrency.max(1);
        let handler = &handler;
        let mut shutdown = pin!(shutdown);
        // `idle`: the last receive found nothing ready; look again after a poll interval.
        let (mut stopping, mut closed, mut idle) = (false, false, false);
        let mut running = FuturesUnordered::new();
        loop {
            if !stopping && futures::poll!(shutdown.as_mut()).is_ready() {
                stopping = true;
            }
            if stopping && running.is_empty() {
                return if closed { Err(Error::Closed) } else { Ok(()) };
            }
            if !stopping && !idle && running.len() < concurrency {
                // Receive while the messages in hand go on.
                let in_hand = async {
                    while running.next().await.is_some() {}
                    future::pending::<Infallible>().await
                };
                let received = match future::select(pin!(self.receive()), pin!(in_hand)).await {
                    Either::Left((received, _)) => received,
                    Either::Right((never, _)) => match never {},
                };
                match received {
                    Ok(Some(message)) => running.push(async move {
                        if let Err(error) = self.deliver(&message, handler).await {
                            tracing::warn!(queue = %self.name, id = %message.id, %error, "delivering a message failed");
                        }
                    }),
                    Ok(None) => idle = true,
                    Err(error) if error.kind() == ErrorKind::Closed => (stopping, closed) = (true, true),
                    Err(error) => {
                        tracing::warn!(queue = %self.name, %error, "receiving failed; trying again");
                        idle = true;
                    }
                }
                continue;
            }
            // Wait for the shutdown, a message in hand to finish, or (idle) the next look.
            let (listens, looks) = (!stopping, idle && !stopping);
            let stop = async {
                match listens {
                    true => shutdown.as_mut().await,
                    false => future::pending::<()>().await,
                }
            };
            let finished = async {
                match running.is_empty() {
                    true => future::pending::<()>().await,
                    false => drop(running.next().await),
                }
            };
            let tick = async {
                match looks {
                    true => self.db.pause(self.options.poll).await,
                    false => future::pending::<()>().await,
                }
            };
            match future::select(pin!(stop), pin!(future::select(pin!(finished), pin!(tick)))).await {
                Either::Left(_) => stopping = true,
                Either::Right((Either::Left(_), _)) => {}
                Either::Right((Either::Right(_), _)) => idle = false,
            }
        }
    }
}

/// A duration in whole milliseconds (saturating).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Atomic<'_> {
    /// Enqueues `payload` on `queue`, ready now, as part of this unit: the message exists
    /// exactly when the unit's other writes do (in sequential mode it is a write of its own).
    /// A `Bytes` payload holds at most [`MAX_QUEUE_PAYLOAD_BYTES`]; a larger one fails the
    /// commit with `LimitExceeded`, nothing written.
    pub fn enqueue(self, queue: &str, payload: impl Into<Value>) -> Self {
        self.enqueue_in(queue, payload, Duration::ZERO)
    }

    /// Enqueues `payload` on `queue`, ready `delay` from now (by the handle's clock).
    pub fn enqueue_in(self, queue: &str, payload: impl Into<Value>, delay: Duration) -> Self {
        let (at, payload) = (self.db().clock().now_ms().saturating_add(millis(delay)), payload.into());
        self.library_op_if(enqueue_op(queue, &payload, at), payload_fits(&payload))
    }

    /// Acknowledges `message` in this unit: the unit fails with `CheckFailed` when its lease
    /// ended and another delivery took it, so its writes and the acknowledgement commit
    /// together or not at all.
    pub fn ack(self, message: &Message) -> Self {
        self.library_ops(message.ack_ops())
    }
}

impl Tx {
    /// Enqueues `payload` on `queue`, ready now, when this transaction commits.
    pub fn enqueue(&mut self, queue: &str, payload: impl Into<Value>) -> &mut Self {
        self.enqueue_in(queue, payload, Duration::ZERO)
    }

    /// Enqueues `payload` on `queue`, ready `delay` from now (by the handle's clock), when
    /// this transaction commits.
    pub fn enqueue_in(&mut self, queue: &str, payload: impl Into<Value>, delay: Duration) -> &mut Self {
        let (at, payload) = (self.clock().now_ms().saturating_add(millis(delay)), payload.into());
        self.buffer(enqueue_op(queue, &payload, at), payload_fits(&payload))
    }

    /// Acknowledges `message` with this transaction: its commit fails with `CheckFailed` when
    /// the lease ended and another delivery took the message.
    pub fn ack(&mut self, message: &Message) -> &mut Self {
        let [check, delete] = message.ack_ops();
        self.library_write(check);
        self.library_write(delete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_bad_ones_are_corrupt() {
        let key = Key::versionstamped(&ready_prefix("q").with(at_part(5)), Version(9), 1).unwrap();
        for payload in [Value::from("hi"), Value::I64(-3), Value::Bytes(Vec::new())] {
            let entry = Entry {
                key: key.clone(),
                value: record(4, &payload),
                version: Version(10),
            };
            let read = message(entry).unwrap();
            assert_eq!(
                (read.payload, read.attempts, read.id.version, read.id.index),
                (payload, 4, Version(9), 1)
            );
        }
        for bad in [
            Value::I64(1),
            Value::Bytes(vec![0; 3]),
            Value::Bytes(vec![0, 0, 0, 0, 2]),
            Value::Bytes(vec![0, 0, 0, 0, 1, 7]),
        ] {
            let entry = Entry {
                key: key.clone(),
                value: bad.clone(),
                version: Version(10),
            };
            assert_eq!(message(entry).unwrap_err().kind(), ErrorKind::Corrupt, "{bad:?}");
        }
    }

    #[test]
    fn payloads_at_the_limit_enqueue_and_larger_ones_write_nothing() {
        futures::executor::block_on(async {
            let db = Db::from(crate::MemoryDb::new());
            let payload = |len| vec![7u8; len];
            db.atomic()
                .enqueue("q", payload(MAX_QUEUE_PAYLOAD_BYTES))
                .commit()
                .await
                .unwrap();
            let over = db
                .atomic()
                .set(crate::key!["a"], 1)
                .enqueue("q", payload(MAX_QUEUE_PAYLOAD_BYTES + 1))
                .commit()
                .await
                .unwrap_err();
            assert!(
                matches!(
                    over,
                    Error::LimitExceeded {
                        what: "queue payload bytes",
                        nothing_written: true,
                        ..
                    }
                ),
                "{over:?}"
            );
            let in_tx = db
                .transact(async |tx| {
                    tx.set(crate::key!["a"], 1)
                        .enqueue("q", payload(MAX_QUEUE_PAYLOAD_BYTES + 1));
                    Ok::<_, Error>(())
                })
                .await
                .unwrap_err();
            assert_eq!(in_tx.kind(), ErrorKind::LimitExceeded, "{in_tx:?}");
            assert_eq!(db.get(&crate::key!["a"]).await.unwrap(), None);
            let queue = db.queue("q");
            let message = queue.receive().await.unwrap().unwrap();
            assert_eq!(
                message.payload.as_bytes().map(<[u8]>::len),
                Some(MAX_QUEUE_PAYLOAD_BYTES)
            );
            assert!(queue.receive().await.unwrap().is_none());
        });
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let options = QueueOptions::default();
        let waits: Vec<u64> = (1..=12).map(|a| options.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(options.backoff(u32::MAX), Duration::from_secs(300));
    }
}
