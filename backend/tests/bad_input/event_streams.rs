//! Event Streams deliveries: bad events ignored, bad deliveries refused.

use crate::common;
use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// Event Streams deliveries Twilio signed, whose events the backend must
/// ignore: each is answered 200 (Twilio must not retry it), counted as
/// ignored, and starts nothing.
#[tokio::test]
async fn event_streams_ignores_bad_events() {
    use common::net::*;
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let mutate = |id: &str, f: &dyn Fn(&mut Value)| {
        let mut e = accepted(id);
        f(&mut e);
        e
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "unknown type",
            mutate("EVb1", &|e| {
                e["type"] = json!("com.twilio.taskrouter.worker.activity.update")
            }),
        ),
        (
            "another product",
            mutate("EVb2", &|e| {
                e["type"] = json!("com.twilio.messaging.message.failed")
            }),
        ),
        (
            "no type",
            mutate("EVb3", &|e| {
                e.as_object_mut().unwrap().remove("type");
            }),
        ),
        (
            "no id",
            mutate("EVb4", &|e| {
                e.as_object_mut().unwrap().remove("id");
            }),
        ),
        (
            "no data",
            mutate("EVb5", &|e| {
                e.as_object_mut().unwrap().remove("data");
            }),
        ),
        (
            "no task",
            mutate("EVb6", &|e| {
                e["data"].as_object_mut().unwrap().remove("task_sid");
            }),
        ),
        (
            "no worker",
            mutate("EVb7", &|e| {
                e["data"].as_object_mut().unwrap().remove("worker_sid");
            }),
        ),
        (
            "task SID not a SID",
            mutate("EVb8", &|e| e["data"]["task_sid"] = json!("WT../../x")),
        ),
        (
            "another account",
            mutate("EVb9", &|e| {
                e["data"]["account_sid"] = json!("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            }),
        ),
        (
            "another workspace",
            mutate("EVb10", &|e| {
                e["data"]["workspace_sid"] = json!("WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            }),
        ),
        (
            "replayed, two hours old",
            mutate("EVb11", &|e| {
                e["time"] = json!(now_rfc3339(-2 * 3600 * 1000))
            }),
        ),
        (
            "time not a time",
            mutate("EVb12", &|e| e["time"] = json!("soon")),
        ),
        (
            "a chat task",
            mutate("EVb13", &|e| {
                e["data"]["task_channel_unique_name"] = json!("chat")
            }),
        ),
        (
            "not an object",
            json!("com.twilio.taskrouter.reservation.accepted"),
        ),
        ("null", Value::Null),
    ];
    for (what, event) in cases {
        let answer = deliver(&app, &[event]).await;
        assert_eq!(answer.status, StatusCode::OK, "{what}: {:?}", answer.json);
        assert_eq!(answer.json["ignored"], 1, "{what}: {:?}", answer.json);
        assert_eq!(answer.json["handled"], 0, "{what}");
    }
    settle(&state).await;
    assert!(sim.recordings().await.is_empty());
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(report.json["recorded"], json!([]));
    assert_eq!(report.json["unrecorded"], json!([]));
}

/// Deliveries refused whole: nothing in them is read.
#[tokio::test]
async fn event_streams_refuses_bad_deliveries() {
    use common::net::*;
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let big =
        serde_json::to_vec(&json!([accepted("EVbig"), {"pad": "x".repeat(1_100_000)}])).unwrap();
    let not_array = serde_json::to_vec(&accepted("EVobj")).unwrap();
    let not_json = b"[{\"id\": ".to_vec();
    let ok = serde_json::to_vec(&json!([accepted("EVurl")])).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str, StatusCode)> = vec![
        (
            "over the size limit",
            big,
            PUBLIC,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "an object, not an array",
            not_array,
            PUBLIC,
            StatusCode::BAD_REQUEST,
        ),
        ("not JSON", not_json, PUBLIC, StatusCode::BAD_REQUEST),
        (
            "signed for another URL",
            ok,
            "https://recordings.attacker.example",
            StatusCode::FORBIDDEN,
        ),
    ];
    for (what, body, signed_for, want) in cases {
        let answer = send(&app, delivery(&body, signed_for, AUTH)).await;
        assert_eq!(answer.status, want, "{what}: {:?}", answer.json);
    }
    settle(&state).await;
    assert!(sim.recordings().await.is_empty());
}
