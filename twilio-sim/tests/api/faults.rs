//! Faults a test arms: the next REST requests failing (on any path or one),
//! latency, and a concurrent write that makes the next write stale.

use crate::common::{send, Auth};
use crate::{
    assert_twilio_error, control, recordings_path, rest, scene, task_path, write_attributes, CA, WT,
};
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn fail_next_counts_rest_requests_only() {
    let app = scene().await;
    let f = control(
        &app,
        Method::POST,
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 2}}),
    )
    .await;
    assert_eq!(f.status, StatusCode::OK);
    // Control calls in between neither fail nor use up the count.
    control(&app, Method::GET, "/state", Value::Null).await;
    let first = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_twilio_error(&first, 429, 20429);
    control(&app, Method::GET, "/log", Value::Null).await;
    // Any path counts, even without credentials.
    let second = send(
        &app,
        Method::POST,
        &recordings_path(CA),
        Auth::None,
        &[],
        None,
    )
    .await;
    assert_twilio_error(&second, 429, 20429);
    let third = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(third.status, StatusCode::OK);

    let log = control(&app, Method::GET, "/log", Value::Null).await;
    let entries = log.body.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3, "only REST requests are logged");
    let statuses: Vec<_> = entries.iter().map(|e| e["status"].clone()).collect();
    assert_eq!(statuses, vec![json!(429), json!(429), json!(200)]);
    assert_eq!(entries[0]["responseBody"]["code"], json!(20429));
    assert_eq!(entries[0]["seq"], json!(0));
    assert_eq!(entries[2]["seq"], json!(2));
    assert_eq!(entries[2]["path"], json!(task_path(WT)));
}

#[tokio::test]
async fn a_failed_read_does_not_use_up_a_concurrent_write() {
    let app = scene().await;
    control(&app, Method::POST, "/faults", json!({"concurrentWrite": {"taskSid": WT, "attributes": {"x": 1}}, "failNext": {"status": 503, "code": 20503, "count": 1}})).await;
    let failed = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_twilio_error(&failed, 503, 20503);
    // The failed GET was not an answer with the task, so the write is still due.
    let read = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(read.headers[header::ETAG], "\"0\"");
    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["tasks"][WT]["revision"], json!(1));
    assert_eq!(state.body["tasks"][WT]["attributes"]["x"], json!(1));
    assert_eq!(state.body["faults"]["concurrentWrites"], json!([]));
}

#[tokio::test]
async fn latency_delays_rest_answers_not_control() {
    let app = scene().await;
    control(&app, Method::POST, "/faults", json!({"latencyMs": 150})).await;
    let t = Instant::now();
    let a = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    control(&app, Method::GET, "/state", Value::Null).await;
    assert!(t.elapsed() < Duration::from_millis(150));
    let log = control(&app, Method::GET, "/log", Value::Null).await;
    assert_eq!(log.body[0]["latencyMs"], json!(150));
}

#[tokio::test]
async fn concurrent_write_makes_the_next_write_stale_once() {
    let app = scene().await;
    let f = control(
        &app,
        Method::POST,
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {"conversations": {"b": 2}, "other": true}}}),
    )
    .await;
    assert_eq!(f.status, StatusCode::OK, "{:?}", f.body);

    let read = rest(&app, Method::GET, &task_path(WT), None).await;
    let etag = read.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_string();
    // The answer shows the task as it was before the other writer.
    let seen: Value =
        serde_json::from_str(read.body["attributes"].as_str().unwrap_or("{}")).expect("json");
    assert!(seen.get("other").is_none());

    let stale = write_attributes(&app, WT, "{\"mine\":1}", &etag).await;
    assert_twilio_error(&stale, 412, 20412);

    // Re-read sees the deep-merged write, and a write with that ETag succeeds.
    let reread = rest(&app, Method::GET, &task_path(WT), None).await;
    let merged: Value =
        serde_json::from_str(reread.body["attributes"].as_str().unwrap_or("{}")).expect("json");
    assert_eq!(merged["conversations"], json!({"a": 1, "b": 2}));
    assert_eq!(merged["other"], json!(true));
    assert_eq!(merged["call_sid"], json!(CA));
    let etag = reread.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_string();
    let ok = write_attributes(&app, WT, "{\"mine\":1}", &etag).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
}

#[tokio::test]
async fn concurrent_write_armed_after_the_read_lands_before_the_write() {
    let app = scene().await;
    let read = rest(&app, Method::GET, &task_path(WT), None).await;
    let etag = read.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_string();
    let f = control(
        &app,
        Method::POST,
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {"other": true}}}),
    )
    .await;
    assert_eq!(f.status, StatusCode::OK, "{:?}", f.body);

    let stale = write_attributes(&app, WT, "{\"mine\":1}", &etag).await;
    assert_twilio_error(&stale, 412, 20412);
    let reread = rest(&app, Method::GET, &task_path(WT), None).await;
    let merged: Value =
        serde_json::from_str(reread.body["attributes"].as_str().unwrap_or("{}")).expect("json");
    assert_eq!(merged["other"], json!(true));
    assert_eq!(merged["call_sid"], json!(CA));
    assert!(merged.get("mine").is_none());
    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["faults"]["concurrentWrites"], json!([]));
}

#[tokio::test]
async fn fail_next_can_aim_at_one_path() {
    let app = scene().await;
    let a = control(
        &app,
        Method::POST,
        "/faults",
        json!({"failNext": {"status": 400, "code": 21220, "count": 1, "path": "/Reservations", "method": "GET"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // Other paths are answered as usual and do not use the fault up.
    let task = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(task.status, StatusCode::OK);
    let res = rest(
        &app,
        Method::GET,
        &format!("{}/Reservations", task_path(WT)),
        None,
    )
    .await;
    assert_twilio_error(&res, 400, 21220);
    let again = rest(
        &app,
        Method::GET,
        &format!("{}/Reservations", task_path(WT)),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
}
