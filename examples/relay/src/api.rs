//! The relay's HTTP API, independent of any HTTP library: the axum server and the Worker both
//! hand it `(method, path, body)` and send back the `(status, JSON)` it answers.
//!
//! | request                                   | body                                   |
//! |-------------------------------------------|----------------------------------------|
//! | `POST /messages`                          | `{"from", "to": [..], "body"}`         |
//! | `POST /messages/{id}/replies`             | `{"from", "body"}`                     |
//! | `POST /messages/{id}/read`                | `{"user"}`                             |
//! | `GET /messages/{id}`                      |                                        |
//! | `GET /inbox/{user}`                       |                                        |
//!
//! Writes answer `{"id", "mode", "version"}`: the atomicity each got. Errors answer
//! `{"error", "kind"}` with 400 (bad input), 404, 409 (a check failed or a race was lost), 503
//! (busy or unavailable) or 500.

use enginedb::{Atomicity, Commit, Db, Error, ErrorKind};
use serde_json::{Value as Json, json};

use crate::Relay;

/// An answer: HTTP status and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

fn answer(status: u16, body: Json) -> Answer {
    Answer {
        status,
        body: body.to_string(),
    }
}

fn failure(error: &Error) -> Answer {
    let status = match error.kind() {
        ErrorKind::InvalidInput | ErrorKind::LimitExceeded => 400,
        ErrorKind::CheckFailed | ErrorKind::Conflict | ErrorKind::SumFailed => 409,
        ErrorKind::Busy | ErrorKind::Unavailable => 503,
        _ => 500,
    };
    answer(
        status,
        json!({ "error": error.to_string(), "kind": format!("{:?}", error.kind()) }),
    )
}

fn committed(id: i64, commit: Commit) -> Json {
    json!({ "id": id, "mode": format!("{:?}", commit.mode), "version": commit.version.0 })
}

fn field<'j>(body: &'j Json, name: &str) -> Result<&'j str, Error> {
    body.get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| Error::invalid(format!("the body needs a string {name:?}")))
}

/// Answers one request on `db`. Writes require atomicity: a store that cannot give it refuses.
pub async fn handle(db: &Db, method: &str, path: &str, body: &str) -> Answer {
    match route(db, method, path, body).await {
        Ok(answer) => answer,
        Err(error) => failure(&error),
    }
}

async fn route(db: &Db, method: &str, path: &str, body: &str) -> Result<Answer, Error> {
    let relay = Relay::new(db.clone(), Atomicity::Require);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let json = || -> Result<Json, Error> {
        serde_json::from_str(body).map_err(|e| Error::invalid(format!("the body is not JSON: {e}")))
    };
    let id = |text: &str| {
        text.parse::<i64>()
            .map_err(|_| Error::invalid(format!("{text:?} is not a message id")))
    };
    match (method, segments.as_slice()) {
        ("POST", ["messages"]) => {
            let body = json()?;
            let to: Vec<&str> = body
                .get("to")
                .and_then(Json::as_array)
                .map(|to| to.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let sent = relay
                .send(field(&body, "from")?, &to, field(&body, "body")?, &[])
                .await?;
            Ok(answer(201, committed(sent.id, sent.commit)))
        }
        ("POST", ["messages", parent, "replies"]) => {
            let body = json()?;
            let sent = relay
                .reply(field(&body, "from")?, id(parent)?, field(&body, "body")?)
                .await?;
            Ok(answer(201, committed(sent.id, sent.commit)))
        }
        ("POST", ["messages", message, "read"]) => {
            let body = json()?;
            let message = id(message)?;
            let commit = relay.mark_read(field(&body, "user")?, message).await?;
            Ok(answer(200, committed(message, commit)))
        }
        ("GET", ["messages", message]) => match relay.message(id(message)?).await? {
            Some(m) => Ok(answer(
                200,
                json!({ "id": m.id, "from": m.from, "thread": m.thread, "body": m.body }),
            )),
            None => Ok(answer(404, json!({ "error": format!("no message {message}") }))),
        },
        ("GET", ["inbox", user]) => {
            let inbox = relay.inbox(user).await?;
            let lines: Vec<Json> = inbox.iter().map(|d| json!({ "id": d.id, "read": d.read })).collect();
            Ok(answer(200, Json::Array(lines)))
        }
        _ => Ok(answer(404, json!({ "error": format!("no route {method} {path}") }))),
    }
}
