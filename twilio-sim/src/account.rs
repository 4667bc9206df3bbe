//! The account's own resources: IAM's token validation and the Flex
//! configuration (`flex-api.twilio.com/v1/Configuration`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::{bad_param, TwilioError};
use crate::request::{check_owner, parse_json, TwilioPath};
use crate::time::now_ms;
use crate::wire::invalid_token;
use crate::SimState;

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route(
            "/v1/Accounts/{account}/Tokens/validate",
            post(validate_token),
        )
        .route("/v1/Configuration", get(fetch_flex_configuration))
}

async fn validate_token(
    State(st): State<SimState>,
    TwilioPath(account): TwilioPath<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    check_owner(&st.config().account_sid, &account, uri.path())?;
    let parsed: Value =
        parse_json(&body).map_err(|e| bad_param(format!("Request body is not valid JSON: {e}")))?;
    let Some(token) = parsed.get("token").and_then(Value::as_str) else {
        return Err(bad_param("Missing required parameter token"));
    };
    let now = now_ms();
    let sim = st.lock();
    let answer = match sim.world.tokens.get(token) {
        Some(t) => t.to_twilio(now),
        None => invalid_token(20101, "Invalid Access Token"),
    };
    Ok(Json(answer))
}

/// `GET https://flex-api.twilio.com/v1/Configuration`: one per account, so
/// the path names no SID.
async fn fetch_flex_configuration(State(st): State<SimState>) -> Json<Value> {
    let cfg = st.config();
    let sim = st.lock();
    Json(sim.world.flex.to_twilio(cfg))
}
