//! Prometheus metrics (`GET /metrics`, or on `METRICS_LISTEN`).
//!
//! The `metrics` facade records; `metrics-exporter-prometheus` renders the
//! text exposition format. A recorder is process-wide and can be installed
//! only once, so [`handle`] installs it on first use and every `app()` of the
//! process (the tests build many) shares it: counters only ever grow, and a
//! test reads the difference it caused.
//!
//! Every name is here, so what an operator can scrape is one list; other
//! modules call the functions below rather than naming metrics themselves.

use axum::extract::{MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const RECORDINGS_STARTED: &str = "recording_backend_recordings_started_total";
pub const ALREADY_RECORDING: &str = "recording_backend_already_recording_total";
pub const REFUSALS: &str = "recording_backend_refusals_total";
pub const FAILURES: &str = "recording_backend_failures_total";
pub const TWILIO_ERRORS: &str = "recording_backend_twilio_errors_total";
pub const TWILIO_RETRIES: &str = "recording_backend_twilio_retries_total";
pub const CLAIM_STORE_ERRORS: &str = "recording_backend_claim_store_errors_total";
pub const PAUSES_RESUMED_BY_BACKEND: &str = "recording_backend_pauses_resumed_total";
pub const REQUEST_DURATION: &str = "recording_backend_http_request_duration_seconds";
pub const TWILIO_DURATION: &str = "recording_backend_twilio_request_duration_seconds";
pub const CACHE_ENTRIES: &str = "recording_backend_cache_entries";
pub const SAFETY_NET_PENDING: &str = "recording_backend_safety_net_pending";
pub const SAFETY_NET_STARTED: &str = "recording_backend_safety_net_started_total";
pub const RECORDINGS_MISSED: &str = "recording_backend_recordings_missed_total";
pub const RECORDINGS_FAILED: &str = "recording_backend_recordings_failed_total";
pub const EVENTS: &str = "recording_backend_events_total";

/// The reasons of `RECORDINGS_MISSED`, as the audit names them.
pub const MISSED_REASONS: [&str; 4] = [
    "no-recording-started",
    "recording-absent",
    "recording-failed",
    "conference-not-recorded",
];
/// The bad ends of a recording Twilio's status callbacks report.
pub const FAILED_REASONS: [&str; 2] = ["absent", "failed"];
/// Event Streams event types the backend acts on (`other`: any else).
pub const EVENT_TYPES: [&str; 6] = [
    "reservation.accepted",
    "reservation.wrapup",
    "reservation.completed",
    "task.completed",
    "task.canceled",
    "other",
];
/// What became of an event.
pub const EVENT_OUTCOMES: [&str; 3] = ["handled", "duplicate", "ignored"];
pub const READY: &str = "recording_backend_ready";
pub const CREDENTIALS_OK: &str = "recording_backend_twilio_credentials_ok";
pub const READINESS_CHECKS: &str = "recording_backend_readiness_checks_total";
pub const TEMPLATE_FEATURE_CONFLICT: &str = "recording_backend_template_feature_conflict";

/// Seconds. Requests to us include Twilio round trips (tens to hundreds of
/// milliseconds each) and, at worst, the 60 s request deadline.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if something else installed a recorder first; /metrics
        // then renders ours, empty, rather than taking the process down.
        if ::metrics::set_global_recorder(recorder).is_ok() {
            describe();
        }
        handle
    })
}

fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        RECORDINGS_STARTED,
        "Dual-channel recordings this process started on Twilio"
    );
    describe_counter!(
        ALREADY_RECORDING,
        "Requests answered with a recording already running (another tab, device or a retry asked first)"
    );
    describe_counter!(
        REFUSALS,
        "Requests refused (4xx), by HTTP status and the answer's code (the HTTP status, or Twilio's error code)"
    );
    describe_counter!(
        FAILURES,
        "Requests that failed (5xx), by HTTP status and the answer's code"
    );
    describe_counter!(
        TWILIO_ERRORS,
        "Twilio requests that ended in an error, by Twilio error code (or unreachable, timeout)"
    );
    describe_counter!(
        TWILIO_RETRIES,
        "Twilio requests sent again after a 429, a 503 or a connection failure"
    );
    describe_counter!(
        CLAIM_STORE_ERRORS,
        "Failures talking to the shared claim store"
    );
    describe_counter!(
        PAUSES_RESUMED_BY_BACKEND,
        "Pauses the backend resumed itself after max_pause_seconds because no browser did (a closed or crashed tab)"
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route, method and status"
    );
    describe_histogram!(
        TWILIO_DURATION,
        Unit::Seconds,
        "Time of one Twilio operation including its retries, by operation"
    );
    describe_gauge!(
        CACHE_ENTRIES,
        "Entries in each of the process's expiring caches (tokens, recordings, grants): flat over a shift, by design"
    );
    describe_gauge!(
        SAFETY_NET_PENDING,
        "Safety-net checks scheduled (a reservation accepted, a task completed) and not done yet"
    );
    describe_counter!(
        SAFETY_NET_STARTED,
        "Recordings the safety net started because no browser had (the plugin did not run)"
    );
    describe_counter!(
        RECORDINGS_MISSED,
        "Voice tasks that should have been recorded and were not, by the audit's reason"
    );
    describe_counter!(
        RECORDINGS_FAILED,
        "Recordings that ended absent or failed, by status, from Twilio's recording status callbacks"
    );
    describe_counter!(
        EVENTS,
        "Event Streams events received, by type and outcome (handled, duplicate, ignored)"
    );
    describe_gauge!(
        READY,
        "1 when the last readiness check passed (Twilio accepts the credentials), 0 otherwise: what /readyz answers"
    );
    describe_gauge!(
        CREDENTIALS_OK,
        "1 when Twilio accepted the credentials at the last readiness check that reached it, 0 when it refused them or none has reached it yet"
    );
    describe_counter!(
        READINESS_CHECKS,
        "Readiness checks (a read of the Flex configuration, at start and then periodically), by outcome"
    );
    describe_gauge!(
        TEMPLATE_FEATURE_CONFLICT,
        "1 while the Flex configuration uses plugin_dual_channel_recording and the flex-project-template's feature (label) is enabled too: calls are recorded or paused twice"
    );
    // Counters without labels exist from the start, so a dashboard shows 0
    // rather than no data; labelled ones whose labels this module lists
    // here, the others (lists their owners keep): `from_zero`.
    ::metrics::gauge!(SAFETY_NET_PENDING).set(0.0);
    ::metrics::counter!(SAFETY_NET_STARTED).increment(0);
    for reason in MISSED_REASONS {
        ::metrics::counter!(RECORDINGS_MISSED, "reason" => reason).increment(0);
    }
    for reason in FAILED_REASONS {
        ::metrics::counter!(RECORDINGS_FAILED, "reason" => reason).increment(0);
    }
    for t in EVENT_TYPES {
        for o in EVENT_OUTCOMES {
            ::metrics::counter!(EVENTS, "type" => t, "outcome" => o).increment(0);
        }
    }
    ::metrics::counter!(RECORDINGS_STARTED).increment(0);
    ::metrics::counter!(ALREADY_RECORDING).increment(0);
    ::metrics::counter!(CLAIM_STORE_ERRORS).increment(0);
    ::metrics::counter!(PAUSES_RESUMED_BY_BACKEND).increment(0);
}

/// The label values known before anything happens, each series set to 0 so
/// that an alert rule over it works before the first failure (an
/// expression over a series that does not exist yet has no value at all).
/// The lists come from the modules that own them (the app passes them in:
/// this module imports none of them).
pub struct KnownLabels<'a> {
    /// Error answers: HTTP status and the answer's code.
    pub answers: &'a [(StatusCode, String)],
    /// Twilio error codes, and `unreachable`, `timeout`.
    pub twilio_errors: &'a [&'a str],
    pub twilio_operations: &'a [&'static str],
    pub readiness_outcomes: &'a [&'static str],
}

pub fn from_zero(known: &KnownLabels<'_>) {
    for (status, code) in known.answers {
        let name = if status.is_server_error() {
            FAILURES
        } else {
            REFUSALS
        };
        ::metrics::counter!(name, "status" => status.as_u16().to_string(), "code" => code.clone())
            .increment(0);
    }
    for code in known.twilio_errors {
        ::metrics::counter!(TWILIO_ERRORS, "code" => code.to_string()).increment(0);
    }
    for operation in known.twilio_operations {
        ::metrics::counter!(TWILIO_RETRIES, "operation" => *operation).increment(0);
        // Registered, a histogram renders with empty buckets and a 0 count.
        let _ = ::metrics::histogram!(TWILIO_DURATION, "operation" => *operation);
    }
    for outcome in known.readiness_outcomes {
        ::metrics::counter!(READINESS_CHECKS, "outcome" => *outcome).increment(0);
    }
}

/// Before the first readiness check has ended.
pub fn readiness_unknown() {
    ::metrics::gauge!(READY).set(0.0);
    ::metrics::gauge!(CREDENTIALS_OK).set(0.0);
}

/// One readiness check: its outcome, whether the backend is ready, and
/// whether Twilio accepted the credentials (`None`: Twilio was not reached,
/// the last answer stands).
pub fn readiness_checked(outcome: &'static str, ready: bool, credentials_ok: Option<bool>) {
    ::metrics::counter!(READINESS_CHECKS, "outcome" => outcome).increment(1);
    ::metrics::gauge!(READY).set(if ready { 1.0 } else { 0.0 });
    if let Some(ok) = credentials_ok {
        ::metrics::gauge!(CREDENTIALS_OK).set(if ok { 1.0 } else { 0.0 });
    }
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}

/// `GET /metrics`.
pub async fn serve() -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    )
        .into_response()
}

/// Histograms keep samples until rendered; a process nobody scrapes must not
/// grow, so upkeep also runs on a timer.
pub fn spawn_upkeep() {
    let h = handle();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            h.run_upkeep();
        }
    });
}

/// How many entries one of the process's caches holds (`cache`: tokens,
/// recordings, grants, pause_tokens); set every few seconds by the app.
pub fn cache_entries(cache: &'static str, n: u64) {
    ::metrics::gauge!(CACHE_ENTRIES, "cache" => cache).set(n as f64);
}

/// Whether the template's `feature` is on beside the plugin's own block, as
/// the last Flex configuration read says (set on every read).
pub fn template_feature_conflict(feature: &'static str, on: bool) {
    ::metrics::gauge!(TEMPLATE_FEATURE_CONFLICT, "feature" => feature).set(if on {
        1.0
    } else {
        0.0
    });
}

pub fn recording_started() {
    ::metrics::counter!(RECORDINGS_STARTED).increment(1);
}

pub fn already_recording() {
    ::metrics::counter!(ALREADY_RECORDING).increment(1);
}

/// Called where an `AppError` becomes an answer, so every kind of refusal,
/// including ones added later, is counted by its code without naming it here.
/// `code` is the answer's code: a number, or a policy refusal's text code
/// (`excluded`, `disabled`, ...), so refusals can be told apart by reason.
pub fn error_answer(status: StatusCode, code: &str) {
    let name = if status.is_server_error() {
        FAILURES
    } else {
        REFUSALS
    };
    ::metrics::counter!(name, "status" => status.as_u16().to_string(), "code" => code.to_string())
        .increment(1);
}

/// A Twilio operation that ended in an error: Twilio's code, or `unreachable`/`timeout`.
pub fn twilio_error(code: &str) {
    ::metrics::counter!(TWILIO_ERRORS, "code" => code.to_string()).increment(1);
}

pub fn twilio_retry(operation: &'static str) {
    ::metrics::counter!(TWILIO_RETRIES, "operation" => operation).increment(1);
}

pub fn twilio_duration(operation: &'static str, took: Duration) {
    ::metrics::histogram!(TWILIO_DURATION, "operation" => operation).record(took.as_secs_f64());
}

/// For the shared claim store: one call per failed store operation.
pub fn claim_store_error() {
    ::metrics::counter!(CLAIM_STORE_ERRORS).increment(1);
}

/// Safety-net checks waiting or running now.
pub fn safety_net_pending(n: u64) {
    ::metrics::gauge!(SAFETY_NET_PENDING).set(n as f64);
}

pub fn safety_net_started() {
    ::metrics::counter!(SAFETY_NET_STARTED).increment(1);
}

/// `reason`: one of [`MISSED_REASONS`].
pub fn recording_missed(reason: &'static str) {
    ::metrics::counter!(RECORDINGS_MISSED, "reason" => reason).increment(1);
}

/// `reason`: one of [`FAILED_REASONS`].
pub fn recording_failed(reason: &'static str) {
    ::metrics::counter!(RECORDINGS_FAILED, "reason" => reason).increment(1);
}

/// `kind`: one of [`EVENT_TYPES`]; `outcome`: one of [`EVENT_OUTCOMES`].
pub fn event(kind: &'static str, outcome: &'static str) {
    ::metrics::counter!(EVENTS, "type" => kind, "outcome" => outcome).increment(1);
}

/// For `pause_watch`: one pause resumed because no browser did.
pub fn pause_watch_resumed() {
    ::metrics::counter!(PAUSES_RESUMED_BY_BACKEND).increment(1);
}

/// Middleware: how long each request took. The route is the matched pattern
/// (never the raw path, which could carry anything a client sends).
pub async fn track_request(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "other",
    };
    let started = Instant::now();
    let resp = next.run(req).await;
    ::metrics::histogram!(
        REQUEST_DURATION,
        "route" => route,
        "method" => method,
        "status" => resp.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    resp
}
