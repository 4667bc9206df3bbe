//! A stateful local stand-in for the few Twilio REST endpoints the recording
//! backend calls (see `docs/CONTRACTS.md`), plus a `/_sim/` control API that
//! tests and the demo use to set the scene and inject faults.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let state = twilio_sim::SimState::new(twilio_sim::SimConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! twilio_sim::serve(listener, state).await
//! # }
//! ```

mod account;
mod cloudevents;
mod control;
mod control_events;
mod control_reservations;
mod error;
mod events;
mod faults;
mod model;
mod outbound;
mod recording_status;
mod request;
mod rest;
mod signature;
mod taskrouter;
mod time;
mod voice;
mod wire;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

use model::Sim;

/// Credentials and identifiers the simulator accepts. `Default` gives the
/// fixed local values of `docs/CONTRACTS.md`.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key: String,
    pub api_secret: String,
    pub workspace_sid: String,
    /// Oldest `/_sim/log` entries are dropped beyond this many, so a long
    /// benchmark cannot grow memory without bound (`seq` keeps counting).
    pub log_limit: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            auth_token: "sim-auth-token".into(),
            api_key: "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            api_secret: "sim-api-secret".into(),
            workspace_sid: "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            log_limit: 100_000,
        }
    }
}

/// Shared simulator state; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    // One lock for world, faults and log: every request touches at most a
    // few entries, and a single lock makes fault ordering trivially exact.
    sim: Mutex<Sim>,
    sid_seed: u64,
    sid_counter: AtomicU64,
    outbound: outbound::Outbound,
}

impl SimState {
    pub fn new(config: SimConfig) -> Self {
        SimState {
            inner: Arc::new(Inner {
                config,
                sim: Mutex::new(Sim::default()),
                sid_seed: sid_seed(),
                sid_counter: AtomicU64::new(1),
                outbound: outbound::Outbound::new(),
            }),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    pub(crate) fn outbound(&self) -> &outbound::Outbound {
        &self.inner.outbound
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Sim> {
        // A poisoned lock only means another handler panicked mid-update;
        // the data is still usable and a simulator must keep answering.
        self.inner.sim.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh Twilio-shaped SID: `prefix` + 32 hex digits, unique per process
    /// (the counter survives `/_sim/reset`, so old SIDs never come back).
    pub(crate) fn new_sid(&self, prefix: &str) -> String {
        let n = self.inner.sid_counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{:016x}{:016x}", self.inner.sid_seed, n)
    }
}

fn sid_seed() -> u64 {
    // Different per run so SIDs from two simulator runs do not collide in logs.
    let mut x = (time::now_ms() as u64) ^ (u64::from(std::process::id()) << 32);
    // splitmix64 finaliser to spread the bits.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The whole simulator: Twilio REST paths and the `/_sim/` control API.
pub fn app(state: SimState) -> Router {
    Router::new()
        .nest("/_sim", control::router(state.clone()))
        .merge(rest::router(state))
}

/// Serves `app(state)` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: SimState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then lets
/// open requests finish.
pub async fn serve_with_shutdown<F>(
    listener: tokio::net::TcpListener,
    state: SimState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
