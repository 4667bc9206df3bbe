//! Event Streams: a sink tested, validated and subscribed gets signed
//! CloudEvent batches, as the delivery options promise, retried when it
//! could not take them; and the Events API answers as its contract says.

use crate::common::{send, Auth, AC};
use crate::{control, hmac_b64, receiver, Received, Receiver, CA};
use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sha2::Digest;
use std::time::{Duration, Instant};
use twilio_sim::{app, SimConfig, SimState};

const WT: &str = "WT00000000000000000000000000000001";
const WR: &str = "WR00000000000000000000000000000001";
const WK: &str = "WK00000000000000000000000000000001";
const SINK_PATH: &str = "/twilio/event-streams";

/// Checks a JSON delivery as Twilio's helper libraries do
/// (`validateRequestWithBody`): the URL's `bodySHA256` is the body's hash,
/// and the signature covers the full URL. Returns the events.
fn check_signed_json(base: &str, r: &Received) -> Vec<Value> {
    let url = format!("{base}{}", r.target);
    let hash: String = sha2::Sha256::digest(&r.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        r.target.ends_with(&format!("?bodySHA256={hash}")),
        "{}",
        r.target
    );
    assert_eq!(r.signature.as_deref(), Some(hmac_b64(&url).as_str()));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    serde_json::from_slice(&r.body).expect("a JSON array of events")
}

async fn events_api(
    app: &Router,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let body = (!form.is_empty()).then(|| {
        (
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string(form).unwrap(),
        )
    });
    let a = send(app, method, path, Auth::Account, &[], body).await;
    (a.status, a.body)
}

/// A webhook sink at `receiver`, tested, validated and subscribed to `types`.
async fn subscribed_sink(app: &Router, st: &SimState, r: &Receiver, types: &[&str]) -> String {
    let destination = format!("{}{SINK_PATH}", r.base);
    let config = json!({"destination": destination, "method": "POST"}).to_string();
    let (status, sink) = events_api(
        app,
        Method::POST,
        "/v1/Sinks",
        &[
            ("Description", "recording backend"),
            ("SinkType", "webhook"),
            ("SinkConfiguration", &config),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sink}");
    assert_eq!(sink["status"], "initialized");
    let sid = sink["sid"].as_str().unwrap().to_string();
    let ty = json!({"type": types[0], "schema_version": 4}).to_string();
    // Not active yet: no subscription.
    let (status, refused) = events_api(
        app,
        Method::POST,
        "/v1/Subscriptions",
        &[("Description", "d"), ("SinkSid", &sid), ("Types", &ty)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, test) = events_api(app, Method::POST, &format!("/v1/Sinks/{sid}/Test"), &[]).await;
    assert_eq!(
        (status, test),
        (StatusCode::CREATED, json!({"result": "submitted"}))
    );
    let got = r.wait_for(1).await;
    let events = check_signed_json(&r.base, &got[0]);
    assert_eq!(events[0]["type"], "com.twilio.eventstreams.test-event");
    let test_id = events[0]["data"]["test_id"].as_str().unwrap().to_string();
    let (status, _) = events_api(
        app,
        Method::POST,
        &format!("/v1/Sinks/{sid}/Validate"),
        &[("TestId", "wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, valid) = events_api(
        app,
        Method::POST,
        &format!("/v1/Sinks/{sid}/Validate"),
        &[("TestId", &test_id)],
    )
    .await;
    assert_eq!(
        (status, valid),
        (StatusCode::CREATED, json!({"result": "valid"}))
    );
    let type_values: Vec<String> = types
        .iter()
        .map(|t| json!({"type": t, "schema_version": 4}).to_string())
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("Description", "TaskRouter"), ("SinkSid", &sid)];
    form.extend(type_values.iter().map(|t| ("Types", t.as_str())));
    let (status, sub) = events_api(app, Method::POST, "/v1/Subscriptions", &form).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["sink_sid"], sid.as_str());
    assert_eq!(sub["account_sid"], AC);
    // The test event is done with.
    r.got.lock().unwrap().clear();
    let _ = st;
    sid
}

const ACCEPT_TYPES: [&str; 4] = [
    "com.twilio.taskrouter.reservation.created",
    "com.twilio.taskrouter.reservation.accepted",
    "com.twilio.taskrouter.reservation.wrapup",
    "com.twilio.taskrouter.task.wrapup",
];

/// A task accepted through the control API, as the replay runner plays it.
async fn accept(app: &Router) {
    control(
        app,
        Method::PUT,
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA}, "queueName": "Sales", "channel": "voice"}),
    )
    .await;
    control(
        app,
        Method::POST,
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "accepted"}),
    )
    .await;
}

fn types_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_subscribed_sink_gets_the_reservation_events_signed_as_twilio_signs_json() {
    let st = SimState::new(SimConfig::default());
    let app = app(st.clone());
    let r = receiver(vec![]).await;
    let sink = subscribed_sink(&app, &st, &r, &ACCEPT_TYPES).await;
    accept(&app).await;
    control(
        &app,
        Method::POST,
        &format!("/reservations/{WR}/status"),
        json!({"status": "wrapping"}),
    )
    .await;
    let got = r.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    // task.created is not subscribed: the accept is one batch, the wrap-up another.
    let first = check_signed_json(&r.base, &got[0]);
    assert_eq!(
        types_of(&first),
        [
            "com.twilio.taskrouter.reservation.created",
            "com.twilio.taskrouter.reservation.accepted"
        ]
    );
    let accepted = &first[1];
    // (JSON pointer, value)
    let cases = [
        ("/specversion", json!("1.0")),
        ("/datacontenttype", json!("application/json")),
        (
            "/dataschema",
            json!("https://events-schemas.twilio.com/TaskRouter.WDSEvent/4"),
        ),
        ("/data/payload/eventtype", json!("reservation.accepted")),
        ("/data/payload/task_sid", json!(WT)),
        ("/data/payload/reservation_sid", json!(WR)),
        ("/data/payload/worker_sid", json!(WK)),
        ("/data/payload/task_queue_name", json!("Sales")),
        ("/data/payload/task_channel_unique_name", json!("voice")),
        ("/data/payload/account_sid", json!(AC)),
        (
            "/data/payload/task_attributes",
            json!(json!({"call_sid": CA}).to_string()),
        ),
    ];
    for (pointer, want) in cases {
        assert_eq!(
            accepted.pointer(pointer),
            Some(&want),
            "{pointer} in {accepted}"
        );
    }
    assert_eq!(accepted["id"], accepted["data"]["payload"]["sid"]);
    let second = check_signed_json(&r.base, &got[1]);
    assert_eq!(
        types_of(&second),
        [
            "com.twilio.taskrouter.reservation.wrapup",
            "com.twilio.taskrouter.task.wrapup"
        ]
    );
    // Every attempt is in the webhooks log.
    let log = control(&app, Method::GET, "/webhooks", json!({})).await;
    let entries = log["webhooks"].as_array().unwrap();
    let ours: Vec<&Value> = entries
        .iter()
        .filter(|e| e["sinkSid"] == sink.as_str())
        .collect();
    assert_eq!(ours.len(), 3, "test event, accept, wrap-up: {log}");
    assert!(ours
        .iter()
        .all(|e| e["status"] == 200 && e["kind"] == "eventStreams"));
    assert_eq!(log["pending"], 0);
}

#[tokio::test]
async fn delivery_options_play_twilios_guarantees() {
    // (options, what arrives: list of batches' types, minimum delay)
    let created = "com.twilio.taskrouter.reservation.created";
    let accepted = "com.twilio.taskrouter.reservation.accepted";
    let cases: Vec<(Value, Vec<Vec<&str>>, u64)> = vec![
        (json!({}), vec![vec![created, accepted]], 0),
        (
            json!({"duplicates": true}),
            vec![vec![created, accepted], vec![created, accepted]],
            0,
        ),
        (json!({"reorder": true}), vec![vec![accepted, created]], 0),
        (json!({"delayMs": 400}), vec![vec![created, accepted]], 400),
    ];
    for (options, want, min_delay) in cases {
        let st = SimState::new(SimConfig::default());
        let app = app(st.clone());
        let r = receiver(vec![]).await;
        subscribed_sink(&app, &st, &r, &ACCEPT_TYPES).await;
        control(&app, Method::PUT, "/event-streams", options.clone()).await;
        let start = Instant::now();
        accept(&app).await;
        let got = r.wait_for(want.len()).await;
        // Nothing more comes.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let got_now = r.got.lock().unwrap().clone();
        assert_eq!(got_now.len(), want.len(), "{options}: {got_now:?}");
        let batches: Vec<Vec<String>> = got
            .iter()
            .map(|g| types_of(&check_signed_json(&r.base, g)))
            .collect();
        assert_eq!(batches, want, "{options}");
        assert!(
            got[0].at.duration_since(start) >= Duration::from_millis(min_delay),
            "{options}"
        );
        if want.len() == 2 {
            let ids = |g: &Received| -> Vec<Value> {
                check_signed_json(&r.base, g)
                    .iter()
                    .map(|e| e["id"].clone())
                    .collect()
            };
            assert_eq!(ids(&got[0]), ids(&got[1]), "a duplicate keeps its ids");
        }
    }
}

#[tokio::test]
async fn a_batch_the_sink_could_not_take_is_delivered_again() {
    let st = SimState::new(SimConfig::default());
    let app = app(st.clone());
    // The test event's answer, then a 500 and a 429 for the accept, then 200.
    let r = receiver(vec![200, 500, 429]).await;
    subscribed_sink(&app, &st, &r, &ACCEPT_TYPES).await;
    accept(&app).await;
    let got = r.wait_for(3).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].body, got[2].body, "the same batch, again");
    let log = control(&app, Method::GET, "/webhooks", json!({})).await;
    let attempts: Vec<(Value, Value)> = log["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|e| (e["attempt"].clone(), e["status"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (json!(1), json!(500)),
            (json!(2), json!(429)),
            (json!(3), json!(200))
        ]
    );
}

#[tokio::test]
async fn a_batch_the_sink_refuses_is_not_sent_again() {
    let st = SimState::new(SimConfig::default());
    let app = app(st.clone());
    let r = receiver(vec![200, 403]).await;
    subscribed_sink(&app, &st, &r, &ACCEPT_TYPES).await;
    accept(&app).await;
    r.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(r.got.lock().unwrap().len(), 1);
    let log = control(&app, Method::GET, "/webhooks", json!({})).await;
    assert_eq!(log["pending"], 0);
}

#[tokio::test]
async fn the_events_api_answers_as_its_contract_says() {
    let st = SimState::new(SimConfig::default());
    let app = app(st.clone());
    let r = receiver(vec![]).await;
    let sink = subscribed_sink(&app, &st, &r, &ACCEPT_TYPES).await;
    // (method, path, form, status)
    type Case<'a> = (Method, String, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        (Method::GET, format!("/v1/Sinks/{sink}"), vec![], 200),
        (Method::GET, "/v1/Sinks?InUse=true".into(), vec![], 200),
        (
            Method::POST,
            format!("/v1/Sinks/{sink}"),
            vec![("Description", "renamed")],
            200,
        ),
        (
            Method::GET,
            format!("/v1/Subscriptions?SinkSid={sink}"),
            vec![],
            200,
        ),
        (
            Method::GET,
            "/v1/Sinks/DG00000000000000000000000000000000".into(),
            vec![],
            404,
        ),
        // A sink in use cannot go.
        (Method::DELETE, format!("/v1/Sinks/{sink}"), vec![], 400),
        (
            Method::POST,
            "/v1/Sinks".into(),
            vec![
                ("Description", "x"),
                ("SinkType", "webhook"),
                ("SinkConfiguration", "{}"),
            ],
            400,
        ),
        (
            Method::POST,
            "/v1/Sinks".into(),
            vec![
                ("Description", "x"),
                ("SinkType", "pigeon"),
                ("SinkConfiguration", "{}"),
            ],
            400,
        ),
    ];
    for (method, path, form, want) in cases {
        let (status, body) = events_api(&app, method.clone(), &path, &form).await;
        assert_eq!(status.as_u16(), want, "{method} {path}: {body}");
    }
    let (_, list) = events_api(&app, Method::GET, "/v1/Subscriptions", &[]).await;
    let sub = list["subscriptions"][0]["sid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(list["meta"]["key"], "subscriptions");
    let (status, _) = events_api(
        &app,
        Method::DELETE,
        &format!("/v1/Subscriptions/{sub}"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = events_api(&app, Method::DELETE, &format!("/v1/Sinks/{sink}"), &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Unauthenticated: Twilio's 401.
    let a = send(&app, Method::GET, "/v1/Sinks", Auth::Wrong, &[], None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
