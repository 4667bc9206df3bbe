//! What the shell asks the core between events: whether it is busy, how
//! long CompleteTask may be held, which conferences to forward.

use super::{Command, Core, Out, Phase, TimerPurpose, COMPLETE_HOLD_MS};

impl Core {
    /// No backend request, retry or deferred start is pending.
    pub fn idle(&self) -> bool {
        self.requests.is_empty()
            && !self
                .timers
                .values()
                .any(|t| matches!(t, TimerPurpose::Defer { .. } | TimerPurpose::Retry { .. }))
    }

    /// A backend request of this task (sent, or waiting to be retried) has not
    /// been answered yet.
    pub fn request_pending(&self, task_sid: &str) -> bool {
        self.requests.values().any(|p| p.task_sid == task_sid)
    }

    /// How long the shim may hold CompleteTask for this task: up to
    /// [`COMPLETE_HOLD_MS`] while one of its requests is pending, else not at all.
    pub fn complete_hold_ms(&self, task_sid: &str) -> u64 {
        if self.request_pending(task_sid) {
            COMPLETE_HOLD_MS
        } else {
            0
        }
    }

    pub fn followed(&self) -> &[String] {
        &self.followed
    }

    pub(super) fn sync_follow(&mut self, out: &mut Out) {
        // Every task with a recording to start or that runs is followed to
        // its end: Join Call, a transfer, a leg that starts late; and a pause
        // or resume (another tab's, or after the hang-up) of a recording
        // that ended with its call is then known, and not sent. A task given
        // up on is not, unless this instance paused it (watched for this
        // worker leaving the call).
        let followed: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.phase != Phase::GaveUp || self.paused.contains_key(&s.task_sid))
            .map(|s| s.task_sid.clone())
            .collect();
        if followed != self.followed {
            self.followed = followed.clone();
            out.0.push(Command::Follow {
                task_sids: followed,
            });
        }
    }
}
