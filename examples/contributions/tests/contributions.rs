//! The catalogue on every atomic adapter: markers move with updates, a failure anywhere in a
//! put leaves nothing half-visible, and concurrent writers never let a reader see a
//! half-written contribution. On a store without atomic units a put is refused, not half-done.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::sync::Arc;

use contributions::{Catalogue, Contribution};
use enginedb::{
    EngineDb, ErrorKind, Faulty, KeyPart, ListOptions, Mask, Masked, MemoryDb, Selector, key, transact_with,
};
use enginedb_conformance::pg_server::PgServer;

fn contribution(id: &str, title: &str, tags: &[&str], cites: &[&str]) -> Contribution {
    Contribution {
        id: id.to_owned(),
        title: title.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        cites: cites.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// Every adapter with atomic units, with a name.
async fn atomic_stores(dir: &std::path::Path, tag: &str) -> Vec<(String, Arc<dyn EngineDb>)> {
    let mut stores: Vec<(String, Arc<dyn EngineDb>)> = vec![
        ("memory native".into(), Arc::new(MemoryDb::new())),
        (
            "memory batch-only".into(),
            Arc::new(Masked::new(MemoryDb::new(), Mask::BatchOnly)),
        ),
    ];
    for url in [
        format!("sqlite://{}/{tag}.sqlite3", dir.display()),
        format!("redb://{}/{tag}.redb", dir.display()),
        format!(
            "{}?enginedb_namespace=contrib_{tag}_{}",
            PgServer::shared(),
            std::process::id()
        ),
    ] {
        let db = enginedb_open::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        stores.push((db.info().name, db));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_move_every_index_entry() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in atomic_stores(dir.path(), "updates").await {
        let catalogue = Catalogue::new(&*db);
        catalogue
            .put(&contribution(
                "c1",
                "Atomic Writes, Everywhere",
                &["rust", "db"],
                &["c0"],
            ))
            .await
            .expect("put");
        assert_eq!(catalogue.by_tag("rust").await.expect("tag"), ["c1"], "{name}");
        assert_eq!(catalogue.by_term("Atomic").await.expect("term"), ["c1"], "{name}");
        assert_eq!(catalogue.cited_by("c0").await.expect("cites"), ["c1"], "{name}");
        catalogue
            .put(&contribution("c1", "Durable writes", &["db"], &[]))
            .await
            .expect("update");
        assert!(
            catalogue.by_tag("rust").await.expect("tag").is_empty(),
            "{name}: old tag marker removed"
        );
        assert!(
            catalogue.by_term("atomic").await.expect("term").is_empty(),
            "{name}: old term removed"
        );
        assert!(
            catalogue.cited_by("c0").await.expect("cites").is_empty(),
            "{name}: old relation removed"
        );
        assert_eq!(catalogue.by_term("durable").await.expect("term"), ["c1"], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_anywhere_in_a_put_leaves_nothing_half_visible() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in atomic_stores(dir.path(), "faults").await {
        Catalogue::new(&*db)
            .put(&contribution("old", "Old title", &["keep"], &[]))
            .await
            .expect("seed");
        // A put of a new contribution: check, manifest, 2 relations, 2 tags, 3 terms.
        for fail_at in 1..=9 {
            let faulty = Faulty::new(&*db, fail_at);
            let doomed = contribution("new", "Half written thing", &["t1", "t2"], &["old", "x"]);
            let error = Catalogue::new(&faulty)
                .put(&doomed)
                .await
                .expect_err("the injected failure surfaces");
            assert_eq!(error.kind(), ErrorKind::Backend, "{name} at {fail_at}");
            let catalogue = Catalogue::new(&*db);
            assert_eq!(
                catalogue.get("new").await.expect("get"),
                None,
                "{name} at {fail_at}: no manifest"
            );
            assert!(
                catalogue.by_tag("t1").await.expect("tag").is_empty(),
                "{name} at {fail_at}: no tag marker"
            );
            assert!(
                catalogue.by_term("half").await.expect("term").is_empty(),
                "{name} at {fail_at}: no term"
            );
            assert!(
                catalogue.cited_by("old").await.expect("cites").is_empty(),
                "{name} at {fail_at}: no relation"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_expose_a_half_written_contribution() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in atomic_stores(dir.path(), "concurrent").await {
        let policy = enginedb::RetryPolicy {
            max_attempts: 1000,
            ..enginedb::RetryPolicy::default()
        };
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let db = db.clone();
                tokio::spawn(async move {
                    for round in 0..15 {
                        let tag = if (w + round) % 2 == 0 { "even" } else { "odd" };
                        let id = format!("c{}", round % 3);
                        let next = contribution(&id, &format!("{tag} title {round}"), &[tag], &[]);
                        loop {
                            match Catalogue::new(&*db).put(&next).await {
                                Err(e) if e.kind() == ErrorKind::CheckFailed => continue,
                                other => break other.map(drop),
                            }
                        }?;
                    }
                    Ok::<(), enginedb::Error>(())
                })
            })
            .collect();
        let mut checks = 0;
        let mut torn = Vec::new();
        for _ in 0..20 {
            // One consistent read: the markers of both tags and every manifest.
            let seen = transact_with(&*db, policy, |tx| async move {
                let mut markers = Vec::new();
                for tag in ["even", "odd"] {
                    let page = tx
                        .list(&Selector::Prefix(key!["contrib", "tag", tag]), &ListOptions::default())
                        .await?;
                    for entry in page.entries {
                        if let Some(KeyPart::Str(id)) = entry.key.parts().last() {
                            markers.push((tag, id.clone()));
                        }
                    }
                }
                let manifests = tx
                    .get_many(
                        &(0..3)
                            .map(|i| key!["contrib", "manifest", format!("c{i}")])
                            .collect::<Vec<_>>(),
                    )
                    .await?;
                Ok((markers, manifests))
            })
            .await
            .expect("read");
            let (markers, manifests) = seen.value;
            for (i, manifest) in manifests.iter().enumerate() {
                let Some(manifest) = manifest else { continue };
                let text = match &manifest.value {
                    enginedb::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    enginedb::Value::I64(_) => String::new(),
                };
                let tag = if text.starts_with("even") { "even" } else { "odd" };
                let listed: Vec<&str> = markers
                    .iter()
                    .filter(|(_, id)| *id == format!("c{i}"))
                    .map(|(t, _)| *t)
                    .collect();
                if listed != [tag] {
                    torn.push(format!("c{i} is {tag:?} but listed under {listed:?}"));
                }
            }
            checks += 1;
            tokio::task::yield_now().await;
        }
        for writer in writers {
            writer.await.expect("writer").expect("put");
        }
        assert!(
            torn.is_empty(),
            "{name}: a reader saw half-written contributions: {torn:?}"
        );
        assert!(checks > 0);
    }
}

#[tokio::test]
async fn a_store_without_atomic_units_refuses_a_put() {
    let db = Masked::new(MemoryDb::new(), Mask::SequentialOnly);
    let error = Catalogue::new(&db)
        .put(&contribution("c", "t", &["x"], &[]))
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert_eq!(
        Catalogue::new(&db).get("c").await.expect("get"),
        None,
        "nothing written"
    );
}
