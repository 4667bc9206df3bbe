//! `GET /audit?from=&to=` (RFC 3339), with `Authorization: Bearer
//! <AUDIT_TOKEN>`: the audit's report of a time window (`domain::audit`).

use crate::domain::events::parse_time_ms;
use crate::error::AppError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Deserialize)]
pub struct Window {
    from: Option<String>,
    to: Option<String>,
}

/// Compared through their SHA-256 so neither length nor content leaks
/// through timing.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.ct_eq(&b).into()
}

pub async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(window): Query<Window>,
) -> Result<Json<Value>, AppError> {
    let s = &*state.0;
    let Some(expected) = &s.config.audit_token else {
        return Err(AppError::NotFound(
            "the audit is off: set AUDIT_TOKEN to turn it on".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if same_secret(g, expected.expose()) => {}
        _ => {
            return Err(AppError::Unauthorized(
                "the audit needs Authorization: Bearer <AUDIT_TOKEN>".into(),
            ))
        }
    }
    let bound = |v: Option<String>, name: &str| -> Result<(String, i64), AppError> {
        let text = v.ok_or_else(|| {
            AppError::InvalidInput(format!(
                "{name} is missing (RFC 3339, e.g. 2026-12-06T00:00:00Z)"
            ))
        })?;
        let ms = parse_time_ms(&text).ok_or_else(|| {
            AppError::InvalidInput(format!(
                "{name} is not an RFC 3339 time (e.g. 2026-12-06T00:00:00Z)"
            ))
        })?;
        Ok((text, ms))
    };
    let (from, from_ms) = bound(window.from, "from")?;
    let (to, to_ms) = bound(window.to, "to")?;
    if to_ms < from_ms {
        return Err(AppError::InvalidInput("to lies before from".into()));
    }
    let report = s.audit.report(from_ms, to_ms).await.map_err(|e| {
        crate::error::note_cause(&e.to_string());
        AppError::Unavailable("the audit's store (Redis) could not be read; try again".into())
    })?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "store": s.audit.store().kind(),
        "unrecorded": report.unrecorded,
        "excluded": report.excluded,
        "recorded": report.recorded,
    })))
}
