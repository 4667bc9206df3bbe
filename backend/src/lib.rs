//! `recording-backend`: the one part of the plugin that holds Twilio
//! credentials. It checks the agent's Flex token, checks that the call belongs
//! to a task the agent holds, starts a dual-channel recording once per call,
//! and lists it for Flex Insights in the task attributes.
//!
//! Stateless apart from caches (token answers, recordings started by this
//! process): several replicas agree on one recording per call through a
//! shared claim store (`REDIS_URL`, see `domain::recording` and `claims`); without
//! one, run a single replica.

// Bottom: configuration and the clients of what lies outside (Twilio, the
// claim store), with the infrastructure every layer may use (the error
// answer, metrics, logging). Middle: the domain. Top: the HTTP routes. A
// module imports only from its own layer or below (ARCHITECTURE.md).
pub mod audit_cli;
pub mod audit_store;
pub mod claims;
pub mod config;
pub mod error;
pub mod event_streams_setup;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod twilio;
pub mod webhook_signature;

pub mod domain;

pub mod http;

use crate::claims::ClaimStore;
use crate::config::Config;
use crate::domain::{audit, auth, grant, pause_watch, policy, readiness, recording, safety_net};
use crate::error::AppError;
use crate::http::middleware::{self as mw, OriginPolicy};
use crate::twilio::{RetryPolicy, TwilioClient};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use dual_channel_recording::api::{AUTHORIZE_PATH, CREATE_RECORDING_PATH, LINK_CALL_PATH};
use dual_channel_recording::api::{
    PAUSE_RECORDING_PATH, RECORDING_STATE_PATH, RESUME_RECORDING_PATH,
};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the routes work with: the configuration, the clients and the
/// domain's stores, made once at start.
pub struct Inner {
    pub config: Config,
    pub twilio: Arc<TwilioClient>,
    pub tokens: auth::TokenCache,
    pub recordings: Arc<recording::RecordingRegistry>,
    /// Shared with the other replicas (`REDIS_URL`), if configured.
    pub claims: Option<Arc<ClaimStore>>,
    pub policy: Arc<policy::PolicyCache>,
    pub grants: grant::GrantStore,
    pub pause_watch: pause_watch::PauseWatch,
    /// What was (not) recorded, for `GET /audit`.
    pub audit: Arc<audit::Audit>,
    /// Records what the plugin did not (Event Streams).
    pub safety_net: Arc<safety_net::SafetyNet>,
    /// Whether Twilio accepts the credentials (`/readyz`).
    pub readiness: readiness::Readiness,
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl AppState {
    pub fn new(config: Config) -> Result<Self, reqwest::Error> {
        Self::with_retry(config, RetryPolicy::default())
    }

    pub fn with_retry(config: Config, retry: RetryPolicy) -> Result<Self, reqwest::Error> {
        let claims = config
            .redis
            .clone()
            .map(|target| ClaimStore::new(target, &config.account_sid, &retry));
        Self::with_claims(config, retry, claims)
    }

    /// With a claim store made by the caller (tests shorten its wait).
    pub fn with_claims(
        config: Config,
        retry: RetryPolicy,
        claims: Option<ClaimStore>,
    ) -> Result<Self, reqwest::Error> {
        // Before anything sets a metric: values set with no recorder are lost.
        crate::metrics::handle();
        let twilio = Arc::new(TwilioClient::new(&config, retry)?);
        let claims = claims.map(Arc::new);
        let policy = Arc::new(policy::PolicyCache::new(
            config.policy,
            config.policy_timing,
        ));
        let recordings = Arc::new(match claims {
            Some(_) => {
                recording::RecordingRegistry::forgetting_after(recording::FORGET_AFTER_WITH_CLAIMS)
            }
            None => recording::RecordingRegistry::default(),
        });
        let audit = Arc::new(audit::Audit::new(crate::audit_store::AuditStore::new(
            claims.clone(),
        )));
        let safety_net = Arc::new(safety_net::SafetyNet::new(
            twilio.clone(),
            claims.clone(),
            policy.clone(),
            recordings.clone(),
            audit.clone(),
            config.status_callback.clone(),
            config.hosts.recording_links.clone(),
            config.safety_net_delay,
        ));
        Ok(AppState(Arc::new(Inner {
            tokens: auth::TokenCache::default(),
            recordings,
            audit,
            safety_net,
            grants: grant::GrantStore::new(config.grant_valid_for),
            pause_watch: pause_watch::PauseWatch::new(
                twilio.clone(),
                claims.clone(),
                policy.clone(),
                config.pause_watch_grace,
            ),
            readiness: readiness::Readiness::new(config.policy),
            twilio,
            claims,
            policy,
            config,
        })))
    }

    /// The caches' sizes, now and every few seconds: an operator can see
    /// that memory held per call is bounded (and the expirations run even
    /// when no request comes).
    pub async fn spawn_cache_gauges(&self) {
        self.cache_gauges().await;
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                state.cache_gauges().await;
            }
        });
    }

    async fn cache_gauges(&self) {
        let s = &*self.0;
        crate::metrics::cache_entries("tokens", s.tokens.len().await);
        crate::metrics::cache_entries("recordings", s.recordings.len().await);
        crate::metrics::cache_entries("grants", s.grants.len() as u64);
        crate::metrics::cache_entries("pause_tokens", s.pause_watch.len().await);
    }

    /// One readiness check (`domain::readiness`): whether Twilio accepts
    /// the credentials, read with the Flex configuration.
    pub async fn check_readiness(&self) -> readiness::Check {
        let s = &*self.0;
        s.readiness.check(&s.policy, &s.twilio).await
    }

    /// The readiness check now and every `READINESS_EVERY`.
    pub fn spawn_readiness_checks(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::config::READINESS_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                state.check_readiness().await;
            }
        });
    }
}

/// Every labelled series whose labels are known, at 0 (`metrics::from_zero`).
fn metrics_from_zero() {
    crate::metrics::from_zero(&crate::metrics::KnownLabels {
        answers: &AppError::known_answers(),
        twilio_errors: &twilio::KNOWN_ERRORS,
        twilio_operations: &twilio::OPERATIONS,
        readiness_outcomes: &readiness::OUTCOMES,
    });
}

pub fn app(state: AppState) -> Router {
    let policy = Arc::new(OriginPolicy::new(&state.0.config));
    let cors_policy = policy.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .map(|o| cors_policy.allows(o))
                .unwrap_or(false)
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600));

    // Metrics stay off the public router when METRICS_LISTEN gives them their own address.
    let metrics_here = state.0.config.metrics_listen.is_none();
    crate::metrics::handle();
    metrics_from_zero();
    let router = Router::new()
        .route(
            CREATE_RECORDING_PATH,
            post(http::recording::create_recording),
        )
        .route(LINK_CALL_PATH, post(http::recording::link_call))
        .route(AUTHORIZE_PATH, post(http::authorize::authorize))
        .route(PAUSE_RECORDING_PATH, post(http::control::pause))
        .route(RESUME_RECORDING_PATH, post(http::control::resume))
        .route(RECORDING_STATE_PATH, post(http::control::state))
        .route("/healthz", get(http::healthz))
        .route(
            crate::config::EVENT_STREAMS_PATH,
            post(http::webhooks::event_streams)
                .layer(DefaultBodyLimit::max(http::webhooks::EVENTS_BODY_LIMIT)),
        )
        .route(
            crate::config::RECORDING_STATUS_PATH,
            post(http::webhooks::recording_status),
        )
        .route("/audit", get(http::audit::audit))
        .route("/readyz", get(http::readyz));
    let router = if metrics_here {
        router.route("/metrics", get(crate::metrics::serve))
    } else {
        router
    };
    router
        .fallback(mw::not_found)
        .method_not_allowed_fallback(mw::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(http::body::BODY_LIMIT))
        .layer(middleware::from_fn(mw::deadline))
        .layer(cors)
        .layer(middleware::from_fn_with_state(policy, mw::check_origin))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal.into_response()))
        .layer(middleware::from_fn(crate::metrics::track_request))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // Path only: no query string, no headers (the token could be in either).
                // `cause` is filled in by `error::note_cause` when a failure has
                // a detail that must not reach the browser.
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), cause = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
            // A failed answer is logged once, where the `AppError` becomes
            // the answer (with its reason); the default would log every 5xx
            // a second time at ERROR without one.
            .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The router of `METRICS_LISTEN`: `/metrics` only.
pub fn metrics_app() -> Router {
    crate::metrics::handle();
    metrics_from_zero();
    Router::new()
        .route("/metrics", get(crate::metrics::serve))
        .fallback(mw::not_found)
}
