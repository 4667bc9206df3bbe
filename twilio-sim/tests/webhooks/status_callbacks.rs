//! Recording status callbacks: signed forms for the events asked, and
//! `failRecording`.

use crate::common::{send, Auth, AC};
use crate::{control, hmac_b64, receiver, Received, CA};
use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use std::time::Duration;
use twilio_sim::{app, SimConfig, SimState};

/// Checks a form callback as Twilio signs it: URL, then each parameter
/// sorted by name, name then value. Returns the parameters.
fn check_signed_form(base: &str, r: &Received) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = serde_urlencoded::from_bytes(&r.body).unwrap();
    params.sort();
    let mut data = format!("{base}{}", r.target);
    for (k, v) in &params {
        data.push_str(k);
        data.push_str(v);
    }
    assert_eq!(r.signature.as_deref(), Some(hmac_b64(&data).as_str()));
    params
}

fn param<'a>(params: &'a [(String, String)], k: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

async fn create_recording(app: &Router, callback: &str) -> Value {
    let form = format!(
        "RecordingChannels=dual&RecordingStatusCallback={}&RecordingStatusCallbackEvent=in-progress%20completed%20absent",
        urlencode(callback)
    );
    let a = send(
        app,
        Method::POST,
        &format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json"),
        Auth::Account,
        &[],
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn recording_status_callbacks_are_signed_forms_for_the_events_asked() {
    // (failRecording status, if any; callbacks' RecordingStatus; their ErrorCode; REST status at the end)
    type Case<'a> = (Option<&'a str>, Vec<&'a str>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (None, vec!["in-progress", "completed"], None, "completed"),
        (
            Some("absent"),
            vec!["in-progress", "absent"],
            Some("16102"),
            "absent",
        ),
        (
            Some("failed"),
            vec!["in-progress", "failed"],
            Some("16105"),
            "absent",
        ),
    ];
    for (fail, statuses, code, rest_status) in cases {
        let app = app(SimState::new(SimConfig::default()));
        let r = receiver(vec![]).await;
        control(&app, Method::POST, "/calls", json!({"callSid": CA})).await;
        if let Some(f) = fail {
            control(
                &app,
                Method::POST,
                "/faults",
                json!({"failRecording": {"callSid": CA, "status": f}}),
            )
            .await;
        }
        let callback = format!("{}/twilio/recording-status?replica=1", r.base);
        let rec = create_recording(&app, &callback).await;
        let sid = rec["sid"].as_str().unwrap().to_string();
        if fail.is_none() {
            r.wait_for(1).await;
            control(&app, Method::POST, &format!("/calls/{CA}/end"), json!({})).await;
        }
        let got = r.wait_for(2).await;
        assert_eq!(got.len(), 2, "{fail:?}: {got:?}");
        for (g, want) in got.iter().zip(&statuses) {
            assert_eq!(g.method, "POST");
            assert_eq!(g.target, "/twilio/recording-status?replica=1");
            assert_eq!(
                g.content_type.as_deref(),
                Some("application/x-www-form-urlencoded")
            );
            let p = check_signed_form(&r.base, g);
            assert_eq!(param(&p, "RecordingStatus"), Some(*want), "{fail:?}");
            assert_eq!(param(&p, "RecordingSid"), Some(sid.as_str()));
            assert_eq!(param(&p, "CallSid"), Some(CA));
            assert_eq!(param(&p, "AccountSid"), Some(AC));
            assert_eq!(param(&p, "RecordingChannels"), Some("2"));
            assert_eq!(param(&p, "RecordingSource"), Some("StartCallRecordingAPI"));
            assert_eq!(
                param(&p, "RecordingUrl"),
                Some(
                    format!("https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{sid}")
                        .as_str()
                )
            );
            assert!(param(&p, "RecordingStartTime").is_some());
            let last = *want != "in-progress";
            assert_eq!(
                param(&p, "ErrorCode"),
                if last { code } else { None },
                "{fail:?} {want}"
            );
            assert_eq!(
                param(&p, "RecordingDuration").is_some(),
                last,
                "{fail:?} {want}"
            );
        }
        let a = send(
            &app,
            Method::GET,
            &format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json"),
            Auth::Account,
            &[],
            None,
        )
        .await;
        let listed = &a.body["recordings"][0];
        assert_eq!(listed["status"], rest_status, "{fail:?}");
        assert_eq!(
            listed["error_code"],
            code.map_or(Value::Null, |c| json!(c.parse::<i64>().unwrap()))
        );
    }
}

#[tokio::test]
async fn fail_recording_is_checked_and_hits_only_the_next_recording_of_its_call() {
    let app = app(SimState::new(SimConfig::default()));
    // (body, accepted)
    let cases = [
        (
            json!({"failRecording": {"callSid": CA, "status": "completed"}}),
            false,
        ),
        (
            json!({"failRecording": {"callSid": "CA12", "status": "absent"}}),
            false,
        ),
        (json!({"failRecording": {"callSid": CA}}), false),
        (
            json!({"failRecording": {"callSid": CA, "status": "absent"}}),
            true,
        ),
    ];
    for (body, ok) in cases {
        let a = send(
            &app,
            Method::POST,
            "/_sim/faults",
            Auth::None,
            &[],
            Some(("application/json", body.to_string())),
        )
        .await;
        assert_eq!(a.status == StatusCode::OK, ok, "{body}: {}", a.body);
    }
    let r = receiver(vec![]).await;
    control(&app, Method::POST, "/calls", json!({"callSid": CA})).await;
    let first = create_recording(&app, &format!("{}/cb", r.base)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = create_recording(&app, &format!("{}/cb", r.base)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let state = control(&app, Method::GET, "/state", json!({})).await;
    let status_of = |sid: &Value| {
        state["recordings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["sid"] == *sid)
            .map(|r| r["status"].clone())
    };
    assert_eq!(status_of(&first["sid"]), Some(json!("absent")));
    assert_eq!(status_of(&second["sid"]), Some(json!("in-progress")));
}
