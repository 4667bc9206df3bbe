//! Linking a call to its task (`link-call`): gaps filled, guarded by `If-Match`.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn link_call_fills_gaps_with_if_match() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"direction": "outbound", "conference": {"participants": {"worker": CA_WORKER}}}}),
    )
    .await;
    sim.post(
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {"wrapup": {"code": 7}}}}),
    )
    .await;
    let app = backend_for(&sim);
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN),
            ("taskSid", WT),
            ("conferenceSid", CF),
            ("customerCallSid", CA_CUSTOMER),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json, json!({"success": true, "changed": true}));
    let attrs = sim.attributes(WT).await;
    assert_eq!(attrs["conference"]["sid"], CF);
    assert_eq!(attrs["conference"]["participants"]["worker"], CA_WORKER);
    assert_eq!(attrs["call_sid"], CA_CUSTOMER);
    assert_eq!(attrs["wrapup"]["code"], 7);

    // Nothing left to fill: no write.
    let before = sim.log().await.len();
    let a = post_json(
        &app,
        LINK,
        json!({"Token": TOKEN, "taskSid": WT, "conferenceSid": "CF000000000000000000000000000000ff"}),
    )
    .await;
    assert_eq!(a.json, json!({"success": true, "changed": false}));
    assert_eq!(count(&sim.log().await[before..], "POST", "/Tasks/"), 0);
    assert_eq!(sim.attributes(WT).await["conference"]["sid"], CF);

    // Another worker may not link this task.
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN_OTHER),
            ("taskSid", WT),
            ("conferenceSid", CF),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
}
