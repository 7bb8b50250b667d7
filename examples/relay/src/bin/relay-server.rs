//! `relay-server`: the relay API over HTTP (see `relay::api`), on any store `enginedb-open`
//! opens, and with `--webhook-url` the loop that posts each message's webhook. Logs each
//! request to standard error; `RUST_LOG` chooses what is logged (default `info`).

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use enginedb::{Atomicity, QueueOptions};
use futures::TryFutureExt as _;
use relay::Relay;
use relay::webhooks::{self, Delivery};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The relay messaging API over HTTP, on any enginedb store. Logs each request to standard
/// error; set RUST_LOG (default `info`) to choose what is logged.
#[derive(Parser)]
#[command(name = "relay-server", version)]
struct Args {
    /// The store: sqlite://PATH, redb://PATH, postgres://… or memory://. The default is an
    /// embedded SQLite file, so no database server is needed.
    #[arg(long, default_value = "sqlite://relay.sqlite3")]
    url: String,
    /// The address to listen on (port 0: any free port; the log says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Post each message's webhook (JSON, header `idempotency-key`: the message id) to this
    /// http:// URL, at least once. Each send enqueues its webhook in its own unit.
    #[arg(long, value_parser = http_url)]
    webhook_url: Option<hyper::Uri>,
    /// Seconds a webhook post is leased: one not acknowledged by then (its server died, or
    /// the post failed) is posted again after a backoff. A post gets at most 10 s, or half the
    /// lease if that is shorter, to be answered.
    #[arg(long, default_value_t = relay::WEBHOOK_DELIVERY.visibility.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    webhook_lease: u64,
    /// Posts of a webhook before it is set aside as a dead letter (logged as a warning); with
    /// the backoff doubling from 1 s to 5 min between them, the default gives a receiver about
    /// an hour.
    #[arg(long, default_value_t = relay::WEBHOOK_DELIVERY.max_attempts, value_parser = clap::value_parser!(u32).range(1..))]
    webhook_attempts: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::builder()
                .with_default_directive(LevelFilter::INFO.into())
                .from_env_lossy(),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// An `http://` URL (the delivery loop speaks plain HTTP).
fn http_url(text: &str) -> Result<hyper::Uri, String> {
    let url: hyper::Uri = text.parse().map_err(|e| format!("not a URL: {e}"))?;
    match (url.scheme_str(), url.host()) {
        (Some("http"), Some(_)) => Ok(url),
        _ => Err("webhooks are posted over plain HTTP: give an http://host… URL".into()),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
    runtime.block_on(async {
        let db = enginedb_open::open(&args.url)
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?;
        let mut relay = Relay::new(db.clone(), Atomicity::Require);
        if args.webhook_url.is_some() {
            relay = relay.with_outbox();
        }
        // Interrupted (Ctrl-C): stop serving and delivering, finish what is in hand.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                // Without a signal handler, run until killed (`stop` kept: nothing stops).
                std::future::pending::<()>().await;
            }
            tracing::info!("interrupted: closing the store");
            let _ = stop.send(true);
        });
        let interrupted = || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let served = async {
            let listener = tokio::net::TcpListener::bind(&args.listen).await?;
            let address = listener.local_addr()?;
            tracing::info!(store = %db.info().name, "listening on http://{address}");
            axum::serve(listener, relay::server::router_for(relay))
                .with_graceful_shutdown(interrupted())
                .await
        }
        .map_err(|e| format!("cannot serve on {}: {e}", args.listen));
        let delivered = async {
            let Some(url) = &args.webhook_url else { return Ok(()) };
            let delivery = Delivery {
                url: url.clone(),
                options: QueueOptions {
                    visibility: Duration::from_secs(args.webhook_lease),
                    max_attempts: args.webhook_attempts,
                    ..relay::WEBHOOK_DELIVERY
                },
            };
            tracing::info!("posting webhooks to {url}");
            webhooks::deliver(&db, &delivery, interrupted()).await
        }
        .map_err(|e| format!("webhook delivery stopped: {e}"));
        // Either failing ends both.
        let ran = tokio::try_join!(served, delivered);
        // Flushes the store (SQLite's WAL, redb) before the process ends.
        let closed = db.close().await;
        ran?;
        closed.map_err(|e| format!("the store did not close cleanly: {e}"))
    })
}
