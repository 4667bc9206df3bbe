//! The simulated world and how its objects look on the wire.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dual_channel_recording::insights::{parse_json_within, ParseError};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::time::{iso8601, iso8601_millis, rfc2822};
use crate::SimConfig;

pub(crate) const API_HOST: &str = "https://api.twilio.com";
pub(crate) const TASKROUTER_HOST: &str = "https://taskrouter.twilio.com";
pub(crate) const FLEX_HOST: &str = "https://flex-api.twilio.com";

/// Everything `/_sim/reset` forgets.
#[derive(Default)]
pub(crate) struct Sim {
    pub world: World,
    pub faults: Faults,
    pub log: VecDeque<LogEntry>,
    pub next_seq: u64,
}

#[derive(Default)]
pub(crate) struct World {
    pub tokens: HashMap<String, Token>,
    pub calls: BTreeMap<String, Call>,
    /// In creation order; never deduplicated, since tests count them.
    pub recordings: Vec<Recording>,
    pub tasks: BTreeMap<String, Task>,
    /// In creation order.
    pub reservations: Vec<Reservation>,
    pub conferences: BTreeMap<String, Conference>,
    /// Flex's own conference recordings, in creation order.
    pub conference_recordings: Vec<crate::recording_status::ConferenceRecording>,
    /// Per task, the `conferenceRecord` its accept ended with (`None`: left unset).
    pub conference_record: HashMap<String, Option<bool>>,
    pub flex: FlexConfiguration,
}

/// The account's Flex configuration (`GET /v1/Configuration`). Every Flex
/// account has one; a fresh one carries no `custom_data` of ours.
#[derive(Default)]
pub(crate) struct FlexConfiguration {
    pub ui_attributes: Map<String, Value>,
    /// Flex's own "Call Recording" setting.
    pub call_recording_enabled: bool,
    pub updated_ms: i64,
}

impl FlexConfiguration {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let updated = iso8601(self.updated_ms);
        // Twilio sends every field of the resource; the ones this simulator
        // has nothing for are null (all are nullable in the contract).
        const UNSET: [&str; 36] = [
            "taskrouter_target_workflow_sid",
            "taskrouter_target_taskqueue_sid",
            "taskrouter_taskqueues",
            "taskrouter_skills",
            "taskrouter_worker_channels",
            "taskrouter_worker_attributes",
            "taskrouter_offline_activity_sid",
            "runtime_domain",
            "messaging_service_instance_sid",
            "chat_service_instance_sid",
            "flex_service_instance_sid",
            "flex_instance_sid",
            "ui_dependencies",
            "crm_enabled",
            "crm_type",
            "crm_callback_url",
            "crm_fallback_url",
            "crm_attributes",
            "public_attributes",
            "plugin_service_enabled",
            "plugin_service_attributes",
            "integrations",
            "outbound_call_flows",
            "serverless_service_sids",
            "queue_stats_configuration",
            "notifications",
            "markdown",
            "flex_insights_hr",
            "flex_insights_drilldown",
            "flex_url",
            "channel_configs",
            "debugger_integration",
            "flex_ui_status_report",
            "agent_conv_end_methods",
            "citrix_voice_vdi",
            "offline_config",
        ];
        let mut out = json!({
            "account_sid": cfg.account_sid,
            "date_created": updated,
            "date_updated": updated,
            "attributes": {},
            "status": "ok",
            "taskrouter_workspace_sid": cfg.workspace_sid,
            "ui_language": "en",
            "ui_attributes": self.ui_attributes,
            "ui_version": "2.x",
            "service_version": null,
            "call_recording_enabled": self.call_recording_enabled,
            "call_recording_webhook_url": null,
            "url": format!("{FLEX_HOST}/v1/Configuration"),
        });
        if let Some(m) = out.as_object_mut() {
            for k in UNSET {
                m.insert(k.to_string(), Value::Null);
            }
        }
        out
    }
}

#[derive(Default)]
pub(crate) struct Faults {
    pub fail_next: Option<FailNext>,
    pub latency_ms: u64,
    /// Applied in order, each right after the next answered GET of its task
    /// or, when no GET came first, at its next write, before the If-Match
    /// check: either way between the writer's read and its write.
    pub concurrent_writes: Vec<ConcurrentWrite>,
}

pub(crate) struct FailNext {
    pub status: StatusCode,
    pub code: i64,
    pub remaining: u64,
    /// Only requests whose path ends with this fail (tests aim a fault at one
    /// kind of request); `None`: any REST request.
    pub path: Option<String>,
    /// Only requests with this HTTP method fail; `None`: any.
    pub method: Option<String>,
    /// REST requests answered normally before the first failure (tests
    /// aiming at one request of a sequence; scenarios leave it at 0).
    pub after: u64,
}

pub(crate) struct ConcurrentWrite {
    pub task_sid: String,
    pub attributes: Map<String, Value>,
}

pub(crate) struct Token {
    pub worker_sid: Option<String>,
    pub identity: String,
    pub valid: bool,
    pub expires_at_ms: i64,
    pub roles: Vec<String>,
}

pub(crate) struct Call {
    pub sid: String,
    pub status: String,
    pub from: String,
    pub to: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}

pub(crate) struct Recording {
    pub sid: String,
    pub call_sid: String,
    pub dual: bool,
    pub status: String,
    pub track: String,
    pub trim: String,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub status_callback_event: Vec<String>,
    /// How the last pause was asked to sound (`skip` or `silence`).
    pub pause_behavior: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}

pub(crate) struct Task {
    pub sid: String,
    pub attributes: Map<String, Value>,
    pub revision: u64,
    pub assignment_status: String,
    pub priority: i64,
    pub reason: Option<String>,
    pub queue_name: Option<String>,
    pub queue_sid: Option<String>,
    pub channel: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub(crate) struct Reservation {
    pub sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub(crate) struct Conference {
    pub sid: String,
    pub task_sid: Option<String>,
    pub participants: Vec<Participant>,
    pub updated_ms: i64,
}

#[derive(Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Participant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    pub participant_type: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_sid: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub request_body: Value,
    pub response_body: Value,
    pub latency_ms: u64,
    /// When the request arrived, µs since the Unix epoch (before any
    /// injected latency): what start-delay benchmarks compare with.
    pub received_us: i64,
}

/// `true` when `s` is `prefix` followed by exactly 32 hex digits.
pub(crate) fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s.as_bytes()[2..].iter().all(|b| b.is_ascii_hexdigit())
}

/// Objects merge key by key, recursively; anything else replaces.
pub(crate) fn deep_merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match (target.get_mut(k), v) {
            (Some(Value::Object(t)), Value::Object(p)) => deep_merge(t, p),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

pub(crate) const CALL_STATUSES: &[&str] = &[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];
pub(crate) const TASK_STATUSES: &[&str] = &[
    "pending",
    "reserved",
    "assigned",
    "canceled",
    "completed",
    "wrapping",
];
pub(crate) const RESERVATION_STATUSES: &[&str] = &[
    "pending",
    "accepted",
    "rejected",
    "timeout",
    "canceled",
    "rescinded",
    "wrapping",
    "completed",
];

impl World {
    /// Ends a call and, as Twilio does, completes the recordings running on it.
    pub fn set_call_status(&mut self, call_sid: &str, status: &str, now: i64) {
        let Some(call) = self.calls.get_mut(call_sid) else {
            return;
        };
        call.status = status.to_string();
        call.updated_ms = now;
        let ended = !matches!(status, "queued" | "ringing" | "in-progress");
        if ended {
            call.ended_ms.get_or_insert(now);
            for r in self
                .recordings
                .iter_mut()
                .filter(|r| r.call_sid == call_sid)
            {
                if matches!(r.status.as_str(), "in-progress" | "paused") {
                    r.status = "completed".into();
                    r.updated_ms = now;
                    r.ended_ms = Some(now);
                }
            }
            self.end_finished_conference_recordings(now);
        } else {
            call.ended_ms = None;
        }
    }
}

/// A recording's `duration`, in whole seconds as Twilio writes it.
pub(crate) fn secs_between(from_ms: i64, to_ms: i64) -> String {
    ((to_ms - from_ms).max(0) / 1000).to_string()
}

impl Recording {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ac = &cfg.account_sid;
        json!({
            "account_sid": ac,
            "api_version": "2010-04-01",
            "call_sid": self.call_sid,
            "conference_sid": null,
            "date_created": rfc2822(self.created_ms),
            "date_updated": rfc2822(self.updated_ms),
            "start_time": rfc2822(self.created_ms),
            // Twilio reports no duration until the recording has ended.
            "duration": self.ended_ms.map(|e| secs_between(self.created_ms, e)),
            "sid": self.sid,
            "price": null,
            "uri": format!("/2010-04-01/Accounts/{ac}/Calls/{}/Recordings/{}.json", self.call_sid, self.sid),
            "encryption_details": null,
            "price_unit": "USD",
            "status": self.status,
            "channels": if self.dual { 2 } else { 1 },
            "source": "StartCallRecordingAPI",
            "error_code": null,
            "track": self.track,
        })
    }

    pub fn to_control(&self, cfg: &SimConfig) -> Value {
        json!({
            "sid": self.sid,
            "callSid": self.call_sid,
            "channels": if self.dual { "dual" } else { "mono" },
            "status": self.status,
            "startTime": iso8601(self.created_ms),
            "track": self.track,
            "trim": self.trim,
            "statusCallback": self.status_callback,
            "statusCallbackMethod": self.status_callback_method,
            "statusCallbackEvent": self.status_callback_event,
            "pauseBehavior": self.pause_behavior,
            // What Flex Insights media entries point at (scenario `$recordingUrl`).
            "url": format!("{API_HOST}/2010-04-01/Accounts/{}/Recordings/{}", cfg.account_sid, self.sid),
        })
    }
}

impl Call {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ac = &cfg.account_sid;
        let base = format!("/2010-04-01/Accounts/{ac}/Calls/{}", self.sid);
        json!({
            "sid": self.sid,
            "date_created": rfc2822(self.created_ms),
            "date_updated": rfc2822(self.updated_ms),
            "parent_call_sid": null,
            "account_sid": ac,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from,
            "from_formatted": self.from,
            "phone_number_sid": null,
            "status": self.status,
            "start_time": rfc2822(self.created_ms),
            "end_time": self.ended_ms.map(rfc2822),
            "duration": self.ended_ms.map(|e| secs_between(self.created_ms, e)),
            "price": null,
            "price_unit": "USD",
            "direction": "inbound",
            "answered_by": null,
            "api_version": "2010-04-01",
            "forwarded_from": null,
            "group_sid": null,
            "caller_name": null,
            "queue_time": "0",
            "trunk_sid": null,
            "uri": format!("{base}.json"),
            "subresource_uris": {
                "recordings": format!("{base}/Recordings.json"),
                "notifications": format!("{base}/Notifications.json"),
                "events": format!("{base}/Events.json"),
                "siprec": format!("{base}/Siprec.json"),
                "streams": format!("{base}/Streams.json"),
                "transcriptions": format!("{base}/Transcriptions.json"),
                "user_defined_message_subscriptions": format!("{base}/UserDefinedMessageSubscriptions.json"),
                "user_defined_messages": format!("{base}/UserDefinedMessages.json"),
                "payments": format!("{base}/Payments.json"),
            },
        })
    }

    pub fn to_control(&self) -> Value {
        json!({"sid": self.sid, "status": self.status, "from": self.from, "to": self.to})
    }
}

pub(crate) fn participant_to_twilio(
    cfg: &SimConfig,
    conference_sid: &str,
    call_sid: &str,
    updated_ms: i64,
) -> Value {
    let ac = &cfg.account_sid;
    json!({
        "account_sid": ac,
        "call_sid": call_sid,
        "label": null,
        "call_sid_to_coach": null,
        "coaching": false,
        "conference_sid": conference_sid,
        "date_created": rfc2822(updated_ms),
        "date_updated": rfc2822(updated_ms),
        "end_conference_on_exit": false,
        "muted": false,
        "hold": false,
        "start_conference_on_enter": true,
        // Flex's "joined" is Twilio's "connected".
        "status": "connected",
        "queue_time": "0",
        "uri": format!("/2010-04-01/Accounts/{ac}/Conferences/{conference_sid}/Participants/{call_sid}.json"),
    })
}

impl Task {
    pub fn attributes_string(&self) -> String {
        Value::Object(self.attributes.clone()).to_string()
    }

    pub fn to_twilio(&self, cfg: &SimConfig, now: i64) -> Value {
        let ws = &cfg.workspace_sid;
        let url = format!("{TASKROUTER_HOST}/v1/Workspaces/{ws}/Tasks/{}", self.sid);
        json!({
            "account_sid": cfg.account_sid,
            "age": ((now - self.created_ms).max(0) / 1000),
            "assignment_status": self.assignment_status,
            "attributes": self.attributes_string(),
            "addons": "{}",
            "date_created": iso8601(self.created_ms),
            "date_updated": iso8601(self.updated_ms),
            "task_queue_entered_date": iso8601(self.created_ms),
            "priority": self.priority,
            "reason": self.reason,
            "sid": self.sid,
            "task_queue_sid": self.queue_sid,
            "task_queue_friendly_name": self.queue_name,
            "task_channel_sid": null,
            "task_channel_unique_name": self.channel,
            "timeout": 86_400,
            "workflow_sid": null,
            "workflow_friendly_name": null,
            "workspace_sid": ws,
            "url": url,
            "links": {
                "workspace": format!("{TASKROUTER_HOST}/v1/Workspaces/{ws}"),
                "reservations": format!("{url}/Reservations"),
            },
            "virtual_start_time": iso8601(self.created_ms),
            "ignore_capacity": false,
            "routing_target": null,
        })
    }

    pub fn to_control(&self) -> Value {
        json!({
            "sid": self.sid,
            "attributes": self.attributes,
            "revision": self.revision,
            "assignmentStatus": self.assignment_status,
            "queueName": self.queue_name,
            "queueSid": self.queue_sid,
            "channel": self.channel,
        })
    }
}

impl Reservation {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ws = &cfg.workspace_sid;
        let ws_url = format!("{TASKROUTER_HOST}/v1/Workspaces/{ws}");
        let task_url = format!("{ws_url}/Tasks/{}", self.task_sid);
        json!({
            "account_sid": cfg.account_sid,
            "date_created": iso8601(self.created_ms),
            "date_updated": iso8601(self.updated_ms),
            "reservation_status": self.status,
            "sid": self.sid,
            "task_sid": self.task_sid,
            "worker_name": null,
            "worker_sid": self.worker_sid,
            "workspace_sid": ws,
            "url": format!("{task_url}/Reservations/{}", self.sid),
            "links": {
                "task": task_url,
                "worker": format!("{ws_url}/Workers/{}", self.worker_sid),
                "workspace": ws_url,
            },
        })
    }

    pub fn to_control(&self) -> Value {
        json!({"sid": self.sid, "taskSid": self.task_sid, "workerSid": self.worker_sid, "status": self.status})
    }
}

impl Token {
    pub fn to_twilio(&self, now: i64) -> Value {
        if !self.valid {
            return invalid_token(20101, "Invalid Access Token");
        }
        if self.expires_at_ms <= now {
            return invalid_token(20104, "Access Token expired or expiration date invalid");
        }
        json!({
            "valid": true,
            "code": 0,
            "message": null,
            "expiration": iso8601_millis(self.expires_at_ms),
            "realm_user_id": self.identity,
            "identity": self.identity,
            "roles": self.roles,
            "worker_sid": self.worker_sid,
        })
    }
}

/// IAM's answer for a token it does not accept: 200 with `valid: false`.
pub(crate) fn invalid_token(code: i64, message: &str) -> Value {
    json!({
        "valid": false,
        "code": code,
        "message": message,
        "expiration": null,
        "realm_user_id": null,
        "identity": null,
        "roles": null,
        "worker_sid": null,
    })
}

/// Twilio's error body: `{"code","message","more_info","status"}`.
pub(crate) fn twilio_error(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    let body = json!({
        "code": code,
        "message": message.into(),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    resp
}

pub(crate) fn not_found(path: &str) -> Response {
    twilio_error(
        StatusCode::NOT_FOUND,
        20404,
        format!("The requested resource {path} was not found"),
    )
}

/// TaskRouter's limit on a task's attributes: 4096 characters of JSON text
/// (TaskRouter's published "Resource configuration limits", which cannot be
/// raised; `../shared/flex-facts.md`). The scenario format says such a write
/// is refused with a 400 and changes nothing.
pub const TASK_ATTRIBUTES_MAX_CHARS: usize = 4096;

/// The refusal of an over-long `Attributes`. The code is 20001, Twilio's
/// generic "invalid parameter" code: no Twilio page naming a code specific to
/// this limit could be found with the search tool, so the exact code Twilio
/// sends is NOT verified; the status (400) and body shape are Twilio's.
pub(crate) fn attributes_too_long(chars: usize) -> Response {
    twilio_error(
        StatusCode::BAD_REQUEST,
        20001,
        format!(
            "Attributes is {chars} characters long; task attributes may be at most {TASK_ATTRIBUTES_MAX_CHARS} characters"
        ),
    )
}

pub(crate) fn bad_param(message: impl Into<String>) -> Response {
    twilio_error(StatusCode::BAD_REQUEST, 20001, message)
}

/// Deepest JSON document the simulator accepts. Twilio stores task attributes
/// of any shape within its size limit; serde_json alone stops at 128 levels,
/// and a tree deeper than this would risk the stack when parsed or dropped.
pub const MAX_JSON_DEPTH: usize = 512;

/// Parses JSON of any depth up to `MAX_JSON_DEPTH`, with the workspace's one
/// depth pre-scan (`dual_channel_recording::insights::parse_json_within`).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    parse_json_within(bytes, MAX_JSON_DEPTH).map_err(|e| match e {
        ParseError::TooDeep { depth, max } => {
            format!("nested {depth} levels deep, more than the {max} accepted")
        }
        ParseError::Invalid(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_parse_to_the_depth_limit() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // (body, the error, if any)
        let cases: Vec<(String, Option<String>)> = vec![
            (nested(MAX_JSON_DEPTH), None),
            (
                nested(MAX_JSON_DEPTH + 1),
                Some(format!(
                    "nested {} levels deep, more than the {MAX_JSON_DEPTH} accepted",
                    MAX_JSON_DEPTH + 1
                )),
            ),
            // Brackets inside strings do not count.
            (format!(r#"{{"a": "{}"}}"#, "[".repeat(10_000)), None),
            (
                "{} x".into(),
                Some("trailing characters at line 1 column 4".into()),
            ),
        ];
        for (body, want) in cases {
            let got = parse_json::<Value>(body.as_bytes()).err();
            assert_eq!(got, want, "{}", &body[..body.len().min(40)]);
        }
    }
}
