//! How the simulated world looks on the wire: each object as Twilio's REST
//! answers show it (`to_twilio`, the shapes `tests/contract/` checks against
//! Twilio's OpenAPI description) and as the `/_sim/` control API shows it
//! (`to_control`), and a recordings list page.

use serde_json::{json, Value};

use crate::model::{
    Call, ConferenceRecording, FlexConfiguration, Recording, Reservation, Task, Token, Worker,
};
use crate::time::{iso8601, iso8601_millis, rfc2822};
use crate::SimConfig;

pub(crate) const API_HOST: &str = "https://api.twilio.com";
pub(crate) const TASKROUTER_HOST: &str = "https://taskrouter.twilio.com";
pub(crate) const FLEX_HOST: &str = "https://flex-api.twilio.com";

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

/// A recording's `duration`, in whole seconds as Twilio writes it.
fn secs_between(from_ms: i64, to_ms: i64) -> String {
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
    status: &str,
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
        "status": status,
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

impl Worker {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ws = &cfg.workspace_sid;
        let ws_url = format!("{TASKROUTER_HOST}/v1/Workspaces/{ws}");
        let url = format!("{ws_url}/Workers/{}", self.sid);
        // The simulator keeps no activities: a worker shows none.
        json!({
            "account_sid": cfg.account_sid,
            "activity_name": null,
            "activity_sid": null,
            "attributes": Value::Object(self.attributes.clone()).to_string(),
            "available": null,
            "date_created": iso8601(self.created_ms),
            "date_status_changed": iso8601(self.updated_ms),
            "date_updated": iso8601(self.updated_ms),
            "friendly_name": null,
            "sid": self.sid,
            "workspace_sid": ws,
            "url": url,
            "links": {
                "channels": format!("{url}/Channels"),
                "reservations": format!("{url}/Reservations"),
                "statistics": format!("{url}/Statistics"),
                "workspace": ws_url,
            },
        })
    }

    pub fn to_control(&self) -> Value {
        json!({"sid": self.sid, "attributes": self.attributes})
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

impl ConferenceRecording {
    pub fn to_twilio(&self, cfg: &SimConfig) -> Value {
        let ac = &cfg.account_sid;
        json!({
            "account_sid": ac,
            "api_version": "2010-04-01",
            "call_sid": null,
            "conference_sid": self.conference_sid,
            "date_created": rfc2822(self.created_ms),
            "date_updated": rfc2822(self.updated_ms),
            "start_time": rfc2822(self.created_ms),
            "duration": self.ended_ms.map(|e| secs_between(self.created_ms, e)),
            "sid": self.sid,
            "price": null,
            "price_unit": "USD",
            "status": self.status,
            "channels": 2,
            "source": "Conference",
            "error_code": null,
            "encryption_details": null,
            "uri": format!("/2010-04-01/Accounts/{ac}/Conferences/{}/Recordings/{}.json", self.conference_sid, self.sid),
        })
    }

    pub fn to_control(&self, cfg: &SimConfig) -> Value {
        json!({
            "sid": self.sid,
            "conferenceSid": self.conference_sid,
            "channels": "dual",
            "status": self.status,
            "pauseBehavior": self.pause_behavior,
            "source": "Conference",
            "url": format!("{API_HOST}/2010-04-01/Accounts/{}/Recordings/{}", cfg.account_sid, self.sid),
        })
    }
}

/// One page of a recordings list, with Twilio's paging fields; `path` is the
/// list's own path (call or conference recordings).
pub(crate) fn recordings_page(all: &[Value], path: &str, page: usize, size: usize) -> Value {
    let page_uri = |p: usize| format!("{path}?PageSize={size}&Page={p}");
    let start = page.saturating_mul(size);
    let items: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
    let has_next = start.saturating_add(size) < all.len();
    json!({
        "recordings": items,
        "page": page,
        "page_size": size,
        "start": start,
        "end": start + items.len().saturating_sub(1),
        "uri": page_uri(page),
        "first_page_uri": page_uri(0),
        "next_page_uri": if has_next { Some(page_uri(page + 1)) } else { None },
        "previous_page_uri": if page > 0 { Some(page_uri(page - 1)) } else { None },
    })
}
