//! The plugin's state machine: Flex events in, commands out.
//!
//! `Core::handle` is pure: it never performs I/O, never reads a clock and never
//! panics; the shell executes the commands it returns (HTTP to the backend,
//! timers, logs, the notification) and feeds the results back as events.
//!
//! Per accepted task the core keeps a session: waiting for a recordable leg,
//! then one entry per leg it starts. On the customer channel a task gets one
//! recording. On the worker channel every new live leg of this worker (Join
//! Call, back and forth) gets its own. A session ends when its task completes,
//! is canceled or its reservation disappears; its timers end with it.
//!
//! This file holds the protocol (`Event`, `Command`), the state and the
//! dispatch; `impl Core` is split by job: `startup` (configuration and its
//! diagnostics), `queries` (what the shell asks between events), `accept`
//! (admission), `legs` (which leg, now or deferred), `requests` (sending,
//! authorize-ahead, the conference link), `outcomes` (what an answer means,
//! retries), `teardown` (the end of a task), `pause` (pause and the automatic
//! resume), `status` (`status(taskSid)` and its words).

use crate::api::{
    AuthorizeRequest, ControlAction, CreateRecordingRequest, LinkCallRequest,
    RecordingControlRequest,
};
use crate::backend_client::{Answer, Jitter};
use crate::config::{Config, Method};
use crate::leg::{CallKind, Leg};
use crate::pause::PauseConfig;
use crate::sid::{is_sid, SidKind};
use crate::snapshot::ConferenceSnapshot;
use crate::strings;
use crate::vec_map::VecMap;
use std::collections::VecDeque;

/// How long an instance busy with a call that is not this leg leaves the
/// carrying one to act first. The backend makes the outcome one recording
/// either way; this only spares it redundant requests.
pub const DEFER_MS: u64 = 300;
/// Longest Flex's CompleteTask is held while a backend request of the task
/// (a recording start, a conference link) is in flight. Flex waits for a
/// `beforeCompleteTask` listener's promise, and TaskRouter completes the
/// reservation right after; a request that reaches the backend later is
/// refused (only an accepted or wrapping reservation may record or link).
/// Tasks completed long after their recording started are never held.
pub const COMPLETE_HOLD_MS: u64 = 3_000;
/// Attempts of an automatic resume (a few hundred milliseconds in all).
pub const CONTROL_ATTEMPTS: u32 = 3;
/// Finished tasks remembered for `status()`.
const FINISHED_KEPT: usize = 200;

pub use crate::event::FlexEvent;
pub use crate::status::Status;

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Flex(FlexEvent),
    /// The backend (or the network) answered request `request`.
    Answer {
        request: u64,
        answer: Answer,
    },
    Timer {
        id: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    Create(CreateRecordingRequest),
    Link(LinkCallRequest),
    /// An automatic resume (the worker's part ended, or `max_pause_seconds`).
    Control {
        action: ControlAction,
        body: RecordingControlRequest,
    },
    /// Sent once per accepted task; never retried (see `Core::authorize_ahead`).
    Authorize(AuthorizeRequest),
}

/// Requests carry no token: the shell adds Flex's current one when it sends,
/// since Flex refreshes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Log {
        level: Level,
        message: String,
    },
    Notify {
        id: &'static str,
        text: &'static str,
    },
    /// A notice for users whose Flex roles include `admin` only, shown once.
    NotifyAdmins {
        id: &'static str,
        text: &'static str,
    },
    /// The tasks whose conference changes the shim must forward, in full.
    Follow {
        task_sids: Vec<String>,
    },
    Send {
        request: u64,
        url: String,
        body: Outgoing,
    },
    SetTimer {
        id: u64,
        ms: u64,
    },
    CancelTimer {
        id: u64,
    },
    RecordingStarted {
        task_sid: String,
        call_sid: String,
        recording_sid: String,
        /// The backend answered with a recording it had already started for
        /// the call (another tab, device or a retry asked first).
        already_recording: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum LegState {
    Deferred {
        timer: u64,
    },
    Starting {
        request: u64,
    },
    Recording {
        recording_sid: String,
        /// Answered `alreadyRecording`: someone else started it.
        already: bool,
    },
    Failed,
    /// A deferred leg that stopped being live before its turn came.
    Superseded,
}

#[derive(Clone, Debug)]
struct LegRecord {
    leg: Leg,
    state: LegState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Active,
    /// Gave up waiting for a leg; kept until the task ends so that an outbound
    /// call hung up unanswered still gets its conference linked.
    GaveUp,
    /// The conference method: Flex records the whole conference; the session
    /// only follows the conference, for pausing and resuming that recording.
    Conference,
}

#[derive(Clone, Debug)]
struct Session {
    task_sid: String,
    reservation_sid: Option<String>,
    accepted_at: Option<i64>,
    kind: CallKind,
    conference: Option<ConferenceSnapshot>,
    legs: Vec<LegRecord>,
    phase: Phase,
    wait_timer: Option<u64>,
    /// `conference.sid` is on the task, or a request that writes it was sent.
    linked: bool,
}

#[derive(Clone, Debug)]
enum TimerPurpose {
    Wait { task_sid: String },
    Defer { task_sid: String, call_sid: String },
    Retry { request: u64 },
    MaxPause { task_sid: String },
}

#[derive(Clone, Debug)]
struct Pending {
    task_sid: String,
    body: Outgoing,
    attempt: u32,
    /// False while a retry timer runs.
    in_flight: bool,
    /// Stopped (`Core::stop_requests`: the task ended, or an automatic pause
    /// met a resume): let this attempt finish, but do not retry it.
    orphaned: bool,
}

pub struct Core {
    config: Option<Config>,
    /// The block of `custom_data` the settings were read from (for messages).
    block: crate::config::Block,
    worker_sid: String,
    active_call: Option<String>,
    sessions: VecMap<String, Session>,
    finished: VecDeque<(String, Status)>,
    /// What a resume of an ended task would address: a pause of this tab
    /// that lands after its task ended is resumed with it.
    ended_targets: VecDeque<(String, RecordingControlRequest)>,
    requests: VecMap<u64, Pending>,
    timers: VecMap<u64, TimerPurpose>,
    next_id: u64,
    jitter: Jitter,
    followed: Vec<String>,
    /// The double-recording warning was logged (once per start).
    warned_double_recording: bool,
    /// The conference method's unreachable-recordings warning was given.
    warned_conference_unreachable: bool,
    /// `None`: `features.pause_recording` is invalid, pausing is inert.
    pause: Option<PauseConfig>,
    /// Tasks this instance knows paused, with their `max_pause_seconds` timer.
    paused: VecMap<String, Option<u64>>,
    /// The recordings this instance's pauses paused, by task, with where
    /// each runs when the backend said: a resume resumes those and no other,
    /// and is not sent once all of them ended with their call.
    paused_recordings: VecMap<String, Vec<(String, Option<crate::pause::Target>)>>,
    /// Authorize-ahead requests on their way, by request id: task SID.
    authorizing: VecMap<u64, String>,
}

struct Out(Vec<Command>);

impl Out {
    fn log(&mut self, level: Level, message: String) {
        self.0.push(Command::Log { level, message });
    }
}

mod accept;
mod legs;
mod outcomes;
mod pause;
mod queries;
mod requests;
mod startup;
pub use startup::Worker;
mod status;
mod teardown;
#[cfg(test)]
mod tests;

impl Core {
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        let mut out = Out(Vec::new());
        if self.config.is_some() {
            match event {
                Event::Flex(e) => self.on_flex(e, &mut out),
                Event::Answer { request, answer } => self.on_answer(request, answer, &mut out),
                Event::Timer { id } => self.on_timer(id, &mut out),
            }
            self.sync_follow(&mut out);
        }
        out.0
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn set_timer(&mut self, ms: u64, purpose: TimerPurpose, out: &mut Out) -> u64 {
        let id = self.id();
        self.timers.insert(id, purpose);
        out.0.push(Command::SetTimer { id, ms });
        id
    }

    fn cancel_timer(&mut self, id: u64, out: &mut Out) {
        if self.timers.remove(&id).is_some() {
            out.0.push(Command::CancelTimer { id });
        }
    }

    fn on_flex(&mut self, event: FlexEvent, out: &mut Out) {
        match event {
            FlexEvent::TaskAccepted { task } => self.on_accepted(task, out),
            FlexEvent::Conference {
                task_sid,
                conference,
            } => {
                if let Some(s) = self.sessions.get_mut(&task_sid) {
                    s.conference = conference;
                    self.evaluate(&task_sid, out);
                    self.resume_if_left(&task_sid, out);
                }
            }
            FlexEvent::ActiveCall { call_sid } => {
                self.active_call = call_sid.filter(|c| is_sid(SidKind::Call, c));
                let tasks: Vec<String> = self.sessions.keys().cloned().collect();
                for t in tasks {
                    self.evaluate(&t, out);
                }
            }
            FlexEvent::Hangup { task_sid } | FlexEvent::Complete { task_sid } => {
                self.link_if_needed(&task_sid, out);
                self.resume_if_paused(&task_sid, "the worker's part of the call ended", out);
            }
            FlexEvent::Ended { task_sid, reason } => {
                self.resume_if_paused(&task_sid, "the task left this worker", out);
                self.end(&task_sid, &reason, out)
            }
            FlexEvent::StateRead { task_sid, paused } => {
                if !paused {
                    self.on_pause_state(&task_sid, false, out)
                }
            }
            FlexEvent::PauseState { task_sid, paused } => {
                self.on_pause_state(&task_sid, paused, out)
            }
            FlexEvent::FlexCallRecording { enabled } => {
                // Every call-leg recording this plugin makes would come on top
                // of the one Flex makes (`docs/flex-facts.md`). Agents
                // are shown nothing; administrators read the log. With the
                // conference method Flex's recording is the one there is.
                let call_leg = self
                    .config
                    .as_ref()
                    .is_some_and(|c| c.method == Method::CallLeg);
                let conference = self
                    .config
                    .as_ref()
                    .is_some_and(|c| c.method == Method::Conference);
                if !enabled && conference && !self.warned_conference_unreachable {
                    self.warned_conference_unreachable = true;
                    out.log(
                        Level::Warn,
                        strings::CONFERENCE_WITHOUT_CALL_RECORDING.into(),
                    );
                    out.0.push(Command::NotifyAdmins {
                        id: strings::ADMIN_NOTICE_ID,
                        text: strings::CONFERENCE_WITHOUT_CALL_RECORDING,
                    });
                }
                if enabled && call_leg && !self.warned_double_recording {
                    self.warned_double_recording = true;
                    out.log(
                        Level::Warn,
                        "Flex's own Call Recording is on (call_recording_enabled) and this plugin records call legs as well, so every call will be recorded twice. Turn Call Recording off in the Flex configuration (call_recording_enabled: false) to keep only this plugin's dual-channel recordings.".into(),
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, id: u64, out: &mut Out) {
        let Some(purpose) = self.timers.remove(&id) else {
            return;
        };
        match purpose {
            TimerPurpose::Wait { task_sid } => {
                let max_wait = self.config.as_ref().map_or(0, |c| c.max_wait_ms);
                if let Some(s) = self.sessions.get_mut(&task_sid) {
                    if s.phase == Phase::Waiting {
                        s.phase = Phase::GaveUp;
                        s.wait_timer = None;
                        out.log(
                            Level::Warn,
                            format!("not recording {task_sid}: no recordable call leg appeared within {} s", max_wait / 1000),
                        );
                    }
                }
            }
            TimerPurpose::Defer { task_sid, call_sid } => {
                let i = self.sessions.get(&task_sid).and_then(|s| {
                    s.legs.iter().position(|r| {
                        r.leg.call_sid == call_sid && r.state == LegState::Deferred { timer: id }
                    })
                });
                if let Some(i) = i {
                    self.start(&task_sid, i, out);
                }
            }
            TimerPurpose::MaxPause { task_sid } => {
                if self.paused.get(&task_sid) == Some(&Some(id)) {
                    self.paused.insert(task_sid.clone(), None);
                    self.resume_if_paused(&task_sid, "max_pause_seconds passed", out);
                }
            }
            TimerPurpose::Retry { request } => {
                if let Some(p) = self.requests.get_mut(&request) {
                    p.attempt += 1;
                    p.in_flight = true;
                    let body = p.body.clone();
                    if let Some(url) = self.url_for(&body) {
                        out.0.push(Command::Send { request, url, body });
                    }
                }
            }
        }
    }

    fn finish(&mut self, task_sid: &str, status: Status) {
        if self.finished.len() >= FINISHED_KEPT {
            self.finished.pop_front();
        }
        self.finished.push_back((task_sid.to_string(), status));
    }
}
