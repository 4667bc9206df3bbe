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

use crate::api::{
    AuthorizeRequest, CreateRecordingRequest, LinkCallRequest, TargetKind, AUTHORIZE_PATH,
    CREATE_RECORDING_PATH, LINK_CALL_PATH,
};
use crate::api::{ControlAction, RecordingControlRequest};
use crate::backend_client::{
    authorize_outcome, create_outcome, link_outcome, Answer, Jitter, Outcome, RETRY,
};
use crate::conference::{self, Decision, Refusal};
use crate::config::{self, Channel, Config, Method, Setup};
use crate::exclusion::{admit, NotAdmitted};
use crate::leg::{self, already_recorded, call_kind, carried_here, recordable_leg, CallKind, Leg};
use crate::pause::{self, NoTarget, PauseConfig, RecordedLegRef, Target};
use crate::sid::{is_sid, SidKind};
use crate::snapshot::{ConferenceSnapshot, TaskSnapshot};
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
    /// The task ended: let this attempt finish, but do not retry a recording.
    orphaned: bool,
}

pub struct Core {
    config: Option<Config>,
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
    /// `None`: `features.pause_recording` is invalid, pausing is inert.
    pause: Option<PauseConfig>,
    /// Tasks this instance knows paused, with their `max_pause_seconds` timer.
    paused: VecMap<String, Option<u64>>,
    /// Authorize-ahead requests on their way, by request id: task SID.
    authorizing: VecMap<u64, String>,
}

struct Out(Vec<Command>);

impl Out {
    fn log(&mut self, level: Level, message: String) {
        self.0.push(Command::Log { level, message });
    }
}

impl Core {
    /// `custom_data` is Flex's `manager.configuration.custom_data`, or why the
    /// shell could not read it.
    pub fn new<D: crate::document::Document + Copy>(
        custom_data: Result<D, String>,
        worker_sid: &str,
        locale: &str,
        seed: u64,
    ) -> (Core, Vec<Command>) {
        let mut out = Out(Vec::new());
        let parsed = custom_data;
        let setup = match &parsed {
            Ok(v) => config::parse(*v),
            Err(e) => Setup::Invalid(vec![config::ConfigError {
                path: "custom_data".into(),
                problem: format!("not readable ({e})"),
            }]),
        };
        let pause = match &parsed {
            Ok(v) => pause::parse(*v),
            Err(_) => Ok(PauseConfig::default()),
        };
        let recording_on = matches!(setup, Setup::Enabled(_));
        let config = match setup {
            Setup::Disabled => {
                out.log(
                    Level::Debug,
                    "disabled in the Flex configuration; not recording".into(),
                );
                None
            }
            Setup::Invalid(errors) => {
                for e in &errors {
                    out.log(Level::Error, format!("misconfigured: {e}"));
                }
                out.log(
                    Level::Error,
                    format!(
                        "not recording any call until custom_data.features.{} is fixed",
                        config::FEATURE_KEY
                    ),
                );
                out.0.push(Command::Notify {
                    id: strings::BROKEN_NOTIFICATION_ID,
                    text: strings::broken_notification(locale),
                });
                None
            }
            Setup::Enabled(c) if c.method == Method::Conference => {
                out.log(
                    Level::Info,
                    "method conference: Flex records each call's whole conference; the plugin decides conferenceRecord when a task is accepted and makes no backend request".into(),
                );
                if c.channel == Channel::Worker {
                    out.log(
                        Level::Warn,
                        "channel \"worker\" is ignored with method \"conference\": one recording covers the whole conference; for one recording per worker leg set method \"call-leg\"".into(),
                    );
                }
                Some(c)
            }
            Setup::Enabled(c) => {
                out.log(
                    Level::Info,
                    format!(
                        "recording the {} channel through {}",
                        match c.channel {
                            Channel::Customer => "customer",
                            Channel::Worker => "worker",
                        },
                        c.backend_url
                    ),
                );
                Some(c)
            }
        };
        let pause = match pause {
            Ok(p) => Some(p),
            Err(errors) => {
                for e in &errors {
                    out.log(Level::Error, format!("misconfigured: {e}"));
                }
                out.log(
                    Level::Error,
                    format!(
                        "pause and resume are off until custom_data.features.{} is fixed",
                        pause::PAUSE_FEATURE_KEY
                    ),
                );
                // One notification, whichever part is wrong.
                if recording_on {
                    out.0.push(Command::Notify {
                        id: strings::BROKEN_NOTIFICATION_ID,
                        text: strings::broken_notification(locale),
                    });
                }
                None
            }
        };
        // The conference method needs the backend only for pausing: without
        // its location, pausing is off, and the administrator is told where.
        let pause = match (pause, &config) {
            (Some(p), Some(c)) if p.enabled && c.backend_url.is_empty() => {
                out.log(
                    Level::Error,
                    format!(
                        "misconfigured: features.{}.backend_url: missing: pausing Flex's conference recording goes through the recording backend (features.{}.enabled is true)",
                        config::FEATURE_KEY,
                        pause::PAUSE_FEATURE_KEY
                    ),
                );
                out.0.push(Command::Notify {
                    id: strings::BROKEN_NOTIFICATION_ID,
                    text: strings::broken_notification(locale),
                });
                None
            }
            (p, _) => p,
        };
        let core = Core {
            pause,
            paused: VecMap::new(),
            config,
            worker_sid: worker_sid.to_string(),
            active_call: None,
            sessions: VecMap::new(),
            finished: VecDeque::new(),
            ended_targets: VecDeque::new(),
            requests: VecMap::new(),
            timers: VecMap::new(),
            next_id: 1,
            jitter: Jitter::new(seed),
            followed: Vec::new(),
            warned_double_recording: false,
            authorizing: VecMap::new(),
        };
        (core, out.0)
    }

    /// Whether the feature is on and correctly configured.
    pub fn is_enabled(&self) -> bool {
        self.config.is_some()
    }

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

    /// `beforeAcceptTask` with the `conference` method: what to set in
    /// `conferenceOptions.conferenceRecord` (`conference::decide`), logged,
    /// and kept for `status()` in this Flex instance, the one that decided.
    pub fn before_accept(&mut self, task: &TaskSnapshot) -> (Decision, Vec<Command>) {
        let mut out = Out(Vec::new());
        let decision = conference::decide(self.config.as_ref(), task);
        let t = &task.task_sid;
        let state = match &decision {
            Decision::Record => {
                out.log(
                    Level::Info,
                    format!("conference recording for {t}: {}", decision.reason()),
                );
                "conference"
            }
            Decision::DoNotRecord(Refusal::Excluded(why)) => {
                out.log(Level::Info, format!("not recording {t}: {why}"));
                "excluded"
            }
            Decision::DoNotRecord(
                Refusal::UnreadableAttributes(_) | Refusal::AttributesNotAnObject(_),
            ) => {
                out.log(
                    Level::Error,
                    format!("not recording {t}: {}", decision.reason()),
                );
                "excluded"
            }
            Decision::Untouched(_) => return (decision, out.0),
        };
        if is_sid(SidKind::Task, t) {
            self.finish(
                t,
                Status {
                    state,
                    recordings: Vec::new(),
                    reason: Some(decision.reason()),
                },
            );
        }
        (decision, out.0)
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
                // of the one Flex makes (`../shared/flex-facts.md`). Agents
                // are shown nothing; administrators read the log. With the
                // conference method Flex's recording is the one there is.
                let call_leg = self
                    .config
                    .as_ref()
                    .is_some_and(|c| c.method == Method::CallLeg);
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

    fn finish(&mut self, task_sid: &str, status: Status) {
        if self.finished.len() >= FINISHED_KEPT {
            self.finished.pop_front();
        }
        self.finished.push_back((task_sid.to_string(), status));
    }

    fn on_accepted(&mut self, task: TaskSnapshot, out: &mut Out) {
        let Some(config) = &self.config else { return };
        // Flex records the conference; `before_accept` has decided already.
        // A conference it records is followed, so that it can be paused.
        if config.method == Method::Conference {
            let t = task.task_sid.clone();
            // Every voice task is followed, whatever was decided: only the tab
            // that ran the accept decided, and what Twilio records (read
            // through the backend) is what a pause reaches.
            if is_sid(SidKind::Task, &t)
                && !self.sessions.contains_key(&t)
                && task.channel.as_deref() == Some("voice")
            {
                let kind = call_kind(&*task.attributes);
                self.sessions.insert(
                    t.clone(),
                    Session {
                        task_sid: t,
                        reservation_sid: Some(task.sid).filter(|s| is_sid(SidKind::Reservation, s)),
                        accepted_at: task.date_updated,
                        kind,
                        conference: None,
                        legs: Vec::new(),
                        phase: Phase::Conference,
                        wait_timer: None,
                        linked: true,
                    },
                );
            }
            return;
        }
        let t = task.task_sid.clone();
        if !is_sid(SidKind::Task, &t) {
            out.log(
                Level::Warn,
                format!("ignoring an accepted task without a valid task SID (\"{t}\")"),
            );
            return;
        }
        if self.sessions.contains_key(&t) {
            return;
        }
        let attrs = &*task.attributes;
        let refusal = match admit(config, task.facts()) {
            Ok(()) => None,
            Err(NotAdmitted::NotVoice) => return,
            Err(NotAdmitted::Refused(r)) => Some(r),
        };
        if let Some(refusal) = refusal {
            let (level, reason) = match &refusal {
                Refusal::Excluded(why) => (Level::Info, why.to_string()),
                Refusal::AttributesNotAnObject(why) => (Level::Warn, format!("attributes {why}")),
                Refusal::UnreadableAttributes(e) => (Level::Warn, e.to_string()),
            };
            out.log(level, format!("not recording {t}: {refusal}"));
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some(reason),
                },
            );
            return;
        }
        let kind = call_kind(attrs);
        if kind == CallKind::InternalInbound {
            out.log(
                Level::Debug,
                format!("not recording {t}: the caller's side records agent-to-agent calls"),
            );
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some("inbound leg of an internal call".into()),
                },
            );
            return;
        }
        if config.channel == Channel::Customer && already_recorded(attrs) {
            out.log(Level::Info, format!("not recording {t}: conversations.media shows it is recorded already (transfer)"));
            self.finish(
                &t,
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some("already recorded before a transfer".into()),
                },
            );
            return;
        }
        let max_wait = config.max_wait_ms;
        let session = Session {
            task_sid: t.clone(),
            reservation_sid: Some(task.sid).filter(|s| is_sid(SidKind::Reservation, s)),
            accepted_at: task.date_updated,
            kind,
            conference: None,
            legs: Vec::new(),
            phase: Phase::Waiting,
            wait_timer: None,
            linked: leg::task_conference(attrs).is_some(),
        };
        self.sessions.insert(t.clone(), session);
        self.authorize_ahead(&t, out);
        let timer = self.set_timer(
            max_wait,
            TimerPurpose::Wait {
                task_sid: t.clone(),
            },
            out,
        );
        if let Some(s) = self.sessions.get_mut(&t) {
            s.wait_timer = Some(timer);
        }
        self.evaluate(&t, out);
    }

    /// Looks at one session against the current Flex state and starts what is due.
    fn evaluate(&mut self, task_sid: &str, out: &mut Out) {
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
    fn start(&mut self, task_sid: &str, i: usize, out: &mut Out) {
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

    /// Records a new request and asks the shell to send it.
    fn send(&mut self, request: u64, task_sid: &str, body: Outgoing, out: &mut Out) {
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
    fn authorize_ahead(&mut self, task_sid: &str, out: &mut Out) {
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

    fn url_for(&self, body: &Outgoing) -> Option<String> {
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

    fn link_if_needed(&mut self, task_sid: &str, out: &mut Out) {
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

    fn end(&mut self, task_sid: &str, reason: &str, out: &mut Out) {
        if let Ok((_, body)) = self.control_request(task_sid, ControlAction::Resume) {
            if self.ended_targets.len() >= FINISHED_KEPT {
                self.ended_targets.pop_front();
            }
            self.ended_targets.push_back((task_sid.to_string(), body));
        }
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
        for (id, purpose) in self.timers.iter() {
            if let TimerPurpose::Retry { request } = purpose {
                if self.requests.get(request).is_some_and(|p| {
                    p.task_sid == task_sid && matches!(p.body, Outgoing::Create(_))
                }) {
                    timers.push(*id);
                }
            }
        }
        for timer in timers {
            if let Some(TimerPurpose::Retry { request }) = self.timers.get(&timer) {
                self.requests.remove(&request.clone());
            }
            self.cancel_timer(timer, out);
        }
        for p in self.requests.values_mut() {
            if p.task_sid == task_sid && matches!(p.body, Outgoing::Create(_)) {
                p.orphaned = true;
            }
        }
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

    fn leg_mut(&mut self, task_sid: &str, request: u64) -> Option<&mut LegRecord> {
        self.sessions
            .get_mut(task_sid)?
            .legs
            .iter_mut()
            .find(|r| r.state == LegState::Starting { request })
    }

    fn on_answer(&mut self, request: u64, answer: Answer, out: &mut Out) {
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
    pub fn control_request(
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
                "pausing needs the recording backend: set custom_data.features.{}.backend_url",
                config::FEATURE_KEY
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
        let (call_sid, conference_sid) = match target {
            Target::Call(c) => (Some(c), None),
            Target::Conference(c) => (None, Some(c)),
        };
        let body = RecordingControlRequest {
            token: String::new(),
            task_sid: task_sid.to_string(),
            call_sid,
            conference_sid,
            pause_behavior: (action == ControlAction::Pause).then(|| pause_config.pause_behavior()),
        };
        Ok((format!("{}{}", config.backend_url, action.path()), body))
    }

    fn on_pause_state(&mut self, task_sid: &str, paused: bool, out: &mut Out) {
        if !paused {
            if let Some(Some(timer)) = self.paused.remove(task_sid) {
                self.cancel_timer(timer, out);
            }
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
    fn resume_if_left(&mut self, task_sid: &str, out: &mut Out) {
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
    fn resume_if_paused(&mut self, task_sid: &str, why: &str, out: &mut Out) {
        let Some(timer) = self.paused.remove(task_sid) else {
            return;
        };
        if let Some(timer) = timer {
            self.cancel_timer(timer, out);
        }
        self.send_control(task_sid, ControlAction::Resume, why, out);
    }

    /// An automatic pause or resume of the task's recordings, sent by the core.
    fn send_control(&mut self, task_sid: &str, action: ControlAction, why: &str, out: &mut Out) {
        match self.control_request(task_sid, action) {
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

    fn send_control_body(
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

    fn sync_follow(&mut self, out: &mut Out) {
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

fn session_status(s: &Session) -> Status {
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
fn session_reason(s: &Session, state: &str) -> &'static str {
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
