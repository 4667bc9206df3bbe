//! The two kinds of refusal the simulator sends, each an `IntoResponse` so
//! that handlers return `Result` and `?` does the rest: Twilio's error body
//! on Twilio's paths, a plain `{"error"}` on the `/_sim/` control API.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Twilio's error answer: `{"code","message","more_info","status"}`.
#[derive(Debug)]
pub(crate) struct TwilioError {
    status: StatusCode,
    code: i64,
    message: String,
}

impl TwilioError {
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        TwilioError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let TwilioError {
            status,
            code,
            message,
        } = self;
        let body = json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        });
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        resp
    }
}

/// Twilio's generic "invalid parameter" (400, 20001), which the simulator
/// answers for every bad form or query value.
pub(crate) fn bad_param(message: impl Into<String>) -> TwilioError {
    TwilioError::new(StatusCode::BAD_REQUEST, 20001, message)
}

pub(crate) fn not_found(path: &str) -> TwilioError {
    TwilioError::new(
        StatusCode::NOT_FOUND,
        20404,
        format!("The requested resource {path} was not found"),
    )
}

/// The control API's refusal: `{"error": message}`.
#[derive(Debug)]
pub(crate) struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ControlError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

/// A control body or path the simulator cannot use (400).
pub(crate) fn bad(message: impl Into<String>) -> ControlError {
    ControlError::new(StatusCode::BAD_REQUEST, message)
}
