//! TaskRouter: tasks and their revisions, attribute writes and their size
//! limit, reservations listed, fetched and moved through their statuses,
//! workers' attributes.

use crate::{
    assert_twilio_error, control, rest, scene, task_path, write_attributes, CA, WK, WR, WS, WT,
};
use axum::http::{header, Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};

#[tokio::test]
async fn task_get_and_update_with_revisions() {
    let app = scene().await;
    let get = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(get.status, StatusCode::OK);
    let attrs = get.body["attributes"]
        .as_str()
        .expect("attributes is a string");
    let parsed: Value = serde_json::from_str(attrs).expect("attributes is JSON");
    assert_eq!(parsed["call_sid"], json!(CA));
    let etag = get.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_string();
    assert_eq!(etag, "\"0\"");
    let date = get.body["date_created"].as_str().unwrap_or_default();
    assert!(date.ends_with('Z') && date.contains('T'), "{date}");

    let new_attrs = json!({"call_sid": CA, "conversations": {"media": [1]}}).to_string();
    let post = write_attributes(&app, WT, &new_attrs, &etag).await;
    assert_eq!(post.status, StatusCode::OK, "{:?}", post.body);
    assert_eq!(post.headers[header::ETAG], "\"1\"");
    assert_eq!(post.body["attributes"], json!(new_attrs));

    // The old ETag is stale now.
    let stale = write_attributes(&app, WT, &new_attrs, &etag).await;
    assert_twilio_error(&stale, 412, 20412);

    // Unquoted revision is understood as well; no If-Match means unconditional.
    let unquoted = write_attributes(&app, WT, &new_attrs, "1").await;
    assert_eq!(unquoted.status, StatusCode::OK);
    let form = serde_urlencoded::to_string([("Attributes", new_attrs.as_str())]).expect("form");
    let blind = rest(&app, Method::POST, &task_path(WT), Some(&form)).await;
    assert_eq!(blind.status, StatusCode::OK);
    assert_eq!(blind.headers[header::ETAG], "\"3\"");

    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["tasks"][WT]["revision"], json!(3));
    assert_eq!(
        state.body["tasks"][WT]["attributes"]["conversations"]["media"],
        json!([1])
    );
}

#[tokio::test]
async fn reservations_list_and_filters() {
    let app = scene().await;
    let base = format!("{}/Reservations", task_path(WT));
    let all = rest(&app, Method::GET, &base, None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["reservations"][0]["sid"], json!(WR));
    assert_eq!(
        all.body["reservations"][0]["reservation_status"],
        json!("accepted")
    );
    assert_eq!(all.body["meta"]["key"], json!("reservations"));
    let mine = rest(
        &app,
        Method::GET,
        &format!("{base}?WorkerSid={WK}&ReservationStatus=accepted"),
        None,
    )
    .await;
    assert_eq!(mine.body["reservations"].as_array().map(Vec::len), Some(1));
    let other = rest(
        &app,
        Method::GET,
        &format!("{base}?WorkerSid=WK00000000000000000000000000000009"),
        None,
    )
    .await;
    assert_eq!(other.body["reservations"], json!([]));

    let del = control(
        &app,
        Method::DELETE,
        &format!("/reservations/{WR}"),
        Value::Null,
    )
    .await;
    assert_eq!(del.body["removed"], json!(true));
    let none = rest(&app, Method::GET, &base, None).await;
    assert_eq!(none.body["reservations"], json!([]));
}

#[tokio::test]
async fn a_worker_shows_the_attributes_it_was_given() {
    let app = scene().await;
    let path = format!("/v1/Workspaces/{WS}/Workers/{WK}");
    let unknown = rest(&app, Method::GET, &path, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // (attributes given, attributes text answered)
    let cases = [
        (json!({}), "{}"),
        (
            json!({"config_overrides": {"dual_channel_recording": {"enabled": false}}}),
            r#"{"config_overrides":{"dual_channel_recording":{"enabled":false}}}"#,
        ),
    ];
    for (given, text) in cases {
        let put = control(
            &app,
            Method::PUT,
            &format!("/workers/{WK}"),
            json!({"attributes": given}),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        let got = rest(&app, Method::GET, &path, None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body["attributes"], json!(text));
        assert_eq!(got.body["sid"], json!(WK));
        assert_eq!(got.body["workspace_sid"], json!(WS));
    }
    let bad = control(
        &app,
        Method::PUT,
        &format!("/workers/{WK}"),
        json!({"attributes": [1]}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let other_ws = rest(
        &app,
        Method::GET,
        &format!("/v1/Workspaces/WS00000000000000000000000000000009/Workers/{WK}"),
        None,
    )
    .await;
    assert_eq!(other_ws.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn one_reservation_is_fetched_under_its_own_task() {
    let app = scene().await;
    let one = rest(
        &app,
        Method::GET,
        &format!("{}/Reservations/{WR}", task_path(WT)),
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    assert_eq!(one.body["sid"], json!(WR));
    assert_eq!(one.body["task_sid"], json!(WT));
    assert_eq!(one.body["worker_sid"], json!(WK));
    assert_eq!(one.body["reservation_status"], json!("accepted"));
    // Under another task, or unknown: 404 with Twilio's body.
    let other_task = rest(
        &app,
        Method::GET,
        &format!(
            "{}/Reservations/{WR}",
            task_path("WT000000000000000000000000000000ee")
        ),
        None,
    )
    .await;
    assert_twilio_error(&other_task, 404, 20404);
    let unknown = rest(
        &app,
        Method::GET,
        &format!(
            "{}/Reservations/WR000000000000000000000000000000ee",
            task_path(WT)
        ),
        None,
    )
    .await;
    assert_twilio_error(&unknown, 404, 20404);
}

async fn reservation_status(app: &Router) -> (Value, Value) {
    let state = control(app, Method::GET, "/state", Value::Null).await;
    let r = state.body["reservations"][0]["status"].clone();
    (r, state.body["tasks"][WT]["assignmentStatus"].clone())
}

#[tokio::test]
async fn reservation_lifecycle_accepted_wrapping_completed() {
    let app = scene().await;
    let path = format!("/reservations/{WR}/status");
    let a = control(&app, Method::POST, &path, json!({"status": "wrapping"})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        reservation_status(&app).await,
        (json!("wrapping"), json!("wrapping"))
    );
    // TaskRouter shows it too, and a task status change is a new revision.
    let one = rest(
        &app,
        Method::GET,
        &format!("{}/Reservations/{WR}", task_path(WT)),
        None,
    )
    .await;
    assert_eq!(one.body["reservation_status"], json!("wrapping"));
    let task = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_eq!(task.body["assignment_status"], json!("wrapping"));
    assert_eq!(task.headers[header::ETAG], "\"1\"");
    // Repeating is harmless; going back is refused.
    let again = control(&app, Method::POST, &path, json!({"status": "wrapping"})).await;
    assert_eq!(again.status, StatusCode::OK);
    let back = control(&app, Method::POST, &path, json!({"status": "accepted"})).await;
    assert_eq!(back.status, StatusCode::CONFLICT, "{:?}", back.body);
    let done = control(&app, Method::POST, &path, json!({"status": "completed"})).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(
        reservation_status(&app).await,
        (json!("completed"), json!("completed"))
    );
    let bad = control(&app, Method::POST, &path, json!({"status": "wrapping"})).await;
    assert_eq!(bad.status, StatusCode::CONFLICT);
    let unknown = control(
        &app,
        Method::POST,
        "/reservations/WR000000000000000000000000000000ee/status",
        json!({"status": "wrapping"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn completing_from_accepted_is_allowed() {
    let app = scene().await;
    let a = control(
        &app,
        Method::POST,
        &format!("/reservations/{WR}/status"),
        json!({"status": "completed"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        reservation_status(&app).await,
        (json!("completed"), json!("completed"))
    );
}

/// Attributes `{"k":"xxx..."}` exactly `chars` characters long.
fn attributes_of_length(chars: usize) -> String {
    let text = format!("{{\"k\":\"{}\"}}", "x".repeat(chars - 8));
    assert_eq!(text.chars().count(), chars);
    text
}

#[tokio::test]
async fn attribute_writes_over_4096_characters_are_refused_and_change_nothing() {
    for (chars, accepted) in [(4095, true), (4096, true), (4097, false), (20_000, false)] {
        let app = scene().await;
        let before =
            control(&app, Method::GET, "/state", Value::Null).await.body["tasks"][WT].clone();
        let text = attributes_of_length(chars);
        let a = write_attributes(&app, WT, &text, "\"0\"").await;
        let after =
            control(&app, Method::GET, "/state", Value::Null).await.body["tasks"][WT].clone();
        if accepted {
            assert_eq!(a.status, StatusCode::OK, "{chars}: {:?}", a.body);
            assert_eq!(after["revision"], json!(1));
        } else {
            assert_twilio_error(&a, 400, 20001);
            let m = a.body["message"].as_str().unwrap_or_default();
            assert!(m.contains(&chars.to_string()) && m.contains("4096"), "{m}");
            assert_eq!(after, before, "{chars}: nothing changes");
        }
    }
    // Characters, not bytes: 4096 characters of multi-byte text are accepted.
    let app = scene().await;
    let text = format!("{{\"k\":\"{}\"}}", "é".repeat(4096 - 8));
    let form = serde_urlencoded::to_string([("Attributes", text.as_str())]).expect("form");
    let a = rest(&app, Method::POST, &task_path(WT), Some(&form)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}
