//! Recording status updates (pause, resume, stop) and Flex's own conference
//! recording, driven in-process with `oneshot`.

use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use twilio_sim::{app, SimConfig, SimState};

mod common;
use common::{send, Auth, AC};

const CA: &str = "CA00000000000000000000000000000001";
const CA2: &str = "CA00000000000000000000000000000002";
const CF: &str = "CF00000000000000000000000000000001";
const WT: &str = "WT00000000000000000000000000000001";
const WK: &str = "WK00000000000000000000000000000001";

async fn control(app: &Router, method: Method, path: &str, body: Value) -> Value {
    let a = send(
        app,
        method,
        &format!("/_sim{path}"),
        Auth::None,
        &[],
        Some(("application/json", body.to_string())),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
    a.body
}

async fn rest(app: &Router, method: Method, path: &str, form: Option<&str>) -> (StatusCode, Value) {
    let a = send(
        app,
        method,
        &format!("/2010-04-01/Accounts/{AC}{path}"),
        Auth::Account,
        &[],
        form.map(|f| ("application/x-www-form-urlencoded", f.to_string())),
    )
    .await;
    (a.status, a.body)
}

async fn with_calls() -> Router {
    let app = app(SimState::new(SimConfig::default()));
    for ca in [CA, CA2] {
        control(&app, Method::POST, "/calls", json!({"callSid": ca})).await;
    }
    app
}

async fn start(app: &Router, call: &str) -> String {
    let (status, v) = rest(
        app,
        Method::POST,
        &format!("/Calls/{call}/Recordings.json"),
        Some("RecordingChannels=dual"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["sid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn call_recording_transitions_table() {
    // (from, form, expected HTTP status, expected Twilio code or resulting status)
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        (
            "in-progress",
            "Status=paused&PauseBehavior=skip",
            200,
            "paused",
        ),
        ("in-progress", "Status=paused", 200, "paused"),
        ("in-progress", "Status=in-progress", 200, "in-progress"),
        ("in-progress", "Status=stopped", 200, "stopped"),
        ("paused", "Status=in-progress", 200, "in-progress"),
        (
            "paused",
            "Status=paused&PauseBehavior=silence",
            200,
            "paused",
        ),
        ("paused", "Status=stopped", 200, "stopped"),
        ("stopped", "Status=in-progress", 400, "21220"),
        ("stopped", "Status=paused", 400, "21220"),
        ("stopped", "Status=stopped", 400, "21220"),
        ("completed", "Status=paused", 400, "21220"),
        ("completed", "Status=in-progress", 400, "21220"),
        ("in-progress", "Status=completed", 400, "20001"),
        ("in-progress", "Status=pause", 400, "20001"),
        ("in-progress", "PauseBehavior=skip", 400, "20001"),
        (
            "in-progress",
            "Status=paused&PauseBehavior=mute",
            400,
            "20001",
        ),
    ];
    for (from, form, want_status, want) in cases {
        let app = with_calls().await;
        let re = start(&app, CA).await;
        let path = format!("/Calls/{CA}/Recordings/{re}.json");
        match from {
            "paused" => assert_eq!(
                rest(&app, Method::POST, &path, Some("Status=paused"))
                    .await
                    .0,
                StatusCode::OK
            ),
            "stopped" => assert_eq!(
                rest(&app, Method::POST, &path, Some("Status=stopped"))
                    .await
                    .0,
                StatusCode::OK
            ),
            "completed" => {
                control(&app, Method::POST, &format!("/calls/{CA}/end"), json!({})).await;
            }
            _ => {}
        }
        let (status, body) = rest(&app, Method::POST, &path, Some(form)).await;
        assert_eq!(status.as_u16(), want_status, "{from} + {form}: {body}");
        if want_status == 200 {
            assert_eq!(body["status"], json!(want), "{from} + {form}");
            assert_eq!(body["sid"], json!(re));
            let (_, fetched) = rest(&app, Method::GET, &path, None).await;
            assert_eq!(
                fetched["status"],
                json!(want),
                "fetch after {from} + {form}"
            );
        } else {
            assert_eq!(body["code"].to_string(), want, "{from} + {form}: {body}");
            assert_eq!(body["status"], json!(want_status));
            assert!(body["more_info"].as_str().unwrap().ends_with(want));
        }
    }
}

#[tokio::test]
async fn pause_behavior_is_kept_and_a_paused_recording_completes_with_its_call() {
    let app = with_calls().await;
    let re = start(&app, CA).await;
    let path = format!("/Calls/{CA}/Recordings/{re}.json");
    assert_eq!(
        rest(
            &app,
            Method::POST,
            &path,
            Some("Status=paused&PauseBehavior=skip")
        )
        .await
        .0,
        StatusCode::OK
    );
    let state = control(&app, Method::GET, "/state", json!({})).await;
    assert_eq!(state["recordings"][0]["status"], json!("paused"));
    assert_eq!(state["recordings"][0]["pauseBehavior"], json!("skip"));
    control(&app, Method::POST, &format!("/calls/{CA}/end"), json!({})).await;
    let (_, fetched) = rest(&app, Method::GET, &path, None).await;
    assert_eq!(fetched["status"], json!("completed"));
}

#[tokio::test]
async fn unknown_recordings_and_twilio_current() {
    let app = with_calls().await;
    // No recording at all: 404 for a SID; Twilio.CURRENT names nothing
    // recording, 21220 (what the flex-project-template reads as "nothing to
    // pause").
    let unknown = "RE0000000000000000000000000000dead";
    let (s, b) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/{unknown}.json"),
        Some("Status=paused"),
    )
    .await;
    assert_eq!((s.as_u16(), b["code"].as_i64()), (404, Some(20404)));
    let (s, b) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/Twilio.CURRENT.json"),
        Some("Status=paused"),
    )
    .await;
    assert_eq!((s.as_u16(), b["code"].as_i64()), (400, Some(21220)), "{b}");
    // Another call's recording is not this call's.
    let other = start(&app, CA2).await;
    let (s, _) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/{other}.json"),
        Some("Status=paused"),
    )
    .await;
    assert_eq!(s.as_u16(), 404);
    // One active recording: Twilio.CURRENT is it.
    let first = start(&app, CA).await;
    let (s, b) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/Twilio.CURRENT.json"),
        Some("Status=paused"),
    )
    .await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(b["sid"], json!(first));
    // Two: ambiguous.
    start(&app, CA).await;
    let (s, b) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/Twilio.CURRENT.json"),
        Some("Status=in-progress"),
    )
    .await;
    assert_eq!((s.as_u16(), b["code"].as_i64()), (400, Some(16108)), "{b}");
    // A malformed path (no .json) is not found.
    let (s, _) = rest(
        &app,
        Method::POST,
        &format!("/Calls/{CA}/Recordings/{first}"),
        Some("Status=paused"),
    )
    .await;
    assert_eq!(s.as_u16(), 404);
}

async fn conference(app: &Router, joined: &[(&str, &str)]) {
    let participants: Vec<Value> = joined
        .iter()
        .map(|(ca, status)| json!({"callSid": ca, "participantType": if *ca == CA { "customer" } else { "worker" }, "status": status, "workerSid": WK}))
        .collect();
    control(
        &app.clone(),
        Method::PUT,
        &format!("/conferences/{CF}"),
        json!({"taskSid": WT, "participants": participants}),
    )
    .await;
}

#[tokio::test]
async fn flex_records_the_conference_when_the_accept_asked() {
    // (conferenceRecord of the accept, Flex's Call Recording setting, recorded?)
    let cases: Vec<(Value, bool, bool)> = vec![
        (json!(true), false, true),
        (json!(false), true, false),
        (json!(null), true, true),
        (json!(null), false, false),
    ];
    for (record, flex_setting, want) in cases {
        let app = with_calls().await;
        control(
            &app,
            Method::PUT,
            "/configuration",
            json!({"callRecordingEnabled": flex_setting}),
        )
        .await;
        control(
            &app,
            Method::PUT,
            &format!("/tasks/{WT}/accept"),
            json!({"conferenceRecord": record}),
        )
        .await;
        conference(&app, &[(CA, "joined")]).await;
        let state = control(&app, Method::GET, "/state", json!({})).await;
        assert_eq!(
            state["conferenceRecordings"],
            json!([]),
            "one participant: not yet"
        );
        conference(&app, &[(CA, "joined"), (CA2, "joined")]).await;
        let state = control(&app, Method::GET, "/state", json!({})).await;
        let recs = state["conferenceRecordings"].as_array().unwrap();
        assert_eq!(
            recs.len(),
            usize::from(want),
            "{record} / {flex_setting}: {state}"
        );
        // Call recordings are not conference recordings.
        assert_eq!(state["recordings"], json!([]));
    }
}

#[tokio::test]
async fn conference_recording_pause_list_and_end() {
    let app = with_calls().await;
    control(
        &app,
        Method::PUT,
        &format!("/tasks/{WT}/accept"),
        json!({"conferenceRecord": true}),
    )
    .await;
    conference(&app, &[(CA, "joined"), (CA2, "joined")]).await;
    // Re-announcing the conference does not start a second recording.
    conference(&app, &[(CA, "joined"), (CA2, "joined")]).await;
    let (s, list) = rest(
        &app,
        Method::GET,
        &format!("/Conferences/{CF}/Recordings.json"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let recs = list["recordings"].as_array().unwrap();
    assert_eq!(recs.len(), 1, "{list}");
    assert_eq!(recs[0]["conference_sid"], json!(CF));
    assert_eq!(recs[0]["source"], json!("Conference"));
    assert_eq!(recs[0]["status"], json!("in-progress"));
    let re = recs[0]["sid"].as_str().unwrap().to_string();
    let path = format!("/Conferences/{CF}/Recordings/{re}.json");
    let (s, b) = rest(
        &app,
        Method::POST,
        &path,
        Some("Status=paused&PauseBehavior=silence"),
    )
    .await;
    assert_eq!((s, b["status"].clone()), (StatusCode::OK, json!("paused")));
    let (_, b) = rest(&app, Method::GET, &path, None).await;
    assert_eq!(b["status"], json!("paused"));
    let (s, b) = rest(
        &app,
        Method::POST,
        &format!("/Conferences/{CF}/Recordings/Twilio.CURRENT.json"),
        Some("Status=in-progress"),
    )
    .await;
    assert_eq!(
        (s, b["status"].clone()),
        (StatusCode::OK, json!("in-progress"))
    );
    // The worker leaves: the conference goes on, so does its recording.
    conference(&app, &[(CA, "joined"), (CA2, "left")]).await;
    control(&app, Method::POST, &format!("/calls/{CA2}/end"), json!({})).await;
    let (_, b) = rest(&app, Method::GET, &path, None).await;
    assert_eq!(b["status"], json!("in-progress"));
    // The last call ends: the recording completes and can no longer be paused.
    control(&app, Method::POST, &format!("/calls/{CA}/end"), json!({})).await;
    let (_, b) = rest(&app, Method::GET, &path, None).await;
    assert_eq!(b["status"], json!("completed"));
    let (s, b) = rest(&app, Method::POST, &path, Some("Status=paused")).await;
    assert_eq!((s.as_u16(), b["code"].as_i64()), (400, Some(21220)));
    // An unknown conference lists nothing.
    let (s, list) = rest(
        &app,
        Method::GET,
        "/Conferences/CF0000000000000000000000000000dead/Recordings.json",
        None,
    )
    .await;
    assert_eq!((s, list["recordings"].clone()), (StatusCode::OK, json!([])));
}
