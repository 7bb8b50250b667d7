//! The test Worker: `GET /conformance?mode=batch|sequential` runs the whole conformance suite
//! against the `DB` D1 binding (as D1 is, batch-only, or masked to sequential-only) and answers
//! the report as JSON. Each case gets its own namespace; "reopen" is a fresh handle on the
//! binding; tampering is plain SQL on the binding.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use enginedb::testing::{Mask, Masked, RawRow};
use enginedb::{Db, Value};
use enginedb_conformance::{Harness, run_all_with};
use enginedb_d1::D1Db;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsValue;
use worker::{Context, Env, Request, Response, event};

/// Writes one row as it is (`?1` ns, `?2` key bytes, `?3` bytes or NULL, `?4` counter or
/// NULL, `?5` version), past the adapter.
const TAMPER: &str = "INSERT OR REPLACE INTO enginedb_kv (ns, k, v, n, ver) \
     VALUES (?1, ?2, ?3, CAST(?4 AS INTEGER), CAST(?5 AS INTEGER))";

struct D1Harness {
    env: Env,
    mask: Mask,
    /// Starts every namespace's name: the modes run on the same database, and a case's rows
    /// (tampered ones too) must not meet another mode's run of that case.
    prefix: &'static str,
    opened: RefCell<Vec<String>>,
}

impl D1Harness {
    fn binding(&self) -> enginedb::Result<worker::D1Database> {
        self.env
            .d1("DB")
            .map_err(|e| enginedb::Error::backend("d1", format!("{e:?}")))
    }

    async fn open_namespace(&self, namespace: &str) -> enginedb::Result<Db> {
        let db = D1Db::open(self.binding()?).await?.namespace(namespace)?;
        Ok(Db::from(Masked::new(db, self.mask)))
    }

    fn next_namespace(&self) -> String {
        let mut opened = self.opened.borrow_mut();
        let namespace = format!("{}_case_{}", self.prefix, opened.len());
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

    fn tampers(&self) -> bool {
        true
    }

    async fn tamper(&self, db: Db, rows: &[RawRow]) -> enginedb::Result<Db> {
        let d1 = |e: worker::Error| enginedb::Error::backend("tamper", format!("{e:?}"));
        let namespace = self.opened.borrow().last().cloned();
        let namespace = namespace.ok_or_else(|| enginedb::Error::invalid("no store was opened"))?;
        let binding = self.binding()?;
        for row in rows {
            // Integers as text, as the adapter binds them: exact past 2^53.
            let (v, n) = match &row.value {
                Value::Bytes(bytes) => (Uint8Array::from(bytes.as_slice()).into(), JsValue::NULL),
                Value::I64(n) => (JsValue::NULL, JsValue::from_str(&n.to_string())),
            };
            let params = [
                JsValue::from_str(&namespace),
                Uint8Array::from(row.key.as_slice()).into(),
                v,
                n,
                JsValue::from_str(&row.version.to_string()),
            ];
            binding
                .prepare(TAMPER)
                .bind(&params)
                .map_err(d1)?
                .run()
                .await
                .map_err(d1)?;
        }
        Ok(db)
    }
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let url = request.url()?;
    let mode = url
        .query_pairs()
        .find(|(name, _)| name == "mode")
        .map(|(_, mode)| mode.into_owned());
    let (mask, prefix) = match (url.path(), mode.as_deref()) {
        ("/conformance", Some("batch")) => (Mask::Native, "batch"),
        ("/conformance", Some("sequential")) => (Mask::SequentialOnly, "sequential"),
        _ => return Response::error("GET /conformance?mode=batch|sequential", 404),
    };
    let harness = D1Harness {
        env,
        mask,
        prefix,
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
