//! `enginedb demo`: a small messaging scenario on an embedded SQLite file, written against
//! [`Db`] alone, that shows each step's atomicity.
//!
//! Every action is one unit, so a crash between its writes cannot leave a message nobody
//! receives or a delivery without its message:
//!
//! | key                                | value                                  |
//! |------------------------------------|----------------------------------------|
//! | `("demo", "msg", id)`              | JSON `{"from", "thread", "body"}`      |
//! | `("demo", "delivery", user, id)`   | `unread` / `read`                      |
//! | `("demo", "thread", thread, id)`   | the sender (thread index)              |
//! | `("demo", "receipt", id, user)`    | `read`                                 |
//! | `("demo", "last-read", user)`      | the last id read (counter)             |
//! | `("demo", "log", id)`              | what happened                          |
//! | `("demo", "ids")`                  | bumped to draw message ids             |

use std::path::PathBuf;
use std::process::ExitCode;

use enginedb::testing::{Faulty, Mask, Masked};
use enginedb::{Atomic, Atomicity, Commit, Db, Error, KeyPart, MemoryDb, Result, Selector, Version, Write, key};

/// `println!` that returns an error (a closed pipe among them) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        crate::emit(format_args!($($arg)*))?
    };
}

/// Runs the scenario on an embedded SQLite file in `dir` (default: a temporary directory).
pub(crate) async fn run(dir: Option<PathBuf>) -> Result<ExitCode> {
    let temporary = tempfile::tempdir().map_err(|e| Error::backend("demo", e))?;
    let dir = dir.unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&dir).map_err(|e| Error::backend("demo", e))?;
    let url = format!("sqlite://{}", dir.join("demo.sqlite3").display());
    out!("messaging demo on {url}\n");
    crate::with_store(&url, async |db| scenario(db).await).await?;
    if dir == temporary.path() {
        out!("\nThe database was a temporary one (pass --dir DIR to keep it).");
    } else {
        out!("\nThe database stays at {url}.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The scenario, step by step, with the atomicity each step got.
async fn scenario(db: &Db) -> Result<()> {
    let mail = Mail::new(db.clone(), Atomicity::Require);

    let (sent, commit) = mail.send("ada", &["bob", "cy"], "lunch at noon?").await?;
    out!("1. ada sends message {sent} to bob and cy: message + 2 deliveries + thread index + log entry");
    out!("   one unit, mode {:?}, version {}", commit.mode, commit.version);

    let (reply, commit) = mail.reply("bob", sent, "yes!").await?;
    out!(
        "2. bob replies ({reply}): delivered to the thread, on condition the parent exists; mode {:?}",
        commit.mode
    );

    let seen = mail.delivery_version("cy", sent).await?;
    let commit = mail.mark_read("cy", sent, seen).await?;
    out!(
        "3. cy reads {sent}: receipt + delivery transition + last-read id, if the delivery is still at version {seen}; mode {:?}",
        commit.mode
    );
    let again = mail.mark_read("cy", sent, seen).await;
    out!(
        "   the same mark-read with the version read before is refused: {}",
        again.err().map_or("(accepted?)".into(), |e| e.to_string())
    );
    for user in ["ada", "bob", "cy"] {
        let lines: Vec<String> = mail
            .inbox(user)
            .await?
            .iter()
            .map(|(id, read)| format!("{id}{}", if *read { " (read)" } else { "" }))
            .collect();
        out!("   {user}'s inbox: [{}]", lines.join(", "));
    }

    // Write op 1 draws the id; the send's unit is ops 2..=6.
    let crashing = Db::from(Faulty::new(db.port().clone()).fail_write(3));
    let failed = Mail::new(crashing, Atomicity::Require)
        .send("ada", &["bob", "cy"], "this one crashes")
        .await;
    let (deliveries, messages, logs) = (
        mail.inbox("bob").await?.len(),
        mail.count(key!["demo", "msg"]).await?,
        mail.count(key!["demo", "log"]).await?,
    );
    out!(
        "4. the store fails at write op 3 (the 2nd of a send's unit): {}\n   still {deliveries} delivery to bob, {messages} messages, {logs} log entries: no orphan message, no half-delivered send",
        failed.err().map_or("(no error?)".into(), |e| e.to_string())
    );

    let sequential = Db::from(Masked::new(MemoryDb::new(), Mask::SequentialOnly));
    let refused = Mail::new(sequential.clone(), Atomicity::Require)
        .send("ada", &["bob"], "hi")
        .await;
    out!(
        "5. on a store without transactions or batches, require_atomic() refuses: {}",
        refused.err().map_or("(accepted?)".into(), |e| e.to_string())
    );
    let faulty = Db::from(Faulty::new(sequential.port().clone()).fail_write(3));
    let partial = Mail::new(faulty, Atomicity::BestEffort)
        .send("ada", &["bob", "cy"], "hi")
        .await;
    out!(
        "6. ... and in best-effort sequential mode a failure midway is reported, never hidden:\n   {}",
        partial.err().map_or("(no error?)".into(), |e| e.to_string())
    );
    Ok(())
}

/// A tiny messaging engine on a [`Db`]: each action is one unit of the atomicity asked for.
struct Mail {
    db: Db,
    atomicity: Atomicity,
}

impl Mail {
    fn new(db: Db, atomicity: Atomicity) -> Self {
        Mail { db, atomicity }
    }

    fn unit(&self) -> Atomic<'_> {
        self.db.atomic().atomicity(self.atomicity)
    }

    /// A fresh message id: the version of a write to a counter (versions only grow).
    async fn next_id(&self) -> Result<i64> {
        let version = self.db.write_one(Write::sum(key!["demo", "ids"], 1)).await?;
        i64::try_from(version.0).map_err(|_| Error::invalid("message ids are exhausted"))
    }

    /// Adds message `id` to `unit`: the message, one delivery per recipient, the thread index
    /// and the log entry.
    fn message<'u>(unit: Atomic<'u>, id: i64, thread: i64, from: &str, to: &[&str], body: &str) -> Atomic<'u> {
        let record = serde_json::json!({ "from": from, "thread": thread, "body": body });
        unit.insert(key!["demo", "msg", id], record.to_string())
            .ops(
                to.iter()
                    .map(|user| Write::set(key!["demo", "delivery", *user, id], "unread")),
            )
            .set(key!["demo", "thread", thread, id], from)
            .insert(key!["demo", "log", id], format!("{from} to {}", to.join(", ")))
    }

    /// Sends `body` from `from` to `to`, as one unit.
    async fn send(&self, from: &str, to: &[&str], body: &str) -> Result<(i64, Commit)> {
        let id = self.next_id().await?;
        let commit = Mail::message(self.unit(), id, id, from, to, body).commit().await?;
        Ok((id, commit))
    }

    /// Replies to `parent` in its thread, delivered to everyone else in it, as one unit that
    /// fails with `CheckFailed` if the parent changed or went meanwhile.
    async fn reply(&self, from: &str, parent: i64, body: &str) -> Result<(i64, Commit)> {
        let found = self
            .db
            .get(&key!["demo", "msg", parent])
            .await?
            .ok_or_else(|| Error::invalid(format!("no message {parent}")))?;
        let thread = found
            .value
            .as_str()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|record| record.get("thread").and_then(serde_json::Value::as_i64))
            .ok_or_else(|| Error::Corrupt {
                message: format!("message {parent} is not the JSON the demo writes"),
            })?;
        let entries = self
            .db
            .list(Selector::prefix(key!["demo", "thread", thread]))
            .collect()
            .await?;
        let mut people: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.value.as_str())
            .filter(|who| *who != from)
            .collect();
        people.sort_unstable();
        people.dedup();
        let id = self.next_id().await?;
        let unit = self.unit().check(key!["demo", "msg", parent], found.version);
        let commit = Mail::message(unit, id, thread, from, &people, body).commit().await?;
        Ok((id, commit))
    }

    /// The version of `user`'s delivery of message `id`.
    async fn delivery_version(&self, user: &str, id: i64) -> Result<Version> {
        self.db
            .get(&key!["demo", "delivery", user, id])
            .await?
            .map(|entry| entry.version)
            .ok_or_else(|| Error::invalid(format!("{user} has no message {id}")))
    }

    /// Marks message `id` read by `user`: receipt, delivery transition and last-read id, as
    /// one unit that fails with `CheckFailed` unless the delivery is still at `seen`.
    async fn mark_read(&self, user: &str, id: i64, seen: Version) -> Result<Commit> {
        self.unit()
            .check(key!["demo", "delivery", user, id], seen)
            .set(key!["demo", "delivery", user, id], "read")
            .set(key!["demo", "receipt", id, user], "read")
            .set(key!["demo", "last-read", user], id)
            .commit()
            .await
    }

    /// `user`'s deliveries, oldest first: (message id, read).
    async fn inbox(&self, user: &str) -> Result<Vec<(i64, bool)>> {
        let entries = self
            .db
            .list(Selector::prefix(key!["demo", "delivery", user]))
            .collect()
            .await?;
        Ok(entries
            .iter()
            .filter_map(|e| match e.key.parts().last() {
                Some(KeyPart::Int(id)) => Some((*id, e.value.as_str() == Some("read"))),
                _ => None,
            })
            .collect())
    }

    /// How many keys start with `prefix`.
    async fn count(&self, prefix: enginedb::Key) -> Result<usize> {
        Ok(self.db.list(Selector::prefix(prefix)).collect().await?.len())
    }
}
