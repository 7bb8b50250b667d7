//! The catalogue on every atomic adapter: markers move with updates, a failure anywhere in a
//! put leaves nothing half-visible, and concurrent writers never let a reader see a
//! half-written contribution. On a store without atomic units a put is refused, not half-done.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use contributions::{Catalogue, Contribution};
use enginedb::testing::{Faulty, Mask, Masked};
use enginedb::{Db, ErrorKind, KeyPart, MemoryDb, RetryPolicy, Selector, key};
use enginedb_postgres::throwaway::PgServer;

fn contribution(id: &str, title: &str, tags: &[&str], cites: &[&str]) -> Contribution {
    Contribution {
        id: id.to_owned(),
        title: title.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        cites: cites.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// Every adapter with atomic units, with a name.
async fn atomic_stores(dir: &std::path::Path, tag: &str) -> Vec<(String, Db)> {
    let mut stores = vec![
        ("memory native".to_owned(), Db::from(MemoryDb::new())),
        (
            "memory batch-only".to_owned(),
            Db::from(Masked::new(MemoryDb::new(), Mask::BatchOnly)),
        ),
    ];
    let postgres = PgServer::shared().unwrap_or_else(|e| panic!("{e}"));
    for url in [
        format!("sqlite://{}/{tag}.sqlite3", dir.display()),
        format!("redb://{}/{tag}.redb", dir.display()),
        format!("{postgres}?enginedb_namespace=contrib_{tag}_{}", std::process::id()),
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
        let catalogue = Catalogue::new(db.clone());
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
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_anywhere_in_a_put_leaves_nothing_half_visible() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in atomic_stores(dir.path(), "faults").await {
        let catalogue = Catalogue::new(db.clone());
        catalogue
            .put(&contribution("old", "Old title", &["keep"], &[]))
            .await
            .expect("seed");
        // A put of a new contribution writes a manifest, 2 relations, 2 tags and 3 terms (and,
        // on a batch-only store, checks what it read): fail each op in turn until one put
        // gets through without meeting the fault.
        let doomed = contribution("new", "Half written thing", &["t1", "t2"], &["old", "x"]);
        for fail_at in 1.. {
            let faulty = Faulty::new(db.port().clone()).fail_write(fail_at);
            match Catalogue::new(Db::from(faulty.clone())).put(&doomed).await {
                Ok(_) => {
                    assert!(
                        faulty.writes_sent() < fail_at,
                        "{name} at {fail_at}: the injected failure was hidden"
                    );
                    assert!(fail_at > 8, "{name}: a put of 8 writes sent only {}", fail_at - 1);
                    break;
                }
                Err(error) => assert_eq!(error.kind(), ErrorKind::Backend, "{name} at {fail_at}: {error}"),
            }
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
        assert_eq!(catalogue.by_tag("t1").await.expect("tag"), ["new"], "{name}");
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_expose_a_half_written_contribution() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, db) in atomic_stores(dir.path(), "concurrent").await {
        let db = db.with_retry_policy(RetryPolicy::default().attempts(1000));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let catalogue = Catalogue::new(db.clone());
                tokio::spawn(async move {
                    for round in 0..15 {
                        let tag = if (w + round) % 2 == 0 { "even" } else { "odd" };
                        let id = format!("c{}", round % 3);
                        catalogue
                            .put(&contribution(&id, &format!("{tag} title {round}"), &[tag], &[]))
                            .await?;
                    }
                    Ok::<(), enginedb::Error>(())
                })
            })
            .collect();
        let manifests: Vec<_> = (0..3).map(|i| key!["contrib", "manifest", format!("c{i}")]).collect();
        let mut checks = 0;
        let mut torn = Vec::new();
        for _ in 0..20 {
            // One consistent read: the markers of both tags and every manifest.
            let (markers, manifests) = db
                .transact(async |tx| {
                    let mut markers = Vec::new();
                    for tag in ["even", "odd"] {
                        for entry in tx.list(Selector::prefix(key!["contrib", "tag", tag])).collect().await? {
                            if let Some(KeyPart::Str(id)) = entry.key.parts().last() {
                                markers.push((tag, id.clone()));
                            }
                        }
                    }
                    Ok::<_, enginedb::Error>((markers, tx.get_many(&manifests).await?))
                })
                .await
                .expect("read");
            for (i, manifest) in manifests.iter().enumerate() {
                let Some(manifest) = manifest else { continue };
                let text = manifest.value.as_str().unwrap_or_default();
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
        db.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_store_without_atomic_units_refuses_a_put() {
    let catalogue = Catalogue::new(Db::from(Masked::new(MemoryDb::new(), Mask::SequentialOnly)));
    let error = catalogue
        .put(&contribution("c", "t", &["x"], &[]))
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert_eq!(catalogue.get("c").await.expect("get"), None, "nothing written");
}
