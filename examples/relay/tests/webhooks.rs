//! The seed scenario end to end: `relay-server --webhook-url` enqueues each message's webhook
//! in the message's own unit and posts it. The server is killed (SIGKILL) after its sends were
//! answered and while their webhooks are in flight; restarted, it delivers every webhook at
//! least once, and every message's acknowledged delivery is counted exactly once.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use enginedb::{Db, ManualClock, Selector};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use relay::api::Committed;
use relay::{EVENTS, WEBHOOKS, delivered};

/// The webhook receiver: counts the posts that arrived and those it answered, per message.
/// Until told to answer, it holds every post unanswered (a slow endpoint).
#[derive(Clone, Default)]
struct Receiver {
    answering: Arc<tokio::sync::watch::Sender<bool>>,
    arrived: Arc<Mutex<BTreeMap<i64, u32>>>,
    answered: Arc<Mutex<BTreeMap<i64, u32>>>,
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap) -> StatusCode {
    let Some(id) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
    else {
        return StatusCode::BAD_REQUEST;
    };
    *receiver.arrived.lock().expect("lock").entry(id).or_default() += 1;
    let mut answering = receiver.answering.subscribe();
    let _ = answering.wait_for(|answering| *answering).await;
    *receiver.answered.lock().expect("lock").entry(id).or_default() += 1;
    StatusCode::OK
}

impl Receiver {
    async fn start(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn arrived(&self) -> usize {
        self.arrived.lock().expect("lock").len()
    }

    fn answered(&self) -> BTreeMap<i64, u32> {
        self.answered.lock().expect("lock").clone()
    }
}

/// Waits up to 60 s for `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `relay-server`, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(store: &str, hook: SocketAddr) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .args(["--url", store, "--listen", "127.0.0.1:0", "--webhook-lease", "2"])
            .args(["--webhook-url", &format!("http://{hook}/hook")])
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start relay-server");
        let stderr = child.stderr.take().expect("stderr");
        let (found, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("listening on http://") {
                    let _ = found.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = address
            .recv_timeout(Duration::from_secs(30))
            .expect("relay-server says where it listens");
        Server {
            child,
            addr: addr.parse().expect("an address"),
        }
    }

    /// Stops the server with SIGINT and waits for it to finish what it has in hand.
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().expect("kill -INT");
        assert!(sent.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "relay-server ended with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_survives_a_sigkill_and_counts_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = format!("sqlite://{}/relay.sqlite3", dir.path().display());
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let server = Server::start(&store, hook);

    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut ids = Vec::new();
    for i in 0..20 {
        let body = serde_json::json!({ "from": "ann", "to": ["bob"], "body": format!("message {i}") });
        let request = hyper::Request::post(format!("http://{}/messages", server.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        let answer = client.request(request).await.expect("send");
        assert!(
            answer.status().is_success(),
            "the send is acknowledged: {}",
            answer.status()
        );
        let body = answer.into_body().collect().await.expect("body").to_bytes();
        let committed: Committed = serde_json::from_slice(&body).expect("a commit");
        ids.push(committed.id);
    }
    // Some webhooks are in flight (posted, unanswered), the others not yet posted.
    until("webhooks in flight", || receiver.arrived() >= 1).await;
    drop(server); // SIGKILL

    receiver.answering.send_replace(true);
    let server = Server::start(&store, hook);
    until("every webhook delivered", || receiver.answered().len() == ids.len()).await;
    // The acknowledgements of the last posts commit after their answers: stop gracefully.
    server.interrupt();

    let answered = receiver.answered();
    assert_eq!(
        answered.keys().copied().collect::<Vec<_>>(),
        ids,
        "every webhook delivered"
    );
    let db: Db = enginedb_open::open(&store).await.expect("open");
    for id in &ids {
        let count = db
            .get(&delivered(*id))
            .await
            .expect("get")
            .and_then(|e| e.value.as_i64());
        assert_eq!(
            count,
            Some(1),
            "message {id}'s delivery counted once (posted {:?} times)",
            answered.get(id)
        );
    }
    // Nothing is left to deliver, even long after, and nothing died.
    let later = ManualClock::at(SystemTime::now() + Duration::from_secs(86_400));
    let queue_db = db.clone().with_clock(later);
    let queue = queue_db.queue(WEBHOOKS);
    assert!(
        queue.receive().await.expect("receive").is_none(),
        "every webhook acknowledged"
    );
    assert!(queue.dead_letters(10).await.expect("dead letters").is_empty());
    // The feed holds one event per message, in commit order.
    let events = db.feed(EVENTS).since(None).read().await.expect("events");
    let event_ids: Vec<i64> = events.iter().filter_map(|e| e.payload.as_i64()).collect();
    assert_eq!(event_ids, ids, "one event per message, in order");
    let messages = db
        .list(Selector::prefix(enginedb::key!["relay", "msg"]))
        .collect()
        .await
        .expect("list");
    assert_eq!(messages.len(), ids.len());
    db.close().await.expect("close");
    let posted_again = receiver
        .arrived
        .lock()
        .expect("lock")
        .values()
        .filter(|&&n| n > 1)
        .count();
    eprintln!(
        "{} webhooks delivered; {posted_again} were in flight at the kill and posted again",
        ids.len()
    );
}
