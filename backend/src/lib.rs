//! `recording-backend`: the one part of the plugin that holds Twilio
//! credentials. It checks the agent's Flex token, checks that the call belongs
//! to a task the agent holds, starts a dual-channel recording once per call,
//! and lists it for Flex Insights in the task attributes.
//!
//! Stateless apart from caches (token answers, recordings started by this
//! process): several replicas agree on one recording per call through a
//! shared claim store (`REDIS_URL`, see `recording` and `claims`); without
//! one, run a single replica.

pub mod attributes;
pub mod auth;
pub mod authz;
pub mod claims;
pub mod config;
pub mod error;
pub mod grant;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod pause;
pub mod pause_watch;
pub mod policy;
pub mod recording;
pub mod routes;
pub mod twilio;

use crate::config::Config;
use crate::error::AppError;
use crate::twilio::{RetryPolicy, TwilioClient};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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

/// No request is answered later than this, whatever Twilio does; work that
/// already started (a recording) finishes in the background.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub struct Inner {
    pub config: Config,
    pub twilio: TwilioClient,
    pub tokens: auth::TokenCache,
    pub recordings: recording::RecordingRegistry,
    /// Shared with the other replicas (`REDIS_URL`), if configured.
    pub claims: Option<claims::ClaimStore>,
    pub policy: policy::PolicyCache,
    pub grants: grant::GrantStore,
    pub pause_watch: pause_watch::PauseWatch,
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl AppState {
    pub fn new(config: Config) -> Result<Self, reqwest::Error> {
        Self::with_retry(config, RetryPolicy::default())
    }

    pub fn with_retry(config: Config, retry: RetryPolicy) -> Result<Self, reqwest::Error> {
        let twilio = TwilioClient::new(&config, retry.clone())?;
        let claims = config
            .redis
            .clone()
            .map(|target| claims::ClaimStore::new(target, &config.account_sid, &retry));
        Ok(AppState(Arc::new(Inner {
            twilio,
            tokens: auth::TokenCache::default(),
            recordings: match claims {
                Some(_) => recording::RecordingRegistry::forgetting_after(
                    recording::FORGET_AFTER_WITH_CLAIMS,
                ),
                None => recording::RecordingRegistry::default(),
            },
            claims,
            policy: policy::PolicyCache::new(config.policy_timing),
            grants: grant::GrantStore::new(config.grant_valid_for),
            pause_watch: pause_watch::PauseWatch::default(),
            config,
        })))
    }
}

/// Which browser origins may call us.
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    exact: Vec<String>,
    demo: bool,
}

impl OriginPolicy {
    pub fn new(config: &Config) -> Self {
        OriginPolicy {
            exact: config.allowed_origins.clone(),
            demo: config.demo,
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        if self.exact.iter().any(|o| o == origin) {
            return true;
        }
        self.demo
            && ["http://127.0.0.1", "http://localhost"].iter().any(|base| {
                origin.strip_prefix(base).is_some_and(|rest| {
                    rest.is_empty()
                        || rest.strip_prefix(':').is_some_and(|p| {
                            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
                        })
                })
            })
    }
}

/// CORS headers alone do not stop a page elsewhere from posting a form here;
/// a request that says it comes from an origin we do not serve is refused.
async fn check_origin(
    State(policy): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin.to_str().map(|o| policy.allows(o)).unwrap_or(false);
        if !ok {
            return AppError::OriginNotAllowed.into_response();
        }
    }
    next.run(req).await
}

async fn deadline(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(req)).await {
        Ok(r) => r,
        Err(_) => AppError::Unavailable(
            "the request took too long; if a recording was being started it will still be linked, and a retry returns it".into(),
        )
        .into_response(),
    }
}

async fn not_found() -> AppError {
    AppError::NotFound("no such endpoint".into())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
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
    let router = Router::new()
        .route(CREATE_RECORDING_PATH, post(routes::create_recording))
        .route(LINK_CALL_PATH, post(routes::link_call))
        .route(AUTHORIZE_PATH, post(grant::authorize))
        .route(PAUSE_RECORDING_PATH, post(pause::pause))
        .route(RESUME_RECORDING_PATH, post(pause::resume))
        .route(RECORDING_STATE_PATH, post(pause::state))
        .route("/healthz", get(routes::healthz));
    let router = if metrics_here {
        router.route("/metrics", get(crate::metrics::serve))
    } else {
        router
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(routes::BODY_LIMIT))
        .layer(middleware::from_fn(deadline))
        .layer(cors)
        .layer(middleware::from_fn_with_state(policy, check_origin))
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
    Router::new()
        .route("/metrics", get(crate::metrics::serve))
        .fallback(not_found)
}
