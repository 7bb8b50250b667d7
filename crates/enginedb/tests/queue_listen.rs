//! `Queue::listen`: bounded concurrency, every message handled and acknowledged once, and a
//! graceful shutdown that finishes the messages in hand.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use enginedb::{Db, Error, MemoryDb, Message, Selector, Write, key};

/// In flight now, and the most ever.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits until `db` holds `n` handled marks.
async fn handled(db: &Db, n: usize) {
    loop {
        let marks = db
            .list(Selector::prefix(key!["handled"]))
            .collect()
            .await
            .expect("list");
        if marks.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_handle_every_message_once_at_bounded_concurrency() {
    let db = Db::from(MemoryDb::new());
    for i in 0..30 {
        db.atomic().enqueue("jobs", i).commit().await.expect("enqueue");
    }
    let gauge = Arc::new(Gauge::default());
    let handler = async |message: &Message| {
        gauge.enter();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let i = message.payload.as_i64().unwrap_or(-1);
        gauge.leave();
        Ok::<_, Error>(vec![Write::sum(key!["handled", i], 1)])
    };
    let queue = db.queue("jobs");
    tokio::time::timeout(Duration::from_secs(30), queue.listen(4, handled(&db, 30), handler))
        .await
        .expect("the listener stops after the shutdown")
        .expect("listen");
    let marks = db
        .list(Selector::prefix(key!["handled"]))
        .collect()
        .await
        .expect("list");
    let counts: Vec<i64> = marks.iter().filter_map(|e| e.value.as_i64()).collect();
    assert_eq!(counts, vec![1; 30], "each message handled once");
    let most = gauge.most.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&most),
        "at most 4 at a time, and more than one: {most}"
    );
    assert!(
        queue.receive().await.expect("receive").is_none(),
        "every message acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_messages_in_hand_finish() {
    let db = Db::from(MemoryDb::new());
    db.atomic().enqueue("jobs", "slow").commit().await.expect("enqueue");
    let started = tokio::sync::Notify::new();
    let handler = async |_: &Message| {
        started.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, Error>(vec![Write::set(key!["done"], "yes")])
    };
    let queue = db.queue("jobs");
    queue.listen(2, started.notified(), handler).await.expect("listen");
    assert!(
        db.get(&key!["done"]).await.expect("get").is_some(),
        "the message in hand finished"
    );
    assert!(
        queue.receive().await.expect("receive").is_none(),
        "and was acknowledged"
    );
}
