//! The relay example as a Cloudflare Worker: the same engine and the same API as the
//! self-hosted server (`relay::api::handle`), on the Worker's `DB` D1 binding.
//!
//! `GET /selftest` runs `relay::selftest` (failures injected at every write of a send, in the
//! `selftest` namespace of the database) only when the Worker's `ENGINEDB_SELFTEST` variable is
//! `"1"` (e.g. `wrangler dev --var ENGINEDB_SELFTEST:1`); otherwise it is an unknown route (404),
//! so a deployed Worker never writes test data into its D1 database.
//!
//! With the variable `WEBHOOK_URL` set, each send and reply also enqueues its webhook (and
//! emits its feed event) in its own D1 batch, and the scheduled handler (a cron trigger)
//! posts the webhooks due, at least once: see `relay::webhooks` for the server's loop, whose
//! guarantees these are.

#![cfg(target_arch = "wasm32")]

use std::pin::pin;
use std::time::Duration;

use enginedb::{Atomicity, Db, Message};
use enginedb_d1::D1Db;
use futures::future::{self, Either};
use relay::{Relay, WEBHOOK_DELIVERY, WEBHOOKS, Webhook};
use worker::{
    Context, Env, Fetch, Headers, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent, event,
};

/// The variable that enables `GET /selftest`.
const SELFTEST_VAR: &str = "ENGINEDB_SELFTEST";

/// The variable naming the URL webhooks are posted to (none: no webhooks).
const WEBHOOK_VAR: &str = "WEBHOOK_URL";

/// Webhooks one scheduled run posts at most (a run is short; the next picks up the rest).
const WEBHOOKS_PER_RUN: usize = 50;

/// How long a post may take before it counts as failed (well within the lease).
const POST_TIMEOUT: Duration = Duration::from_secs(10);

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
    let mut relay = Relay::new(Db::from(store), Atomicity::Require);
    if webhook_url(&env).is_some() {
        relay = relay.with_outbox();
    }
    let answer = relay::api::handle(&relay, method, &path, &body).await;
    let mut response = Response::ok(answer.body)?.with_status(answer.status);
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}

/// Posts the webhooks due (a cron trigger; locally `wrangler dev --test-scheduled` and
/// `GET /__scheduled`): each acknowledged with its count in one D1 batch once its URL answered
/// 2xx, else posted again after its lease and backoff.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let Some(url) = webhook_url(&env) else { return };
    let store = match env.d1("DB").map(D1Db::open) {
        Ok(opening) => match opening.await {
            Ok(store) => store,
            Err(error) => return worker::console_error!("cannot open the D1 store: {error}"),
        },
        Err(error) => return worker::console_error!("no DB binding: {error}"),
    };
    let db = Db::from(store);
    let deliver = async |message: &Message| {
        let webhook = Webhook::of(message)?;
        post(&url, &webhook)
            .await
            .map_err(|e| enginedb::Error::backend("webhook", format!("posting webhook {}: {e}", webhook.id)))?;
        Ok::<_, enginedb::Error>(webhook.acknowledged())
    };
    match db
        .queue(WEBHOOKS)
        .options(WEBHOOK_DELIVERY)
        .drain(WEBHOOKS_PER_RUN, deliver)
        .await
    {
        Ok(delivered) => worker::console_log!("{delivered} webhooks delivered"),
        Err(error) => worker::console_error!("webhook delivery stopped: {error}"),
    }
}

/// Posts `webhook` to `url`; fails unless it answers 2xx within [`POST_TIMEOUT`].
async fn post(url: &str, webhook: &Webhook) -> worker::Result<()> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("idempotency-key", &webhook.id.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(webhook.body().into()));
    let request = Fetch::Request(Request::new_with_init(url, &init)?);
    let answer = match future::select(pin!(request.send()), pin!(worker::Delay::from(POST_TIMEOUT))).await {
        Either::Left((answer, _)) => answer?,
        Either::Right(_) => {
            return Err(worker::Error::RustError(format!(
                "{url} gave no answer within {POST_TIMEOUT:?}"
            )));
        }
    };
    match answer.status_code() {
        200..=299 => Ok(()),
        status => Err(worker::Error::RustError(format!("{url} answered {status}"))),
    }
}

/// The URL webhooks are posted to, if the Worker's variables name one.
fn webhook_url(env: &Env) -> Option<String> {
    env.var(WEBHOOK_VAR)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
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
