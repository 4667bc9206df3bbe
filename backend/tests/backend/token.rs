//! The Flex token check: its cache, what an invalid, expired or uncheckable
//! token gets, and the backend's own credentials.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn token_cache_makes_one_check_for_many_requests() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    for _ in 0..5 {
        assert_eq!(
            create(&app, &customer_request()).await.status,
            StatusCode::OK
        );
    }
    let a = post_form(
        &app,
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let log = sim.log().await;
    assert_eq!(count(&log, "POST", "/Tokens/validate"), 1);
    // The token itself never reaches a log line: the check's request body is
    // the only place it appears, in the simulator's own log.
}

#[tokio::test]
async fn invalid_and_expired_tokens_are_401_and_not_cached() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post(
        "/tokens",
        json!({"token": "revoked", "workerSid": WK, "valid": false}),
    )
    .await;
    sim.post(
        "/tokens",
        json!({"token": "expired", "workerSid": WK, "expiresInSec": -5}),
    )
    .await;
    let app = backend_for(&sim);
    for tok in ["unknown-token", "revoked", "expired", "revoked"] {
        let mut req = customer_request();
        req[1].1 = tok.to_string();
        let a = create(&app, &req).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{tok}: {}", a.json);
        assert_eq!(a.json["success"], false);
        assert!(a.json["code"].as_i64().unwrap() >= 20101, "{}", a.json);
    }
    // Refusals are asked again each time, never cached.
    assert_eq!(count(&sim.log().await, "POST", "/Tokens/validate"), 4);
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn token_check_unreachable_is_503_never_allowed() {
    let sim = Sim::start().await;
    sim.scene().await;
    let dead = closed_port_url().await;
    let app = backend(config(&sim.url, &["--iam-base-url", &dead], &[]));
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    assert_eq!(a.json["success"], false);
    assert_eq!(a.json["code"], 503);
    assert!(a.json["message"].as_str().unwrap().contains("Flex token"));
    assert!(sim.recordings().await.is_empty());
    assert!(sim.log().await.is_empty());
}

#[tokio::test]
async fn token_check_rejecting_backend_credentials_is_502() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("TWILIO_AUTH_TOKEN", "wrong")]));
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.json);
    assert_eq!(a.json["code"], 20003);
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn api_key_credentials_work() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(
        &sim.url,
        &[],
        &[
            ("TWILIO_API_KEY", "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("TWILIO_API_SECRET", "sim-api-secret"),
        ],
    ));
    assert_eq!(
        create(&app, &customer_request()).await.status,
        StatusCode::OK
    );
}
