//! The relay example as a Cloudflare Worker: the same engine and the same API as the
//! self-hosted server (`relay::api::handle`), on the Worker's `DB` D1 binding.
//!
//! `GET /selftest` runs `relay::selftest` (failures injected at every write of a send, in the
//! `selftest` namespace of the database) only when the Worker's `ENGINEDB_SELFTEST` variable is
//! `"1"` (e.g. `wrangler dev --var ENGINEDB_SELFTEST:1`); otherwise it is an unknown route (404),
//! so a deployed Worker never writes test data into its D1 database.

#![cfg(target_arch = "wasm32")]

use enginedb::Db;
use enginedb_d1::D1Db;
use worker::{Context, Env, Method, Request, Response, event};

/// The variable that enables `GET /selftest`.
const SELFTEST_VAR: &str = "ENGINEDB_SELFTEST";

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let store = match D1Db::open(env.d1("DB")?).await {
        Ok(store) => store,
        Err(error) => return Response::error(format!("cannot open the D1 store: {error}"), 500),
    };
    let method = match request.method() {
        Method::Get => "GET",
        Method::Post => "POST",
        _ => return Response::error("only GET and POST", 405),
    };
    let body = if method == "POST" {
        request.text().await?
    } else {
        String::new()
    };
    let path = request.path();
    if method == "GET" && path == "/selftest" && selftest_enabled(&env) {
        return selftest(&store).await;
    }
    let answer = relay::api::handle(&Db::from(store), method, &path, &body).await;
    let mut response = Response::ok(answer.body)?.with_status(answer.status);
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}

/// Whether the Worker's variables enable `GET /selftest`.
fn selftest_enabled(env: &Env) -> bool {
    env.var(SELFTEST_VAR).is_ok_and(|value| value.to_string() == "1")
}

/// Runs the relay's self-test in the database's `selftest` namespace, apart from the relay's data.
async fn selftest(store: &D1Db) -> worker::Result<Response> {
    let db = match store.namespace("selftest") {
        Ok(namespace) => Db::from(namespace),
        Err(error) => return Response::error(format!("no selftest namespace: {error}"), 500),
    };
    match relay::selftest::injected_failures(&db).await {
        Ok(summary) => Response::ok(summary),
        Err(violation) => Response::error(violation, 500),
    }
}
