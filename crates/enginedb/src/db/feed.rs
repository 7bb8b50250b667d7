//! Feeds (DESIGN §11): a transactional outbox. Events are emitted inside the unit or
//! transaction whose writes they announce, so they commit with them or not at all, and read
//! back in commit order; a consumer keeps its position in the store and advances it in the same
//! transaction as the effects of the events it handled.

use std::fmt;
use std::str::FromStr;

use futures::{Stream, TryStreamExt, stream};

use crate::commit::Commit;
use crate::error::{Error, Result};
use crate::key::{Key, KeyPart};
use crate::library;
use crate::limits::MAX_LIST_LIMIT;
use crate::model::{Entry, ListOptions, Selector, Write};
use crate::tx::Tx;
use crate::value::Value;
use crate::version::Version;

use super::Db;
use super::atomic::Atomic;

/// A place in a feed: just after the event of commit `version` whose versionstamped write
/// was the commit's `index`-th (from 0). Cursors order as the events do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedCursor {
    /// The version of the commit that emitted the event.
    pub version: Version,
    /// Its place among that commit's versionstamped writes.
    pub index: u32,
}

impl FeedCursor {
    /// The first key of the events after this one, under a feed's `prefix`.
    fn next_key(self, prefix: &Key) -> Result<Key> {
        match self.index.checked_add(1) {
            Some(index) => Key::versionstamped(prefix, self.version, index),
            None => Key::versionstamped(prefix, Version(self.version.0.saturating_add(1)), 0),
        }
    }

    /// The stored form of a consumer's position: version and index, big-endian.
    fn to_value(self) -> Value {
        let mut bytes = self.version.0.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.index.to_be_bytes());
        Value::Bytes(bytes)
    }

    fn from_value(value: &Value) -> Result<FeedCursor> {
        let corrupt = || Error::Corrupt {
            message: format!("a feed position holds {value:?}, not a version and an index"),
        };
        let bytes = value.as_bytes().ok_or_else(corrupt)?;
        let (version, index) = bytes.split_first_chunk::<8>().ok_or_else(corrupt)?;
        let index: [u8; 4] = index.try_into().map_err(|_| corrupt())?;
        Ok(FeedCursor {
            version: Version(u64::from_be_bytes(*version)),
            index: u32::from_be_bytes(index),
        })
    }
}

impl fmt::Display for FeedCursor {
    /// `version.index`, e.g. `42.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.version, self.index)
    }
}

impl FromStr for FeedCursor {
    type Err = Error;
    /// The form [`FeedCursor`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("{s:?} is not a feed cursor (version.index)"));
        let (version, index) = s.split_once('.').ok_or_else(bad)?;
        Ok(FeedCursor {
            version: Version(version.parse().map_err(|_| bad())?),
            index: index.parse().map_err(|_| bad())?,
        })
    }
}

/// One event of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Where it lies: resume after it with this cursor.
    pub cursor: FeedCursor,
    /// What was emitted.
    pub payload: Value,
}

/// The events emitted under one topic, in commit order: see [`Db::feed`].
#[derive(Clone, Debug)]
pub struct Feed<'db> {
    db: &'db Db,
    topic: String,
}

fn events_prefix(topic: &str) -> Key {
    library::key([KeyPart::from("feed"), KeyPart::from(topic)])
}

fn position_key(topic: &str, consumer: &str) -> Key {
    library::key([
        KeyPart::from("feed-position"),
        KeyPart::from(topic),
        KeyPart::from(consumer),
    ])
}

fn event(entry: Entry) -> Result<Event> {
    let (version, index) = entry.key.versionstamp().ok_or_else(|| Error::Corrupt {
        message: format!("feed entry {} does not end in a version and an index", entry.key),
    })?;
    Ok(Event {
        cursor: FeedCursor { version, index },
        payload: entry.value,
    })
}

impl Db {
    /// The feed of `topic`: events emitted with [`Atomic::emit`] or [`Tx::emit`], read in
    /// commit order. A reader that has read up to an event never later finds an earlier one.
    ///
    /// ```
    /// use enginedb::{Db, MemoryDb, key};
    ///
    /// # futures::executor::block_on(async {
    /// let db = Db::from(MemoryDb::new());
    /// db.atomic().set(key!["msg", 1], "hi").emit("messages", "msg 1").commit().await?;
    /// let feed = db.feed("messages");
    /// let events = feed.since(None).read().await?;
    /// assert_eq!(events[0].payload.as_str(), Some("msg 1"));
    /// assert!(feed.since(events[0].cursor).read().await?.is_empty());
    /// # Ok::<(), enginedb::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn feed(&self, topic: &str) -> Feed<'_> {
        Feed {
            db: self,
            topic: topic.to_owned(),
        }
    }
}

impl<'db> Feed<'db> {
    /// The selector of the events after `since` (all of them for `None`).
    fn after(&self, since: Option<FeedCursor>) -> Result<Selector> {
        let prefix = events_prefix(&self.topic);
        Ok(match since {
            Some(cursor) => Selector::prefix(prefix.clone()).start(cursor.next_key(&prefix)?),
            None => Selector::prefix(prefix),
        })
    }

    /// The events after `cursor` (from the first for `None`), in commit order: read a page
    /// with [`Since::read`] or all of them with [`Since::stream`].
    pub fn since(&self, cursor: impl Into<Option<FeedCursor>>) -> Since<'db> {
        Since {
            feed: self.clone(),
            cursor: cursor.into(),
            limit: MAX_LIST_LIMIT,
        }
    }

    /// The position `consumer` saved (`None`: it has handled nothing yet).
    ///
    /// # Errors
    /// `Corrupt` for a stored position that is none; the store's errors.
    pub async fn position(&self, consumer: &str) -> Result<Option<FeedCursor>> {
        let entry = self.db.get(&position_key(&self.topic, consumer)).await?;
        entry.map(|e| FeedCursor::from_value(&e.value)).transpose()
    }

    /// Hands the events after `consumer`'s position, up to `limit` of them, to `body` inside
    /// one transaction, and saves the position after the last of them in that transaction:
    /// the body's writes and the new position commit together or not at all, so each event's
    /// effect is applied exactly once however many consumers of that name run (a lost race
    /// is retried with the events then pending). Returns how many events were handled (0:
    /// none pending; the body was not called).
    ///
    /// # Errors
    /// The body's; `Conflict` when other consumers of the name moved its position on every
    /// attempt the handle's retry policy allows; `Unsupported` on a store that has neither transactions nor atomic batches
    /// (there a position cannot move with the effects); as [`Db::transact`].
    pub async fn consume<E, F>(&self, consumer: &str, limit: usize, mut body: F) -> Result<usize, E>
    where
        F: AsyncFnMut(&mut Tx, &[Event]) -> Result<(), E>,
        E: From<Error>,
    {
        let key = position_key(&self.topic, consumer);
        for _ in 0..self.db.retry_policy().max_attempts.max(1) {
            // The events after the position: read outside the transaction (committed events
            // never change), so emitters never conflict with it and it holds no connection
            // while reading.
            let at = self.position(consumer).await?;
            let events = self.since(at).limit(limit).read().await?;
            let Some(last) = events.last() else { return Ok(0) };
            let handled = self
                .db
                .transact(async |tx| {
                    let now = tx
                        .get(&key)
                        .await?
                        .map(|e| FeedCursor::from_value(&e.value))
                        .transpose()?;
                    if now != at {
                        return Ok(None); // another consumer of this name moved on: read again
                    }
                    body(tx, &events).await?;
                    tx.library_write(Write::set(key.clone(), last.cursor.to_value()));
                    Ok::<_, E>(Some(events.len()))
                })
                .await?;
            if let Some(handled) = handled {
                return Ok(handled);
            }
        }
        Err(Error::Conflict {
            message: format!(
                "the position of consumer {consumer:?} of feed {:?} kept moving under it",
                self.topic
            ),
        }
        .into())
    }

    /// Deletes the events up to and including `through`, for retention.
    ///
    /// # Errors
    /// As [`Atomic::commit`].
    pub async fn trim(&self, through: FeedCursor) -> Result<Commit> {
        let prefix = events_prefix(&self.topic);
        let end = through.next_key(&prefix)?;
        let range = Selector::prefix(prefix).end(end);
        self.db.atomic().library_op(Write::delete_range(range)).commit().await
    }
}

/// The events of a feed after a cursor: see [`Feed::since`].
#[must_use = "nothing is read until `read` or `stream` is called"]
pub struct Since<'db> {
    feed: Feed<'db>,
    cursor: Option<FeedCursor>,
    limit: usize,
}

impl<'db> Since<'db> {
    /// At most `limit` events a read (1 to [`crate::limits::MAX_LIST_LIMIT`], the default).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The first events after the cursor, up to the limit; resume after the last one's cursor.
    ///
    /// # Errors
    /// `InvalidInput` for a limit of 0 or over the maximum; `Corrupt` for a stored event that
    /// is no event; the store's errors.
    pub async fn read(self) -> Result<Vec<Event>> {
        let Since { feed, cursor, limit } = self;
        let selector = feed.after(cursor)?;
        let page = feed.db.page(&selector, &ListOptions::limit(limit)).await?;
        page.entries.into_iter().map(event).collect()
    }

    /// Every event after the cursor, a read of the limit's size after another, as a stream
    /// that ends after the last one committed by then (or after the first error).
    pub fn stream(self) -> impl Stream<Item = Result<Event>> + 'db {
        let reads = stream::try_unfold(Some(self), |state| async move {
            let Some(since) = state else { return Ok(None) };
            let (feed, limit) = (since.feed.clone(), since.limit);
            let events = since.read().await?;
            let next = match events.last() {
                Some(last) if events.len() == limit => Some(feed.since(last.cursor).limit(limit)),
                _ => None,
            };
            Ok(Some((stream::iter(events.into_iter().map(Ok)), next)))
        });
        reads.try_flatten()
    }
}

impl Atomic<'_> {
    /// Emits `payload` to the feed of `topic`, as part of this unit: the event exists exactly
    /// when the unit's other writes do (in sequential mode it is a write of its own, so a
    /// failure midway can leave one without the other: `PartialWrite` says which).
    pub fn emit(self, topic: &str, payload: impl Into<Value>) -> Self {
        self.library_op(Write::set_versionstamped(events_prefix(topic), payload))
    }
}

impl Tx {
    /// Emits `payload` to the feed of `topic` when this transaction commits.
    pub fn emit(&mut self, topic: &str, payload: impl Into<Value>) -> &mut Self {
        self.library_write(Write::set_versionstamped(events_prefix(topic), payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_from_text_and_from_their_stored_form() {
        let cursor = FeedCursor {
            version: Version(42),
            index: 7,
        };
        assert_eq!(cursor.to_string().parse::<FeedCursor>().unwrap(), cursor);
        assert_eq!(FeedCursor::from_value(&cursor.to_value()).unwrap(), cursor);
        for bad in ["", "42", "42.", "x.1", "1.-1", "1.2.3"] {
            assert!(bad.parse::<FeedCursor>().is_err(), "{bad:?}");
        }
        assert!(FeedCursor::from_value(&Value::I64(1)).is_err());
        assert!(FeedCursor::from_value(&Value::Bytes(vec![0; 11])).is_err());
    }
}
