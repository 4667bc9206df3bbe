//! The control API's reservations: the scenario's accept, cancel, wrap-up
//! and completion at TaskRouter, each with the TaskRouter events it makes.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{bad, ControlError};
use crate::model::{Reservation, RESERVATION_STATUSES};
use crate::request::{control_body, control_sid, path_sid};
use crate::time::now_ms;
use crate::SimState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationBody {
    task_sid: String,
    reservation_sid: String,
    worker_sid: String,
    status: Option<String>,
}

pub(crate) async fn upsert(
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
    let world = &mut sim.world;
    let list = &mut world.reservations;
    let (res, created, changed) = match list.iter_mut().find(|r| r.sid == b.reservation_sid) {
        Some(r) => {
            let changed = r.status != status;
            r.task_sid = b.task_sid.clone();
            r.worker_sid = b.worker_sid;
            r.status = status.clone();
            r.updated_ms = now;
            (r.to_control(), false, changed)
        }
        None => {
            let r = Reservation {
                sid: b.reservation_sid.clone(),
                task_sid: b.task_sid.clone(),
                worker_sid: b.worker_sid,
                status: status.clone(),
                created_ms: now,
                updated_ms: now,
            };
            let v = r.to_control();
            list.push(r);
            (v, true, true)
        }
    };
    // TaskRouter creates a reservation `pending` and then it changes status.
    if created {
        world.taskrouter_event(
            "reservation.created",
            &b.task_sid,
            Some(&b.reservation_sid),
            now,
        );
    }
    if let Some(event) = reservation_event(&status).filter(|_| changed) {
        world.taskrouter_event(event, &b.task_sid, Some(&b.reservation_sid), now);
    }
    Ok(Json(res))
}

pub(crate) async fn delete(
    State(st): State<SimState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ControlError> {
    let sid = path_sid(path, "WR")?;
    let now = now_ms();
    let mut sim = st.lock();
    let world = &mut sim.world;
    // The task is canceled (Flex's taskCanceled), and TaskRouter says so
    // for the task and its reservation.
    let task_sid = world
        .reservations
        .iter()
        .find(|r| r.sid == sid)
        .map(|r| r.task_sid.clone());
    if let Some(task_sid) = &task_sid {
        if let Some(t) = world.tasks.get_mut(task_sid) {
            t.assignment_status = "canceled".into();
            t.revision += 1;
            t.updated_ms = now;
        }
        world.taskrouter_event("reservation.canceled", task_sid, Some(&sid), now);
        world.taskrouter_event("task.canceled", task_sid, None, now);
    }
    world.reservations.retain(|r| r.sid != sid);
    // Idempotent: a cancel step may race a delete that already happened.
    let removed = task_sid.is_some();
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
/// The TaskRouter event of a reservation reaching `status`.
fn reservation_event(status: &str) -> Option<&'static str> {
    Some(match status {
        "accepted" => "reservation.accepted",
        "rejected" => "reservation.rejected",
        "timeout" => "reservation.timeout",
        "canceled" => "reservation.canceled",
        "rescinded" => "reservation.rescinded",
        "wrapping" => "reservation.wrapup",
        "completed" => "reservation.completed",
        _ => return None,
    })
}

fn next_task_status(from: &str, to: &str) -> Result<Option<&'static str>, String> {
    match (from, to) {
        (f, t) if f == t => Ok(None),
        ("accepted", "wrapping") => Ok(Some("wrapping")),
        ("accepted" | "wrapping", "completed") => Ok(Some("completed")),
        _ => Err(format!("a reservation cannot go from {from} to {to}")),
    }
}

pub(crate) async fn set_status(
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
    let Some(task_status) = task_status else {
        return Ok(Json(r.to_control()));
    };
    r.status = b.status;
    r.updated_ms = now;
    let answer = r.to_control();
    let reservation_event = reservation_event(&r.status);
    let (task_sid, wr) = (r.task_sid.clone(), r.sid.clone());
    if let Some(t) = world.tasks.get_mut(&task_sid) {
        t.assignment_status = task_status.to_string();
        t.revision += 1;
        t.updated_ms = now;
    }
    if let Some(event) = reservation_event {
        world.taskrouter_event(event, &task_sid, Some(&wr), now);
    }
    let task_event = if task_status == "wrapping" {
        "task.wrapup"
    } else {
        "task.completed"
    };
    world.taskrouter_event(task_event, &task_sid, Some(&wr), now);
    Ok(Json(answer))
}
