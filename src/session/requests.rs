//! Backend requests: sending (and keeping) them, authorize-ahead, and the
//! conference link of an outbound call.

use super::{Command, Core, Level, Out, Outgoing, Pending, TimerPurpose};
use crate::api::{
    AuthorizeRequest, LinkCallRequest, AUTHORIZE_PATH, CREATE_RECORDING_PATH, LINK_CALL_PATH,
};
use crate::config::Method;
use crate::leg::{self, CallKind};
use crate::sid::{is_sid, SidKind};

impl Core {
    /// Records a new request and asks the shell to send it.
    pub(super) fn send(&mut self, request: u64, task_sid: &str, body: Outgoing, out: &mut Out) {
        let Some(url) = self.url_for(&body) else {
            return;
        };
        let pending = Pending {
            task_sid: task_sid.to_string(),
            body: body.clone(),
            attempt: 1,
            in_flight: true,
            orphaned: false,
        };
        self.requests.insert(request, pending);
        out.0.push(Command::Send { request, url, body });
    }

    /// Tells the backend, once, that this task will be recorded, so that it
    /// checks token, reservation, task and policy while the legs are still
    /// joining and the recording request finds a grant. An optimisation only:
    /// it is not retried (a failure costs the recording request its own
    /// checks, nothing more), not tracked by `idle`, and its answer changes
    /// nothing but a log line.
    pub(super) fn authorize_ahead(&mut self, task_sid: &str, out: &mut Out) {
        let Some(config) = &self.config else { return };
        if config.method != Method::CallLeg {
            return;
        }
        let Some(reservation_sid) = self
            .sessions
            .get(task_sid)
            .and_then(|s| s.reservation_sid.clone())
        else {
            return;
        };
        let body = Outgoing::Authorize(AuthorizeRequest {
            token: String::new(),
            task_sid: task_sid.to_string(),
            reservation_sid,
        });
        let Some(url) = self.url_for(&body) else {
            return;
        };
        let request = self.id();
        self.authorizing.insert(request, task_sid.to_string());
        out.0.push(Command::Send { request, url, body });
    }

    pub(super) fn url_for(&self, body: &Outgoing) -> Option<String> {
        let path = match body {
            Outgoing::Create(_) => CREATE_RECORDING_PATH,
            Outgoing::Link(_) => LINK_CALL_PATH,
            Outgoing::Control { action, .. } => action.path(),
            Outgoing::Authorize(_) => AUTHORIZE_PATH,
        };
        self.config
            .as_ref()
            .map(|c| format!("{}{path}", c.backend_url))
    }

    pub(super) fn link_if_needed(&mut self, task_sid: &str, out: &mut Out) {
        let Some(s) = self.sessions.get_mut(task_sid) else {
            return;
        };
        if s.kind != CallKind::Outbound || s.linked {
            return;
        }
        let conference_sid = s
            .conference
            .as_ref()
            .and_then(|c| c.conference_sid.clone())
            .filter(|c| is_sid(SidKind::Conference, c));
        let Some(conference_sid) = conference_sid else {
            out.log(
                Level::Debug,
                format!("{task_sid} ended before Flex knew its conference; nothing to link"),
            );
            return;
        };
        s.linked = true;
        let body = Outgoing::Link(LinkCallRequest {
            token: String::new(),
            task_sid: task_sid.to_string(),
            conference_sid: Some(conference_sid),
            customer_call_sid: s
                .conference
                .as_ref()
                .and_then(leg::customer_leg)
                .map(str::to_string),
        });
        let request = self.id();
        self.send(request, task_sid, body, out);
    }

    /// Stops the task's requests that `which` picks: a retry waiting is
    /// canceled; one in flight may finish but is not retried.
    pub(super) fn stop_requests(
        &mut self,
        task_sid: &str,
        which: fn(&Outgoing) -> bool,
        out: &mut Out,
    ) {
        let picked = |p: &Pending| p.task_sid == task_sid && which(&p.body);
        let waiting: Vec<(u64, u64)> = self
            .timers
            .iter()
            .filter_map(|(id, purpose)| match purpose {
                TimerPurpose::Retry { request }
                    if self.requests.get(request).is_some_and(picked) =>
                {
                    Some((*id, *request))
                }
                _ => None,
            })
            .collect();
        for (timer, request) in waiting {
            self.requests.remove(&request);
            self.cancel_timer(timer, out);
        }
        for p in self.requests.values_mut() {
            if picked(p) {
                p.orphaned = true;
            }
        }
    }
}
