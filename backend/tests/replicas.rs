//! Several backend replicas sharing a real `redis-server` (Debian's package,
//! installed by `scripts/ensure-tools.sh`): one recording per call across
//! replicas and restarts, and recording anyway, without duplicates Twilio
//! already shows, when Redis cannot be reached.

mod common;

use axum::http::StatusCode;
use axum::Router;
use common::*;
use recording_backend::claims::ClaimStore;
use recording_backend::config::Config;
use recording_backend::{app, AppState};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `redis-server` of our own on a free loopback port, without persistence,
/// stopped when dropped.
struct RedisServer {
    child: Option<Child>,
    port: u16,
}

impl RedisServer {
    async fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer { child: None, port };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed; run scripts/ensure-tools.sh (Debian package redis-server)");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Ok(mut c) = self.client().get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok() {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on port {} did not answer within 10 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stopped and started again on the same port: without persistence, every
    /// claim is gone, as after a Redis restart that lost its data.
    async fn restart(&mut self) {
        self.stop();
        self.launch().await;
    }

    async fn set(&self, key: &str, value: &str) {
        let mut c = self
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query_async(&mut c)
            .await
            .unwrap();
    }

    async fn get(&self, key: &str) -> Option<String> {
        let mut c = self
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn claim_key(call_sid: &str) -> String {
    format!("dual-channel-recording:{AC}:claim:{call_sid}")
}

/// One replica: its own caches and process state, sharing only Redis (and Twilio).
fn replica(sim: &Sim, redis_url: &str, wait: Option<Duration>) -> (Router, AppState) {
    let config = config(&sim.url, &[], &[("REDIS_URL", redis_url)]);
    let state = match wait {
        None => AppState::with_retry(config, test_retry()).unwrap(),
        Some(wait) => state_with_wait(config, wait),
    };
    (app(state.clone()), state)
}

fn state_with_wait(config: Config, wait: Duration) -> AppState {
    let retry = test_retry();
    let claims =
        ClaimStore::new(config.redis.clone().unwrap(), &config.account_sid, &retry).with_wait(wait);
    AppState::with_claims(config, retry, Some(claims)).unwrap()
}

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

fn failures(state: &AppState) -> u64 {
    state.0.claims.as_ref().unwrap().failures()
}

async fn media(sim: &Sim) -> Vec<Value> {
    sim.attributes(WT).await["conversations"]["media"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

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

/// A TCP proxy in front of Redis that can cut every connection, as a
/// network partition would: unlike a restart, Redis keeps what it holds.
struct Partition {
    port: u16,
    cut: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Partition {
    async fn start(redis_port: u16) -> Partition {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let (cut, links) = (cut.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(std::sync::atomic::Ordering::SeqCst) {
                        continue;
                    }
                    let link = tokio::spawn(async move {
                        let Ok(mut outbound) =
                            tokio::net::TcpStream::connect(("127.0.0.1", redis_port)).await
                        else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    });
                    links.lock().unwrap().push(link.abort_handle());
                }
            }
        });
        Partition {
            port,
            cut,
            links,
            accept,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn heal(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
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
