//! Pause and resume (PCI): the configuration, which recordings a pause
//! reaches, and what the backend's answer means. Plain decisions; the session
//! keeps the few facts it needs (which task is paused, the max-pause timer).
//!
//! The state lives at Twilio: the backend reads and changes the recordings
//! there, so every tab of the worker shows the same state and any tab may
//! resume what another paused.

use crate::api::{ControlAction, PauseBehavior};
use crate::backend_client::{classify, Answer, Outcome};
use crate::config::{seconds_to_ms, Block, Channel, ConfigError, Method};
use crate::document::{Document, Node};
use crate::insights::RecordedLeg;
use crate::leg::{customer_leg, worker_leg};
use crate::sid::{is_sid, SidKind};
use crate::snapshot::ConferenceSnapshot;
use serde::Serialize;

/// A leg this instance recorded (or found recording), as the session knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedLegRef<'a> {
    pub call_sid: &'a str,
    pub kind: RecordedLeg,
}

/// The flex-project-template's own key, `custom_data.features.pause_recording`.
pub const PAUSE_FEATURE_KEY: &str = "pause_recording";
/// Longest `max_pause_seconds` accepted: a pause longer than a day is a typo.
const MAX_PAUSE_LIMIT_MS: u64 = 86_400_000;

/// `custom_data.features.pause_recording`. Absent: everything off, and the
/// Flex actions still work (other plugins and buttons may call them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PauseConfig {
    /// The Pause/Resume button in the call canvas.
    pub enabled: bool,
    /// Twilio `PauseBehavior`: `silence` when true, else `skip` (the template's rule).
    pub include_silence: bool,
    /// A banner while the recording is paused.
    pub indicator_banner: bool,
    /// A permanent indicator of the recording state in the call canvas.
    pub indicator_permanent: bool,
    /// Resume automatically after this long.
    pub max_pause_ms: Option<u64>,
}

impl PauseConfig {
    pub fn pause_behavior(&self) -> PauseBehavior {
        if self.include_silence {
            PauseBehavior::Silence
        } else {
            PauseBehavior::Skip
        }
    }

    /// What the shim's button and indicators need, texts in `locale`.
    pub fn ui(&self, locale: &str) -> PauseUi {
        let t = crate::strings::pause_texts(locale);
        PauseUi {
            enabled: self.enabled,
            indicator_banner: self.indicator_banner,
            indicator_permanent: self.indicator_permanent,
            notification_id: crate::strings::PAUSED_NOTIFICATION_ID,
            texts: PauseTexts {
                pause: t.pause,
                resume: t.resume,
                toggle: t.toggle,
                paused_banner: t.paused_banner,
            },
        }
    }
}

/// `{"enabled","indicatorBanner","indicatorPermanent","notificationId","texts":{"pause","resume","pausedBanner"}}`,
/// the shim's `pauseUi`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseUi {
    pub enabled: bool,
    pub indicator_banner: bool,
    pub indicator_permanent: bool,
    pub notification_id: &'static str,
    pub texts: PauseTexts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseTexts {
    pub pause: &'static str,
    pub resume: &'static str,
    pub toggle: &'static str,
    pub paused_banner: &'static str,
}

fn flag<D: Document>(obj: &D, at: &str, key: &str, errors: &mut Vec<ConfigError>) -> bool {
    match obj.at(key) {
        None | Some(Node::Null) => false,
        Some(Node::Bool(b)) => b,
        Some(other) => {
            errors.push(ConfigError {
                path: format!("{at}.{key}"),
                problem: format!(
                    "must be true or false, found {}",
                    crate::config::type_name(&other)
                ),
            });
            false
        }
    }
}

/// Reads the pause configuration out of the whole `custom_data`, from the
/// block it holds (`config::Block::of`). Any problem makes pausing inert
/// (`Err`), with every problem and its path.
pub fn parse<D: Document>(custom_data: D) -> Result<PauseConfig, Vec<ConfigError>> {
    parse_block(&custom_data, Block::of(&custom_data))
}

/// The pause settings of `block`: `features.pause_recording` (the template's
/// key) or `plugin_dual_channel_recording.pause_recording`.
pub fn parse_block<D: Document>(
    custom_data: &D,
    block: Block,
) -> Result<PauseConfig, Vec<ConfigError>> {
    let found = match block {
        Block::Own => custom_data
            .get(crate::config::OWN_BLOCK)
            .and_then(|b| b.get(PAUSE_FEATURE_KEY)),
        Block::Template => custom_data
            .get("features")
            .and_then(|f| f.get(PAUSE_FEATURE_KEY)),
    };
    let Some(obj) = found else {
        return Ok(PauseConfig::default());
    };
    let at = block.pause_path();
    let mut errors = Vec::new();
    let node = obj.node();
    if !matches!(node, Node::Object) {
        if matches!(node, Node::Null) {
            return Ok(PauseConfig::default());
        }
        return Err(vec![ConfigError {
            path: at.to_string(),
            problem: format!(
                "must be an object, found {}",
                crate::config::type_name(&node)
            ),
        }]);
    }
    let enabled = flag(&obj, at, "enabled", &mut errors);
    let include_silence = flag(&obj, at, "include_silence", &mut errors);
    let indicator_banner = flag(&obj, at, "indicator_banner", &mut errors);
    let indicator_permanent = flag(&obj, at, "indicator_permanent", &mut errors);
    let max_pause_ms = match obj.at("max_pause_seconds") {
        None | Some(Node::Null) => None,
        Some(Node::Number(n)) => match seconds_to_ms(&n) {
            Some(ms) if ms > 0 && ms <= MAX_PAUSE_LIMIT_MS => Some(ms),
            _ => {
                errors.push(ConfigError {
                    path: format!("{at}.max_pause_seconds"),
                    problem: format!("must be more than 0 and at most 86400, found {}", n),
                });
                None
            }
        },
        Some(other) => {
            errors.push(ConfigError {
                path: format!("{at}.max_pause_seconds"),
                problem: format!(
                    "must be a number of seconds, found {}",
                    crate::config::type_name(&other)
                ),
            });
            None
        }
    };
    if errors.is_empty() {
        Ok(PauseConfig {
            enabled,
            include_silence,
            indicator_banner,
            indicator_permanent,
            max_pause_ms,
        })
    } else {
        Err(errors)
    }
}

/// Where a pause goes: one leg of the task, or its conference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Call(String),
    Conference(String),
}

/// Why there is nothing to pause; the text is what the action rejects with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoTarget {
    /// The task is not one of this worker's tasks in this Flex instance.
    NotThisWorkersTask,
    /// Nothing this plugin records (or Flex records) is live on the task.
    NothingRecording,
    /// The pause configuration is invalid; see the log.
    Misconfigured,
}

impl NoTarget {
    pub fn reason(&self, task_sid: &str) -> String {
        match self {
            NoTarget::NotThisWorkersTask => {
                format!("{task_sid} is not a task of this worker in this Flex window")
            }
            NoTarget::NothingRecording => format!("nothing is being recorded on {task_sid}"),
            NoTarget::Misconfigured => format!(
                "pausing is off because the configuration's {PAUSE_FEATURE_KEY} is invalid (see the log)"
            ),
        }
    }
}

/// Which recording(s) a pause of the task reaches:
/// - `method: "conference"`: the conference's recording (Flex's own);
/// - customer channel: the customer-leg recording, the one call recording of
///   the task (the leg this plugin recorded, else the customer's live leg);
/// - worker channel: this worker's live leg, the newest after any Join Call;
///   without a conference (an internal call) the leg this plugin recorded last.
///
/// `recorded` lists the legs this instance started or found recording, oldest
/// first.
pub fn target(
    method: Method,
    channel: Channel,
    conference: Option<&ConferenceSnapshot>,
    recorded: &[RecordedLegRef<'_>],
    worker_sid: &str,
) -> Result<Target, NoTarget> {
    if method == Method::Conference {
        return conference
            .and_then(|c| c.conference_sid.as_deref())
            .filter(|cf| is_sid(SidKind::Conference, cf))
            .map(|cf| Target::Conference(cf.to_string()))
            .ok_or(NoTarget::NothingRecording);
    }
    let last_recorded = || recorded.last().map(|r| r.call_sid.to_string());
    let call = match channel {
        Channel::Customer => {
            last_recorded().or_else(|| conference.and_then(customer_leg).map(str::to_string))
        }
        Channel::Worker => conference
            .and_then(|c| worker_leg(c, worker_sid))
            .map(str::to_string)
            .or_else(last_recorded),
    };
    call.filter(|c| is_sid(SidKind::Call, c))
        .map(Target::Call)
        .ok_or(NoTarget::NothingRecording)
}

/// Every place a pause of the task reaches (`RecordingControlRequest`):
/// the target, the task's conference (Flex's own Call Recording records
/// it) and the customer's call (any other recording Twilio lists there).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Places {
    pub call_sid: Option<String>,
    pub conference_sid: Option<String>,
    pub customer_call_sid: Option<String>,
}

pub fn places(target: Target, conference: Option<&ConferenceSnapshot>) -> Places {
    let conference_sid = conference
        .and_then(|c| c.conference_sid.as_deref())
        .filter(|cf| is_sid(SidKind::Conference, cf))
        .map(str::to_string);
    let customer = conference
        .and_then(customer_leg)
        .filter(|ca| is_sid(SidKind::Call, ca))
        .map(str::to_string);
    let call_sid = match target {
        Target::Call(c) => Some(c),
        Target::Conference(_) => None,
    };
    Places {
        customer_call_sid: customer.filter(|c| call_sid.as_ref() != Some(c)),
        call_sid,
        conference_sid,
    }
}

/// Whether the target's recording is known to have ended with its call: the
/// conference lists that call as gone (for the conference's own recording,
/// every participant gone, a worker among them). A resume or pause of it could only be answered
/// "nothing is being recorded", so none is sent. Unknown is not ended.
pub fn target_ended(target: &Target, conference: Option<&ConferenceSnapshot>) -> bool {
    let Some(c) = conference else { return false };
    match target {
        Target::Call(call) => c
            .participants
            .iter()
            .rev()
            .find(|p| p.call_sid.as_deref() == Some(call.as_str()))
            .is_some_and(|p| !p.is_joined()),
        // Twilio ends a conference when its last participant leaves; a
        // worker among those gone, so that it is not one still being set up.
        Target::Conference(_) => {
            c.participants.iter().any(|p| p.is_type("worker"))
                && c.participants.iter().all(|p| !p.is_joined())
        }
    }
}

/// The backend's 409: nothing is being recorded where the pause or resume
/// went (the call ended, and its recording with it; or Twilio's 21220). For a
/// pause or resume the core sends by itself that is an expected end, not a
/// failure.
pub fn nothing_recorded(answer: &Answer) -> bool {
    matches!(answer, Answer::Http { status: 409, .. })
}

/// The recording state of a task as the backend read it from Twilio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlState {
    /// `paused`, `recording` or `none`.
    pub state: String,
    /// `(recording SID, Twilio status)`.
    pub recordings: Vec<(String, String)>,
    /// What this request paused (a pause), from the backend's `paused`.
    pub paused_now: Vec<String>,
    /// What this request resumed (a resume), from the backend's `resumed`.
    pub resumed_now: Vec<String>,
    /// Where each listed recording runs (its `callSid` or `conferenceSid`),
    /// so that a resume of what a pause paused can tell when all of it has
    /// ended with its call.
    pub parents: Vec<(String, Target)>,
}

impl ControlState {
    pub fn paused(&self) -> bool {
        self.state == "paused"
    }

    /// What `ToggleCallRecording` does, given the state Twilio has now: a
    /// task with any recording paused is resumed, else paused (so a toggle
    /// never leaves a recording of the call running that a pause would
    /// have reached).
    pub fn toggled(&self) -> ControlAction {
        if self.paused() {
            ControlAction::Resume
        } else {
            ControlAction::Pause
        }
    }

    /// `{"state","recordings":[{"recordingSid","status"}],"paused":[..],"resumed":[..]}`,
    /// what the actions resolve with.
    pub fn answer(&self) -> ControlAnswer<'_> {
        ControlAnswer {
            state: &self.state,
            paused: &self.paused_now,
            resumed: &self.resumed_now,
            recordings: self
                .recordings
                .iter()
                .map(|(recording_sid, status)| RecordingAnswer {
                    recording_sid,
                    status,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ControlAnswer<'a> {
    pub state: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub paused: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub resumed: &'a [String],
    pub recordings: Vec<RecordingAnswer<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingAnswer<'a> {
    pub recording_sid: &'a str,
    pub status: &'a str,
}

/// What an answer of the pause, resume or state endpoint means.
pub fn control_outcome(answer: &Answer) -> Outcome<ControlState> {
    let outcome = classify(answer, |v| {
        let state = v.str_at("state")?;
        let listed = match v.at("recordings") {
            Some(Node::Array(items)) => items,
            _ => Vec::new(),
        };
        let recordings = listed
            .iter()
            .filter_map(|r| Some((r.str_at("recordingSid")?, r.str_at("status")?)))
            .collect();
        let parents = listed
            .iter()
            .filter_map(|r| {
                let sid = r.str_at("recordingSid")?;
                let parent = match (r.str_at("callSid"), r.str_at("conferenceSid")) {
                    (Some(ca), _) if is_sid(SidKind::Call, &ca) => Target::Call(ca),
                    (_, Some(cf)) if is_sid(SidKind::Conference, &cf) => Target::Conference(cf),
                    _ => return None,
                };
                Some((sid, parent))
            })
            .collect();
        let sids = |key: &str| match v.at(key) {
            Some(Node::Array(items)) => items
                .iter()
                .filter_map(|r| match r.node() {
                    Node::String(s) if is_sid(SidKind::Recording, &s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(ControlState {
            state,
            recordings,
            paused_now: sids("paused"),
            resumed_now: sids("resumed"),
            parents,
        })
    });
    // The backend refuses a worker who holds no reservation on the task with
    // 403; say so in the words an agent's supervisor would use.
    match (outcome, answer) {
        (Outcome::Fail(why), Answer::Http { status: 403, .. }) => {
            Outcome::Fail(format!("not this worker's task: {why}"))
        }
        (o, _) => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Participant;

    const W: &str = "WK00000000000000000000000000000001";
    const OTHER: &str = "WK00000000000000000000000000000002";
    const CF: &str = "CF00000000000000000000000000000001";
    const C: &str = "CA000000000000000000000000000000c1";
    const A1: &str = "CA000000000000000000000000000000a1";
    const A2: &str = "CA000000000000000000000000000000a2";
    const B1: &str = "CA000000000000000000000000000000b1";
    const RE1: &str = "RE000000000000000000000000000000e1";
    const RE2: &str = "RE000000000000000000000000000000e2";

    fn p(kind: &str, status: &str, call: &str, worker: Option<&str>) -> Participant {
        Participant {
            participant_type: Some(kind.into()),
            status: Some(status.into()),
            call_sid: Some(call.into()),
            worker_sid: worker.map(str::to_string),
            ..Default::default()
        }
    }

    fn conf(ps: Vec<Participant>) -> ConferenceSnapshot {
        ConferenceSnapshot {
            conference_sid: Some(CF.into()),
            participants: ps,
        }
    }

    /// (name, method, channel, conference, recorded legs, expected)
    type TargetCase<'a> = (
        &'a str,
        Method,
        Channel,
        Option<&'a ConferenceSnapshot>,
        Vec<RecordedLegRef<'a>>,
        Result<Target, NoTarget>,
    );

    #[test]
    fn which_recording_a_pause_reaches() {
        let plain = conf(vec![
            p("customer", "joined", C, None),
            p("worker", "joined", A1, Some(W)),
        ]);
        // Join Call: the old leg still listed as joined, the new one last.
        let joined_again = conf(vec![
            p("customer", "joined", C, None),
            p("worker", "joined", A1, Some(W)),
            p("worker", "joined", A2, Some(W)),
        ]);
        // Transfer: another worker joined, this worker's leg left.
        let transferred = conf(vec![
            p("customer", "joined", C, None),
            p("worker", "left", A1, Some(W)),
            p("worker", "joined", B1, Some(OTHER)),
        ]);
        let rec = |c: &'static str, k| RecordedLegRef {
            call_sid: c,
            kind: k,
        };
        let no_conf_id = ConferenceSnapshot {
            conference_sid: None,
            ..plain.clone()
        };
        use Channel::*;
        use Method::*;
        let cases: Vec<TargetCase> = vec![
            (
                "customer channel: the recorded customer leg",
                CallLeg,
                Customer,
                Some(&plain),
                vec![rec(C, RecordedLeg::Customer)],
                Ok(Target::Call(C.into())),
            ),
            (
                "customer channel before any answer: the live customer leg",
                CallLeg,
                Customer,
                Some(&plain),
                vec![],
                Ok(Target::Call(C.into())),
            ),
            (
                "customer channel, nothing known",
                CallLeg,
                Customer,
                None,
                vec![],
                Err(NoTarget::NothingRecording),
            ),
            (
                "worker channel: this worker's leg",
                CallLeg,
                Worker,
                Some(&plain),
                vec![rec(A1, RecordedLeg::Worker)],
                Ok(Target::Call(A1.into())),
            ),
            (
                "worker channel after Join Call: the newest leg",
                CallLeg,
                Worker,
                Some(&joined_again),
                vec![rec(A1, RecordedLeg::Worker), rec(A2, RecordedLeg::Worker)],
                Ok(Target::Call(A2.into())),
            ),
            (
                "worker channel after Join Call, the new leg not recorded yet",
                CallLeg,
                Worker,
                Some(&joined_again),
                vec![rec(A1, RecordedLeg::Worker)],
                Ok(Target::Call(A2.into())),
            ),
            (
                "worker channel after transfer: never the other worker's leg",
                CallLeg,
                Worker,
                Some(&transferred),
                vec![rec(A1, RecordedLeg::Worker)],
                Ok(Target::Call(A1.into())),
            ),
            (
                "worker channel, internal call (no conference)",
                CallLeg,
                Worker,
                None,
                vec![rec(A1, RecordedLeg::Worker)],
                Ok(Target::Call(A1.into())),
            ),
            (
                "worker channel, nothing",
                CallLeg,
                Worker,
                None,
                vec![],
                Err(NoTarget::NothingRecording),
            ),
            (
                "conference method: the conference",
                Conference,
                Customer,
                Some(&plain),
                vec![],
                Ok(Target::Conference(CF.into())),
            ),
            (
                "conference method, worker channel: the conference",
                Conference,
                Worker,
                Some(&joined_again),
                vec![rec(A1, RecordedLeg::Worker)],
                Ok(Target::Conference(CF.into())),
            ),
            (
                "conference method without a known conference",
                Conference,
                Customer,
                Some(&no_conf_id),
                vec![],
                Err(NoTarget::NothingRecording),
            ),
            (
                "conference method, no conference yet",
                Conference,
                Customer,
                None,
                vec![rec(C, RecordedLeg::Customer)],
                Err(NoTarget::NothingRecording),
            ),
        ];
        for (name, method, channel, conference, recorded, want) in cases {
            assert_eq!(
                target(method, channel, conference, &recorded, W),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn configuration() {
        let parse_text = |t: &str| parse(&serde_json::from_str::<serde_json::Value>(t).unwrap());
        let on = PauseConfig {
            enabled: true,
            ..Default::default()
        };
        let cases: Vec<(&str, Result<PauseConfig, Vec<&str>>)> = vec![
            (r#"{}"#, Ok(PauseConfig::default())),
            (r#"{"features":{}}"#, Ok(PauseConfig::default())),
            (
                r#"{"features":{"pause_recording":null}}"#,
                Ok(PauseConfig::default()),
            ),
            (
                r#"{"features":{"pause_recording":{"enabled":true}}}"#,
                Ok(on.clone()),
            ),
            (
                r#"{"features":{"pause_recording":{"enabled":true,"include_silence":true,"indicator_banner":true,"indicator_permanent":true,"max_pause_seconds":90}}}"#,
                Ok(PauseConfig {
                    enabled: true,
                    include_silence: true,
                    indicator_banner: true,
                    indicator_permanent: true,
                    max_pause_ms: Some(90_000),
                }),
            ),
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":0.5}}}"#,
                Ok(PauseConfig {
                    max_pause_ms: Some(500),
                    ..Default::default()
                }),
            ),
            (
                r#"{"features":{"pause_recording":true}}"#,
                Err(vec!["features.pause_recording"]),
            ),
            (
                r#"{"features":{"pause_recording":{"enabled":"yes"}}}"#,
                Err(vec!["features.pause_recording.enabled"]),
            ),
            (
                r#"{"features":{"pause_recording":{"include_silence":1,"indicator_banner":[],"indicator_permanent":{}}}}"#,
                Err(vec![
                    "features.pause_recording.include_silence",
                    "features.pause_recording.indicator_banner",
                    "features.pause_recording.indicator_permanent",
                ]),
            ),
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":0}}}"#,
                Err(vec!["features.pause_recording.max_pause_seconds"]),
            ),
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":-5}}}"#,
                Err(vec!["features.pause_recording.max_pause_seconds"]),
            ),
            // Numbers arrive canonical: 1e3 is 1000 seconds.
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":1e3}}}"#,
                Ok(PauseConfig {
                    max_pause_ms: Some(1_000_000),
                    ..Default::default()
                }),
            ),
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":"60"}}}"#,
                Err(vec!["features.pause_recording.max_pause_seconds"]),
            ),
            (
                r#"{"features":{"pause_recording":{"max_pause_seconds":86401}}}"#,
                Err(vec!["features.pause_recording.max_pause_seconds"]),
            ),
        ];
        for (text, want) in cases {
            let got = parse_text(text)
                .map_err(|es| es.iter().map(|e| e.path.clone()).collect::<Vec<_>>());
            let want = want.map_err(|ps| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{text}");
        }
        assert_eq!(on.pause_behavior(), PauseBehavior::Skip);
        let ui: serde_json::Value = serde_json::to_value(on.ui("pt-BR")).unwrap();
        assert_eq!(ui["enabled"], true);
        assert_eq!(ui["indicatorBanner"], false);
        assert_eq!(ui["texts"]["resume"], "Retomar gravação");
        let silent = PauseConfig {
            include_silence: true,
            ..on
        };
        assert_eq!(silent.pause_behavior(), PauseBehavior::Silence);
    }

    #[test]
    fn answers() {
        let http = Answer::http;
        let ok = http(
            200,
            r#"{"success":true,"state":"paused","recordings":[{"recordingSid":"RE1","callSid":"CA1","status":"paused"}]}"#,
        );
        match control_outcome(&ok) {
            Outcome::Done(s) => {
                assert!(s.paused());
                assert_eq!(
                    s.recordings,
                    vec![("RE1".to_string(), "paused".to_string())]
                );
                assert_eq!(
                    serde_json::to_string(&s.answer()).unwrap(),
                    r#"{"state":"paused","recordings":[{"recordingSid":"RE1","status":"paused"}]}"#
                );
            }
            other => panic!("{other:?}"),
        }
        let cases: Vec<(Answer, &str)> = vec![
            (
                http(
                    403,
                    r#"{"success":false,"message":"worker WK1 holds no accepted reservation","code":403}"#,
                ),
                "fail:not this worker's task",
            ),
            (
                http(
                    409,
                    r#"{"success":false,"message":"nothing is being recorded on CA1","code":409}"#,
                ),
                "fail:HTTP 409",
            ),
            (
                http(
                    409,
                    r#"{"success":false,"message":"Twilio refused","code":21220}"#,
                ),
                "fail:no longer in progress",
            ),
            (http(503, "{}"), "retry:"),
            (
                http(
                    403,
                    r#"{"success":false,"code":"excluded","message":"queue Billing is in exclude_queues","rule":"exclude_queues: Billing"}"#,
                ),
                "refused:exclude_queues: Billing",
            ),
            (http(200, "not json"), "fail:unreadable"),
            (
                Answer::Network("refused".into()),
                "retry:could not be reached",
            ),
        ];
        for (answer, want) in cases {
            let got = match control_outcome(&answer) {
                Outcome::Done(_) => "done:".to_string(),
                Outcome::Retry(w) => format!("retry:{w}"),
                Outcome::Fail(w) => format!("fail:{w}"),
                Outcome::Refused(w) => format!("refused:{w}"),
            };
            let (kind, text) = want.split_once(':').unwrap();
            assert!(
                got.starts_with(kind) && got.contains(text),
                "{answer:?}: {got}"
            );
        }
    }

    #[test]
    fn the_answer_type_the_backend_writes_is_read() {
        let written = serde_json::to_string(&crate::api::RecordingControlResponse {
            success: true,
            state: "recording".into(),
            recordings: vec![crate::api::RecordingStatusEntry {
                recording_sid: "RE1".into(),
                call_sid: None,
                conference_sid: Some(CF.into()),
                status: "in-progress".into(),
            }],
            paused: vec![RE1.into(), "not a SID".into()],
            resumed: vec![RE2.into()],
        })
        .unwrap();
        let Outcome::Done(s) = control_outcome(&Answer::http(200, &written)) else {
            panic!("not read");
        };
        assert_eq!(s.state, "recording");
        assert_eq!(
            s.recordings,
            vec![("RE1".to_string(), "in-progress".to_string())]
        );
        assert_eq!(s.paused_now, vec![RE1.to_string()]);
        assert_eq!(s.resumed_now, vec![RE2.to_string()]);
    }

    #[test]
    fn a_pause_reaches_the_leg_the_conference_and_the_customers_call() {
        let plain = conf(vec![
            p("customer", "joined", C, None),
            p("worker", "joined", A1, Some(W)),
        ]);
        let no_sids = ConferenceSnapshot {
            conference_sid: Some("not a conference".into()),
            participants: vec![p("customer", "joined", "not a call", None)],
        };
        let some = |s: &str| Some(s.to_string());
        // (what, target, conference, expected)
        let cases = [
            (
                "worker leg: its conference and the customer's call too",
                Target::Call(A1.into()),
                Some(&plain),
                Places {
                    call_sid: some(A1),
                    conference_sid: some(CF),
                    customer_call_sid: some(C),
                },
            ),
            (
                "customer leg: the customer's call is not named twice",
                Target::Call(C.into()),
                Some(&plain),
                Places {
                    call_sid: some(C),
                    conference_sid: some(CF),
                    customer_call_sid: None,
                },
            ),
            (
                "conference method: the conference and the customer's call",
                Target::Conference(CF.into()),
                Some(&plain),
                Places {
                    call_sid: None,
                    conference_sid: some(CF),
                    customer_call_sid: some(C),
                },
            ),
            (
                "no conference (an internal call): the leg alone",
                Target::Call(A1.into()),
                None,
                Places {
                    call_sid: some(A1),
                    ..Places::default()
                },
            ),
            (
                "what is not a SID is never named",
                Target::Call(A1.into()),
                Some(&no_sids),
                Places {
                    call_sid: some(A1),
                    ..Places::default()
                },
            ),
        ];
        for (what, target, conference, want) in cases {
            assert_eq!(places(target, conference), want, "{what}");
        }
    }

    #[test]
    fn a_toggle_resumes_what_is_paused_and_pauses_the_rest() {
        let state = |word: &str| ControlState {
            state: word.into(),
            recordings: Vec::new(),
            paused_now: Vec::new(),
            resumed_now: Vec::new(),
            parents: Vec::new(),
        };
        let cases = [
            ("paused", ControlAction::Resume),
            ("recording", ControlAction::Pause),
            ("none", ControlAction::Pause),
        ];
        for (word, want) in cases {
            assert_eq!(state(word).toggled(), want, "{word}");
        }
    }

    #[test]
    fn when_a_recording_is_known_to_have_ended() {
        let call = Target::Call(C.into());
        let cf = Target::Conference(CF.into());
        let live = conf(vec![
            p("customer", "joined", C, None),
            p("worker", "joined", A1, Some(W)),
        ]);
        let customer_gone = conf(vec![
            p("customer", "left", C, None),
            p("worker", "joined", A1, Some(W)),
        ]);
        let all_gone = conf(vec![
            p("customer", "left", C, None),
            p("worker", "left", A1, Some(W)),
        ]);
        let not_listed = conf(vec![p("worker", "joined", A1, Some(W))]);
        let customer_only_gone = conf(vec![p("customer", "left", C, None)]);
        let empty = conf(vec![]);
        // (name, target, conference, ended?)
        let cases: Vec<(&str, &Target, Option<&ConferenceSnapshot>, bool)> = vec![
            ("the call is live", &call, Some(&live), false),
            (
                "the call left the conference",
                &call,
                Some(&customer_gone),
                true,
            ),
            (
                "the call is not listed: unknown",
                &call,
                Some(&not_listed),
                false,
            ),
            ("no conference known", &call, None, false),
            (
                "a conference with someone still in it",
                &cf,
                Some(&customer_gone),
                false,
            ),
            ("a conference everybody left", &cf, Some(&all_gone), true),
            (
                "a conference with nobody listed yet",
                &cf,
                Some(&empty),
                false,
            ),
            (
                "only the customer listed, gone: the worker may be joining",
                &cf,
                Some(&customer_only_gone),
                false,
            ),
        ];
        for (name, target, conference, want) in cases {
            assert_eq!(target_ended(target, conference), want, "{name}");
        }
    }

    #[test]
    fn a_409_means_nothing_is_recorded_there() {
        let cases: Vec<(&str, Answer, bool)> = vec![
            (
                "the backend's 409",
                Answer::http(
                    409,
                    r#"{"success":false,"message":"nothing is being recorded on CA1 of task WT1"}"#,
                ),
                true,
            ),
            (
                "a refusal",
                Answer::http(403, r#"{"success":false}"#),
                false,
            ),
            ("a server error", Answer::http(500, ""), false),
            ("no answer", Answer::Network("refused".into()), false),
        ];
        for (name, answer, want) in cases {
            assert_eq!(nothing_recorded(&answer), want, "{name}");
        }
    }
}
