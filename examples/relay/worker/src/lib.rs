//! The relay example as a Cloudflare Worker: the same engine and the same API as the
//! self-hosted server (`relay::api::handle`), on the Worker's `DB` D1 binding. `GET /selftest`
//! runs `relay::selftest` against D1.

#![cfg(target_arch = "wasm32")]

use enginedb_d1::D1Db;
use worker::{Context, Env, Method, Request, Response, event};

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let db = match D1Db::open_db(env.d1("DB")?).await {
        Ok(db) => db,
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
    if path == "/selftest" {
        return match relay::selftest::injected_failures(&db).await {
            Ok(summary) => Response::ok(summary),
            Err(violation) => Response::error(violation, 500),
        };
    }
    let answer = relay::api::handle(&db, method, &path, &body).await;
    let mut response = Response::ok(answer.body)?.with_status(answer.status);
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}
