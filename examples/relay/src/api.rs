//! The relay's HTTP API, independent of any HTTP library.
//!
//! The typed functions ([`send`], [`reply`], [`read`], [`message`], [`inbox`]) hold the logic:
//! they take the request's serde struct and answer a [`Success`] (status and typed body) or an
//! [`ApiError`]. Two thin transports call them: the axum server ([`crate::server`], with real
//! routes and extractors) and [`handle`], which takes `(method, path, body)` as text for hosts
//! that cannot link axum, such as the Cloudflare Worker.
//!
//! | request                       | body                           | success                                |
//! |-------------------------------|--------------------------------|----------------------------------------|
//! | `POST /messages`              | `{"from", "to": [..], "body"}` | 201 `{"id", "mode", "version"}`        |
//! | `POST /messages/{id}/replies` | `{"from", "body"}`             | 201 `{"id", "mode", "version"}`        |
//! | `POST /messages/{id}/read`    | `{"user"}`                     | 200 `{"id", "mode", "version"}`        |
//! | `GET /messages/{id}`          |                                | 200 `{"id", "from", "thread", "body"}` |
//! | `GET /inbox/{user}`           |                                | 200 `[{"id", "read"}, ..]`             |
//!
//! A write answers the atomicity it got (`mode`: `Transaction` or `Batch`; the API requires
//! atomic units, so a store without them refuses). A request body is a JSON object with exactly
//! the fields above, each of its type (strings, and a list of strings for `to`). Every error
//! answers the same JSON shape, `{"error": "what went wrong", "kind": "…"}`:
//!
//! | status | `kind`                                 | when                                                                                     |
//! |--------|----------------------------------------|------------------------------------------------------------------------------------------|
//! | 400    | `InvalidInput`                         | a body that is not that object (a missing, unknown or ill-typed field); an `{id}` that is not an integer; no recipient or over [`crate::MAX_RECIPIENTS`]; a user name that is empty or over [`crate::MAX_USER_BYTES`] |
//! | 404    | `NotFound`                             | no such route (an empty `{…}` segment included); no message `{id}`; no delivery of it to the user marking it read |
//! | 405    | `MethodNotAllowed`                     | a known path with another method                                                         |
//! | 409    | `CheckFailed`, `Conflict`, `SumFailed` | the unit's condition failed (the parent or the delivery changed meanwhile), or it lost a race |
//! | 413    | `LimitExceeded`                        | a body over [`MAX_REQUEST_BYTES`], or a message over the store's limits                  |
//! | 503    | `Busy`, `Unavailable`                  | the store is busy or unreachable: try again                                              |
//! | 500    | the store's other kinds (`Backend`, `Decode`, `Unsupported`, …), or `Internal` | a fault of the server or its store                        |

use enginedb::{Commit, ErrorKind};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Delivery, Error, Message, Relay};

/// Largest request body, in bytes; a larger one is answered 413.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The body of `POST /messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The sender.
    pub from: String,
    /// The recipients (at least one).
    pub to: Vec<String>,
    /// The text.
    pub body: String,
}

/// The body of `POST /messages/{id}/replies`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// Who replies.
    pub from: String,
    /// The text.
    pub body: String,
}

/// The body of `POST /messages/{id}/read`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// Who read the message.
    pub user: String,
}

/// What a write answers: the message's id and how the unit was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Committed {
    /// The message written (sent, replied) or marked read.
    pub id: i64,
    /// How the unit ran: `Transaction` or `Batch`.
    pub mode: String,
    /// The unit's commit version.
    pub version: u64,
}

impl Committed {
    fn new(id: i64, commit: Commit) -> Self {
        Committed {
            id,
            mode: format!("{:?}", commit.mode),
            version: commit.version.0,
        }
    }
}

/// A request answered: its HTTP status and its body, to be sent as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Success<T> {
    /// 200 or 201.
    pub status: u16,
    /// The answer.
    pub body: T,
}

impl<T> Success<T> {
    fn ok(body: T) -> Self {
        Success { status: 200, body }
    }

    fn created(body: T) -> Self {
        Success { status: 201, body }
    }
}

/// The JSON body of every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// What went wrong, for programs: see the table in the [module docs](self).
    pub kind: String,
}

/// A request refused or failed: its HTTP status and its JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// 4xx or 5xx.
    pub status: u16,
    /// What went wrong.
    pub body: ErrorBody,
}

impl ApiError {
    fn new(status: u16, kind: &str, error: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                kind: kind.to_owned(),
            },
        }
    }

    /// 400 `InvalidInput`.
    pub fn invalid(error: impl Into<String>) -> Self {
        ApiError::new(400, "InvalidInput", error)
    }

    /// 404 `NotFound`.
    pub fn not_found(error: impl Into<String>) -> Self {
        ApiError::new(404, "NotFound", error)
    }

    /// 404 `NotFound` for a request no route takes.
    pub fn no_route(method: &str, path: &str) -> Self {
        ApiError::not_found(format!("no route {method} {path}"))
    }

    /// 405 `MethodNotAllowed` for a known path with another method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        ApiError::new(405, "MethodNotAllowed", format!("{path} does not take {method}"))
    }

    /// 413 `LimitExceeded` for a body over [`MAX_REQUEST_BYTES`].
    pub fn too_large() -> Self {
        ApiError::new(
            413,
            "LimitExceeded",
            format!("the request body is over {MAX_REQUEST_BYTES} bytes"),
        )
    }

    /// This error as an [`Answer`].
    pub fn answer(&self) -> Answer {
        json_answer(self.status, &self.body)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound(message) => ApiError::not_found(message),
            Error::Invalid(message) => ApiError::invalid(message),
            Error::Store(error) => {
                let status = match error.kind() {
                    ErrorKind::InvalidInput => 400,
                    ErrorKind::LimitExceeded => 413,
                    ErrorKind::CheckFailed | ErrorKind::Conflict | ErrorKind::SumFailed => 409,
                    ErrorKind::Busy | ErrorKind::Unavailable => 503,
                    _ => 500,
                };
                ApiError::new(status, &format!("{:?}", error.kind()), error.to_string())
            }
        }
    }
}

/// Reads a request body as the JSON `T` takes: 413 over [`MAX_REQUEST_BYTES`], 400 for
/// anything but an object with exactly `T`'s fields, each of its type.
///
/// # Errors
/// As above.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ApiError::too_large());
    }
    // serde would also take a struct's fields as a JSON array, in order.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::invalid("the request body is not a JSON object"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("the request body is not what this route takes: {e}")))
}

/// Reads the `{id}` of a path.
///
/// # Errors
/// 400 when it is not an integer.
pub fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid(format!("{text:?} is not a message id")))
}

/// `POST /messages`: sends a message, as one unit. 201.
///
/// # Errors
/// See the table in the [module docs](self).
pub async fn send(relay: &Relay, request: SendRequest) -> Result<Success<Committed>, ApiError> {
    let to: Vec<&str> = request.to.iter().map(String::as_str).collect();
    let sent = relay.send(&request.from, &to, &request.body, &[]).await?;
    Ok(Success::created(Committed::new(sent.id, sent.commit)))
}

/// `POST /messages/{parent}/replies`: replies in the parent's thread, as one unit. 201.
///
/// # Errors
/// 404 for no message `parent`; see the table in the [module docs](self).
pub async fn reply(relay: &Relay, parent: i64, request: ReplyRequest) -> Result<Success<Committed>, ApiError> {
    let sent = relay.reply(&request.from, parent, &request.body).await?;
    Ok(Success::created(Committed::new(sent.id, sent.commit)))
}

/// `POST /messages/{id}/read`: marks the message read by the user, as one unit. 200.
///
/// # Errors
/// 404 for no message `id`, or none delivered to the user; see the table in the
/// [module docs](self).
pub async fn read(relay: &Relay, id: i64, request: ReadRequest) -> Result<Success<Committed>, ApiError> {
    let commit = relay.mark_read(&request.user, id).await?;
    Ok(Success::ok(Committed::new(id, commit)))
}

/// `GET /messages/{id}`: the message. 200.
///
/// # Errors
/// 404 for no message `id`; see the table in the [module docs](self).
pub async fn message(relay: &Relay, id: i64) -> Result<Success<Message>, ApiError> {
    match relay.message(id).await? {
        Some(message) => Ok(Success::ok(message)),
        None => Err(ApiError::not_found(format!("no message {id}"))),
    }
}

/// `GET /inbox/{user}`: the user's deliveries, oldest first. 200.
///
/// # Errors
/// See the table in the [module docs](self).
pub async fn inbox(relay: &Relay, user: &str) -> Result<Success<Vec<Delivery>>, ApiError> {
    Ok(Success::ok(relay.inbox(user).await?))
}

/// A request's route, with what its path holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /messages`
    Send,
    /// `POST /messages/{id}/replies`
    Reply(i64),
    /// `POST /messages/{id}/read`
    Read(i64),
    /// `GET /messages/{id}`
    Message(i64),
    /// `GET /inbox/{user}` (percent-decoded)
    Inbox(String),
}

impl Route {
    /// The route of `method` and `path` (without the query; `{…}` segments percent-encoded,
    /// as in a URL).
    ///
    /// # Errors
    /// 404 for an unknown path, 405 for a known path with another method, 400 for an `{id}`
    /// that is not an integer or a `{user}` that is not UTF-8.
    pub fn parse(method: &str, path: &str) -> Result<Route, ApiError> {
        let segments: Vec<&str> = match path.strip_prefix('/') {
            Some(rest) => rest.split('/').collect(),
            None => return Err(ApiError::no_route(method, path)),
        };
        if segments.iter().any(|segment| segment.is_empty()) {
            return Err(ApiError::no_route(method, path));
        }
        let decoded = |segment: &str| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::invalid(format!("{segment:?} is not percent-encoded UTF-8")))
        };
        let id = |segment: &str| decoded(segment).and_then(|s| parse_id(&s));
        let expected = match segments.as_slice() {
            ["messages"] => "POST",
            ["messages", _] | ["inbox", _] => "GET",
            ["messages", _, "replies" | "read"] => "POST",
            _ => return Err(ApiError::no_route(method, path)),
        };
        if method != expected {
            return Err(ApiError::method_not_allowed(method, path));
        }
        match segments.as_slice() {
            ["messages"] => Ok(Route::Send),
            ["messages", message] => Ok(Route::Message(id(message)?)),
            ["messages", parent, "replies"] => Ok(Route::Reply(id(parent)?)),
            ["messages", message, "read"] => Ok(Route::Read(id(message)?)),
            ["inbox", user] => Ok(Route::Inbox(decoded(user)?)),
            _ => Err(ApiError::no_route(method, path)),
        }
    }
}

/// An answer as text: HTTP status and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

fn json_answer<T: Serialize>(status: u16, body: &T) -> Answer {
    match serde_json::to_string(body) {
        Ok(body) => Answer { status, body },
        Err(error) => Answer {
            status: 500,
            body: format!(
                r#"{{"error":{:?},"kind":"Internal"}}"#,
                format!("the answer does not serialize: {error}")
            ),
        },
    }
}

impl<T: Serialize> Success<T> {
    /// This answer as text.
    pub fn answer(&self) -> Answer {
        json_answer(self.status, &self.body)
    }
}

/// Answers one request on `relay`, for hosts without axum (the Worker): `path` without the
/// query, `body` as received (ignored by `GET` routes). The same answers as the axum server's
/// (whose relay requires atomic units: `Relay::new(db, Atomicity::Require)`).
pub async fn handle(relay: &Relay, method: &str, path: &str, body: &str) -> Answer {
    let body = body.as_bytes();
    let answered = async {
        Ok::<_, ApiError>(match Route::parse(method, path)? {
            Route::Send => send(relay, parse_body(body)?).await?.answer(),
            Route::Reply(parent) => reply(relay, parent, parse_body(body)?).await?.answer(),
            Route::Read(id) => read(relay, id, parse_body(body)?).await?.answer(),
            Route::Message(id) => message(relay, id).await?.answer(),
            Route::Inbox(user) => inbox(relay, &user).await?.answer(),
        })
    };
    answered.await.unwrap_or_else(|error| error.answer())
}
