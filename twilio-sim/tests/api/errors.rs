//! Twilio's error answers, as a table, and both kinds of credentials.

use crate::common::{send, Auth, AC};
use crate::{
    assert_twilio_error, control, recordings_path, rest, scene, task_path, CA, CA_ENDED,
    CA_UNKNOWN, CF, WT,
};
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};

/// (what, method, uri, auth, form body, expected status, expected Twilio code)
type ErrorCase<'a> = (&'a str, Method, String, Auth, Option<&'a str>, u16, i64);

#[tokio::test]
async fn error_cases_table() {
    let app = scene().await;
    let other_ac = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let other_ws = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    // (what, method, uri, auth, form body, status, Twilio code)
    let cases: Vec<ErrorCase> = vec![
        ("no auth", Method::GET, task_path(WT), Auth::None, None, 401, 20003),
        ("wrong secret", Method::GET, task_path(WT), Auth::Wrong, None, 401, 20003),
        ("no auth on unknown path", Method::GET, "/nowhere".into(), Auth::None, None, 401, 20003),
        ("unknown path", Method::GET, "/nowhere".into(), Auth::Account, None, 404, 20404),
        ("other account", Method::GET, format!("/2010-04-01/Accounts/{other_ac}/Calls/{CA}.json"), Auth::Account, None, 404, 20404),
        ("other workspace", Method::GET, format!("/v1/Workspaces/{other_ws}/Tasks/{WT}"), Auth::Account, None, 404, 20404),
        ("unknown call fetch", Method::GET, format!("/2010-04-01/Accounts/{AC}/Calls/{CA_UNKNOWN}.json"), Auth::Account, None, 404, 20404),
        ("call fetch without .json", Method::GET, format!("/2010-04-01/Accounts/{AC}/Calls/{CA}"), Auth::Account, None, 404, 20404),
        ("recording on unknown call", Method::POST, recordings_path(CA_UNKNOWN), Auth::Account, Some("RecordingChannels=dual"), 404, 20404),
        ("recording on ended call", Method::POST, recordings_path(CA_ENDED), Auth::Account, Some("RecordingChannels=dual"), 400, 21220),
        ("bad RecordingChannels", Method::POST, recordings_path(CA), Auth::Account, Some("RecordingChannels=stereo"), 400, 20001),
        ("bad RecordingTrack", Method::POST, recordings_path(CA), Auth::Account, Some("RecordingTrack=sideways"), 400, 20001),
        ("bad callback event", Method::POST, recordings_path(CA), Auth::Account, Some("RecordingStatusCallbackEvent=started"), 400, 20001),
        ("bad PageSize", Method::GET, format!("{}?PageSize=0", recordings_path(CA)), Auth::Account, None, 400, 20001),
        ("participant who left", Method::GET, format!("/2010-04-01/Accounts/{AC}/Conferences/{CF}/Participants/{CA_ENDED}.json"), Auth::Account, None, 404, 20404),
        ("participant of unknown conference", Method::GET, format!("/2010-04-01/Accounts/{AC}/Conferences/CF0000000000000000000000000000dead/Participants/{CA}.json"), Auth::Account, None, 404, 20404),
        ("unknown task", Method::GET, task_path("WT0000000000000000000000000000dead"), Auth::Account, None, 404, 20404),
        ("task attributes not JSON", Method::POST, task_path(WT), Auth::Account, Some("Attributes=%7Bnope"), 400, 20001),
        ("task attributes not an object", Method::POST, task_path(WT), Auth::Account, Some("Attributes=%5B1%5D"), 400, 20001),
        ("reservations of unknown task", Method::GET, format!("{}/Reservations", task_path("WT0000000000000000000000000000dead")), Auth::Account, None, 404, 20404),
        ("reservations bad status filter", Method::GET, format!("{}/Reservations?ReservationStatus=happy", task_path(WT)), Auth::Account, None, 400, 20001),
        ("token check bad JSON", Method::POST, format!("/v1/Accounts/{AC}/Tokens/validate"), Auth::Account, Some("{"), 400, 20001),
        ("token check other account", Method::POST, format!("/v1/Accounts/{other_ac}/Tokens/validate"), Auth::Account, Some("{\"token\":\"tok-1\"}"), 404, 20404),
        ("method not allowed", Method::DELETE, task_path(WT), Auth::Account, None, 405, 20004),
    ];
    for (what, method, uri, auth, form, status, code) in cases {
        let a = send(
            &app,
            method,
            &uri,
            auth,
            &[],
            form.map(|f| ("application/x-www-form-urlencoded", f.to_string())),
        )
        .await;
        assert_eq!(a.status.as_u16(), status, "{what}: {:?}", a.body);
        assert_twilio_error(&a, status, code);
        if status == 401 {
            assert!(a.headers.contains_key(header::WWW_AUTHENTICATE), "{what}");
        }
    }
    let a = rest(&app, Method::POST, &recordings_path(CA_ENDED), None).await;
    assert_eq!(
        a.body["message"],
        json!("Call is not in-progress. Cannot create recording.")
    );
    // None of the rejected requests created anything.
    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["recordings"], json!([]));
}

#[tokio::test]
async fn both_credentials_are_accepted() {
    let app = scene().await;
    for auth in [Auth::Account, Auth::ApiKey] {
        let a = send(&app, Method::GET, &task_path(WT), auth, &[], None).await;
        assert_eq!(a.status, StatusCode::OK);
    }
}
