//! The axum server answers a send and a read over loopback.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::{Db, MemoryDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_a_send_and_a_read_over_loopback() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = format!("sqlite://{}/relay.sqlite3", dir.path().display());
    for db in [
        Db::from(MemoryDb::new()),
        enginedb_open::open(&sqlite).await.expect("open"),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(relay::server::serve(db.clone(), listener));
        let (status, body) = request(addr, "POST", "/messages", r#"{"from":"ada","to":["bob"],"body":"hi"}"#).await;
        assert_eq!(status, 201, "{body}");
        assert!(body.contains("\"mode\":\"Transaction\""), "{body}");
        let (status, inbox) = request(addr, "GET", "/inbox/bob", "").await;
        assert_eq!((status, inbox.as_str()), (200, "[{\"id\":1,\"read\":false}]"));
        let (status, body) = request(addr, "POST", "/messages/1/read", r#"{"user":"bob"}"#).await;
        assert_eq!(status, 200, "{body}");
        let (status, message) = request(addr, "GET", "/messages/1", "").await;
        assert_eq!(status, 200);
        assert!(message.contains("\"body\":\"hi\""), "{message}");
        let (status, body) = request(addr, "POST", "/messages/1/read", r#"{"user":"zed"}"#).await;
        assert_eq!(status, 400, "{body}");
        server.abort();
        db.close().await.expect("close");
    }
}
