//! Authorize ahead: what a grant lets through, and what it never does.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const AUTHORIZE: &str = "/features/dual-channel-recording/flex/authorize";

async fn authorize(app: &axum::Router, token: &str, task: &str, reservation: &str) -> Answer {
    post_form(
        app,
        AUTHORIZE,
        &[
            ("Token", token),
            ("taskSid", task),
            ("reservationSid", reservation),
        ],
    )
    .await
}

fn calls(log: &[Value]) -> Vec<String> {
    log.iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn app_with_grant_age(sim: &Sim, age: Duration) -> axum::Router {
    let mut c = config(&sim.url, &[], &[]);
    c.grant_valid_for = age;
    backend(c)
}

#[tokio::test]
async fn with_a_grant_the_create_is_the_first_twilio_call() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = authorize(&app, TOKEN, WT, WR).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["success"], true);
    assert_eq!(a.json["validForMs"], 15_000);
    let before = sim.log().await.len();
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let log = sim.log().await;
    let after = calls(&log[before..]);
    // The create first; then the attribute write (on the task read at the
    // grant), and nothing else: no token, reservation, task or
    // configuration read on the hot path.
    assert!(
        after[0].starts_with("POST ") && after[0].ends_with("/Recordings.json"),
        "{after:#?}"
    );
    assert_eq!(after.len(), 2, "{after:#?}");
    assert!(after[1].starts_with(&format!("POST /v1/Workspaces/{WS}/Tasks/{WT}")));
    // Twilio calls per recording, authorize included: token, reservations,
    // task, configuration and the worker (their config_overrides; cached
    // like the configuration) at the accept, then create and write.
    let total = calls(&log);
    println!("Twilio REST calls for one recorded call with a grant, strict: {total:#?}");
    assert_eq!(total.len(), 7, "{total:#?}");
}

#[tokio::test]
async fn a_grant_is_never_used_by_another_worker() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    assert_eq!(authorize(&app, TOKEN, WT, WR).await.status, StatusCode::OK);
    // Bob names Alice's task and reservation: his token maps to his own key,
    // which holds no grant, so every check runs, and fails.
    let mut req = customer_request();
    req[1].1 = TOKEN_OTHER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(sim.recordings().await.is_empty());
    // Nor can Bob get a grant for it.
    let a = authorize(&app, TOKEN_OTHER, WT, WR).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
}

#[tokio::test]
async fn a_grant_in_doubt_is_checked_again_and_a_reservation_that_moved_on_is_refused() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = app_with_grant_age(&sim, Duration::from_millis(200));
    assert_eq!(authorize(&app, TOKEN, WT, WR).await.status, StatusCode::OK);
    // The task is completed: its reservation is no longer accepted.
    sim.post(
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "completed"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let before = sim.log().await.len();
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(count(&sim.log().await[before..], "GET", "/Reservations"), 1);
    assert!(sim.recordings().await.is_empty());
    // The failed check left no grant behind.
    sim.post(
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "accepted"}),
    )
    .await;
    let before = sim.log().await.len();
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(count(&sim.log().await[before..], "GET", "/Reservations"), 1);
}

#[tokio::test]
async fn authorize_checks_the_policy_and_keeps_no_refused_grant() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.flex_config(
        json!({"enabled": true, "channel": "customer", "exclude_attributes": [{"key": "customers.name", "value": "Ada"}]}),
        false,
    )
    .await;
    let app = backend_for(&sim);
    let a = authorize(&app, TOKEN, WT, WR).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["code"], "excluded");
    assert_eq!(a.json["rule"], "exclude_attributes: customers.name = Ada");
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["code"], "excluded");
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn a_grant_does_not_make_a_foreign_call_part_of_the_task() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    assert_eq!(authorize(&app, TOKEN, WT, WR).await.status, StatusCode::OK);
    let mut req = customer_request();
    req[0].1 = CA_STRANGER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn a_leg_request_during_authorization_waits_for_it_instead_of_repeating_it() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post("/faults", json!({"latencyMs": 150})).await;
    let app = backend_for(&sim);
    let (a, c) = tokio::join!(authorize(&app, TOKEN, WT, WR), async {
        // The legs join right after the accept.
        tokio::time::sleep(Duration::from_millis(20)).await;
        create(&app, &customer_request()).await
    });
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(c.status, StatusCode::OK, "{}", c.json);
    let log = sim.log().await;
    assert_eq!(count(&log, "GET", "/Reservations"), 1, "{:#?}", calls(&log));
    assert_eq!(count(&log, "POST", "/Tokens/validate"), 1);
    assert_eq!(count(&log, "GET", "/v1/Configuration"), 1);
}

#[tokio::test]
async fn authorize_input_is_checked() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = post_form(&app, AUTHORIZE, &[("taskSid", WT), ("reservationSid", WR)]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
    let a = authorize(&app, TOKEN, "WT1", WR).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.json);
    assert!(a.json["message"].as_str().unwrap().contains("taskSid"));
    let a = authorize(&app, TOKEN, WT, "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.json);
    let a = authorize(&app, "forged", WT, WR).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
    assert!(sim.recordings().await.is_empty());
}
