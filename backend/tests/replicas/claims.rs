//! One recording per call across replicas and restarts: the claim in Redis,
//! the loser that waits for the winner's recording, a claim that is stale or
//! given up.

use crate::common::redis_server::RedisServer;
use crate::common::*;
use crate::{claim_key, failures, media, replica, state_with_wait};
use axum::http::StatusCode;
use recording_backend::app;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn two_replicas_sharing_redis_start_one_recording() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    // Slow Twilio: the losers ask while the winner is still starting.
    sim.post("/faults", json!({"latencyMs": 150})).await;
    let (a, state_a) = replica(&sim, &redis.url(), None);
    let (b, state_b) = replica(&sim, &redis.url(), None);
    let (sid, started) = create_at_once(&[a, b], 8).await;
    assert_eq!(started, 1);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(count(&sim.log().await, "POST", "/Recordings.json"), 1);
    assert_eq!(media(&sim).await.len(), 1);
    let stored = redis.get(&claim_key(CA_CUSTOMER)).await.unwrap();
    assert!(stored.starts_with(&format!("recorded:{sid}:")), "{stored}");
    assert_eq!(failures(&state_a) + failures(&state_b), 0);
}

#[tokio::test]
async fn a_restarted_replica_answers_with_the_same_recording() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    let (a, _) = replica(&sim, &redis.url(), None);
    let first = create(&a, &customer_request()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    drop(a);
    // A new process: empty caches, nothing but Redis in common.
    let (restarted, state) = replica(&sim, &redis.url(), None);
    let before = sim.log().await.len();
    let again = create(&restarted, &customer_request()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["alreadyRecording"], true);
    assert_eq!(again.json["recordingSid"], first.json["recordingSid"]);
    assert_eq!(again.json["media"], first.json["media"]);
    let log = sim.log().await;
    assert_eq!(count(&log[before..], "POST", "/Recordings.json"), 0);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(media(&sim).await.len(), 1);
    assert_eq!(failures(&state), 0);
}

#[tokio::test]
async fn a_loser_waits_for_the_winners_recording_and_never_starts_one() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    // Another replica holds the claim and is "still starting".
    redis
        .set(&claim_key(CA_CUSTOMER), "pending:0123456789abcdef")
        .await;
    let (app, _) = replica(&sim, &redis.url(), Some(Duration::from_secs(5)));
    let waiting = tokio::spawn({
        let app = app.clone();
        async move { create(&app, &customer_request()).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The winner's recording appears at Twilio and in the store.
    let sid = sim.start_recording_elsewhere(CA_CUSTOMER).await;
    redis
        .set(&claim_key(CA_CUSTOMER), &format!("recorded:{sid}:"))
        .await;
    let answer = waiting.await.unwrap();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["recordingSid"], sid);
    assert_eq!(answer.json["alreadyRecording"], true);
    assert_eq!(sim.recordings().await.len(), 1);
    assert_eq!(media(&sim).await.len(), 1);
}

#[tokio::test]
async fn a_claim_pending_beyond_the_wait_is_try_again_not_a_second_recording() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    redis
        .set(&claim_key(CA_CUSTOMER), "pending:0123456789abcdef")
        .await;
    let (app, state) = replica(&sim, &redis.url(), Some(Duration::from_millis(400)));
    let answer = create(&app, &customer_request()).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.json
    );
    let message = answer.json["message"].as_str().unwrap();
    assert!(message.contains("try again"), "{message}");
    assert_eq!(sim.recordings().await.len(), 0);
    assert_eq!(failures(&state), 0);
    // The winner is gone and its claim ran out: the next request records.
    redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .map(|mut c| async move {
            let () = redis::cmd("DEL")
                .arg(claim_key(CA_CUSTOMER))
                .query_async(&mut c)
                .await
                .unwrap();
        })
        .unwrap()
        .await;
    let retried = create(&app, &customer_request()).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.json);
    assert_eq!(retried.json["alreadyRecording"], false);
    assert_eq!(sim.recordings().await.len(), 1);
}

#[tokio::test]
async fn a_stored_recording_that_is_no_longer_running_is_replaced_once() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    // The store names a recording Twilio does not show in progress (ended,
    // or from a store that outlived the simulator's state).
    let stale = "recorded:REffffffffffffffffffffffffffffffff:1";
    redis.set(&claim_key(CA_CUSTOMER), stale).await;
    let (a, _) = replica(&sim, &redis.url(), None);
    let (b, _) = replica(&sim, &redis.url(), None);
    let request = customer_request();
    let (first, second) = tokio::join!(create(&a, &request), create(&b, &request));
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    assert_eq!(first.json["recordingSid"], second.json["recordingSid"]);
    assert_eq!(sim.recordings().await.len(), 1);
    let stored = redis.get(&claim_key(CA_CUSTOMER)).await.unwrap();
    assert!(
        stored.starts_with(&format!(
            "recorded:{}:",
            first.json["recordingSid"].as_str().unwrap()
        )),
        "{stored}"
    );
}

#[tokio::test]
async fn a_failed_start_gives_the_claim_up() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    let token_only = |sim: &Sim| {
        let config = config(
            &sim.url,
            &[],
            &[("REDIS_URL", &redis.url()), ("AUTHORIZATION", "token-only")],
        );
        app(state_with_wait(config, Duration::from_secs(5)))
    };
    let (a, b) = (token_only(&sim), token_only(&sim));
    // The call is over: Twilio refuses the start (21220).
    sim.post(&format!("/calls/{CA_STRANGER}/end"), json!({}))
        .await;
    let refused = post_form(&a, CREATE, &[("callSid", CA_STRANGER), ("Token", TOKEN)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    assert_eq!(refused.json["code"], 21220);
    assert_eq!(redis.get(&claim_key(CA_STRANGER)).await, None);
    // Nobody waits for a claim that nobody holds: B asks Twilio at once.
    let started = Instant::now();
    let again = post_form(&b, CREATE, &[("callSid", CA_STRANGER), ("Token", TOKEN)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.json);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(count(&sim.log().await, "POST", "/Recordings.json"), 2);
    assert_eq!(sim.recordings().await.len(), 0);
}
