//! The backend against the real Twilio simulator: every behaviour of issue 5
//! that needs Twilio on the other side.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
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
async fn token_cache_makes_one_check_for_many_requests() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    for _ in 0..5 {
        assert_eq!(
            create(&app, &customer_request()).await.status,
            StatusCode::OK
        );
    }
    let a = post_form(
        &app,
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let log = sim.log().await;
    assert_eq!(count(&log, "POST", "/Tokens/validate"), 1);
    // The token itself never reaches a log line: the check's request body is
    // the only place it appears, in the simulator's own log.
}

#[tokio::test]
async fn invalid_and_expired_tokens_are_401_and_not_cached() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post(
        "/tokens",
        json!({"token": "revoked", "workerSid": WK, "valid": false}),
    )
    .await;
    sim.post(
        "/tokens",
        json!({"token": "expired", "workerSid": WK, "expiresInSec": -5}),
    )
    .await;
    let app = backend_for(&sim);
    for tok in ["unknown-token", "revoked", "expired", "revoked"] {
        let mut req = customer_request();
        req[1].1 = tok.to_string();
        let a = create(&app, &req).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{tok}: {}", a.json);
        assert_eq!(a.json["success"], false);
        assert!(a.json["code"].as_i64().unwrap() >= 20101, "{}", a.json);
    }
    // Refusals are asked again each time, never cached.
    assert_eq!(count(&sim.log().await, "POST", "/Tokens/validate"), 4);
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn token_check_unreachable_is_503_never_allowed() {
    let sim = Sim::start().await;
    sim.scene().await;
    let dead = closed_port_url().await;
    let app = backend(config(&sim.url, &["--iam-base-url", &dead], &[]));
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
    assert_eq!(a.json["success"], false);
    assert_eq!(a.json["code"], 503);
    assert!(a.json["message"].as_str().unwrap().contains("Flex token"));
    assert!(sim.recordings().await.is_empty());
    assert!(sim.log().await.is_empty());
}

#[tokio::test]
async fn token_check_rejecting_backend_credentials_is_502() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("TWILIO_AUTH_TOKEN", "wrong")]));
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.json);
    assert_eq!(a.json["code"], 20003);
    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn api_key_credentials_work() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(
        &sim.url,
        &[],
        &[
            ("TWILIO_API_KEY", "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("TWILIO_API_SECRET", "sim-api-secret"),
        ],
    ));
    assert_eq!(
        create(&app, &customer_request()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn authorization_refusals() {
    let sim = Sim::start().await;
    sim.scene().await;
    // Bob holds a reservation on another task only.
    sim.put(
        "/tasks/WT000000000000000000000000000000b2",
        json!({"attributes": {}}),
    )
    .await;
    sim.post(
        "/reservations",
        json!({"taskSid": "WT000000000000000000000000000000b2", "reservationSid": WR_OTHER, "workerSid": WK_OTHER}),
    )
    .await;
    // Every request checks anew here: a grant (tests/grant.rs) would keep
    // the reservation's earlier state for its lifetime.
    let mut c = config(&sim.url, &[], &[]);
    c.grant_valid_for = std::time::Duration::ZERO;
    let app = backend(c);

    // Another worker's token: the reservation named is not theirs.
    let mut req = customer_request();
    req[1].1 = TOKEN_OTHER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("belongs to another worker"));
    // Without naming one: no live reservation of theirs on this task.
    let mut req = customer_request();
    req[1].1 = TOKEN_OTHER.into();
    req.retain(|(k, _)| *k != "reservationSid" && *k != "target");
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("no accepted or wrapping reservation"));

    // A call that is not part of the task.
    let mut req = customer_request();
    req[0].1 = CA_STRANGER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"].as_str().unwrap().contains(CA_STRANGER));

    // Someone else's reservation named as the target.
    let mut req = customer_request();
    req[3].1 = WR_OTHER.into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // The template's shape is not enough in strict mode.
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("AUTHORIZATION=strict"));

    // A reservation no longer live (completed) does not count; every status
    // is in tests/production_truth.rs.
    sim.post(
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "completed"}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // An unknown task.
    let mut req = customer_request();
    req[2].1 = "WT000000000000000000000000000000ee".into();
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.json);

    assert!(sim.recordings().await.is_empty());
}

#[tokio::test]
async fn authorization_accepts_conference_participant_and_own_client_leg() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    // The worker leg is in the conference (and also the worker's own client leg).
    let mut req = customer_request();
    req[0].1 = CA_WORKER.into();
    req.truncate(4);
    assert_eq!(create(&app, &req).await.status, StatusCode::OK);

    // A leg that left the conference is no longer the task's, unless it is
    // the worker's own client leg.
    let own = "CA000000000000000000000000000000a9";
    sim.post(
        "/calls",
        json!({"callSid": own, "from": format!("client:{IDENTITY}"), "to": "+15005550009"}),
    )
    .await;
    let mut req = customer_request();
    req[0].1 = own.into();
    req.truncate(4);
    let a = create(&app, &req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);

    // A participant that left (404 from Twilio) and is not this worker's own leg.
    let left = "CA000000000000000000000000000000b9";
    sim.post("/calls", json!({"callSid": left})).await;
    sim.put(
        &format!("/conferences/{CF}"),
        json!({"taskSid": WT, "participants": [
            {"callSid": CA_CUSTOMER, "participantType": "customer", "status": "joined"},
            {"callSid": left, "participantType": "external", "status": "left"}
        ]}),
    )
    .await;
    let mut req = customer_request();
    req[0].1 = left.into();
    req.truncate(4);
    assert_eq!(create(&app, &req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rate_limited_twice_then_exactly_one_recording() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 2}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
    let log = sim.log().await;
    assert_eq!(log.iter().filter(|e| e["status"] == 429).count(), 2);
    assert_eq!(
        sim.attributes(WT).await["conversations"]["media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // 429 on the recording start itself, with a warm token cache.
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    assert_eq!(
        post_form(&app, CREATE, &[("callSid", CA_WORKER), ("Token", TOKEN)])
            .await
            .status,
        StatusCode::OK
    );
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 2}}),
    )
    .await;
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let recs = sim.recordings().await;
    assert_eq!(
        recs.iter().filter(|r| r["callSid"] == CA_CUSTOMER).count(),
        1
    );
}

#[tokio::test]
async fn rate_limited_beyond_the_retry_budget_is_429_with_twilios_code() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    assert_eq!(
        post_form(&app, CREATE, &[("callSid", CA_WORKER), ("Token", TOKEN)])
            .await
            .status,
        StatusCode::OK
    );
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 50}}),
    )
    .await;
    let before = sim.log().await.len();
    let a = post_form(&app, CREATE, &[("callSid", CA_CUSTOMER), ("Token", TOKEN)]).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.json);
    assert_eq!(a.json["code"], 20429);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    // Bounded: exactly the policy's attempts.
    assert_eq!(sim.log().await.len() - before, 5);
}

#[tokio::test]
async fn service_unavailable_is_retried() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 503, "code": 20503, "count": 3}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
}

#[tokio::test]
async fn other_4xx_are_not_retried() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 400, "code": 20001, "count": 1}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.json);
    assert_eq!(a.json["code"], 20001);
    assert_eq!(sim.log().await.len(), 1);
}

#[tokio::test]
async fn concurrent_write_412_keeps_the_other_writers_keys() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    sim.post(
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {
            "conversations": {"outcome": "sale"},
            "other_plugin": {"note": "written between read and write"}
        }}}),
    )
    .await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["mediaWritten"], true);
    let log = sim.log().await;
    assert_eq!(log.iter().filter(|e| e["status"] == 412).count(), 1);
    let attrs = sim.attributes(WT).await;
    assert_eq!(
        attrs["other_plugin"]["note"],
        "written between read and write"
    );
    assert_eq!(attrs["conversations"]["outcome"], "sale");
    assert_eq!(attrs["conversations"]["abandoned"], "No");
    assert_eq!(attrs["conversations"]["media"].as_array().unwrap().len(), 1);
    assert_eq!(attrs["customers"]["name"], "Ada");
}

#[tokio::test]
async fn call_not_in_progress_21220_is_passed_through() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.post(
        "/calls",
        json!({"callSid": CA_CUSTOMER, "status": "completed"}),
    )
    .await;
    let app = backend_for(&sim);
    let before_attrs = sim.attributes(WT).await;
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json);
    assert_eq!(a.json["success"], false);
    assert_eq!(a.json["code"], 21220);
    assert_eq!(
        a.json["moreInfo"],
        "https://www.twilio.com/docs/errors/21220"
    );
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("not in-progress"));
    // Not retried.
    assert_eq!(count(&sim.log().await, "POST", "/Recordings.json"), 1);
    assert_eq!(sim.attributes(WT).await, before_attrs);
}

#[tokio::test]
async fn unknown_call_is_404_with_twilios_code() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    let a = post_form(
        &app,
        CREATE,
        &[
            ("callSid", "CA0000000000000000000000000000dead"),
            ("Token", TOKEN),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.json);
    assert_eq!(a.json["code"], 20404);
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

#[tokio::test]
async fn link_call_fills_gaps_with_if_match() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"direction": "outbound", "conference": {"participants": {"worker": CA_WORKER}}}}),
    )
    .await;
    sim.post(
        "/faults",
        json!({"concurrentWrite": {"taskSid": WT, "attributes": {"wrapup": {"code": 7}}}}),
    )
    .await;
    let app = backend_for(&sim);
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN),
            ("taskSid", WT),
            ("conferenceSid", CF),
            ("customerCallSid", CA_CUSTOMER),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json, json!({"success": true, "changed": true}));
    let attrs = sim.attributes(WT).await;
    assert_eq!(attrs["conference"]["sid"], CF);
    assert_eq!(attrs["conference"]["participants"]["worker"], CA_WORKER);
    assert_eq!(attrs["call_sid"], CA_CUSTOMER);
    assert_eq!(attrs["wrapup"]["code"], 7);

    // Nothing left to fill: no write.
    let before = sim.log().await.len();
    let a = post_json(
        &app,
        LINK,
        json!({"Token": TOKEN, "taskSid": WT, "conferenceSid": "CF000000000000000000000000000000ff"}),
    )
    .await;
    assert_eq!(a.json, json!({"success": true, "changed": false}));
    assert_eq!(count(&sim.log().await[before..], "POST", "/Tasks/"), 0);
    assert_eq!(sim.attributes(WT).await["conference"]["sid"], CF);

    // Another worker may not link this task.
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN_OTHER),
            ("taskSid", WT),
            ("conferenceSid", CF),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(CREATE)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap()
}

fn create_from(origin: &str) -> Request<Body> {
    let body: Vec<(&str, String)> = customer_request();
    Request::builder()
        .method(Method::POST)
        .uri(CREATE)
        .header(header::ORIGIN, origin)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(body).unwrap()))
        .unwrap()
}

#[tokio::test]
async fn cors_allows_configured_origins_and_answers_preflight() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = send(&app, preflight("https://flex.twilio.com")).await;
    assert!(a.status.is_success(), "{}", a.status);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://flex.twilio.com"
    );
    let methods = a.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    assert!(
        sim.log().await.is_empty(),
        "a preflight costs no Twilio call"
    );

    let a = send(&app, create_from("https://flex.twilio.com")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://flex.twilio.com"
    );
}

#[tokio::test]
async fn cors_refuses_other_origins() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:5173",
        "https://flex.twilio.com.evil.example",
        "null",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert!(!a.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        let a = send(&app, create_from(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(a.json["code"], 403);
        assert!(a.json["message"]
            .as_str()
            .unwrap()
            .contains("ALLOWED_ORIGINS"));
    }
    assert!(sim.recordings().await.is_empty());
    assert!(sim.log().await.is_empty());
}

#[tokio::test]
async fn cors_demo_mode_adds_loopback() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &["--demo"], &[]));
    for origin in [
        "http://127.0.0.1:5173",
        "http://localhost:8080",
        "https://flex.twilio.com",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert!(a.status.is_success(), "{origin}: {}", a.status);
        assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
    }
    for origin in [
        "http://127.0.0.1.evil.example",
        "http://localhost:80x",
        "https://localhost:1",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
    }
    // Configured origins replace the default.
    let app = backend(config(
        &sim.url,
        &[],
        &[("ALLOWED_ORIGINS", "https://a.example")],
    ));
    assert!(send(&app, preflight("https://a.example"))
        .await
        .status
        .is_success());
    assert_eq!(
        send(&app, preflight("https://flex.twilio.com"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn healthz_and_json_404_405() {
    let sim = Sim::start().await;
    let app = backend_for(&sim);
    let a = send(
        &app,
        Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["ok"], true);
    let a = send(
        &app,
        Request::builder().uri("/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["success"], false);
    let a = send(
        &app,
        Request::builder().uri(CREATE).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.json["code"], 405);
}

/// `call_sid` is what later requests trust as the task's call, so the
/// browser's word alone never puts it there: in strict mode a
/// `customerCallSid` is written only when Twilio shows it in the conference
/// being linked. And a task that is not a voice call cannot serve as the
/// ticket for recording or linking any call.
#[tokio::test]
async fn the_browser_cannot_make_any_call_the_tasks_call() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"direction": "outbound"}}),
    )
    .await;
    let app = backend_for(&sim);
    // A stranger's call, not in the conference: the conference is linked, not the call.
    let a = post_form(
        &app,
        LINK,
        &[
            ("Token", TOKEN),
            ("taskSid", WT),
            ("conferenceSid", CF),
            ("customerCallSid", CA_STRANGER),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let attrs = sim.attributes(WT).await;
    assert_eq!(attrs["conference"]["sid"], CF);
    assert!(attrs.get("call_sid").is_none(), "{attrs}");
    // Recording that stranger's call is still refused.
    let mut req = customer_request();
    for (k, v) in req.iter_mut() {
        if *k == "callSid" {
            *v = CA_STRANGER.into();
        }
    }
    let refs: Vec<(&str, &str)> = req.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = post_form(&app, CREATE, &refs).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // A chat task held by the worker is no ticket.
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA_CUSTOMER}, "channel": "chat"}),
    )
    .await;
    let a = post_form(
        &backend_for(&sim),
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(
        a.json["message"].as_str().unwrap().contains("chat task"),
        "{}",
        a.json
    );
}
