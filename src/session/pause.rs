//! Pause and resume: the request the shim's buttons send, and the automatic
//! resume that keeps a recording this instance paused from staying paused.

use super::{Core, LegState, Level, Out, Outgoing, TimerPurpose};
use crate::api::{ControlAction, RecordingControlRequest};
use crate::config::{self, Channel};
use crate::leg;
use crate::pause::{self, ControlState, NoTarget, PauseConfig, RecordedLegRef, Target};

impl Core {
    /// The pause configuration for the shim's UI, `None` when invalid.
    pub fn pause_config(&self) -> Option<&PauseConfig> {
        self.pause.as_ref()
    }

    /// A recording of the task is being started (requested or deferred): a
    /// pause asked now waits for it, or it would find nothing to pause and the
    /// recording would then run unpaused.
    pub fn control_pending(&self, task_sid: &str) -> bool {
        self.sessions.get(task_sid).is_some_and(|s| {
            s.legs.iter().any(|r| {
                matches!(
                    r.state,
                    LegState::Starting { .. } | LegState::Deferred { .. }
                )
            })
        })
    }

    /// The request that pauses, resumes or reads the recordings of a task,
    /// and where it goes; or why there is none (what the action rejects with).
    /// A pause or resume of a recording known to have ended with its call is
    /// not sent: its answer could only be "nothing is being recorded".
    pub fn control_request(
        &self,
        task_sid: &str,
        action: ControlAction,
    ) -> Result<(String, RecordingControlRequest), String> {
        let (url, body) = self.control_body(task_sid, action)?;
        if action != ControlAction::State && self.recording_ended(task_sid, &body) {
            return Err(NoTarget::NothingRecording.reason(task_sid));
        }
        Ok((url, body))
    }

    fn control_body(
        &self,
        task_sid: &str,
        action: ControlAction,
    ) -> Result<(String, RecordingControlRequest), String> {
        let Some(config) = &self.config else {
            return Err(
                "call recording is off or misconfigured in this Flex window (see the log)".into(),
            );
        };
        let Some(pause_config) = &self.pause else {
            return Err(NoTarget::Misconfigured.reason(task_sid));
        };
        if config.backend_url.is_empty() {
            // The conference method needs the backend only for this.
            return Err(format!(
                "pausing needs the recording backend: set custom_data.{}.backend_url (or the template's serverless_functions_domain)",
                self.block.recording_path()
            ));
        }
        let Some(s) = self.sessions.get(task_sid) else {
            // Accepted here but not recorded (excluded, not a call), or over.
            let known = self.finished.iter().any(|(t, _)| t == task_sid);
            return Err(if known {
                NoTarget::NothingRecording
            } else {
                NoTarget::NotThisWorkersTask
            }
            .reason(task_sid));
        };
        let recorded: Vec<RecordedLegRef> = s
            .legs
            .iter()
            .filter(|r| matches!(r.state, LegState::Recording { .. }))
            .map(|r| RecordedLegRef {
                call_sid: &r.leg.call_sid,
                kind: r.leg.kind,
            })
            .collect();
        let target = pause::target(
            config.method,
            config.channel,
            s.conference.as_ref(),
            &recorded,
            &self.worker_sid,
        )
        .map_err(|e| e.reason(task_sid))?;
        let places = pause::places(target, s.conference.as_ref());
        let recording_sids = match action {
            ControlAction::Resume => self
                .paused_recordings
                .get(task_sid)
                .filter(|sids| !sids.is_empty())
                .map(|sids| {
                    sids.iter()
                        .map(|(sid, _)| sid.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            _ => None,
        };
        let body = RecordingControlRequest {
            token: String::new(),
            task_sid: task_sid.to_string(),
            call_sid: places.call_sid,
            conference_sid: places.conference_sid,
            customer_call_sid: places.customer_call_sid,
            pause_behavior: (action == ControlAction::Pause).then(|| pause_config.pause_behavior()),
            recording_sids,
        };
        Ok((format!("{}{}", config.backend_url, action.path()), body))
    }

    /// Keeps what a pause paused, for the resume; a resume done forgets it
    /// (what it could not resume has ended).
    pub fn remember_control(
        &mut self,
        task_sid: &str,
        action: ControlAction,
        state: &ControlState,
    ) {
        match action {
            ControlAction::Pause if !state.paused_now.is_empty() => {
                let mut known = self.paused_recordings.remove(task_sid).unwrap_or_default();
                for sid in &state.paused_now {
                    if !known.iter().any(|(k, _)| k == sid) {
                        let parent = state
                            .parents
                            .iter()
                            .find(|(p, _)| p == sid)
                            .map(|(_, t)| t.clone());
                        known.push((sid.clone(), parent));
                    }
                }
                self.paused_recordings.insert(task_sid.to_string(), known);
            }
            ControlAction::Resume => {
                self.paused_recordings.remove(task_sid);
            }
            _ => {}
        }
    }

    pub(super) fn on_pause_state(&mut self, task_sid: &str, paused: bool, out: &mut Out) {
        if !paused {
            if let Some(Some(timer)) = self.paused.remove(task_sid) {
                self.cancel_timer(timer, out);
            }
            self.stop_requests(task_sid, is_pause, out);
            return;
        }
        if !self.sessions.contains_key(task_sid) {
            // This tab's pause landed after the task left this worker: nobody
            // would ever resume it, so it is resumed now.
            let ended = self
                .ended_targets
                .iter()
                .rev()
                .find(|(t, _)| t == task_sid)
                .map(|(_, body)| body.clone());
            if let Some(body) = ended {
                self.send_control_body(
                    task_sid,
                    ControlAction::Resume,
                    body,
                    "the pause landed after the task left this worker",
                    out,
                );
            }
            return;
        }
        if self.paused.contains_key(task_sid) {
            return;
        }
        let max = self.pause.as_ref().and_then(|p| p.max_pause_ms);
        let timer = max.map(|ms| {
            self.set_timer(
                ms,
                TimerPurpose::MaxPause {
                    task_sid: task_sid.to_string(),
                },
                out,
            )
        });
        self.paused.insert(task_sid.to_string(), timer);
        // The pause may land after this worker left the call.
        self.resume_if_left(task_sid, out);
    }

    /// A transfer: this worker has no live leg in the conference any more
    /// while the customer's call (or the conference) goes on, recorded and
    /// paused. On the worker channel the paused leg ends with the worker, so
    /// there is nothing to resume.
    pub(super) fn resume_if_left(&mut self, task_sid: &str, out: &mut Out) {
        let Some(config) = &self.config else { return };
        if !self.paused.contains_key(task_sid)
            || (config.channel == Channel::Worker && config.method != config::Method::Conference)
        {
            return;
        }
        let left = self
            .sessions
            .get(task_sid)
            .and_then(|s| s.conference.as_ref())
            .is_some_and(|c| {
                !leg::worker_joined(c, &self.worker_sid) && leg::customer_leg(c).is_some()
            });
        if left {
            self.resume_if_paused(task_sid, "this worker left the call, which goes on", out);
        }
    }

    /// Never left paused by accident: a recording this instance knows paused
    /// is resumed when the worker's part ends or the pause ran too long.
    pub(super) fn resume_if_paused(&mut self, task_sid: &str, why: &str, out: &mut Out) {
        let Some(timer) = self.paused.remove(task_sid) else {
            return;
        };
        if let Some(timer) = timer {
            self.cancel_timer(timer, out);
        }
        self.stop_requests(task_sid, is_pause, out);
        self.send_control(task_sid, ControlAction::Resume, why, out);
    }

    /// An automatic pause or resume of the task's recordings, sent by the core.
    pub(super) fn send_control(
        &mut self,
        task_sid: &str,
        action: ControlAction,
        why: &str,
        out: &mut Out,
    ) {
        match self.control_body(task_sid, action) {
            Ok((_, body)) if self.recording_ended(task_sid, &body) => out.log(
                Level::Debug,
                format!(
                    "no {} of the recording of {task_sid} ({why}): it ended with its call",
                    action.as_str()
                ),
            ),
            Ok((_, body)) => self.send_control_body(task_sid, action, body, why, out),
            Err(reason) => out.log(
                Level::Warn,
                format!(
                    "could not {} the recording of {task_sid} ({why}): {reason}",
                    action.as_str()
                ),
            ),
        }
    }

    /// The conference of the task shows every place the request reaches
    /// gone: the leg, the conference (Flex's own recording) and the
    /// customer's call; for a resume of what this instance's pauses paused,
    /// where those recordings ran when the backend said. One still there
    /// may hold a recording the pause paused (the worker's leg ends at a
    /// transfer while the conference and the customer's call go on), so it
    /// is sent.
    fn recording_ended(&self, task_sid: &str, body: &RecordingControlRequest) -> bool {
        let conference = self
            .sessions
            .get(task_sid)
            .and_then(|s| s.conference.as_ref());
        let ended = |targets: &mut dyn Iterator<Item = &Target>| {
            let mut targets = targets.peekable();
            targets.peek().is_some() && targets.all(|t| pause::target_ended(t, conference))
        };
        let paused = body
            .recording_sids
            .as_ref()
            .and_then(|_| self.paused_recordings.get(task_sid))
            .filter(|known| known.iter().all(|(_, parent)| parent.is_some()));
        if let Some(known) = paused {
            return ended(&mut known.iter().filter_map(|(_, parent)| parent.as_ref()));
        }
        let places = [
            body.call_sid.clone().map(Target::Call),
            body.conference_sid.clone().map(Target::Conference),
            body.customer_call_sid.clone().map(Target::Call),
        ];
        ended(&mut places.iter().flatten())
    }

    pub(super) fn send_control_body(
        &mut self,
        task_sid: &str,
        action: ControlAction,
        body: RecordingControlRequest,
        why: &str,
        out: &mut Out,
    ) {
        out.log(
            Level::Info,
            format!("{} of the recording of {task_sid}: {why}", action.as_str()),
        );
        let request = self.id();
        self.send(request, task_sid, Outgoing::Control { action, body }, out);
    }
}

/// An automatic pause (of a leg that started recording while the task was
/// paused). Once the task is resumed, a retry of one would pause it again
/// with nobody left to resume it.
fn is_pause(body: &Outgoing) -> bool {
    matches!(
        body,
        Outgoing::Control {
            action: ControlAction::Pause,
            ..
        }
    )
}
