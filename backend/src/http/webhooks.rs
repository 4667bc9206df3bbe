//! The routes Twilio calls: the Event Streams webhook sink and the
//! recording status callbacks. Each checks `X-Twilio-Signature` over the URL
//! Twilio called (`PUBLIC_URL` + path + query: behind a proxy the request's
//! own host is not the one Twilio signed) before anything else, answers at
//! once and leaves the work to the domain in the background.

use crate::config::Webhooks;
use crate::domain::audit::Miss;
use crate::domain::events;
use crate::domain::safety_net::EVENT_ID_TTL;
use crate::error::AppError;
use crate::webhook_signature::{self, SignatureProblem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

/// Largest Event Streams delivery accepted: a batch of TaskRouter events,
/// each under a few KB (task attributes are at most 4096 characters).
pub const EVENTS_BODY_LIMIT: usize = 1024 * 1024;

/// How long a recording status callback is remembered against repeats.
const CALLBACK_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn webhooks(state: &AppState) -> Result<&Webhooks, AppError> {
    state.0.config.webhooks.as_ref().ok_or_else(|| {
        AppError::NotFound(
            "this backend takes no Twilio webhooks: set PUBLIC_URL and TWILIO_AUTH_TOKEN".into(),
        )
    })
}

/// The URL Twilio called, as it signed it.
fn called_url(w: &Webhooks, uri: &Uri) -> String {
    match uri.query() {
        Some(q) => format!("{}{}?{q}", w.public_url, uri.path()),
        None => format!("{}{}", w.public_url, uri.path()),
    }
}

fn signature(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
}

fn refuse(problem: SignatureProblem) -> AppError {
    crate::error::note_cause(&problem.to_string());
    AppError::Forbidden(
        "the request is not signed by Twilio for this URL (X-Twilio-Signature); nothing was done"
            .into(),
    )
}

fn body_or_refuse(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::BodyTooLarge(EVENTS_BODY_LIMIT)
        } else {
            AppError::InvalidInput(format!("the request body could not be read: {e}"))
        }
    })
}

/// `POST /twilio/event-streams`: a JSON array of CloudEvents.
pub async fn event_streams(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let w = webhooks(&state)?;
    let body = body_or_refuse(body)?;
    webhook_signature::check_json(
        &w.auth_token,
        signature(&headers),
        &called_url(w, &uri),
        &body,
    )
    .map_err(refuse)?;
    let batch: Vec<Value> = serde_json::from_slice(&body).map_err(|_| {
        AppError::InvalidInput("an Event Streams delivery is a JSON array of CloudEvents".into())
    })?;
    let s = &*state.0;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let (mut handled, mut ignored, mut duplicates) = (0u32, 0u32, 0u32);
    for raw in &batch {
        let event = match events::read(raw, &s.config.account_sid, &s.config.workspace_sid, now) {
            Ok(e) => e,
            Err(why) => {
                let id = raw.get("id").and_then(Value::as_str).unwrap_or("-");
                tracing::info!(event = %id.chars().take(64).collect::<String>(), reason = %why, "Event Streams event ignored");
                crate::metrics::event(events::Ignored::label(raw), "ignored");
                ignored += 1;
                continue;
            }
        };
        if !s
            .audit
            .first_time(&format!("event:{}", event.id), EVENT_ID_TTL)
            .await
        {
            tracing::debug!(event = %event.id, "Event Streams event already handled (a repeated delivery)");
            crate::metrics::event(event.label, "duplicate");
            duplicates += 1;
            continue;
        }
        tracing::info!(event = %event.id, kind = event.label, task = %event.task, "Event Streams event");
        crate::metrics::event(event.label, "handled");
        handled += 1;
        s.safety_net.spawn(event);
    }
    Ok(
        Json(serde_json::json!({"handled": handled, "ignored": ignored, "duplicates": duplicates}))
            .into_response(),
    )
}

/// `POST /twilio/recording-status`: Twilio's recording status callback.
pub async fn recording_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let w = webhooks(&state)?;
    let body = body_or_refuse(body)?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        AppError::InvalidInput(
            "a recording status callback is a form (application/x-www-form-urlencoded)".into(),
        )
    })?;
    webhook_signature::check_form(
        &w.auth_token,
        signature(&headers),
        &called_url(w, &uri),
        &params,
    )
    .map_err(refuse)?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let s = &*state.0;
    if get("AccountSid") != s.config.account_sid.as_str() {
        tracing::info!(account = %get("AccountSid").chars().take(64).collect::<String>(), "recording status callback of another account ignored");
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let (call, recording, status) = (get("CallSid"), get("RecordingSid"), get("RecordingStatus"));
    let Some(miss) = Miss::of_status(status) else {
        tracing::debug!(call, recording, status, "recording status");
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if recording.is_empty()
        || !s
            .audit
            .first_time(
                &format!("recording-status:{recording}:{status}"),
                CALLBACK_TTL,
            )
            .await
    {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let reason = if miss == Miss::RecordingAbsent {
        "absent"
    } else {
        "failed"
    };
    crate::metrics::recording_failed(reason);
    crate::metrics::recording_missed(miss.text());
    let task = s.audit.recording_ended(call, recording, status).await;
    tracing::error!(
        task = task.as_deref().unwrap_or("-"),
        call,
        recording,
        status,
        error_code = get("ErrorCode"),
        "the recording ended {status} at Twilio: the call is not recorded"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
