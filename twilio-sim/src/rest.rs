//! Twilio's REST surface: the route table of every Twilio path the simulator
//! serves, and the one middleware every REST request goes through (scripted
//! faults, auth, the request log, and sending what the request made Twilio
//! tell others), so each resource's handlers (`account`, `voice`,
//! `recording_status`, `taskrouter`, `events`) only deal with the happy and
//! error paths of their own resource.

use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{not_found, TwilioError};
use crate::model::LogEntry;
use crate::request::parse_json;
use crate::SimState;

const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub(crate) fn router(state: SimState) -> Router {
    Router::new()
        .merge(crate::account::routes())
        .merge(crate::voice::routes())
        .merge(crate::recording_status::routes())
        .merge(crate::taskrouter::routes())
        .merge(crate::events::routes())
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), rest_layer))
        .with_state(state)
}

async fn unknown_path(uri: Uri) -> TwilioError {
    not_found(uri.path())
}

async fn method_not_allowed(method: Method, uri: Uri) -> TwilioError {
    TwilioError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        20004,
        format!("Method {method} not allowed on {}", uri.path()),
    )
}

/// Faults, auth and logging for every REST request, in that order: a
/// scripted failure answers before anything else, as an overloaded Twilio
/// edge would.
async fn rest_layer(State(st): State<SimState>, req: Request, next: Next) -> Response {
    // A control path the nested router did not take (`/_sim` itself) is still
    // control traffic: never faulted, never logged.
    if req.uri().path().starts_with("/_sim") {
        return next.run(req).await;
    }
    let received_us = crate::time::now_us();
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();

    let body_bytes = to_bytes(body, BODY_LIMIT).await;
    let (fault, latency_ms) = {
        let mut sim = st.lock();
        let fault = crate::faults::take_failure(&mut sim.faults, &path, &method);
        (fault, sim.faults.latency_ms)
    };

    let (request_log, resp) = match body_bytes {
        Err(_) => (
            Value::Null,
            TwilioError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                20001,
                "Request body too large",
            )
            .into_response(),
        ),
        Ok(bytes) => {
            let request_log = body_for_log(&content_type, &bytes);
            let resp = if let Some((status, code)) = fault {
                let reason = status.canonical_reason().unwrap_or("Error");
                TwilioError::new(status, code, reason).into_response()
            } else if !authorized(&st, &parts.headers) {
                TwilioError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate").into_response()
            } else {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            };
            (request_log, resp)
        }
    };
    // What the request changed goes out now, whatever the answer (a
    // recording created before a fault still has its callbacks).
    crate::outbound::flush(&st);

    let (rparts, rbody) = resp.into_parts();
    // Our own handlers build small in-memory bodies; failure here is impossible
    // in practice, and an empty body is the honest fallback.
    let rbytes = to_bytes(rbody, usize::MAX).await.unwrap_or_default();
    let response_ct = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let response_log = body_for_log(response_ct, &rbytes);
    {
        let mut sim = st.lock();
        let seq = sim.next_seq;
        sim.next_seq += 1;
        sim.log.push_back(LogEntry {
            seq,
            method,
            path,
            query,
            status: rparts.status.as_u16(),
            request_body: request_log,
            response_body: response_log,
            latency_ms,
            received_us,
        });
        let limit = st.config().log_limit.max(1);
        while sim.log.len() > limit {
            sim.log.pop_front();
        }
    }
    // The state change already happened; only the answer is late, as when a
    // real Twilio request is slow (a client that gives up may still have
    // created the recording).
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// JSON bodies parsed, form bodies as an object (repeated keys as arrays),
/// anything else as text, nothing as null.
fn body_for_log(content_type: &str, bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes) {
            let mut obj = Map::new();
            for (k, v) in pairs {
                match obj.get_mut(&k) {
                    Some(Value::Array(a)) => a.push(Value::String(v)),
                    Some(prev) => {
                        let first = prev.take();
                        *prev = Value::Array(vec![first, Value::String(v)]);
                    }
                    None => {
                        obj.insert(k, Value::String(v));
                    }
                }
            }
            return Value::Object(obj);
        }
    }
    if let Ok(v) = parse_json::<Value>(bytes) {
        return v;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn authorized(st: &SimState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, pass)) = text.split_once(':') else {
        return false;
    };
    let cfg = st.config();
    (user == cfg.account_sid && pass == cfg.auth_token)
        || (user == cfg.api_key && pass == cfg.api_secret)
}
