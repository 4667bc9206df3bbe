//! The CloudEvents (1.0, JSON) Event Streams delivers, as Twilio's Event
//! Streams pages show them (`docs/flex-facts.md`, "Event Streams"): the
//! TaskRouter events (`com.twilio.taskrouter.*`, schema
//! `TaskRouter.WDSEvent`, whose `data` is an envelope holding TaskRouter's
//! own fields in `data.payload`) and the sink test event.

use serde_json::{json, Map, Value};

use crate::model::World;
use crate::time::iso8601_millis;
use crate::SimConfig;

pub(crate) const TEST_EVENT_TYPE: &str = "com.twilio.eventstreams.test-event";
pub(crate) const TASKROUTER_TYPE_PREFIX: &str = "com.twilio.taskrouter.";
/// The name of the TaskRouter workspace Flex creates.
const WORKSPACE_NAME: &str = "Flex Task Assignment";

/// A test id shaped as Twilio's (a UUID), from a fresh SID's 32 hex digits.
pub(crate) fn test_id(sid: &str) -> String {
    let h = sid.get(2..).unwrap_or(sid);
    if h.len() != 32 {
        return h.to_string();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Twilio's sink test event (`POST /v1/Sinks/{Sid}/Test`).
pub(crate) fn test_event(id: &str, test_id: &str, at_ms: i64) -> Value {
    json!({
        "specversion": "1.0",
        "type": TEST_EVENT_TYPE,
        "source": "Sink",
        "id": id,
        "dataschema": "https://events-schemas.twilio.com/EventStreams.TestSink/1.json",
        "datacontenttype": "application/json",
        "time": iso8601_millis(at_ms),
        "data": { "test_id": test_id },
    })
}

/// `reservation.accepted` → `ReservationAccepted`, the envelope's `name`.
fn camel_name(event: &str) -> String {
    event
        .split(['.', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// One TaskRouter event (`event` as TaskRouter names it, such as
/// `reservation.accepted`) about a task and, for reservation events, its
/// reservation, as it stands in `world` now.
pub(crate) struct TaskRouterEvent<'a> {
    pub event: &'a str,
    pub task_sid: &'a str,
    pub reservation_sid: Option<&'a str>,
    pub worker_sid: Option<&'a str>,
    pub at_ms: i64,
}

pub(crate) fn taskrouter_event(
    cfg: &SimConfig,
    world: &World,
    e: &TaskRouterEvent<'_>,
    id: &str,
    schema_version: u64,
) -> Value {
    let group = e.event.split('.').next().unwrap_or("task");
    let timestamp = iso8601_millis(e.at_ms);
    let mut payload = Map::new();
    let mut put = |k: &str, v: Value| {
        payload.insert(k.to_string(), v);
    };
    put("sid", json!(id));
    put("eventtype", json!(e.event));
    put("account_sid", json!(cfg.account_sid));
    put("timestamp", json!(timestamp));
    put("workspace_sid", json!(cfg.workspace_sid));
    put("workspace_name", json!(WORKSPACE_NAME));
    put("resource_type", json!(group));
    put(
        "resource_sid",
        json!(e
            .reservation_sid
            .filter(|_| group == "reservation")
            .unwrap_or(e.task_sid)),
    );
    put("task_sid", json!(e.task_sid));
    if let Some(t) = world.tasks.get(e.task_sid) {
        put("task_attributes", json!(t.attributes_string()));
        put("task_age", json!((e.at_ms - t.created_ms).max(0) / 1000));
        put("task_date_created", json!(iso8601_millis(t.created_ms)));
        put("task_priority", json!(t.priority));
        put("task_assignment_status", json!(t.assignment_status));
        put("task_queue_sid", json!(t.queue_sid));
        put("task_queue_name", json!(t.queue_name));
        put("task_channel_unique_name", json!(t.channel));
        if let Some(reason) = &t.reason {
            match e.event {
                "task.completed" => put("task_completed_reason", json!(reason)),
                "task.canceled" => put("task_canceled_reason", json!(reason)),
                _ => {}
            }
        }
    }
    if let Some(wr) = e.reservation_sid {
        put("reservation_sid", json!(wr));
    }
    if let Some(wk) = e.worker_sid {
        put("worker_sid", json!(wk));
    }
    json!({
        "specversion": "1.0",
        "type": format!("{TASKROUTER_TYPE_PREFIX}{}", e.event),
        "source": format!("/v1/Workspaces/{}/Events", cfg.workspace_sid),
        "id": id,
        "dataschema": format!("https://events-schemas.twilio.com/TaskRouter.WDSEvent/{schema_version}"),
        "datacontenttype": "application/json",
        "time": timestamp,
        "data": {
            "sid": id,
            "name": camel_name(e.event),
            "account_sid": cfg.account_sid,
            "timestamp": timestamp,
            "level": "INFO",
            "group": group,
            "product_name": "TaskRouter",
            "publisher": WORKSPACE_NAME,
            "publisher_metadata": "{}",
            "payload_type": "application/json",
            "payload": payload,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reservation, Task};

    #[test]
    fn names_and_test_ids_take_twilios_shapes() {
        let cases = [
            ("reservation.accepted", "ReservationAccepted"),
            ("task.completed", "TaskCompleted"),
            ("task-queue.entered", "TaskQueueEntered"),
        ];
        for (event, name) in cases {
            assert_eq!(camel_name(event), name);
        }
        assert_eq!(
            test_id("TE0123456789abcdef0123456789abcdef"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }

    #[test]
    fn a_reservation_event_carries_the_task_and_the_reservation() {
        let cfg = SimConfig::default();
        let mut world = World::default();
        let mut attributes = Map::new();
        attributes.insert(
            "call_sid".into(),
            json!("CA00000000000000000000000000000c01"),
        );
        world.tasks.insert(
            "WT00000000000000000000000000000001".into(),
            Task {
                sid: "WT00000000000000000000000000000001".into(),
                attributes,
                revision: 0,
                assignment_status: "assigned".into(),
                priority: 0,
                reason: None,
                queue_name: Some("Sales".into()),
                queue_sid: Some("WQ00000000000000000000000000000001".into()),
                channel: "voice".into(),
                created_ms: 1_795_597_200_000,
                updated_ms: 1_795_597_200_000,
            },
        );
        world.reservations.push(Reservation {
            sid: "WR00000000000000000000000000000001".into(),
            task_sid: "WT00000000000000000000000000000001".into(),
            worker_sid: "WK00000000000000000000000000000001".into(),
            status: "accepted".into(),
            created_ms: 1_795_597_200_000,
            updated_ms: 1_795_597_200_000,
        });
        let e = TaskRouterEvent {
            event: "reservation.accepted",
            task_sid: "WT00000000000000000000000000000001",
            reservation_sid: Some("WR00000000000000000000000000000001"),
            worker_sid: Some("WK00000000000000000000000000000001"),
            at_ms: 1_795_597_203_250,
        };
        let got = taskrouter_event(&cfg, &world, &e, "EV00000000000000000000000000000001", 4);
        // (JSON pointer, value)
        let cases = [
            ("/specversion", json!("1.0")),
            ("/type", json!("com.twilio.taskrouter.reservation.accepted")),
            ("/id", json!("EV00000000000000000000000000000001")),
            ("/datacontenttype", json!("application/json")),
            (
                "/dataschema",
                json!("https://events-schemas.twilio.com/TaskRouter.WDSEvent/4"),
            ),
            ("/time", json!("2026-11-25T09:00:03.250Z")),
            ("/data/name", json!("ReservationAccepted")),
            ("/data/payload/eventtype", json!("reservation.accepted")),
            (
                "/data/payload/task_sid",
                json!("WT00000000000000000000000000000001"),
            ),
            (
                "/data/payload/reservation_sid",
                json!("WR00000000000000000000000000000001"),
            ),
            (
                "/data/payload/worker_sid",
                json!("WK00000000000000000000000000000001"),
            ),
            (
                "/data/payload/resource_sid",
                json!("WR00000000000000000000000000000001"),
            ),
            (
                "/data/payload/task_attributes",
                json!(r#"{"call_sid":"CA00000000000000000000000000000c01"}"#),
            ),
            ("/data/payload/task_queue_name", json!("Sales")),
            (
                "/data/payload/task_queue_sid",
                json!("WQ00000000000000000000000000000001"),
            ),
            ("/data/payload/task_channel_unique_name", json!("voice")),
            ("/data/payload/task_age", json!(3)),
            ("/data/payload/account_sid", json!(cfg.account_sid)),
            ("/data/payload/workspace_sid", json!(cfg.workspace_sid)),
            ("/data/payload/timestamp", json!("2026-11-25T09:00:03.250Z")),
        ];
        for (pointer, want) in cases {
            assert_eq!(got.pointer(pointer), Some(&want), "{pointer}");
        }
        // A task event names no reservation.
        let t = TaskRouterEvent {
            event: "task.completed",
            reservation_sid: None,
            worker_sid: None,
            ..e
        };
        let got = taskrouter_event(&cfg, &world, &t, "EV2", 1);
        assert_eq!(got.pointer("/data/payload/reservation_sid"), None);
        assert_eq!(
            got.pointer("/data/payload/resource_sid"),
            Some(&json!("WT00000000000000000000000000000001"))
        );
    }
}
