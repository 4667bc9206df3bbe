//! The create-recording and link-call endpoints: the check-token →
//! authorize → record → link sequence.

use crate::config::{AuthorizationMode, PolicyMode};
use crate::domain::attributes::{self, WriteProblem};
use crate::domain::audit::RecordedBy;
use crate::domain::auth::Identity;
use crate::domain::authz;
use crate::domain::grant::{self, GrantKey};
use crate::domain::policy::TaskFacts;
use crate::domain::recording::{self, StartedRecording};
use crate::error::AppError;
use crate::http::body::FormOrJson;
use crate::http::detached;
use crate::http::input::{CreateInput, LinkInput};
use crate::twilio::TaskSnapshot;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use dual_channel_recording::api::{
    CreateRecordingRequest, CreateRecordingResponse, LinkCallRequest, LinkCallResponse,
};
use dual_channel_recording::insights::{self, MediaEntry, MediaTarget, MergeOutcome, RecordedLeg};
use dual_channel_recording::sid::TaskSid;
use serde_json::Value;

pub async fn create_recording(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<CreateRecordingRequest>,
) -> Result<Json<CreateRecordingResponse>, AppError> {
    let input = CreateInput::try_from(request)?;
    detached(create(state, input)).await.map(Json)
}

pub async fn link_call(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<LinkCallRequest>,
) -> Result<Json<LinkCallResponse>, AppError> {
    let input = LinkInput::try_from(request)?;
    detached(link(state, input)).await.map(Json)
}

async fn create(state: AppState, input: CreateInput) -> Result<CreateRecordingResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    tracing::info!(call = %input.call_sid, task = input.task_sid.as_ref().map(display), worker = identity.worker_sid.as_ref().map(display), "create-recording");

    let task: Option<TaskSnapshot>;
    match s.config.authorization {
        AuthorizationMode::Strict => {
            let task_sid = input.task_sid.as_ref().ok_or_else(|| {
                AppError::Forbidden(
                    "this backend runs with AUTHORIZATION=strict: the request must name the task (taskSid) the call belongs to".into(),
                )
            })?;
            let wr = input.reservation_sid.as_ref();
            // A grant from authorize-ahead stands in for the reservation,
            // task and policy reads (see `grant`); without one they are made
            // now, and kept as a grant for the task's next legs.
            let check = grant::check(&s.twilio, &s.policy, &identity, task_sid, wr);
            let checked = match GrantKey::of(&identity, Some(task_sid), wr) {
                Some(key) => s.grants.use_or_check(&key, check).await?,
                None => check.await?,
            };
            authz::call_belongs_to_task(
                &s.twilio,
                &identity,
                task_sid,
                &checked,
                &input.call_sid,
                input.conference_sid.as_ref(),
            )
            .await?;
            task = Some(checked);
        }
        AuthorizationMode::TokenOnly => {
            let granted = match GrantKey::of(
                &identity,
                input.task_sid.as_ref(),
                input.reservation_sid.as_ref(),
            ) {
                Some(key) => s.grants.usable_for(&key).await,
                None => None,
            };
            task = match granted {
                Some(g) => Some(g.task),
                None => token_only_policy(&state, &identity, input.task_sid.as_ref()).await?,
            };
        }
    }

    let slot = s.recordings.slot(&input.call_sid).await;
    let mut guard = slot.lock().await;
    let started = recording::ensure_recording(
        &s.twilio,
        s.claims.as_deref(),
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
    if let Some(task_sid) = &input.task_sid {
        s.audit
            .recorded(
                task_sid.as_str(),
                input.call_sid.as_str(),
                rec.sid.as_str(),
                RecordedBy::Plugin,
                !started.already,
            )
            .await;
    }
    let recording_url = insights::recording_url(
        &s.config.hosts.recording_links,
        s.config.account_sid.as_str(),
        rec.sid.as_str(),
    );

    let mut response = CreateRecordingResponse {
        success: true,
        call_sid: input.call_sid.to_string(),
        recording_sid: rec.sid.to_string(),
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
    task_sid: &TaskSid,
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
            input.conference_sid.as_ref(),
            input.customer_call_sid.as_ref(),
        )
        .await
        .unwrap_or(None),
        AuthorizationMode::TokenOnly => input.customer_call_sid.clone(),
    };
    let conference = input.conference_sid.as_ref().map(|c| c.as_str());
    let customer_call = customer_call.as_ref().map(|c| c.as_str());
    let mut last_entry: Option<MediaEntry> = None;
    let result = attributes::update(&state.0.twilio, task_sid, task, |attrs| {
        let existing = insights::existing_recordings(attrs, target);
        let start = insights::entry_start_time(existing, input.accepted_at, rec.start_ms, now_ms);
        let entry = MediaEntry::voice_recording(recording_url.to_string(), start, leg);
        last_entry = Some(entry.clone());
        let linked = insights::link_call(attrs, conference, customer_call)?;
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
    tracing::info!(task = %input.task_sid, worker = identity.worker_sid.as_ref().map(display), "link-call");
    let task = match s.config.authorization {
        AuthorizationMode::Strict => {
            let (access, policy) = tokio::join!(
                authz::task_access(&s.twilio, &identity, &input.task_sid, None),
                s.policy
                    .current_for(&s.twilio, identity.worker_sid.as_ref()),
            );
            let task = access?.task;
            if let Some(p) = policy? {
                p.check(Some(TaskFacts::of(&input.task_sid, &task)))?;
            }
            Some(task)
        }
        AuthorizationMode::TokenOnly => {
            token_only_policy(&state, &identity, Some(&input.task_sid)).await?
        }
    };
    let customer_call = match s.config.authorization {
        AuthorizationMode::Strict => {
            authz::verified_customer_call(
                &s.twilio,
                input.conference_sid.as_ref(),
                input.customer_call_sid.as_ref(),
            )
            .await?
        }
        AuthorizationMode::TokenOnly => input.customer_call_sid.clone(),
    };
    let conference = input.conference_sid.as_ref().map(|c| c.as_str());
    let customer_call = customer_call.as_ref().map(|c| c.as_str());
    let result = attributes::update(&s.twilio, &input.task_sid, task, |attrs| {
        let changed = insights::link_call(attrs, conference, customer_call)?;
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

fn write_problem_error(task_sid: &TaskSid, problem: WriteProblem) -> AppError {
    match problem {
        WriteProblem::TaskGone => AppError::task_not_found(task_sid),
        WriteProblem::Twilio(e) => AppError::from_twilio("updating the task", e),
        other => AppError::Conflict(format!("task {task_sid} was not updated: {other}")),
    }
}

/// Token-only authorization checks no reservation, but the policy still
/// applies: the task is read when the request names one (the read is then
/// reused for the attribute write).
async fn token_only_policy(
    state: &AppState,
    identity: &Identity,
    task_sid: Option<&TaskSid>,
) -> Result<Option<TaskSnapshot>, AppError> {
    let s = &*state.0;
    let worker = identity.worker_sid.as_ref();
    if s.config.policy == PolicyMode::Off {
        return Ok(None);
    }
    let Some(task_sid) = task_sid else {
        if let Some(p) = s.policy.current_for(&s.twilio, worker).await? {
            p.check(None)?;
        }
        return Ok(None);
    };
    let (task, policy) = tokio::join!(
        s.twilio.fetch_task(task_sid),
        s.policy.current_for(&s.twilio, worker)
    );
    let task = AppError::task_read(task_sid, task)?;
    if let Some(p) = policy? {
        p.check(Some(TaskFacts::of(task_sid, &task)))?;
    }
    Ok(Some(task))
}
