//! Twilio's REST paths, with auth, fault injection and the request log in one
//! middleware so every handler below only deals with the happy and error paths
//! of its own resource.

use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::model::{
    attributes_too_long, bad_param, deep_merge, is_sid, not_found, participant_to_twilio,
    twilio_error, Faults, LogEntry, Recording, Reservation, Task, RESERVATION_STATUSES,
    TASKROUTER_HOST, TASK_ATTRIBUTES_MAX_CHARS, TASK_STATUSES,
};
use crate::time::now_ms;
use crate::SimState;

const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub(crate) fn router(state: SimState) -> Router {
    Router::new()
        .route(
            "/v1/Accounts/{account}/Tokens/validate",
            post(validate_token),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}/Recordings.json",
            post(create_recording).get(list_recordings),
        )
        // `{call}` carries the `.json` suffix: the router cannot split a segment.
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            get(fetch_call),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Conferences/{conference}/Participants/{call}",
            get(fetch_participant),
        )
        .route(
            "/v1/Workspaces/{workspace}/Tasks/{task}",
            get(fetch_task).post(update_task),
        )
        .route(
            "/v1/Workspaces/{workspace}/Tasks/{task}/Reservations",
            get(list_reservations),
        )
        .route(
            "/v1/Workspaces/{workspace}/Tasks/{task}/Reservations/{reservation}",
            get(fetch_reservation),
        )
        .merge(crate::recording_status::router())
        .route("/v1/Configuration", get(fetch_flex_configuration))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), rest_layer))
        .with_state(state)
}

async fn unknown_path(uri: Uri) -> Response {
    not_found(uri.path())
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    twilio_error(
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
        let latency = sim.faults.latency_ms;
        let fault = match sim.faults.fail_next.as_mut() {
            Some(f)
                if f.after > 0
                    && f.path.as_deref().is_none_or(|p| path.ends_with(p))
                    && f.method
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(&method)) =>
            {
                f.after -= 1;
                None
            }
            Some(f)
                if f.remaining > 0
                    && f.path.as_deref().is_none_or(|p| path.ends_with(p))
                    && f.method
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(&method)) =>
            {
                f.remaining -= 1;
                Some((f.status, f.code))
            }
            _ => None,
        };
        if sim
            .faults
            .fail_next
            .as_ref()
            .is_some_and(|f| f.remaining == 0)
        {
            sim.faults.fail_next = None;
        }
        (fault, latency)
    };

    let (request_log, resp) = match body_bytes {
        Err(_) => (
            Value::Null,
            twilio_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                20001,
                "Request body too large",
            ),
        ),
        Ok(bytes) => {
            let request_log = body_for_log(&content_type, &bytes);
            let resp = if let Some((status, code)) = fault {
                let reason = status.canonical_reason().unwrap_or("Error");
                twilio_error(status, code, reason)
            } else if !authorized(&st, &parts.headers) {
                twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
            } else {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            };
            (request_log, resp)
        }
    };

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
    if let Ok(v) = crate::model::parse_json::<Value>(bytes) {
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

/// The path's account (or workspace) must be ours, as Twilio answers 404 for
/// any other account under these credentials.
fn check_owner(expected: &str, got: &str, uri: &Uri) -> Result<(), Response> {
    if expected == got {
        Ok(())
    } else {
        Err(not_found(uri.path()))
    }
}

fn path_or_404<T>(p: Result<Path<T>, PathRejection>, uri: &Uri) -> Result<T, Response> {
    p.map(|Path(v)| v).map_err(|_| not_found(uri.path()))
}

fn parse_form(bytes: &Bytes) -> Result<Vec<(String, String)>, Response> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map_err(|_| bad_param("Request body is not valid application/x-www-form-urlencoded"))
}

pub(crate) fn parse_query(q: Option<&str>) -> Result<Vec<(String, String)>, Response> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or(""))
        .map_err(|_| bad_param("Query string is not valid"))
}

fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn one_of<'a>(
    pairs: &'a [(String, String)],
    key: &str,
    allowed: &[&str],
    default: &'a str,
) -> Result<&'a str, Response> {
    match last(pairs, key) {
        None => Ok(default),
        Some(v) if allowed.contains(&v) => Ok(v),
        Some(v) => Err(bad_param(format!(
            "{key} must be one of {}; got '{v}'",
            allowed.join(", ")
        ))),
    }
}

/// Twilio list paging: `PageSize` 1..=1000 (default 50), `Page` from 0.
pub(crate) fn paging(pairs: &[(String, String)]) -> Result<(usize, usize), Response> {
    let size = match last(pairs, "PageSize") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(bad_param("PageSize must be an integer from 1 to 1000")),
        },
    };
    let page = match last(pairs, "Page") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad_param("Page must be a non-negative integer"))?,
    };
    Ok((page, size))
}

fn with_json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

// ---------------------------------------------------------------- IAM

async fn validate_token(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    body: Bytes,
) -> Response {
    match validate_token_inner(&st, path, &uri, &body) {
        Ok(r) | Err(r) => r,
    }
}

fn validate_token_inner(
    st: &SimState,
    path: Result<Path<String>, PathRejection>,
    uri: &Uri,
    body: &Bytes,
) -> Result<Response, Response> {
    let account = path_or_404(path, uri)?;
    check_owner(&st.config().account_sid, &account, uri)?;
    let parsed: Value = crate::model::parse_json(body)
        .map_err(|e| bad_param(format!("Request body is not valid JSON: {e}")))?;
    let Some(token) = parsed.get("token").and_then(Value::as_str) else {
        return Err(bad_param("Missing required parameter token"));
    };
    let now = now_ms();
    let sim = st.lock();
    let answer = match sim.world.tokens.get(token) {
        Some(t) => t.to_twilio(now),
        None => crate::model::invalid_token(20101, "Invalid Access Token"),
    };
    Ok(with_json(StatusCode::OK, answer))
}

// ---------------------------------------------------------------- API v2010

async fn create_recording(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    body: Bytes,
) -> Response {
    match create_recording_inner(&st, path, &uri, &body) {
        Ok(r) | Err(r) => r,
    }
}

fn create_recording_inner(
    st: &SimState,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: &Uri,
    body: &Bytes,
) -> Result<Response, Response> {
    let (account, call_sid) = path_or_404(path, uri)?;
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri)?;
    let form = parse_form(body)?;
    let channels = one_of(&form, "RecordingChannels", &["mono", "dual"], "mono")?;
    let track = one_of(
        &form,
        "RecordingTrack",
        &["inbound", "outbound", "both"],
        "both",
    )?;
    let trim = one_of(
        &form,
        "Trim",
        &["trim-silence", "do-not-trim"],
        "do-not-trim",
    )?;
    let cb_method = one_of(
        &form,
        "RecordingStatusCallbackMethod",
        &["GET", "POST"],
        "POST",
    )?;
    let status_callback = last(&form, "RecordingStatusCallback").map(str::to_string);
    if let Some(cb) = &status_callback {
        if !(cb.starts_with("http://") || cb.starts_with("https://")) {
            return Err(bad_param(format!(
                "RecordingStatusCallback is not a valid URL: '{cb}'"
            )));
        }
    }
    // Twilio takes the events either repeated or space-separated in one value.
    let mut events = Vec::new();
    for (_, v) in form
        .iter()
        .filter(|(k, _)| k == "RecordingStatusCallbackEvent")
    {
        for ev in v.split_whitespace() {
            if !["in-progress", "completed", "absent"].contains(&ev) {
                return Err(bad_param(format!(
                    "RecordingStatusCallbackEvent must be in-progress, completed or absent; got '{ev}'"
                )));
            }
            events.push(ev.to_string());
        }
    }

    let now = now_ms();
    let mut sim = st.lock();
    let Some(call) = sim.world.calls.get(&call_sid) else {
        return Err(not_found(uri.path()));
    };
    if call.status != "in-progress" {
        return Err(twilio_error(
            StatusCode::BAD_REQUEST,
            21220,
            "Call is not in-progress. Cannot create recording.",
        ));
    }
    let rec = Recording {
        sid: st.new_sid("RE"),
        call_sid,
        dual: channels == "dual",
        status: "in-progress".into(),
        track: track.to_string(),
        trim: trim.to_string(),
        status_callback,
        status_callback_method: cb_method.to_string(),
        status_callback_event: events,
        pause_behavior: None,
        created_ms: now,
        updated_ms: now,
        ended_ms: None,
    };
    let answer = rec.to_twilio(cfg);
    sim.world.recordings.push(rec);
    Ok(with_json(StatusCode::CREATED, answer))
}

async fn list_recordings(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    match list_recordings_inner(&st, path, &uri, query.as_deref()) {
        Ok(r) | Err(r) => r,
    }
}

fn list_recordings_inner(
    st: &SimState,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: &Uri,
    query: Option<&str>,
) -> Result<Response, Response> {
    let (account, call_sid) = path_or_404(path, uri)?;
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri)?;
    let (page, size) = paging(&parse_query(query)?)?;
    let sim = st.lock();
    // Newest first, as Twilio lists recordings. An unknown call simply has
    // none (a list filters; it does not look the call up).
    let all: Vec<Value> = sim
        .world
        .recordings
        .iter()
        .rev()
        .filter(|r| r.call_sid == call_sid)
        .map(|r| r.to_twilio(cfg))
        .collect();
    Ok(with_json(
        StatusCode::OK,
        recordings_page(&all, uri.path(), page, size),
    ))
}

/// One page of a recordings list, with Twilio's paging fields; `path` is the
/// list's own path (call or conference recordings).
pub(crate) fn recordings_page(all: &[Value], path: &str, page: usize, size: usize) -> Value {
    let page_uri = |p: usize| format!("{path}?PageSize={size}&Page={p}");
    let start = page.saturating_mul(size);
    let items: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
    let has_next = start.saturating_add(size) < all.len();
    json!({
        "recordings": items,
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + items.len().saturating_sub(1),
        "uri": page_uri(page),
        "first_page_uri": page_uri(0),
        "next_page_uri": if has_next { Some(page_uri(page + 1)) } else { None },
        "previous_page_uri": if page > 0 { Some(page_uri(page - 1)) } else { None },
    })
}

/// `GET https://flex-api.twilio.com/v1/Configuration`: one per account, so
/// the path names no SID.
async fn fetch_flex_configuration(State(st): State<SimState>) -> Response {
    let cfg = st.config();
    let sim = st.lock();
    with_json(StatusCode::OK, sim.world.flex.to_twilio(cfg))
}

async fn fetch_call(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (account, call) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.account_sid, &account, &uri)?;
        let sid = call
            .strip_suffix(".json")
            .ok_or_else(|| not_found(uri.path()))?;
        let sim = st.lock();
        let call = sim
            .world
            .calls
            .get(sid)
            .ok_or_else(|| not_found(uri.path()))?;
        Ok(with_json(StatusCode::OK, call.to_twilio(cfg)))
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}

async fn fetch_participant(
    State(st): State<SimState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    uri: Uri,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (account, conference, call) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.account_sid, &account, &uri)?;
        let call_sid = call
            .strip_suffix(".json")
            .ok_or_else(|| not_found(uri.path()))?;
        let sim = st.lock();
        let conf = sim
            .world
            .conferences
            .get(&conference)
            .ok_or_else(|| not_found(uri.path()))?;
        // Only a participant still in the conference is fetchable; Twilio
        // forgets those who left.
        let present = conf
            .participants
            .iter()
            .any(|p| p.call_sid.as_deref() == Some(call_sid) && p.status == "joined");
        if !present {
            return Err(not_found(uri.path()));
        }
        Ok(with_json(
            StatusCode::OK,
            participant_to_twilio(cfg, &conf.sid, call_sid, conf.updated_ms),
        ))
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}

// ---------------------------------------------------------------- TaskRouter

fn etag(revision: u64) -> HeaderValue {
    // Digits and quotes only, always a valid header value.
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn task_answer(body: Value, revision: u64) -> Response {
    let mut resp = with_json(StatusCode::OK, body);
    resp.headers_mut().insert(header::ETAG, etag(revision));
    resp
}

async fn fetch_task(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (workspace, task_sid) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.workspace_sid, &workspace, &uri)?;
        let now = now_ms();
        let mut sim = st.lock();
        let sim = &mut *sim;
        let task = sim
            .world
            .tasks
            .get_mut(&task_sid)
            .ok_or_else(|| not_found(uri.path()))?;
        let resp = task_answer(task.to_twilio(cfg, now), task.revision);
        // The answer is fixed above; someone else now writes, so a write
        // carrying this answer's ETag is stale.
        land_concurrent_write(&mut sim.faults, task, &task_sid, now);
        Ok(resp)
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}

/// The first concurrent write armed on this task, if any, lands (and is
/// disarmed): a new revision, so a write carrying an older ETag is stale.
fn land_concurrent_write(faults: &mut Faults, task: &mut Task, task_sid: &str, now: i64) {
    let Some(i) = faults
        .concurrent_writes
        .iter()
        .position(|w| w.task_sid == task_sid)
    else {
        return;
    };
    let w = faults.concurrent_writes.remove(i);
    deep_merge(&mut task.attributes, &w.attributes);
    task.revision += 1;
    task.updated_ms = now;
}

/// `"3"`, `3` and `W/"3"` all name revision 3.
fn normalize_etag(v: &str) -> &str {
    let v = v.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.trim_matches('"')
}

async fn update_task(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (workspace, task_sid) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.workspace_sid, &workspace, &uri)?;
        let form = parse_form(&body)?;
        let attributes = match last(&form, "Attributes") {
            None => None,
            Some(text) if text.chars().count() > TASK_ATTRIBUTES_MAX_CHARS => {
                return Err(attributes_too_long(text.chars().count()))
            }
            Some(text) => match crate::model::parse_json::<Value>(text.as_bytes()) {
                Ok(Value::Object(m)) => Some(m),
                Ok(_) => return Err(bad_param("Attributes must be a JSON object")),
                Err(e) => return Err(bad_param(format!("Attributes is not valid JSON: {e}"))),
            },
        };
        let status = match last(&form, "AssignmentStatus") {
            None => None,
            Some(s) if TASK_STATUSES.contains(&s) => Some(s.to_string()),
            Some(s) => return Err(bad_param(format!("AssignmentStatus '{s}' is not valid"))),
        };
        let priority = match last(&form, "Priority") {
            None => None,
            Some(p) => Some(
                p.parse::<i64>()
                    .map_err(|_| bad_param("Priority must be an integer"))?,
            ),
        };
        let reason = last(&form, "Reason").map(str::to_string);
        let if_match = match headers.get(header::IF_MATCH) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| bad_param("If-Match header is not valid text"))?
                    .to_string(),
            ),
        };

        let now = now_ms();
        let mut sim = st.lock();
        let sim = &mut *sim;
        let task = sim
            .world
            .tasks
            .get_mut(&task_sid)
            .ok_or_else(|| not_found(uri.path()))?;
        // A concurrent write armed after the writer's last read lands now,
        // still between that read and this write: the write is stale.
        land_concurrent_write(&mut sim.faults, task, &task_sid, now);
        if let Some(expected) = if_match.as_deref() {
            let expected = normalize_etag(expected);
            if expected != "*" && expected != task.revision.to_string() {
                return Err(twilio_error(
                    StatusCode::PRECONDITION_FAILED,
                    20412,
                    format!(
                        "The If-Match revision {expected} does not match the task's current revision {}",
                        task.revision
                    ),
                ));
            }
        }
        if let Some(a) = attributes {
            task.attributes = a;
        }
        if let Some(s) = status {
            task.assignment_status = s;
        }
        if let Some(p) = priority {
            task.priority = p;
        }
        if reason.is_some() {
            task.reason = reason;
        }
        task.revision += 1;
        task.updated_ms = now;
        Ok(task_answer(task.to_twilio(cfg, now), task.revision))
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}

async fn list_reservations(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (workspace, task_sid) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.workspace_sid, &workspace, &uri)?;
        let pairs = parse_query(query.as_deref())?;
        let (page, size) = paging(&pairs)?;
        let worker = last(&pairs, "WorkerSid");
        if let Some(w) = worker {
            if !is_sid(w, "WK") {
                return Err(bad_param(format!(
                    "WorkerSid '{w}' is not a valid Worker SID"
                )));
            }
        }
        let status = last(&pairs, "ReservationStatus");
        if let Some(s) = status {
            if !RESERVATION_STATUSES.contains(&s) {
                return Err(bad_param(format!("ReservationStatus '{s}' is not valid")));
            }
        }
        let sim = st.lock();
        let known = sim.world.tasks.contains_key(&task_sid)
            || sim
                .world
                .reservations
                .iter()
                .any(|r| r.task_sid == task_sid);
        if !known {
            return Err(not_found(uri.path()));
        }
        let matching: Vec<&Reservation> = sim
            .world
            .reservations
            .iter()
            .filter(|r| r.task_sid == task_sid)
            .filter(|r| worker.is_none_or(|w| r.worker_sid == w))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .collect();
        let start = page.saturating_mul(size);
        let items: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(size)
            .map(|r| r.to_twilio(cfg))
            .collect();
        let has_next = start.saturating_add(size) < matching.len();
        let base = format!("{TASKROUTER_HOST}{}", uri.path());
        // Filters stay in the paging links, as Twilio keeps them.
        let mut filters = String::new();
        if let Some(w) = worker {
            filters.push_str(&format!("WorkerSid={w}&"));
        }
        if let Some(s) = status {
            filters.push_str(&format!("ReservationStatus={s}&"));
        }
        let page_url = |p: usize| format!("{base}?{filters}PageSize={size}&Page={p}");
        let body = json!({
            "reservations": items,
            "meta": {
                "first_page_url": page_url(0),
                "key": "reservations",
                "next_page_url": if has_next { Some(page_url(page + 1)) } else { None },
                "page": page,
                "page_size": size,
                "previous_page_url": if page > 0 { Some(page_url(page - 1)) } else { None },
                "url": page_url(page),
            }
        });
        Ok(with_json(StatusCode::OK, body))
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}

async fn fetch_reservation(
    State(st): State<SimState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    uri: Uri,
) -> Response {
    let inner = || -> Result<Response, Response> {
        let (workspace, task_sid, reservation_sid) = path_or_404(path, &uri)?;
        let cfg = st.config();
        check_owner(&cfg.workspace_sid, &workspace, &uri)?;
        let sim = st.lock();
        // A reservation is found only under its own task.
        let r = sim
            .world
            .reservations
            .iter()
            .find(|r| r.sid == reservation_sid && r.task_sid == task_sid)
            .ok_or_else(|| not_found(uri.path()))?;
        Ok(with_json(StatusCode::OK, r.to_twilio(cfg)))
    };
    match inner() {
        Ok(r) | Err(r) => r,
    }
}
