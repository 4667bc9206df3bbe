//! The recording policy, enforced by the backend itself.
//!
//! The browser decides what to record from its own copy of the Flex
//! configuration; an out-of-date plugin, a tab opened before a configuration
//! change, or a tampered browser could still ask to record a call the
//! configuration excludes. So before any recording starts (and before any
//! task write), the backend reads the Flex configuration with its own
//! credentials (`GET https://flex-api.twilio.com/v1/Configuration`, see
//! `tests/contract/twilio-openapi/twilio_recording_contract.json`) and applies the same
//! rules with the same code as the plugin: the core's `config::parse_policy`
//! (`config::parse` without the backend's location, which is the browser's
//! concern) and `exclusion::exclusion`.
//!
//! # Caching
//!
//! The configuration changes rarely and is read on the hot path, so it is
//! cached (`config::PolicyTiming`): a read older than `fresh_for` (30 s) is
//! refreshed by the next request, so a change takes effect within 60 s even
//! counting the read itself. Refreshes are single-flight: concurrent requests
//! wait for the one read in progress instead of each making their own. When
//! Twilio cannot be reached, the last configuration read serves for up to
//! `stale_for` (one hour), and the read is not attempted again for
//! `retry_after_failure`, so an outage does not turn every request into a
//! slow failing read. With no configuration ever read, requests are refused
//! with a retryable 503: recording against an unknown policy could record
//! what the administrator excluded.
//!
//! No caching crate fits this: `moka` and `cached` expire entries but do not
//! serve an expired one while its refresh fails, which is the behaviour asked
//! for here; the state is one value, so a mutex and a single-flight lock do it.
//!
//! `call_recording_enabled` (Flex's own "Call Recording") is read too. With
//! it on, Flex already records every conference; recording legs as well makes
//! a second recording of each call (`docs/flex-facts.md`). That is the
//! administrator's choice, not a reason to lose the recording this plugin was
//! configured to make, so it is logged as a warning each time it turns on,
//! never refused.

use crate::config::{PolicyMode, PolicyTiming};
use crate::error::AppError;
use crate::twilio::{TaskSnapshot, TwilioClient, TwilioError};
use dual_channel_recording::api::RefusalCode;
use dual_channel_recording::attributes::Attributes;
use dual_channel_recording::config::{Block, Config, Method, Setup};
use dual_channel_recording::exclusion::{self, Exclusion, NotAdmitted};
use dual_channel_recording::settings::{self, TemplateFeature};
use dual_channel_recording::sid::{TaskSid, WorkerSid};
use moka::future::Cache;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The policy as read from one Flex configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct FlexPolicy {
    /// `ui_attributes.custom_data` through the core's `settings::resolve_policy`:
    /// the account-wide rules, from the block the configuration holds.
    pub setup: Setup,
    /// Which block of `custom_data` the rules come from.
    pub block: Block,
    /// Template features on beside the own block (recording or pausing twice).
    pub conflicts: Vec<TemplateFeature>,
    /// `custom_data` as read, for a worker's `config_overrides` (`for_worker`).
    custom_data: Arc<serde_json::Value>,
    /// The rules of the worker a request comes from, when their
    /// `config_overrides` change them: they can only narrow the account-wide
    /// rules (see the module comment).
    pub worker: Option<WorkerRules>,
    /// Flex's own "Call Recording" setting.
    pub call_recording_enabled: bool,
    /// `features.pause_recording.max_pause_seconds`, when set and valid: how
    /// long a pause may last before the backend resumes it (`pause_watch`).
    pub max_pause: Option<Duration>,
}

/// One worker's rules: `custom_data` with their `config_overrides` merged
/// over it, resolved by the same core function as in their browser.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerRules {
    pub worker_sid: String,
    pub setup: Setup,
}

/// The task facts the policy looks at, as TaskRouter has them.
#[derive(Clone, Copy, Debug)]
pub struct TaskFacts<'a> {
    pub task_sid: &'a str,
    pub queue_name: Option<&'a str>,
    pub queue_sid: Option<&'a str>,
    /// `task_channel_unique_name`.
    pub channel: Option<&'a str>,
    pub attributes: &'a str,
}

impl<'a> TaskFacts<'a> {
    pub fn of(task_sid: &'a TaskSid, task: &'a TaskSnapshot) -> Self {
        TaskFacts {
            task_sid: task_sid.as_str(),
            queue_name: task.queue_name.as_deref(),
            queue_sid: task.queue_sid.as_deref(),
            channel: task.channel.as_deref(),
            attributes: &task.attributes,
        }
    }
}

/// Why the policy forbids a recording. Answered as 403 with its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    ConferenceMethod,
    Misconfigured(Vec<String>),
    Excluded {
        task_sid: String,
        rule: Exclusion,
    },
    UnreadableAttributes {
        task_sid: String,
        problem: String,
    },
    /// Token-only requests without `taskSid` cannot be checked against exclusions.
    TaskRequired,
    /// Not a voice task: there is no call to record.
    NotVoice {
        task_sid: String,
        channel: Option<String>,
    },
}

impl Refusal {
    pub fn code(&self) -> RefusalCode {
        match self {
            Refusal::Disabled => RefusalCode::Disabled,
            Refusal::ConferenceMethod => RefusalCode::ConferenceMethod,
            Refusal::Misconfigured(_) => RefusalCode::Misconfigured,
            Refusal::Excluded { .. } => RefusalCode::Excluded,
            Refusal::UnreadableAttributes { .. } => RefusalCode::UnreadableAttributes,
            Refusal::TaskRequired => RefusalCode::TaskRequired,
            Refusal::NotVoice { .. } => RefusalCode::NotVoice,
        }
    }

    /// The rule that decided, as an administrator finds it in the configuration.
    pub fn rule(&self) -> Option<String> {
        match self {
            Refusal::Disabled => Some("enabled".into()),
            Refusal::ConferenceMethod => Some("method".into()),
            Refusal::Misconfigured(problems) => problems.first().cloned(),
            Refusal::Excluded {
                rule: Exclusion::Queue(q),
                ..
            } => Some(format!("exclude_queues: {q}")),
            Refusal::Excluded {
                rule: Exclusion::Attribute { key, value },
                ..
            } => Some(format!("exclude_attributes: {key} = {value}")),
            Refusal::UnreadableAttributes { .. }
            | Refusal::TaskRequired
            | Refusal::NotVoice { .. } => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Disabled => "dual-channel recording is disabled in the Flex configuration (enabled, in plugin_dual_channel_recording or else features.dual_channel_recording, with the worker's config_overrides), so this backend records nothing".into(),
            Refusal::ConferenceMethod => "the Flex configuration sets method \"conference\": Flex records the whole conference itself, so this backend records no call leg".into(),
            Refusal::Misconfigured(problems) => format!(
                "the Flex configuration's recording settings (plugin_dual_channel_recording, or else features.dual_channel_recording) are not valid, so nothing is recorded until they are fixed: {}",
                problems.join("; ")
            ),
            Refusal::Excluded { task_sid, rule } => {
                format!("task {task_sid} is excluded from recording by the Flex configuration: {rule}")
            }
            Refusal::UnreadableAttributes { task_sid, problem } => format!(
                "the exclusion rules of the Flex configuration cannot be checked on task {task_sid}: {problem}"
            ),
            Refusal::TaskRequired => "the Flex configuration has exclusion rules, so the request must name the task (taskSid) the call belongs to".into(),
            Refusal::NotVoice { task_sid, channel: Some(channel) } => {
                format!("task {task_sid} is a {channel} task, not a voice call: only voice tasks are recorded")
            }
            Refusal::NotVoice { task_sid, channel: None } => {
                format!("task {task_sid} names no task channel, so it is not known to be a voice call: only voice tasks are recorded")
            }
        }
    }
}

/// A refusal is answered where it is raised: 403 with its code and rule.
impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Refused {
            code: r.code(),
            message: r.message(),
            rule: r.rule(),
        }
    }
}

#[derive(Deserialize)]
struct ConfigurationIn {
    #[serde(default)]
    ui_attributes: Option<serde_json::Value>,
    #[serde(default)]
    call_recording_enabled: Option<bool>,
}

impl FlexPolicy {
    /// Reads Twilio's Configuration answer. Only an unreadable answer is an
    /// error; a configuration without our feature is a policy (disabled).
    pub fn from_configuration(body: &[u8]) -> Result<FlexPolicy, String> {
        let cfg: ConfigurationIn =
            serde_json::from_slice(body).map_err(|e| format!("not a configuration: {e}"))?;
        let ui = match cfg.ui_attributes {
            // Older API answers carry `ui_attributes` as JSON text.
            Some(serde_json::Value::String(text)) => serde_json::from_str(&text)
                .map_err(|e| format!("ui_attributes is not JSON: {e}"))?,
            Some(v) => v,
            None => serde_json::Value::Null,
        };
        let custom_data = ui
            .get("custom_data")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let resolved = settings::resolve_policy(&custom_data, None);
        Ok(FlexPolicy {
            setup: resolved.recording,
            block: resolved.block,
            conflicts: resolved.conflicts,
            call_recording_enabled: cfg.call_recording_enabled.unwrap_or(false),
            // An invalid pause configuration makes pausing inert in the
            // plugin, which then never pauses: nothing to watch.
            max_pause: resolved
                .pause
                .ok()
                .and_then(|p| p.max_pause_ms)
                .map(Duration::from_millis),
            custom_data: Arc::new(custom_data),
            worker: None,
        })
    }

    /// This policy for the worker whose TaskRouter attributes (JSON text)
    /// are `attributes`: their `config_overrides` merged over `custom_data`,
    /// resolved as their browser resolves it. Attributes that are not JSON
    /// carry no override; nor do overrides that change no rule.
    pub fn for_worker(&self, worker_sid: &str, attributes: &str) -> FlexPolicy {
        let mut policy = FlexPolicy {
            worker: None,
            ..self.clone()
        };
        let Ok(attributes) = serde_json::from_str::<serde_json::Value>(attributes) else {
            return policy;
        };
        let resolved = settings::resolve_policy(&*self.custom_data, Some(&attributes));
        if resolved.overridden && resolved.recording != self.setup {
            policy.worker = Some(WorkerRules {
                worker_sid: worker_sid.to_string(),
                setup: resolved.recording,
            });
        }
        policy
    }

    /// The account-wide rules that do not depend on the task.
    pub fn feature(&self) -> Result<&Config, Refusal> {
        feature(&self.setup)
    }

    /// Whether a paused recording of `task` may record again. A resume
    /// records, so the rules apply as to a recording, except `method`: it
    /// may be Flex's conference recording that is resumed. (A pause records
    /// nothing and is never refused by the policy.)
    pub fn check_resume(&self, task: TaskFacts<'_>) -> Result<(), Refusal> {
        self.both(|setup| Self::excluded(enabled(setup)?, task))
    }

    /// Whether recording a call of `task` is allowed. `None`: the request
    /// names no task (token-only authorization), allowed only when no
    /// exclusion rule could apply.
    pub fn check(&self, task: Option<TaskFacts<'_>>) -> Result<(), Refusal> {
        self.both(|setup| {
            let feature = feature(setup)?;
            let Some(task) = task else {
                return if feature.exclude_queues.is_empty() && feature.exclude_attributes.is_empty()
                {
                    Ok(())
                } else {
                    Err(Refusal::TaskRequired)
                };
            };
            Self::excluded(feature, task)
        })
    }

    /// The account-wide rules, then the worker's own, if any: a worker's
    /// `config_overrides` can narrow what is recorded, never widen it, since
    /// a worker may be able to edit their own attributes.
    fn both(&self, rule: impl Fn(&Setup) -> Result<(), Refusal>) -> Result<(), Refusal> {
        let account = rule(&self.setup);
        let Some(worker) = &self.worker else {
            return account;
        };
        match account {
            Err(refusal) => {
                if rule(&worker.setup).is_ok() {
                    tracing::warn!(
                        worker = %worker.worker_sid,
                        refusal = refusal.code().as_str(),
                        "this worker's config_overrides would allow what the account-wide configuration refuses; overrides can only narrow the recording policy, so it is refused"
                    );
                }
                Err(refusal)
            }
            Ok(()) => rule(&worker.setup),
        }
    }

    /// The core's one admission rule (`exclusion::admit`), on TaskRouter's
    /// copy of the task: what the browser refuses, the backend refuses.
    fn excluded(feature: &Config, task: TaskFacts<'_>) -> Result<(), Refusal> {
        // Text that is not JSON is unreadable, and fails closed wherever an
        // attribute rule would read it, as in the browser.
        let attributes = Attributes::parse(task.attributes);
        let facts = exclusion::TaskFacts {
            channel: task.channel,
            queue_name: task.queue_name,
            queue_sid: task.queue_sid,
            attributes: &*attributes,
        };
        let task_sid = task.task_sid.to_string();
        match exclusion::admit(feature, facts) {
            Ok(()) => Ok(()),
            Err(NotAdmitted::NotVoice) => Err(Refusal::NotVoice {
                task_sid,
                channel: task.channel.map(str::to_string),
            }),
            Err(NotAdmitted::Refused(exclusion::Refusal::Excluded(rule))) => {
                Err(Refusal::Excluded { task_sid, rule })
            }
            Err(NotAdmitted::Refused(problem)) => Err(Refusal::UnreadableAttributes {
                task_sid,
                problem: problem.to_string(),
            }),
        }
    }
}

/// The rules that do not depend on the task.
fn feature(setup: &Setup) -> Result<&Config, Refusal> {
    let c = enabled(setup)?;
    if c.method == Method::Conference {
        return Err(Refusal::ConferenceMethod);
    }
    Ok(c)
}

/// `enabled` and a valid feature, whatever the method.
fn enabled(setup: &Setup) -> Result<&Config, Refusal> {
    match setup {
        Setup::Disabled => Err(Refusal::Disabled),
        Setup::Invalid(errors) => Err(Refusal::Misconfigured(
            errors.iter().map(ToString::to_string).collect(),
        )),
        Setup::Enabled(c) => Ok(c),
    }
}

struct Loaded {
    policy: Arc<FlexPolicy>,
    at: Instant,
}

#[derive(Default)]
struct CacheState {
    last: Option<Loaded>,
    failed_at: Option<Instant>,
}

/// The cached policy (see the module comment), and whether it applies
/// (`POLICY`).
pub struct PolicyCache {
    mode: PolicyMode,
    timing: PolicyTiming,
    state: Mutex<CacheState>,
    /// Held while one read is in flight: single flight.
    refreshing: tokio::sync::Mutex<()>,
    /// Workers' attributes (JSON text; `None`: no such worker), kept as long
    /// as a configuration read is fresh, one read per worker at a time.
    workers: Cache<WorkerSid, Option<Arc<str>>>,
}

enum Cached {
    Use(Arc<FlexPolicy>),
    /// None was ever read and the last attempt just failed: answer 503 at
    /// once rather than queue every request behind another full read.
    Unknown,
    Refresh,
}

impl PolicyCache {
    pub fn new(mode: PolicyMode, timing: PolicyTiming) -> Self {
        PolicyCache {
            mode,
            timing,
            state: Mutex::new(CacheState::default()),
            refreshing: tokio::sync::Mutex::new(()),
            workers: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(timing.fresh_for)
                .build(),
        }
    }

    fn lookup(&self, now: Instant) -> Cached {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let failed_recently = st
            .failed_at
            .is_some_and(|f| now.saturating_duration_since(f) < self.timing.retry_after_failure);
        let Some(last) = &st.last else {
            return if failed_recently {
                Cached::Unknown
            } else {
                Cached::Refresh
            };
        };
        let age = now.saturating_duration_since(last.at);
        if age < self.timing.fresh_for {
            return Cached::Use(last.policy.clone());
        }
        if failed_recently && age < self.timing.stale_for {
            return Cached::Use(last.policy.clone());
        }
        Cached::Refresh
    }

    /// The recording policy to apply now, or `None` when `POLICY=off`.
    pub async fn current(
        &self,
        twilio: &TwilioClient,
    ) -> Result<Option<Arc<FlexPolicy>>, AppError> {
        match self.mode {
            PolicyMode::Off => Ok(None),
            PolicyMode::On => self.get(twilio).await.map(Some),
        }
    }

    /// The recording policy to apply now to a request of `worker` (the
    /// token's worker): `current`, with that worker's `config_overrides`
    /// (`FlexPolicy::for_worker`). When the worker cannot be read, the
    /// account-wide policy applies: an override only ever narrows it.
    pub async fn current_for(
        &self,
        twilio: &TwilioClient,
        worker: Option<&WorkerSid>,
    ) -> Result<Option<Arc<FlexPolicy>>, AppError> {
        let (Some(worker), PolicyMode::On) = (worker, self.mode) else {
            return self.current(twilio).await;
        };
        // Both reads at once: a cold worker cache costs no extra round trip.
        let (policy, attributes) =
            tokio::join!(self.current(twilio), self.worker_attributes(twilio, worker));
        Ok(policy?.map(|p| narrowed(p, worker, attributes)))
    }

    /// The policy whatever `POLICY` says (the safety net acts on its own,
    /// so it always reads the configuration), narrowed by `worker`'s
    /// overrides as a request of that worker's would be.
    pub async fn get_for(
        &self,
        twilio: &TwilioClient,
        worker: Option<&WorkerSid>,
    ) -> Result<Arc<FlexPolicy>, AppError> {
        let Some(worker) = worker else {
            return self.get(twilio).await;
        };
        let (policy, attributes) =
            tokio::join!(self.get(twilio), self.worker_attributes(twilio, worker));
        Ok(narrowed(policy?, worker, attributes))
    }

    /// A worker's TaskRouter attributes (JSON text), cached like the
    /// configuration; `None`: no such worker.
    async fn worker_attributes(
        &self,
        twilio: &TwilioClient,
        worker: &WorkerSid,
    ) -> Result<Option<Arc<str>>, Arc<TwilioError>> {
        self.workers
            .try_get_with(worker.clone(), async {
                twilio
                    .fetch_worker_attributes(worker)
                    .await
                    .map(|a| a.map(Arc::from))
            })
            .await
    }

    pub fn mode(&self) -> PolicyMode {
        self.mode
    }

    /// The Flex configuration's policy, reading it when needed, whatever
    /// the mode.
    pub async fn get(&self, twilio: &TwilioClient) -> Result<Arc<FlexPolicy>, AppError> {
        match self.lookup(Instant::now()) {
            Cached::Use(p) => return Ok(p),
            Cached::Unknown => return Err(unknown_policy()),
            Cached::Refresh => {}
        }
        let _flight = self.refreshing.lock().await;
        // Whoever held the lock before us may have just read it (or failed).
        match self.lookup(Instant::now()) {
            Cached::Use(p) => return Ok(p),
            Cached::Unknown => return Err(unknown_policy()),
            Cached::Refresh => {}
        }
        match self.read(twilio).await {
            Ok(policy) => Ok(policy),
            Err(problem) => self.fallback(&problem),
        }
    }

    /// Reads the Flex configuration now, whatever the cache holds, and
    /// keeps it: the readiness check's read (`readiness`), which keeps the
    /// policy fresh for the requests as well. Its problem, if any, is the
    /// caller's to report.
    pub async fn refresh(&self, twilio: &TwilioClient) -> Result<(), ReadProblem> {
        let _flight = self.refreshing.lock().await;
        self.read(twilio).await.map(|_| ())
    }

    /// One read of the configuration, stored when it is good. The caller
    /// holds the single-flight lock.
    async fn read(&self, twilio: &TwilioClient) -> Result<Arc<FlexPolicy>, ReadProblem> {
        let parsed = match twilio.fetch_flex_configuration().await {
            Ok(body) => FlexPolicy::from_configuration(&body).map_err(ReadProblem::Unreadable),
            Err(e) => Err(ReadProblem::Twilio(e)),
        };
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match parsed {
            Ok(policy) => {
                let policy = Arc::new(policy);
                let changed = st.last.as_ref().map(|l| &*l.policy) != Some(&*policy);
                if changed {
                    log_policy(&policy);
                }
                st.last = Some(Loaded {
                    policy: policy.clone(),
                    at: now,
                });
                st.failed_at = None;
                Ok(policy)
            }
            Err(problem) => {
                st.failed_at = Some(now);
                Err(problem)
            }
        }
    }

    /// After a failed read: the last policy read while it may still serve,
    /// else a 503 that says why.
    fn fallback(&self, problem: &ReadProblem) -> Result<Arc<FlexPolicy>, AppError> {
        let now = Instant::now();
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &st.last {
            Some(last) if now.saturating_duration_since(last.at) < self.timing.stale_for => {
                tracing::warn!(%problem, age_s = now.saturating_duration_since(last.at).as_secs(), "the Flex configuration could not be read; the last one read still applies");
                Ok(last.policy.clone())
            }
            _ => {
                // Logged once, as this request's cause, where the 503 is answered.
                crate::error::note_cause(&format!(
                    "the Flex configuration could not be read and none is known: {problem}"
                ));
                Err(AppError::Unavailable(if problem.refused_us() {
                    "the recording policy (the Flex configuration) could not be read: Twilio refused the backend's credentials for GET /v1/Configuration; give them access to the Flex configuration, or set POLICY=off".into()
                } else {
                    "the recording policy (the Flex configuration) could not be read from Twilio; try again shortly".into()
                }))
            }
        }
    }
}

/// Why a read of the Flex configuration failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReadProblem {
    #[error("{0}")]
    Twilio(TwilioError),
    /// Twilio answered, with something that is not a configuration.
    #[error("{0}")]
    Unreadable(String),
}

impl ReadProblem {
    /// Twilio refusing our own credentials is for the administrator to fix,
    /// not a passing outage.
    pub fn refused_us(&self) -> bool {
        matches!(
            self,
            ReadProblem::Twilio(TwilioError::Api {
                status: 401 | 403,
                ..
            })
        )
    }
}

fn log_policy(policy: &FlexPolicy) {
    match policy.feature() {
        Ok(c) => tracing::info!(
            excluded_queues = c.exclude_queues.len(),
            attribute_rules = c.exclude_attributes.len(),
            "recording policy read from the Flex configuration: enabled"
        ),
        // Flex records the conference itself: the administrator's choice,
        // and this backend still pauses and resumes that recording.
        Err(r @ Refusal::ConferenceMethod) => tracing::info!(
            refusal = r.code().as_str(),
            "recording policy read from the Flex configuration: {}",
            r.message()
        ),
        // Nothing is recorded, by this backend or by the plugin (which reads
        // the same configuration): worth an operator's look, once per change.
        Err(r) => tracing::warn!(
            refusal = r.code().as_str(),
            "recording policy read from the Flex configuration: {}",
            r.message()
        ),
    }
    for feature in TemplateFeature::ALL {
        let on = policy.conflicts.contains(&feature);
        crate::metrics::template_feature_conflict(feature.key(), on);
        if on {
            tracing::warn!(feature = feature.key(), "{}", feature.message());
        }
    }
    if policy.call_recording_enabled && policy.feature().is_ok() {
        tracing::warn!("Flex's own Call Recording (call_recording_enabled) is on as well: every call is also recorded as a whole conference; turn it off to keep one recording per leg");
    }
    if conference_recordings_unreachable(policy) {
        tracing::warn!(
            "{}",
            dual_channel_recording::strings::CONFERENCE_WITHOUT_CALL_RECORDING
        );
    }
}

/// `policy` with `worker`'s `config_overrides` (`FlexPolicy::for_worker`);
/// the account-wide policy when the worker cannot be read: an override
/// only ever narrows it.
fn narrowed(
    policy: Arc<FlexPolicy>,
    worker: &WorkerSid,
    attributes: Result<Option<Arc<str>>, Arc<TwilioError>>,
) -> Arc<FlexPolicy> {
    match attributes {
        Ok(Some(attributes)) => Arc::new(policy.for_worker(worker.as_str(), &attributes)),
        Ok(None) => policy,
        Err(e) => {
            tracing::warn!(worker = %worker, problem = %e, "the worker's attributes could not be read; the account-wide recording policy applies");
            policy
        }
    }
}

/// The conference method with Flex's own Call Recording off: the
/// conferences are recorded, but Flex Insights cannot reach the recordings
/// (`docs/flex-facts.md`, "Recording the whole conference instead").
pub fn conference_recordings_unreachable(policy: &FlexPolicy) -> bool {
    !policy.call_recording_enabled
        && enabled(&policy.setup).is_ok_and(|c| c.method == Method::Conference)
}

fn unknown_policy() -> AppError {
    AppError::Unavailable(
        "the recording policy (the Flex configuration) could not be read from Twilio; try again shortly".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(feature: serde_json::Value, flex_recording: bool) -> FlexPolicy {
        let body = json!({
            "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ui_attributes": {"custom_data": {
                "serverless_functions_domain": "recordings.example.com",
                "features": {"dual_channel_recording": feature}
            }},
            "call_recording_enabled": flex_recording,
        });
        FlexPolicy::from_configuration(body.to_string().as_bytes()).unwrap()
    }

    const WT: &str = "WT00000000000000000000000000000001";

    /// What the backend logs at start: the conference method with Flex's
    /// Call Recording off makes recordings Flex Insights cannot reach.
    #[test]
    fn conference_method_without_flex_call_recording_is_told() {
        let conference = json!({"enabled": true, "method": "conference"});
        let cases = [
            (conference.clone(), false, true),
            (conference, true, false),
            (
                json!({"enabled": true, "channel": "customer"}),
                false,
                false,
            ),
            (
                json!({"enabled": false, "method": "conference"}),
                false,
                false,
            ),
        ];
        for (feature, flex_recording, want) in cases {
            let p = policy(feature.clone(), flex_recording);
            assert_eq!(
                conference_recordings_unreachable(&p),
                want,
                "{feature} {flex_recording}"
            );
        }
    }

    fn task<'a>(queue: (&'a str, &'a str), attributes: &'a str) -> TaskFacts<'a> {
        TaskFacts {
            task_sid: WT,
            queue_name: Some(queue.0),
            queue_sid: Some(queue.1),
            channel: Some("voice"),
            attributes,
        }
    }

    /// Feature, task, expected decision, expected rule.
    type Case<'a> = (
        serde_json::Value,
        Option<TaskFacts<'a>>,
        Result<(), RefusalCode>,
        Option<&'a str>,
    );

    #[test]
    fn decisions() {
        let sales = ("Sales", "WQ00000000000000000000000000000001");
        let billing = ("Billing", "WQ00000000000000000000000000000002");
        let rules = json!({
            "enabled": true, "channel": "customer",
            "exclude_queues": ["Sales", "WQ00000000000000000000000000000002"],
            "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}, {"key": "vip", "value": true}]
        });
        let plain = json!({"enabled": true, "channel": "worker"});
        let cases: Vec<Case> = vec![
            (
                rules.clone(),
                Some(task(sales, "{}")),
                Err(RefusalCode::Excluded),
                Some("exclude_queues: Sales"),
            ),
            (
                rules.clone(),
                Some(task(billing, "{}")),
                Err(RefusalCode::Excluded),
                Some("exclude_queues: WQ00000000000000000000000000000002"),
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    r#"{"customer":{"privacy":"no-recording"}}"#,
                )),
                Err(RefusalCode::Excluded),
                Some("exclude_attributes: customer.privacy = no-recording"),
            ),
            // Compared as text, arrays by membership: the core's semantics.
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    r#"{"vip":"true"}"#,
                )),
                Err(RefusalCode::Excluded),
                Some("exclude_attributes: vip = true"),
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    r#"{"customer":{"privacy":["x","no-recording"]}}"#,
                )),
                Err(RefusalCode::Excluded),
                None,
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    r#"{"customer":{"privacy":"ok"}}"#,
                )),
                Ok(()),
                None,
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    "{not json",
                )),
                Err(RefusalCode::UnreadableAttributes),
                None,
            ),
            // Attributes that are JSON but not an object fail closed, as in
            // the browser (this was once a fail-open: "[1,2]" recorded).
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    "[1,2]",
                )),
                Err(RefusalCode::UnreadableAttributes),
                None,
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    r#""text""#,
                )),
                Err(RefusalCode::UnreadableAttributes),
                None,
            ),
            (
                rules.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    "null",
                )),
                Err(RefusalCode::UnreadableAttributes),
                None,
            ),
            // Without attribute rules the attributes are never read.
            (
                plain.clone(),
                Some(task(
                    ("Support", "WQ00000000000000000000000000000003"),
                    "[1,2]",
                )),
                Ok(()),
                None,
            ),
            (
                rules.clone(),
                Some(TaskFacts {
                    channel: Some("chat"),
                    ..task(("Support", "WQ00000000000000000000000000000003"), "{}")
                }),
                Err(RefusalCode::NotVoice),
                None,
            ),
            (
                plain.clone(),
                Some(TaskFacts {
                    channel: None,
                    ..task(sales, "{}")
                }),
                Err(RefusalCode::NotVoice),
                None,
            ),
            (rules.clone(), None, Err(RefusalCode::TaskRequired), None),
            (plain.clone(), None, Ok(()), None),
            (plain.clone(), Some(task(sales, "{}")), Ok(()), None),
            (
                json!({"enabled": false, "channel": "customer"}),
                Some(task(sales, "{}")),
                Err(RefusalCode::Disabled),
                Some("enabled"),
            ),
            (json!({}), None, Err(RefusalCode::Disabled), Some("enabled")),
            (json!(null), None, Err(RefusalCode::Misconfigured), None),
            (
                json!({"enabled": true, "channel": "customer", "method": "conference"}),
                Some(task(sales, "{}")),
                Err(RefusalCode::ConferenceMethod),
                Some("method"),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": "call-leg"}),
                Some(task(sales, "{}")),
                Ok(()),
                None,
            ),
            (
                json!({"enabled": true, "channel": "agent"}),
                Some(task(sales, "{}")),
                Err(RefusalCode::Misconfigured),
                Some(r#"channel: must be "customer" or "worker", found "agent""#),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": "phone"}),
                None,
                Err(RefusalCode::Misconfigured),
                None,
            ),
        ];
        for (feature, t, want, rule) in cases {
            let p = policy(feature.clone(), false);
            let got = p.check(t);
            assert_eq!(
                got.as_ref().map_err(Refusal::code).copied(),
                want,
                "{feature} {t:?}"
            );
            if let (Err(r), Some(rule)) = (&got, rule) {
                assert_eq!(r.rule().as_deref(), Some(rule), "{feature}");
            }
            if let Err(r) = &got {
                assert!(!r.message().is_empty());
            }
        }
    }

    #[test]
    fn flex_recording_on_is_read_but_not_a_refusal() {
        let p = policy(json!({"enabled": true, "channel": "customer"}), true);
        assert!(p.call_recording_enabled);
        assert_eq!(p.check(None), Ok(()));
    }

    #[test]
    fn configuration_answers() {
        // Without custom_data, or with ui_attributes as text, or null.
        let read =
            |body: serde_json::Value| FlexPolicy::from_configuration(body.to_string().as_bytes());
        assert_eq!(
            read(json!({"ui_attributes": {}})).unwrap().setup,
            Setup::Disabled
        );
        assert_eq!(
            read(json!({"ui_attributes": null})).unwrap().setup,
            Setup::Disabled
        );
        let text = json!({"custom_data": {"serverless_functions_domain": "x.io", "features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}}}).to_string();
        assert!(matches!(
            read(json!({"ui_attributes": text})).unwrap().setup,
            Setup::Enabled(_)
        ));
        assert!(read(json!({"ui_attributes": "{oops"})).is_err());
        assert!(FlexPolicy::from_configuration(b"<html>").is_err());
    }
}
