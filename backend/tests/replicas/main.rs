//! Several backend replicas sharing a real `redis-server` (Debian's package,
//! installed by `scripts/ensure-tools.sh`): one recording per call across
//! replicas and restarts, and recording anyway, without duplicates Twilio
//! already shows, when Redis cannot be reached. One test binary, one file
//! per job: on a small machine fewer binaries link faster.

#[path = "../common/mod.rs"]
mod common;

use axum::Router;
use common::*;
use recording_backend::claims::ClaimStore;
use recording_backend::config::Config;
use recording_backend::{app, AppState};
use serde_json::Value;
use std::time::Duration;

mod claims;
mod outage;
mod pause;
mod safety_net;

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

fn failures(state: &AppState) -> u64 {
    state.0.claims.as_ref().unwrap().failures()
}

async fn media(sim: &Sim) -> Vec<Value> {
    sim.attributes(WT).await["conversations"]["media"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
