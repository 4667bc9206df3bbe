//! Legs: which leg of a session is due now, whether this instance starts it
//! at once or defers to the one carrying it, and its create request.

use super::{Core, LegRecord, LegState, Level, Out, Outgoing, Phase, TimerPurpose, DEFER_MS};
use crate::api::{CreateRecordingRequest, TargetKind};
use crate::config::Channel;
use crate::leg::{self, carried_here, recordable_leg, CallKind};
use crate::sid::{is_sid, SidKind};

impl Core {
    /// Looks at one session against the current Flex state and starts what is due.
    pub(super) fn evaluate(&mut self, task_sid: &str, out: &mut Out) {
        let Some(config) = &self.config else { return };
        let channel = config.channel;
        let Some(s) = self.sessions.get(task_sid) else {
            return;
        };
        if matches!(s.phase, Phase::GaveUp | Phase::Conference) {
            return;
        }
        let active = self.active_call.as_deref();
        let Some(leg) = recordable_leg(
            channel,
            s.kind,
            s.conference.as_ref(),
            active,
            &self.worker_sid,
        ) else {
            return;
        };
        let carried = carried_here(&leg, s.conference.as_ref(), active, &self.worker_sid);
        let has_own_call = active.is_some();
        let one_per_task = channel == Channel::Customer || s.kind == CallKind::InternalOutbound;
        let existing = s.legs.iter().position(|r| r.leg.call_sid == leg.call_sid);
        if let Some(i) = existing {
            if let LegState::Deferred { timer } = s.legs[i].state {
                if carried {
                    self.cancel_timer(timer, out);
                    self.start(task_sid, i, out);
                }
            }
            return;
        }
        if one_per_task
            && s.legs
                .iter()
                .any(|r| r.state != LegState::Failed && r.state != LegState::Superseded)
        {
            return;
        }
        // A new live leg: legs still waiting their turn are no longer live.
        let wait_timer = s.wait_timer;
        let stale: Vec<u64> = s
            .legs
            .iter()
            .filter_map(|r| match r.state {
                LegState::Deferred { timer } => Some(timer),
                _ => None,
            })
            .collect();
        for timer in stale {
            self.cancel_timer(timer, out);
        }
        if let Some(timer) = wait_timer {
            self.cancel_timer(timer, out);
        }
        // Only an instance busy with another call of its own defers: it is
        // surely not the one carrying this leg. One with no call of its own
        // (an agent on a phone number, or a second tab) acts at once; the
        // backend answers the later of two requests with the same recording.
        let defer = if carried || !has_own_call {
            None
        } else {
            Some(self.set_timer(
                DEFER_MS,
                TimerPurpose::Defer {
                    task_sid: task_sid.to_string(),
                    call_sid: leg.call_sid.clone(),
                },
                out,
            ))
        };
        let Some(s) = self.sessions.get_mut(task_sid) else {
            return;
        };
        s.wait_timer = None;
        s.phase = Phase::Active;
        for r in &mut s.legs {
            if matches!(r.state, LegState::Deferred { .. }) {
                r.state = LegState::Superseded;
            }
        }
        s.legs.push(LegRecord {
            leg,
            state: LegState::Deferred {
                timer: defer.unwrap_or(0),
            },
        });
        let i = s.legs.len() - 1;
        if defer.is_none() {
            self.start(task_sid, i, out);
        }
    }

    /// Sends the create-recording request for leg `i` of a session.
    pub(super) fn start(&mut self, task_sid: &str, i: usize, out: &mut Out) {
        let Some(config) = &self.config else { return };
        let channel = config.channel;
        let request = self.id();
        let Some(s) = self.sessions.get_mut(task_sid) else {
            return;
        };
        let Some(record) = s.legs.get_mut(i) else {
            return;
        };
        let target = match channel {
            Channel::Customer => Some(TargetKind::Conversation),
            Channel::Worker if s.reservation_sid.is_some() => Some(TargetKind::Reservation),
            Channel::Worker => {
                out.log(
                    Level::Warn,
                    format!("{task_sid} has no reservation SID: its recording cannot be linked to the worker's segment"),
                );
                None
            }
        };
        let outbound = s.kind == CallKind::Outbound;
        let conference_sid = s
            .conference
            .as_ref()
            .and_then(|c| c.conference_sid.clone())
            .filter(|c| is_sid(SidKind::Conference, c));
        let customer = s
            .conference
            .as_ref()
            .and_then(leg::customer_leg)
            .map(str::to_string);
        let body = CreateRecordingRequest {
            call_sid: record.leg.call_sid.clone(),
            token: String::new(),
            task_sid: Some(task_sid.to_string()),
            reservation_sid: s.reservation_sid.clone(),
            leg: Some(record.leg.kind),
            target,
            accepted_at: s.accepted_at,
            conference_sid: if outbound {
                conference_sid.clone()
            } else {
                None
            },
            customer_call_sid: if outbound { customer } else { None },
        };
        if outbound && conference_sid.is_some() {
            s.linked = true;
        }
        record.state = LegState::Starting { request };
        let message = format!("starting the recording of {} for {task_sid}", body.call_sid);
        // The request first: logging can be slow (an open console).
        self.send(request, task_sid, Outgoing::Create(body), out);
        out.log(Level::Debug, message);
    }

    pub(super) fn leg_mut(&mut self, task_sid: &str, request: u64) -> Option<&mut LegRecord> {
        self.sessions
            .get_mut(task_sid)?
            .legs
            .iter_mut()
            .find(|r| r.state == LegState::Starting { request })
    }
}
