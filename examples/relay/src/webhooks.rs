//! The delivery loop: posts each message's webhook (enqueued by its send, see
//! [`Relay::with_outbox`](crate::Relay::with_outbox)) to a configured URL.
//!
//! Delivery is at least once: a webhook whose post fails (no answer in time, see
//! [`POST_TIMEOUT`], an answer other than 2xx) is posted again after a backoff, one whose
//! process dies before it is acknowledged after its lease and the backoff; receivers
//! deduplicate by the `idempotency-key` header (the message id). After
//! [`QueueOptions::max_attempts`] attempts a webhook is set aside as a dead letter, with a
//! warning in the log (see [`WEBHOOK_DELIVERY`](crate::WEBHOOK_DELIVERY)). The acknowledgement commits with
//! [`Webhook::acknowledged`], so each message's delivery is counted exactly once however often
//! the post was made. (The Worker posts them from its scheduled handler.)

use std::time::Duration;

use enginedb::{Db, Message, QueueOptions};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{WEBHOOKS, Webhook};

/// How long a post may take before it counts as failed, at most (and at most half the lease,
/// so a slow post is given up before its message is delivered again).
pub const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// Webhooks posted at the same time.
pub const CONCURRENCY: usize = 4;

/// Why one delivery failed (it is tried again after its backoff).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The post did not get a 2xx answer in time.
    #[error("posting webhook {id} to {url}: {reason}")]
    Post {
        /// The message id.
        id: i64,
        /// Where it was posted.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The store's error.
    #[error(transparent)]
    Store(#[from] enginedb::Error),
}

/// Where and how webhooks are delivered.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The URL each webhook is posted to.
    pub url: hyper::Uri,
    /// The queue's lease, attempts and backoff.
    pub options: QueueOptions,
}

/// Posts webhooks from `db`'s queue as they become due, [`CONCURRENCY`] at a time, until
/// `shutdown` completes; then finishes the posts in hand.
///
/// # Errors
/// `Closed` when the store is closed under it.
pub async fn deliver(db: &Db, delivery: &Delivery, shutdown: impl Future<Output = ()>) -> enginedb::Result<()> {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let timeout = POST_TIMEOUT.min(delivery.options.visibility / 2);
    let post = async |message: &Message| {
        let webhook = Webhook::of(message)?;
        let failed = |reason: String| DeliveryError::Post {
            id: webhook.id,
            url: delivery.url.to_string(),
            reason,
        };
        let request = hyper::Request::post(delivery.url.clone())
            .header("content-type", "application/json")
            .header("idempotency-key", webhook.id.to_string())
            .body(Full::new(Bytes::from(webhook.body())))
            .map_err(|e| failed(e.to_string()))?;
        let answer = tokio::time::timeout(timeout, client.request(request))
            .await
            .map_err(|_| failed(format!("no answer within {timeout:?}")))?
            .map_err(|e| failed(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(failed(format!("answered {}", answer.status())));
        }
        tracing::info!(id = webhook.id, attempt = message.attempts, "webhook delivered");
        Ok::<_, DeliveryError>(webhook.acknowledged())
    };
    db.queue(WEBHOOKS)
        .options(delivery.options)
        .listen(CONCURRENCY, shutdown, post)
        .await
}
