//! The HTTP layer: the routes `app` serves and the middleware around them.
//! A request's body is decoded once (`body`), its fields checked and its
//! SIDs parsed once (`input`); each endpoint then runs its sequence over
//! the domain (`recording`, `authorize`, `control`). Twilio's own calls
//! (`webhooks`: Event Streams, recording status callbacks) and the
//! operator's (`audit`) come in here too. Nothing below this
//! layer sees a request.

pub mod audit;
pub mod authorize;
pub mod body;
pub mod control;
pub mod input;
pub mod middleware;
pub mod recording;
pub mod webhooks;

use crate::error::AppError;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use tracing::Instrument;

/// Runs `work` to completion even if the client goes away: once a recording
/// may have been started, stopping halfway would leave it unrecorded in our
/// map and unlinked in Insights.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work.instrument(tracing::Span::current()))
        .await
        .unwrap_or_else(|e| {
            crate::error::note_cause(&format!("request task failed: {e}"));
            Err(AppError::Internal)
        })
}

/// Liveness: the process serves requests (restart it when this fails).
pub async fn healthz() -> Json<Value> {
    Json(serde_json::json!({"ok": true}))
}

/// Readiness: Twilio accepts the credentials (`domain::readiness`); 503
/// with the reason, in an operator's words, while it does not or cannot
/// be asked. For load balancers, not for restarts.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.0.readiness.status() {
        Ok(()) => Json(serde_json::json!({"ready": true})).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"ready": false, "reason": reason})),
        )
            .into_response(),
    }
}
