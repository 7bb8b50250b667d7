//! The self-hosted server: the [API](crate::api) on axum, on any store enginedb opens by URL.
//!
//! Each route is a thin handler: its extractors turn the path and the body into the API's
//! typed request (refusing what does not fit with the API's JSON error shape, never axum's
//! plain-text rejections), and it calls the same typed function the Worker's
//! [`api::handle`] calls. Every request is logged through `tracing` (target `relay::server`):
//! method, path, status and duration; server errors (5xx) also with their message.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, body::Bytes};
use enginedb::{Atomicity, Db};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError, Committed, ReadRequest, ReplyRequest, SendRequest, Success};
use crate::{Delivery, Message, Relay};

/// The relay API's routes on `db`, logged, with the body limit of [`api::MAX_REQUEST_BYTES`].
/// Writes require atomic units.
pub fn router(db: Db) -> Router {
    router_for(Relay::new(db, Atomicity::Require))
}

/// The relay API's routes on `relay`, as [`router`] (for a relay configured otherwise, e.g.
/// [`Relay::with_outbox`]).
pub fn router_for(relay: Relay) -> Router {
    Router::new()
        .route("/messages", post(send))
        .route("/messages/{id}", get(message))
        .route("/messages/{id}/replies", post(reply))
        .route("/messages/{id}/read", post(read))
        .route("/inbox/{user}", get(inbox))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(api::MAX_REQUEST_BYTES))
        .layer(middleware::from_fn(log))
        .with_state(relay)
}

/// Serves the relay API for `db` on `listener` until the task is dropped.
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(db: Db, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(db)).await
}

async fn send(State(relay): State<Relay>, JsonBody(request): JsonBody<SendRequest>) -> Answered<Committed> {
    api::send(&relay, request).await
}

async fn reply(
    State(relay): State<Relay>,
    MessageId(parent): MessageId,
    JsonBody(request): JsonBody<ReplyRequest>,
) -> Answered<Committed> {
    api::reply(&relay, parent, request).await
}

async fn read(
    State(relay): State<Relay>,
    MessageId(id): MessageId,
    JsonBody(request): JsonBody<ReadRequest>,
) -> Answered<Committed> {
    api::read(&relay, id, request).await
}

async fn message(State(relay): State<Relay>, MessageId(id): MessageId) -> Answered<Message> {
    api::message(&relay, id).await
}

async fn inbox(State(relay): State<Relay>, User(user): User) -> Answered<Vec<Delivery>> {
    api::inbox(&relay, &user).await
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::no_route(method.as_str(), uri.path())
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(method.as_str(), uri.path())
}

/// What a handler answers.
type Answered<T> = Result<Success<T>, ApiError>;

impl IntoResponse for api::Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [(header::CONTENT_TYPE, "application/json")], self.body).into_response()
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        self.answer().into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status >= 500 {
            tracing::error!(status = self.status, kind = %self.body.kind, "{}", self.body.error);
        }
        self.answer().into_response()
    }
}

/// A request body read as the JSON `T` (see [`api::parse_body`]); a body over the limit is a
/// 413, one that cannot be read a 400, each with the API's error shape.
struct JsonBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::invalid(format!("the request body cannot be read: {}", rejection.body_text()))
            }
        })?;
        api::parse_body(&bytes).map(JsonBody)
    }
}

/// The one `{…}` segment of a path, percent-decoded. An empty one is no route, as for
/// [`api::Route::parse`] (axum's router would take `/messages//read`).
async fn segment<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, ApiError> {
    let Path(segment) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    if segment.is_empty() {
        return Err(ApiError::no_route(parts.method.as_str(), parts.uri.path()));
    }
    Ok(segment)
}

/// The `{id}` of a path (see [`api::parse_id`]).
struct MessageId(i64);

impl<S: Send + Sync> FromRequestParts<S> for MessageId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        api::parse_id(&segment(parts, state).await?).map(MessageId)
    }
}

/// The `{user}` of a path.
struct User(String);

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        segment(parts, state).await.map(User)
    }
}

/// Logs each request once answered.
async fn log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "answered"
    );
    response
}
