//! The relay engine on every adapter: the same scenario, and a failure injected at every
//! position of a send — no orphan message on atomic stores, `PartialWrite` on a sequential one.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use enginedb::testing::{Mask, Masked};
use enginedb::{Atomicity, Db, MemoryDb};
use enginedb_postgres::throwaway::PgServer;
use relay::Relay;

/// One store per adapter (and the memory store in every mode), with a name; `test` keeps
/// each test's stores apart.
async fn stores(dir: &std::path::Path, test: &str) -> Vec<(String, Db)> {
    let mut stores: Vec<(String, Db)> = Mask::ALL
        .iter()
        .map(|mask| {
            (
                format!("memory {}", mask.name()),
                Db::from(Masked::new(MemoryDb::new(), *mask)),
            )
        })
        .collect();
    let postgres = PgServer::shared().unwrap_or_else(|e| panic!("{e}"));
    for url in [
        format!("sqlite://{}/{test}.sqlite3", dir.display()),
        format!("redb://{}/{test}.redb", dir.display()),
        format!("{postgres}?enginedb_namespace=relay_{test}_{}", std::process::id()),
    ] {
        let db = enginedb_open::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        stores.push((db.info().name, db));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_runs_unchanged_on_every_adapter() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in stores(dir.path(), "scenario").await {
        let relay = Relay::new(db.clone(), Atomicity::BestEffort);
        let sent = relay
            .send("ada", &["bob", "cy"], "hello", &[b"a".to_vec()])
            .await
            .expect("send");
        let reply = relay.reply("bob", sent.id, "hi ada").await.expect("reply");
        relay.mark_read("cy", sent.id).await.expect("mark read");
        let message = relay.message(reply.id).await.expect("read").expect("the reply exists");
        assert_eq!((message.thread, message.from.as_str()), (sent.id, "bob"), "{name}");
        let cy = relay.inbox("cy").await.expect("inbox");
        assert!(
            cy.iter().any(|d| d.id == sent.id && d.read),
            "{name}: cy read it: {cy:?}"
        );
        let ada = relay.inbox("ada").await.expect("inbox");
        assert!(
            ada.iter().any(|d| d.id == reply.id && !d.read),
            "{name}: ada got the reply: {ada:?}"
        );
        let capabilities = db.capabilities();
        let atomic = capabilities.transactions || capabilities.batches;
        assert_eq!(
            sent.commit.mode.is_atomic(),
            atomic,
            "{name}: mode {:?}",
            sent.commit.mode
        );
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_through_a_send_leaves_no_orphan_or_is_reported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in stores(dir.path(), "faults").await {
        match relay::selftest::injected_failures(&db).await {
            Ok(summary) => eprintln!("{name}: {summary}"),
            Err(violation) => panic!("{name}: {violation}"),
        }
        db.close().await.expect("close");
    }
}
