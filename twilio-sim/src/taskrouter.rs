//! TaskRouter's tasks (fetch, update with `If-Match`) and reservations
//! (list with filters, fetch). A task's revision is its ETag.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::{bad_param, not_found, TwilioError};
use crate::model::{
    deep_merge, Faults, Reservation, Task, RESERVATION_STATUSES, TASK_ATTRIBUTES_MAX_CHARS,
    TASK_STATUSES,
};
use crate::request::{
    check_owner, is_sid, last, paging, parse_form, parse_json, parse_query, TwilioPath,
};
use crate::time::now_ms;
use crate::wire::TASKROUTER_HOST;
use crate::SimState;

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
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
        .route(
            "/v1/Workspaces/{workspace}/Workers/{worker}",
            get(fetch_worker),
        )
}

async fn fetch_worker(
    State(st): State<SimState>,
    TwilioPath((workspace, worker_sid)): TwilioPath<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.workspace_sid, &workspace, uri.path())?;
    let sim = st.lock();
    let w = sim
        .world
        .workers
        .get(&worker_sid)
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(w.to_twilio(cfg)))
}

/// The refusal of an over-long `Attributes`. The code is 20001, Twilio's
/// generic "invalid parameter" code: no Twilio page naming a code specific to
/// this limit could be found with the search tool, so the exact code Twilio
/// sends is NOT verified; the status (400) and body shape are Twilio's.
fn attributes_too_long(chars: usize) -> TwilioError {
    bad_param(format!(
        "Attributes is {chars} characters long; task attributes may be at most {TASK_ATTRIBUTES_MAX_CHARS} characters"
    ))
}

fn etag(revision: u64) -> HeaderValue {
    // Digits and quotes only, always a valid header value.
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn task_answer(body: Value, revision: u64) -> Response {
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(header::ETAG, etag(revision));
    resp
}

async fn fetch_task(
    State(st): State<SimState>,
    TwilioPath((workspace, task_sid)): TwilioPath<(String, String)>,
    uri: Uri,
) -> Result<Response, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.workspace_sid, &workspace, uri.path())?;
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
    land_concurrent_write(&mut sim.faults, task, now);
    Ok(resp)
}

/// The first concurrent write armed on this task, if any, lands (and is
/// disarmed): a new revision, so a write carrying an older ETag is stale.
fn land_concurrent_write(faults: &mut Faults, task: &mut Task, now: i64) {
    let Some(attributes) = crate::faults::take_concurrent_write(faults, &task.sid) else {
        return;
    };
    deep_merge(&mut task.attributes, &attributes);
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
    TwilioPath((workspace, task_sid)): TwilioPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.workspace_sid, &workspace, uri.path())?;
    let form = parse_form(&body)?;
    let attributes = match last(&form, "Attributes") {
        None => None,
        Some(text) if text.chars().count() > TASK_ATTRIBUTES_MAX_CHARS => {
            return Err(attributes_too_long(text.chars().count()))
        }
        Some(text) => match parse_json::<Value>(text.as_bytes()) {
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
    land_concurrent_write(&mut sim.faults, task, now);
    if let Some(expected) = if_match.as_deref() {
        let expected = normalize_etag(expected);
        if expected != "*" && expected != task.revision.to_string() {
            return Err(TwilioError::new(
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
}

async fn list_reservations(
    State(st): State<SimState>,
    TwilioPath((workspace, task_sid)): TwilioPath<(String, String)>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.workspace_sid, &workspace, uri.path())?;
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
    Ok(Json(json!({
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
    })))
}

async fn fetch_reservation(
    State(st): State<SimState>,
    TwilioPath((workspace, task_sid, reservation_sid)): TwilioPath<(String, String, String)>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.workspace_sid, &workspace, uri.path())?;
    let sim = st.lock();
    // A reservation is found only under its own task.
    let r = sim
        .world
        .reservations
        .iter()
        .find(|r| r.sid == reservation_sid && r.task_sid == task_sid)
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(r.to_twilio(cfg)))
}
