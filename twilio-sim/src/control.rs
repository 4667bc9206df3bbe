//! `/_sim/` control API: JSON in, JSON out, CORS open (the demo page calls it
//! from another origin), never faulted and never logged as Twilio traffic.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_http::cors::CorsLayer;

use crate::error::{bad, ControlError};
use crate::model::{
    Call, Conference, Participant, Reservation, Sim, Task, Token, Worker, CALL_STATUSES,
    RESERVATION_STATUSES, TASK_STATUSES,
};
use crate::request::{control_body, control_sid};
use crate::time::now_ms;
use crate::SimState;

pub(crate) fn router(state: SimState) -> Router {
    Router::new()
        .route("/reset", post(reset))
        .route("/state", get(state_snapshot))
        .route("/log", get(log))
        .route("/tokens", post(add_token))
        .route("/calls", post(upsert_call))
        .route("/calls/{call}/end", post(end_call))
        .route("/tasks/{task}", put(put_task))
        .route("/workers/{worker}", put(put_worker))
        .route("/reservations", post(upsert_reservation))
        .route("/reservations/{reservation}", delete(delete_reservation))
        .route(
            "/reservations/{reservation}/status",
            post(set_reservation_status),
        )
        .route("/conferences/{conference}", put(put_conference))
        .route("/faults", post(crate::faults::add_faults))
        .route("/tasks/{task}/accept", put(put_accept_options))
        .route("/configuration", put(put_flex_configuration))
        .fallback(|| async { ControlError::new(StatusCode::NOT_FOUND, "no such control endpoint") })
        .layer(CorsLayer::very_permissive())
        .with_state(state)
}

fn path_sid(p: Result<Path<String>, PathRejection>, prefix: &str) -> Result<String, ControlError> {
    let Path(v) = p.map_err(|e| bad(format!("bad path: {e}")))?;
    control_sid(&v, prefix, "path SID")?;
    Ok(v)
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

async fn reset(State(st): State<SimState>) -> Json<Value> {
    *st.lock() = Sim::default();
    ok()
}

async fn state_snapshot(State(st): State<SimState>) -> Json<Value> {
    let cfg = st.config();
    let sim = st.lock();
    let w = &sim.world;
    let calls: Map<String, Value> = w
        .calls
        .iter()
        .map(|(k, c)| (k.clone(), c.to_control()))
        .collect();
    let tasks: Map<String, Value> = w
        .tasks
        .iter()
        .map(|(k, t)| (k.clone(), t.to_control()))
        .collect();
    let conferences: Map<String, Value> = w
        .conferences
        .iter()
        .map(|(k, c)| {
            (
                k.clone(),
                json!({"sid": c.sid, "taskSid": c.task_sid, "participants": c.participants}),
            )
        })
        .collect();
    let f = &sim.faults;
    Json(json!({
        "accountSid": cfg.account_sid,
        "workspaceSid": cfg.workspace_sid,
        "calls": calls,
        "recordings": w.recordings.iter().map(|r| r.to_control(cfg)).collect::<Vec<_>>(),
        "tasks": tasks,
        "reservations": w.reservations.iter().map(Reservation::to_control).collect::<Vec<_>>(),
        "conferences": conferences,
        "workers": w.workers.values().map(Worker::to_control).collect::<Vec<_>>(),
        "conferenceRecordings": w.conference_recordings.iter().map(|r| r.to_control(cfg)).collect::<Vec<_>>(),
        "flexCallRecording": w.flex.call_recording_enabled,
        "faults": {
            "failNext": f.fail_next.as_ref().map(|n| json!({"status": n.status.as_u16(), "code": n.code, "count": n.remaining})),
            "latencyMs": f.latency_ms,
            "concurrentWrites": f.concurrent_writes.iter().map(|c| json!({"taskSid": c.task_sid, "attributes": c.attributes})).collect::<Vec<_>>(),
        },
    }))
}

async fn log(State(st): State<SimState>) -> Json<Value> {
    let sim = st.lock();
    Json(json!(sim.log))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    token: String,
    worker_sid: Option<String>,
    identity: Option<String>,
    #[serde(default = "yes")]
    valid: bool,
    #[serde(default = "hour")]
    expires_in_sec: i64,
    #[serde(default = "agent")]
    roles: Vec<String>,
}
fn yes() -> bool {
    true
}
fn hour() -> i64 {
    3600
}
fn agent() -> Vec<String> {
    vec!["agent".into()]
}

async fn add_token(State(st): State<SimState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let b: TokenBody = control_body(&body)?;
    if b.token.is_empty() {
        return Err(bad("token must not be empty"));
    }
    if let Some(w) = &b.worker_sid {
        control_sid(w, "WK", "workerSid")?;
    }
    let expires_at_ms = now_ms().saturating_add(b.expires_in_sec.saturating_mul(1000));
    let token = Token {
        identity: b.identity.unwrap_or_else(|| "agent".into()),
        worker_sid: b.worker_sid,
        valid: b.valid,
        expires_at_ms,
        roles: b.roles,
    };
    st.lock().world.tokens.insert(b.token, token);
    Ok(ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallBody {
    call_sid: String,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn upsert_call(State(st): State<SimState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let b: CallBody = control_body(&body)?;
    control_sid(&b.call_sid, "CA", "callSid")?;
    if let Some(s) = &b.status {
        if !CALL_STATUSES.contains(&s.as_str()) {
            return Err(bad(format!(
                "status must be one of {}; got '{s}'",
                CALL_STATUSES.join(", ")
            )));
        }
    }
    let now = now_ms();
    let mut sim = st.lock();
    let world = &mut sim.world;
    let call = world
        .calls
        .entry(b.call_sid.clone())
        .or_insert_with(|| Call {
            sid: b.call_sid.clone(),
            status: "in-progress".into(),
            from: "+15005550006".into(),
            to: "+15005550001".into(),
            created_ms: now,
            updated_ms: now,
            ended_ms: None,
        });
    if let Some(f) = b.from {
        call.from = f;
    }
    if let Some(t) = b.to {
        call.to = t;
    }
    let status = b.status.unwrap_or_else(|| call.status.clone());
    // Through the world so that ending a call here also ends its recordings.
    world.set_call_status(&b.call_sid, &status, now);
    let answer = world.calls.get(&b.call_sid).map(Call::to_control);
    Ok(Json(json!(answer)))
}

async fn end_call(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ControlError> {
    let call_sid = path_sid(path, "CA")?;
    let mut sim = st.lock();
    if !sim.world.calls.contains_key(&call_sid) {
        return Err(ControlError::new(
            StatusCode::NOT_FOUND,
            format!("no call {call_sid}"),
        ));
    }
    sim.world.set_call_status(&call_sid, "completed", now_ms());
    Ok(Json(json!(sim
        .world
        .calls
        .get(&call_sid)
        .map(Call::to_control))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkerBody {
    #[serde(default)]
    attributes: Option<Value>,
}

/// A worker with these TaskRouter attributes (the scenario's
/// `workerAttributes`), as `GET .../Workers/{WK}` then shows it.
async fn put_worker(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let worker_sid = path_sid(path, "WK")?;
    let b: WorkerBody = control_body(&body)?;
    let attributes = match b.attributes {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("attributes must be a JSON object")),
    };
    let now = now_ms();
    let mut sim = st.lock();
    let created_ms = sim
        .world
        .workers
        .get(&worker_sid)
        .map_or(now, |w| w.created_ms);
    let worker = Worker {
        sid: worker_sid.clone(),
        attributes,
        created_ms,
        updated_ms: now,
    };
    let answer = worker.to_control();
    sim.world.workers.insert(worker_sid, worker);
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskBody {
    #[serde(default)]
    attributes: Option<Value>,
    queue_name: Option<String>,
    queue_sid: Option<String>,
    channel: Option<String>,
    assignment_status: Option<String>,
}

async fn put_task(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let task_sid = path_sid(path, "WT")?;
    let b: TaskBody = control_body(&body)?;
    let attributes = match b.attributes {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("attributes must be a JSON object")),
    };
    if let Some(q) = &b.queue_sid {
        control_sid(q, "WQ", "queueSid")?;
    }
    let assignment_status = b.assignment_status.unwrap_or_else(|| "assigned".into());
    if !TASK_STATUSES.contains(&assignment_status.as_str()) {
        return Err(bad(format!(
            "assignmentStatus '{assignment_status}' is not valid"
        )));
    }
    let now = now_ms();
    let mut sim = st.lock();
    // Replacing keeps counting revisions, so an ETag from before the
    // replacement is stale afterwards.
    let revision = sim.world.tasks.get(&task_sid).map_or(0, |t| t.revision + 1);
    let created_ms = sim.world.tasks.get(&task_sid).map_or(now, |t| t.created_ms);
    let task = Task {
        sid: task_sid.clone(),
        attributes,
        revision,
        assignment_status,
        priority: 0,
        reason: None,
        queue_name: b.queue_name,
        queue_sid: b.queue_sid,
        channel: b.channel.unwrap_or_else(|| "voice".into()),
        created_ms,
        updated_ms: now,
    };
    let answer = task.to_control();
    sim.world.tasks.insert(task_sid, task);
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationBody {
    task_sid: String,
    reservation_sid: String,
    worker_sid: String,
    status: Option<String>,
}

async fn upsert_reservation(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let b: ReservationBody = control_body(&body)?;
    control_sid(&b.task_sid, "WT", "taskSid")?;
    control_sid(&b.reservation_sid, "WR", "reservationSid")?;
    control_sid(&b.worker_sid, "WK", "workerSid")?;
    let status = b.status.unwrap_or_else(|| "accepted".into());
    if !RESERVATION_STATUSES.contains(&status.as_str()) {
        return Err(bad(format!(
            "status must be one of {}; got '{status}'",
            RESERVATION_STATUSES.join(", ")
        )));
    }
    let now = now_ms();
    let mut sim = st.lock();
    let list = &mut sim.world.reservations;
    let res = match list.iter_mut().find(|r| r.sid == b.reservation_sid) {
        Some(r) => {
            r.task_sid = b.task_sid;
            r.worker_sid = b.worker_sid;
            r.status = status;
            r.updated_ms = now;
            r.to_control()
        }
        None => {
            let r = Reservation {
                sid: b.reservation_sid,
                task_sid: b.task_sid,
                worker_sid: b.worker_sid,
                status,
                created_ms: now,
                updated_ms: now,
            };
            let v = r.to_control();
            list.push(r);
            v
        }
    };
    Ok(Json(res))
}

async fn delete_reservation(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ControlError> {
    let sid = path_sid(path, "WR")?;
    let mut sim = st.lock();
    let before = sim.world.reservations.len();
    sim.world.reservations.retain(|r| r.sid != sid);
    // Idempotent: a cancel step may race a delete that already happened.
    let removed = sim.world.reservations.len() != before;
    Ok(Json(json!({"ok": true, "removed": removed})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StatusBody {
    status: String,
}

/// TaskRouter's reservation lifecycle after acceptance, as the scenario
/// format plays it (`docs/flex-facts.md`, "TaskRouter facts"): the call
/// ends and the reservation goes `accepted` → `wrapping`; CompleteTask takes
/// it (from `accepted` or `wrapping`) to `completed`. The task's assignment
/// status follows, and like any task update it is a new revision (ETag).
/// Repeating the current status changes nothing.
fn next_task_status(from: &str, to: &str) -> Result<Option<&'static str>, String> {
    match (from, to) {
        (f, t) if f == t => Ok(None),
        ("accepted", "wrapping") => Ok(Some("wrapping")),
        ("accepted" | "wrapping", "completed") => Ok(Some("completed")),
        _ => Err(format!("a reservation cannot go from {from} to {to}")),
    }
}

async fn set_reservation_status(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let reservation_sid = path_sid(path, "WR")?;
    let b: StatusBody = control_body(&body)?;
    let now = now_ms();
    let mut sim = st.lock();
    let world = &mut sim.world;
    let Some(r) = world
        .reservations
        .iter_mut()
        .find(|r| r.sid == reservation_sid)
    else {
        return Err(ControlError::new(
            StatusCode::NOT_FOUND,
            format!("no reservation {reservation_sid}"),
        ));
    };
    let task_status = next_task_status(&r.status, &b.status)
        .map_err(|e| ControlError::new(StatusCode::CONFLICT, e))?;
    if let Some(task_status) = task_status {
        r.status = b.status;
        r.updated_ms = now;
        if let Some(t) = world.tasks.get_mut(&r.task_sid) {
            t.assignment_status = task_status.to_string();
            t.revision += 1;
            t.updated_ms = now;
        }
    }
    Ok(Json(r.to_control()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConferenceBody {
    task_sid: Option<String>,
    #[serde(default)]
    participants: Vec<Participant>,
}

async fn put_conference(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let conference_sid = path_sid(path, "CF")?;
    let b: ConferenceBody = control_body(&body)?;
    if let Some(t) = &b.task_sid {
        control_sid(t, "WT", "taskSid")?;
    }
    for (i, p) in b.participants.iter().enumerate() {
        if let Some(c) = &p.call_sid {
            control_sid(c, "CA", &format!("participants[{i}].callSid"))?;
        }
        if let Some(w) = &p.worker_sid {
            control_sid(w, "WK", &format!("participants[{i}].workerSid"))?;
        }
        if let Some(r) = &p.reservation_sid {
            control_sid(r, "WR", &format!("participants[{i}].reservationSid"))?;
        }
        if let Some(t) = &p.twilio_status {
            // Twilio's Participant resource's status values.
            const STATUSES: [&str; 6] = [
                "queued",
                "connecting",
                "ringing",
                "connected",
                "complete",
                "failed",
            ];
            if !STATUSES.contains(&t.as_str()) {
                return Err(bad(format!(
                    "participants[{i}].twilioStatus must be one of {}; got '{t}'",
                    STATUSES.join(", ")
                )));
            }
        }
    }
    let conf = Conference {
        sid: conference_sid.clone(),
        task_sid: b.task_sid,
        participants: b.participants,
        updated_ms: now_ms(),
    };
    let answer =
        json!({"sid": conf.sid, "taskSid": conf.task_sid, "participants": conf.participants});
    let now = conf.updated_ms;
    let mut sim = st.lock();
    sim.world.conferences.insert(conference_sid.clone(), conf);
    sim.world
        .maybe_start_conference_recording(&conference_sid, || st.new_sid("RE"), now);
    // A participant that left may have been the last live call.
    sim.world.end_finished_conference_recordings(now);
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AcceptBody {
    /// `null`: the accept left `conferenceOptions.conferenceRecord` unset.
    conference_record: Option<bool>,
}

/// What a task's accept ended with, so that Flex's own conference recording
/// starts as Flex would start it.
async fn put_accept_options(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let task_sid = path_sid(path, "WT")?;
    let b: AcceptBody = control_body(&body)?;
    let now = now_ms();
    let mut sim = st.lock();
    sim.world
        .conference_record
        .insert(task_sid.clone(), b.conference_record);
    let conferences: Vec<String> = sim
        .world
        .conferences
        .values()
        .filter(|c| c.task_sid.as_deref() == Some(task_sid.as_str()))
        .map(|c| c.sid.clone())
        .collect();
    for cf in conferences {
        sim.world
            .maybe_start_conference_recording(&cf, || st.new_sid("RE"), now);
    }
    Ok(ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FlexConfigurationBody {
    #[serde(default)]
    ui_attributes: Option<Map<String, Value>>,
    #[serde(default)]
    call_recording_enabled: Option<bool>,
}

/// Sets the Flex configuration the backend reads (`GET /v1/Configuration`):
/// `uiAttributes` replaces `ui_attributes` whole, as a Flex administrator's
/// save does; either field may be left out to keep it.
async fn put_flex_configuration(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let b: FlexConfigurationBody = control_body(&body)?;
    let mut sim = st.lock();
    let flex = &mut sim.world.flex;
    if let Some(ui) = b.ui_attributes {
        flex.ui_attributes = ui;
    }
    if let Some(on) = b.call_recording_enabled {
        flex.call_recording_enabled = on;
    }
    flex.updated_ms = now_ms();
    Ok(ok())
}
