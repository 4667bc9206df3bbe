//! The simulator driven in-process through `app(...)` with `oneshot`, as the
//! backend's tests will drive it.

use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use twilio_sim::{app, SimConfig, SimState};

mod common;
use common::{send, Answer, Auth, AC};

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

fn is_sid(v: &Value, prefix: &str) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
    })
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
async fn token_check() {
    let app = scene().await;
    let path = format!("/v1/Accounts/{AC}/Tokens/validate");
    let check = |token: &str| {
        let body = json!({ "token": token }).to_string();
        let app = app.clone();
        let path = path.clone();
        async move {
            send(
                &app,
                Method::POST,
                &path,
                Auth::Account,
                &[],
                Some(("application/json", body)),
            )
            .await
        }
    };
    let ok = check("tok-1").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["valid"], json!(true));
    assert_eq!(ok.body["code"], json!(0));
    assert_eq!(ok.body["message"], Value::Null);
    assert_eq!(ok.body["worker_sid"], json!(WK));
    assert_eq!(ok.body["identity"], json!("alice"));
    assert_eq!(ok.body["roles"], json!(["agent"]));
    assert!(ok.body["expiration"]
        .as_str()
        .is_some_and(|e| e.ends_with('Z')));

    let bad = check("who-knows").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert_eq!(bad.body["valid"], json!(false));
    assert!(bad.body["message"].as_str().is_some());

    control(
        &app,
        Method::POST,
        "/tokens",
        json!({"token": "old", "expiresInSec": -5}),
    )
    .await;
    let old = check("old").await;
    assert_eq!(old.body["valid"], json!(false));
    assert_eq!(old.body["code"], json!(20104));

    let anon = send(
        &app,
        Method::POST,
        &path,
        Auth::None,
        &[],
        Some(("application/json", "{\"token\":\"tok-1\"}".into())),
    )
    .await;
    assert_twilio_error(&anon, 401, 20003);
}

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
async fn control_api_rejects_bad_input_clearly() {
    let app = scene().await;
    let cases: Vec<(Method, &str, &str)> = vec![
        (Method::POST, "/calls", "{not json"),
        (Method::POST, "/calls", "{\"callSid\": \"CA123\"}"),
        (Method::POST, "/calls", "{\"callSid\": \"CA00000000000000000000000000000003\", \"status\": \"dancing\"}"),
        (Method::POST, "/calls", "[]"),
        (Method::POST, "/calls/not-a-sid/end", ""),
        (Method::PUT, "/tasks/WT1", "{}"),
        (Method::PUT, "/tasks/WT00000000000000000000000000000009", "{\"attributes\": \"{}\"}"),
        (Method::POST, "/reservations", "{\"taskSid\": \"WT00000000000000000000000000000001\"}"),
        (Method::DELETE, "/reservations/WRzz", ""),
        (Method::PUT, "/conferences/CF00000000000000000000000000000001", "{\"participants\": [{\"callSid\": \"nope\", \"participantType\": \"customer\", \"status\": \"joined\"}]}"),
        (Method::POST, "/tokens", "{\"token\": \"\"}"),
        (Method::POST, "/tokens", "{\"token\": \"t\", \"workerSid\": \"WK1\"}"),
        (Method::POST, "/faults", "{}"),
        (Method::POST, "/faults", "{\"failNext\": {\"status\": 200, \"code\": 1}}"),
        (Method::POST, "/faults", "{\"failNext\": {\"status\": 9999, \"code\": 1}}"),
        (Method::POST, "/faults", "{\"latencyMs\": -1}"),
        (Method::POST, "/faults", "{\"concurrentWrite\": {\"taskSid\": \"WTx\", \"attributes\": {}}}"),
        (Method::POST, "/faults", "{\"concurrentWrite\": {\"taskSid\": \"WT00000000000000000000000000000001\", \"attributes\": 3}}"),
        (Method::POST, "/faults", "{\"surprise\": true}"),
    ];
    for (method, path, body) in cases {
        let a = send(
            &app,
            method.clone(),
            &format!("/_sim{path}"),
            Auth::None,
            &[],
            Some(("application/json", body.to_string())),
        )
        .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {:?}",
            a.body
        );
        assert!(
            a.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {:?}",
            a.body
        );
    }
    let missing = control(&app, Method::GET, "/nothing-here", Value::Null).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bare = send(&app, Method::GET, "/_sim", Auth::None, &[], None).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    // Garbage bytes and bodies of the wrong shape on every endpoint: a 4xx, never a panic.
    for path in [
        "/reset",
        "/tokens",
        "/calls",
        "/tasks/WT00000000000000000000000000000001",
        "/reservations",
        "/conferences/CF00000000000000000000000000000001",
        "/faults",
    ] {
        for body in ["\u{0}\u{ff}", "null", "123", "{\"a\":", "[{}]"] {
            for method in [Method::POST, Method::PUT] {
                let a = send(
                    &app,
                    method,
                    &format!("/_sim{path}"),
                    Auth::None,
                    &[],
                    Some(("application/json", body.to_string())),
                )
                .await;
                assert!(
                    a.status.is_client_error() || a.status.is_success(),
                    "{path} {body}: {}",
                    a.status
                );
            }
        }
    }
    // Nothing above reached the REST log.
    let log = control(&app, Method::GET, "/log", Value::Null).await;
    assert_eq!(log.body, json!([]));
}

#[tokio::test]
async fn control_api_is_open_to_any_origin() {
    let app = scene().await;
    let a = send(
        &app,
        Method::OPTIONS,
        "/_sim/faults",
        Auth::None,
        &[
            ("Origin", "http://127.0.0.1:9999"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    )
    .await;
    assert!(a.status.is_success());
    assert_eq!(
        a.headers["access-control-allow-origin"],
        "http://127.0.0.1:9999"
    );
    let get = send(
        &app,
        Method::GET,
        "/_sim/state",
        Auth::None,
        &[("Origin", "http://localhost:1")],
        None,
    )
    .await;
    assert_eq!(
        get.headers["access-control-allow-origin"],
        "http://localhost:1"
    );
}

#[tokio::test]
async fn reset_forgets_everything() {
    let app = scene().await;
    rest(&app, Method::POST, &recordings_path(CA), None).await;
    control(
        &app,
        Method::POST,
        "/faults",
        json!({"latencyMs": 5, "failNext": {"status": 500, "code": 20500, "count": 3}}),
    )
    .await;
    let r = control(&app, Method::POST, "/reset", Value::Null).await;
    assert_eq!(r.status, StatusCode::OK);
    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["calls"], json!({}));
    assert_eq!(state.body["recordings"], json!([]));
    assert_eq!(state.body["tasks"], json!({}));
    assert_eq!(state.body["reservations"], json!([]));
    assert_eq!(state.body["conferences"], json!({}));
    assert_eq!(state.body["accountSid"], json!(AC));
    assert_eq!(state.body["workspaceSid"], json!(WS));
    assert_eq!(state.body["faults"]["failNext"], Value::Null);
    let log = control(&app, Method::GET, "/log", Value::Null).await;
    assert_eq!(log.body, json!([]));
    // Faults are gone too: a REST request answers normally (404, no task).
    let a = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_twilio_error(&a, 404, 20404);
}

#[tokio::test]
async fn serve_on_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = SimState::new(SimConfig::default());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(twilio_sim::serve_with_shutdown(listener, state, async {
        let _ = rx.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /_sim/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let _ = tx.send(());
    server.await.expect("join").expect("serve");
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
