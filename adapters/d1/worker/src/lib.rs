//! The test Worker: `GET /conformance?mode=batch|sequential` runs the whole conformance suite
//! against the `DB` D1 binding (as D1 is, batch-only, or masked to sequential-only) and answers
//! the report as JSON. Each case gets its own namespace; "reopen" is a fresh handle on the
//! binding.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use enginedb::Db;
use enginedb::testing::{Mask, Masked};
use enginedb_conformance::{Harness, run_all_with};
use enginedb_d1::D1Db;
use worker::{Context, Env, Request, Response, event};

struct D1Harness {
    env: Env,
    mask: Mask,
    opened: RefCell<Vec<String>>,
}

impl D1Harness {
    async fn open_namespace(&self, namespace: &str) -> enginedb::Result<Db> {
        let binding = self
            .env
            .d1("DB")
            .map_err(|e| enginedb::Error::backend("d1", format!("{e:?}")))?;
        let db = D1Db::open(binding).await?.namespace(namespace)?;
        Ok(Db::from(Masked::new(db, self.mask)))
    }

    fn next_namespace(&self) -> String {
        let mut opened = self.opened.borrow_mut();
        let namespace = format!("case_{}", opened.len());
        opened.push(namespace.clone());
        namespace
    }
}

#[async_trait::async_trait(?Send)]
impl Harness for D1Harness {
    async fn open(&self) -> enginedb::Result<Db> {
        let namespace = self.next_namespace();
        self.open_namespace(&namespace).await
    }

    fn reopens(&self) -> bool {
        true
    }

    async fn reopen(&self, db: Db) -> enginedb::Result<Db> {
        db.close().await?;
        let namespace = self.opened.borrow().last().cloned();
        let namespace = namespace.ok_or_else(|| enginedb::Error::invalid("no store was opened to reopen"))?;
        self.open_namespace(&namespace).await
    }

    fn has_namespaces(&self) -> bool {
        true
    }

    async fn namespaces(&self) -> enginedb::Result<[Db; 2]> {
        let a = self.next_namespace();
        let b = format!("{a}_b");
        Ok([self.open_namespace(&a).await?, self.open_namespace(&b).await?])
    }
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let url = request.url()?;
    let mode = url
        .query_pairs()
        .find(|(name, _)| name == "mode")
        .map(|(_, mode)| mode.into_owned());
    let mask = match (url.path(), mode.as_deref()) {
        ("/conformance", Some("batch")) => Mask::Native,
        ("/conformance", Some("sequential")) => Mask::SequentialOnly,
        _ => return Response::error("GET /conformance?mode=batch|sequential", 404),
    };
    let harness = D1Harness {
        env,
        mask,
        opened: RefCell::default(),
    };
    let db = match harness.open().await {
        Ok(db) => db,
        Err(error) => return Response::error(format!("cannot open the D1 store: {error}"), 500),
    };
    let report = run_all_with(&harness, &db).await;
    let mut response = Response::ok(report.to_json())?;
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}
