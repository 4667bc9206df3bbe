//! What an operator relies on: `/metrics` in Prometheus text format whose
//! counts move with what the backend does, and `METRICS_LISTEN` taking it off
//! the public router.
//!
//! The metrics recorder is process-wide (installed once); this file's tests
//! run in one process, so each test reads the difference it caused, and only
//! one test here causes recordings, refusals and Twilio errors.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use prometheus_parse::{LineInfo, Scrape, Value as PromValue};
use recording_backend::metrics as m;
use serde_json::json;

/// `/metrics` of `app`, checked line by line against the text exposition
/// format, then parsed.
async fn scrape(app: &axum::Router) -> Scrape {
    let req = Request::builder()
        .method(Method::GET)
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    strict_check(&text);
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

/// The parser skips lines it cannot read; here every line must be a HELP, a
/// TYPE, a sample of a family whose TYPE came first, or empty, and every
/// histogram's `+Inf` bucket must equal its `_count`.
fn strict_check(text: &str) {
    let mut typed: Vec<(String, String)> = Vec::new();
    let mut inf_buckets: Vec<(String, f64)> = Vec::new();
    let mut counts: Vec<(String, f64)> = Vec::new();
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Empty => {}
            LineInfo::Doc { .. } => {}
            LineInfo::Type { .. } => {
                let mut parts = line.split_whitespace().skip(2);
                let name = parts.next().unwrap().to_string();
                let kind = parts.next().unwrap().to_string();
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"]
                        .contains(&kind.as_str()),
                    "{line}"
                );
                typed.push((name, kind));
            }
            LineInfo::Sample {
                metric_name,
                labels,
                value,
                ..
            } => {
                let v: f64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("value of {line:?}"));
                let family = typed
                    .iter()
                    .rev()
                    .find(|(n, k)| {
                        metric_name == n
                            || (k == "histogram"
                                && ["_bucket", "_sum", "_count"]
                                    .iter()
                                    .any(|s| metric_name == format!("{n}{s}")))
                    })
                    .unwrap_or_else(|| panic!("sample before its TYPE: {line}"));
                if family.1 == "counter" {
                    assert!(v >= 0.0, "negative counter: {line}");
                }
                let labels = labels.unwrap_or("");
                if let Some(rest) = metric_name.strip_suffix("_bucket") {
                    if labels.contains("le=\"+Inf\"") {
                        let key = labels
                            .replace(",le=\"+Inf\"", "")
                            .replace("le=\"+Inf\"", "");
                        inf_buckets.push((format!("{rest}{{{key}}}"), v));
                    }
                } else if let Some(rest) = metric_name.strip_suffix("_count") {
                    counts.push((format!("{rest}{{{labels}}}"), v));
                }
            }
            LineInfo::Ignored => panic!("not Prometheus text format: {line:?}"),
        }
    }
    for (key, v) in &inf_buckets {
        let norm = |s: &str| s.replace("{,", "{").replace(",}", "}");
        let count = counts
            .iter()
            .find(|(k, _)| norm(k) == norm(key))
            .unwrap_or_else(|| panic!("histogram {key} has no _count"));
        assert_eq!(count.1, *v, "{key}: +Inf bucket != _count");
    }
}

/// A counter's value for labels that include `want` (0 when absent).
fn counter(s: &Scrape, name: &str, want: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| want.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            PromValue::Counter(v) | PromValue::Untyped(v) | PromValue::Gauge(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// Observations of a histogram for labels that include `want`.
fn observations(s: &Scrape, name: &str, want: &[(&str, &str)]) -> f64 {
    counter(s, &format!("{name}_count"), want)
}

#[tokio::test]
async fn metrics_parse_and_count_what_happens() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let before = scrape(&app).await;

    // One recording started, then the same call asked again.
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["alreadyRecording"], false);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.json["alreadyRecording"], true, "{}", a.json);

    // Refusals: bad input, no token, a worker who does not hold the task.
    let bad = post_form(&app, CREATE, &[("callSid", "CA1"), ("Token", TOKEN)]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let anon = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER)]).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let mut other = customer_request();
    other[1].1 = TOKEN_OTHER.into();
    assert_eq!(create(&app, &other).await.status, StatusCode::FORBIDDEN);

    // A Twilio error on the recording start is counted by Twilio's code.
    let token_only = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    let warm = post_form(
        &token_only,
        CREATE,
        &[("callSid", CA_WORKER), ("Token", TOKEN)],
    )
    .await;
    assert_eq!(warm.status, StatusCode::OK, "{}", warm.json);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 400, "code": 21220, "count": 1}}),
    )
    .await;
    let refused = post_form(
        &token_only,
        CREATE,
        &[("callSid", CA_STRANGER), ("Token", TOKEN)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);

    // Twilio out of reach: a failure, and an unreachable Twilio request.
    let gone = backend(config(&closed_port_url().await, &[], &[]));
    let down = create(&gone, &customer_request()).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.json
    );

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) - counter(&before, name, labels)
    };
    assert_eq!(
        moved(m::RECORDINGS_STARTED, &[]),
        2.0,
        "customer leg, then the warm-up's worker leg"
    );
    assert_eq!(moved(m::ALREADY_RECORDING, &[]), 1.0);
    assert_eq!(
        moved(m::REFUSALS, &[("status", "400"), ("code", "400")]),
        1.0
    );
    assert_eq!(
        moved(m::REFUSALS, &[("status", "401"), ("code", "401")]),
        1.0
    );
    assert_eq!(
        moved(m::REFUSALS, &[("status", "403"), ("code", "403")]),
        1.0
    );
    assert_eq!(
        moved(m::REFUSALS, &[("status", "409"), ("code", "21220")]),
        1.0
    );
    assert_eq!(moved(m::FAILURES, &[("status", "503")]), 1.0);
    assert_eq!(moved(m::TWILIO_ERRORS, &[("code", "21220")]), 1.0);
    assert_eq!(moved(m::TWILIO_ERRORS, &[("code", "unreachable")]), 1.0);
    assert!(moved(m::TWILIO_RETRIES, &[("operation", "token check")]) >= 1.0);

    // Latency: every request and every Twilio operation is observed.
    let route = CREATE;
    let obs = |name: &str, labels: &[(&str, &str)]| {
        observations(&after, name, labels) - observations(&before, name, labels)
    };
    assert_eq!(
        obs(
            m::REQUEST_DURATION,
            &[("route", route), ("method", "POST"), ("status", "200")]
        ),
        2.0 + 1.0,
        "two customer requests and the warm-up"
    );
    assert_eq!(
        obs(m::REQUEST_DURATION, &[("route", route), ("status", "403")]),
        1.0
    );
    assert_eq!(
        obs(m::TWILIO_DURATION, &[("operation", "start recording")]),
        3.0,
        "customer leg, warm-up, refused start"
    );
    assert!(obs(m::TWILIO_DURATION, &[("operation", "token check")]) >= 3.0);
    assert_eq!(
        after.docs.get(m::REQUEST_DURATION).map(String::as_str),
        Some("Time to answer an HTTP request, by route, method and status")
    );

    // The claim store's counter is there from the start, for the store to use.
    let c0 = counter(&after, m::CLAIM_STORE_ERRORS, &[]);
    m::claim_store_error();
    assert_eq!(
        counter(&scrape(&app).await, m::CLAIM_STORE_ERRORS, &[]),
        c0 + 1.0
    );
}

#[tokio::test]
async fn metrics_listen_moves_metrics_off_the_public_router() {
    let sim = Sim::start().await;
    let public = backend(config(&sim.url, &[], &[("METRICS_LISTEN", "127.0.0.1:0")]));
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(public, req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let own = recording_backend::metrics_app();
    let s = scrape(&own).await;
    assert!(s.docs.contains_key(m::RECORDINGS_STARTED));
}
