//! Redis down, restarted empty, or gone and back: the backend records anyway,
//! without duplicates Twilio already shows, and follows Redis without a restart.

use crate::common::redis_server::RedisServer;
use crate::common::*;
use crate::{claim_key, failures, media, replica};
use axum::http::StatusCode;
use std::time::{Duration, Instant};

#[tokio::test]
async fn redis_down_records_anyway_and_falls_back_to_twilios_list() {
    let sim = Sim::start().await;
    sim.scene().await;
    let nobody = closed_port_url().await.replace("http://", "redis://");
    let (a, state_a) = replica(&sim, &nobody, None);
    let (b, state_b) = replica(&sim, &nobody, None);

    let started = Instant::now();
    let first = create(&a, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["alreadyRecording"], false);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "an unreachable store must not hold the request up: {:?}",
        started.elapsed()
    );
    assert_eq!(failures(&state_a), 1);
    // Before starting, Twilio's list of the call's recordings was read.
    let log = sim.log().await;
    let list = log
        .iter()
        .position(|e| {
            e["method"] == "GET" && e["path"].as_str().unwrap().ends_with("/Recordings.json")
        })
        .expect("the fallback reads the call's recordings");
    let start = log
        .iter()
        .position(|e| {
            e["method"] == "POST" && e["path"].as_str().unwrap().ends_with("/Recordings.json")
        })
        .unwrap();
    assert!(list < start);

    // The other replica, Redis still down: Twilio's list has the recording.
    let second = create(&b, &customer_request()).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    assert_eq!(second.json["alreadyRecording"], true);
    assert_eq!(second.json["recordingSid"], first.json["recordingSid"]);
    assert_eq!(failures(&state_b), 1);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(media(&sim).await.len(), 1);
}

#[tokio::test]
async fn redis_that_lost_its_claims_still_gives_one_recording() {
    let mut redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    let (a, state_a) = replica(&sim, &redis.url(), None);
    let (b, state_b) = replica(&sim, &redis.url(), None);
    let first = create(&a, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    redis.restart().await;
    assert_eq!(redis.get(&claim_key(CA_CUSTOMER)).await, None);
    // B had never connected; A's connection was dropped by the restart.
    for app in [&b, &a] {
        let again = create(app, &customer_request()).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.json);
        assert_eq!(again.json["alreadyRecording"], true);
        assert_eq!(again.json["recordingSid"], first.json["recordingSid"]);
    }
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(media(&sim).await.len(), 1);
    // Once reconnected the claim is back in Redis, for every replica.
    let stored = redis.get(&claim_key(CA_CUSTOMER)).await.unwrap_or_default();
    assert!(
        stored.starts_with(&format!(
            "recorded:{}:",
            first.json["recordingSid"].as_str().unwrap()
        )),
        "{stored}"
    );
    // The dropped connection was noticed and replaced on first use: no
    // request went on without the store.
    assert_eq!(failures(&state_a), 0);
    assert_eq!(failures(&state_b), 0);
}

/// The worker's own leg, listed on its reservation.
fn worker_leg_request() -> Vec<(&'static str, String)> {
    vec![
        ("callSid", CA_WORKER.into()),
        ("Token", TOKEN.into()),
        ("taskSid", WT.into()),
        ("reservationSid", WR.into()),
        ("leg", "worker".into()),
        ("target", "reservation".into()),
        ("acceptedAt", ACCEPTED_AT.to_string()),
        ("conferenceSid", CF.into()),
    ]
}

#[tokio::test]
async fn redis_going_away_and_coming_back_is_followed_without_a_restart() {
    let mut redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    let (a, state) = replica(&sim, &redis.url(), None);
    let first = create(&a, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(failures(&state), 0);

    redis.stop();
    let started = Instant::now();
    let during = create(&a, &worker_leg_request()).await;
    assert_eq!(during.status, StatusCode::OK, "{}", during.json);
    assert_eq!(during.json["alreadyRecording"], false);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(failures(&state), 1);

    redis.launch().await;
    // Past the pause after a failed connection attempt.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = create(&a, &customer_request()).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.json);
    assert_eq!(after.json["recordingSid"], first.json["recordingSid"]);
    assert_eq!(failures(&state), 1, "Redis is back: used again");
    // The claim lost with Redis's data is written again from Twilio's list.
    let stored = redis.get(&claim_key(CA_CUSTOMER)).await.unwrap_or_default();
    assert!(
        stored.starts_with(&format!(
            "recorded:{}:",
            first.json["recordingSid"].as_str().unwrap()
        )),
        "{stored}"
    );
    assert_eq!(sim.recordings().await.len(), 2);
}
