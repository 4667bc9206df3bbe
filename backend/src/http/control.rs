//! The pause, resume and recording-state endpoints: token check, then
//! (with `AUTHORIZATION=strict`) the worker's reservation on the task and
//! the leg or conference belonging to it, through the same `authz`
//! functions as recording; a resume is also a recording, so the policy
//! applies to it. Then `domain::pause` does what was asked.

use crate::config::AuthorizationMode;
use crate::domain::authz;
use crate::domain::pause::{self, Control};
use crate::domain::policy::TaskFacts;
use crate::error::AppError;
use crate::http::body::FormOrJson;
use crate::http::detached;
use crate::http::input::ControlInput;
use crate::twilio::RecordingParent;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use dual_channel_recording::api::{
    ControlAction, RecordingControlRequest, RecordingControlResponse,
};

pub async fn pause(
    state: State<AppState>,
    body: FormOrJson<RecordingControlRequest>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, body, ControlAction::Pause).await
}

pub async fn resume(
    state: State<AppState>,
    body: FormOrJson<RecordingControlRequest>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, body, ControlAction::Resume).await
}

pub async fn state(
    state: State<AppState>,
    body: FormOrJson<RecordingControlRequest>,
) -> Result<Json<RecordingControlResponse>, AppError> {
    handle(state, body, ControlAction::State).await
}

async fn handle(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<RecordingControlRequest>,
    action: ControlAction,
) -> Result<Json<RecordingControlResponse>, AppError> {
    let input = ControlInput::new(request, action)?;
    // Finished even if the browser goes away: a pause half-applied across
    // several recordings is worse than one the agent learns about late.
    detached(control(state, input, action)).await.map(Json)
}

async fn control(
    state: AppState,
    input: ControlInput,
    action: ControlAction,
) -> Result<RecordingControlResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    let on = input
        .parents
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    tracing::info!(task = %input.task_sid, %on, worker = identity.worker_sid.as_ref().map(tracing::field::display), action = action.as_str(), "recording-control");
    let mut task = None;
    if s.config.authorization == AuthorizationMode::Strict {
        let access = authz::task_access(&s.twilio, &identity, &input.task_sid, None).await?;
        // Every place named must be the task's: a pause reaches each.
        let conference = input.parents.iter().find_map(|p| match p {
            RecordingParent::Conference(cf) => Some(cf),
            RecordingParent::Call(_) => None,
        });
        for parent in &input.parents {
            match parent {
                RecordingParent::Call(call) => {
                    authz::call_belongs_to_task(
                        &s.twilio,
                        &identity,
                        &input.task_sid,
                        &access.task,
                        call,
                        conference,
                    )
                    .await?
                }
                RecordingParent::Conference(cf) => {
                    authz::conference_belongs_to_task(&s.twilio, &input.task_sid, &access.task, cf)
                        .await?
                }
            }
        }
        task = Some(access.task);
    }

    if action == ControlAction::Resume {
        if let Some(policy) = s
            .policy
            .current_for(&s.twilio, identity.worker_sid.as_ref())
            .await?
        {
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

    // A pause that arrives while this backend is still starting a leg's
    // recording (another tab's request) waits for it, then pauses it, instead
    // of answering that nothing is recorded.
    // Locked in SID order, so two requests naming the same calls never wait
    // on each other.
    let mut calls: Vec<_> = input
        .parents
        .iter()
        .filter_map(|p| match p {
            RecordingParent::Call(call) => Some(call),
            RecordingParent::Conference(_) => None,
        })
        .collect();
    calls.sort_by_key(|c| c.to_string());
    let mut slots = Vec::with_capacity(calls.len());
    for call in calls {
        slots.push(s.recordings.slot(call).await);
    }
    let mut _started = Vec::with_capacity(slots.len());
    for slot in &slots {
        _started.push(slot.lock().await);
    }
    pause::apply(
        &s.twilio,
        &s.policy,
        &s.pause_watch,
        Control {
            task_sid: &input.task_sid,
            parents: &input.parents,
            action,
            pause_behavior: input.pause_behavior,
            only: input.recording_sids.as_deref(),
        },
    )
    .await
}
