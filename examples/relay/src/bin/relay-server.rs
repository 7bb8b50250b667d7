//! `relay-server`: the relay API over HTTP (see `relay::api`), on any store `enginedb-open`
//! opens. Logs each request to standard error; `RUST_LOG` chooses what is logged (default
//! `info`).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
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

fn run(args: &Args) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
    runtime.block_on(async {
        let db = enginedb_open::open(&args.url)
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?;
        let served = async {
            let listener = tokio::net::TcpListener::bind(&args.listen).await?;
            let address = listener.local_addr()?;
            tracing::info!(store = %db.info().name, "listening on http://{address}");
            axum::serve(listener, relay::server::router(db.clone()))
                .with_graceful_shutdown(async {
                    // Without a signal handler, run until killed.
                    if tokio::signal::ctrl_c().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                    tracing::info!("interrupted: closing the store");
                })
                .await
        }
        .await;
        // Flushes the store (SQLite's WAL, redb) before the process ends.
        let closed = db.close().await;
        served.map_err(|e| format!("cannot serve on {}: {e}", args.listen))?;
        closed.map_err(|e| format!("the store did not close cleanly: {e}"))
    })
}
