//! Programmable Voice: recordings created, listed and completed with their
//! call; calls and conference participants fetched.

use crate::common::AC;
use crate::{control, recordings_path, rest, scene, CA, CA_ENDED, CA_UNKNOWN, CF};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

fn is_sid(v: &Value, prefix: &str) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[tokio::test]
async fn create_and_list_recordings() {
    let app = scene().await;
    let form = "RecordingChannels=dual&RecordingTrack=both&Trim=do-not-trim\
        &RecordingStatusCallback=https%3A%2F%2Fexample.com%2Fcb\
        &RecordingStatusCallbackEvent=in-progress%20completed&RecordingStatusCallbackEvent=absent";
    let a = rest(&app, Method::POST, &recordings_path(CA), Some(form)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let r = &a.body;
    assert!(is_sid(&r["sid"], "RE"));
    assert_eq!(r["call_sid"], json!(CA));
    assert_eq!(r["account_sid"], json!(AC));
    assert_eq!(r["status"], json!("in-progress"));
    assert_eq!(r["channels"], json!(2));
    assert_eq!(r["source"], json!("StartCallRecordingAPI"));
    assert_eq!(r["track"], json!("both"));
    assert_eq!(r["conference_sid"], Value::Null);
    assert_eq!(r["duration"], Value::Null);
    let start = r["start_time"].as_str().unwrap_or_default();
    assert!(start.ends_with(" +0000") && start.len() == 31, "{start}");
    for field in [
        "account_sid",
        "api_version",
        "call_sid",
        "conference_sid",
        "date_created",
        "date_updated",
        "start_time",
        "duration",
        "sid",
        "price",
        "uri",
        "encryption_details",
        "price_unit",
        "status",
        "channels",
        "source",
        "error_code",
        "track",
    ] {
        assert!(r.get(field).is_some(), "missing {field}");
    }

    // A second, mono recording on the same call is allowed and kept.
    let b = rest(
        &app,
        Method::POST,
        &recordings_path(CA),
        Some("RecordingChannels=mono"),
    )
    .await;
    assert_eq!(b.status, StatusCode::CREATED);
    assert_eq!(b.body["channels"], json!(1));
    assert_ne!(a.body["sid"], b.body["sid"]);

    let list = rest(&app, Method::GET, &recordings_path(CA), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let recs = list.body["recordings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["sid"], b.body["sid"], "newest first");
    assert_eq!(list.body["page"], json!(0));
    assert_eq!(list.body["page_size"], json!(50));
    assert_eq!(list.body["next_page_uri"], Value::Null);

    let paged = rest(
        &app,
        Method::GET,
        &format!("{}?PageSize=1", recordings_path(CA)),
        None,
    )
    .await;
    assert_eq!(paged.body["recordings"].as_array().map(Vec::len), Some(1));
    assert!(paged.body["next_page_uri"].as_str().is_some());

    let other = rest(&app, Method::GET, &recordings_path(CA_ENDED), None).await;
    assert_eq!(other.body["recordings"], json!([]));

    let state = control(&app, Method::GET, "/state", Value::Null).await;
    let recs = &state.body["recordings"];
    assert_eq!(recs[0]["sid"], a.body["sid"], "creation order");
    assert_eq!(recs[0]["channels"], json!("dual"));
    assert_eq!(recs[0]["callSid"], json!(CA));
    assert_eq!(recs[0]["statusCallback"], json!("https://example.com/cb"));
    assert_eq!(
        recs[0]["statusCallbackEvent"],
        json!(["in-progress", "completed", "absent"])
    );
    assert_eq!(recs[1]["channels"], json!("mono"));
}

#[tokio::test]
async fn ending_a_call_completes_its_recordings() {
    let app = scene().await;
    let a = rest(
        &app,
        Method::POST,
        &recordings_path(CA),
        Some("RecordingChannels=dual"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let end = control(&app, Method::POST, &format!("/calls/{CA}/end"), Value::Null).await;
    assert_eq!(end.status, StatusCode::OK);
    assert_eq!(end.body["status"], json!("completed"));

    let list = rest(&app, Method::GET, &recordings_path(CA), None).await;
    assert_eq!(list.body["recordings"][0]["status"], json!("completed"));
    assert!(list.body["recordings"][0]["duration"].as_str().is_some());
    let call = rest(
        &app,
        Method::GET,
        &format!("/2010-04-01/Accounts/{AC}/Calls/{CA}.json"),
        None,
    )
    .await;
    assert_eq!(call.body["status"], json!("completed"));
    assert!(call.body["end_time"].as_str().is_some());
    let again = rest(&app, Method::POST, &recordings_path(CA), None).await;
    assert_eq!(again.body["code"], json!(21220));

    let unknown = control(
        &app,
        Method::POST,
        &format!("/calls/{CA_UNKNOWN}/end"),
        Value::Null,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn call_and_participant_fetch() {
    let app = scene().await;
    let call = rest(
        &app,
        Method::GET,
        &format!("/2010-04-01/Accounts/{AC}/Calls/{CA}.json"),
        None,
    )
    .await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(call.body["sid"], json!(CA));
    assert_eq!(call.body["from"], json!("+15551230000"));
    assert_eq!(call.body["to"], json!("client:agent"));
    assert_eq!(call.body["status"], json!("in-progress"));

    let p = rest(
        &app,
        Method::GET,
        &format!("/2010-04-01/Accounts/{AC}/Conferences/{CF}/Participants/{CA}.json"),
        None,
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["call_sid"], json!(CA));
    assert_eq!(p.body["conference_sid"], json!(CF));
    assert_eq!(p.body["status"], json!("connected"));
}
