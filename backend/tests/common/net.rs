//! Twilio's calls to the backend as Twilio makes them, for the safety-net
//! tests: Event Streams deliveries (CloudEvents in a JSON array,
//! `X-Twilio-Signature` over the URL with `bodySHA256`) and recording status
//! callbacks (a signed form); the audit they feed.

use super::*;
use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use recording_backend::webhook_signature::{body_sha256, sign};
use recording_backend::{app, AppState};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const PUBLIC: &str = "https://rec.example";
pub const AUTH: &str = "sim-auth-token";
pub const AUDIT: &str = "audit-secret";

pub fn now_rfc3339(offset_ms: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(offset_ms);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A TaskRouter CloudEvent of `kind` (`reservation.accepted`, ...) for WT/WR/WK.
pub fn event(id: &str, kind: &str, attributes: Value) -> Value {
    json!({
        "specversion": "1.0",
        "type": format!("com.twilio.taskrouter.{kind}"),
        "source": format!("/v1/Workspaces/{WS}"),
        "id": id,
        "time": now_rfc3339(0),
        "datacontenttype": "application/json",
        "dataschema": "https://events-schemas.twilio.com/TaskRouter.WDSEvent/1",
        "data": {
            "account_sid": AC, "workspace_sid": WS, "task_sid": WT,
            "reservation_sid": WR, "worker_sid": WK,
            "task_attributes": attributes.to_string(),
            "task_channel_unique_name": "voice",
            "task_queue_name": "Sales", "task_queue_sid": "WQ000000000000000000000000000000a1",
            "timestamp": now_rfc3339(0)
        }
    })
}

pub fn accepted(id: &str) -> Value {
    event(
        id,
        "reservation.accepted",
        json!({"call_sid": CA_CUSTOMER, "direction": "inbound"}),
    )
}

/// A delivery signed as Twilio signs it for `signed_base`'s URL.
pub fn delivery(body: &[u8], signed_base: &str, token: &str) -> Request<Body> {
    let query = format!("bodySHA256={}", body_sha256(body));
    let url = format!("{signed_base}/twilio/event-streams?{query}");
    Request::builder()
        .method(Method::POST)
        .uri(format!("/twilio/event-streams?{query}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Twilio-Signature", sign(token, &url, &[]))
        .body(Body::from(body.to_vec()))
        .unwrap()
}

pub async fn deliver(app: &Router, batch: &[Value]) -> Answer {
    let body = serde_json::to_vec(&Value::Array(batch.to_vec())).unwrap();
    send(app, delivery(&body, PUBLIC, AUTH)).await
}

pub fn status_callback(pairs: &[(&str, &str)], token: &str) -> Request<Body> {
    let params: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let url = format!("{PUBLIC}/twilio/recording-status");
    Request::builder()
        .method(Method::POST)
        .uri("/twilio/recording-status")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", sign(token, &url, &params))
        .body(Body::from(serde_urlencoded::to_string(pairs).unwrap()))
        .unwrap()
}

pub fn net_config(sim: &Sim, extra: &[(&str, &str)]) -> recording_backend::config::Config {
    let mut vars = vec![
        ("PUBLIC_URL", PUBLIC),
        ("SAFETY_NET_SECONDS", "0"),
        ("AUDIT_TOKEN", AUDIT),
    ];
    vars.extend_from_slice(extra);
    config(&sim.url, &[], &vars)
}

pub fn net_backend(sim: &Sim) -> (AppState, Router) {
    let state = AppState::with_retry(net_config(sim, &[]), test_retry()).unwrap();
    (state.clone(), app(state))
}

/// Waits until the net has no check pending.
pub async fn settle(state: &AppState) {
    let until = Instant::now() + Duration::from_secs(15);
    tokio::time::sleep(Duration::from_millis(20)).await;
    while state.0.safety_net.pending() > 0 {
        assert!(
            Instant::now() < until,
            "safety-net checks still pending after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn audit(app: &Router, token: Option<&str>) -> Answer {
    let mut b = Request::builder().uri(format!(
        "/audit?from={}&to={}",
        now_rfc3339(-600_000),
        now_rfc3339(600_000)
    ));
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(app, b.body(Body::empty()).unwrap()).await
}
