//! The simulator driven in-process through `app(...)` with `oneshot`, as the
//! backend's tests will drive it. One test binary, one file per job: on a
//! small machine fewer binaries link faster.

use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use twilio_sim::{app, SimConfig, SimState};

#[path = "../common/mod.rs"]
mod common;

use common::{send, Answer, Auth, AC};

mod control;
mod errors;
mod faults;
mod taskrouter;
mod token;
mod voice;

const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CA: &str = "CA00000000000000000000000000000001";
const CA_ENDED: &str = "CA00000000000000000000000000000002";
const CA_UNKNOWN: &str = "CA0000000000000000000000000000dead";
const CF: &str = "CF00000000000000000000000000000001";
const WT: &str = "WT00000000000000000000000000000001";
const WR: &str = "WR00000000000000000000000000000001";
const WK: &str = "WK00000000000000000000000000000001";

async fn control(app: &Router, method: Method, path: &str, body: Value) -> Answer {
    send(
        app,
        method,
        &format!("/_sim{path}"),
        Auth::None,
        &[],
        Some(("application/json", body.to_string())),
    )
    .await
}

async fn rest(app: &Router, method: Method, uri: &str, form: Option<&str>) -> Answer {
    send(
        app,
        method,
        uri,
        Auth::Account,
        &[],
        form.map(|f| ("application/x-www-form-urlencoded", f.to_string())),
    )
    .await
}

fn recordings_path(call: &str) -> String {
    format!("/2010-04-01/Accounts/{AC}/Calls/{call}/Recordings.json")
}
fn task_path(task: &str) -> String {
    format!("/v1/Workspaces/{WS}/Tasks/{task}")
}

/// A task attributes write carrying `If-Match: etag`.
async fn write_attributes(app: &Router, task: &str, attributes: &str, etag: &str) -> Answer {
    let form = serde_urlencoded::to_string([("Attributes", attributes)]).expect("form");
    send(
        app,
        Method::POST,
        &task_path(task),
        Auth::Account,
        &[("If-Match", etag)],
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await
}

/// A call in progress, an ended call, a task, a reservation, a conference
/// and a token, as a scenario's first steps would leave them.
async fn scene() -> Router {
    let app = app(SimState::new(SimConfig::default()));
    for (sid, status) in [(CA, "in-progress"), (CA_ENDED, "completed")] {
        let a = control(
            &app,
            Method::POST,
            "/calls",
            json!({"callSid": sid, "status": status, "from": "+15551230000", "to": "client:agent"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
    let a = control(
        &app,
        Method::PUT,
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA, "conversations": {"a": 1}}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = control(
        &app,
        Method::POST,
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "accepted"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = control(
        &app,
        Method::PUT,
        &format!("/conferences/{CF}"),
        json!({"taskSid": WT, "participants": [
            {"callSid": CA, "participantType": "customer", "status": "joined"},
            {"callSid": CA_ENDED, "participantType": "worker", "status": "left", "workerSid": WK, "reservationSid": WR},
            {"participantType": "worker", "status": "joined", "workerSid": WK}
        ]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = control(
        &app,
        Method::POST,
        "/tokens",
        json!({"token": "tok-1", "workerSid": WK, "identity": "alice", "valid": true, "expiresInSec": 3600, "roles": ["agent"]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    app
}

fn assert_twilio_error(a: &Answer, status: u16, code: i64) {
    assert_eq!(a.status.as_u16(), status, "{:?}", a.body);
    assert_eq!(a.body["code"], json!(code), "{:?}", a.body);
    assert_eq!(a.body["status"], json!(status), "{:?}", a.body);
    assert!(a.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        a.body["more_info"],
        json!(format!("https://www.twilio.com/docs/errors/{code}"))
    );
}
