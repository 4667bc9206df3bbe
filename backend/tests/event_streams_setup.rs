//! `recording-backend event-streams setup`: the Events API requests it makes,
//! checked against Twilio's contract (`tests/contract/twilio-openapi/`) by a
//! real HTTP server standing in for events.twilio.com.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Form, Json, Router};
use common::*;
use recording_backend::event_streams_setup::{self, EVENT_TYPES};
use recording_backend::twilio::TwilioClient;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

async fn events_api(seen: Seen) -> String {
    let sinks = |State(seen): State<Seen>, Form(form): Form<Vec<(String, String)>>| async move {
        seen.lock().unwrap().push(("/v1/Sinks".into(), form));
        Json(json!({"sid": "DG0123456789abcdef0123456789abcdef", "status": "initialized"}))
    };
    let subscriptions = |State(seen): State<Seen>, Form(form): Form<Vec<(String, String)>>| async move {
        seen.lock()
            .unwrap()
            .push(("/v1/Subscriptions".into(), form));
        Json(json!({"sid": "DF0123456789abcdef0123456789abcdef"}))
    };
    let app = Router::new()
        .route("/v1/Sinks", post(sinks))
        .route("/v1/Subscriptions", post(subscriptions))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn contract() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/contract/twilio-openapi/twilio_recording_contract.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn required(contract: &Value, path: &str) -> Vec<String> {
    contract["paths"][path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        ["schema"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn setup_creates_the_sink_and_subscribes_it_as_the_contract_says() {
    let seen: Seen = Arc::default();
    let url = events_api(seen.clone()).await;
    let config = config(&url, &[], &[]);
    let twilio = TwilioClient::new(&config, test_retry()).unwrap();
    let out = event_streams_setup::run(&twilio, "https://recordings.example.com/")
        .await
        .unwrap();
    assert!(out.contains("DG0123456789abcdef0123456789abcdef"), "{out}");
    let contract = contract();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (path, form) in &seen {
        for field in required(&contract, path) {
            assert!(
                form.iter().any(|(k, _)| *k == field),
                "{path} lacks {field}: {form:?}"
            );
        }
    }
    let get = |form: &[(String, String)], k: &str| -> Vec<String> {
        form.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let sink = &seen[0].1;
    let sink_types = contract["components"]["schemas"]["sink_enum_sink_type"]["enum"].clone();
    assert!(sink_types.as_array().unwrap().contains(&json!("webhook")));
    assert_eq!(get(sink, "SinkType"), ["webhook"]);
    let configuration: Value = serde_json::from_str(&get(sink, "SinkConfiguration")[0]).unwrap();
    assert_eq!(
        configuration["destination"],
        "https://recordings.example.com/twilio/event-streams"
    );
    assert_eq!(configuration["method"], "POST");
    let sub = &seen[1].1;
    assert_eq!(get(sub, "SinkSid"), ["DG0123456789abcdef0123456789abcdef"]);
    let types: Vec<String> = get(sub, "Types")
        .iter()
        .map(|t| {
            serde_json::from_str::<Value>(t).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, EVENT_TYPES);
}
