//! The HTTP endpoints: body parsing and input checks, then the
//! check-token → authorize → record → link sequence.

use crate::attributes::{self, WriteProblem};
use crate::authz;
use crate::config::{AuthorizationMode, PolicyMode};
use crate::error::AppError;
use crate::grant::{self, GrantKey, GrantStore};
use crate::policy::TaskFacts;
use crate::recording::{self, StartedRecording};
use crate::twilio::TaskSnapshot;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use dual_channel_recording::api::{
    CreateRecordingRequest, CreateRecordingResponse, LinkCallRequest, LinkCallResponse, TargetKind,
};
use dual_channel_recording::insights::{self, MediaEntry, MediaTarget, MergeOutcome, RecordedLeg};
use dual_channel_recording::sid::{is_sid, SidKind};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;

/// Largest request body accepted. A Flex token is about 1 KB and the rest a
/// few SIDs; anything near this is not a plugin request.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Serde messages can quote input; a long one is cut so an answer never
/// echoes a large part of what was sent.
fn short(msg: String) -> String {
    const MAX: usize = 200;
    if msg.len() <= MAX {
        return msg;
    }
    let mut end = MAX;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &msg[..end])
}

/// Form (what the template's function takes) or JSON; unknown fields ignored.
pub fn parse_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .ok_or(AppError::UnsupportedMediaType)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::BodyTooLarge(BODY_LIMIT)
        } else {
            AppError::InvalidInput("the request body could not be read".into())
        }
    })?;
    let (kind, parsed) = if content_type == "application/x-www-form-urlencoded" {
        (
            "form",
            serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string()),
        )
    } else if content_type == "application/json"
        || (content_type.starts_with("application/") && content_type.ends_with("+json"))
    {
        (
            "JSON",
            serde_json::from_slice(&body).map_err(|e| e.to_string()),
        )
    } else {
        return Err(AppError::UnsupportedMediaType);
    };
    parsed.map_err(|e| {
        // A request without a token is an authentication failure (401), not
        // a malformed one, whatever else it lacks.
        if e.starts_with("missing field `Token`") {
            AppError::MissingToken
        } else {
            AppError::InvalidInput(short(format!("the {kind} body is not valid: {e}")))
        }
    })
}

/// An empty optional field is as good as an absent one (HTML forms and
/// `URLSearchParams` send `x=` for unset values).
fn opt(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

pub(crate) fn check_sid(field: &str, kind: SidKind, value: &str) -> Result<(), AppError> {
    if is_sid(kind, value) {
        Ok(())
    } else {
        Err(AppError::InvalidInput(format!(
            "{field} must be a {} followed by 32 hex digits",
            kind.label()
        )))
    }
}

fn check_token(token: &str) -> Result<(), AppError> {
    if token.trim().is_empty() {
        Err(AppError::MissingToken)
    } else {
        Ok(())
    }
}

/// A create-recording request whose fields have been checked.
#[derive(Debug, Clone)]
pub struct CreateInput {
    pub call_sid: String,
    pub token: String,
    pub task_sid: Option<String>,
    pub reservation_sid: Option<String>,
    pub leg: Option<RecordedLeg>,
    pub target: Option<MediaTarget>,
    pub accepted_at: Option<i64>,
    pub conference_sid: Option<String>,
    pub customer_call_sid: Option<String>,
}

pub fn validate_create(r: CreateRecordingRequest) -> Result<CreateInput, AppError> {
    check_token(&r.token)?;
    check_sid("callSid", SidKind::Call, &r.call_sid)?;
    let task_sid = opt(r.task_sid);
    let reservation_sid = opt(r.reservation_sid);
    let conference_sid = opt(r.conference_sid);
    let customer_call_sid = opt(r.customer_call_sid);
    if let Some(v) = &task_sid {
        check_sid("taskSid", SidKind::Task, v)?;
    }
    if let Some(v) = &reservation_sid {
        check_sid("reservationSid", SidKind::Reservation, v)?;
    }
    if let Some(v) = &conference_sid {
        check_sid("conferenceSid", SidKind::Conference, v)?;
    }
    if let Some(v) = &customer_call_sid {
        check_sid("customerCallSid", SidKind::Call, v)?;
    }
    let target = match r.target {
        None => None,
        Some(kind) => {
            if task_sid.is_none() {
                return Err(AppError::InvalidInput(format!(
                    "target {} needs taskSid: the media entry is written to that task",
                    kind.as_str()
                )));
            }
            Some(match kind {
                TargetKind::Conversation => MediaTarget::Conversation,
                TargetKind::Reservation => {
                    MediaTarget::Reservation(reservation_sid.clone().ok_or_else(|| {
                        AppError::InvalidInput(
                            "target reservation needs reservationSid (WR...)".into(),
                        )
                    })?)
                }
            })
        }
    };
    Ok(CreateInput {
        call_sid: r.call_sid,
        token: r.token,
        task_sid,
        reservation_sid,
        leg: r.leg,
        target,
        accepted_at: r.accepted_at,
        conference_sid,
        customer_call_sid,
    })
}

#[derive(Debug, Clone)]
pub struct LinkInput {
    pub token: String,
    pub task_sid: String,
    pub conference_sid: Option<String>,
    pub customer_call_sid: Option<String>,
}

pub fn validate_link(r: LinkCallRequest) -> Result<LinkInput, AppError> {
    check_token(&r.token)?;
    check_sid("taskSid", SidKind::Task, &r.task_sid)?;
    let conference_sid = opt(r.conference_sid);
    let customer_call_sid = opt(r.customer_call_sid);
    if let Some(v) = &conference_sid {
        check_sid("conferenceSid", SidKind::Conference, v)?;
    }
    if let Some(v) = &customer_call_sid {
        check_sid("customerCallSid", SidKind::Call, v)?;
    }
    if conference_sid.is_none() && customer_call_sid.is_none() {
        return Err(AppError::InvalidInput(
            "nothing to link: give conferenceSid, customerCallSid or both".into(),
        ));
    }
    Ok(LinkInput {
        token: r.token,
        task_sid: r.task_sid,
        conference_sid,
        customer_call_sid,
    })
}

/// Runs `work` to completion even if the client goes away: once a recording
/// may have been started, stopping halfway would leave it unrecorded in our
/// map and unlinked in Insights.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work.instrument(tracing::Span::current()))
        .await
        .unwrap_or_else(|e| {
            crate::error::note_cause(&format!("request task failed: {e}"));
            Err(AppError::Internal)
        })
}

pub async fn create_recording(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CreateRecordingResponse>, AppError> {
    let input = validate_create(parse_body(&headers, body)?)?;
    detached(create(state, input)).await.map(Json)
}

pub async fn link_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LinkCallResponse>, AppError> {
    let input = validate_link(parse_body(&headers, body)?)?;
    detached(link(state, input)).await.map(Json)
}

pub async fn healthz() -> Json<Value> {
    Json(serde_json::json!({"ok": true}))
}

async fn create(state: AppState, input: CreateInput) -> Result<CreateRecordingResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    tracing::info!(call = %input.call_sid, task = ?input.task_sid, worker = ?identity.worker_sid, "create-recording");

    let task: Option<TaskSnapshot>;
    match s.config.authorization {
        AuthorizationMode::Strict => {
            let task_sid = input.task_sid.as_deref().ok_or_else(|| {
                AppError::Forbidden(
                    "this backend runs with AUTHORIZATION=strict: the request must name the task (taskSid) the call belongs to".into(),
                )
            })?;
            let wr = input.reservation_sid.as_deref();
            // A grant from authorize-ahead stands in for the reservation,
            // task and policy reads (see `grant`); without one they are made
            // now, and kept as a grant for the task's next legs.
            let checked = match GrantKey::of(&identity, Some(task_sid), wr) {
                Some(key) => {
                    let slot = s.grants.slot(&key);
                    let mut held = slot.lock().await;
                    match s.grants.usable(&held) {
                        Some(g) => g.task,
                        None => {
                            *held = None;
                            let checked_at = std::time::Instant::now();
                            let t = grant::check(&state, &identity, task_sid, wr).await?;
                            *held = Some(GrantStore::grant(t.clone(), checked_at));
                            t
                        }
                    }
                }
                None => grant::check(&state, &identity, task_sid, wr).await?,
            };
            authz::call_belongs_to_task(
                &s.twilio,
                &identity,
                task_sid,
                &checked,
                &input.call_sid,
                input.conference_sid.as_deref(),
            )
            .await?;
            task = Some(checked);
        }
        AuthorizationMode::TokenOnly => {
            let granted = match GrantKey::of(
                &identity,
                input.task_sid.as_deref(),
                input.reservation_sid.as_deref(),
            ) {
                Some(key) => {
                    let slot = s.grants.slot(&key);
                    let held = slot.lock().await;
                    s.grants.usable(&held)
                }
                None => None,
            };
            task = match granted {
                Some(g) => Some(g.task),
                None => token_only_policy(&state, input.task_sid.as_deref()).await?,
            };
        }
    }

    let slot = s.recordings.slot(&input.call_sid).await;
    let mut guard = slot.lock().await;
    let started = recording::ensure_recording(
        &s.twilio,
        s.claims.as_ref(),
        &input.call_sid,
        &mut guard,
        s.config.status_callback.as_ref(),
    )
    .await?;
    if started.already {
        crate::metrics::already_recording();
    } else {
        crate::metrics::recording_started();
    }
    let rec = started.recording.clone();
    let recording_url = insights::recording_url(
        &s.config.hosts.recording_links,
        &s.config.account_sid,
        &rec.sid,
    );

    let mut response = CreateRecordingResponse {
        success: true,
        call_sid: input.call_sid.clone(),
        recording_sid: rec.sid.clone(),
        recording_url: recording_url.clone(),
        already_recording: started.already,
        media: None,
        media_written: false,
        warning: None,
    };

    if let (Some(target), Some(task_sid)) = (&input.target, &input.task_sid) {
        let key = target.describe();
        if let Some((_, entry)) = rec.linked.iter().find(|(k, _)| *k == key) {
            response.media = Some(entry.clone());
            response.media_written = true;
            return Ok(response);
        }
        let leg = input.leg.unwrap_or(match target {
            MediaTarget::Conversation => RecordedLeg::Customer,
            MediaTarget::Reservation(_) => RecordedLeg::Worker,
        });
        match link_media(
            &state,
            &input,
            task_sid,
            target,
            leg,
            &rec,
            &recording_url,
            task,
        )
        .await
        {
            Ok(entry) => {
                if let Some(r) = guard.as_mut() {
                    r.linked.push((key, entry.clone()));
                }
                response.media = Some(entry);
                response.media_written = true;
            }
            Err((entry, problem)) => {
                let warning = format!(
                    "The recording {} is running, but it was not listed for Flex Insights at {} of task {task_sid}: {problem}.",
                    rec.sid,
                    target.describe()
                );
                tracing::warn!(call = %input.call_sid, task = %task_sid, recording = %rec.sid, %problem, "media entry not written; the recording stands");
                response.media = entry;
                response.warning = Some(warning);
            }
        }
    }
    Ok(response)
}

/// Writes the media entry (and any missing call links) into the task.
#[allow(clippy::too_many_arguments)]
async fn link_media(
    state: &AppState,
    input: &CreateInput,
    task_sid: &str,
    target: &MediaTarget,
    leg: RecordedLeg,
    rec: &StartedRecording,
    recording_url: &str,
    task: Option<TaskSnapshot>,
) -> Result<MediaEntry, (Option<MediaEntry>, WriteProblem)> {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let customer_call = match state.0.config.authorization {
        AuthorizationMode::Strict => authz::verified_customer_call(
            &state.0.twilio,
            input.conference_sid.as_deref(),
            input.customer_call_sid.as_deref(),
        )
        .await
        .unwrap_or(None),
        AuthorizationMode::TokenOnly => input.customer_call_sid.clone(),
    };
    let mut last_entry: Option<MediaEntry> = None;
    let result = attributes::update(&state.0.twilio, task_sid, task, |attrs| {
        let existing = insights::existing_recordings(attrs, target);
        let start = insights::entry_start_time(existing, input.accepted_at, rec.start_ms, now_ms);
        let entry = MediaEntry::voice_recording(recording_url.to_string(), start, leg);
        last_entry = Some(entry.clone());
        let linked = insights::link_call(
            attrs,
            input.conference_sid.as_deref(),
            customer_call.as_deref(),
        )?;
        let outcome = insights::append_media(attrs, target, &entry)?;
        // When it was already listed, answer with the entry as listed.
        let listed = if outcome == MergeOutcome::AlreadyListed {
            insights::media_list(attrs, target)
                .and_then(|l| {
                    l.iter()
                        .find(|e| e.get("url").and_then(Value::as_str) == Some(recording_url))
                })
                .and_then(|e| serde_json::from_value::<MediaEntry>(e.clone()).ok())
                .unwrap_or(entry)
        } else {
            entry
        };
        Ok((linked || outcome == MergeOutcome::Added, listed))
    })
    .await;
    match result {
        Ok(applied) => Ok(applied.value),
        Err(problem) => Err((last_entry, problem)),
    }
}

async fn link(state: AppState, input: LinkInput) -> Result<LinkCallResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    tracing::info!(task = %input.task_sid, worker = ?identity.worker_sid, "link-call");
    let task = match s.config.authorization {
        AuthorizationMode::Strict => {
            let (access, policy) = tokio::join!(
                authz::task_access(&s.twilio, &identity, &input.task_sid, None),
                policy(&state),
            );
            let task = access?.task;
            if let Some(p) = policy? {
                p.check(Some(TaskFacts::of(&input.task_sid, &task)))?;
            }
            Some(task)
        }
        AuthorizationMode::TokenOnly => token_only_policy(&state, Some(&input.task_sid)).await?,
    };
    let customer_call = match s.config.authorization {
        AuthorizationMode::Strict => {
            authz::verified_customer_call(
                &s.twilio,
                input.conference_sid.as_deref(),
                input.customer_call_sid.as_deref(),
            )
            .await?
        }
        AuthorizationMode::TokenOnly => input.customer_call_sid.clone(),
    };
    let result = attributes::update(&s.twilio, &input.task_sid, task, |attrs| {
        let changed = insights::link_call(
            attrs,
            input.conference_sid.as_deref(),
            customer_call.as_deref(),
        )?;
        Ok((changed, ()))
    })
    .await;
    match result {
        Ok(applied) => Ok(LinkCallResponse {
            success: true,
            changed: applied.wrote,
        }),
        Err(problem) => {
            if let WriteProblem::TooLarge { chars, limit } = &problem {
                // The one log line is the refusal's (error.rs), with this cause.
                crate::error::note_cause(&format!("conference link not written: the task attributes would be {chars} characters, over TaskRouter's limit of {limit}"));
            }
            Err(write_problem_error(&input.task_sid, problem))
        }
    }
}

fn write_problem_error(task_sid: &str, problem: WriteProblem) -> AppError {
    match problem {
        WriteProblem::TaskGone => AppError::task_not_found(task_sid),
        WriteProblem::Twilio(e) => AppError::from_twilio("updating the task", e),
        other => AppError::Conflict(format!("task {task_sid} was not updated: {other}")),
    }
}

/// The recording policy to apply, or `None` when `POLICY=off`.
pub(crate) async fn policy(
    state: &AppState,
) -> Result<Option<std::sync::Arc<crate::policy::FlexPolicy>>, AppError> {
    let s = &*state.0;
    match s.config.policy {
        PolicyMode::Off => Ok(None),
        PolicyMode::On => s.policy.get(&s.twilio).await.map(Some),
    }
}

/// Token-only authorization checks no reservation, but the policy still
/// applies: the task is read when the request names one (the read is then
/// reused for the attribute write).
async fn token_only_policy(
    state: &AppState,
    task_sid: Option<&str>,
) -> Result<Option<TaskSnapshot>, AppError> {
    let s = &*state.0;
    if s.config.policy == PolicyMode::Off {
        return Ok(None);
    }
    let Some(task_sid) = task_sid else {
        if let Some(p) = policy(state).await? {
            p.check(None)?;
        }
        return Ok(None);
    };
    let (task, policy) = tokio::join!(s.twilio.fetch_task(task_sid), policy(state));
    let task = AppError::task_read(task_sid, task)?;
    if let Some(p) = policy? {
        p.check(Some(TaskFacts::of(task_sid, &task)))?;
    }
    Ok(Some(task))
}
