//! The one error type every endpoint answers with. Each variant says what a
//! Flex administrator can do about it; internals (URLs, peer errors, tokens)
//! go to the log at most, never into the answer.

use crate::twilio::TwilioError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dual_channel_recording::api::{
    ErrorBody, RefusalBody, RefusalCode, TWILIO_CALL_NOT_IN_PROGRESS,
};
use dual_channel_recording::sid::TaskSid;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("the request body must be application/x-www-form-urlencoded or application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("the request carries no Flex token (Token)")]
    MissingToken,
    #[error("the Flex token was rejected by Twilio: {message}")]
    InvalidToken { code: i64, message: String },
    /// A bearer token (the audit's) missing or wrong.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("this origin may not call the recording backend; add it to ALLOWED_ORIGINS")]
    OriginNotAllowed,
    #[error("{0}")]
    NotFound(String),
    #[error("this endpoint does not answer that HTTP method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// Twilio refused; its code, message and link are passed on as they are.
    #[error("{message}")]
    Twilio {
        status: StatusCode,
        code: i64,
        message: String,
        more_info: Option<String>,
    },
    #[error("{0}")]
    Unavailable(String),
    /// The recording policy (the Flex configuration) forbids it; made from
    /// the domain's refusal where it is raised (`domain::policy`).
    #[error("{message}")]
    Refused {
        code: RefusalCode,
        message: String,
        rule: Option<String>,
    },
    #[error("the recording backend failed unexpectedly; see its log")]
    Internal,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MissingToken | AppError::InvalidToken { .. } | AppError::Unauthorized(_) => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Forbidden(_) | AppError::OriginNotAllowed | AppError::Refused { .. } => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Twilio { status, .. } => *status,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The task is not in the Flex workspace (any more).
    pub fn task_not_found(task_sid: &TaskSid) -> Self {
        AppError::NotFound(format!(
            "task {task_sid} was not found in the Flex workspace"
        ))
    }

    /// A task read (`TwilioClient::fetch_task`) as the request needs it:
    /// Twilio's failure mapped, and no such task a 404.
    pub fn task_read<T>(
        task_sid: &TaskSid,
        read: Result<Option<T>, TwilioError>,
    ) -> Result<T, Self> {
        read.map_err(|e| AppError::from_twilio("reading the task", e))?
            .ok_or_else(|| AppError::task_not_found(task_sid))
    }

    /// Maps a Twilio failure of `doing` (e.g. "starting the recording").
    pub fn from_twilio(doing: &str, e: TwilioError) -> Self {
        match e {
            TwilioError::Api {
                status,
                code,
                message,
                more_info,
            } => {
                let http = if code == TWILIO_CALL_NOT_IN_PROGRESS {
                    StatusCode::CONFLICT
                } else {
                    match status {
                        404 => StatusCode::NOT_FOUND,
                        429 => StatusCode::TOO_MANY_REQUESTS,
                        503 => StatusCode::SERVICE_UNAVAILABLE,
                        // Our own credentials or permissions: nothing the
                        // browser sent, so not a client error.
                        401 | 403 => StatusCode::BAD_GATEWAY,
                        // Twilio will refuse this request however often it is
                        // sent: a 4xx tells the plugin not to retry it.
                        400..=499 => StatusCode::BAD_REQUEST,
                        _ => StatusCode::BAD_GATEWAY,
                    }
                };
                AppError::Twilio {
                    status: http,
                    code,
                    message: format!("Twilio refused {doing}: {message}"),
                    more_info,
                }
            }
            TwilioError::Unreachable(detail) => {
                note_cause(&format!("Twilio unreachable while {doing}: {detail}"));
                AppError::Unavailable(format!(
                    "Twilio could not be reached while {doing}; try again shortly"
                ))
            }
            TwilioError::Timeout => AppError::Unavailable(format!(
                "Twilio did not answer in time while {doing}; try again shortly"
            )),
            TwilioError::BadAnswer(detail) => {
                note_cause(&format!("unreadable Twilio answer while {doing}: {detail}"));
                AppError::Twilio {
                    status: StatusCode::BAD_GATEWAY,
                    code: 502,
                    message: format!("Twilio gave an unexpected answer while {doing}"),
                    more_info: None,
                }
            }
        }
    }

    /// The `code` label of this answer in `/metrics`: a policy refusal's
    /// text code (`excluded`, `disabled`, ...), else the answer's number.
    pub fn metric_code(&self) -> String {
        match self {
            AppError::Refused { code, .. } => code.as_str().to_string(),
            _ => self.body().code.to_string(),
        }
    }

    /// The status and `code` label of every answer known before it happens
    /// (`metrics::from_zero` counts each from 0): each kind of refusal and
    /// failure, with the Twilio codes this backend answers with on its own
    /// account (21220, 20003, 20429). A Twilio code passed on from
    /// elsewhere is counted from its first.
    pub fn known_answers() -> Vec<(StatusCode, String)> {
        let twilio = |status: u16, code: i64| {
            AppError::from_twilio(
                "",
                TwilioError::Api {
                    status,
                    code,
                    message: String::new(),
                    more_info: None,
                },
            )
        };
        let mut all = vec![
            AppError::InvalidInput(String::new()),
            AppError::UnsupportedMediaType,
            AppError::BodyTooLarge(0),
            AppError::MissingToken,
            AppError::InvalidToken {
                code: 20101,
                message: String::new(),
            },
            AppError::Forbidden(String::new()),
            AppError::OriginNotAllowed,
            AppError::NotFound(String::new()),
            AppError::MethodNotAllowed,
            AppError::Conflict(String::new()),
            AppError::Unavailable(String::new()),
            AppError::Internal,
            twilio(400, TWILIO_CALL_NOT_IN_PROGRESS),
            twilio(401, 20003),
            twilio(429, 20429),
            twilio(502, 502),
        ];
        all.extend(RefusalCode::ALL.map(|code| AppError::Refused {
            code,
            message: String::new(),
            rule: None,
        }));
        let mut labels: Vec<(StatusCode, String)> =
            all.iter().map(|e| (e.status(), e.metric_code())).collect();
        labels.sort();
        labels.dedup();
        labels
    }

    pub fn body(&self) -> ErrorBody {
        let (code, more_info) = match self {
            AppError::InvalidToken { code, .. } => (*code, None),
            AppError::Twilio {
                code, more_info, ..
            } => (*code, more_info.clone()),
            other => (i64::from(other.status().as_u16()), None),
        };
        ErrorBody {
            success: false,
            message: self.to_string(),
            code,
            more_info,
        }
    }
}

/// Keeps a failure's internal detail (a peer's error, an unreadable answer)
/// for the one log line that reports the failure: it is recorded in the
/// request's span (field `cause`) instead of being logged on its own, so each
/// failure is logged once, with its cause, and never reaches the browser.
pub fn note_cause(detail: &str) {
    tracing::Span::current().record("cause", detail);
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        // The one log line of a failed request (the trace layer logs no
        // second one), and the one place refusals and failures are counted.
        crate::metrics::error_answer(status, &self.metric_code());
        match status {
            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::BAD_GATEWAY => {
                tracing::error!(status = status.as_u16(), code = body.code, error = %self, "request failed")
            }
            s if s.is_server_error() => {
                tracing::warn!(status = status.as_u16(), code = body.code, error = %self, "request failed")
            }
            _ => {
                tracing::info!(status = status.as_u16(), code = body.code, error = %self, "request refused")
            }
        }
        let mut resp = match &self {
            AppError::Refused {
                code,
                message,
                rule,
            } => (
                status,
                Json(RefusalBody {
                    success: false,
                    code: *code,
                    message: message.clone(),
                    rule: rule.clone(),
                }),
            )
                .into_response(),
            _ => (status, Json(body)).into_response(),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_statuses_map_to_what_the_plugin_may_retry() {
        let cases = [
            (400, 21220, StatusCode::CONFLICT),
            (400, 20001, StatusCode::BAD_REQUEST),
            (422, 0, StatusCode::BAD_REQUEST),
            (404, 20404, StatusCode::NOT_FOUND),
            (401, 20003, StatusCode::BAD_GATEWAY),
            (403, 20403, StatusCode::BAD_GATEWAY),
            (429, 20429, StatusCode::TOO_MANY_REQUESTS),
            (503, 0, StatusCode::SERVICE_UNAVAILABLE),
            (500, 0, StatusCode::BAD_GATEWAY),
        ];
        for (status, code, want) in cases {
            let e = AppError::from_twilio(
                "x",
                TwilioError::Api {
                    status,
                    code,
                    message: "m".into(),
                    more_info: None,
                },
            );
            assert_eq!(e.status(), want, "Twilio {status}/{code}");
        }
    }

    #[test]
    fn twilio_codes_pass_through() {
        let e = AppError::from_twilio(
            "starting the recording",
            TwilioError::Api {
                status: 400,
                code: 21220,
                message: "Call is not in-progress".into(),
                more_info: Some("https://www.twilio.com/docs/errors/21220".into()),
            },
        );
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let b = e.body();
        assert_eq!(b.code, 21220);
        assert!(!b.success);
        assert_eq!(
            b.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/21220")
        );
        assert!(b.message.contains("Call is not in-progress"));

        let e = AppError::from_twilio(
            "x",
            TwilioError::Api {
                status: 401,
                code: 20003,
                message: "Authenticate".into(),
                more_info: None,
            },
        );
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            AppError::from_twilio("x", TwilioError::Unreachable("refused".into())).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        // Internals stay in the log.
        let e = AppError::from_twilio("x", TwilioError::BadAnswer("secret detail".into()));
        assert!(!e.body().message.contains("secret detail"));
    }
}
