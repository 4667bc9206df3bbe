//! Pause, resume and read the recordings of a task (PCI: card details must
//! not be recorded).
//!
//! Same sequence as recording: token check, then (with `AUTHORIZATION=strict`)
//! the worker's reservation on the task and the leg or conference belonging to
//! it, through the same `authz` functions. Then every active recording on that
//! leg or conference is addressed by its SID (never `Twilio.CURRENT`, which is
//! ambiguous when there are several: Twilio error 16108) and set to the asked
//! status when it does not already have it, so a repeated request (another
//! tab, a retry) answers the state without changing anything.

use crate::authz;
use crate::config::AuthorizationMode;
use crate::error::AppError;
use crate::policy::TaskFacts;
use crate::routes::{check_sid, parse_body};
use crate::twilio::{Recording, TaskSnapshot, TwilioClient};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use dual_channel_recording::api::{
    ControlAction, RecordingControlRequest, RecordingControlResponse, RecordingStatusEntry,
};
use dual_channel_recording::attributes::parse_value;
use dual_channel_recording::leg;
use dual_channel_recording::sid::{is_sid, SidKind};

/// A control request whose fields have been checked.
#[derive(Debug, Clone)]
pub struct ControlInput {
    pub token: String,
    pub task_sid: String,
    pub call_sid: Option<String>,
    pub conference_sid: Option<String>,
    pub pause_behavior: Option<&'static str>,
}

pub fn validate(
    r: RecordingControlRequest,
    action: ControlAction,
) -> Result<ControlInput, AppError> {
    if r.token.trim().is_empty() {
        return Err(AppError::MissingToken);
    }
    check_sid("taskSid", SidKind::Task, &r.task_sid)?;
    let call_sid = r.call_sid.filter(|s| !s.trim().is_empty());
    let conference_sid = r.conference_sid.filter(|s| !s.trim().is_empty());
    if let Some(c) = &call_sid {
        check_sid("callSid", SidKind::Call, c)?;
    }
    if let Some(c) = &conference_sid {
        check_sid("conferenceSid", SidKind::Conference, c)?;
    }
    if call_sid.is_some() == conference_sid.is_some() {
        return Err(AppError::InvalidInput(
            "name exactly one of callSid (a recorded call leg) or conferenceSid (the task's conference)".into(),
        ));
    }
    if r.pause_behavior.is_some() && action != ControlAction::Pause {
        return Err(AppError::InvalidInput(
            "pauseBehavior applies to pausing only".into(),
        ));
    }
    Ok(ControlInput {
        token: r.token,
        task_sid: r.task_sid,
        call_sid,
        conference_sid,
        pause_behavior: r.pause_behavior.map(|b| b.as_str()),
    })
}

pub async fn pause(
    state: State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, headers, body, ControlAction::Pause).await
}

pub async fn resume(
    state: State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, headers, body, ControlAction::Resume).await
}

pub async fn state(
    state: State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, headers, body, ControlAction::State).await
}

async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    action: ControlAction,
) -> Result<Json<RecordingControlResponse>, AppError> {
    let input = validate(parse_body(&headers, body)?, action)?;
    // Finished even if the browser goes away: a pause half-applied across
    // several recordings is worse than one the agent learns about late.
    crate::routes::detached(control(state, input, action))
        .await
        .map(Json)
}

/// The conference belongs to the task: the task names it, or the task's call
/// is one of its participants.
async fn conference_belongs_to_task(
    twilio: &TwilioClient,
    task_sid: &str,
    task: &TaskSnapshot,
    conference_sid: &str,
) -> Result<(), AppError> {
    // Read as the plugin reads them; attributes that cannot be parsed name nothing.
    let attributes = parse_value(&task.attributes).unwrap_or_default();
    if leg::task_conference(&attributes).as_deref() == Some(conference_sid) {
        return Ok(());
    }
    if let Some(call) = leg::task_call(&attributes) {
        let participant = twilio
            .fetch_participant(conference_sid, &call)
            .await
            .map_err(|e| AppError::from_twilio("checking the conference participant", e))?;
        if participant.is_some() {
            return Ok(());
        }
    }
    Err(AppError::Forbidden(format!(
        "conference {conference_sid} is not the conference of task {task_sid}"
    )))
}

async fn control(
    state: AppState,
    input: ControlInput,
    action: ControlAction,
) -> Result<RecordingControlResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    tracing::info!(task = %input.task_sid, call = ?input.call_sid, conference = ?input.conference_sid, worker = ?identity.worker_sid, action = action.as_str(), "recording-control");
    let mut task = None;
    if s.config.authorization == AuthorizationMode::Strict {
        let access = authz::task_access(&s.twilio, &identity, &input.task_sid, None).await?;
        task = Some(access.task.clone());
        match (&input.call_sid, &input.conference_sid) {
            (Some(call), _) => {
                authz::call_belongs_to_task(
                    &s.twilio,
                    &identity,
                    &input.task_sid,
                    &access.task,
                    call,
                    None,
                )
                .await?
            }
            (None, Some(cf)) => {
                conference_belongs_to_task(&s.twilio, &input.task_sid, &access.task, cf).await?
            }
            (None, None) => return Err(unreachable_input()),
        }
    }

    if action == ControlAction::Resume {
        if let Some(policy) = crate::routes::policy(&state).await? {
            let task = match task {
                Some(t) => t,
                None => AppError::task_read(
                    &input.task_sid,
                    s.twilio.fetch_task(&input.task_sid).await,
                )?,
            };
            policy.check_resume(TaskFacts::of(&input.task_sid, &task))?;
        }
    }

    // A pause that arrives while this backend is still starting the leg's
    // recording (another tab's request) waits for it, then pauses it, instead
    // of answering that nothing is recorded.
    let slot = match input.call_sid.as_deref() {
        Some(c) => Some(s.recordings.slot(c).await),
        None => None,
    };
    let _started = match &slot {
        Some(slot) => Some(slot.lock().await),
        None => None,
    };
    let (parent, listed) = match (&input.call_sid, &input.conference_sid) {
        (Some(call), _) => (
            format!("Calls/{call}"),
            s.twilio
                .list_recordings(call)
                .await
                .map_err(|e| AppError::from_twilio("listing the call's recordings", e))?,
        ),
        (None, Some(cf)) => (
            format!("Conferences/{cf}"),
            s.twilio
                .list_conference_recordings(cf)
                .await
                .map_err(|e| AppError::from_twilio("listing the conference's recordings", e))?,
        ),
        (None, None) => return Err(unreachable_input()),
    };
    let active: Vec<Recording> = listed
        .0
        .into_iter()
        .filter(|r| matches!(r.status.as_deref(), Some("in-progress") | Some("paused")))
        .collect();
    let where_ = input
        .call_sid
        .as_deref()
        .or(input.conference_sid.as_deref())
        .unwrap_or_default();
    if active.is_empty() && action != ControlAction::State {
        return Err(AppError::Conflict(format!(
            "nothing is being recorded on {where_} of task {}",
            input.task_sid
        )));
    }
    let wanted = match action {
        ControlAction::Pause => Some("paused"),
        ControlAction::Resume => Some("in-progress"),
        ControlAction::State => None,
    };
    let doing = match action {
        ControlAction::Pause => "pausing the recording",
        _ => "resuming the recording",
    };
    // Pausing: the backend watches `max_pause_seconds` too (`pause_watch`).
    let max_pause = match action {
        ControlAction::Pause => match crate::routes::policy(&state).await {
            Ok(p) => p.and_then(|p| p.max_pause),
            Err(e) => {
                tracing::warn!(task = %input.task_sid, error = %e, "the Flex configuration cannot be read: this pause is not watched by the backend");
                None
            }
        },
        _ => None,
    };
    let mut entries = Vec::with_capacity(active.len());
    for rec in active {
        if !is_sid(SidKind::Recording, &rec.sid) {
            tracing::warn!(recording = %rec.sid, "Twilio listed a recording with an unexpected SID; skipped");
            continue;
        }
        let mut status = rec.status.clone().unwrap_or_default();
        if let Some(w) = wanted {
            if status != w {
                let behavior = (w == "paused").then_some(input.pause_behavior).flatten();
                let updated = s
                    .twilio
                    .update_recording_status(&parent, &rec.sid, w, behavior)
                    .await
                    .map_err(|e| AppError::from_twilio(doing, e))?;
                status = updated.status.unwrap_or_else(|| w.to_string());
                tracing::info!(recording = %rec.sid, %status, task = %input.task_sid, "recording status set");
                if status == "paused" {
                    let paused = crate::pause_watch::Watched {
                        task_sid: input.task_sid.clone(),
                        parent: parent.clone(),
                        recording_sid: rec.sid.clone(),
                    };
                    s.pause_watch.paused(&state, paused, max_pause).await;
                }
            }
            if action == ControlAction::Resume {
                s.pause_watch.resumed(&state, &rec.sid).await;
            }
        }
        entries.push(RecordingStatusEntry {
            recording_sid: rec.sid,
            call_sid: input.call_sid.clone(),
            conference_sid: input.conference_sid.clone(),
            status,
        });
    }
    let state_word = if entries.iter().any(|e| e.status == "paused") {
        "paused"
    } else if entries.is_empty() {
        "none"
    } else {
        "recording"
    };
    Ok(RecordingControlResponse {
        success: true,
        state: state_word.into(),
        recordings: entries,
    })
}

/// `validate` guarantees one of the two; kept as an error, never a panic.
fn unreachable_input() -> AppError {
    AppError::InvalidInput("name exactly one of callSid or conferenceSid".into())
}
