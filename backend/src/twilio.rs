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

use crate::config::{Config, StatusCallback, TwilioHosts};
use dual_channel_recording::api::TWILIO_CALL_NOT_IN_PROGRESS;
use dual_channel_recording::retry::Backoff;
use dual_channel_recording::sid::{
    AccountSid, CallSid, ConferenceSid, RecordingSid, ReservationSid, TaskSid, WorkerSid,
    WorkspaceSid,
};
use rand::RngExt;
use reqwest::header::{HeaderMap, ETAG, IF_MATCH};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use std::time::{Duration, Instant};

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
pub const OPERATIONS: [&str; 15] = [
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

#[derive(Clone, Debug, Deserialize)]
pub struct Recording {
    pub sid: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub channels: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RecordingPage {
    #[serde(default)]
    recordings: Vec<Recording>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Call {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Participant {
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Reservation {
    pub sid: String,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub reservation_status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ConferenceIn {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct ConferencePage {
    #[serde(default)]
    conferences: Vec<ConferenceIn>,
}

#[derive(Debug, Deserialize)]
struct ReservationPage {
    #[serde(default)]
    reservations: Vec<Reservation>,
}

#[derive(Debug, Deserialize)]
struct TaskIn {
    attributes: String,
    #[serde(default)]
    task_queue_sid: Option<String>,
    #[serde(default)]
    task_queue_friendly_name: Option<String>,
    #[serde(default)]
    task_channel_unique_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WorkerIn {
    #[serde(default)]
    attributes: Option<String>,
}

/// A task as read: its attributes (still the raw JSON text) and the revision to
/// write against.
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    pub attributes: String,
    pub etag: Option<String>,
    /// What the recording policy's `exclude_queues` compares with.
    pub queue_sid: Option<String>,
    pub queue_name: Option<String>,
    /// `voice`, `chat`, ...
    pub channel: Option<String>,
}

/// What a recording belongs to, as Twilio addresses it: `Calls/{CA}` (a
/// leg this backend records) or `Conferences/{CF}` (Flex's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordingParent {
    Call(CallSid),
    Conference(ConferenceSid),
}

impl std::fmt::Display for RecordingParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordingParent::Call(ca) => write!(f, "Calls/{ca}"),
            RecordingParent::Conference(cf) => write!(f, "Conferences/{cf}"),
        }
    }
}

impl std::str::FromStr for RecordingParent {
    type Err = ();
    /// The text `Display` writes, with a SID of the right kind.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.split_once('/').ok_or(())? {
            ("Calls", ca) => ca.parse().map(RecordingParent::Call).map_err(|_| ()),
            ("Conferences", cf) => cf.parse().map(RecordingParent::Conference).map_err(|_| ()),
            _ => Err(()),
        }
    }
}

/// Outcome of a conditional task write.
pub enum TaskWrite {
    Written,
    /// 412: someone else wrote since our read.
    Stale,
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

    /// Every SID here is typed (`sid::Sid`): checked before it can reach a URL.
    pub async fn create_recording(
        &self,
        call_sid: &CallSid,
        status_callback: Option<&StatusCallback>,
    ) -> Result<Recording, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{call_sid}/Recordings.json",
            self.hosts.api, self.account_sid
        );
        let mut form: Vec<(&str, &str)> =
            vec![("RecordingChannels", "dual"), ("RecordingTrack", "both")];
        if let Some(cb) = status_callback {
            form.push(("RecordingStatusCallback", cb.url.as_str()));
            form.push(("RecordingStatusCallbackMethod", "POST"));
            for e in &cb.events {
                form.push(("RecordingStatusCallbackEvent", e.as_str()));
            }
        }
        let reply = self
            .send("start recording", Repeat::NotOnTimeout, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        parse(&Self::ok_or_api(reply)?, "start recording")
    }

    /// The first page of the call's recordings and whether more pages exist.
    pub async fn list_recordings(
        &self,
        call_sid: &CallSid,
    ) -> Result<(Vec<Recording>, bool), TwilioError> {
        self.list_recordings_of(&RecordingParent::Call(call_sid.clone()))
            .await
    }

    /// The first page of the recordings of a call or a conference (Flex's
    /// own) and whether more exist.
    pub async fn list_recordings_of(
        &self,
        parent: &RecordingParent,
    ) -> Result<(Vec<Recording>, bool), TwilioError> {
        let what = match parent {
            RecordingParent::Call(_) => "list recordings",
            RecordingParent::Conference(_) => "list conference recordings",
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{parent}/Recordings.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send(what, Repeat::Safe, || {
                self.http.get(&url).query(&[("PageSize", "100")])
            })
            .await?;
        let page: RecordingPage = parse(&Self::ok_or_api(reply)?, what)?;
        Ok((page.recordings, page.next_page_uri.is_some()))
    }

    /// Sets a recording's `Status` (`paused` with `PauseBehavior`, or
    /// `in-progress`), addressed by its SID: `Twilio.CURRENT` is ambiguous
    /// when a call or conference has several recordings. Repeating it is
    /// harmless: setting the status a recording already has changes nothing.
    pub async fn update_recording_status(
        &self,
        parent: &RecordingParent,
        recording_sid: &RecordingSid,
        status: &str,
        pause_behavior: Option<&str>,
    ) -> Result<Recording, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{parent}/Recordings/{recording_sid}.json",
            self.hosts.api, self.account_sid
        );
        let mut form: Vec<(&str, &str)> = vec![("Status", status)];
        if let Some(b) = pause_behavior {
            form.push(("PauseBehavior", b));
        }
        let reply = self
            .send("update recording status", Repeat::Safe, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        parse(&Self::ok_or_api(reply)?, "update recording status")
    }

    /// `None` when Twilio does not know the call.
    pub async fn fetch_call(&self, call_sid: &CallSid) -> Result<Option<Call>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{call_sid}.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("fetch call", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch call").map(Some)
    }

    /// The conferences named `friendly_name`, whatever their status: Flex
    /// names a task's conference after the task SID (`docs/flex-facts.md`,
    /// "Finding a task's conference server side").
    pub async fn conferences_named(
        &self,
        friendly_name: &str,
    ) -> Result<Vec<ConferenceSid>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Conferences.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("list conferences", Repeat::Safe, || {
                self.http
                    .get(&url)
                    .query(&[("FriendlyName", friendly_name), ("PageSize", "20")])
            })
            .await?;
        let page: ConferencePage = parse(&Self::ok_or_api(reply)?, "list conferences")?;
        Ok(page
            .conferences
            .into_iter()
            .filter_map(|c| c.sid.parse().ok())
            .collect())
    }

    /// `None` when the call is not (or no longer) in the conference.
    pub async fn fetch_participant(
        &self,
        conference_sid: &ConferenceSid,
        call_sid: &CallSid,
    ) -> Result<Option<Participant>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Conferences/{conference_sid}/Participants/{call_sid}.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("fetch conference participant", Repeat::Safe, || {
                self.http.get(&url)
            })
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch conference participant").map(Some)
    }

    /// The worker's reservations on the task, in any status (the caller
    /// decides which statuses count).
    pub async fn worker_reservations(
        &self,
        task_sid: &TaskSid,
        worker_sid: &WorkerSid,
    ) -> Result<Vec<Reservation>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}/Reservations",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("list reservations", Repeat::Safe, || {
                self.http
                    .get(&url)
                    .query(&[("WorkerSid", worker_sid.as_str()), ("PageSize", "50")])
            })
            .await?;
        let page: ReservationPage = parse(&Self::ok_or_api(reply)?, "list reservations")?;
        // Filtered by Twilio already; checked again so that a proxy or a
        // misbehaving peer ignoring the filter cannot widen access.
        Ok(page
            .reservations
            .into_iter()
            .filter(|r| r.worker_sid.as_deref() == Some(worker_sid.as_str()))
            .collect())
    }

    /// One reservation of the task; `None` when the task has no such reservation.
    pub async fn fetch_reservation(
        &self,
        task_sid: &TaskSid,
        reservation_sid: &ReservationSid,
    ) -> Result<Option<Reservation>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}/Reservations/{reservation_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch reservation", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch reservation").map(Some)
    }

    /// `None` when the task does not exist.
    pub async fn fetch_task(
        &self,
        task_sid: &TaskSid,
    ) -> Result<Option<TaskSnapshot>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch task", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        let reply = Self::ok_or_api(reply)?;
        let etag = reply
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let task: TaskIn = parse(&reply, "fetch task")?;
        Ok(Some(TaskSnapshot {
            attributes: task.attributes,
            etag,
            queue_sid: task.task_queue_sid,
            queue_name: task.task_queue_friendly_name,
            channel: task.task_channel_unique_name,
        }))
    }

    /// `GET /v1/Workspaces/{WS}/Workers/{WK}`: the worker's attributes (JSON
    /// text, as TaskRouter keeps them); `None` when there is no such worker.
    pub async fn fetch_worker_attributes(
        &self,
        worker_sid: &WorkerSid,
    ) -> Result<Option<String>, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Workers/{worker_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        let reply = self
            .send("fetch worker", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        let worker: WorkerIn = parse(&Self::ok_or_api(reply)?, "fetch worker")?;
        Ok(Some(worker.attributes.unwrap_or_else(|| "{}".into())))
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

    /// Writes the attributes only if the task is still at `etag`.
    pub async fn update_task_attributes(
        &self,
        task_sid: &TaskSid,
        etag: &str,
        attributes: &str,
    ) -> Result<TaskWrite, TwilioError> {
        let url = format!(
            "{}/v1/Workspaces/{}/Tasks/{task_sid}",
            self.hosts.taskrouter, self.workspace_sid
        );
        // Repeating a conditional write is harmless: if the first one landed,
        // the repeat meets 412 and the caller's re-read finds its entry there.
        let reply = self
            .send("update task", Repeat::Safe, || {
                self.http
                    .post(&url)
                    .header(IF_MATCH, etag)
                    .form(&[("Attributes", attributes)])
            })
            .await?;
        if reply.status == StatusCode::PRECONDITION_FAILED {
            return Ok(TaskWrite::Stale);
        }
        Self::ok_or_api(reply).map(|_| TaskWrite::Written)
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
