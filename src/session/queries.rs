//! What the shell asks the core between events: whether it is busy, how
//! long CompleteTask may be held, which conferences to forward.

use super::{Command, Core, LegState, Out, Phase, TimerPurpose, COMPLETE_HOLD_MS};
use crate::config::Channel;

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
        let channel = self.config.as_ref().map(|c| c.channel);
        let followed: Vec<String> = self
            .sessions
            .values()
            .filter(|s| match s.phase {
                // A paused task is watched for this worker leaving the call.
                _ if self.paused.contains_key(&s.task_sid) => true,
                Phase::Waiting | Phase::Conference => true,
                Phase::GaveUp => false,
                Phase::Active => {
                    channel == Some(Channel::Worker)
                        || s.legs
                            .iter()
                            .any(|r| matches!(r.state, LegState::Deferred { .. }))
                }
            })
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
