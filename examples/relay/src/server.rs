//! The self-hosted server: axum on any store enginedb opens by URL.

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use enginedb::Db;

/// Serves the relay API for `db` on `listener` until the task is dropped.
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(db: Db, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = Router::new().fallback(any).with_state(db);
    axum::serve(listener, app).await
}

async fn any(State(db): State<Db>, method: Method, uri: Uri, body: String) -> impl IntoResponse {
    let answer = crate::api::handle(&db, method.as_str(), uri.path(), &body).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], answer.body)
}
