//! The wire contract between the plugin (browser) and the backend endpoint.
//! Both sides use these types, so a field renamed on one side cannot silently
//! break the other. Plain data: no I/O here.
//!
//! The create-recording request stays compatible with the flex-project-template
//! serverless function: form-encoded `callSid` and `Token` alone start a
//! recording; the other fields let the backend link it for Flex Insights in the
//! same round trip.

use crate::insights::{MediaEntry, RecordedLeg};
use serde::{Deserialize, Serialize};

pub const CREATE_RECORDING_PATH: &str = "/features/dual-channel-recording/flex/create-recording";
pub const LINK_CALL_PATH: &str = "/features/dual-channel-recording/flex/link-call";
/// Pause, resume and read the recordings of a task (`RecordingControlRequest`).
pub const PAUSE_RECORDING_PATH: &str = "/features/dual-channel-recording/flex/pause-recording";
pub const RESUME_RECORDING_PATH: &str = "/features/dual-channel-recording/flex/resume-recording";
pub const RECORDING_STATE_PATH: &str = "/features/dual-channel-recording/flex/recording-state";
/// Sent once when a task is accepted: the backend checks everything it can
/// before the call legs join, so the recording request finds it done.
pub const AUTHORIZE_PATH: &str = "/features/dual-channel-recording/flex/authorize";

/// Where the media entry goes; absent means "just record" (template behaviour).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// `conversations.media`
    Conversation,
    /// `reservation_attributes.{reservationSid}.media`
    Reservation,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Conversation => "conversation",
            TargetKind::Reservation => "reservation",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecordingRequest {
    pub call_sid: String,
    /// Absent reads as empty: a request without a token is refused as
    /// unauthenticated (401) by the backend's checks, not as malformed.
    #[serde(rename = "Token", default)]
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_sid: Option<String>,
    /// Which leg `callSid` is; decides the channel labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg: Option<RecordedLeg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetKind>,
    /// When the reservation was accepted, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<i64>,
    /// Conference of the task, written to `conference.sid` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<String>,
    /// The customer's call, written to `call_sid` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_call_sid: Option<String>,
}

/// Authorize ahead: the worker (from the token) holds this reservation on
/// this task, and the policy allows recording it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeRequest {
    /// Absent reads as empty: a request without a token is refused as
    /// unauthenticated (401) by the backend's checks, not as malformed.
    #[serde(rename = "Token", default)]
    pub token: String,
    pub task_sid: String,
    pub reservation_sid: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeResponse {
    pub success: bool,
    /// How long the backend keeps the grant before checking the reservation again.
    pub valid_for_ms: u64,
}

/// Records the conference (and customer call) on a task when no recording
/// will: an outbound call hung up before the called party answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkCallRequest {
    /// Absent reads as empty: a request without a token is refused as
    /// unauthenticated (401) by the backend's checks, not as malformed.
    #[serde(rename = "Token", default)]
    pub token: String,
    pub task_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_call_sid: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecordingResponse {
    pub success: bool,
    pub call_sid: String,
    pub recording_sid: String,
    pub recording_url: String,
    /// This backend had already started an in-progress dual recording on the call.
    pub already_recording: bool,
    /// The entry linked for Insights, when a target was asked for.
    #[serde(default)]
    pub media: Option<MediaEntry>,
    /// Whether the task attributes now list the entry.
    #[serde(default)]
    pub media_written: bool,
    /// Why the media could not be written, when it could not; the recording stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkCallResponse {
    pub success: bool,
    pub changed: bool,
}

/// Every error the backend returns. `code` is Twilio's error code when the
/// error came from Twilio, otherwise the HTTP status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_info: Option<String>,
}

/// What a pause does with the paused stretch (Twilio's `PauseBehavior`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseBehavior {
    /// The stretch is left out: the file is shorter than the call.
    Skip,
    /// The stretch is silence: the file keeps the call's length.
    Silence,
}

impl PauseBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseBehavior::Skip => "skip",
            PauseBehavior::Silence => "silence",
        }
    }
}

/// Which of the three control endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlAction {
    Pause,
    Resume,
    State,
}

impl ControlAction {
    pub fn path(self) -> &'static str {
        match self {
            ControlAction::Pause => PAUSE_RECORDING_PATH,
            ControlAction::Resume => RESUME_RECORDING_PATH,
            ControlAction::State => RECORDING_STATE_PATH,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ControlAction::Pause => "pause",
            ControlAction::Resume => "resume",
            ControlAction::State => "state",
        }
    }
}

/// Pause, resume or read the recordings of a task: on the leg this plugin
/// records (`callSid`), on the task's conference (`conferenceSid`: Flex's own
/// recording, the conference method) and on the customer's call
/// (`customerCallSid`: any other recording Twilio lists there). At least one
/// is named; the backend addresses every active recording at each by its SID.
/// A resume naming `recordingSids` (what this plugin's pauses paused) resumes
/// only those; without them (an older plugin, a tab that did not pause) it
/// resumes every paused recording there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingControlRequest {
    /// Absent reads as empty: a request without a token is refused as
    /// unauthenticated (401) by the backend's checks, not as malformed.
    #[serde(rename = "Token", default)]
    pub token: String,
    pub task_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<String>,
    /// The customer's call, when it is not `callSid` already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_call_sid: Option<String>,
    /// Only for pause; Twilio's default (`silence`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_behavior: Option<PauseBehavior>,
    /// Only for resume: the recordings to resume, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_sids: Option<String>,
}

impl RecordingControlRequest {
    pub fn to_form(&self) -> String {
        let mut s = String::new();
        push_pair(&mut s, "Token", &self.token);
        push_pair(&mut s, "taskSid", &self.task_sid);
        if let Some(ca) = &self.call_sid {
            push_pair(&mut s, "callSid", ca);
        }
        if let Some(cf) = &self.conference_sid {
            push_pair(&mut s, "conferenceSid", cf);
        }
        if let Some(ca) = &self.customer_call_sid {
            push_pair(&mut s, "customerCallSid", ca);
        }
        if let Some(b) = self.pause_behavior {
            push_pair(&mut s, "pauseBehavior", b.as_str());
        }
        if let Some(sids) = &self.recording_sids {
            push_pair(&mut s, "recordingSids", sids);
        }
        s
    }
}

/// One recording as Twilio now has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingStatusEntry {
    pub recording_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<String>,
    /// Twilio's status: `in-progress`, `paused`, `stopped`, `completed`...
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingControlResponse {
    pub success: bool,
    /// `paused` when any active recording is paused, `recording` when all
    /// are in progress, `none` when nothing is being recorded there.
    pub state: String,
    pub recordings: Vec<RecordingStatusEntry>,
    /// The recordings this request paused (a pause), oldest listed first;
    /// absent from a backend older than this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paused: Vec<String>,
    /// The recordings this request resumed (a resume).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<String>,
}

/// Why the backend's own reading of the Flex configuration forbids a
/// recording (HTTP 403). The plugin never retries these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalCode {
    /// An `exclude_queues` or `exclude_attributes` rule matches the task.
    Excluded,
    /// `enabled` is false or the feature is absent.
    Disabled,
    /// `method` is `"conference"`: Flex records the conference itself.
    ConferenceMethod,
    /// The feature configuration is invalid.
    Misconfigured,
    /// The task's attributes cannot be read, so its exclusions cannot be checked.
    UnreadableAttributes,
    /// Exclusions exist but the request names no task.
    TaskRequired,
    /// The task is not a voice task.
    NotVoice,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 7] = [
        RefusalCode::Excluded,
        RefusalCode::Disabled,
        RefusalCode::ConferenceMethod,
        RefusalCode::Misconfigured,
        RefusalCode::UnreadableAttributes,
        RefusalCode::TaskRequired,
        RefusalCode::NotVoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Excluded => "excluded",
            RefusalCode::Disabled => "disabled",
            RefusalCode::ConferenceMethod => "conference-method",
            RefusalCode::Misconfigured => "misconfigured",
            RefusalCode::UnreadableAttributes => "unreadable-attributes",
            RefusalCode::TaskRequired => "task-required",
            RefusalCode::NotVoice => "not-voice",
        }
    }

    pub fn from_code(code: &str) -> Option<RefusalCode> {
        RefusalCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

/// The 403 answer of a policy refusal: `code` is a [`RefusalCode`] (text,
/// where [`ErrorBody`] has a number) and `rule` names what decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusalBody {
    pub success: bool,
    pub code: RefusalCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// Twilio's "call is not in progress" error: retrying cannot help.
pub const TWILIO_CALL_NOT_IN_PROGRESS: i64 = 21220;

fn push_pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    form_escape(out, key);
    out.push('=');
    form_escape(out, value);
}

/// `application/x-www-form-urlencoded` escaping (WHATWG), so the browser side
/// needs no JS helper and the exact bytes are testable natively.
fn form_escape(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

impl CreateRecordingRequest {
    pub fn to_form(&self) -> String {
        let mut s = String::new();
        push_pair(&mut s, "callSid", &self.call_sid);
        push_pair(&mut s, "Token", &self.token);
        let opt = [
            ("taskSid", self.task_sid.clone()),
            ("reservationSid", self.reservation_sid.clone()),
            ("leg", self.leg.map(|l| l.as_str().to_string())),
            ("target", self.target.map(|t| t.as_str().to_string())),
            ("acceptedAt", self.accepted_at.map(|t| t.to_string())),
            ("conferenceSid", self.conference_sid.clone()),
            ("customerCallSid", self.customer_call_sid.clone()),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                push_pair(&mut s, k, &v);
            }
        }
        s
    }
}

impl AuthorizeRequest {
    pub fn to_form(&self) -> String {
        let mut s = String::new();
        push_pair(&mut s, "Token", &self.token);
        push_pair(&mut s, "taskSid", &self.task_sid);
        push_pair(&mut s, "reservationSid", &self.reservation_sid);
        s
    }
}

impl LinkCallRequest {
    pub fn to_form(&self) -> String {
        let mut s = String::new();
        push_pair(&mut s, "Token", &self.token);
        push_pair(&mut s, "taskSid", &self.task_sid);
        if let Some(cf) = &self.conference_sid {
            push_pair(&mut s, "conferenceSid", cf);
        }
        if let Some(ca) = &self.customer_call_sid {
            push_pair(&mut s, "customerCallSid", ca);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_tokens() {
        let r = CreateRecordingRequest {
            call_sid: "CA1".into(),
            token: "a b+c/=é".into(),
            target: Some(TargetKind::Reservation),
            leg: Some(RecordedLeg::Worker),
            accepted_at: Some(-5),
            ..Default::default()
        };
        assert_eq!(
            r.to_form(),
            "callSid=CA1&Token=a+b%2Bc%2F%3D%C3%A9&leg=worker&target=reservation&acceptedAt=-5"
        );
    }

    #[test]
    fn template_shaped_body_parses() {
        let r: CreateRecordingRequest =
            serde_json::from_str(r#"{"callSid":"CA1","Token":"t","extra":1}"#).unwrap();
        assert_eq!(r.call_sid, "CA1");
        assert_eq!(r.target, None);
    }

    #[test]
    fn link_form() {
        let r = LinkCallRequest {
            token: "t".into(),
            task_sid: "WT1".into(),
            conference_sid: Some("CF1".into()),
            customer_call_sid: None,
        };
        assert_eq!(r.to_form(), "Token=t&taskSid=WT1&conferenceSid=CF1");
    }
}
