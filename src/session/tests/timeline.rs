//! Random timelines as a proptest state machine: sequences of Flex events,
//! backend answers, timers and the pause buttons, generated, and shrunk to
//! the shortest failing one when an invariant breaks.
//!
//! `Shell` is the reference model: the Flex world (the conference of each
//! task, this instance's active call), the shell (requests in flight, timers
//! set, the buttons' requests) and what the core has done (the create
//! request of each leg, the pauses this tab made). Steps address requests
//! and timers by position, so every step applies in every state and a
//! shrunk timeline still runs. After every step it checks:
//! - no panic (proptest catches one and shrinks to it);
//! - one recording request per leg of a task (never two creates for one
//!   leg, unless the first definitely failed);
//! - never left paused: a pause this instance made (the agent's, or the
//!   core's own of a leg that started meanwhile) is resumed (a resume for it
//!   is sent) when the worker's part of the task ends, or at once when it
//!   lands after the task ended; unless the paused call has left, which
//!   ended its recording;
//! - nothing sent for a task after it ended, but its conference link and an
//!   automatic resume (ARCHITECTURE.md, Invariants);
//! - with the conference method, nothing sent but pauses and resumes.
//!
//! At the end every task ends, the buttons' answers land, every request is
//! answered and every timer fires: the core then follows nothing and is idle.

use super::*;
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet};

const TASKS: [&str; 2] = [T1, T2];
const RESERVATIONS: [&str; 2] = [R1, R2];
/// This worker's legs in a task's conference: the first, Join Call, back.
const LEGS: usize = 3;
const BACKEND: &str = "http://127.0.0.1:8787";

#[derive(Clone, Copy, Debug)]
enum Setup {
    CustomerChannel,
    WorkerChannel,
    /// The conference method: Flex records; the core only pauses.
    Conference,
}

/// How the backend answers a request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Done,
    /// A recording of the call already ran (another tab asked first).
    AlreadyRecording,
    Network,
    Unavailable,
    /// Twilio's 21220: final.
    NotInProgress,
    /// The backend's recording policy refuses.
    Refused,
}

#[derive(Clone, Debug)]
enum Step {
    /// Accepted in this instance (with the conference method, after
    /// `before_accept`).
    Accept {
        task: usize,
        outbound: bool,
        internal: bool,
        /// `conversations.media` lists a recording: a transfer.
        recorded_before: bool,
    },
    /// The customer's call joins or leaves the task's conference.
    Customer {
        task: usize,
        joined: bool,
    },
    /// A leg of this worker joins or leaves. A new leg joining is Join Call:
    /// the worker moves to it, so the worker's other leg leaves. The worker's
    /// leg leaving while the customer stays is a transfer.
    WorkerLeg {
        task: usize,
        leg: usize,
        joined: bool,
    },
    /// Flex's active call here: a leg of a task (task `TASKS.len()`: another
    /// call of this instance), or none.
    ActiveCall(Option<(usize, usize)>),
    /// The backend answers one request in flight.
    Answer {
        pick: Index,
        reply: Reply,
    },
    /// One timer the core set fires.
    Timer {
        pick: Index,
    },
    /// The agent presses pause (or resume): the shim sends the core's request.
    Press {
        task: usize,
        pause: bool,
    },
    /// The backend answers one of the buttons' requests.
    Pressed {
        pick: Index,
        ok: bool,
    },
    /// The shim read the state: a pause read is not this tab's.
    Read {
        task: usize,
        paused: bool,
    },
    /// The worker hangs up: wrap-up.
    Hangup {
        task: usize,
    },
    Complete {
        task: usize,
    },
    /// The reservation completed, or the task was canceled.
    Ended {
        task: usize,
        canceled: bool,
    },
}

/// Weighted so that most timelines accept a task and let its legs join
/// before it ends: endings are rare, and a call that left stays gone.
fn step() -> impl Strategy<Value = Step> {
    let task = 0..TASKS.len();
    prop_oneof![
        6 => (task.clone(), any::<bool>(), prop::bool::weighted(0.2), prop::bool::weighted(0.1))
            .prop_map(|(task, outbound, internal, recorded_before)| Step::Accept {
                task,
                outbound,
                internal,
                recorded_before,
            }),
        6 => (task.clone(), prop::bool::weighted(0.95))
            .prop_map(|(task, joined)| Step::Customer { task, joined }),
        8 => (task.clone(), 0..LEGS, prop::bool::weighted(0.9))
            .prop_map(|(task, leg, joined)| Step::WorkerLeg { task, leg, joined }),
        3 => prop::option::of((0..TASKS.len() + 1, 0..LEGS)).prop_map(Step::ActiveCall),
        8 => (any::<Index>(), reply()).prop_map(|(pick, reply)| Step::Answer { pick, reply }),
        2 => any::<Index>().prop_map(|pick| Step::Timer { pick }),
        4 => (task.clone(), prop::bool::weighted(0.7))
            .prop_map(|(task, pause)| Step::Press { task, pause }),
        4 => (any::<Index>(), prop::bool::weighted(0.8))
            .prop_map(|(pick, ok)| Step::Pressed { pick, ok }),
        1 => (task.clone(), any::<bool>()).prop_map(|(task, paused)| Step::Read { task, paused }),
        1 => task.clone().prop_map(|task| Step::Hangup { task }),
        1 => task.clone().prop_map(|task| Step::Complete { task }),
        1 => (task, any::<bool>()).prop_map(|(task, canceled)| Step::Ended { task, canceled }),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        3 => Just(Reply::Done),
        1 => Just(Reply::AlreadyRecording),
        1 => Just(Reply::Network),
        1 => Just(Reply::Unavailable),
        1 => Just(Reply::NotInProgress),
        1 => Just(Reply::Refused),
    ]
}

fn setup() -> impl Strategy<Value = Setup> {
    prop_oneof![
        Just(Setup::CustomerChannel),
        Just(Setup::WorkerChannel),
        Just(Setup::Conference),
    ]
}

/// The customer's call of task `t`.
fn customer_call(t: usize) -> String {
    format!("CA{:032x}", 0xc0 + t)
}

/// Leg `l` of this worker in task `t`.
fn worker_call(t: usize, l: usize) -> String {
    format!("CA{:032x}", 0xa00 + 0x10 * t + l)
}

fn conference_sid(t: usize) -> String {
    format!("CF{:032x}", 0xf0 + t)
}

/// What became of the create request of one leg.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Create {
    /// Sent, not definitely answered (it may be retried).
    Open,
    Recorded,
    /// A final failure: another request for the leg would be in order.
    Failed,
}

/// A task's conference as Flex shows it: `None` for a participant not
/// (yet) there, else whether it is joined.
#[derive(Clone, Debug, Default)]
struct Conference {
    customer: Option<bool>,
    legs: [Option<bool>; LEGS],
    /// Everybody listed left, a worker among them: Twilio ended the
    /// conference and its recording, for good (a leg that joins later is in
    /// another conference).
    over: bool,
}

impl Conference {
    fn note_over(&mut self) {
        self.over |= self.customer != Some(true)
            && self.legs.iter().all(|l| *l != Some(true))
            && self.legs.iter().any(Option::is_some);
    }
}

struct Shell {
    core: Core,
    setup: Setup,
    in_flight: Vec<(u64, Outgoing)>,
    timers: Vec<u64>,
    /// The buttons' requests on their way: (task, pause?, what it reaches).
    presses: Vec<(usize, bool, String)>,
    conferences: [Conference; 2],
    /// The calls this instance was on (Flex's active call).
    had_calls: BTreeSet<(usize, usize)>,
    /// The task left this worker.
    ended: [bool; 2],
    /// What pauses this instance made reached (a call or the conference),
    /// not resumed since.
    paused_here: [Vec<String>; 2],
    creates: BTreeMap<(String, String), Create>,
    create_requests: BTreeMap<u64, (String, String)>,
}

fn task_of(o: &Outgoing) -> &str {
    match o {
        Outgoing::Create(b) => b.task_sid.as_deref().unwrap_or_default(),
        Outgoing::Link(b) => &b.task_sid,
        Outgoing::Control { body, .. } => &body.task_sid,
        Outgoing::Authorize(b) => &b.task_sid,
    }
}

/// What a pause or resume reaches: the call, else the conference.
fn target_of(body: &crate::api::RecordingControlRequest) -> String {
    body.call_sid
        .clone()
        .or_else(|| body.conference_sid.clone())
        .unwrap_or_default()
}

impl Shell {
    fn new(setup: Setup) -> Shell {
        let feature = match setup {
            Setup::CustomerChannel => json!({"enabled": true, "channel": "customer"}),
            Setup::WorkerChannel => json!({"enabled": true, "channel": "worker"}),
            Setup::Conference => {
                json!({"enabled": true, "method": "conference", "backend_url": BACKEND})
            }
        };
        let data = json!({
            "features": {
                "dual_channel_recording": feature,
                "pause_recording": {"enabled": true, "max_pause_seconds": 30}
            },
            "serverless_functions_domain": "127.0.0.1:8787",
            "serverless_functions_protocol": "http"
        });
        let (core, _) = Core::new(Ok(&data), ME, "en-US", 42);
        assert!(core.is_enabled() && core.pause_config().is_some());
        Shell {
            core,
            setup,
            in_flight: Vec::new(),
            timers: Vec::new(),
            presses: Vec::new(),
            conferences: Default::default(),
            had_calls: BTreeSet::new(),
            ended: [false; 2],
            paused_here: Default::default(),
            creates: BTreeMap::new(),
            create_requests: BTreeMap::new(),
        }
    }

    fn conference_event(&self, t: usize) -> FlexEvent {
        let c = &self.conferences[t];
        let status = |joined: bool| if joined { "joined" } else { "left" };
        let mut participants = Vec::new();
        if let Some(joined) = c.customer {
            participants.push(p("customer", status(joined), Some(&customer_call(t)), None));
        }
        for (l, leg) in c.legs.iter().enumerate() {
            if let Some(joined) = leg {
                participants.push(p(
                    "worker",
                    status(*joined),
                    Some(&worker_call(t, l)),
                    Some(ME),
                ));
            }
        }
        FlexEvent::Conference {
            task_sid: TASKS[t].into(),
            conference: Some(ConferenceSnapshot {
                conference_sid: Some(conference_sid(t)),
                participants,
            }),
        }
    }

    fn apply(&mut self, step: Step) -> Result<(), TestCaseError> {
        match step {
            Step::Accept {
                task: t,
                outbound,
                internal,
                recorded_before,
            } => {
                // A task reaches this worker once (a duplicate event aside).
                if self.ended[t] {
                    return Ok(());
                }
                let mut attributes = json!({
                    "direction": if outbound { "outbound" } else { "inbound" },
                    "client_call": internal,
                });
                if recorded_before {
                    attributes["conversations"] = json!({"media": [{"type": "VoiceRecording"}]});
                }
                let accepted = task(TASKS[t], RESERVATIONS[t], attributes);
                if let (Setup::Conference, FlexEvent::TaskAccepted { task }) =
                    (self.setup, &accepted)
                {
                    let (_, out) = self.core.before_accept(task);
                    self.check(out)?;
                }
                self.flex(accepted)?;
            }
            Step::Customer { task: t, joined } => {
                // A call that left does not come back.
                let customer = &mut self.conferences[t].customer;
                *customer = Some(joined && *customer != Some(false));
                self.conferences[t].note_over();
                self.flex(self.conference_event(t))?;
            }
            Step::WorkerLeg {
                task: t,
                leg,
                joined,
            } => {
                let legs = &mut self.conferences[t].legs;
                let joined = joined && legs[leg] != Some(false);
                if joined && legs[leg].is_none() {
                    // Join Call: the worker leaves its leg, and any call of
                    // this task it had here that the conference did not show.
                    for (l, other) in legs.iter_mut().enumerate() {
                        let had = self.had_calls.contains(&(t, l)) && other.is_none();
                        if *other == Some(true) || (had && l != leg) {
                            *other = Some(false);
                        }
                    }
                }
                legs[leg] = Some(joined);
                self.conferences[t].note_over();
                self.flex(self.conference_event(t))?;
            }
            Step::ActiveCall(call) => {
                self.had_calls.extend(call);
                let call_sid = call.map(|(t, l)| worker_call(t, l));
                self.flex(FlexEvent::ActiveCall { call_sid })?;
            }
            Step::Answer { pick, reply } => {
                if self.in_flight.is_empty() {
                    return Ok(());
                }
                let (request, body) = self.in_flight.remove(pick.index(self.in_flight.len()));
                self.answer(request, &body, reply)?;
            }
            Step::Timer { pick } => {
                if self.timers.is_empty() {
                    return Ok(());
                }
                let id = self.timers.remove(pick.index(self.timers.len()));
                self.event(Event::Timer { id })?;
            }
            Step::Press { task: t, pause } => {
                let action = if pause {
                    ControlAction::Pause
                } else {
                    ControlAction::Resume
                };
                if let Ok((_, body)) = self.core.control_request(TASKS[t], action) {
                    self.presses.push((t, pause, target_of(&body)));
                }
            }
            Step::Pressed { pick, ok } => {
                if self.presses.is_empty() {
                    return Ok(());
                }
                self.pressed(pick.index(self.presses.len()), ok)?;
            }
            Step::Read { task: t, paused } => {
                if !paused {
                    // Twilio says not paused: nothing of this tab's to resume.
                    self.paused_here[t].clear();
                }
                self.flex(FlexEvent::StateRead {
                    task_sid: TASKS[t].into(),
                    paused,
                })?;
            }
            Step::Hangup { task: t } => {
                self.flex(FlexEvent::Hangup {
                    task_sid: TASKS[t].into(),
                })?;
                self.check_resumed(t)?;
            }
            Step::Complete { task: t } => {
                self.flex(FlexEvent::Complete {
                    task_sid: TASKS[t].into(),
                })?;
                self.check_resumed(t)?;
            }
            Step::Ended { task: t, canceled } => {
                self.ended[t] = true;
                self.flex(FlexEvent::Ended {
                    task_sid: TASKS[t].into(),
                    reason: if canceled { "canceled" } else { "completed" }.into(),
                })?;
            }
        }
        self.check_paused()
    }

    /// The answer to the buttons' request `i`: when it succeeded, the shim
    /// tells the core the state it left.
    fn pressed(&mut self, i: usize, ok: bool) -> Result<(), TestCaseError> {
        let (t, pause, target) = self.presses.remove(i);
        if !ok {
            return Ok(());
        }
        // Twilio's state is now this tab's doing. A pause reaches the
        // conference's recording, or a call's if one was asked for (the
        // backend answers "none" for a call nobody records).
        let recorded = target.starts_with("CF")
            || self
                .creates
                .iter()
                .any(|((_, call), c)| *call == target && *c != Create::Failed);
        let paused = pause && recorded;
        if paused {
            self.paused_here[t].push(target);
        } else {
            self.paused_here[t].clear();
        }
        self.flex(FlexEvent::PauseState {
            task_sid: TASKS[t].into(),
            paused,
        })
    }

    fn answer(&mut self, request: u64, body: &Outgoing, reply: Reply) -> Result<(), TestCaseError> {
        let answer = match (reply, body) {
            (Reply::Done | Reply::AlreadyRecording, Outgoing::Create(b)) => ok(
                &b.call_sid,
                "RE00000000000000000000000000000001",
                matches!(reply, Reply::AlreadyRecording),
            ),
            (Reply::Done | Reply::AlreadyRecording, Outgoing::Control { action, .. }) => {
                let state = if *action == ControlAction::Pause {
                    "paused"
                } else {
                    "recording"
                };
                Answer::http(200, &json!({"state": state, "recordings": []}).to_string())
            }
            (Reply::Done | Reply::AlreadyRecording, _) => {
                Answer::http(200, r#"{"success":true,"validForMs":60000}"#)
            }
            (Reply::Network, _) => Answer::Network("connection refused".into()),
            (Reply::Unavailable, _) => Answer::http(503, "{}"),
            (Reply::NotInProgress, _) => Answer::http(
                409,
                r#"{"success":false,"message":"Call is not in-progress.","code":21220}"#,
            ),
            (Reply::Refused, _) => Answer::http(
                403,
                r#"{"success":false,"code":"excluded","message":"task is excluded","rule":"exclude_queues: Sales"}"#,
            ),
        };
        if let Some(key) = self.create_requests.get(&request) {
            let outcome = match reply {
                Reply::Done | Reply::AlreadyRecording => Some(Create::Recorded),
                Reply::NotInProgress | Reply::Refused => Some(Create::Failed),
                Reply::Network | Reply::Unavailable => None,
            };
            if let Some(outcome) = outcome {
                self.creates.insert(key.clone(), outcome);
            }
        }
        self.event(Event::Answer { request, answer })
    }

    fn flex(&mut self, e: FlexEvent) -> Result<(), TestCaseError> {
        self.event(Event::Flex(e))
    }

    fn event(&mut self, e: Event) -> Result<(), TestCaseError> {
        let out = self.core.handle(e);
        self.check(out)
    }

    /// Plays the shell's part for the commands of one step, checking what
    /// the core sends.
    fn check(&mut self, out: Vec<Command>) -> Result<(), TestCaseError> {
        for command in out {
            match command {
                Command::SetTimer { id, .. } => self.timers.push(id),
                Command::CancelTimer { id } => self.timers.retain(|t| *t != id),
                Command::Send { request, body, .. } => self.sent(request, body)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn sent(&mut self, request: u64, body: Outgoing) -> Result<(), TestCaseError> {
        let task_sid = task_of(&body).to_string();
        let t = TASKS.iter().position(|s| *s == task_sid);
        prop_assert!(t.is_some(), "a request for an unknown task: {body:?}");
        let t = t.unwrap_or_default();
        let resume = matches!(
            body,
            Outgoing::Control {
                action: ControlAction::Resume,
                ..
            }
        );
        if self.ended[t] {
            prop_assert!(
                resume || matches!(body, Outgoing::Link(_)),
                "sent after {task_sid} ended: {body:?}"
            );
        }
        if matches!(self.setup, Setup::Conference) {
            prop_assert!(
                matches!(body, Outgoing::Control { .. }),
                "the conference method sends only pauses and resumes: {body:?}"
            );
        }
        if let Outgoing::Control { action, body } = &body {
            let target = target_of(body);
            match action {
                ControlAction::Resume => self.paused_here[t].retain(|p| *p != target),
                ControlAction::Pause => self.paused_here[t].push(target),
                ControlAction::State => {}
            }
        }
        if let Outgoing::Create(b) = &body {
            let key = (task_sid.clone(), b.call_sid.clone());
            // A retry repeats the request under its own id.
            if !self.create_requests.contains_key(&request) {
                let before = self.creates.get(&key).copied();
                prop_assert!(
                    matches!(before, None | Some(Create::Failed)),
                    "a second recording request for {} of {task_sid} ({before:?})",
                    b.call_sid
                );
                self.creates.insert(key.clone(), Create::Open);
                self.create_requests.insert(request, key);
            }
        }
        if !self.in_flight.iter().any(|(r, _)| *r == request) {
            self.in_flight.push((request, body));
        }
        Ok(())
    }

    /// Never left paused: when the worker's part of a task ends (hang-up,
    /// complete), a pause this tab made is resumed. One that lands in
    /// wrap-up is resumed when the task ends (`check_paused`).
    fn check_resumed(&self, t: usize) -> Result<(), TestCaseError> {
        let paused = self.still_paused(t);
        prop_assert!(
            paused.is_empty(),
            "{} left paused when the worker's part ended: {paused:?}",
            TASKS[t]
        );
        Ok(())
    }

    /// The pauses of this instance in task `t` whose recording still runs:
    /// a call that left the conference ended its recording. So did a call
    /// of this worker's that the task's conference does not show while it
    /// shows another leg of the worker: the worker is on that one (an
    /// internal call records this instance's active call before the
    /// conference shows the worker's leg).
    fn still_paused(&self, t: usize) -> Vec<&String> {
        let c = &self.conferences[t];
        let shown = |call: &String| {
            (0..LEGS)
                .find(|l| *call == worker_call(t, *l))
                .and_then(|l| c.legs[l])
        };
        let worker = |call: &String| {
            (0..=TASKS.len()).any(|u| (0..LEGS).any(|l| *call == worker_call(u, l)))
        };
        let over = |call: &String| {
            // The conference's recording ended with the conference.
            (*call == conference_sid(t) && c.over)
                || (*call == customer_call(t) && c.customer == Some(false))
                || (worker(call)
                    && match shown(call) {
                        Some(joined) => !joined,
                        None => c.legs.iter().any(Option::is_some),
                    })
        };
        self.paused_here[t].iter().filter(|p| !over(p)).collect()
    }

    /// Never left paused: after a task ended, no pause of this tab remains
    /// (one that lands later is resumed at once).
    fn check_paused(&self) -> Result<(), TestCaseError> {
        for (t, task_sid) in TASKS.iter().enumerate() {
            let paused = self.still_paused(t);
            prop_assert!(
                !self.ended[t] || paused.is_empty(),
                "{task_sid} left paused after it ended: {paused:?}"
            );
        }
        Ok(())
    }

    /// Every task ends, the buttons' answers land, every request is answered
    /// (a final failure) and the timers fire until the core is idle.
    fn wind_down(&mut self) -> Result<(), TestCaseError> {
        for t in 0..TASKS.len() {
            self.apply(Step::Ended {
                task: t,
                canceled: false,
            })?;
        }
        while !self.presses.is_empty() {
            self.pressed(0, true)?;
            self.check_paused()?;
        }
        let mut guard = 0;
        while (!self.in_flight.is_empty() || !self.core.idle()) && guard < 100 {
            guard += 1;
            for (request, body) in std::mem::take(&mut self.in_flight) {
                self.answer(request, &body, Reply::NotInProgress)?;
            }
            for id in std::mem::take(&mut self.timers) {
                self.event(Event::Timer { id })?;
            }
        }
        prop_assert!(self.core.followed().is_empty(), "still following");
        prop_assert!(self.core.idle(), "busy after every task ended");
        self.check_paused()
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        // A failure prints its shrunk timeline; no file is written in src.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_timelines_keep_the_invariants_and_wind_down(
        setup in setup(),
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut shell = Shell::new(setup);
        for s in steps {
            shell.apply(s)?;
        }
        shell.wind_down()?;
    }
}
