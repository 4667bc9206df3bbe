//! Backend answers: what each means for its request (done, refused, failed,
//! retried), and the retries.

use super::{Command, Core, LegState, Level, Out, Outgoing, TimerPurpose, CONTROL_ATTEMPTS};
use crate::api::ControlAction;
use crate::backend_client::{
    authorize_outcome, create_outcome, link_outcome, Answer, Outcome, RETRY,
};
use crate::pause;

impl Core {
    pub(super) fn on_answer(&mut self, request: u64, answer: Answer, out: &mut Out) {
        if let Some(task_sid) = self.authorizing.remove(&request) {
            match authorize_outcome(&answer) {
                Outcome::Done(_) => out.log(
                    Level::Debug,
                    format!("{task_sid}: the backend authorized its recording ahead"),
                ),
                Outcome::Refused(why) => out.log(
                    Level::Info,
                    format!("{task_sid}: the backend's recording policy will refuse its recording: {why}"),
                ),
                Outcome::Retry(why) | Outcome::Fail(why) => out.log(
                    Level::Debug,
                    format!("{task_sid}: authorizing ahead did not work ({why}); the recording request authorizes itself"),
                ),
            }
            return;
        }
        let Some(p) = self.requests.get_mut(&request) else {
            return;
        };
        p.in_flight = false;
        let (task_sid, attempt, orphaned) = (p.task_sid.clone(), p.attempt, p.orphaned);
        let (what, retry_why) = match &p.body {
            Outgoing::Create(body) => {
                let call_sid = body.call_sid.clone();
                match create_outcome(&answer) {
                    Outcome::Done(resp) => {
                        self.requests.remove(&request);
                        if let Some(r) = self.leg_mut(&task_sid, request) {
                            r.state = LegState::Recording {
                                recording_sid: resp.recording_sid.clone(),
                                already: resp.already_recording,
                            };
                        } else if let Some((_, done)) =
                            self.finished.iter_mut().rev().find(|(t, _)| *t == task_sid)
                        {
                            // The task ended while its request was on its way:
                            // the recording runs, so its status says so.
                            done.recordings.push(resp.recording_sid.clone());
                        }
                        out.log(
                            Level::Info,
                            format!(
                                "{} {} on {} for {task_sid}",
                                if resp.already_recording {
                                    "already recording"
                                } else {
                                    "recording"
                                },
                                resp.recording_sid,
                                resp.call_sid
                            ),
                        );
                        if let Some(w) = resp.warning {
                            out.log(
                                Level::Warn,
                                format!("{task_sid}: the recording runs but {w}"),
                            );
                        }
                        // Card details are being read: a leg that starts
                        // recording now (Join Call, a late start) is paused
                        // at once, like the one the agent paused.
                        if self.paused.contains_key(&task_sid) {
                            self.send_control(
                                &task_sid,
                                ControlAction::Pause,
                                "a new leg started recording while the task is paused",
                                out,
                            );
                        }
                        out.0.push(Command::RecordingStarted {
                            task_sid,
                            call_sid: resp.call_sid,
                            recording_sid: resp.recording_sid,
                            already_recording: resp.already_recording,
                        });
                        return;
                    }
                    Outcome::Fail(why) => {
                        self.requests.remove(&request);
                        if let Some(r) = self.leg_mut(&task_sid, request) {
                            r.state = LegState::Failed;
                        }
                        out.log(
                            Level::Error,
                            format!("could not record {call_sid} for {task_sid}: {why}"),
                        );
                        return;
                    }
                    Outcome::Refused(why) => {
                        // The administrator's rules, applied by the backend:
                        // expected, so not an error, and never retried.
                        self.requests.remove(&request);
                        if let Some(r) = self.leg_mut(&task_sid, request) {
                            r.state = LegState::Failed;
                        }
                        out.log(
                            Level::Info,
                            format!("not recording {call_sid} for {task_sid}: the backend's recording policy refused it: {why}"),
                        );
                        return;
                    }
                    Outcome::Retry(why) => (format!("recording {call_sid} for {task_sid}"), why),
                }
            }
            Outgoing::Link(_) => match link_outcome(&answer) {
                Outcome::Done(_) => {
                    self.requests.remove(&request);
                    out.log(Level::Debug, format!("linked the conference of {task_sid}"));
                    return;
                }
                Outcome::Fail(why) => {
                    self.requests.remove(&request);
                    out.log(
                        Level::Error,
                        format!("could not add the conference to {task_sid}: {why}"),
                    );
                    return;
                }
                Outcome::Refused(why) => {
                    self.requests.remove(&request);
                    out.log(
                        Level::Info,
                        format!("not adding the conference to {task_sid}: the backend's recording policy refused it: {why}"),
                    );
                    return;
                }
                Outcome::Retry(why) => (format!("linking the conference of {task_sid}"), why),
            },
            Outgoing::Control { action, .. } => {
                let action = action.as_str();
                match pause::control_outcome(&answer) {
                    Outcome::Done(state) => {
                        self.requests.remove(&request);
                        out.log(
                            Level::Info,
                            format!("{action} of {task_sid} done: {}", state.state),
                        );
                        return;
                    }
                    Outcome::Fail(why) => {
                        self.requests.remove(&request);
                        out.log(
                            Level::Warn,
                            format!("could not {action} the recording of {task_sid}: {why}"),
                        );
                        return;
                    }
                    Outcome::Refused(why) => {
                        self.requests.remove(&request);
                        out.log(
                            Level::Info,
                            format!("the backend refused to {action} the recording of {task_sid}: {why}"),
                        );
                        return;
                    }
                    Outcome::Retry(why) => (format!("{action} of {task_sid}"), why),
                }
            }
            // Never kept in `requests` (see `authorize_ahead`).
            Outgoing::Authorize(_) => {
                self.requests.remove(&request);
                return;
            }
        };
        // An automatic resume is retried briefly only: one that lands much
        // later could undo a pause the next agent of the call has made since.
        let control = self
            .requests
            .get(&request)
            .is_some_and(|p| matches!(p.body, Outgoing::Control { .. }));
        if orphaned || !RETRY.may_retry(attempt) || (control && attempt >= CONTROL_ATTEMPTS) {
            self.requests.remove(&request);
            if let Some(r) = self.leg_mut(&task_sid, request) {
                r.state = LegState::Failed;
            }
            if !orphaned {
                out.log(
                    Level::Error,
                    format!("gave up {what} after {attempt} attempts: {retry_why}"),
                );
            }
            return;
        }
        let delay = RETRY.delay_ms(attempt, self.jitter.unit());
        out.log(
            Level::Warn,
            format!("{what}: attempt {attempt} failed, {retry_why}; retrying in {delay} ms"),
        );
        self.set_timer(delay, TimerPurpose::Retry { request }, out);
    }
}
