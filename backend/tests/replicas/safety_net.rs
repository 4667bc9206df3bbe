//! The safety net across replicas: each event handled once, the audit
//! shared, and a stopped replica's pending checks made by one that starts.

use crate::common;
use crate::common::redis_server::RedisServer;
use crate::common::*;
use axum::http::StatusCode;
use axum::Router;
use recording_backend::{app, AppState};

/// A replica with the safety net, the status callbacks and the audit on.
fn net_replica(sim: &Sim, redis_url: &str) -> (Router, AppState) {
    let config = common::net::net_config(sim, &[("REDIS_URL", redis_url)]);
    let state = AppState::with_retry(config, test_retry()).unwrap();
    (app(state.clone()), state)
}

#[tokio::test]
async fn each_event_is_handled_once_across_replicas_and_the_audit_outlives_them() {
    use common::net::*;
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    let (a, state_a) = net_replica(&sim, &redis.url());
    let (b, state_b) = net_replica(&sim, &redis.url());
    // Twilio delivers the same event to both (a retry after a slow answer).
    let batch = [accepted("EVshared")];
    let (one, two) = tokio::join!(deliver(&a, &batch), deliver(&b, &batch));
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(two.status, StatusCode::OK);
    let handled = one.json["handled"].as_u64().unwrap() + two.json["handled"].as_u64().unwrap();
    assert_eq!(handled, 1, "{:?} {:?}", one.json, two.json);
    settle(&state_a).await;
    settle(&state_b).await;
    let recordings = sim.recordings().await;
    assert_eq!(
        recordings
            .iter()
            .filter(|r| r["callSid"] == CA_CUSTOMER)
            .count(),
        1,
        "{recordings:?}"
    );
    // Both replicas see it in the audit, and so does one started afterwards.
    drop((a, b, state_a, state_b));
    let (c, _) = net_replica(&sim, &redis.url());
    let report = audit(&c, Some(AUDIT)).await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.json["store"], "redis");
    assert_eq!(
        report.json["recorded"][0]["taskSid"], WT,
        "{:?}",
        report.json
    );
    assert_eq!(report.json["recorded"][0]["by"], "safety-net");
    // A status callback on another replica reaches the same task.
    let re = report.json["recorded"][0]["recordingSid"]
        .as_str()
        .unwrap()
        .to_string();
    let cb = [
        ("AccountSid", AC),
        ("CallSid", CA_CUSTOMER),
        ("RecordingSid", re.as_str()),
        ("RecordingStatus", "failed"),
    ];
    assert_eq!(
        send(&c, status_callback(&cb, AUTH)).await.status,
        StatusCode::NO_CONTENT
    );
    let (d, _) = net_replica(&sim, &redis.url());
    let report = audit(&d, Some(AUDIT)).await;
    assert_eq!(
        report.json["unrecorded"][0]["reason"], "recording-failed",
        "{:?}",
        report.json
    );
    assert_eq!(report.json["unrecorded"][0]["recordingSid"], re.as_str());
}

#[tokio::test]
async fn a_starting_replica_makes_the_checks_a_stopped_one_was_waiting_for() {
    use common::net::*;
    use recording_backend::domain::audit::Accept;
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    // Replica A noted the accept, then stopped before its check was due.
    let (_a, state_a) = net_replica(&sim, &redis.url());
    let accepted_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    state_a
        .0
        .audit
        .accepted(Accept {
            task: WT,
            accepted_ms,
            call: Some(CA_CUSTOMER),
            reservation: Some(WR),
            worker: Some(WK),
        })
        .await;
    drop(state_a);
    assert!(sim.recordings().await.is_empty());
    let (b, state_b) = net_replica(&sim, &redis.url());
    state_b.0.safety_net.clone().rearm().await;
    settle(&state_b).await;
    let recordings = sim.recordings().await;
    assert_eq!(
        recordings
            .iter()
            .filter(|r| r["callSid"] == CA_CUSTOMER)
            .count(),
        1,
        "{recordings:?}"
    );
    let report = audit(&b, Some(AUDIT)).await;
    assert_eq!(
        report.json["recorded"][0]["by"], "safety-net",
        "{:?}",
        report.json
    );
    // Decided now: a second start takes nothing over.
    let (_c, state_c) = net_replica(&sim, &redis.url());
    state_c.0.safety_net.clone().rearm().await;
    settle(&state_c).await;
    assert_eq!(sim.recordings().await.len(), 1);
}
