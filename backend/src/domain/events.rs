//! Reading Twilio Event Streams deliveries: a JSON array of CloudEvents 1.0
//! (`specversion`, `type`, `source`, `id`, `time`, `datacontenttype`,
//! `dataschema`, `data`). TaskRouter's events carry the task's fields in
//! `data` (`account_sid`, `workspace_sid`, `task_sid`, `reservation_sid`,
//! `worker_sid`, `task_attributes` as JSON text, `task_channel_unique_name`,
//! `task_queue_name`, `task_queue_sid`, `timestamp`); the newer schema
//! versions of Twilio's TaskRouter event pages nest the same fields under
//! `data.payload`, which is read when present.
//!
//! Plain functions: what an event says, or why it is ignored. Nothing here
//! acts (`safety_net` does).

use dual_channel_recording::sid::{AccountSid, ReservationSid, TaskSid, WorkerSid, WorkspaceSid};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An event older than this (by its `time`) is a replay: ignored.
pub const MAX_EVENT_AGE_MS: i64 = 3600 * 1000;

/// How far ahead of our clock an event's time may be (clock skew).
const MAX_EVENT_SKEW_MS: i64 = 5 * 60 * 1000;

const PREFIX: &str = "com.twilio.taskrouter.";

/// What the backend does with an event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `reservation.accepted`: the safety net's check is due after the wait.
    Accepted,
    /// The task's call is over (`reservation.wrapup`, `reservation.completed`,
    /// `task.completed`, `task.canceled`): a conference's recording can be checked.
    Finished,
}

/// A TaskRouter event the backend acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskEvent {
    pub id: String,
    pub kind: Kind,
    /// The metrics label (`reservation.accepted`, ...).
    pub label: &'static str,
    pub time_ms: i64,
    pub task: TaskSid,
    pub reservation: Option<ReservationSid>,
    pub worker: Option<WorkerSid>,
    pub attributes: Option<String>,
    pub queue_name: Option<String>,
    pub queue_sid: Option<String>,
}

/// Why an event is ignored: one log line each.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Ignored {
    #[error("not a CloudEvent object")]
    NotAnObject,
    #[error("the event has no {0}")]
    Missing(&'static str),
    #[error("event type {0:?} is not one this backend acts on")]
    UnknownType(String),
    #[error("the event's {field} is not a valid {what}: {value:?}")]
    Invalid {
        field: &'static str,
        what: &'static str,
        value: String,
    },
    #[error("the event is for account {0}, not this backend's")]
    OtherAccount(String),
    #[error("the event is for workspace {0}, not the Flex workspace of this backend")]
    OtherWorkspace(String),
    #[error("the event is {age_s} s old (time {time}): a replay, older than an hour")]
    TooOld { age_s: i64, time: String },
    #[error("the event's time {0} lies in the future")]
    FromTheFuture(String),
    #[error("task {task} is a {channel} task, not a voice call")]
    NotVoice { task: String, channel: String },
}

impl Ignored {
    /// The event type label for metrics: what the event said it was.
    pub fn label(event: &Value) -> &'static str {
        let t = event.get("type").and_then(Value::as_str).unwrap_or("");
        kind_of(t).map(|(_, l)| l).unwrap_or("other")
    }
}

fn kind_of(t: &str) -> Option<(Kind, &'static str)> {
    match t.strip_prefix(PREFIX)? {
        "reservation.accepted" => Some((Kind::Accepted, "reservation.accepted")),
        "reservation.wrapup" => Some((Kind::Finished, "reservation.wrapup")),
        "reservation.completed" => Some((Kind::Finished, "reservation.completed")),
        "task.completed" => Some((Kind::Finished, "task.completed")),
        "task.canceled" => Some((Kind::Finished, "task.canceled")),
        _ => None,
    }
}

/// RFC 3339 as Event Streams writes `time`, in ms since the epoch.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn text<'a>(v: &'a Value, key: &'static str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn sid<T>(
    data: &Value,
    field: &'static str,
    what: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Ignored> {
    match text(data, field) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| Ignored::Invalid {
            field,
            what,
            value: s.chars().take(64).collect(),
        }),
    }
}

/// What one event says, or why it is ignored. `now_ms`: our clock.
pub fn read(
    event: &Value,
    account: &AccountSid,
    workspace: &WorkspaceSid,
    now_ms: i64,
) -> Result<TaskEvent, Ignored> {
    if !event.is_object() {
        return Err(Ignored::NotAnObject);
    }
    let t = text(event, "type").ok_or(Ignored::Missing("type"))?;
    let (kind, label) =
        kind_of(t).ok_or_else(|| Ignored::UnknownType(t.chars().take(100).collect()))?;
    let id = text(event, "id").ok_or(Ignored::Missing("id"))?;
    if id.len() > 200 {
        return Err(Ignored::Invalid {
            field: "id",
            what: "event id (at most 200 characters)",
            value: id.chars().take(64).collect(),
        });
    }
    let time = text(event, "time").ok_or(Ignored::Missing("time"))?;
    let time_ms = parse_time_ms(time).ok_or_else(|| Ignored::Invalid {
        field: "time",
        what: "RFC 3339 time",
        value: time.chars().take(64).collect(),
    })?;
    let data = event
        .get("data")
        .filter(|d| d.is_object())
        .ok_or(Ignored::Missing("data"))?;
    let data = data
        .get("payload")
        .filter(|p| p.is_object())
        .unwrap_or(data);
    let event_account = text(data, "account_sid").ok_or(Ignored::Missing("data.account_sid"))?;
    if event_account != account.as_str() {
        return Err(Ignored::OtherAccount(
            event_account.chars().take(64).collect(),
        ));
    }
    let event_workspace =
        text(data, "workspace_sid").ok_or(Ignored::Missing("data.workspace_sid"))?;
    if event_workspace != workspace.as_str() {
        return Err(Ignored::OtherWorkspace(
            event_workspace.chars().take(64).collect(),
        ));
    }
    let age = now_ms.saturating_sub(time_ms);
    if age > MAX_EVENT_AGE_MS {
        return Err(Ignored::TooOld {
            age_s: age / 1000,
            time: time.to_string(),
        });
    }
    if -age > MAX_EVENT_SKEW_MS {
        return Err(Ignored::FromTheFuture(time.to_string()));
    }
    let task = sid(data, "task_sid", "task SID (WT...)", |s| {
        TaskSid::parse(s).ok()
    })?
    .ok_or(Ignored::Missing("data.task_sid"))?;
    let channel = text(data, "task_channel_unique_name")
        .ok_or(Ignored::Missing("data.task_channel_unique_name"))?;
    if channel != "voice" {
        return Err(Ignored::NotVoice {
            task: task.to_string(),
            channel: channel.chars().take(64).collect(),
        });
    }
    let reservation = sid(data, "reservation_sid", "reservation SID (WR...)", |s| {
        ReservationSid::parse(s).ok()
    })?;
    let worker = sid(data, "worker_sid", "worker SID (WK...)", |s| {
        WorkerSid::parse(s).ok()
    })?;
    if kind == Kind::Accepted {
        if reservation.is_none() {
            return Err(Ignored::Missing("data.reservation_sid"));
        }
        if worker.is_none() {
            return Err(Ignored::Missing("data.worker_sid"));
        }
    }
    Ok(TaskEvent {
        id: id.to_string(),
        kind,
        label,
        time_ms,
        task,
        reservation,
        worker,
        attributes: text(data, "task_attributes").map(str::to_string),
        queue_name: text(data, "task_queue_name").map(str::to_string),
        queue_sid: text(data, "task_queue_sid").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AC: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const NOW: i64 = 1_700_000_000_000;

    fn event(t: &str, data: Value) -> Value {
        json!({
            "specversion": "1.0", "type": t, "source": "/v1/Workspaces/WS",
            "id": "EV1", "time": "2023-11-14T22:13:19Z",
            "datacontenttype": "application/json",
            "dataschema": "https://events-schemas.twilio.com/TaskRouter.WDSEvent/1",
            "data": data
        })
    }

    fn data() -> Value {
        json!({
            "account_sid": AC, "workspace_sid": WS,
            "task_sid": "WT000000000000000000000000000000a1",
            "reservation_sid": "WR000000000000000000000000000000a1",
            "worker_sid": "WK00000000000000000000000000000001",
            "task_attributes": "{\"call_sid\":\"CA000000000000000000000000000000c1\"}",
            "task_channel_unique_name": "voice",
            "task_queue_name": "Sales",
            "task_queue_sid": "WQ000000000000000000000000000000a1",
            "timestamp": "2023-11-14T22:13:19Z"
        })
    }

    fn with(key: &str, v: Value) -> Value {
        let mut d = data();
        d[key] = v;
        d
    }

    fn without(key: &str) -> Value {
        let mut d = data();
        d.as_object_mut().unwrap().remove(key);
        d
    }

    fn read_at(e: &Value, now: i64) -> Result<TaskEvent, Ignored> {
        read(e, &AC.parse().unwrap(), &WS.parse().unwrap(), now)
    }

    #[test]
    fn accepted_reads_the_task_fields() {
        let e = read_at(
            &event("com.twilio.taskrouter.reservation.accepted", data()),
            NOW,
        )
        .unwrap();
        assert_eq!(e.kind, Kind::Accepted);
        assert_eq!(e.time_ms, NOW - 1000);
        assert_eq!(e.task.as_str(), "WT000000000000000000000000000000a1");
        assert_eq!(e.queue_name.as_deref(), Some("Sales"));
        // The same fields nested under data.payload (newer schema versions).
        let nested = event(
            "com.twilio.taskrouter.reservation.accepted",
            json!({"name": "x", "payload": data()}),
        );
        assert_eq!(read_at(&nested, NOW).unwrap(), e);
    }

    #[test]
    fn ignored_events() {
        let acc = "com.twilio.taskrouter.reservation.accepted";
        let mut no_id = event(acc, data());
        no_id.as_object_mut().unwrap().remove("id");
        let mut bad_time = event(acc, data());
        bad_time["time"] = json!("yesterday");
        let cases: Vec<(Value, i64, Ignored)> = vec![
            (json!([1]), NOW, Ignored::NotAnObject),
            (json!("x"), NOW, Ignored::NotAnObject),
            (
                event("com.twilio.taskrouter.worker.activity.update", data()),
                NOW,
                Ignored::UnknownType("com.twilio.taskrouter.worker.activity.update".into()),
            ),
            (
                event("com.twilio.messaging.message.delivered", data()),
                NOW,
                Ignored::UnknownType("com.twilio.messaging.message.delivered".into()),
            ),
            (no_id, NOW, Ignored::Missing("id")),
            (
                bad_time,
                NOW,
                Ignored::Invalid {
                    field: "time",
                    what: "RFC 3339 time",
                    value: "yesterday".into(),
                },
            ),
            (
                json!({"type": acc, "id": "1", "time": "2023-11-14T22:13:19Z"}),
                NOW,
                Ignored::Missing("data"),
            ),
            (
                event(acc, without("task_sid")),
                NOW,
                Ignored::Missing("data.task_sid"),
            ),
            (
                event(acc, without("worker_sid")),
                NOW,
                Ignored::Missing("data.worker_sid"),
            ),
            (
                event(acc, without("reservation_sid")),
                NOW,
                Ignored::Missing("data.reservation_sid"),
            ),
            (
                event(acc, without("task_channel_unique_name")),
                NOW,
                Ignored::Missing("data.task_channel_unique_name"),
            ),
            (
                event(
                    acc,
                    with("account_sid", json!("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")),
                ),
                NOW,
                Ignored::OtherAccount("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
            ),
            (
                event(
                    acc,
                    with("workspace_sid", json!("WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")),
                ),
                NOW,
                Ignored::OtherWorkspace("WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
            ),
            (
                event(acc, with("task_sid", json!("WT1"))),
                NOW,
                Ignored::Invalid {
                    field: "task_sid",
                    what: "task SID (WT...)",
                    value: "WT1".into(),
                },
            ),
            (
                event(acc, with("task_channel_unique_name", json!("chat"))),
                NOW,
                Ignored::NotVoice {
                    task: "WT000000000000000000000000000000a1".into(),
                    channel: "chat".into(),
                },
            ),
            (
                event(acc, data()),
                NOW + 2 * MAX_EVENT_AGE_MS,
                Ignored::TooOld {
                    age_s: 2 * MAX_EVENT_AGE_MS / 1000 + 1,
                    time: "2023-11-14T22:13:19Z".into(),
                },
            ),
            (
                event(acc, data()),
                NOW - 3600 * 1000,
                Ignored::FromTheFuture("2023-11-14T22:13:19Z".into()),
            ),
        ];
        for (e, now, want) in cases {
            assert_eq!(read_at(&e, now), Err(want), "{e}");
        }
        // A finished event needs no reservation or worker.
        let done = read_at(
            &event(
                "com.twilio.taskrouter.task.completed",
                without("worker_sid"),
            ),
            NOW,
        )
        .unwrap();
        assert_eq!(done.kind, Kind::Finished);
        assert_eq!(done.label, "task.completed");
    }
}
