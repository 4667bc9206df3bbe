//! The end of a task: its timers and retries end with it; a request in
//! flight may finish but is not retried.

use super::status::session_status;
use super::{Core, LegState, Level, Out, Outgoing, Status, FINISHED_KEPT};
use crate::api::ControlAction;

impl Core {
    pub(super) fn end(&mut self, task_sid: &str, reason: &str, out: &mut Out) {
        if let Ok((_, body)) = self.control_request(task_sid, ControlAction::Resume) {
            if self.ended_targets.len() >= FINISHED_KEPT {
                self.ended_targets.pop_front();
            }
            self.ended_targets.push_back((task_sid.to_string(), body));
        }
        self.paused_recordings.remove(task_sid);
        let Some(s) = self.sessions.remove(task_sid) else {
            return;
        };
        let status = session_status(&s);
        let mut timers: Vec<u64> = s.wait_timer.into_iter().collect();
        for r in &s.legs {
            if let LegState::Deferred { timer } = r.state {
                timers.push(timer);
            }
        }
        for timer in timers {
            self.cancel_timer(timer, out);
        }
        self.stop_requests(task_sid, ends_with_task, out);
        // An authorize-ahead answer for an ended task has nothing to tell.
        let stale: Vec<u64> = self
            .authorizing
            .iter()
            .filter(|(_, t)| t.as_str() == task_sid)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.authorizing.remove(&id);
        }
        let reason = if reason.is_empty() { "ended" } else { reason };
        out.log(
            Level::Debug,
            format!("{task_sid} {reason}; no longer following it"),
        );
        self.finish(
            task_sid,
            Status {
                state: "done",
                ..status
            },
        );
    }
}

/// The requests that end with their task: a recording, and an automatic
/// pause (of a leg that started recording while the task was paused), which
/// retried after the end would pause again what the end has just resumed. A
/// conference link and a resume outlive it (ARCHITECTURE.md, Invariants).
fn ends_with_task(body: &Outgoing) -> bool {
    matches!(
        body,
        Outgoing::Create(_)
            | Outgoing::Control {
                action: ControlAction::Pause,
                ..
            }
    )
}
