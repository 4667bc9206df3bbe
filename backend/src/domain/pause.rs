//! Pause, resume and read the recordings of a task (PCI: card details must
//! not be recorded).
//!
//! A pause reaches every recording of the call that runs: on the plugin's
//! leg, on the conference (Flex's own Call Recording, the conference
//! method) and on the customer's call (any other), and says which it paused;
//! a resume that names those resumes them and no other.
//!
//! Every active recording is addressed by its SID
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
    /// Where the task's recordings may run: the plugin's leg, the
    /// conference (Flex's own recording), the customer's call.
    pub parents: &'a [RecordingParent],
    pub action: ControlAction,
    /// Pausing only; Twilio's default (`silence`) when absent.
    pub pause_behavior: Option<PauseBehavior>,
    /// Resuming only: these recordings and no other (what the plugin's
    /// pauses paused); `None` resumes every paused one.
    pub only: Option<&'a [RecordingSid]>,
}

/// Lists the active recordings at each parent, each recording once with the
/// parent Twilio addresses it under.
async fn active_recordings(
    twilio: &TwilioClient,
    parents: &[RecordingParent],
) -> Result<Vec<(RecordingParent, Recording)>, AppError> {
    let mut active: Vec<(RecordingParent, Recording)> = Vec::new();
    for parent in parents {
        let (listed, _) = twilio.list_recordings_of(parent).await.map_err(|e| {
            AppError::from_twilio(
                match parent {
                    RecordingParent::Call(_) => "listing the call's recordings",
                    RecordingParent::Conference(_) => "listing the conference's recordings",
                },
                e,
            )
        })?;
        for rec in listed {
            let live = matches!(rec.status.as_deref(), Some("in-progress") | Some("paused"));
            if live && !active.iter().any(|(_, r)| r.sid == rec.sid) {
                active.push((parent.clone(), rec));
            }
        }
    }
    Ok(active)
}

/// Whether a recording with `status` is one the action changes.
fn changes(
    action: ControlAction,
    status: &str,
    sid: &RecordingSid,
    only: Option<&[RecordingSid]>,
) -> bool {
    match action {
        ControlAction::Pause => status == "in-progress",
        ControlAction::Resume => status == "paused" && only.is_none_or(|o| o.contains(sid)),
        ControlAction::State => false,
    }
}

/// Sets every active recording at `control.parents` to the status the
/// action asks for (none for `State`) and answers what each one has now,
/// and which ones this request changed.
pub async fn apply(
    twilio: &TwilioClient,
    policy: &PolicyCache,
    watch: &PauseWatch,
    control: Control<'_>,
) -> Result<RecordingControlResponse, AppError> {
    let Control {
        task_sid,
        parents,
        action,
        pause_behavior,
        only,
    } = control;
    let active = active_recordings(twilio, parents).await?;
    if active.is_empty() && action != ControlAction::State {
        let where_ = parents
            .iter()
            .map(|p| match p {
                RecordingParent::Call(ca) => ca.to_string(),
                RecordingParent::Conference(cf) => cf.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::Conflict(format!(
            "nothing is being recorded on {where_} of task {task_sid}"
        )));
    }
    let wanted = match action {
        ControlAction::Pause => "paused",
        _ => "in-progress",
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
    let mut entries = Vec::with_capacity(active.len());
    let mut changed = Vec::new();
    for (parent, rec) in active {
        let Ok(recording_sid) = RecordingSid::parse(&rec.sid) else {
            tracing::warn!(recording = %rec.sid, "Twilio listed a recording with an unexpected SID; skipped");
            continue;
        };
        let mut status = rec.status.clone().unwrap_or_default();
        if changes(action, &status, &recording_sid, only) {
            let behavior = (action == ControlAction::Pause)
                .then_some(pause_behavior.map(PauseBehavior::as_str))
                .flatten();
            let updated = twilio
                .update_recording_status(&parent, &recording_sid, wanted, behavior)
                .await
                .map_err(|e| AppError::from_twilio(doing, e))?;
            status = updated.status.unwrap_or_else(|| wanted.to_string());
            tracing::info!(recording = %recording_sid, on = %parent, %status, task = %task_sid, "recording status set");
            if status == wanted {
                changed.push(recording_sid.to_string());
            }
            if status == "paused" {
                let paused = Watched {
                    task_sid: task_sid.clone(),
                    parent: parent.clone(),
                    recording_sid: recording_sid.clone(),
                };
                watch.paused(paused, max_pause).await;
            }
        }
        if action == ControlAction::Resume && status == "in-progress" {
            watch.resumed(&recording_sid).await;
        }
        let (call_sid, conference_sid) = match &parent {
            RecordingParent::Call(ca) => (Some(ca.to_string()), None),
            RecordingParent::Conference(cf) => (None, Some(cf.to_string())),
        };
        entries.push(RecordingStatusEntry {
            recording_sid: recording_sid.to_string(),
            call_sid,
            conference_sid,
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
    let (paused, resumed) = match action {
        ControlAction::Pause => (changed, Vec::new()),
        ControlAction::Resume => (Vec::new(), changed),
        ControlAction::State => (Vec::new(), Vec::new()),
    };
    Ok(RecordingControlResponse {
        success: true,
        state: state_word.into(),
        recordings: entries,
        paused,
        resumed,
    })
}
