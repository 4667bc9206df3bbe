//! Backend answers: what each means for its request (done, refused, failed,
//! retried), and the retries.
//!
//! The three kinds of request the core keeps (a recording, a conference link,
//! an automatic pause or resume) are answered alike; they differ only in
//! their words, how long they are retried and what done means. `reading` is
//! that table; `on_answer` applies it to all three.

use super::{Command, Core, LegState, Level, Out, Outgoing, TimerPurpose, CONTROL_ATTEMPTS};
use crate::api::ControlAction;
use crate::backend_client::{
    authorize_outcome, create_outcome, link_outcome, Answer, Outcome, Started, RETRY,
};
use crate::pause;

/// What a request that succeeded did.
enum Done {
    Recording(Started),
    Linked,
    /// A pause or resume, and the recording's state after it.
    Controlled {
        action: ControlAction,
        state: crate::pause::ControlState,
    },
}

/// One row of the table: how the answers to one request are told.
struct Reading {
    outcome: Outcome<Done>,
    /// The request, as a retry or a give-up names it.
    what: String,
    /// A final failure: its level, and what could not be done.
    failed: (Level, String),
    /// What the backend's recording policy refused.
    refused: String,
    /// Attempts at most, besides the retry schedule's own limit.
    max_attempts: Option<u32>,
}

fn map<T>(outcome: Outcome<T>, done: impl FnOnce(T) -> Done) -> Outcome<Done> {
    match outcome {
        Outcome::Done(t) => Outcome::Done(done(t)),
        Outcome::Retry(why) => Outcome::Retry(why),
        Outcome::Fail(why) => Outcome::Fail(why),
        Outcome::Refused(why) => Outcome::Refused(why),
    }
}

/// What `answer` means for `body`, and the words for it; `None` for a
/// request the core does not keep (authorize-ahead).
fn reading(body: &Outgoing, task_sid: &str, answer: &Answer) -> Option<Reading> {
    let t = task_sid;
    let policy = "the backend's recording policy refused it";
    Some(match body {
        Outgoing::Create(b) => {
            let c = &b.call_sid;
            Reading {
                outcome: map(create_outcome(answer), Done::Recording),
                what: format!("recording {c} for {t}"),
                failed: (Level::Error, format!("could not record {c} for {t}")),
                refused: format!("not recording {c} for {t}: {policy}"),
                max_attempts: None,
            }
        }
        Outgoing::Link(_) => Reading {
            outcome: map(link_outcome(answer), |_| Done::Linked),
            what: format!("linking the conference of {t}"),
            failed: (Level::Error, format!("could not add the conference to {t}")),
            refused: format!("not adding the conference to {t}: {policy}"),
            max_attempts: None,
        },
        Outgoing::Control { action, .. } => {
            let a = action.as_str();
            Reading {
                outcome: map(pause::control_outcome(answer), |s| Done::Controlled {
                    action: *action,
                    state: s,
                }),
                what: format!("{a} of {t}"),
                failed: if pause::nothing_recorded(answer) {
                    (Level::Debug, format!("nothing left to {a} on {t}"))
                } else {
                    (Level::Warn, format!("could not {a} the recording of {t}"))
                },
                refused: format!("the backend refused to {a} the recording of {t}"),
                // An automatic resume is retried briefly only: one that lands
                // much later could undo a pause the next agent of the call
                // has made since.
                max_attempts: Some(CONTROL_ATTEMPTS),
            }
        }
        Outgoing::Authorize(_) => return None,
    })
}

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
        let Some(reading) = reading(&p.body, &task_sid, &answer) else {
            // Never kept in `requests` (see `authorize_ahead`).
            self.requests.remove(&request);
            return;
        };
        let retry_why = match reading.outcome {
            Outcome::Retry(why) => why,
            Outcome::Done(done) => {
                self.requests.remove(&request);
                self.on_done(&task_sid, request, done, out);
                return;
            }
            Outcome::Fail(why) => {
                self.give_up(&task_sid, request);
                let (level, failed) = reading.failed;
                out.log(level, format!("{failed}: {why}"));
                return;
            }
            Outcome::Refused(why) => {
                // The administrator's rules, applied by the backend:
                // expected, so not an error, and never retried.
                self.give_up(&task_sid, request);
                out.log(Level::Info, format!("{}: {why}", reading.refused));
                return;
            }
        };
        let what = reading.what;
        let spent = reading.max_attempts.is_some_and(|max| attempt >= max);
        if orphaned || !RETRY.may_retry(attempt) || spent {
            self.give_up(&task_sid, request);
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

    /// The request is over without success: a leg it was starting failed.
    fn give_up(&mut self, task_sid: &str, request: u64) {
        self.requests.remove(&request);
        if let Some(r) = self.leg_mut(task_sid, request) {
            r.state = LegState::Failed;
        }
    }

    fn on_done(&mut self, task_sid: &str, request: u64, done: Done, out: &mut Out) {
        let resp = match done {
            Done::Recording(resp) => resp,
            Done::Linked => {
                out.log(Level::Debug, format!("linked the conference of {task_sid}"));
                return;
            }
            Done::Controlled { action, state } => {
                self.remember_control(task_sid, action, &state);
                let action = action.as_str();
                out.log(
                    Level::Info,
                    format!("{action} of {task_sid} done: {}", state.state),
                );
                return;
            }
        };
        if let Some(r) = self.leg_mut(task_sid, request) {
            r.state = LegState::Recording {
                recording_sid: resp.recording_sid.clone(),
                already: resp.already_recording,
            };
        } else if let Some((_, done)) = self.finished.iter_mut().rev().find(|(t, _)| t == task_sid)
        {
            // The task ended while its request was on its way: the recording
            // runs, so its status says so.
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
        // Card details are being read: a leg that starts recording now (Join
        // Call, a late start) is paused at once, like the one the agent paused.
        if self.paused.contains_key(task_sid) {
            self.send_control(
                task_sid,
                ControlAction::Pause,
                "a new leg started recording while the task is paused",
                out,
            );
        }
        out.0.push(Command::RecordingStarted {
            task_sid: task_sid.to_string(),
            call_sid: resp.call_sid,
            recording_sid: resp.recording_sid,
            already_recording: resp.already_recording,
        });
    }
}
