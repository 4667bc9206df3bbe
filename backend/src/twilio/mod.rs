//! The Twilio REST client: exactly the calls this backend makes, each with a
//! timeout and a bounded retry policy.
//!
//! Retries follow Twilio's REST best practices: exponential backoff with full
//! jitter on 429 and 503 (Twilio did not act on the request) and on connection
//! errors (the request never left). A timeout is retried only where repeating
//! the request is harmless; starting a recording is not such a request (a lost
//! answer may hide a recording that was started), so its caller reconciles
//! instead. Every other 4xx is final and passed back with Twilio's code,
//! message and `more_info`.

use crate::config::{Config, TwilioHosts};
use dual_channel_recording::api::TWILIO_CALL_NOT_IN_PROGRESS;
use dual_channel_recording::retry::Backoff;
use dual_channel_recording::sid::{AccountSid, WorkspaceSid};
use rand::RngExt;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use std::time::{Duration, Instant};

mod events;
mod taskrouter;
mod voice;

pub use taskrouter::{Reservation, TaskSnapshot, TaskWrite};
pub use voice::{Call, Participant, Recording, RecordingParent};

/// How hard we try before giving up on one Twilio operation: the shared
/// schedule (`retry::Backoff`: full jitter, attempts, a time budget) and the
/// timeouts of each attempt, which are this client's alone.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub schedule: Backoff,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            schedule: Backoff {
                max_attempts: 5,
                base: Duration::from_millis(100),
                cap: Duration::from_secs(2),
                budget: Some(Duration::from_secs(8)),
            },
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The longest one operation can take: its last attempt begins at the
    /// latest the schedule allows and runs into its timeout.
    pub fn longest_operation(&self) -> Duration {
        self.schedule
            .latest_last_start(self.request_timeout)
            .saturating_add(self.request_timeout)
    }
}

/// Every Twilio operation this client names (the `operation` label of its
/// metrics), so each appears in `/metrics` from the start.
pub const OPERATIONS: [&str; 16] = [
    "token check",
    "start recording",
    "list recordings",
    "list conference recordings",
    "update recording status",
    "fetch call",
    "fetch conference participant",
    "list reservations",
    "fetch reservation",
    "fetch task",
    "fetch Flex configuration",
    "update task",
    "list conferences",
    "create sink",
    "create subscription",
    "fetch worker",
];

/// The Twilio errors an operator can expect, counted from zero in
/// `recording_backend_twilio_errors_total`: no answer (`unreachable`,
/// `timeout`), our credentials refused (20003), no such resource (20404),
/// too many requests (20429), the call not in progress (21220), a recording
/// busy during a transfer (16114). Any other code is counted from its first.
pub const KNOWN_ERRORS: [&str; 7] = [
    "unreachable",
    "timeout",
    "20003",
    "20404",
    "20429",
    "21220",
    "16114",
];

/// What went wrong talking to Twilio.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error (after any retries).
    #[error("Twilio error {code}: {message}")]
    Api {
        status: u16,
        code: i64,
        message: String,
        more_info: Option<String>,
    },
    /// No answer: connection refused, DNS, TLS, or every attempt timed out.
    #[error("Twilio could not be reached: {0}")]
    Unreachable(String),
    /// A request that must not be repeated got no answer in time.
    #[error("Twilio did not answer in time")]
    Timeout,
    /// Twilio answered 2xx with something we cannot read.
    #[error("unexpected answer from Twilio: {0}")]
    BadAnswer(String),
}

impl TwilioError {
    pub fn is_status(&self, s: u16) -> bool {
        matches!(self, TwilioError::Api { status, .. } if *status == s)
    }
}

#[derive(Deserialize)]
struct ErrorBodyIn {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Whether a request may be sent again after it timed out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    Safe,
    NotOnTimeout,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// `POST /v1/Accounts/{AC}/Tokens/validate`, as `twilio-flex-token-validator` documents it.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenValidation {
    #[serde(default)]
    pub valid: bool,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub expiration: Option<String>,
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

pub struct TwilioClient {
    pub(crate) http: reqwest::Client,
    pub(crate) hosts: TwilioHosts,
    user: String,
    password: String,
    account_sid: AccountSid,
    workspace_sid: WorkspaceSid,
    retry: RetryPolicy,
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    reply: &Reply,
    what: &str,
) -> Result<T, TwilioError> {
    serde_json::from_slice(&reply.body).map_err(|e| TwilioError::BadAnswer(format!("{what}: {e}")))
}

fn api_error(status: StatusCode, body: &[u8]) -> TwilioError {
    let parsed: Option<ErrorBodyIn> = serde_json::from_slice(body).ok();
    let (code, message, more_info) = match parsed {
        Some(b) => (b.code, b.message, b.more_info),
        None => (None, None, None),
    };
    TwilioError::Api {
        status: status.as_u16(),
        code: code.unwrap_or(i64::from(status.as_u16())),
        message: message.unwrap_or_else(|| {
            format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        }),
        more_info,
    }
}

/// Twilio error codes that no repeat can change, whatever HTTP status carries
/// them: 21220 (the call is not in progress) stays so.
fn is_final_code(body: &[u8]) -> bool {
    error_code(body) == Some(TWILIO_CALL_NOT_IN_PROGRESS)
}

/// "Voice Recording: Resource not in a state to accept recording action
/// request": Twilio timed out on a recording action while the call was being
/// modified (a SIP transfer in progress), and its documented fix is "Retry the
/// recording action request" (twilio.com/docs/api/errors/16114). The page
/// names no HTTP status, so the code decides, whatever status carries it.
const RECORDING_RESOURCE_BUSY: i64 = 16114;

fn error_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<ErrorBodyIn>(body)
        .ok()
        .and_then(|b| b.code)
}

/// Twilio does not know the resource: 404, unless the body carries a final
/// code such as 21220, which must reach the caller as the error it is.
fn is_not_found(reply: &Reply) -> bool {
    reply.status == StatusCode::NOT_FOUND && !is_final_code(&reply.body)
}

impl TwilioClient {
    pub fn new(config: &Config, retry: RetryPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(retry.connect_timeout)
            // A burst of parallel requests would otherwise leave as many idle
            // sockets open to Twilio as it had requests in flight.
            .pool_max_idle_per_host(64)
            .user_agent(concat!("recording-backend/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (user, password) = config.credentials.basic(&config.account_sid);
        Ok(TwilioClient {
            http,
            hosts: config.hosts.clone(),
            user,
            password,
            account_sid: config.account_sid.clone(),
            workspace_sid: config.workspace_sid.clone(),
            retry,
        })
    }

    pub fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }

    /// Sends the request built by `build`, retrying as the policy allows.
    /// Returns any answer that is not retried, 2xx or not. Every Twilio
    /// operation passes here, so its latency and failures are measured here.
    pub(crate) async fn send(
        &self,
        what: &'static str,
        repeat: Repeat,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Reply, TwilioError> {
        debug_assert!(
            OPERATIONS.contains(&what),
            "Twilio operation {what:?} is missing from twilio::OPERATIONS"
        );
        let started = Instant::now();
        let result = self.send_with_retries(what, repeat, build, started).await;
        crate::metrics::twilio_duration(what, started.elapsed());
        match &result {
            Err(TwilioError::Timeout) => crate::metrics::twilio_error("timeout"),
            Err(TwilioError::Unreachable(_)) => crate::metrics::twilio_error("unreachable"),
            _ => {}
        }
        result
    }

    async fn send_with_retries(
        &self,
        what: &'static str,
        repeat: Repeat,
        build: impl Fn() -> RequestBuilder,
        started: Instant,
    ) -> Result<Reply, TwilioError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(build()).await;
            let retryable = match &outcome {
                Ok(r) if r.status.is_success() => false,
                Ok(r) => {
                    ((r.status == StatusCode::TOO_MANY_REQUESTS
                        || r.status == StatusCode::SERVICE_UNAVAILABLE)
                        && !is_final_code(&r.body))
                        || error_code(&r.body) == Some(RECORDING_RESOURCE_BUSY)
                }
                Err(Failure::Connect(_)) => true,
                Err(Failure::Timeout) => repeat == Repeat::Safe,
                Err(Failure::Other(_)) => false,
            };
            let next = self.retry.schedule.next_delay(
                attempt,
                started.elapsed(),
                rand::rng().random::<f64>(),
            );
            let Some(delay) = next.filter(|_| retryable) else {
                return match outcome {
                    Ok(r) => Ok(r),
                    Err(Failure::Timeout) if repeat == Repeat::NotOnTimeout => {
                        Err(TwilioError::Timeout)
                    }
                    Err(Failure::Timeout) => Err(TwilioError::Unreachable(format!(
                        "{what}: no answer within {} ms",
                        self.retry.request_timeout.as_millis()
                    ))),
                    Err(Failure::Connect(m)) | Err(Failure::Other(m)) => {
                        Err(TwilioError::Unreachable(format!("{what}: {m}")))
                    }
                };
            };
            // INFO, not WARN: a retry is routine (429s are expected under
            // load); if the operation fails in the end, that is logged once
            // where the request fails, and retries are counted in /metrics.
            tracing::info!(
                twilio_request = what,
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                status = outcome.as_ref().ok().map(|r| r.status.as_u16()),
                "Twilio request will be retried"
            );
            crate::metrics::twilio_retry(what);
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, req: RequestBuilder) -> Result<Reply, Failure> {
        let fut = async {
            let resp = req
                .basic_auth(&self.user, Some(&self.password))
                .send()
                .await
                .map_err(Failure::from_reqwest)?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(Failure::from_reqwest)?;
            Ok(Reply {
                status,
                headers,
                body: body.to_vec(),
            })
        };
        // One deadline for headers and body together: a peer that trickles
        // its body must not hold a request open forever.
        match tokio::time::timeout(self.retry.request_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// Where a Twilio answer becomes an error (answers a caller expects, such
    /// as 404 for "no such call" or 412 for a stale write, never get here),
    /// so Twilio errors are counted by code here and nowhere else.
    pub(crate) fn ok_or_api(reply: Reply) -> Result<Reply, TwilioError> {
        if reply.status.is_success() {
            Ok(reply)
        } else {
            let e = api_error(reply.status, &reply.body);
            if let TwilioError::Api { code, .. } = &e {
                crate::metrics::twilio_error(&code.to_string());
            }
            Err(e)
        }
    }

    pub async fn validate_token(&self, token: &str) -> Result<TokenValidation, TwilioError> {
        let url = format!(
            "{}/v1/Accounts/{}/Tokens/validate",
            self.hosts.iam, self.account_sid
        );
        let body = serde_json::json!({ "token": token });
        let reply = self
            .send("token check", Repeat::Safe, || {
                self.http.post(&url).json(&body)
            })
            .await?;
        parse(&Self::ok_or_api(reply)?, "token check")
    }

    /// `GET https://flex-api.twilio.com/v1/Configuration`: the account's Flex
    /// configuration as Twilio sends it (read by `policy`).
    pub async fn fetch_flex_configuration(&self) -> Result<Vec<u8>, TwilioError> {
        let url = format!("{}/v1/Configuration", self.hosts.flex);
        let reply = self
            .send("fetch Flex configuration", Repeat::Safe, || {
                self.http.get(&url)
            })
            .await?;
        Ok(Self::ok_or_api(reply)?.body)
    }
}

enum Failure {
    Connect(String),
    Timeout,
    Other(String),
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Failure::Timeout
        } else if e.is_connect() {
            Failure::Connect(without_url(e))
        } else {
            Failure::Other(without_url(e))
        }
    }
}

/// reqwest errors print the URL; ours hold no secrets, but keeping messages to
/// the kind of failure keeps logs and answers short and stable.
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schedule's arithmetic is tested as a table in the core
    /// (`retry`); this checks what the client feeds it: `rand`'s numbers stay
    /// under each ceiling and spread over the whole range (full jitter).
    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy::default().schedule;
        for attempt in 1..=40 {
            for _ in 0..50 {
                let d = p.delay(attempt, rand::rng().random::<f64>());
                assert!(d <= p.ceiling(attempt), "attempt {attempt}: {d:?}");
            }
        }
        let samples: Vec<_> = (0..200)
            .map(|_| p.delay(5, rand::rng().random::<f64>()))
            .collect();
        assert!(samples.iter().any(|d| *d < Duration::from_millis(400)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(1200)));
    }

    #[test]
    fn error_bodies_keep_twilios_fields() {
        let e = api_error(
            StatusCode::BAD_REQUEST,
            br#"{"code":21220,"message":"Call is not in-progress","more_info":"https://www.twilio.com/docs/errors/21220","status":400}"#,
        );
        assert_eq!(
            e,
            TwilioError::Api {
                status: 400,
                code: 21220,
                message: "Call is not in-progress".into(),
                more_info: Some("https://www.twilio.com/docs/errors/21220".into()),
            }
        );
        let e = api_error(StatusCode::BAD_GATEWAY, b"<html>");
        assert!(matches!(e, TwilioError::Api { code: 502, .. }));
    }

    #[test]
    fn final_codes_whatever_the_status() {
        let cases: [(&[u8], bool); 5] = [
            (br#"{"code":21220,"message":"m","status":429}"#, true),
            (br#"{"code":21220,"message":"m","status":503}"#, true),
            (br#"{"code":20429,"message":"m","status":429}"#, false),
            (br#"{"message":"m"}"#, false),
            (b"<html>", false),
        ];
        for (body, want) in cases {
            assert_eq!(
                is_final_code(body),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
