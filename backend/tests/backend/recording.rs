//! Starting a recording: the happy paths, the Twilio calls each costs,
//! idempotence, the task attributes it merges into, the status callback it
//! passes on.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn happy_path_conversation_target() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["success"], true);
    assert_eq!(a.json["alreadyRecording"], false);
    assert_eq!(a.json["mediaWritten"], true);
    assert!(a.json.get("warning").is_none());
    let re = a.json["recordingSid"].as_str().unwrap().to_string();
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{re}");
    assert_eq!(a.json["recordingUrl"], url.as_str());
    assert!(a.headers.contains_key("x-request-id"));

    let recs = sim.recordings().await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["callSid"], CA_CUSTOMER);
    assert_eq!(recs[0]["channels"], "dual");
    assert_eq!(recs[0]["track"], "both");
    // No status callback configured: none passed.
    assert_eq!(recs[0]["statusCallback"], Value::Null);

    let attrs = sim.attributes(WT).await;
    let expected_entry = json!({
        "type": "VoiceRecording", "url": url, "start_time": ACCEPTED_AT - 1000,
        "channels": ["customer", "others"]
    });
    assert_eq!(attrs["conversations"]["media"], json!([expected_entry]));
    assert_eq!(a.json["media"], expected_entry);
    // Everything else untouched.
    assert_eq!(attrs["conversations"]["abandoned"], "No");
    assert_eq!(
        attrs["customers"],
        json!({"name": "Ada", "tags": [1, 2, {"deep": {"x": true}}]})
    );
    assert_eq!(attrs["call_sid"], CA_CUSTOMER);
    assert_eq!(attrs["conference"], json!({"sid": CF}));
}

#[tokio::test]
async fn happy_path_reservation_target_json_body() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = post_json(
        &app,
        CREATE,
        json!({
            "callSid": CA_WORKER, "Token": TOKEN, "taskSid": WT, "reservationSid": WR,
            "leg": "worker", "target": "reservation", "acceptedAt": ACCEPTED_AT,
            "someFutureField": {"ignored": true}
        }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let re = a.json["recordingSid"].as_str().unwrap();
    let attrs = sim.attributes(WT).await;
    let media = &attrs["reservation_attributes"][WR]["media"];
    assert_eq!(media.as_array().unwrap().len(), 1);
    assert_eq!(media[0]["channels"], json!(["customer", "others"]));
    assert_eq!(media[0]["start_time"], ACCEPTED_AT - 1000);
    assert!(media[0]["url"].as_str().unwrap().ends_with(re));
    assert!(attrs["conversations"].get("media").is_none());
    let recs = sim.recordings().await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["callSid"], CA_WORKER);
}

#[tokio::test]
async fn second_recording_of_a_segment_uses_its_own_start_time() {
    // Join Call: a new worker leg gets a second entry dated by the recording.
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let req = |ca: &str| {
        vec![
            ("callSid", ca.to_string()),
            ("Token", TOKEN.into()),
            ("taskSid", WT.into()),
            ("reservationSid", WR.into()),
            ("target", "reservation".into()),
            ("acceptedAt", ACCEPTED_AT.to_string()),
        ]
    };
    assert_eq!(create(&app, &req(CA_WORKER)).await.status, StatusCode::OK);
    let second_leg = "CA000000000000000000000000000000a2";
    sim.post(
        "/calls",
        json!({"callSid": second_leg, "status": "in-progress", "to": format!("client:{IDENTITY}")}),
    )
    .await;
    let a = create(&app, &req(second_leg)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let media = sim.attributes(WT).await["reservation_attributes"][WR]["media"].clone();
    assert_eq!(media.as_array().unwrap().len(), 2);
    assert_eq!(media[0]["start_time"], ACCEPTED_AT - 1000);
    let second_start = media[1]["start_time"].as_i64().unwrap();
    assert!(second_start > ACCEPTED_AT, "{second_start}");
}

#[tokio::test]
async fn twilio_calls_per_recorded_call_with_warm_token_cache() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    // Warm the token cache with a first call.
    assert_eq!(
        create(&app, &customer_request()).await.status,
        StatusCode::OK
    );
    // A second task and call of the same worker.
    let (wt, wr, ca) = (
        "WT000000000000000000000000000000a2",
        "WR000000000000000000000000000000a2",
        "CA000000000000000000000000000000c2",
    );
    sim.post("/calls", json!({"callSid": ca})).await;
    sim.put(
        &format!("/tasks/{wt}"),
        json!({"attributes": {"call_sid": ca}}),
    )
    .await;
    sim.post(
        "/reservations",
        json!({"taskSid": wt, "reservationSid": wr, "workerSid": WK}),
    )
    .await;
    let before = sim.log().await.len();
    let a = create(
        &app,
        &[
            ("callSid", ca.into()),
            ("Token", TOKEN.into()),
            ("taskSid", wt.into()),
            ("reservationSid", wr.into()),
            ("target", "conversation".into()),
            ("acceptedAt", ACCEPTED_AT.to_string()),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let log = sim.log().await;
    let calls: Vec<String> = log[before..]
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect();
    println!("Twilio REST calls for one recorded call, warm token cache, strict: {calls:#?}");
    // Reservation check, task read (reused for the write), start, task write.
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert_eq!(count(&log[before..], "POST", "/Tokens/validate"), 0);
    assert_eq!(count(&log[before..], "GET", "/Reservations"), 1);
    let task_path = format!("/v1/Workspaces/{WS}/Tasks/{wt}");
    let task_reads = log[before..]
        .iter()
        .filter(|e| e["method"] == "GET" && e["path"] == task_path.as_str())
        .count();
    assert_eq!(task_reads, 1);
    assert_eq!(count(&log[before..], "POST", "/Recordings.json"), 1);
    assert_eq!(count(&log[before..], "POST", &format!("/Tasks/{wt}")), 1);
}

#[tokio::test]
async fn token_only_mode_costs_three_calls_and_allows_template_shape() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    // The template's request: callSid and Token only.
    let a = post_form(&app, CREATE, &[("callSid", CA_STRANGER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["media"], Value::Null);
    assert_eq!(a.json["mediaWritten"], false);
    let before = sim.log().await.len();
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let log = sim.log().await;
    // Start, task read, task write.
    assert_eq!(log.len() - before, 3, "{:#?}", &log[before..]);
}

#[tokio::test]
async fn idempotent_sequential() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let first = create(&app, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let before = sim.log().await.len();
    let second = create(&app, &customer_request()).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    assert_eq!(second.json["alreadyRecording"], true);
    assert_eq!(second.json["recordingSid"], first.json["recordingSid"]);
    assert_eq!(second.json["media"], first.json["media"]);
    assert_eq!(second.json["mediaWritten"], true);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(
        sim.attributes(WT).await["conversations"]["media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // No second start and no second task write.
    let log = sim.log().await;
    assert_eq!(count(&log[before..], "POST", "/Recordings.json"), 0);
    assert_eq!(count(&log[before..], "POST", &format!("/Tasks/{WT}")), 0);
}

#[tokio::test]
async fn idempotent_concurrent_requests_start_one_recording() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let (_, started) = create_at_once(&[app], 12).await;
    assert_eq!(started, 1);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(
        sim.attributes(WT).await["conversations"]["media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Concurrent first requests with one token share one token check.
    assert_eq!(count(&sim.log().await, "POST", "/Tokens/validate"), 1);
}

#[tokio::test]
async fn a_recording_that_ended_is_not_already_recording() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    let first = post_form(&app, CREATE, &[("callSid", CA_STRANGER), ("Token", TOKEN)]).await;
    assert_eq!(first.status, StatusCode::OK);
    sim.post(&format!("/calls/{CA_STRANGER}/end"), json!({}))
        .await;
    // The call is over: Twilio's 21220 comes back, not the stale recording.
    let again = post_form(&app, CREATE, &[("callSid", CA_STRANGER), ("Token", TOKEN)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.json);
    assert_eq!(again.json["code"], 21220);
}

#[tokio::test]
async fn deeply_nested_attributes_are_read_and_merged_with_every_level_kept() {
    let sim = Sim::start().await;
    sim.scene().await;
    // 400 levels: past serde_json's default limit of 128, within the merge limit.
    let mut deep = json!("bottom");
    for _ in 0..400 {
        deep = json!([deep]);
    }
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"crm": deep, "call_sid": CA_CUSTOMER, "conference": {"sid": CF}}}),
    )
    .await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["mediaWritten"], true, "{}", a.json);
    let after = sim.attributes(WT).await;
    let mut cur = &after["crm"];
    for _ in 0..400 {
        cur = &cur[0];
    }
    assert_eq!(cur, "bottom");
    assert_eq!(after["conversations"]["media"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn foreign_shape_at_the_media_path_is_left_alone_with_a_warning() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA_CUSTOMER, "conversations": {"media": "not a list"}}}),
    )
    .await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["mediaWritten"], false);
    assert!(a.json["warning"]
        .as_str()
        .unwrap()
        .contains("conversations.media"));
    assert_eq!(
        sim.attributes(WT).await["conversations"]["media"],
        "not a list"
    );
}

#[tokio::test]
async fn status_callback_is_passed_to_twilio() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(
        &sim.url,
        &[],
        &[
            (
                "RECORDING_STATUS_CALLBACK",
                "https://example.com/recording-status",
            ),
            (
                "RECORDING_STATUS_CALLBACK_EVENT",
                "in-progress completed absent",
            ),
        ],
    ));
    assert_eq!(
        create(&app, &customer_request()).await.status,
        StatusCode::OK
    );
    let rec = &sim.recordings().await[0];
    assert_eq!(
        rec["statusCallback"],
        "https://example.com/recording-status"
    );
    assert_eq!(
        rec["statusCallbackEvent"],
        json!(["in-progress", "completed", "absent"])
    );
}
