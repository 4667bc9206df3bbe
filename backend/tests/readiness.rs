//! Readiness (`GET /readyz`): whether Twilio accepts the backend's
//! credentials, checked with a read of the Flex configuration against the
//! simulator.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use recording_backend::domain::readiness::NOT_CHECKED_YET;
use recording_backend::AppState;
use serde_json::{json, Value};

fn state(config: recording_backend::config::Config) -> AppState {
    AppState::with_retry(config, test_retry()).unwrap()
}

async fn readyz(state: &AppState) -> Answer {
    let app = recording_backend::app(state.clone());
    send(
        &app,
        Request::builder()
            .method(Method::GET)
            .uri("/readyz")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Ready (200 `{"ready": true}`), or 503 with a reason containing each of `words`.
async fn assert_readyz(state: &AppState, ready: bool, words: &[&str]) {
    let a = readyz(state).await;
    if ready {
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        assert_eq!(a.json, json!({"ready": true}));
        return;
    }
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    assert_eq!(a.json["ready"], false, "{}", a.json);
    let reason = a.json["reason"].as_str().unwrap();
    for w in words {
        assert!(reason.contains(w), "{w:?} not in {reason:?}");
    }
    // Words, not Rust: no `Some(..)`, no struct dumps.
    assert!(
        !reason.contains("Some(") && !reason.contains(" { "),
        "{reason}"
    );
}

#[tokio::test]
async fn ready_with_the_right_credentials_and_not_with_wrong_ones() {
    let sim = Sim::start().await;
    // Credentials, policy, ready, words of the reason.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, bool, &'a [&'a str]);
    let cases: [Case; 5] = [
        (&[], "on", true, &[]),
        (
            &[("TWILIO_AUTH_TOKEN", "wrong-token")],
            "on",
            false,
            &[
                "Twilio refuses the credentials (error 20003, HTTP 401)",
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
            ],
        ),
        (
            &[("TWILIO_AUTH_TOKEN", "wrong-token")],
            "off",
            false,
            &["Twilio refuses the credentials"],
        ),
        (
            &[
                ("TWILIO_AUTH_TOKEN", ""),
                ("TWILIO_API_KEY", "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("TWILIO_API_SECRET", "sim-api-secret"),
            ],
            "on",
            true,
            &[],
        ),
        (
            &[
                ("TWILIO_AUTH_TOKEN", ""),
                ("TWILIO_API_KEY", "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("TWILIO_API_SECRET", "a-revoked-secret"),
            ],
            "on",
            false,
            &["error 20003", "TWILIO_API_KEY/TWILIO_API_SECRET"],
        ),
    ];
    for (vars, policy, ready, words) in cases {
        let mut vars = vars.to_vec();
        vars.push(("POLICY", policy));
        let s = state(config(&sim.url, &[], &vars));
        // Nothing is known before the first check.
        assert_readyz(&s, false, &[NOT_CHECKED_YET]).await;
        s.check_readiness().await;
        assert_readyz(&s, ready, words).await;
    }
}

#[tokio::test]
async fn each_check_tells_the_truth_of_its_moment() {
    let sim = Sim::start().await;
    let on = state(config(&sim.url, &[], &[]));
    let off = state(config(&sim.url, &[], &[("POLICY", "off")]));
    let fail = |status: u16, code: i64| json!({"failNext": {"status": status, "code": code, "path": "/v1/Configuration", "count": 1}});
    // The fault armed before the check, ready after it, the reason's words.
    let cases: Vec<(&AppState, Option<Value>, bool, &[&str])> = vec![
        (&on, None, true, &[]),
        // A key revoked (or the account suspended) while it runs.
        (
            &on,
            Some(fail(403, 20003)),
            false,
            &["Twilio refuses the credentials (error 20003, HTTP 403)"],
        ),
        (&on, None, true, &[]),
        // Credentials accepted, but the policy POLICY=on needs is not there.
        (
            &on,
            Some(fail(404, 20404)),
            false,
            &[
                "Twilio accepts the credentials",
                "Flex configuration",
                "20404",
            ],
        ),
        // POLICY=off needs no configuration: the credentials were accepted.
        (&off, Some(fail(404, 20404)), true, &[]),
        (
            &off,
            Some(fail(401, 20003)),
            false,
            &["Twilio refuses the credentials (error 20003, HTTP 401)"],
        ),
        (&off, None, true, &[]),
    ];
    for (s, fault, ready, words) in cases {
        if let Some(f) = fault {
            sim.post("/faults", f).await;
        }
        s.check_readiness().await;
        assert_readyz(s, ready, words).await;
    }
}

#[tokio::test]
async fn not_ready_while_twilio_cannot_be_reached() {
    let s = state(config(&closed_port_url().await, &[], &[]));
    s.check_readiness().await;
    assert_readyz(&s, false, &["Twilio cannot be reached"]).await;
    // Liveness is another matter: the process serves.
    let app = recording_backend::app(s.clone());
    let live = send(
        &app,
        Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(live.json, json!({"ok": true}));
}
