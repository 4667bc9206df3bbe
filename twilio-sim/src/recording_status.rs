//! Recording status updates (pause, resume, stop) on call and conference
//! recordings, and the conference recordings' fetch and list.
//!
//! Twilio's contract (`tests/contract/twilio-openapi/`, operations
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
//!   "call is not in progress", see `docs/flex-facts.md`);
//! - `Twilio.CURRENT` with no active recording: 400, 21220 (what Twilio
//!   answers, and what the flex-project-template's pause feature reads as
//!   "nothing is recording", `docs/flex-facts.md`); with several active
//!   recordings it is ambiguous: 400, 16108 ("concurrent recordings";
//!   callers address recordings by SID).
//!
//! Pausing a paused recording or resuming a recording in progress changes
//! nothing and answers 200 with the recording, so a retried request is harmless.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::{bad_param, not_found, TwilioError};
use crate::model::{recording_active, Outgoing};
use crate::request::{check_owner, json_name, last, paging, parse_form, parse_query, TwilioPath};
use crate::time::now_ms;
use crate::wire::recordings_page;
use crate::SimState;

/// Twilio's code when `Twilio.CURRENT` names more than one active recording.
pub(crate) const AMBIGUOUS_CURRENT: i64 = 16108;
/// An ended recording cannot change status.
pub(crate) const RECORDING_NOT_ACTIVE: i64 = 21220;
pub(crate) const CURRENT: &str = "Twilio.CURRENT";

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        // `{rec}` carries the `.json` suffix: the router cannot split a segment.
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}/Recordings/{rec}",
            post(update_call_recording).get(fetch_call_recording),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Conferences/{conference}/Recordings.json",
            get(list_conference_recordings),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Conferences/{conference}/Recordings/{rec}",
            post(update_conference_recording).get(fetch_conference_recording),
        )
}

type Triple = TwilioPath<(String, String, String)>;

/// The parent SID (call or conference) and the recording name without
/// `.json`, once the account is known to be ours.
fn parent_and_name(
    st: &SimState,
    TwilioPath((account, parent, rec)): Triple,
    uri: &Uri,
) -> Result<(String, String), TwilioError> {
    check_owner(&st.config().account_sid, &account, uri.path())?;
    let rec = json_name(&rec, uri.path())?.to_string();
    Ok((parent, rec))
}

/// The requested change, checked before anything is looked up.
struct Change {
    status: String,
    pause_behavior: Option<String>,
}

fn parse_change(body: &Bytes) -> Result<Change, TwilioError> {
    let form = parse_form(body)?;
    let status = last(&form, "Status")
        .ok_or_else(|| bad_param("Missing required parameter Status"))?
        .to_string();
    if !matches!(status.as_str(), "in-progress" | "paused" | "stopped") {
        return Err(bad_param(format!(
            "Status must be one of in-progress, paused, stopped; got '{status}'"
        )));
    }
    let pause_behavior = last(&form, "PauseBehavior").map(str::to_string);
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
fn pick(candidates: &[(&str, &str)], name: &str, uri: &Uri) -> Result<usize, TwilioError> {
    if name == CURRENT {
        let live: Vec<usize> = (0..candidates.len())
            .filter(|&i| recording_active(candidates[i].1))
            .collect();
        return match live.as_slice() {
            [] => Err(TwilioError::new(
                StatusCode::BAD_REQUEST,
                RECORDING_NOT_ACTIVE,
                "Twilio.CURRENT names no active recording: nothing is being recorded",
            )),
            [one] => Ok(*one),
            _ => Err(TwilioError::new(
                StatusCode::BAD_REQUEST,
                AMBIGUOUS_CURRENT,
                "Twilio.CURRENT is ambiguous: more than one recording is active; address the recording by its SID",
            )),
        };
    }
    candidates
        .iter()
        .position(|(sid, _)| *sid == name)
        .ok_or_else(|| not_found(uri.path()))
}

/// The fields a status change touches, the same on call and conference
/// recordings.
struct Status<'a> {
    status: &'a mut String,
    pause_behavior: &'a mut Option<String>,
    updated_ms: &'a mut i64,
    ended_ms: &'a mut Option<i64>,
}

/// Applies `change`, or answers Twilio's refusal: an ended recording cannot
/// change. Asking for the status it already has changes nothing.
fn apply(rec: Status<'_>, change: Change, now: i64) -> Result<(), TwilioError> {
    if *rec.status != change.status || !recording_active(rec.status) {
        if !recording_active(rec.status) {
            return Err(TwilioError::new(
                StatusCode::BAD_REQUEST,
                RECORDING_NOT_ACTIVE,
                format!(
                    "The recording is {}; only a recording in progress or paused can be set to {}",
                    rec.status, change.status
                ),
            ));
        }
        if change.status == "stopped" {
            *rec.ended_ms = Some(now);
        }
        *rec.status = change.status.clone();
        *rec.updated_ms = now;
    }
    if change.status == "paused" {
        *rec.pause_behavior = Some(change.pause_behavior.unwrap_or_else(|| "silence".into()));
    }
    Ok(())
}

async fn update_call_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    let (call_sid, name) = parent_and_name(&st, path, &uri)?;
    let change = parse_change(&body)?;
    let now = now_ms();
    let mut sim = st.lock();
    let world = &mut sim.world;
    let list = &mut world.recordings;
    let recs: Vec<usize> = (0..list.len())
        .filter(|&i| list[i].call_sid == call_sid)
        .collect();
    let candidates: Vec<(&str, &str)> = recs
        .iter()
        .map(|&i| (list[i].sid.as_str(), list[i].status.as_str()))
        .collect();
    let k = pick(&candidates, &name, &uri)?;
    let rec = &mut list[recs[k]];
    let was_active = recording_active(&rec.status);
    apply(
        Status {
            status: &mut rec.status,
            pause_behavior: &mut rec.pause_behavior,
            updated_ms: &mut rec.updated_ms,
            ended_ms: &mut rec.ended_ms,
        },
        change,
        now,
    )?;
    if was_active && !recording_active(&rec.status) {
        // A stopped recording is processed and reported `completed`.
        world.outbox.push(Outgoing::RecordingStatus {
            recording_sid: rec.sid.clone(),
            status: "completed".into(),
        });
    }
    Ok(Json(rec.to_twilio(st.config())))
}

async fn fetch_call_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let (call_sid, name) = parent_and_name(&st, path, &uri)?;
    let sim = st.lock();
    let rec = sim
        .world
        .recordings
        .iter()
        .find(|r| r.call_sid == call_sid && r.sid == name)
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(rec.to_twilio(st.config())))
}

async fn update_conference_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    let (conference_sid, name) = parent_and_name(&st, path, &uri)?;
    let change = parse_change(&body)?;
    let now = now_ms();
    let mut sim = st.lock();
    let list = &mut sim.world.conference_recordings;
    let recs: Vec<usize> = (0..list.len())
        .filter(|&i| list[i].conference_sid == conference_sid)
        .collect();
    let candidates: Vec<(&str, &str)> = recs
        .iter()
        .map(|&i| (list[i].sid.as_str(), list[i].status.as_str()))
        .collect();
    let k = pick(&candidates, &name, &uri)?;
    let rec = &mut list[recs[k]];
    apply(
        Status {
            status: &mut rec.status,
            pause_behavior: &mut rec.pause_behavior,
            updated_ms: &mut rec.updated_ms,
            ended_ms: &mut rec.ended_ms,
        },
        change,
        now,
    )?;
    Ok(Json(rec.to_twilio(st.config())))
}

async fn fetch_conference_recording(
    State(st): State<SimState>,
    path: Triple,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let (conference_sid, name) = parent_and_name(&st, path, &uri)?;
    let sim = st.lock();
    let rec = sim
        .world
        .conference_recordings
        .iter()
        .find(|r| r.conference_sid == conference_sid && r.sid == name)
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(rec.to_twilio(st.config())))
}

async fn list_conference_recordings(
    State(st): State<SimState>,
    TwilioPath((account, conference_sid)): TwilioPath<(String, String)>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri.path())?;
    let (page, size) = paging(&parse_query(query.as_deref())?)?;
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
    Ok(Json(recordings_page(&all, uri.path(), page, size)))
}
