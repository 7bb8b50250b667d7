//! `Queue::listen`: bounded concurrency, every message handled and acknowledged once, and a
//! graceful shutdown that finishes the messages in hand.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use enginedb::{Db, Error, MemoryDb, Message, QueueOptions, Selector, Write, key};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_seen_under_a_steady_backlog() {
    let db = Db::from(MemoryDb::new());
    for chunk in 0..5 {
        let unit = (0..100).fold(db.atomic(), |unit, i| unit.enqueue("jobs", chunk * 100 + i));
        unit.commit().await.expect("enqueue");
    }
    let handled = AtomicUsize::new(0);
    // Handlers that finish at once, so a message in hand is always done.
    let handler = async |message: &Message| {
        handled.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Error>(vec![Write::set(
            key!["handled", message.payload.as_i64().unwrap_or(-1)],
            "yes",
        )])
    };
    let shutdown = async {
        while handled.load(Ordering::SeqCst) < 10 {
            tokio::task::yield_now().await;
        }
    };
    let queue = db.queue("jobs");
    tokio::time::timeout(Duration::from_secs(30), queue.listen(4, shutdown, handler))
        .await
        .expect("the listener stops")
        .expect("listen");
    let handled = handled.load(Ordering::SeqCst);
    assert!(
        (10..100).contains(&handled),
        "stopped soon after the shutdown: {handled} of 500 handled"
    );
}

#[test]
fn options_no_queue_can_work_with_are_refused() {
    futures::executor::block_on(async {
        let db = Db::from(MemoryDb::new());
        for options in [
            QueueOptions {
                visibility: Duration::ZERO,
                ..QueueOptions::default()
            },
            QueueOptions {
                max_attempts: 0,
                ..QueueOptions::default()
            },
        ] {
            let queue = db.queue("jobs").options(options);
            let error = queue.receive().await.expect_err("refused");
            assert_eq!(error.kind(), enginedb::ErrorKind::InvalidInput, "{options:?}: {error}");
        }
        // The poll interval is the listener's alone: receive has no use for it.
        let queue = db.queue("jobs").options(QueueOptions {
            poll: Duration::from_micros(10),
            ..QueueOptions::default()
        });
        assert_eq!(queue.receive().await.unwrap(), None);
        let error = queue
            .listen(1, std::future::pending(), async |_: &enginedb::Message| {
                Ok::<_, enginedb::Error>(Vec::new())
            })
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), enginedb::ErrorKind::InvalidInput, "{error}");
    });
}
