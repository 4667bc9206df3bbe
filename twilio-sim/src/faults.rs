//! Fault injection: what `/_sim/faults` arms (the scenario format's
//! `failNext`, `latencyMs`, `concurrentWrite` and `failRecording`) and which
//! REST request each armed fault hits.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{bad, ControlError};
use crate::model::{ConcurrentWrite, FailNext, Faults};
use crate::request::{control_body, control_sid};
use crate::SimState;

// Scene-setting bodies tolerate extra keys (the runner may pass a scenario's
// objects through); a fault body is the scenario format verbatim, so an
// unknown key there is a typo that must fail loudly.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultBody {
    fail_next: Option<FailNextBody>,
    latency_ms: Option<u64>,
    concurrent_write: Option<ConcurrentWriteBody>,
    fail_recording: Option<FailRecordingBody>,
}

/// The next recording created on `callSid` ends soon after it starts with
/// `status` (`absent` or `failed`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailRecordingBody {
    call_sid: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNextBody {
    status: u16,
    code: i64,
    #[serde(default = "one")]
    count: u64,
    /// Not in the scenario format: tests aim a fault at requests whose path
    /// ends with this text, and with this method.
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    after: u64,
}
fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConcurrentWriteBody {
    task_sid: String,
    attributes: Value,
}

/// Upper bound on injected latency: long enough for any test, short enough
/// that a typo cannot hang a run.
const MAX_LATENCY_MS: u64 = 120_000;

/// `POST /_sim/faults`.
pub(crate) async fn add_faults(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let b: FaultBody = control_body(&body)?;
    if b.fail_next.is_none()
        && b.latency_ms.is_none()
        && b.concurrent_write.is_none()
        && b.fail_recording.is_none()
    {
        return Err(bad(
            "expected one of failNext, latencyMs, concurrentWrite, failRecording",
        ));
    }
    // Validate everything before changing anything.
    let fail_next = match b.fail_next {
        None => None,
        Some(f) => {
            let status = StatusCode::from_u16(f.status)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .ok_or_else(|| bad("failNext.status must be an HTTP error status (400-599)"))?;
            Some(FailNext {
                status,
                code: f.code,
                remaining: f.count,
                path: f.path.filter(|p| !p.is_empty()),
                method: f.method.filter(|m| !m.is_empty()),
                after: f.after,
            })
        }
    };
    if let Some(ms) = b.latency_ms {
        if ms > MAX_LATENCY_MS {
            return Err(bad(format!("latencyMs must be at most {MAX_LATENCY_MS}")));
        }
    }
    let write = match b.concurrent_write {
        None => None,
        Some(c) => {
            control_sid(&c.task_sid, "WT", "concurrentWrite.taskSid")?;
            let Value::Object(attributes) = c.attributes else {
                return Err(bad("concurrentWrite.attributes must be a JSON object"));
            };
            Some(ConcurrentWrite {
                task_sid: c.task_sid,
                attributes,
            })
        }
    };
    if let Some(f) = &b.fail_recording {
        control_sid(&f.call_sid, "CA", "failRecording.callSid")?;
        if !matches!(f.status.as_str(), "absent" | "failed") {
            return Err(bad(format!(
                "failRecording.status must be absent or failed; got '{}'",
                f.status
            )));
        }
    }
    let mut sim = st.lock();
    if let Some(f) = b.fail_recording {
        sim.world.failing_recordings.insert(f.call_sid, f.status);
    }
    if let Some(f) = fail_next {
        sim.faults.fail_next = (f.remaining > 0).then_some(f);
    }
    if let Some(ms) = b.latency_ms {
        sim.faults.latency_ms = ms;
    }
    if let Some(w) = write {
        sim.faults.concurrent_writes.push(w);
    }
    Ok(Json(json!({"ok": true})))
}

/// The failure this REST request meets, if the armed `failNext` aims at it:
/// its first `after` matching requests pass, the next `remaining` fail, and
/// then it is disarmed.
pub(crate) fn take_failure(
    faults: &mut Faults,
    path: &str,
    method: &str,
) -> Option<(StatusCode, i64)> {
    let fault = match faults.fail_next.as_mut() {
        Some(f)
            if f.after > 0
                && f.path.as_deref().is_none_or(|p| path.ends_with(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method)) =>
        {
            f.after -= 1;
            None
        }
        Some(f)
            if f.remaining > 0
                && f.path.as_deref().is_none_or(|p| path.ends_with(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method)) =>
        {
            f.remaining -= 1;
            Some((f.status, f.code))
        }
        _ => None,
    };
    if faults.fail_next.as_ref().is_some_and(|f| f.remaining == 0) {
        faults.fail_next = None;
    }
    fault
}

/// The attributes of the first concurrent write armed on this task, if any,
/// now disarmed: the caller lands them as another writer's update.
pub(crate) fn take_concurrent_write(
    faults: &mut Faults,
    task_sid: &str,
) -> Option<Map<String, Value>> {
    let i = faults
        .concurrent_writes
        .iter()
        .position(|w| w.task_sid == task_sid)?;
    Some(faults.concurrent_writes.remove(i).attributes)
}
