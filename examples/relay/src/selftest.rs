//! The relay's own proof, runnable on any store (natively in tests, and inside the Worker on
//! D1): a failure injected at every write position of a send leaves no orphan on a store with
//! atomic units, and is reported as `PartialWrite` on a sequential one.

use enginedb::testing::Faulty;
use enginedb::{Atomicity, Db, ErrorKind, Selector, key};

use crate::{Error, Relay};

/// Runs the check on `db`; `Err` says what went wrong.
///
/// # Errors
/// A description of the first violation, or of a store error.
pub async fn injected_failures(db: &Db) -> Result<String, String> {
    let relay = Relay::new(db.clone(), Atomicity::BestEffort);
    let count = |prefix| async move {
        let entries = db
            .list(Selector::prefix(prefix))
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok::<usize, String>(entries.len())
    };
    let capabilities = db.capabilities();
    let sequential = !capabilities.transactions && !capabilities.batches;
    // Write op 1 draws the id; the send's unit is ops 2..=7 (message, attachment, two
    // deliveries, thread index, log).
    for fail_at in 2..=7 {
        let before = relay.inbox("bob").await.map_err(|e| e.to_string())?.len();
        let faulty = Db::from(Faulty::new(db.port().clone()).fail_write(fail_at));
        let error = match Relay::new(faulty, Atomicity::BestEffort)
            .send("ada", &["bob", "cy"], "doomed", &[b"x".to_vec()])
            .await
        {
            Ok(sent) => {
                return Err(format!(
                    "at write {fail_at}: the failure was hidden ({:?})",
                    sent.commit
                ));
            }
            Err(Error::Store(error)) => error,
            Err(error) => return Err(format!("at write {fail_at}: expected a store error, got {error}")),
        };
        if sequential && fail_at > 2 {
            if error.kind() != ErrorKind::PartialWrite {
                return Err(format!(
                    "at write {fail_at}: a sequential store must report PartialWrite, got {error}"
                ));
            }
            continue;
        }
        if error.kind() != ErrorKind::Backend {
            return Err(format!(
                "at write {fail_at}: expected the injected failure, got {error}"
            ));
        }
        let after = relay.inbox("bob").await.map_err(|e| e.to_string())?.len();
        let (messages, logs) = (count(key!["relay", "msg"]).await?, count(key!["relay", "log"]).await?);
        if after != before || messages != logs {
            return Err(format!(
                "at write {fail_at}: half a send is visible ({before} -> {after} deliveries, {messages} messages, {logs} logs)"
            ));
        }
    }
    Ok(if sequential {
        "a failure at each of writes 3..=7 of a send was reported as PartialWrite".into()
    } else {
        "a failure at each of writes 2..=7 of a send left nothing behind".into()
    })
}
