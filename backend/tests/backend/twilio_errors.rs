//! Twilio's errors: what is retried (429, 503), what is passed through with
//! Twilio's code, and a concurrent write (412) that keeps the other writer's keys.

use crate::common::*;
use axum::http::{header, StatusCode};
use serde_json::json;

#[tokio::test]
async fn rate_limited_twice_then_exactly_one_recording() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 2}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
    let log = sim.log().await;
    assert_eq!(log.iter().filter(|e| e["status"] == 429).count(), 2);
    assert_eq!(
        sim.attributes(WT).await["conversations"]["media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // 429 on the recording start itself, with a warm token cache.
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    assert_eq!(
        post_form(&app, CREATE, &[("callSid", CA_WORKER), ("Token", TOKEN)])
            .await
            .status,
        StatusCode::OK
    );
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 2}}),
    )
    .await;
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let recs = sim.recordings().await;
    assert_eq!(
        recs.iter().filter(|r| r["callSid"] == CA_CUSTOMER).count(),
        1
    );
}

#[tokio::test]
async fn rate_limited_beyond_the_retry_budget_is_429_with_twilios_code() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    assert_eq!(
        post_form(&app, CREATE, &[("callSid", CA_WORKER), ("Token", TOKEN)])
            .await
            .status,
        StatusCode::OK
    );
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 50}}),
    )
    .await;
    let before = sim.log().await.len();
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.json);
    assert_eq!(a.json["code"], 20429);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    // Bounded: exactly the policy's attempts.
    assert_eq!(sim.log().await.len() - before, 5);
}

#[tokio::test]
async fn service_unavailable_is_retried() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 503, "code": 20503, "count": 3}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
}

#[tokio::test]
async fn other_4xx_are_not_retried() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 400, "code": 20001, "count": 1}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.json);
    assert_eq!(a.json["code"], 20001);
    assert_eq!(sim.log().await.len(), 1);
}

#[tokio::test]
async fn concurrent_write_412_keeps_the_other_writers_keys() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {
            "conversations": {"outcome": "sale"},
            "other_plugin": {"note": "written between read and write"}
        }}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["mediaWritten"], true);
    let log = sim.log().await;
    assert_eq!(log.iter().filter(|e| e["status"] == 412).count(), 1);
    let attrs = sim.attributes(WT).await;
    assert_eq!(
        attrs["other_plugin"]["note"],
        "written between read and write"
    );
    assert_eq!(attrs["conversations"]["outcome"], "sale");
    assert_eq!(attrs["conversations"]["abandoned"], "No");
    assert_eq!(attrs["conversations"]["media"].as_array().unwrap().len(), 1);
    assert_eq!(attrs["customers"]["name"], "Ada");
}

#[tokio::test]
async fn call_not_in_progress_21220_is_passed_through() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post(
        "/calls",
        json!({"callSid": CA_CUSTOMER, "status": "completed"}),
    )
    .await;
    let app = backend_for(&sim);
    let before_attrs = sim.attributes(WT).await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json);
    assert_eq!(a.json["success"], false);
    assert_eq!(a.json["code"], 21220);
    assert_eq!(
        a.json["moreInfo"],
        "https://www.twilio.com/docs/errors/21220"
    );
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("not in-progress"));
    // Not retried.
    assert_eq!(count(&sim.log().await, "POST", "/Recordings.json"), 1);
    assert_eq!(sim.attributes(WT).await, before_attrs);
}

#[tokio::test]
async fn unknown_call_is_404_with_twilios_code() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    let a = post_form(
        &app,
        CREATE,
        &[
            ("callSid", "CA0000000000000000000000000000dead"),
            ("Token", TOKEN),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.json);
    assert_eq!(a.json["code"], 20404);
}
