//! Authorization: which calls a worker's task lets it record, and why the
//! browser's word alone never makes a call the task's call.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn authorization_refusals() {
    let sim = Sim::start().await;
    sim.scene().await;
    // Bob holds a reservation on another task only.
    sim.put(
        "/tasks/WT000000000000000000000000000000b2",
        json!({"attributes": {}}),
    )
    .await;
    sim.post(
        "/reservations",
        json!({"taskSid": "WT000000000000000000000000000000b2", "reservationSid": WR_OTHER, "workerSid": WK_OTHER}),
    )
    .await;
    // Every request checks anew here: a grant (tests/grant.rs) would keep
    // the reservation's earlier state for its lifetime.
    let mut c = config(&sim.url, &[], &[]);
    c.grant_valid_for = std::time::Duration::ZERO;
    let app = backend(c);

    // Another worker's token: the reservation named is not theirs.
    let mut req = customer_request();
    req[1].1 = TOKEN_OTHER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("belongs to another worker"));
    // Without naming one: no live reservation of theirs on this task.
    let mut req = customer_request();
    req[1].1 = TOKEN_OTHER.into();
    req.retain(|(k, _)| *k != "reservationSid" && *k != "target");
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("no accepted or wrapping reservation"));

    // A call that is not part of the task.
    let mut req = customer_request();
    req[0].1 = CA_STRANGER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"].as_str().unwrap().contains(CA_STRANGER));

    // Someone else's reservation named as the target.
    let mut req = customer_request();
    req[3].1 = WR_OTHER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // The template's shape is not enough in strict mode.
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("AUTHORIZATION=strict"));

    // A reservation no longer live (completed) does not count; every status
    // is in tests/production_truth.rs.
    sim.post(
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "completed"}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // An unknown task.
    let mut req = customer_request();
    req[2].1 = "WT000000000000000000000000000000ee".into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.json);

    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn authorization_accepts_conference_participant_and_own_client_leg() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    // The worker leg is in the conference (and also the worker's own client leg).
    let mut req = customer_request();
    req[0].1 = CA_WORKER.into();
    req.truncate(4);
    assert_eq!(create(&app, &req).await.status, StatusCode::OK);

    // A leg that left the conference is no longer the task's, unless it is
    // the worker's own client leg.
    let own = "CA000000000000000000000000000000a9";
    sim.post(
        "/calls",
        json!({"callSid": own, "from": format!("client:{IDENTITY}"), "to": "+15005550009"}),
    )
    .await;
    let mut req = customer_request();
    req[0].1 = own.into();
    req.truncate(4);
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);

    // A participant that left (404 from Twilio) and is not this worker's own leg.
    let left = "CA000000000000000000000000000000b9";
    sim.post("/calls", json!({"callSid": left})).await;
    sim.put(
        &format!("/conferences/{CF}"),
        json!({"taskSid": WT, "participants": [
            {"callSid": CA_CUSTOMER, "participantType": "customer", "status": "joined"},
            {"callSid": left, "participantType": "external", "status": "left"}
        ]}),
    )
    .await;
    let mut req = customer_request();
    req[0].1 = left.into();
    req.truncate(4);
    assert_eq!(create(&app, &req).await.status, StatusCode::FORBIDDEN);
}

/// `call_sid` is what later requests trust as the task's call, so the
/// browser's word alone never puts it there: in strict mode a
/// `customerCallSid` is written only when Twilio shows it in the conference
/// being linked. And a task that is not a voice call cannot serve as the
/// ticket for recording or linking any call.
#[tokio::test]
async fn the_browser_cannot_make_any_call_the_tasks_call() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"direction": "outbound"}}),
    )
    .await;
    let app = backend_for(&sim);
    // A stranger's call, not in the conference: the conference is linked, not the call.
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN),
            ("taskSid", WT),
            ("conferenceSid", CF),
            ("customerCallSid", CA_STRANGER),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let attrs = sim.attributes(WT).await;
    assert_eq!(attrs["conference"]["sid"], CF);
    assert!(attrs.get("call_sid").is_none(), "{attrs}");
    // Recording that stranger's call is still refused.
    let mut req = customer_request();
    for (k, v) in req.iter_mut() {
        if *k == "callSid" {
            *v = CA_STRANGER.into();
        }
    }
    let refs: Vec<(&str, &str)> = req.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = post_form(&app, CREATE, &refs).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // A chat task held by the worker is no ticket.
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA_CUSTOMER}, "channel": "chat"}),
    )
    .await;
    let a = post_form(
        &backend_for(&sim),
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(
        a.json["message"].as_str().unwrap().contains("chat task"),
        "{}",
        a.json
    );
}
