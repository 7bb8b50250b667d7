//! The relay API over HTTP: the axum server on a real loopback listener (memory and SQLite
//! stores), the Worker's entry point [`relay::api::handle`] answering exactly the same, and the
//! `relay-server` binary's arguments and request log.

#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests fail loudly

use std::net::SocketAddr;

use enginedb::{Db, MemoryDb};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use relay::api::{Committed, ErrorBody};
use relay::{Delivery, Message};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTP answer: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    /// The body as `T`, strictly.
    fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{self:?} is not the JSON expected: {e}"))
    }

    /// Asserts this is the API's error shape, exactly, with `status` and `kind`.
    fn assert_error(&self, status: u16, kind: &str, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        let error: ErrorBody = self.json();
        assert_eq!(error.kind, kind, "{what}: {self:?}");
        assert!(!error.error.is_empty(), "{what}: {self:?}");
    }
}

/// A relay server on a loopback listener of its own.
struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(db: Db) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(relay::server::serve(db, listener));
        Server { addr, task }
    }

    /// One HTTP/1.1 request over a fresh connection. The body is written while the answer is
    /// read, so that an answer sent before the whole body was read (413) is still seen.
    async fn request(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        let stream = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let mut message = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        message.extend_from_slice(body);
        let writing = tokio::spawn(async move {
            // The server may close the connection before reading it all (413).
            let _ = writer.write_all(&message).await;
            // Kept open until the answer is read: the server takes a half-close as an abort.
            writer
        });
        let mut response = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        // Until the server closes the connection, or resets it after answering.
        while let Ok(n @ 1..) = reader.read(&mut chunk).await {
            response.extend_from_slice(&chunk[..n]);
        }
        writing.abort();
        let response = String::from_utf8(response).expect("a UTF-8 answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("a complete answer");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {head:?}"));
        if !body.is_empty() {
            assert!(
                head.to_ascii_lowercase().contains("content-type: application/json"),
                "{head}"
            );
        }
        Answer {
            status,
            body: body.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, b"").await
    }

    async fn post(&self, path: &str, body: &impl Serialize) -> Answer {
        let body = serde_json::to_vec(body).expect("JSON");
        self.request("POST", path, &body).await
    }

    async fn post_text(&self, path: &str, body: &str) -> Answer {
        self.request("POST", path, body.as_bytes()).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A path segment for `user`.
fn segment(user: &str) -> String {
    utf8_percent_encode(user, NON_ALPHANUMERIC).to_string()
}

/// The stores each test runs on: memory, and a SQLite file in `dir`.
async fn stores(dir: &std::path::Path, test: &str) -> Vec<Db> {
    let sqlite = format!("sqlite://{}/{test}.sqlite3", dir.display());
    vec![
        Db::from(MemoryDb::new()),
        enginedb_open::open(&sqlite).await.expect("open SQLite"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_a_send_a_read_and_an_inbox_over_loopback() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for db in stores(dir.path(), "loopback").await {
        let server = Server::start(db.clone()).await;
        let sent = server
            .post_text("/messages", r#"{"from":"ada","to":["bob"],"body":"hi"}"#)
            .await;
        assert_eq!(sent.status, 201, "{sent:?}");
        let committed: Committed = sent.json();
        assert_eq!((committed.id, committed.mode.as_str()), (1, "Transaction"));
        let inbox = server.get("/inbox/bob").await;
        assert_eq!((inbox.status, inbox.body.as_str()), (200, r#"[{"id":1,"read":false}]"#));
        let read = server.post_text("/messages/1/read", r#"{"user":"bob"}"#).await;
        assert_eq!(read.status, 200, "{read:?}");
        assert_eq!(
            server.get("/inbox/bob").await.json::<Vec<Delivery>>(),
            [Delivery { id: 1, read: true }]
        );
        let message = server.get("/messages/1").await;
        assert_eq!(message.status, 200, "{message:?}");
        assert_eq!(
            message.json::<Message>(),
            Message {
                id: 1,
                from: "ada".into(),
                thread: 1,
                body: "hi".into()
            }
        );
        drop(server);
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newline_in_a_name_is_stored_and_read_back() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for db in stores(dir.path(), "newline").await {
        let server = Server::start(db.clone()).await;
        let sent = server
            .post_text("/messages", r#"{"from":"ev\nil","to":["bob"],"body":"x\ny"}"#)
            .await;
        assert_eq!(sent.status, 201, "{sent:?}");
        let id = sent.json::<Committed>().id;
        let message = server.get(&format!("/messages/{id}")).await;
        assert_eq!(message.status, 200, "{message:?}");
        let message: Message = message.json();
        assert_eq!((message.from.as_str(), message.body.as_str()), ("ev\nil", "x\ny"));
        let reply = server
            .post(
                &format!("/messages/{id}/replies"),
                &serde_json::json!({"from": "bob", "body": "got it"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let reply_id = reply.json::<Committed>().id;
        // The reply went to the sender, whose name has a newline.
        let inbox = server.get(&format!("/inbox/{}", segment("ev\nil"))).await;
        assert_eq!(inbox.status, 200, "{inbox:?}");
        assert_eq!(
            inbox.json::<Vec<Delivery>>(),
            [Delivery {
                id: reply_id,
                read: false
            }]
        );
        let read = server
            .post(
                &format!("/messages/{reply_id}/read"),
                &serde_json::json!({"user": "ev\nil"}),
            )
            .await;
        assert_eq!(read.status, 200, "{read:?}");
        drop(server);
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_ill_typed_fields_are_refused_with_400() {
    let server = Server::start(Db::from(MemoryDb::new())).await;
    let sends = [
        r#"{"from":"ada","to":["bob",5],"body":"x"}"#,
        r#"{"from":"ada","to":"bob","body":"x"}"#,
        r#"{"from":"ada","to":["bob"],"body":"x","cc":["cy"]}"#,
        r#"{"from":"ada","to":["bob"]}"#,
        r#"{"from":5,"to":["bob"],"body":"x"}"#,
        r#"{"from":"ada","to":["bob"],"body":null}"#,
        r#"["ada",["bob"],"x"]"#,
        r#"{"from":"ada","to":[],"body":"x"}"#,
        r#"{"from":"","to":["bob"],"body":"x"}"#,
        r#"{"from":"ada","to":[""],"body":"x"}"#,
        "not JSON",
        "",
    ];
    for body in sends {
        server
            .post_text("/messages", body)
            .await
            .assert_error(400, "InvalidInput", body);
    }
    // Nothing was stored, not even to bob, the one well-typed recipient.
    assert_eq!(server.get("/inbox/bob").await.body, "[]");

    let sent = server
        .post_text("/messages", r#"{"from":"ada","to":["bob"],"body":"x"}"#)
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    for (path, body) in [
        ("/messages/1/replies", r#"{"from":"bob","body":"y","to":["cy"]}"#),
        ("/messages/1/replies", r#"{"from":"bob"}"#),
        ("/messages/1/replies", r#"{"from":["bob"],"body":"y"}"#),
        ("/messages/1/read", r#"{"user":["bob"]}"#),
        ("/messages/1/read", r#"{"user":"bob","when":"now"}"#),
        ("/messages/1/read", r#"{}"#),
    ] {
        let what = format!("{path} {body}");
        server
            .post_text(path, body)
            .await
            .assert_error(400, "InvalidInput", &what);
    }
    for path in ["/messages/one", "/messages/99999999999999999999"] {
        server.get(path).await.assert_error(400, "InvalidInput", path);
    }
    for path in ["/messages/1.5/read", "/messages/x/replies"] {
        let body = r#"{"user":"bob","from":"bob","body":"y"}"#;
        server
            .post_text(path, body)
            .await
            .assert_error(400, "InvalidInput", path);
    }
    // Still one message, unread, with no reply.
    assert_eq!(server.get("/inbox/bob").await.body, r#"[{"id":1,"read":false}]"#);
    assert_eq!(server.get("/inbox/ada").await.body, "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_as_json() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for db in stores(dir.path(), "large").await {
        let server = Server::start(db.clone()).await;
        let huge = serde_json::json!({"from": "ada", "to": ["bob"], "body": "x".repeat(3_000_000)});
        server
            .post("/messages", &huge)
            .await
            .assert_error(413, "LimitExceeded", "a 3 MB send");
        let sent = server
            .post_text("/messages", r#"{"from":"ada","to":["bob"],"body":"x"}"#)
            .await;
        assert_eq!(sent.status, 201, "{sent:?}");
        let huge_reply = serde_json::json!({"from": "bob", "body": "y".repeat(3_000_000)});
        server
            .post("/messages/1/replies", &huge_reply)
            .await
            .assert_error(413, "LimitExceeded", "a 3 MB reply");
        // Under the request limit but over the store's limit for one value.
        let large = serde_json::json!({"from": "ada", "to": ["bob"], "body": "x".repeat(700_000)});
        server
            .post("/messages", &large)
            .await
            .assert_error(413, "LimitExceeded", "a 700 kB message");
        assert_eq!(server.get("/inbox/bob").await.body, r#"[{"id":1,"read":false}]"#);
        drop(server);
        db.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_message_or_route_is_404_as_json() {
    let server = Server::start(Db::from(MemoryDb::new())).await;
    let sent = server
        .post_text("/messages", r#"{"from":"ada","to":["bob"],"body":"x"}"#)
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    server.get("/messages/99").await.assert_error(404, "NotFound", "GET");
    server
        .post_text("/messages/99/replies", r#"{"from":"bob","body":"y"}"#)
        .await
        .assert_error(404, "NotFound", "reply");
    server
        .post_text("/messages/99/read", r#"{"user":"bob"}"#)
        .await
        .assert_error(404, "NotFound", "read");
    server
        .post_text("/messages/1/read", r#"{"user":"zed"}"#)
        .await
        .assert_error(404, "NotFound", "read by someone it was not sent to");
    for path in [
        "/",
        "/nope",
        "/messages/1/extra",
        "/inbox",
        "/inbox/bob/1",
        "/messages/",
    ] {
        server.get(path).await.assert_error(404, "NotFound", path);
    }
    server
        .post_text("/inbox/bob", "{}")
        .await
        .assert_error(405, "MethodNotAllowed", "POST /inbox/bob");
    server
        .get("/messages/1/read")
        .await
        .assert_error(405, "MethodNotAllowed", "GET read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accepted_request_is_later_answered_500() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let long_name = "n".repeat(relay::MAX_USER_BYTES);
    let odd: [(&str, &[&str], String); 7] = [
        ("ev\nil", &["bob"], "x".into()),
        (
            "quote\"and\\backslash",
            &["bob", "tab\tbed"],
            "line 1\nline 2\r\n".into(),
        ),
        ("ünïcødé 🚀", &["bob"], String::new()),
        ("ada", &["bob", "bob"], r#"{"looks":"like JSON"}"#.into()),
        ("slash/name", &["per%cent", "\u{0}nul"], "\u{0}\u{7f}".into()),
        (&long_name, &["bob"], "x".repeat(400_000)),
        ("sp ace", &["ev\nil", "sp ace"], "a\nb\nc".into()),
    ];
    for db in stores(dir.path(), "no500").await {
        let server = Server::start(db.clone()).await;
        let mut sent = Vec::new();
        for (from, to, body) in &odd {
            let answer = server
                .post("/messages", &serde_json::json!({"from": from, "to": to, "body": body}))
                .await;
            assert_eq!(answer.status, 201, "{from:?} to {to:?}: {answer:?}");
            sent.push((answer.json::<Committed>().id, from, to, body));
        }
        for (id, from, to, body) in sent {
            let message = server.get(&format!("/messages/{id}")).await;
            assert_eq!(message.status, 200, "{message:?}");
            let message: Message = message.json();
            assert_eq!(message.from, **from);
            assert_eq!(&message.body, body);
            for user in to.iter().chain([from]) {
                let inbox = server.get(&format!("/inbox/{}", segment(user))).await;
                assert_eq!(inbox.status, 200, "{user:?}: {inbox:?}");
                inbox.json::<Vec<Delivery>>();
            }
            for user in *to {
                let read = server
                    .post(&format!("/messages/{id}/read"), &serde_json::json!({"user": user}))
                    .await;
                assert_eq!(read.status, 200, "{user:?} reads {id}: {read:?}");
            }
            let reply = server
                .post(
                    &format!("/messages/{id}/replies"),
                    &serde_json::json!({"from": to[0], "body": "re"}),
                )
                .await;
            assert_eq!(reply.status, 201, "reply to {id}: {reply:?}");
            let reply = server.get(&format!("/messages/{}", reply.json::<Committed>().id)).await;
            assert_eq!(reply.status, 200, "{reply:?}");
            assert_eq!(reply.json::<Message>().thread, id);
        }
        drop(server);
        db.close().await.expect("close");
    }
}

/// The same requests through the server and through `api::handle` (the Worker's entry),
/// each on a fresh memory store, get the same answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workers_entry_answers_exactly_as_the_server() {
    let server = Server::start(Db::from(MemoryDb::new())).await;
    let worker = relay::Relay::new(Db::from(MemoryDb::new()), enginedb::Atomicity::Require);
    let huge = serde_json::json!({"from": "ada", "to": ["bob"], "body": "x".repeat(3_000_000)}).to_string();
    let requests: Vec<(&str, String, String)> = vec![
        (
            "POST",
            "/messages".into(),
            r#"{"from":"ev\nil","to":["bob","cy"],"body":"x"}"#.into(),
        ),
        ("GET", "/messages/1".into(), String::new()),
        (
            "POST",
            "/messages/1/replies".into(),
            r#"{"from":"bob","body":"y"}"#.into(),
        ),
        ("POST", "/messages/1/read".into(), r#"{"user":"cy"}"#.into()),
        ("GET", "/inbox/cy".into(), String::new()),
        ("GET", format!("/inbox/{}", segment("ev\nil")), String::new()),
        (
            "POST",
            "/messages".into(),
            r#"{"from":"ada","to":["bob",5],"body":"x"}"#.into(),
        ),
        (
            "POST",
            "/messages".into(),
            r#"{"from":"ada","to":"bob","body":"x"}"#.into(),
        ),
        (
            "POST",
            "/messages".into(),
            r#"{"from":"ada","to":["bob"],"body":"x","cc":1}"#.into(),
        ),
        ("POST", "/messages".into(), huge),
        ("GET", "/messages/99".into(), String::new()),
        (
            "POST",
            "/messages/99/replies".into(),
            r#"{"from":"bob","body":"y"}"#.into(),
        ),
        ("POST", "/messages/99/read".into(), r#"{"user":"bob"}"#.into()),
        ("POST", "/messages/1/read".into(), r#"{"user":"zed"}"#.into()),
        ("GET", "/messages/abc".into(), String::new()),
        ("GET", "/nope".into(), String::new()),
        ("GET", "/messages/".into(), String::new()),
        ("POST", "/messages//read".into(), r#"{"user":"bob"}"#.into()),
        ("GET", format!("/inbox/{}", segment("slash/name")), String::new()),
        ("POST", "/inbox/bob".into(), "{}".into()),
    ];
    for (method, path, body) in requests {
        let over_http = server.request(method, &path, body.as_bytes()).await;
        let answer = relay::api::handle(&worker, method, &path, &body).await;
        let direct = Answer {
            status: answer.status,
            body: answer.body,
        };
        assert_eq!(over_http, direct, "{method} {path}");
    }
}

#[test]
fn relay_server_help_exits_0_and_a_bad_argument_does_not() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .arg("--help")
        .output()
        .expect("run relay-server");
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--url") && text.contains("--listen") && text.contains("RUST_LOG"),
        "{text}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .arg("--bogus")
        .output()
        .expect("run relay-server");
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_server_logs_each_request() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Stops the server however the test ends.
    struct Stopped(std::process::Child);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let mut child = Stopped(
        Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .args(["--url", "memory://", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start relay-server"),
    );
    let stderr = child.0.stderr.take().expect("stderr");
    let (lines, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |log: &mpsc::Receiver<String>| log.recv_timeout(Duration::from_secs(20));
    let addr: SocketAddr = loop {
        let line = next_line(&log).expect("relay-server says where it listens");
        if let Some((_, rest)) = line.split_once("listening on http://") {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            break addr.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
        }
    };
    let server = Server {
        addr,
        task: tokio::spawn(std::future::pending()),
    };
    let inbox = server.get("/inbox/bob").await;
    let missing = server.get("/messages/7").await;
    let logged = (0..2)
        .map(|_| next_line(&log).expect("a request log line"))
        .collect::<Vec<_>>();
    drop(child);
    assert_eq!((inbox.status, missing.status), (200, 404));
    assert!(
        logged[0].contains("GET") && logged[0].contains("/inbox/bob") && logged[0].contains("status=200"),
        "{logged:?}"
    );
    assert!(
        logged[1].contains("/messages/7") && logged[1].contains("status=404"),
        "{logged:?}"
    );
}
