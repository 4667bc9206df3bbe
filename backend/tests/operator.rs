//! What an operator sees of the released binary: readiness against the
//! simulator both ways (`/readyz`, `healthcheck --ready`, the readiness
//! metrics), every documented metric in a fresh backend's `/metrics`, and
//! a Twilio code in a logged cause read as words.

mod common;

use common::process::{bare, start, start_against, stop};
use common::Sim;
use serde_json::Value;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// `/readyz` once the first check has ended (it starts with the process).
async fn readyz_after_first_check(addr: &str) -> (u16, Value) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&format!("http://{addr}/readyz")).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let unchecked = v["reason"]
            .as_str()
            .is_some_and(|r| r == recording_backend::domain::readiness::NOT_CHECKED_YET);
        if !unchecked {
            return (status, v);
        }
        assert!(Instant::now() < until, "no readiness check within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn healthcheck(addr: &str, ready: bool) -> std::process::Output {
    let mut c = bare();
    c.args(["healthcheck", "--listen", addr]);
    if ready {
        c.arg("--ready");
    }
    c.output().unwrap()
}

/// The value of one sample line of `/metrics` (`name{labels}` as rendered).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

#[test]
fn readiness_of_the_binary_both_ways() {
    let rt = runtime();
    let sim = rt.block_on(Sim::start());
    // Auth token, ready, the readiness metrics.
    let cases = [
        ("wrong-token", false, 0.0, "credentials_refused"),
        ("sim-auth-token", true, 1.0, "ok"),
    ];
    for (token, ready, gauge, outcome) in cases {
        let (child, addr, _out) = start_against(
            &sim.url,
            &[("TWILIO_AUTH_TOKEN", token), ("LOG_FORMAT", "json")],
        );
        let (status, body) = rt.block_on(readyz_after_first_check(&addr));
        let (_, metrics) = rt.block_on(get(&format!("http://{addr}/metrics")));
        let live = healthcheck(&addr, false);
        let probe = healthcheck(&addr, true);
        let stderr = stop(child);

        // Alive either way: liveness is for restarts, and a restart does
        // not fix credentials.
        assert_eq!(live.status.code(), Some(0), "{live:?}");
        assert_eq!(
            sample(&metrics, "recording_backend_ready"),
            Some(gauge),
            "{metrics}"
        );
        assert_eq!(
            sample(&metrics, "recording_backend_twilio_credentials_ok"),
            Some(gauge),
            "{metrics}"
        );
        assert!(
            sample(
                &metrics,
                &format!("recording_backend_readiness_checks_total{{outcome=\"{outcome}\"}}")
            )
            .is_some_and(|n| n >= 1.0),
            "{metrics}"
        );
        if ready {
            assert_eq!(status, 200, "{body}");
            assert_eq!(body, serde_json::json!({"ready": true}));
            assert_eq!(probe.status.code(), Some(0), "{probe:?}");
            continue;
        }
        assert_eq!(status, 503, "{body}");
        let reason = body["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(
                "Twilio refuses the credentials (error 20003, HTTP 401): check TWILIO_ACCOUNT_SID"
            ),
            "{reason}"
        );
        // The probe's one line says why, for `podman healthcheck run` and the orchestrator.
        assert_eq!(probe.status.code(), Some(1), "{probe:?}");
        let said = String::from_utf8_lossy(&probe.stderr);
        assert!(
            said.contains("not ready: Twilio refuses the credentials"),
            "{said}"
        );
        // Logged once, at ERROR, in words.
        let logged: Vec<Value> = stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|l: &Value| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("not ready:"))
            })
            .collect();
        assert_eq!(logged.len(), 1, "{stderr}");
        assert_eq!(logged[0]["level"], "ERROR");
        assert!(!stderr.contains("wrong-token"), "secret in log: {stderr}");
    }
}

/// The metric names of docs/flex-developers.md's table.
fn documented_metrics() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/flex-developers.md"
    ))
    .unwrap();
    let names: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `recording_backend_"))
        .map(|rest| format!("recording_backend_{}", &rest[..rest.find('`').unwrap()]))
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    names
}

#[test]
fn a_fresh_backend_shows_every_documented_metric() {
    let (child, addr, _out) = start(&[("POLICY", "off")]);
    let rt = runtime();
    // The first scrape, before any other request.
    let (status, metrics) = rt.block_on(get(&format!("http://{addr}/metrics")));
    stop(child);
    assert_eq!(status, 200);
    let present = |name: &str| {
        metrics
            .lines()
            .any(|l| l.starts_with(name) && !l.starts_with('#'))
    };
    for name in documented_metrics() {
        // Timed per request: its first sample is the first request's.
        if name == recording_backend::metrics::REQUEST_DURATION {
            continue;
        }
        assert!(
            present(&name),
            "{name} is documented but not in a fresh /metrics:\n{metrics}"
        );
    }
    // Labelled counters at 0 for the label values known in advance, so that
    // an alert rule over them has a value before the first failure.
    for series in [
        r#"recording_backend_refusals_total{status="403",code="excluded"}"#,
        r#"recording_backend_refusals_total{status="403",code="disabled"}"#,
        r#"recording_backend_refusals_total{status="401",code="401"}"#,
        r#"recording_backend_refusals_total{status="409",code="21220"}"#,
        r#"recording_backend_failures_total{status="502",code="20003"}"#,
        r#"recording_backend_failures_total{status="503",code="503"}"#,
        r#"recording_backend_failures_total{status="500",code="500"}"#,
        r#"recording_backend_twilio_errors_total{code="20003"}"#,
        r#"recording_backend_twilio_errors_total{code="21220"}"#,
        r#"recording_backend_twilio_retries_total{operation="start recording"}"#,
        r#"recording_backend_readiness_checks_total{outcome="credentials_refused"}"#,
        r#"recording_backend_pauses_resumed_total"#,
        r#"recording_backend_cache_entries{cache="tokens"}"#,
    ] {
        assert_eq!(sample(&metrics, series), Some(0.0), "{series}:\n{metrics}");
    }
}

#[test]
fn a_twilio_code_in_a_cause_reads_as_words() {
    let rt = runtime();
    let sim = rt.block_on(Sim::start());
    let (child, addr, _out) = start_against(
        &sim.url,
        &[
            ("TWILIO_AUTH_TOKEN", "sim-auth-token"),
            ("LOG_FORMAT", "json"),
        ],
    );
    // A token Twilio does not know: rejected with its code 20101.
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "http://{addr}/features/dual-channel-recording/flex/create-recording"
            ))
            .header("x-request-id", "req-words-1")
            .form(&[
                ("callSid", "CA000000000000000000000000000000c1"),
                ("Token", "a-token-twilio-does-not-know"),
            ])
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 401);
    let stderr = stop(child);
    let line: Value = stderr
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .find(|l| l["span"]["request_id"] == "req-words-1" && l["message"] == "request refused")
        .unwrap_or_else(|| panic!("no refusal line: {stderr}"));
    let cause = line["span"]["cause"].as_str().unwrap();
    assert!(cause.starts_with("Twilio rejected Flex token "), "{cause}");
    assert!(
        cause.ends_with(": error 20101, Invalid Access Token"),
        "{cause}"
    );
    for rust in ["Some(", "Api {"] {
        assert!(!stderr.contains(rust), "{rust} in the log: {stderr}");
    }
    assert!(!stderr.contains("a-token-twilio-does-not-know"));
}
