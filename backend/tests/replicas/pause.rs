//! `pause_watch` across replicas: a pause's timer follows resumes made on
//! another replica, is taken over by a replica that starts, and is never
//! ended early by a token the store kept through a failure.

use crate::common::redis_server::{Partition, RedisServer};
use crate::common::*;
use crate::failures;
use axum::http::StatusCode;
use axum::Router;
use recording_backend::claims::ClaimStore;
use recording_backend::{app, AppState};
use std::time::{Duration, Instant};

/// What a replica does at start: take over the pause timers in the store.
async fn rearm(state: AppState) {
    state.0.pause_watch.clone().rearm().await
}

const PAUSE: &str = "/features/dual-channel-recording/flex/pause-recording";

const RESUME: &str = "/features/dual-channel-recording/flex/resume-recording";

/// Records the customer leg through `replica`; the recording's SID.
async fn recorded_customer_leg(replica: &Router) -> String {
    let started = create(replica, &customer_request()).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.json);
    started.json["recordingSid"].as_str().unwrap().to_string()
}

/// A replica on this Redis whose pause timers fire 100 ms after
/// `max_pause_seconds` (a 10 s grace in production).
fn watched_replica(sim: &Sim, redis_url: &str) -> AppState {
    let mut cfg = config(&sim.url, &[], &[("REDIS_URL", redis_url)]);
    cfg.pause_watch_grace = Duration::from_millis(100);
    AppState::with_retry(cfg, test_retry()).unwrap()
}

/// `pause_watch` across replicas: a pause made on one replica, resumed and
/// paused again on another, is not cut short by the first replica's timer,
/// and the newest pause is still resumed after `max_pause_seconds`.
#[tokio::test]
async fn a_pause_watched_on_one_replica_follows_resumes_on_another() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    sim.pause_config(1.5).await;
    let watched = || app(watched_replica(&sim, &redis.url()));
    let (a, b) = (watched(), watched());
    let re = recorded_customer_leg(&a).await;
    let on_call = [("Token", TOKEN), ("taskSid", WT), ("callSid", CA_CUSTOMER)];
    let status = || sim.recording_status(&re);

    let first = Instant::now();
    assert_eq!(post_form(&a, PAUSE, &on_call).await.status, StatusCode::OK);
    assert!(redis
        .get(&format!("dual-channel-recording:{AC}:paused:{re}"))
        .await
        .is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(post_form(&b, RESUME, &on_call).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(post_form(&b, PAUSE, &on_call).await.status, StatusCode::OK);
    let second = Instant::now();
    // Replica A's timer fires 1.6 s after the first pause; B's 1.6 s after
    // the second, at least 0.6 s later.
    tokio::time::sleep_until((first + Duration::from_millis(1900)).into()).await;
    assert!(
        second.elapsed() < Duration::from_millis(1600),
        "the machine was too slow for this check"
    );
    assert_eq!(
        status().await,
        "paused",
        "replica A resumed replica B's pause early"
    );
    sim.await_recording_status(
        &re,
        "in-progress",
        Duration::from_secs(10),
        "the second pause was never resumed",
    )
    .await;
    assert!(redis
        .get(&format!("dual-channel-recording:{AC}:paused:{re}"))
        .await
        .is_none());
}

/// A claim store that failed since a pause leaves that pause's timer
/// unsure whether a resume and a new pause went unrecorded: it does not
/// resume (the plugin still will), rather than risk ending a pause early.
#[tokio::test]
async fn a_pause_timer_does_not_resume_after_the_store_failed() {
    let mut redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    sim.pause_config(1.5).await;
    let state = watched_replica(&sim, &redis.url());
    let a = app(state.clone());
    let re = recorded_customer_leg(&a).await;
    let on_call = [("Token", TOKEN), ("taskSid", WT), ("callSid", CA_CUSTOMER)];
    let status = || sim.recording_status(&re);
    assert_eq!(post_form(&a, PAUSE, &on_call).await.status, StatusCode::OK);
    let key = format!("dual-channel-recording:{AC}:paused:{re}");
    let token = redis.get(&key).await.expect("the pause's token");
    // The store cannot be reached: the resume and the new pause are not
    // recorded in it.
    redis.stop();
    assert_eq!(post_form(&a, RESUME, &on_call).await.status, StatusCode::OK);
    assert_eq!(post_form(&a, PAUSE, &on_call).await.status, StatusCode::OK);
    assert!(failures(&state) >= 2, "{}", failures(&state));
    // It comes back with what it held (a network partition, not a restart
    // that lost its data): the first pause's token looks current.
    redis.restart().await;
    redis.set(&key, &token).await;
    // The first pause's timer fires 1.6 s after it; the failures since that
    // pause keep it from resuming the second one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status().await, "paused", "a pause was ended early");
}

/// A replica that stops mid-pause (a rolling deploy, a crash) loses its
/// timer; a replica that starts takes it over from Redis
/// (`pause_watch::rearm`): a pause already due is resumed at once, a pause
/// not yet due when it is due (its key's time to live in Redis says when)
/// and not earlier, and once.
#[tokio::test]
async fn a_replica_that_starts_takes_over_the_pause_timers() {
    let redis = RedisServer::start().await;
    let sim = Sim::start().await;
    sim.scene().await;
    sim.pause_config(1.5).await;
    let watched = || watched_replica(&sim, &redis.url());
    // A replica on a runtime of its own: shutting that down ends its timers
    // as the end of its process would.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    };
    let pause = |rt: &tokio::runtime::Runtime, replica: Router| {
        rt.spawn(async move {
            let on_call = [("Token", TOKEN), ("taskSid", WT), ("callSid", CA_CUSTOMER)];
            post_form(&replica, PAUSE, &on_call).await.status
        })
    };

    let a_runtime = runtime();
    let a = app(watched());
    let re = a_runtime
        .spawn({
            let a = a.clone();
            async move {
                let started = create(&a, &customer_request()).await;
                assert_eq!(started.status, StatusCode::OK, "{}", started.json);
                started.json["recordingSid"].as_str().unwrap().to_string()
            }
        })
        .await
        .unwrap();
    let status = || sim.recording_status(&re);
    let first = Instant::now();
    assert_eq!(pause(&a_runtime, a).await.unwrap(), StatusCode::OK);
    a_runtime.shutdown_background();
    // Past the pause's time (1.6 s): A's timer is gone with it.
    tokio::time::sleep_until((first + Duration::from_millis(2200)).into()).await;
    assert_eq!(status().await, "paused", "a stopped replica's timer ran");

    // Replica B starts: the pause is overdue, so it is resumed at once.
    let b_runtime = runtime();
    let b_state = watched();
    let b = app(b_state.clone());
    b_runtime.spawn(rearm(b_state));
    sim.await_recording_status(
        &re,
        "in-progress",
        Duration::from_secs(5),
        "the overdue pause was never resumed",
    )
    .await;

    // A new pause on B, and B stops too; replica C starts 0.3 s later.
    let posts_before = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    let second = Instant::now();
    assert_eq!(pause(&b_runtime, b).await.unwrap(), StatusCode::OK);
    b_runtime.shutdown_background();
    tokio::time::sleep_until((second + Duration::from_millis(300)).into()).await;
    rearm(watched()).await;
    // Due 1.5 s after the pause (C's timer: plus twice the grace).
    tokio::time::sleep_until((second + Duration::from_millis(1300)).into()).await;
    assert_eq!(
        status().await,
        "paused",
        "a taken-over timer ended a pause early"
    );
    sim.await_recording_status(
        &re,
        "in-progress",
        Duration::from_secs(5),
        "the second pause was never resumed",
    )
    .await;
    assert!(
        second.elapsed() >= Duration::from_millis(1500),
        "resumed {:?} after the pause",
        second.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    assert_eq!(posts - posts_before, 2, "one pause and one resume");
    assert!(redis
        .get(&format!("dual-channel-recording:{AC}:paused:{re}"))
        .await
        .is_none());

    // C pauses and stays up; D starts and takes the timer over too: two
    // timers, one resume.
    let c = app(watched());
    let posts_before = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    let on_call = [("Token", TOKEN), ("taskSid", WT), ("callSid", CA_CUSTOMER)];
    assert_eq!(post_form(&c, PAUSE, &on_call).await.status, StatusCode::OK);
    rearm(watched()).await;
    sim.await_recording_status(
        &re,
        "in-progress",
        Duration::from_secs(5),
        "the third pause was never resumed",
    )
    .await;
    // D's timer fires a grace after C's.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let posts = count(&sim.log().await, "POST", &format!("/Recordings/{re}.json"));
    assert_eq!(posts - posts_before, 2, "two timers, one resume");
}

/// A resume and a new pause the store did not hear of (a partition: Redis
/// keeps the first pause's token) must not let a replica that starts later
/// take the first pause's timer over and end the second pause early: once
/// the store answers again, the stale token is replaced.
#[tokio::test]
async fn a_token_the_store_kept_through_a_partition_is_not_taken_over() {
    let redis = RedisServer::start().await;
    let partition = Partition::start(redis.port).await;
    let sim = Sim::start().await;
    sim.scene().await;
    sim.pause_config(1.5).await;
    let watched = |url: &str| watched_replica(&sim, url);
    let a_state = watched(&partition.url());
    let a = app(a_state.clone());
    let re = recorded_customer_leg(&a).await;
    let on_call = [("Token", TOKEN), ("taskSid", WT), ("callSid", CA_CUSTOMER)];
    let status = || sim.recording_status(&re);
    let key = format!("dual-channel-recording:{AC}:paused:{re}");

    let first = Instant::now();
    assert_eq!(post_form(&a, PAUSE, &on_call).await.status, StatusCode::OK);
    let stale = redis.get(&key).await.expect("the first pause's token");
    partition.cut();
    assert_eq!(post_form(&a, RESUME, &on_call).await.status, StatusCode::OK);
    assert_eq!(post_form(&a, PAUSE, &on_call).await.status, StatusCode::OK);
    assert!(failures(&a_state) >= 2, "{}", failures(&a_state));
    assert_eq!(redis.get(&key).await.as_deref(), Some(stale.as_str()));
    partition.heal();
    let until = Instant::now() + Duration::from_secs(10);
    while redis.get(&key).await.as_deref() == Some(stale.as_str()) {
        assert!(
            Instant::now() < until,
            "the first pause's token still looks current"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A replica that starts now finds no timer to take over; the second
    // pause goes on past the first one's time (1.6 s) and past when a
    // taken-over timer would fire (twice the grace after the listing).
    rearm(watched(&redis.url())).await;
    let listed = Instant::now();
    tokio::time::sleep_until(
        (first + Duration::from_millis(2500))
            .max(listed + Duration::from_millis(500))
            .into(),
    )
    .await;
    assert_eq!(status().await, "paused", "the second pause was ended early");
}

/// What `make_stale` asks of Redis: a watched pause token written before
/// the failure is replaced, one written after it, an unwatched one or a
/// missing key stays as it is. A token's age is what its time to live has
/// lost (the key lives `max + token_ttl`).
#[tokio::test]
async fn only_a_watched_token_older_than_the_failure_is_made_stale() {
    let redis = RedisServer::start().await;
    let target = recording_backend::config::RedisTarget::parse(&redis.url()).unwrap();
    let store = ClaimStore::new(target, &AC.parse().unwrap(), &test_retry());
    let token_ttl = Duration::from_secs(600);
    let sid = |re: &str| -> dual_channel_recording::sid::RecordingSid { re.parse().unwrap() };
    let key = |re: &str| format!("dual-channel-recording:{AC}:paused:{re}");
    let (older, newer, unwatched) = (
        "RE000000000000000000000000000000a1",
        "RE000000000000000000000000000000a2",
        "RE000000000000000000000000000000a3",
    );
    let watched = format!("n1:1500:{WT}:Calls/{CA_CUSTOMER}");
    let ttl = Duration::from_millis(1500) + token_ttl;
    store.mark_paused(&sid(older), &watched, ttl).await.unwrap();
    store
        .mark_paused(&sid(unwatched), "n3", token_ttl)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    store.mark_paused(&sid(newer), &watched, ttl).await.unwrap();
    // The failure was 300 ms ago: `older` (400 ms old) was written before it.
    let since = Duration::from_millis(300);
    assert!(store
        .replace_older_pause(&sid(older), since, token_ttl, "s1")
        .await
        .unwrap());
    assert!(!store
        .replace_older_pause(&sid(newer), since, token_ttl, "s2")
        .await
        .unwrap());
    assert!(!store
        .replace_older_pause(&sid(unwatched), since, token_ttl, "s3")
        .await
        .unwrap());
    let missing = "RE000000000000000000000000000000a4";
    assert!(!store
        .replace_older_pause(&sid(missing), since, token_ttl, "s4")
        .await
        .unwrap());
    assert_eq!(redis.get(&key(older)).await.as_deref(), Some("s1"));
    assert_eq!(
        redis.get(&key(newer)).await.as_deref(),
        Some(watched.as_str())
    );
    assert_eq!(redis.get(&key(unwatched)).await.as_deref(), Some("n3"));
    assert_eq!(redis.get(&key(missing)).await, None);
    // What a starting replica lists: each key with its token and time left.
    let mut listed = store.paused().await.unwrap();
    listed.sort();
    let res: Vec<&str> = listed.iter().map(|(re, _, _)| re.as_str()).collect();
    assert_eq!(res, [older, newer, unwatched]);
    let (_, token, left) = &listed[1];
    assert_eq!(token, &watched);
    assert!(
        *left <= ttl && *left > ttl - Duration::from_secs(5),
        "{left:?}"
    );
}
