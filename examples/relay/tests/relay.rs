//! The relay engine on every adapter: the same scenario, and a failure injected at every
//! position of a send — no orphan message on atomic stores, `PartialWrite` on a sequential one.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::sync::Arc;

use enginedb::{Atomicity, EngineDb, ErrorKind, Faulty, Mask, Masked, MemoryDb, Mode, key};
use enginedb_conformance::pg_server::PgServer;
use relay::Relay;

/// One store per adapter (and the memory store in every mode), with a name.
async fn stores(dir: &std::path::Path) -> Vec<(String, Arc<dyn EngineDb>)> {
    let mut stores: Vec<(String, Arc<dyn EngineDb>)> = Mask::ALL
        .iter()
        .map(|mask| {
            (
                format!("memory {}", mask.name()),
                Arc::new(Masked::new(MemoryDb::new(), *mask)) as Arc<dyn EngineDb>,
            )
        })
        .collect();
    for url in [
        format!("sqlite://{}/relay.sqlite3", dir.display()),
        format!("redb://{}/relay.redb", dir.display()),
        format!("{}?enginedb_namespace=relay_{}", PgServer::shared(), std::process::id()),
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
    for (name, db) in stores(dir.path()).await {
        let relay = Relay::new(&*db, Atomicity::BestEffort);
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
        let atomic = db.transactions().is_some() || db.batches().is_some();
        assert_eq!(
            sent.commit.mode.is_atomic(),
            atomic,
            "{name}: mode {:?}",
            sent.commit.mode
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_through_a_send_leaves_no_orphan_or_is_reported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in stores(dir.path()).await {
        // Write op 1 draws the id; the send's unit is ops 2..=7 (message, attachment, two
        // deliveries, thread index, log).
        for fail_at in 2..=7 {
            let faulty = Faulty::new(&*db, fail_at);
            let before = Relay::new(&*db, Atomicity::BestEffort)
                .inbox("bob")
                .await
                .expect("inbox")
                .len();
            let error = Relay::new(&faulty, Atomicity::BestEffort)
                .send("ada", &["bob", "cy"], "doomed", &[b"x".to_vec()])
                .await
                .expect_err("the injected failure surfaces");
            let after = Relay::new(&*db, Atomicity::BestEffort)
                .inbox("bob")
                .await
                .expect("inbox")
                .len();
            let sequential = enginedb_conformance::mode_of(&*db) == Mode::Sequential;
            if sequential && fail_at > 2 {
                assert_eq!(error.kind(), ErrorKind::PartialWrite, "{name} at {fail_at}: {error}");
            } else {
                assert_eq!(error.kind(), ErrorKind::Backend, "{name} at {fail_at}: {error}");
                assert_eq!(
                    after, before,
                    "{name} at {fail_at}: no delivery of a message that was not sent"
                );
                let orphans = enginedb_conformance::contents(&*db, &key!["relay", "msg"])
                    .await
                    .expect("list");
                let logs = enginedb_conformance::contents(&*db, &key!["relay", "log"])
                    .await
                    .expect("list");
                assert_eq!(
                    orphans.len(),
                    logs.len(),
                    "{name} at {fail_at}: every message has its log entry"
                );
            }
        }
    }
}
