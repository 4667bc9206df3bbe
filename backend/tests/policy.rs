//! The recording policy read from the Flex configuration, enforced by the
//! backend: one test per rule, then the cache (single flight, stale reads,
//! never loaded), then `POLICY=off`.

mod common;

use axum::http::StatusCode;
use common::*;
use recording_backend::config::PolicyTiming;
use serde_json::{json, Value};
use std::time::Duration;

const SALES: &str = "WQ00000000000000000000000000005a1e";

/// The scene's task, now in queue Sales with `extra` attributes.
async fn task_in_sales(sim: &Sim, extra: Value) {
    let mut attributes = json!({
        "call_sid": CA_CUSTOMER,
        "direction": "inbound",
        "conference": {"sid": CF}
    });
    for (k, v) in extra.as_object().unwrap() {
        attributes[k] = v.clone();
    }
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": attributes, "queueName": "Sales", "queueSid": SALES}),
    )
    .await;
}

/// A request the configuration refuses: 403 with `code`, nothing recorded,
/// nothing written.
async fn assert_refused(sim: &Sim, a: &Answer, code: &str, rule: Option<&str>) {
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["success"], false, "{}", a.json);
    assert_eq!(a.json["code"], code, "{}", a.json);
    match rule {
        Some(r) => assert_eq!(a.json["rule"], r, "{}", a.json),
        None => assert!(a.json.get("rule").is_none_or(|r| r.is_string())),
    }
    assert!(a.json["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(sim.recordings().await.is_empty());
    let log = sim.log().await;
    assert_eq!(count(&log, "POST", "/Recordings.json"), 0, "{log:#?}");
    assert_eq!(count(&log, "POST", &format!("/Tasks/{WT}")), 0, "{log:#?}");
}

fn feature(extra: Value) -> Value {
    let mut f = json!({"enabled": true, "channel": "customer"});
    for (k, v) in extra.as_object().unwrap() {
        f[k] = v.clone();
    }
    f
}

async fn refused_by(extra: Value, task_extra: Value, code: &str, rule: Option<&str>) {
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(&sim, task_extra).await;
    sim.flex_config(feature(extra), false).await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    assert_refused(&sim, &a, code, rule).await;
}

#[tokio::test]
async fn excluded_by_queue_name() {
    refused_by(
        json!({"exclude_queues": ["Billing", "Sales"]}),
        json!({}),
        "excluded",
        Some("exclude_queues: Sales"),
    )
    .await;
}

#[tokio::test]
async fn excluded_by_queue_sid() {
    refused_by(
        json!({"exclude_queues": [SALES]}),
        json!({}),
        "excluded",
        Some(&format!("exclude_queues: {SALES}")),
    )
    .await;
}

#[tokio::test]
async fn excluded_by_attribute() {
    refused_by(
        json!({"exclude_attributes": [{"key": "customer.preferences.privacy", "value": "no-recording"}]}),
        json!({"customer": {"preferences": {"privacy": ["marketing", "no-recording"]}}}),
        "excluded",
        Some("exclude_attributes: customer.preferences.privacy = no-recording"),
    )
    .await;
}

#[tokio::test]
async fn disabled() {
    refused_by(
        json!({"enabled": false}),
        json!({}),
        "disabled",
        Some("enabled"),
    )
    .await;
}

#[tokio::test]
async fn conference_method() {
    refused_by(
        json!({"method": "conference"}),
        json!({}),
        "conference-method",
        Some("method"),
    )
    .await;
}

#[tokio::test]
async fn misconfigured() {
    refused_by(
        json!({"channel": "agent"}),
        json!({}),
        "misconfigured",
        Some(r#"channel: must be "customer" or "worker", found "agent""#),
    )
    .await;
}

#[tokio::test]
async fn rules_that_do_not_match_let_the_recording_start() {
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(
        &sim,
        json!({"customer": {"preferences": {"privacy": "ok"}}}),
    )
    .await;
    sim.flex_config(
        feature(json!({
            "exclude_queues": ["Billing", "WQ00000000000000000000000000000bad"],
            "exclude_attributes": [{"key": "customer.preferences.privacy", "value": "no-recording"}]
        })),
        // Flex's own recording on is logged, not refused.
        true,
    )
    .await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
}

#[tokio::test]
async fn link_call_is_refused_for_an_excluded_task() {
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(&sim, json!({})).await;
    sim.flex_config(feature(json!({"exclude_queues": ["Sales"]})), false)
        .await;
    let app = backend_for(&sim);
    let a = post_form(
        &app,
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_refused(&sim, &a, "excluded", Some("exclude_queues: Sales")).await;
}

#[tokio::test]
async fn token_only_authorization_enforces_the_policy_too() {
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(&sim, json!({})).await;
    sim.flex_config(feature(json!({"exclude_queues": ["Sales"]})), false)
        .await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    // Naming the task: its exclusions are checked.
    let a = create(&app, &customer_request()).await;
    assert_refused(&sim, &a, "excluded", Some("exclude_queues: Sales")).await;
    // Not naming it (the template's request): with exclusions configured the
    // backend cannot tell, so it refuses rather than record blind.
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_refused(&sim, &a, "task-required", None).await;
    // Disabled applies whatever the request names.
    sim.flex_config(feature(json!({"enabled": false})), false)
        .await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_refused(&sim, &a, "disabled", Some("enabled")).await;
}

#[tokio::test]
async fn policy_off_trusts_the_browser() {
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(&sim, json!({})).await;
    sim.flex_config(feature(json!({"exclude_queues": ["Sales"]})), false)
        .await;
    let app = backend(config(&sim.url, &[], &[("POLICY", "off")]));
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(count(&sim.log().await, "GET", "/v1/Configuration"), 0);
}

fn timing(fresh_ms: u64, stale_ms: u64, retry_ms: u64) -> PolicyTiming {
    PolicyTiming {
        fresh_for: Duration::from_millis(fresh_ms),
        stale_for: Duration::from_millis(stale_ms),
        retry_after_failure: Duration::from_millis(retry_ms),
    }
}

fn token_only_with(sim: &Sim, t: PolicyTiming) -> axum::Router {
    let mut c = config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]);
    c.policy_timing = t;
    backend(c)
}

async fn template_request(app: &axum::Router) -> Answer {
    post_form(app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await
}

#[tokio::test]
async fn never_loaded_is_a_retryable_503() {
    let sim = Sim::start().await;
    sim.scene().await;
    let mut c = config(&sim.url, &[], &[]);
    c.hosts.flex = closed_port_url().await;
    let app = backend(c);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    assert_eq!(a.headers["retry-after"], "1");
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("recording policy"));
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn unreadable_configuration_is_a_503_not_a_pass() {
    let sim = Sim::start().await;
    sim.scene().await;
    // Token checks go to a second simulator, so the fault below meets the
    // configuration read and nothing else.
    let iam = Sim::start().await;
    iam.scene().await;
    let mut c = config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]);
    c.hosts.iam = iam.url.clone();
    c.policy_timing = timing(0, 60_000, 0);
    let app = backend(c);
    // Twilio refuses the read (a 500 is not retried) and none was ever read.
    sim.post(
        "/faults",
        json!({"failNext": {"status": 500, "code": 20500, "count": 1}}),
    )
    .await;
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("recording policy"));
    assert!(sim.recordings().await.is_empty());
    // Readable again: the request the plugin retries goes through.
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
}

#[tokio::test]
async fn stale_configuration_serves_while_twilio_fails_then_expires() {
    let sim = Sim::start().await;
    sim.scene().await;
    // Every request reads; a failed read keeps the last good one for 400 ms.
    let app = token_only_with(&sim, timing(0, 400, 0));
    assert_eq!(template_request(&app).await.status, StatusCode::OK);
    sim.flex_config(feature(json!({"enabled": false})), false)
        .await;
    // Twilio fails the read: the last good configuration (enabled) applies.
    sim.post(
        "/faults",
        json!({"failNext": {"status": 500, "code": 20500, "count": 1}}),
    )
    .await;
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["alreadyRecording"], true);
    // Past its age limit, a stale configuration no longer serves.
    tokio::time::sleep(Duration::from_millis(450)).await;
    sim.post(
        "/faults",
        json!({"failNext": {"status": 500, "code": 20500, "count": 1}}),
    )
    .await;
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    // Twilio answers again: the new configuration applies.
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["code"], "disabled");
}

#[tokio::test]
async fn a_change_applies_once_the_read_is_no_longer_fresh() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = token_only_with(&sim, timing(300, 3_600_000, 0));
    assert_eq!(template_request(&app).await.status, StatusCode::OK);
    sim.flex_config(feature(json!({"enabled": false})), false)
        .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let a = template_request(&app).await;
    assert_eq!(a.json["code"], "disabled", "{}", a.json);
    assert_eq!(count(&sim.log().await, "GET", "/v1/Configuration"), 2);
}

#[tokio::test]
async fn concurrent_requests_share_one_configuration_read() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post("/faults", json!({"latencyMs": 100})).await;
    let app = backend_for(&sim);
    let answers = futures_join(
        (0..8)
            .map(|_| {
                let app = app.clone();
                async move { create(&app, &customer_request()).await }
            })
            .collect(),
    )
    .await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    }
    assert_eq!(count(&sim.log().await, "GET", "/v1/Configuration"), 1);
}

async fn futures_join<F: std::future::Future<Output = Answer> + Send + 'static>(
    futures: Vec<F>,
) -> Vec<Answer> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn refusals_are_not_retried_by_the_plugin() {
    // The answer the plugin reads: `backend_client` classifies a 403 with a
    // policy code as a refusal; here the wire shape it relies on.
    let sim = Sim::start().await;
    sim.scene().await;
    task_in_sales(&sim, json!({})).await;
    sim.flex_config(feature(json!({"exclude_queues": ["Sales"]})), false)
        .await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    let body: dual_channel_recording::api::RefusalBody =
        serde_json::from_value(a.json.clone()).unwrap();
    assert_eq!(
        body.code,
        dual_channel_recording::api::RefusalCode::Excluded
    );
    assert!(matches!(
        dual_channel_recording::backend_client::create_outcome(
            &dual_channel_recording::backend_client::Answer::Http {
                status: 403,
                body: Some(a.json.clone())
            }
        ),
        dual_channel_recording::backend_client::Outcome::Refused(_)
    ));
}

#[tokio::test]
async fn credentials_refused_for_the_configuration_say_what_to_fix() {
    let sim = Sim::start().await;
    sim.scene().await;
    let iam = Sim::start().await;
    iam.scene().await;
    let mut c = config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]);
    c.hosts.iam = iam.url.clone();
    let app = backend(c);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 403, "code": 20403, "count": 1}}),
    )
    .await;
    let a = template_request(&app).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    let m = a.json["message"].as_str().unwrap();
    assert!(
        m.contains("refused the backend's credentials") && m.contains("POLICY=off"),
        "{m}"
    );
    assert!(!m.contains("sim-auth-token"));
}
