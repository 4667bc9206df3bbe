//! What a readiness check logs when the Flex configuration records
//! nothing: a warning, once per change. Alone in its test binary: tracing
//! caches per call site whether anyone listens, process-wide, so a
//! subscriber of one test among several threads can miss events.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use recording_backend::AppState;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Log lines written while the returned guard is held, on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

#[tokio::test]
async fn a_configuration_that_records_nothing_is_a_warning_once_per_change() {
    let sim = Sim::start().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This test's runtime has one thread: every line of the checks is ours.
    let _guard = tracing::subscriber::set_default(subscriber);
    let s = AppState::with_retry(config(&sim.url, &[], &[]), test_retry()).unwrap();
    let app = recording_backend::app(s.clone());
    let disabled = json!({"enabled": false, "channel": "customer"});
    let enabled = json!({"enabled": true, "channel": "customer"});
    let invalid = json!({"enabled": true, "channel": "agent"});
    let conference = json!({"enabled": true, "channel": "customer", "method": "conference"});
    // The configuration before the check, Flex's own Call Recording (as
    // each method wants it: on beside the call-leg method, or off under the
    // conference method, is a warning of its own), and the WARN lines the
    // check adds.
    let cases = [
        (&disabled, false, 1),
        (&disabled, false, 0),
        (&enabled, false, 0),
        (&enabled, false, 0),
        (&invalid, false, 1),
        (&conference, true, 0),
        (&disabled, false, 1),
        (&disabled, false, 0),
    ];
    let warnings = |c: &Captured| {
        c.lines()
            .into_iter()
            .filter(|l| l["level"] == "WARN")
            .collect::<Vec<_>>()
    };
    for (i, (feature, flex_recording, added)) in cases.into_iter().enumerate() {
        sim.flex_config(feature.clone(), flex_recording).await;
        let before = warnings(&captured).len();
        s.check_readiness().await;
        let after = warnings(&captured);
        assert_eq!(
            after.len() - before,
            added,
            "check {i} ({feature}): {after:?}"
        );
        // The configuration records nothing, yet Twilio accepts the credentials.
        let ready = send(
            &app,
            Request::builder()
                .method(Method::GET)
                .uri("/readyz")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.json);
    }
    let w = warnings(&captured);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("dual-channel recording is disabled in the Flex configuration"),
        "{}",
        w[0]
    );
    assert_eq!(w[0]["refusal"], "disabled");
    assert_eq!(w[1]["refusal"], "misconfigured");
}
