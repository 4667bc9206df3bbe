//! The one request-body extractor of every endpoint: a form (what the
//! template's serverless function takes, and what the plugin sends) or
//! JSON, decoded into the endpoint's wire type from the core's `api`.
//! Unknown fields are ignored. A field's shape (a SID) is checked after,
//! where the wire type becomes the endpoint's input (`http::input`).

use crate::error::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

/// Largest request body accepted. A Flex token is about 1 KB and the rest a
/// few SIDs; anything near this is not a plugin request.
pub const BODY_LIMIT: usize = 16 * 1024;

/// A body of `application/x-www-form-urlencoded`, `application/json` or
/// `application/*+json`, decoded into `T`; anything else is 415, a body
/// over [`BODY_LIMIT`] 413, one that does not decode 400 with serde's
/// reason (cut short: it may quote the input).
pub struct FormOrJson<T>(pub T);

#[derive(Clone, Copy)]
enum Format {
    Form,
    Json,
}

impl Format {
    fn of(content_type: &str) -> Option<Format> {
        let mime = content_type.split(';').next()?.trim().to_ascii_lowercase();
        if mime == "application/x-www-form-urlencoded" {
            Some(Format::Form)
        } else if mime == "application/json"
            || (mime.starts_with("application/") && mime.ends_with("+json"))
        {
            Some(Format::Json)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Form => "form",
            Format::Json => "JSON",
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(AppError::UnsupportedMediaType)?;
        // Read (within the limit) before the type is judged, as before: a
        // body too large is 413 whatever it claims to be.
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::BodyTooLarge(BODY_LIMIT)
            } else {
                AppError::InvalidInput("the request body could not be read".into())
            }
        })?;
        let format = Format::of(&content_type).ok_or(AppError::UnsupportedMediaType)?;
        let parsed = match format {
            Format::Form => serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string()),
            Format::Json => serde_json::from_slice(&body).map_err(|e| e.to_string()),
        };
        parsed.map(FormOrJson).map_err(|e| {
            AppError::InvalidInput(short(format!(
                "the {} body is not valid: {e}",
                format.name()
            )))
        })
    }
}

/// Serde messages can quote input; a long one is cut so an answer never
/// echoes a large part of what was sent.
fn short(msg: String) -> String {
    const MAX: usize = 200;
    if msg.len() <= MAX {
        return msg;
    }
    let mut end = MAX;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &msg[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            ("application/x-www-form-urlencoded", Some("form")),
            (
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
                Some("form"),
            ),
            ("application/json", Some("JSON")),
            ("application/json; charset=utf-8", Some("JSON")),
            ("application/vnd.api+json", Some("JSON")),
            ("text/plain", None),
            ("multipart/form-data; boundary=x", None),
            ("", None),
        ];
        for (ct, want) in cases {
            assert_eq!(Format::of(ct).map(Format::name), want, "{ct}");
        }
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        assert_eq!(short("short".into()), "short");
        let cut = short("é".repeat(150));
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= 200 + '…'.len_utf8());
    }
}
