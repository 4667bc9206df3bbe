//! The safety net, end to end against the real simulator: Event Streams
//! deliveries built here as Twilio documents them (CloudEvents in a JSON
//! array, `X-Twilio-Signature` over the URL with `bodySHA256`), recording
//! status callbacks (a signed form), and the audit they feed.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::net::*;
use common::*;
use recording_backend::webhook_signature::body_sha256;
use serde_json::{json, Value};

fn calls_recorded(recordings: &[Value], call: &str) -> usize {
    recordings.iter().filter(|r| r["callSid"] == call).count()
}

#[tokio::test]
async fn signatures_decide_and_nothing_is_done_without_one() {
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let body = serde_json::to_vec(&json!([accepted("EVsig")])).unwrap();
    let unsigned = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/twilio/event-streams?bodySHA256={}",
            body_sha256(&body)
        ))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.clone()))
        .unwrap();
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        ("unsigned", unsigned, StatusCode::FORBIDDEN),
        (
            "another token",
            delivery(&body, PUBLIC, "not-the-token"),
            StatusCode::FORBIDDEN,
        ),
        (
            "another URL",
            delivery(&body, "https://attacker.example", AUTH),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (what, req, want) in cases {
        assert_eq!(send(&app, req).await.status, want, "{what}");
    }
    settle(&state).await;
    assert!(
        sim.recordings().await.is_empty(),
        "a refused delivery started something"
    );
    // A changed body under a good signature of the original.
    let good = delivery(&body, PUBLIC, AUTH);
    let (parts, _) = good.into_parts();
    let tampered = Request::from_parts(
        parts,
        Body::from(serde_json::to_vec(&json!([accepted("EVother")])).unwrap()),
    );
    assert_eq!(send(&app, tampered).await.status, StatusCode::FORBIDDEN);
    // Status callbacks too.
    let cb = [
        ("AccountSid", AC),
        ("CallSid", CA_CUSTOMER),
        ("RecordingSid", "RE000000000000000000000000000000f1"),
        ("RecordingStatus", "absent"),
    ];
    assert_eq!(
        send(&app, status_callback(&cb, "wrong")).await.status,
        StatusCode::FORBIDDEN
    );
    // Signed right: accepted.
    assert_eq!(
        send(&app, delivery(&body, PUBLIC, AUTH)).await.status,
        StatusCode::OK
    );
    settle(&state).await;
    assert_eq!(calls_recorded(&sim.recordings().await, CA_CUSTOMER), 1);
}

#[tokio::test]
async fn without_public_url_the_sink_and_callbacks_are_off() {
    let sim = Sim::start().await;
    let app = backend(config(&sim.url, &[], &[]));
    let body = serde_json::to_vec(&json!([accepted("EVoff")])).unwrap();
    assert_eq!(
        send(&app, delivery(&body, PUBLIC, AUTH)).await.status,
        StatusCode::NOT_FOUND
    );
    let cb = [("AccountSid", AC), ("RecordingStatus", "absent")];
    assert_eq!(
        send(&app, status_callback(&cb, AUTH)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(audit(&app, Some(AUDIT)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_net_records_and_links_when_no_plugin_asked() {
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let before = recording_backend::metrics::render();
    assert!(
        before.contains("recording_backend_safety_net_pending"),
        "{before}"
    );
    let answer = deliver(&app, &[accepted("EV1")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    settle(&state).await;
    let recordings = sim.recordings().await;
    assert_eq!(
        calls_recorded(&recordings, CA_CUSTOMER),
        1,
        "{recordings:?}"
    );
    // Every recording the backend starts asks for its status callbacks.
    assert_eq!(
        recordings[0]["statusCallback"],
        format!("{PUBLIC}/twilio/recording-status")
    );
    assert_eq!(
        recordings[0]["statusCallbackEvent"],
        json!(["in-progress", "completed", "absent"])
    );
    let media = sim.attributes(WT).await["conversations"]["media"].clone();
    assert_eq!(media.as_array().map(Vec::len), Some(1), "{media}");
    assert_eq!(media[0]["type"], "VoiceRecording");
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.json["store"], "memory");
    assert_eq!(report.json["unrecorded"], json!([]));
    assert_eq!(report.json["recorded"][0]["taskSid"], WT);
    assert_eq!(report.json["recorded"][0]["by"], "safety-net");
    // The plugin coming late finds the net's recording.
    let late = create(&app, &customer_request()).await;
    assert_eq!(late.status, StatusCode::OK, "{:?}", late.json);
    assert_eq!(late.json["alreadyRecording"], true);
    assert_eq!(calls_recorded(&sim.recordings().await, CA_CUSTOMER), 1);
}

#[tokio::test]
async fn no_second_recording_when_the_plugin_recorded() {
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let first = create(&app, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    deliver(&app, &[accepted("EV2")]).await;
    settle(&state).await;
    assert_eq!(calls_recorded(&sim.recordings().await, CA_CUSTOMER), 1);
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(
        report.json["recorded"][0]["by"], "plugin",
        "{:?}",
        report.json
    );
    assert_eq!(report.json["unrecorded"], json!([]));
}

#[tokio::test]
async fn duplicated_and_reordered_events_record_once() {
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let done = event(
        "EV-done",
        "task.completed",
        json!({"call_sid": CA_CUSTOMER}),
    );
    // The completion before the accept, the accept twice in one batch and again later.
    let answer = deliver(&app, &[done.clone(), accepted("EV3"), accepted("EV3")]).await;
    assert_eq!(answer.json["handled"], 2, "{:?}", answer.json);
    assert_eq!(answer.json["duplicates"], 1);
    let again = deliver(&app, &[accepted("EV3"), done]).await;
    assert_eq!(again.json["duplicates"], 2, "{:?}", again.json);
    settle(&state).await;
    assert_eq!(calls_recorded(&sim.recordings().await, CA_CUSTOMER), 1);
}

#[tokio::test]
async fn excluded_tasks_are_not_recorded_and_named_with_their_rule() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.flex_config(
        json!({"enabled": true, "channel": "customer",
               "exclude_attributes": [{"key": "direction", "value": "inbound"}]}),
        false,
    )
    .await;
    let (state, app) = net_backend(&sim);
    deliver(&app, &[accepted("EV4")]).await;
    settle(&state).await;
    assert!(sim.recordings().await.is_empty());
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(
        report.json["excluded"],
        json!([{"taskSid": WT, "rule": "exclude_attributes: direction = inbound"}])
    );
    assert_eq!(report.json["unrecorded"], json!([]));
}

#[tokio::test]
async fn conference_method_audit_names_an_unrecorded_conference() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.flex_config(json!({"enabled": true, "method": "conference"}), false)
        .await;
    let (state, app) = net_backend(&sim);
    deliver(&app, &[accepted("EV5")]).await;
    settle(&state).await;
    assert!(
        sim.recordings().await.is_empty(),
        "the conference method starts nothing"
    );
    let done = event(
        "EV6",
        "task.completed",
        json!({"call_sid": CA_CUSTOMER, "conference": {"sid": CF}}),
    );
    deliver(&app, &[done]).await;
    settle(&state).await;
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(
        report.json["unrecorded"][0]["taskSid"], WT,
        "{:?}",
        report.json
    );
    assert_eq!(
        report.json["unrecorded"][0]["reason"],
        "conference-not-recorded"
    );
}

#[tokio::test]
async fn absent_and_failed_recordings_are_counted_once() {
    let sim = Sim::start().await;
    sim.scene().await;
    let (state, app) = net_backend(&sim);
    let first = create(&app, &customer_request()).await;
    let re = first.json["recordingSid"].as_str().unwrap().to_string();
    let count = |text: &str, reason: &str| -> f64 {
        text.lines()
            .find(|l| {
                l.starts_with("recording_backend_recordings_failed_total")
                    && l.contains(&format!("reason=\"{reason}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let before = recording_backend::metrics::render();
    let cb = [
        ("AccountSid", AC),
        ("CallSid", CA_CUSTOMER),
        ("RecordingSid", re.as_str()),
        ("RecordingStatus", "absent"),
        ("ErrorCode", "0"),
    ];
    for _ in 0..2 {
        assert_eq!(
            send(&app, status_callback(&cb, AUTH)).await.status,
            StatusCode::NO_CONTENT
        );
    }
    let after = recording_backend::metrics::render();
    // No other test of this binary reports an absent recording: exactly once.
    assert_eq!(count(&after, "absent"), count(&before, "absent") + 1.0);
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(
        report.json["unrecorded"],
        json!([{"taskSid": WT, "reason": "recording-absent", "callSid": CA_CUSTOMER, "recordingSid": re}])
    );
    settle(&state).await;
}

#[tokio::test]
async fn the_audit_needs_its_token() {
    let sim = Sim::start().await;
    let (_, app) = net_backend(&sim);
    assert_eq!(audit(&app, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        audit(&app, Some("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(audit(&app, Some(AUDIT)).await.status, StatusCode::OK);
    let bad = send(
        &app,
        Request::builder()
            .uri("/audit?from=yesterday&to=today")
            .header(header::AUTHORIZATION, format!("Bearer {AUDIT}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn worker_channel_records_the_workers_leg_in_the_conference() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.flex_config(json!({"enabled": true, "channel": "worker"}), false)
        .await;
    let attributes = json!({
        "call_sid": CA_CUSTOMER, "direction": "inbound",
        "conference": {"sid": CF, "participants": {"customer": CA_CUSTOMER, "worker": CA_WORKER}}
    });
    sim.put(&format!("/tasks/{WT}"), json!({"attributes": attributes}))
        .await;
    let (state, app) = net_backend(&sim);
    deliver(
        &app,
        &[event("EVw1", "reservation.accepted", attributes.clone())],
    )
    .await;
    settle(&state).await;
    let recordings = sim.recordings().await;
    assert_eq!(calls_recorded(&recordings, CA_WORKER), 1, "{recordings:?}");
    assert_eq!(calls_recorded(&recordings, CA_CUSTOMER), 0);
    let media = sim.attributes(WT).await["reservation_attributes"][WR]["media"].clone();
    assert_eq!(media.as_array().map(Vec::len), Some(1), "{media}");

    // A leg the attributes name that is not in the conference is not recorded.
    let sim = Sim::start().await;
    sim.scene().await;
    sim.flex_config(json!({"enabled": true, "channel": "worker"}), false)
        .await;
    let stale = json!({
        "call_sid": CA_CUSTOMER, "direction": "inbound",
        "conference": {"sid": CF, "participants": {"worker": CA_STRANGER}}
    });
    sim.put(&format!("/tasks/{WT}"), json!({"attributes": stale}))
        .await;
    let (state, app) = net_backend(&sim);
    deliver(&app, &[event("EVw2", "reservation.accepted", stale)]).await;
    settle(&state).await;
    assert!(sim.recordings().await.is_empty());
    let report = audit(&app, Some(AUDIT)).await;
    assert_eq!(
        report.json["unrecorded"][0]["reason"], "no-recording-started",
        "{:?}",
        report.json
    );
}

#[tokio::test]
async fn labelled_counters_exist_at_zero_from_the_start() {
    let sim = Sim::start().await;
    let (_, _app) = net_backend(&sim);
    let text = recording_backend::metrics::render();
    let mut wanted = vec![
        "recording_backend_safety_net_pending ".to_string(),
        "recording_backend_safety_net_started_total ".to_string(),
    ];
    for r in recording_backend::metrics::MISSED_REASONS {
        wanted.push(format!(
            "recording_backend_recordings_missed_total{{reason=\"{r}\"}}"
        ));
    }
    for r in recording_backend::metrics::FAILED_REASONS {
        wanted.push(format!(
            "recording_backend_recordings_failed_total{{reason=\"{r}\"}}"
        ));
    }
    for t in recording_backend::metrics::EVENT_TYPES {
        for o in recording_backend::metrics::EVENT_OUTCOMES {
            wanted.push(format!(
                "recording_backend_events_total{{type=\"{t}\",outcome=\"{o}\"}}"
            ));
        }
    }
    for w in wanted {
        assert!(
            text.lines().any(|l| l.starts_with(&w)),
            "{w} missing from /metrics"
        );
    }
}
