//! Pause, resume and read the recordings of a task (PCI: card details must
//! not be recorded).
//!
//! Every active recording on the leg or conference is addressed by its SID
//! (never `Twilio.CURRENT`, which is ambiguous when there are several:
//! Twilio error 16108) and set to the asked status when it does not already
//! have it, so a repeated request (another tab, a retry) answers the state
//! without changing anything. Who may ask is checked before (`authz`, by the
//! HTTP layer's sequence); a pause this backend makes is watched
//! (`pause_watch`).

use crate::domain::pause_watch::{PauseWatch, Watched};
use crate::domain::policy::PolicyCache;
use crate::error::AppError;
use crate::twilio::{Recording, RecordingParent, TwilioClient};
use dual_channel_recording::api::{
    ControlAction, PauseBehavior, RecordingControlResponse, RecordingStatusEntry,
};
use dual_channel_recording::sid::{RecordingSid, TaskSid};

/// What a control request acts on, once its asker is authorized.
pub struct Control<'a> {
    pub task_sid: &'a TaskSid,
    pub parent: &'a RecordingParent,
    pub action: ControlAction,
    /// Pausing only; Twilio's default (`silence`) when absent.
    pub pause_behavior: Option<PauseBehavior>,
}

/// Sets every active recording at `control.parent` to the status the
/// action asks for (none for `State`) and answers what each one has now.
pub async fn apply(
    twilio: &TwilioClient,
    policy: &PolicyCache,
    watch: &PauseWatch,
    control: Control<'_>,
) -> Result<RecordingControlResponse, AppError> {
    let Control {
        task_sid,
        parent,
        action,
        pause_behavior,
    } = control;
    let (listed, _) = twilio.list_recordings_of(parent).await.map_err(|e| {
        AppError::from_twilio(
            match parent {
                RecordingParent::Call(_) => "listing the call's recordings",
                RecordingParent::Conference(_) => "listing the conference's recordings",
            },
            e,
        )
    })?;
    let active: Vec<Recording> = listed
        .into_iter()
        .filter(|r| matches!(r.status.as_deref(), Some("in-progress") | Some("paused")))
        .collect();
    if active.is_empty() && action != ControlAction::State {
        let where_ = match parent {
            RecordingParent::Call(ca) => ca.to_string(),
            RecordingParent::Conference(cf) => cf.to_string(),
        };
        return Err(AppError::Conflict(format!(
            "nothing is being recorded on {where_} of task {task_sid}"
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
        ControlAction::Pause => match policy.current(twilio).await {
            Ok(p) => p.and_then(|p| p.max_pause),
            Err(e) => {
                tracing::warn!(task = %task_sid, error = %e, "the Flex configuration cannot be read: this pause is not watched by the backend");
                None
            }
        },
        _ => None,
    };
    let (call_sid, conference_sid) = match parent {
        RecordingParent::Call(ca) => (Some(ca.to_string()), None),
        RecordingParent::Conference(cf) => (None, Some(cf.to_string())),
    };
    let mut entries = Vec::with_capacity(active.len());
    for rec in active {
        let Ok(recording_sid) = RecordingSid::parse(&rec.sid) else {
            tracing::warn!(recording = %rec.sid, "Twilio listed a recording with an unexpected SID; skipped");
            continue;
        };
        let mut status = rec.status.clone().unwrap_or_default();
        if let Some(w) = wanted {
            if status != w {
                let behavior = (w == "paused")
                    .then_some(pause_behavior.map(PauseBehavior::as_str))
                    .flatten();
                let updated = twilio
                    .update_recording_status(parent, &recording_sid, w, behavior)
                    .await
                    .map_err(|e| AppError::from_twilio(doing, e))?;
                status = updated.status.unwrap_or_else(|| w.to_string());
                tracing::info!(recording = %recording_sid, %status, task = %task_sid, "recording status set");
                if status == "paused" {
                    let paused = Watched {
                        task_sid: task_sid.clone(),
                        parent: parent.clone(),
                        recording_sid: recording_sid.clone(),
                    };
                    watch.paused(paused, max_pause).await;
                }
            }
            if action == ControlAction::Resume {
                watch.resumed(&recording_sid).await;
            }
        }
        entries.push(RecordingStatusEntry {
            recording_sid: recording_sid.to_string(),
            call_sid: call_sid.clone(),
            conference_sid: conference_sid.clone(),
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
