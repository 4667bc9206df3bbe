//! Recording status updates (pause, resume, stop) on call and conference
//! recordings, and Flex's own conference recording.
//!
//! Twilio's contract (`../shared/twilio-openapi`, operations
//! `UpdateCallRecording` and `UpdateConferenceRecording`): `POST
//! .../Recordings/{Sid}.json` with a required `Status` (`in-progress`,
//! `paused`, `stopped`) and an optional `PauseBehavior` (`skip` or
//! `silence`, default `silence`, only meaningful with `paused`). `{Sid}` may
//! be `Twilio.CURRENT`, "the current active recording".
//!
//! Errors, as modelled here:
//! - an unknown recording (or one of another call/conference): 404, 20404;
//! - a `Status` or `PauseBehavior` outside those values: 400, 20001 (Twilio's
//!   generic "invalid parameter", as the simulator answers every bad form value);
//! - a recording that has ended (`stopped`, `completed`, `absent`) cannot be
//!   paused, resumed or stopped again: 400, 21220 ("Invalid call state for
//!   this operation", Twilio's code for an operation a finished call or
//!   recording no longer allows; the code this project already relies on for
//!   "call is not in progress", see `../shared/flex-facts.md`);
//! - `Twilio.CURRENT` with no active recording: 404, 20404; with several
//!   active recordings it is ambiguous: 400, 16108 (the code the issue names
//!   for this case; callers should address recordings by SID).
//!
//! Pausing a paused recording or resuming a recording in progress changes
//! nothing and answers 200 with the recording, so a retried request is harmless.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::model::{bad_param, not_found, secs_between, twilio_error, Recording, World, API_HOST};
use crate::time::{now_ms, rfc2822};
use crate::{SimConfig, SimState};

/// Twilio's code when `Twilio.CURRENT` names more than one active recording.
pub(crate) const AMBIGUOUS_CURRENT: i64 = 16108;
/// An ended recording cannot change status.
pub(crate) const RECORDING_NOT_ACTIVE: i64 = 21220;
pub(crate) const CURRENT: &str = "Twilio.CURRENT";

/// Flex's own recording of a task's conference (`conferenceRecord`).
pub(crate) struct ConferenceRecording {
    pub sid: String,
    pub conference_sid: String,
    pub status: String,
    pub pause_behavior: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}

fn active(status: &str) -> bool {
    matches!(status, "in-progress" | "paused")
}

impl ConferenceRecording {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ac = &cfg.account_sid;
        json!({
            "account_sid": ac,
            "api_version": "2010-04-01",
            "call_sid": null,
            "conference_sid": self.conference_sid,
            "date_created": rfc2822(self.created_ms),
            "date_updated": rfc2822(self.updated_ms),
            "start_time": rfc2822(self.created_ms),
            "duration": self.ended_ms.map(|e| secs_between(self.created_ms, e)),
            "sid": self.sid,
            "price": null,
            "price_unit": "USD",
            "status": self.status,
            "channels": 2,
            "source": "Conference",
            "error_code": null,
            "encryption_details": null,
            "uri": format!("/2010-04-01/Accounts/{ac}/Conferences/{}/Recordings/{}.json", self.conference_sid, self.sid),
        })
    }

    pub fn to_control(&self, cfg: &SimConfig) -> Value {
        json!({
            "sid": self.sid,
            "conferenceSid": self.conference_sid,
            "channels": "dual",
            "status": self.status,
            "pauseBehavior": self.pause_behavior,
            "source": "Conference",
            "url": format!("{API_HOST}/2010-04-01/Accounts/{}/Recordings/{}", cfg.account_sid, self.sid),
        })
    }
}

impl World {
    /// Starts Flex's recording of a task's conference once it has two joined
    /// participants, when the task's accept asked for it (see
    /// `../shared/scenarios/README.md`).
    pub fn maybe_start_conference_recording(
        &mut self,
        conference_sid: &str,
        sid: impl FnOnce() -> String,
        now: i64,
    ) {
        let Some(conf) = self.conferences.get(conference_sid) else {
            return;
        };
        let Some(task_sid) = conf.task_sid.as_deref() else {
            return;
        };
        let wanted = self
            .conference_record
            .get(task_sid)
            .copied()
            .unwrap_or(None)
            .unwrap_or(self.flex.call_recording_enabled);
        let recorded = self.conference_record.contains_key(task_sid);
        let joined = conf
            .participants
            .iter()
            .filter(|p| p.status == "joined")
            .count();
        let exists = self
            .conference_recordings
            .iter()
            .any(|r| r.conference_sid == conference_sid);
        if recorded && wanted && joined >= 2 && !exists {
            self.conference_recordings.push(ConferenceRecording {
                sid: sid(),
                conference_sid: conference_sid.to_string(),
                status: "in-progress".into(),
                pause_behavior: None,
                created_ms: now,
                updated_ms: now,
                ended_ms: None,
            });
        }
    }

    /// Completes the recordings of every conference whose last call has ended.
    pub fn end_finished_conference_recordings(&mut self, now: i64) {
        let calls = &self.calls;
        let live = |sid: &str| -> bool {
            self.conferences.get(sid).is_some_and(|c| {
                c.participants.iter().any(|p| {
                    p.status == "joined"
                        && p.call_sid
                            .as_deref()
                            .is_none_or(|ca| calls.get(ca).is_none_or(|c| c.ended_ms.is_none()))
                })
            })
        };
        let ended: Vec<String> = self
            .conference_recordings
            .iter()
            .filter(|r| active(&r.status) && !live(&r.conference_sid))
            .map(|r| r.sid.clone())
            .collect();
        for r in self
            .conference_recordings
            .iter_mut()
            .filter(|r| ended.contains(&r.sid))
        {
            r.status = "completed".into();
            r.updated_ms = now;
            r.ended_ms = Some(now);
        }
    }
}

pub(crate) fn router() -> Router<SimState> {
    Router::new()
        // `{rec}` carries the `.json` suffix: the router cannot split a segment.
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}/Recordings/{rec}",
            post(update_call_recording).get(fetch_call_recording),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Conferences/{conference}/Recordings.json",
            axum::routing::get(list_conference_recordings),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Conferences/{conference}/Recordings/{rec}",
            post(update_conference_recording).get(fetch_conference_recording),
        )
}

fn either(r: Result<Response, Response>) -> Response {
    match r {
        Ok(r) | Err(r) => r,
    }
}

type Triple = Result<Path<(String, String, String)>, PathRejection>;

/// Account, parent SID and the recording name without `.json`.
fn path3(st: &SimState, p: Triple, uri: &Uri) -> Result<(String, String), Response> {
    let Path((account, parent, rec)) = p.map_err(|_| not_found(uri.path()))?;
    if account != st.config().account_sid {
        return Err(not_found(uri.path()));
    }
    let rec = rec
        .strip_suffix(".json")
        .ok_or_else(|| not_found(uri.path()))?
        .to_string();
    Ok((parent, rec))
}

/// The requested change, checked before anything is looked up.
struct Change {
    status: String,
    pause_behavior: Option<String>,
}

fn parse_change(body: &Bytes) -> Result<Change, Response> {
    let form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|_| bad_param("Request body is not valid application/x-www-form-urlencoded"))?;
    let last = |k: &str| {
        form.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let status = last("Status").ok_or_else(|| bad_param("Missing required parameter Status"))?;
    if !matches!(status.as_str(), "in-progress" | "paused" | "stopped") {
        return Err(bad_param(format!(
            "Status must be one of in-progress, paused, stopped; got '{status}'"
        )));
    }
    let pause_behavior = last("PauseBehavior");
    if let Some(b) = &pause_behavior {
        if !matches!(b.as_str(), "skip" | "silence") {
            return Err(bad_param(format!(
                "PauseBehavior must be skip or silence; got '{b}'"
            )));
        }
    }
    Ok(Change {
        status,
        pause_behavior,
    })
}

/// Picks the recording among `candidates` (sid, status) that `name` means.
fn pick(candidates: &[(String, String)], name: &str, uri: &Uri) -> Result<usize, Response> {
    if name == CURRENT {
        let live: Vec<usize> = (0..candidates.len())
            .filter(|&i| active(&candidates[i].1))
            .collect();
        return match live.as_slice() {
            [] => Err(not_found(uri.path())),
            [one] => Ok(*one),
            _ => Err(twilio_error(
                StatusCode::BAD_REQUEST,
                AMBIGUOUS_CURRENT,
                "Twilio.CURRENT is ambiguous: more than one recording is active; address the recording by its SID",
            )),
        };
    }
    candidates
        .iter()
        .position(|(sid, _)| sid == name)
        .ok_or_else(|| not_found(uri.path()))
}

/// The new status, or Twilio's refusal.
fn apply(
    status: &mut String,
    ended: &mut Option<i64>,
    change: &Change,
    now: i64,
) -> Result<(), Response> {
    if !active(status) {
        return Err(twilio_error(
            StatusCode::BAD_REQUEST,
            RECORDING_NOT_ACTIVE,
            format!(
                "The recording is {status}; only a recording in progress or paused can be set to {}",
                change.status
            ),
        ));
    }
    if change.status == "stopped" {
        *ended = Some(now);
    }
    *status = change.status.clone();
    Ok(())
}

async fn update_call_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
    body: Bytes,
) -> Response {
    either((|| {
        let (call_sid, name) = path3(&st, path, &uri)?;
        let change = parse_change(&body)?;
        let now = now_ms();
        let cfg = st.config();
        let mut sim = st.lock();
        let recs: Vec<usize> = (0..sim.world.recordings.len())
            .filter(|&i| sim.world.recordings[i].call_sid == call_sid)
            .collect();
        let candidates: Vec<(String, String)> = recs
            .iter()
            .map(|&i| {
                let r = &sim.world.recordings[i];
                (r.sid.clone(), r.status.clone())
            })
            .collect();
        let k = pick(&candidates, &name, &uri)?;
        let rec: &mut Recording = &mut sim.world.recordings[recs[k]];
        if rec.status != change.status || !active(&rec.status) {
            apply(&mut rec.status, &mut rec.ended_ms, &change, now)?;
            rec.updated_ms = now;
        }
        if change.status == "paused" {
            rec.pause_behavior = Some(change.pause_behavior.unwrap_or_else(|| "silence".into()));
        }
        Ok(Json(rec.to_twilio(cfg)).into_response())
    })())
}

async fn fetch_call_recording(State(st): State<SimState>, path: Triple, uri: Uri) -> Response {
    either((|| {
        let (call_sid, name) = path3(&st, path, &uri)?;
        let sim = st.lock();
        let rec = sim
            .world
            .recordings
            .iter()
            .find(|r| r.call_sid == call_sid && r.sid == name)
            .ok_or_else(|| not_found(uri.path()))?;
        Ok(Json(rec.to_twilio(st.config())).into_response())
    })())
}

async fn update_conference_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
    body: Bytes,
) -> Response {
    either((|| {
        let (conference_sid, name) = path3(&st, path, &uri)?;
        let change = parse_change(&body)?;
        let now = now_ms();
        let mut sim = st.lock();
        let list = &mut sim.world.conference_recordings;
        let recs: Vec<usize> = (0..list.len())
            .filter(|&i| list[i].conference_sid == conference_sid)
            .collect();
        let candidates: Vec<(String, String)> = recs
            .iter()
            .map(|&i| (list[i].sid.clone(), list[i].status.clone()))
            .collect();
        let k = pick(&candidates, &name, &uri)?;
        let rec = &mut list[recs[k]];
        if rec.status != change.status || !active(&rec.status) {
            apply(&mut rec.status, &mut rec.ended_ms, &change, now)?;
            rec.updated_ms = now;
        }
        if change.status == "paused" {
            rec.pause_behavior = Some(change.pause_behavior.unwrap_or_else(|| "silence".into()));
        }
        Ok(Json(rec.to_twilio(st.config())).into_response())
    })())
}

async fn fetch_conference_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
) -> Response {
    either((|| {
        let (conference_sid, name) = path3(&st, path, &uri)?;
        let sim = st.lock();
        let rec = sim
            .world
            .conference_recordings
            .iter()
            .find(|r| r.conference_sid == conference_sid && r.sid == name)
            .ok_or_else(|| not_found(uri.path()))?;
        Ok(Json(rec.to_twilio(st.config())).into_response())
    })())
}

async fn list_conference_recordings(
    State(st): State<SimState>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    either((|| {
        let Path((account, conference_sid)) = path.map_err(|_| not_found(uri.path()))?;
        let cfg = st.config();
        if account != cfg.account_sid {
            return Err(not_found(uri.path()));
        }
        let (page, size) = crate::rest::paging(&crate::rest::parse_query(query.as_deref())?)?;
        let sim = st.lock();
        // Newest first, as Twilio lists recordings.
        let all: Vec<Value> = sim
            .world
            .conference_recordings
            .iter()
            .rev()
            .filter(|r| r.conference_sid == conference_sid)
            .map(|r| r.to_twilio(cfg))
            .collect();
        Ok(Json(crate::rest::recordings_page(&all, uri.path(), page, size)).into_response())
    })())
}
