//! `status(taskSid)`: where a task's recording is, and why, in words an
//! administrator (or the demo) can show as they are.

use super::{Core, LegState, Phase, Session, Status};
use crate::leg::CallKind;

impl Core {
    pub fn status(&self, task_sid: &str) -> Status {
        if let Some(s) = self.sessions.get(task_sid) {
            return session_status(s);
        }
        self.finished
            .iter()
            .rev()
            .find(|(t, _)| t == task_sid)
            .map(|(_, s)| s.clone())
            .unwrap_or(Status {
                state: "unknown",
                recordings: Vec::new(),
                reason: None,
            })
    }
}

pub(super) fn session_status(s: &Session) -> Status {
    let recordings: Vec<String> = s
        .legs
        .iter()
        .filter_map(|r| match &r.state {
            LegState::Recording { recording_sid, .. } => Some(recording_sid.clone()),
            _ => None,
        })
        .collect();
    let starting = s.legs.iter().any(|r| {
        matches!(
            r.state,
            LegState::Deferred { .. } | LegState::Starting { .. }
        )
    });
    let state = match s.phase {
        Phase::Waiting => "waiting",
        Phase::GaveUp => "done",
        Phase::Conference => "recording",
        Phase::Active if starting => "starting",
        Phase::Active if !recordings.is_empty() => "recording",
        Phase::Active => "failed",
    };
    Status {
        state,
        recordings,
        reason: Some(session_reason(s, state).into()),
    }
}

/// Why a session is where it is, in words an administrator (or the demo) can
/// show as they are.
pub(super) fn session_reason(s: &Session, state: &str) -> &'static str {
    let deferred = s
        .legs
        .iter()
        .any(|r| matches!(r.state, LegState::Deferred { .. }));
    let last_recording = s.legs.iter().rev().find_map(|r| match &r.state {
        LegState::Recording { already, .. } => Some((r.leg.kind, *already)),
        _ => None,
    });
    match (state, s.phase) {
        (_, Phase::Waiting) if s.kind == CallKind::Outbound => {
            "waiting for the customer to answer (the leg to record)"
        }
        (_, Phase::Waiting) => "waiting for the leg to record to join the conference",
        (_, Phase::GaveUp) => "gave up: no leg to record joined within max_wait_seconds",
        (_, Phase::Conference) => "Flex records the whole conference (method conference)",
        ("starting", _) if deferred => {
            "another tab or device carries this call; this one starts the recording only if that one does not"
        }
        ("starting", _) => "asking the backend to start the recording",
        _ => match last_recording {
            Some((_, true)) => {
                "recorded by another tab or device: the backend answered alreadyRecording"
            }
            Some((crate::insights::RecordedLeg::Customer, false)) => {
                "recording the customer's leg for the whole call; Join Call and new worker legs keep this recording"
            }
            Some((crate::insights::RecordedLeg::Worker, false))
                if s.kind == CallKind::InternalOutbound =>
            {
                "recording this agent's outgoing internal call"
            }
            Some((crate::insights::RecordedLeg::Worker, false)) => {
                "recording this worker's leg; each new leg of this worker (Join Call) gets its own recording"
            }
            None => "the recording could not be started; the browser console says why",
        },
    }
}
