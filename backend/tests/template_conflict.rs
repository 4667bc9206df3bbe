//! The plugin's own block with a flex-project-template feature on as well:
//! the backend says so in `/metrics` (its own test binary, since the gauge
//! is process-wide and every policy read sets it).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};

async fn metrics(app: &axum::Router) -> String {
    let req = Request::builder()
        .method(Method::GET)
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn gauge(text: &str, feature: &str) -> Option<f64> {
    let prefix = format!("recording_backend_template_feature_conflict{{feature=\"{feature}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn the_conflict_gauge_follows_the_configuration() {
    // (custom_data, dual_channel_recording gauge, pause_recording gauge)
    let cases: Vec<(Value, f64, f64)> = vec![
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer",
                    "pause_recording": {"enabled": true}},
                   "features": {"dual_channel_recording": {"enabled": true}, "pause_recording": {"enabled": true}}}),
            1.0,
            1.0,
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"},
                   "features": {"dual_channel_recording": {"enabled": false}, "pause_recording": {"enabled": true}}}),
            0.0,
            0.0,
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"},
                   "features": {"dual_channel_recording": {"enabled": true}}}),
            1.0,
            0.0,
        ),
        // Without the own block the template's keys are this plugin's: no conflict.
        (
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"},
                                "pause_recording": {"enabled": true}}}),
            0.0,
            0.0,
        ),
    ];
    for (custom_data, recording, pause) in cases {
        let sim = Sim::start().await;
        sim.scene().await;
        sim.put(
            "/configuration",
            json!({"uiAttributes": {"custom_data": custom_data}, "callRecordingEnabled": false}),
        )
        .await;
        let app = backend_for(&sim);
        let a = create(&app, &customer_request()).await;
        assert_eq!(a.status, StatusCode::OK, "{custom_data}: {}", a.json);
        let text = metrics(&app).await;
        assert_eq!(
            gauge(&text, "dual_channel_recording"),
            Some(recording),
            "{custom_data}"
        );
        assert_eq!(
            gauge(&text, "pause_recording"),
            Some(pause),
            "{custom_data}"
        );
    }
}
