//! The quickstart: an app's first page against `enginedb::Db`. A message to several recipients
//! is written as one unit, read back by key and by prefix (a page at a time, then as a stream),
//! and a read-modify-write runs in a transaction that can fail with the app's own error.
//!
//! Run it with `cargo run -p quickstart`.

#![allow(clippy::print_stdout)]

use std::fmt;
use std::pin::pin;

use enginedb::{Db, MemoryDb, Selector, key};
use futures::TryStreamExt;

/// The app's error: the store's, or its own.
#[derive(Debug)]
enum AppError {
    Store(enginedb::Error),
    NothingSent(String),
}

impl From<enginedb::Error> for AppError {
    fn from(error: enginedb::Error) -> Self {
        AppError::Store(error)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Store(error) => write!(f, "store: {error}"),
            AppError::NothingSent(who) => write!(f, "{who} has sent nothing yet"),
        }
    }
}

/// The message, one delivery per recipient and the sender's counter: all or nothing.
async fn send(db: &Db, id: i64, from: &str, to: &[&str], body: &str) -> enginedb::Result<()> {
    let mut unit = db.atomic().insert(key!["msg", id], body).sum(key!["sent", from], 1);
    for recipient in to {
        unit = unit.set(key!["delivery", *recipient, id], "unread");
    }
    let commit = unit.commit().await?;
    println!("sent #{id} at version {} ({:?})", commit.version, commit.mode);
    Ok(())
}

/// Read-modify-write in a transaction; the body may run again if it loses a race.
async fn record_stats(db: &Db, who: &str) -> Result<i64, AppError> {
    db.transact(async |tx| {
        let sent = tx.get(&key!["sent", who]).await?.and_then(|e| e.value.as_i64());
        let Some(sent) = sent else {
            return Err(AppError::NothingSent(who.into()));
        };
        tx.set(key!["stats", who], format!("{sent} sent"));
        Ok(sent)
    })
    .await
}

fn main() -> Result<(), AppError> {
    futures::executor::block_on(async {
        // Any store works the same: `enginedb_open::open("sqlite://app.db").await?` is a `Db` too.
        let db = Db::from(MemoryDb::new());

        send(&db, 1, "ada", &["bob", "cy"], "hello").await?;
        send(&db, 2, "ada", &["bob"], "lunch?").await?;
        // The `insert` of #1 fails, so nothing of this unit is written: no delivery to dee.
        if let Err(error) = send(&db, 1, "ada", &["dee"], "again").await {
            println!("sending #1 again: {error}");
        }
        println!("dee got #1: {}", db.get(&key!["delivery", "dee", 1]).await?.is_some());

        // A page at a time, resuming after the cursor...
        let bob = Selector::prefix(key!["delivery", "bob"]);
        let first = db.list(bob.clone()).limit(1).page().await?;
        let second = db.list(bob).limit(1).after(first.cursor).page().await?;
        for entry in first.entries.iter().chain(&second.entries) {
            println!("bob: {} = {}", entry.key, entry.value);
        }
        // ...or every entry as a stream.
        let mut deliveries = pin!(db.list(Selector::prefix(key!["delivery"])).stream());
        while let Some(entry) = deliveries.try_next().await? {
            println!("all: {} = {} (v{})", entry.key, entry.value, entry.version);
        }

        println!("ada has sent {}", record_stats(&db, "ada").await?);
        if let Err(error) = record_stats(&db, "cy").await {
            println!("stats for cy: {error}");
        }
        db.close().await?;
        Ok(())
    })
}
