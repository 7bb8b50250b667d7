//! `relay-server [--url URL] [--listen ADDR]`: the relay API over HTTP. The store defaults to
//! an embedded SQLite file (`sqlite://relay.sqlite3`), so no server is needed; any URL
//! `enginedb-open` knows works (`redb://…`, `postgres://…`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut url = "sqlite://relay.sqlite3".to_owned();
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--url", Some(value)) => url = value,
            ("--listen", Some(value)) => listen = value,
            _ => {
                eprintln!("usage: relay-server [--url URL] [--listen ADDR]");
                return ExitCode::FAILURE;
            }
        }
    }
    let served = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())
        .and_then(|runtime| {
            runtime.block_on(async {
                let db = enginedb_open::open(&url).await.map_err(|e| e.to_string())?;
                let served = async {
                    let listener = tokio::net::TcpListener::bind(&listen).await?;
                    eprintln!("relay on http://{listen}, store {url}");
                    relay::server::serve(db.clone(), listener).await
                }
                .await;
                // Flushes the store (SQLite's WAL, redb) before the process ends.
                let closed = db.close().await;
                served.map_err(|e| e.to_string())?;
                closed.map_err(|e| e.to_string())
            })
        });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("relay-server: {error}");
            ExitCode::FAILURE
        }
    }
}
