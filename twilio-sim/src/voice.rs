//! API v2010's voice resources the backend reads and writes: a call's
//! recordings (start, list), the call itself and a conference participant.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::{bad_param, not_found, TwilioError};
use crate::model::{Outgoing, Recording};
use crate::request::{
    check_owner, json_name, last, one_of, paging, parse_form, parse_query, TwilioPath,
};
use crate::time::now_ms;
use crate::wire::{participant_to_twilio, recordings_page};
use crate::SimState;

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
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
}

async fn create_recording(
    State(st): State<SimState>,
    TwilioPath((account, call_sid)): TwilioPath<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri.path())?;
    let form = parse_form(&body)?;
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
        return Err(TwilioError::new(
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
        error_code: None,
        created_ms: now,
        updated_ms: now,
        ended_ms: None,
    };
    let answer = rec.to_twilio(cfg);
    let failing = sim.world.failing_recordings.remove(&rec.call_sid);
    sim.world.outbox.push(Outgoing::RecordingStatus {
        recording_sid: rec.sid.clone(),
        status: "in-progress".into(),
    });
    if let Some(status) = failing {
        schedule_failure(&st, rec.sid.clone(), status);
    }
    sim.world.recordings.push(rec);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// How long a recording armed by `failRecording` runs before it ends: long
/// enough to be seen in progress, short as Twilio's own "too short or silent".
pub(crate) const FAILED_RECORDING_AFTER: Duration = Duration::from_millis(400);

/// The scenario format's `failRecording`: the recording ends with `status`
/// soon after it started, unless something ended it first.
fn schedule_failure(st: &SimState, recording_sid: String, status: String) {
    let st = st.clone();
    tokio::spawn(async move {
        tokio::time::sleep(FAILED_RECORDING_AFTER).await;
        st.lock()
            .world
            .fail_recording(&recording_sid, &status, now_ms());
        crate::outbound::flush(&st);
    });
}

async fn list_recordings(
    State(st): State<SimState>,
    TwilioPath((account, call_sid)): TwilioPath<(String, String)>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri.path())?;
    let (page, size) = paging(&parse_query(query.as_deref())?)?;
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
    Ok(Json(recordings_page(&all, uri.path(), page, size)))
}

async fn fetch_call(
    State(st): State<SimState>,
    TwilioPath((account, call)): TwilioPath<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri.path())?;
    let sid = json_name(&call, uri.path())?;
    let sim = st.lock();
    let call = sim
        .world
        .calls
        .get(sid)
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(call.to_twilio(cfg)))
}

async fn fetch_participant(
    State(st): State<SimState>,
    TwilioPath((account, conference, call)): TwilioPath<(String, String, String)>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let cfg = st.config();
    check_owner(&cfg.account_sid, &account, uri.path())?;
    let call_sid = json_name(&call, uri.path())?;
    let sim = st.lock();
    let conf = sim
        .world
        .conferences
        .get(&conference)
        .ok_or_else(|| not_found(uri.path()))?;
    // Only a participant still in the conference is fetchable; Twilio
    // forgets those who left.
    let status = conf
        .participants
        .iter()
        .find(|p| p.call_sid.as_deref() == Some(call_sid))
        .and_then(|p| p.twilio_status())
        .ok_or_else(|| not_found(uri.path()))?;
    Ok(Json(participant_to_twilio(
        cfg,
        &conf.sid,
        call_sid,
        status,
        conf.updated_ms,
    )))
}
