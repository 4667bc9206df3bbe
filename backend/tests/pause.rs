//! Pause, resume and state endpoints against the real Twilio simulator:
//! authorization, idempotency, and each Twilio error.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PAUSE: &str = "/features/dual-channel-recording/flex/pause-recording";
const RESUME: &str = "/features/dual-channel-recording/flex/resume-recording";
const STATE: &str = "/features/dual-channel-recording/flex/recording-state";

async fn recording_on_customer_leg(sim: &Sim) -> String {
    let app = backend_for(sim);
    let a = create(&app, &customer_request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    a.json["recordingSid"].as_str().unwrap().to_string()
}

fn on_call(call: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Token", TOKEN.into()),
        ("taskSid", WT.into()),
        ("callSid", call.into()),
    ]
}

async fn post(app: &axum::Router, path: &str, pairs: &[(&'static str, String)]) -> Answer {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(app, path, &refs).await
}

async fn status_of(sim: &Sim, re: &str) -> Value {
    sim.recording_status(re).await
}

/// Warms the token and policy caches (a resume reads both; the recording is
/// not paused, so it changes nothing): a pause is then exactly four Twilio
/// requests, task and reservations (in parallel), the call's recordings, the
/// update.
async fn warm(app: &axum::Router) {
    assert_eq!(
        post(app, RESUME, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn pause_and_resume_are_idempotent_and_addressed_by_sid() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = backend_for(&sim);
    let mut pause = on_call(CA_CUSTOMER);
    pause.push(("pauseBehavior", "skip".into()));

    let a = post(&app, PAUSE, &pause).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["state"], "paused");
    assert_eq!(
        a.json["recordings"],
        json!([{"recordingSid": re, "callSid": CA_CUSTOMER, "status": "paused"}])
    );
    assert_eq!(status_of(&sim, &re).await, "paused");
    assert_eq!(sim.recordings().await[0]["pauseBehavior"], "skip");

    // A second pause (another tab, a retry) answers the state and changes nothing.
    let updates_before = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    let a = post(&app, PAUSE, &pause).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("paused"))
    );
    let log = sim.log().await;
    assert_eq!(
        count(&log, "POST", &format!("/Recordings/{re}.json")),
        updates_before
    );
    // Never Twilio.CURRENT.
    assert_eq!(count(&log, "POST", "Twilio.CURRENT"), 0);

    let a = post(&app, STATE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("paused"))
    );

    let a = post(&app, RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["state"], "recording");
    assert_eq!(status_of(&sim, &re).await, "in-progress");
    let a = post(&app, RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("recording"))
    );

    // JSON bodies work as well; Twilio's default pause behaviour when none is named.
    let a = post_json(
        &app,
        PAUSE,
        json!({"Token": TOKEN, "taskSid": WT, "callSid": CA_CUSTOMER}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await[0]["pauseBehavior"], "silence");
}

#[tokio::test]
async fn every_active_recording_on_the_leg_is_reached() {
    // A leg recorded twice (another tool started one too): Twilio.CURRENT
    // would be ambiguous (16108); by SID both are paused.
    let sim = Sim::start().await;
    sim.scene().await;
    let first = recording_on_customer_leg(&sim).await;
    let app = backend_for(&sim);
    let cfg_app = backend(config(&sim.url, &[], &[("AUTHORIZATION", "token-only")]));
    // A second recording on the same call, straight at the simulator's REST API.
    let second = sim.start_recording_elsewhere(CA_CUSTOMER).await;
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["recordings"].as_array().unwrap().len(), 2);
    assert_eq!(status_of(&sim, &first).await, "paused");
    assert_eq!(status_of(&sim, &second).await, "paused");
    // token-only mode: no authorization reads, same outcome.
    let a = post(&cfg_app, RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("recording"))
    );
}

#[tokio::test]
async fn authorization() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = backend_for(&sim);

    // Another worker's token: no reservation on this task.
    let mut req = on_call(CA_CUSTOMER);
    req[0].1 = TOKEN_OTHER.into();
    let a = post(&app, PAUSE, &req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("no accepted or wrapping reservation"));

    // A call that is not the task's.
    let a = post(&app, PAUSE, &on_call(CA_STRANGER)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // A conference that is not the task's.
    let other_cf = "CF000000000000000000000000000000ff";
    sim.put(&format!("/conferences/{other_cf}"), json!({"participants": [{"callSid": CA_STRANGER, "participantType": "customer", "status": "joined"}]})).await;
    let a = post(
        &app,
        PAUSE,
        &[
            ("Token", TOKEN.into()),
            ("taskSid", WT.into()),
            ("conferenceSid", other_cf.into()),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);

    // No token, a bad token.
    let a = post(
        &app,
        PAUSE,
        &[("taskSid", WT.into()), ("callSid", CA_CUSTOMER.into())],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
    let mut req = on_call(CA_CUSTOMER);
    req[0].1 = "forged".into();
    let a = post(&app, PAUSE, &req).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);

    // An unknown task.
    let mut req = on_call(CA_CUSTOMER);
    req[1].1 = "WT000000000000000000000000000000ee".into();
    let a = post(&app, PAUSE, &req).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.json);

    // Nothing was paused by any of them.
    assert_eq!(status_of(&sim, &re).await, "in-progress");

    // The worker's own leg is theirs to pause (worker channel).
    let app2 = backend_for(&sim);
    let mut req = customer_request();
    req[0].1 = CA_WORKER.into();
    assert_eq!(create(&app2, &req).await.status, StatusCode::OK);
    let a = post(&app, PAUSE, &on_call(CA_WORKER)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("paused")),
        "{}",
        a.json
    );
}

#[tokio::test]
async fn bad_input() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let before = sim.log().await.len();
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "no target",
            vec![("Token", TOKEN.into()), ("taskSid", WT.into())],
        ),
        (
            "bad call",
            vec![
                ("Token", TOKEN.into()),
                ("taskSid", WT.into()),
                ("callSid", "CA123".into()),
            ],
        ),
        (
            "bad conference",
            vec![
                ("Token", TOKEN.into()),
                ("taskSid", WT.into()),
                ("conferenceSid", "Twilio.CURRENT".into()),
            ],
        ),
        (
            "bad task",
            vec![
                ("Token", TOKEN.into()),
                ("taskSid", "WTx".into()),
                ("callSid", CA_CUSTOMER.into()),
            ],
        ),
        (
            "no task",
            vec![("Token", TOKEN.into()), ("callSid", CA_CUSTOMER.into())],
        ),
        (
            "bad behaviour",
            vec![
                ("Token", TOKEN.into()),
                ("taskSid", WT.into()),
                ("callSid", CA_CUSTOMER.into()),
                ("pauseBehavior", "mute".into()),
            ],
        ),
    ];
    for (what, pairs) in cases {
        let a = post(&app, PAUSE, &pairs).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}: {}", a.json);
        assert_eq!(a.json["success"], false);
        // What docs/bad-input.md says each answers.
        let says = match what {
            "no target" => "name callSid (a recorded call leg), conferenceSid",
            "bad call" => "callSid must be a call SID (CA...)",
            "bad conference" => "conferenceSid must be a conference SID (CF...)",
            "bad task" => "taskSid must be a task SID (WT...)",
            "no task" => "missing field `taskSid`",
            _ => "unknown variant `mute`, expected `skip` or `silence`",
        };
        let message = a.json["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
    }
    // A pause behaviour on resume is a mistake, not ignored.
    let mut req = on_call(CA_CUSTOMER);
    req.push(("pauseBehavior", "skip".into()));
    let a = post(&app, RESUME, &req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.json);
    // Refused before any Twilio request, the token check included.
    assert_eq!(sim.log().await.len(), before);
}

#[tokio::test]
async fn nothing_recording_and_twilio_errors() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    // Nothing recorded yet: pause says so (409); state answers "none".
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("nothing is being recorded"));
    let a = post(&app, STATE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("none"))
    );

    let re = recording_on_customer_leg(&sim).await;
    // Twilio rate-limits beyond the retry budget: 429 with Twilio's code.
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 20}}),
    )
    .await;
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.json);
    assert_eq!(a.json["code"], 20429);
    sim.post(
        "/faults",
        json!({"failNext": {"status": 429, "code": 20429, "count": 0}}),
    )
    .await;

    // The recording is stopped by someone else; pausing now finds nothing active.
    let (stopped, _) = sim
        .twilio_post(
            &format!("/Calls/{CA_CUSTOMER}/Recordings/{re}.json"),
            &[("Status", "stopped")],
        )
        .await;
    assert_eq!(stopped, 200);
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json);

    // Twilio is down: 503, never a false success.
    sim.post(
        "/faults",
        json!({"failNext": {"status": 503, "code": 20503, "count": 50}}),
    )
    .await;
    let a = post(&app, RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.json);
}

#[tokio::test]
async fn a_twilio_refusal_of_the_update_passes_its_code() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = backend_for(&sim);
    warm(&app).await;
    // (Twilio's answer to the update, what the plugin gets)
    let cases = [
        // The recording ended between the list and the update.
        (400, 21220, StatusCode::CONFLICT),
        // Twilio.CURRENT ambiguity; we never send it, but the code passes through.
        (400, 16108, StatusCode::BAD_REQUEST),
        // The recording is gone.
        (404, 20404, StatusCode::NOT_FOUND),
        // Our own credentials refused: not the browser's fault.
        (401, 20003, StatusCode::BAD_GATEWAY),
    ];
    for (status, code, want) in cases {
        sim.post(
            "/faults",
            json!({"failNext": {"status": status, "code": code, "count": 1, "after": 3}}),
        )
        .await;
        let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
        assert_eq!(a.status, want, "Twilio {status}/{code}: {}", a.json);
        assert_eq!(a.json["code"], code, "{}", a.json);
        assert!(
            a.json["message"]
                .as_str()
                .unwrap()
                .contains("pausing the recording"),
            "{}",
            a.json
        );
        let last = sim.log().await.last().cloned().unwrap();
        assert_eq!(last["method"], "POST");
        assert!(
            last["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/Recordings/{re}.json")),
            "{last}"
        );
        assert_eq!(status_of(&sim, &re).await, "in-progress");
    }
}

#[tokio::test]
async fn conference_method_pauses_flexs_conference_recording() {
    let sim = Sim::start().await;
    sim.scene().await;
    // Flex records the conference: the accept asked for it, two joined.
    sim.put(
        &format!("/tasks/{WT}/accept"),
        json!({"conferenceRecord": true}),
    )
    .await;
    let re = sim.state().await["conferenceRecordings"][0]["sid"]
        .as_str()
        .expect("Flex's conference recording")
        .to_string();
    let app = backend_for(&sim);
    let on_conf = |cf: &str| {
        vec![
            ("Token", TOKEN.to_string()),
            ("taskSid", WT.to_string()),
            ("conferenceSid", cf.to_string()),
        ]
    };
    let mut pause = on_conf(CF);
    pause.push(("pauseBehavior", "silence".into()));
    let a = post(&app, PAUSE, &pause).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        a.json["recordings"],
        json!([{"recordingSid": re, "conferenceSid": CF, "status": "paused"}])
    );
    assert_eq!(status_of(&sim, &re).await, "paused");
    let a = post(&app, STATE, &on_conf(CF)).await;
    assert_eq!(a.json["state"], "paused");
    let a = post(&app, RESUME, &on_conf(CF)).await;
    assert_eq!(
        (a.status, a.json["state"].clone()),
        (StatusCode::OK, json!("recording"))
    );
    assert_eq!(status_of(&sim, &re).await, "in-progress");
    // Call recordings are untouched by a conference pause.
    assert!(sim.recordings().await.is_empty());
}

/// Flex's Call Recording on beside the plugin's leg recording, and a third
/// recording on the customer's call someone else already paused: a pause
/// reaches every running one by SID (never Twilio.CURRENT, which would meet
/// 16108 with two) and says which it paused; a resume naming those resumes
/// them and leaves the other paused.
#[tokio::test]
async fn a_pause_reaches_every_recording_of_the_call_and_a_resume_exactly_those() {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        &format!("/tasks/{WT}/accept"),
        json!({"conferenceRecord": true}),
    )
    .await;
    let conference = sim.state().await["conferenceRecordings"][0]["sid"]
        .as_str()
        .expect("Flex's conference recording")
        .to_string();
    let leg = recording_on_customer_leg(&sim).await;
    let other = sim.start_recording_elsewhere(CA_CUSTOMER).await;
    let (s, _) = sim
        .twilio_post(
            &format!("/Calls/{CA_CUSTOMER}/Recordings/{other}.json"),
            &[("Status", "paused")],
        )
        .await;
    assert_eq!(s, 200);
    let app = backend_for(&sim);
    let everywhere = |extra: Option<(&'static str, String)>| {
        let mut pairs = on_call(CA_CUSTOMER);
        pairs.push(("conferenceSid", CF.into()));
        pairs.extend(extra);
        pairs
    };

    let a = post(&app, PAUSE, &everywhere(None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let mut paused: Vec<String> = serde_json::from_value(a.json["paused"].clone()).unwrap();
    paused.sort();
    let mut want = vec![leg.clone(), conference.clone()];
    want.sort();
    assert_eq!(paused, want, "{}", a.json);
    for re in [&leg, &conference, &other] {
        assert_eq!(status_of(&sim, re).await, "paused", "{re}");
    }
    assert_eq!(a.json["recordings"].as_array().unwrap().len(), 3);

    let a = post(
        &app,
        RESUME,
        &everywhere(Some(("recordingSids", paused.join(",")))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let mut resumed: Vec<String> = serde_json::from_value(a.json["resumed"].clone()).unwrap();
    resumed.sort();
    assert_eq!(resumed, want);
    assert_eq!(status_of(&sim, &leg).await, "in-progress");
    assert_eq!(status_of(&sim, &conference).await, "in-progress");
    assert_eq!(status_of(&sim, &other).await, "paused", "not this pause's");
    // Still paused: the state says so.
    assert_eq!(a.json["state"], "paused");

    let log = sim.log().await;
    assert_eq!(count(&log, "POST", "Twilio.CURRENT"), 0);
    assert!(
        !log.iter().any(|e| e.to_string().contains("16108")),
        "16108 met"
    );
}

/// A resume records again, so the Flex configuration's rules apply to it as
/// to a recording (the method aside); a pause records nothing and is never
/// refused by them.
#[tokio::test]
async fn a_resume_is_refused_on_a_task_the_policy_now_excludes() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    // The administrator excludes the call's number meanwhile; a fresh
    // backend reads the configuration anew.
    sim.flex_config(
        json!({"enabled": true, "channel": "customer", "method": "conference",
               "exclude_attributes": [{"key": "call_sid", "value": CA_CUSTOMER}]}),
        false,
    )
    .await;
    let app = backend_for(&sim);
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(status_of(&sim, &re).await, "paused");
    let a = post(&app, RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["code"], "excluded", "{}", a.json);
    assert_eq!(status_of(&sim, &re).await, "paused");
    // Disabled: the same.
    sim.flex_config(json!({"enabled": false}), false).await;
    let a = post(&backend_for(&sim), RESUME, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json);
    assert_eq!(a.json["code"], "disabled", "{}", a.json);
}

/// The Flex configuration with recording on and `max_pause_seconds`, and a
/// backend that steps in `grace` after it.
async fn watched_backend(sim: &Sim, max_pause_seconds: f64, grace: Duration) -> axum::Router {
    sim.pause_config(max_pause_seconds).await;
    let mut cfg = config(&sim.url, &[], &[]);
    cfg.pause_watch_grace = grace;
    backend(cfg)
}

async fn wait_for_status(sim: &Sim, re: &str, want: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if status_of(sim, re).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A pause no browser resumes (the tab was closed) is resumed by the backend
/// once `max_pause_seconds` and the grace have passed.
#[tokio::test]
async fn a_pause_no_browser_resumes_is_resumed_after_max_pause_seconds() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = watched_backend(&sim, 0.5, Duration::from_millis(100)).await;
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(status_of(&sim, &re).await, "paused");
    assert!(
        wait_for_status(&sim, &re, "in-progress", Duration::from_secs(10)).await,
        "still {} long after max_pause_seconds",
        status_of(&sim, &re).await
    );
    // Addressed by SID, as every update.
    let log = sim.log().await;
    assert_eq!(count(&log, "POST", "Twilio.CURRENT"), 0);
}

/// Never early: a resume then a new pause starts the clock again; the first
/// pause's timer finds its pause gone and leaves the new one alone.
#[tokio::test]
async fn a_later_pause_is_not_cut_short_by_an_earlier_pauses_timer() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = watched_backend(&sim, 1.5, Duration::from_millis(100)).await;
    let first = Instant::now();
    assert_eq!(
        post(&app, PAUSE, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post(&app, RESUME, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post(&app, PAUSE, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    let second = Instant::now();
    // The first pause's timer fires 1.6 s after it; the second's 1.6 s after
    // the second pause, at least 0.6 s later.
    tokio::time::sleep_until((first + Duration::from_millis(1900)).into()).await;
    assert!(
        second.elapsed() < Duration::from_millis(1600),
        "the machine was too slow for this check"
    );
    assert_eq!(status_of(&sim, &re).await, "paused");
    assert!(wait_for_status(&sim, &re, "in-progress", Duration::from_secs(10)).await);
}

/// A pause the plugin resumed itself is not touched again, and without
/// `max_pause_seconds` nothing is watched.
#[tokio::test]
async fn resumed_or_unlimited_pauses_are_left_to_the_plugin() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = watched_backend(&sim, 0.3, Duration::from_millis(50)).await;
    assert_eq!(
        post(&app, PAUSE, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, RESUME, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    let updates = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        count(&sim.log().await, "POST", &format!("/Recordings/{re}.json")),
        updates,
        "the backend resumed a pause that had been resumed"
    );

    // No max_pause_seconds: the pause stays until someone resumes it.
    sim.flex_config(json!({"enabled": true, "channel": "customer"}), false)
        .await;
    let mut cfg = config(&sim.url, &[], &[]);
    cfg.pause_watch_grace = Duration::from_millis(50);
    let app = backend(cfg);
    assert_eq!(
        post(&app, PAUSE, &on_call(CA_CUSTOMER)).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(status_of(&sim, &re).await, "paused");
}

/// Twilio's 16114 ("resource not in a state to accept recording action
/// request", a transfer in progress) says to retry the recording action: the
/// pause goes through once Twilio takes it.
#[tokio::test]
async fn a_recording_action_twilio_cannot_take_yet_is_retried() {
    let sim = Sim::start().await;
    sim.scene().await;
    let re = recording_on_customer_leg(&sim).await;
    let app = backend_for(&sim);
    warm(&app).await;
    sim.post(
        "/faults",
        json!({"failNext": {"status": 409, "code": 16114, "count": 2, "after": 3}}),
    )
    .await;
    let a = post(&app, PAUSE, &on_call(CA_CUSTOMER)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(status_of(&sim, &re).await, "paused");
    assert_eq!(
        count(&sim.log().await, "POST", &format!("/Recordings/{re}.json")),
        3,
        "two refused updates, then the one Twilio took"
    );
}
