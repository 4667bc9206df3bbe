//! The safety net: the backend records a call the plugin did not.
//!
//! Event Streams tells the backend of every accepted reservation
//! (`events`). With the `call-leg` method, [`SafetyNet::delay`]
//! (`SAFETY_NET_SECONDS`) after the accept, the net looks for a recording on
//! the leg the configuration names. It goes through the same sequence as
//! the plugin's request (`recording::ensure_recording`: the call's slot, the
//! claim, a look at Twilio, the start, the store), so the plugin and the net
//! never make two recordings of one leg: whoever comes second finds the
//! first one's. When the net had to start it, it links the recording for
//! Flex Insights exactly as the plugin's request would (`attributes`,
//! `insights`). The policy is the backend's own (`policy`, the core's
//! `exclusion::admit`): an excluded task is noted in the audit with its rule.
//!
//! With the `conference` method Flex records; the net starts nothing, and
//! when the task's call is over it checks that the conference was recorded.
//!
//! Every outcome goes to the audit (`audit`).

use crate::claims::ClaimStore;
use crate::config::StatusCallback;
use crate::domain::audit::{Accept, Audit, Miss, RecordedBy};
use crate::domain::events::{Kind, TaskEvent, MAX_EVENT_AGE_MS};
use crate::domain::policy::{FlexPolicy, PolicyCache, TaskFacts};
use crate::domain::recording::{self, RecordingRegistry};
use crate::domain::{attributes, authz};
use crate::twilio::{RecordingParent, TaskSnapshot, TwilioClient};
use dual_channel_recording::attributes::{parse_value, Attributes};
use dual_channel_recording::config::{Channel, Method, Setup};
use dual_channel_recording::insights::{self, MediaEntry, MediaTarget, RecordedLeg};
use dual_channel_recording::leg::{self, CallKind};
use dual_channel_recording::sid::CallSid;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long an event id is remembered against duplicates: Event Streams
/// retries a delivery for well under a day.
pub const EVENT_ID_TTL: Duration = Duration::from_secs(24 * 3600);

/// Reads of the policy and the task before the net gives a check up (each
/// read already retries as the Twilio client does): 2 s, then 4 s between
/// them, so an outage of a few seconds at the wrong moment costs no recording.
const READ_ATTEMPTS: u32 = 3;
const READ_PAUSE: Duration = Duration::from_secs(2);

pub struct SafetyNet {
    pub twilio: Arc<TwilioClient>,
    pub claims: Option<Arc<ClaimStore>>,
    pub policy: Arc<PolicyCache>,
    pub recordings: Arc<RecordingRegistry>,
    pub audit: Arc<Audit>,
    pub status_callback: Option<StatusCallback>,
    /// The host Insights links name (`TwilioHosts::recording_links`).
    pub recording_links: String,
    pub delay: Duration,
    pending: AtomicU64,
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// Counts a check as pending while it lives.
struct PendingGuard(Arc<SafetyNet>);

impl PendingGuard {
    fn new(net: &Arc<SafetyNet>) -> Self {
        let n = net.pending.fetch_add(1, Ordering::SeqCst) + 1;
        crate::metrics::safety_net_pending(n);
        PendingGuard(net.clone())
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let n = self
            .0
            .pending
            .fetch_sub(1, Ordering::SeqCst)
            .saturating_sub(1);
        crate::metrics::safety_net_pending(n);
    }
}

/// The leg the net is to record.
struct Target {
    call: CallSid,
    leg: RecordedLeg,
    media: MediaTarget,
}

impl SafetyNet {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        twilio: Arc<TwilioClient>,
        claims: Option<Arc<ClaimStore>>,
        policy: Arc<PolicyCache>,
        recordings: Arc<RecordingRegistry>,
        audit: Arc<Audit>,
        status_callback: Option<StatusCallback>,
        recording_links: String,
        delay: Duration,
    ) -> Self {
        SafetyNet {
            twilio,
            claims,
            policy,
            recordings,
            audit,
            status_callback,
            recording_links,
            delay,
            pending: AtomicU64::new(0),
        }
    }

    /// Checks scheduled and not done.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::SeqCst)
    }

    /// Acts on one new event in the background (the delivery is answered
    /// at once: Twilio waits 5 s at most).
    pub fn spawn(self: &Arc<Self>, event: TaskEvent) {
        let guard = PendingGuard::new(self);
        let net = self.clone();
        tokio::spawn(async move {
            let _guard = guard;
            match event.kind {
                Kind::Accepted => net.accepted(event).await,
                Kind::Finished => net.finished(event).await,
            }
        });
    }

    /// Makes the checks that were due while no backend waited for them:
    /// every task accepted within the last hour that the audit (the shared
    /// store) has no outcome for. Run at start; with Redis, a replica that
    /// starts takes over what a stopped one was waiting for. A check made
    /// twice is harmless (the leg is claimed as for any recording).
    pub async fn rearm(self: Arc<Self>) {
        let now = now_ms();
        let open = match self
            .audit
            .undecided(now.saturating_sub(MAX_EVENT_AGE_MS), now)
            .await
        {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(error = %e, "safety net: the checks other replicas were waiting for could not be read");
                return;
            }
        };
        if !open.is_empty() {
            tracing::info!(
                count = open.len(),
                "safety net: taking over checks no backend made"
            );
        }
        for u in open {
            let Ok(task) = u.task.parse() else { continue };
            self.spawn(TaskEvent {
                id: format!("rearm:{}", u.task),
                kind: Kind::Accepted,
                label: "reservation.accepted",
                time_ms: u.accepted_ms,
                task,
                reservation: u.reservation.and_then(|r| r.parse().ok()),
                worker: u.worker.and_then(|w| w.parse().ok()),
                attributes: None,
                queue_name: None,
                queue_sid: None,
            });
        }
    }

    async fn accepted(&self, event: TaskEvent) {
        let call = event
            .attributes
            .as_deref()
            .and_then(|a| parse_value(a).ok())
            .and_then(|a| leg::task_call(&a));
        let reservation = event.reservation.as_ref().map(|r| r.to_string());
        let worker = event.worker.as_ref().map(|w| w.to_string());
        self.audit
            .accepted(Accept {
                task: event.task.as_str(),
                accepted_ms: event.time_ms,
                call: call.as_deref(),
                reservation: reservation.as_deref(),
                worker: worker.as_deref(),
            })
            .await;
        // The wait counts from the accept, not from the delivery.
        let due = event
            .time_ms
            .saturating_add(i64::try_from(self.delay.as_millis()).unwrap_or(i64::MAX));
        let wait = due.saturating_sub(now_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
        }
        self.check(&event).await;
    }

    /// The policy and the task as TaskRouter has them now, trying again
    /// after a failure ([`READ_ATTEMPTS`]); `None` when the net cannot
    /// decide (logged).
    async fn read(&self, event: &TaskEvent) -> Option<(Arc<FlexPolicy>, TaskSnapshot)> {
        let mut pause = READ_PAUSE;
        for attempt in 1..=READ_ATTEMPTS {
            match self.read_once(event, attempt == READ_ATTEMPTS).await {
                Some(read) => return Some(read),
                None if attempt < READ_ATTEMPTS => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                None => {}
            }
        }
        None
    }

    /// One attempt; failures are logged at error level on the last one.
    async fn read_once(
        &self,
        event: &TaskEvent,
        last: bool,
    ) -> Option<(Arc<FlexPolicy>, TaskSnapshot)> {
        let task = event.task.as_str();
        let policy = match self
            .policy
            .get_for(&self.twilio, event.worker.as_ref())
            .await
        {
            Ok(p) => p,
            Err(e) => {
                if last {
                    tracing::error!(task, error = %e, "safety net: the Flex configuration could not be read, so the task's recording cannot be checked");
                } else {
                    tracing::info!(task, error = %e, "safety net: the Flex configuration could not be read; trying again");
                }
                return None;
            }
        };
        let snapshot = match self.twilio.fetch_task(&event.task).await {
            Ok(Some(t)) => t,
            // Gone already (a short call completed): the event's copy serves.
            Ok(None) => TaskSnapshot {
                attributes: event.attributes.clone().unwrap_or_else(|| "{}".into()),
                etag: None,
                queue_sid: event.queue_sid.clone(),
                queue_name: event.queue_name.clone(),
                channel: Some("voice".into()),
            },
            Err(e) => {
                if last {
                    tracing::error!(task, error = %e, "safety net: the task could not be read from TaskRouter, so its recording cannot be checked");
                } else {
                    tracing::info!(task, error = %e, "safety net: the task could not be read; trying again");
                }
                return None;
            }
        };
        Some((policy, snapshot))
    }

    /// Whether the policy wants the task recorded; an excluded task is
    /// noted in the audit with its rule.
    async fn admitted(
        &self,
        event: &TaskEvent,
        policy: &FlexPolicy,
        snapshot: &TaskSnapshot,
    ) -> bool {
        let task = event.task.as_str();
        if let Err(refusal) = policy.check_resume(TaskFacts::of(&event.task, snapshot)) {
            let rule = refusal.rule().unwrap_or_else(|| refusal.message());
            tracing::info!(task, %rule, "safety net: the task is not to be recorded");
            self.audit.excluded(task, &rule).await;
            return false;
        }
        true
    }

    async fn check(&self, event: &TaskEvent) {
        let task = event.task.as_str();
        let Some((policy, snapshot)) = self.read(event).await else {
            return;
        };
        if !self.admitted(event, &policy, &snapshot).await {
            return;
        }
        let Setup::Enabled(config) = &policy.setup else {
            return;
        };
        if config.method == Method::Conference {
            tracing::info!(task, "safety net: method conference, Flex records; the conference is checked when the call is over");
            return;
        }
        // `Attributes` is not `Send`: read the kind before any await.
        let kind = leg::call_kind(&*Attributes::parse(&snapshot.attributes));
        if kind == CallKind::InternalInbound {
            self.audit
                .excluded(task, "internal call: recorded by the calling agent's task")
                .await;
            return;
        }
        let Some(target) = self.target(event, config.channel, &snapshot) else {
            tracing::error!(task, channel = ?config.channel, "safety net: no call leg to record was found for the task; it is not recorded");
            self.audit
                .missed(task, Miss::NoRecordingStarted, None, None)
                .await;
            return;
        };
        if target.leg == RecordedLeg::Worker && !self.still_in_conference(&target, &snapshot).await
        {
            tracing::error!(task, call = %target.call, "safety net: the worker leg the task names is not in the task's conference; it is not recorded");
            self.audit
                .missed(
                    task,
                    Miss::NoRecordingStarted,
                    Some(target.call.as_str()),
                    None,
                )
                .await;
            return;
        }
        self.record(event, target, snapshot).await;
    }

    /// A worker leg named by the task's attributes is recorded only while
    /// Twilio shows it in the task's conference (`authz::in_conference`):
    /// after a transfer the attributes may name another worker's old leg.
    async fn still_in_conference(&self, target: &Target, snapshot: &TaskSnapshot) -> bool {
        let Some(cf) = parse_value(&snapshot.attributes)
            .ok()
            .and_then(|a| leg::task_conference(&a))
            .and_then(|c| c.parse::<dual_channel_recording::sid::ConferenceSid>().ok())
        else {
            return false;
        };
        match self.twilio.fetch_participant(&cf, &target.call).await {
            Ok(p) => authz::in_conference(p.as_ref()),
            Err(e) => {
                tracing::warn!(conference = %cf, call = %target.call, error = %e, "safety net: the worker's leg could not be checked in the conference");
                false
            }
        }
    }

    /// The leg the configuration names: the task's customer call (its
    /// `call_sid`, else Flex's `conference.participants.customer`); on the
    /// worker channel, the worker's leg as Flex names it in the task's
    /// attributes (`conference.participants.worker`), checked against the
    /// conference before it is recorded (`still_in_conference`).
    fn target(
        &self,
        event: &TaskEvent,
        channel: Channel,
        snapshot: &TaskSnapshot,
    ) -> Option<Target> {
        let attributes = parse_value(&snapshot.attributes).ok()?;
        match channel {
            Channel::Customer => Some(Target {
                // An outbound call's task may name the customer only in the
                // conference's legs, once the customer answered.
                call: leg::task_call(&attributes)
                    .or_else(|| {
                        leg::sid_attribute(
                            &attributes,
                            "conference.participants.customer",
                            dual_channel_recording::sid::SidKind::Call,
                        )
                    })?
                    .parse()
                    .ok()?,
                leg: RecordedLeg::Customer,
                media: MediaTarget::Conversation,
            }),
            Channel::Worker => Some(Target {
                call: leg::sid_attribute(
                    &attributes,
                    "conference.participants.worker",
                    dual_channel_recording::sid::SidKind::Call,
                )?
                .parse()
                .ok()?,
                leg: RecordedLeg::Worker,
                media: MediaTarget::Reservation(event.reservation.as_ref()?.to_string()),
            }),
        }
    }

    async fn record(&self, event: &TaskEvent, target: Target, snapshot: TaskSnapshot) {
        let task = event.task.as_str();
        let slot = self.recordings.slot(&target.call).await;
        let mut guard = slot.lock().await;
        let started = recording::ensure_recording(
            &self.twilio,
            self.claims.as_deref(),
            &target.call,
            &mut guard,
            self.status_callback.as_ref(),
        )
        .await;
        let started = match started {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(task, call = %target.call, error = %e, "safety net: no recording is running on the call and none could be started; the call is not recorded");
                self.audit
                    .missed(
                        task,
                        Miss::NoRecordingStarted,
                        Some(target.call.as_str()),
                        None,
                    )
                    .await;
                return;
            }
        };
        let rec = started.recording.clone();
        if started.already {
            tracing::info!(task, call = %target.call, recording = %rec.sid, "safety net: the call is already recorded");
            self.audit
                .recorded(
                    task,
                    target.call.as_str(),
                    rec.sid.as_str(),
                    RecordedBy::Plugin,
                    false,
                )
                .await;
            return;
        }
        crate::metrics::recording_started();
        crate::metrics::safety_net_started();
        tracing::warn!(task, call = %target.call, recording = %rec.sid, "safety net: no browser recorded the call (the plugin did not run); the backend started the recording");
        self.audit
            .recorded(
                task,
                target.call.as_str(),
                rec.sid.as_str(),
                RecordedBy::SafetyNet,
                true,
            )
            .await;
        let url = insights::recording_url(
            &self.recording_links,
            self.twilio.account_sid().as_str(),
            rec.sid.as_str(),
        );
        let first = snapshot.etag.is_some().then_some(snapshot);
        let now = now_ms();
        let linked = attributes::update(&self.twilio, &event.task, first, |attrs| {
            let existing = insights::existing_recordings(attrs, &target.media);
            let start =
                insights::entry_start_time(existing, Some(event.time_ms), rec.start_ms, now);
            let entry = MediaEntry::voice_recording(url.clone(), start, target.leg);
            let outcome = insights::append_media(attrs, &target.media, &entry)?;
            Ok((outcome == insights::MergeOutcome::Added, entry))
        })
        .await;
        match linked {
            Ok(applied) => {
                if let Some(r) = guard.as_mut() {
                    r.linked.push((target.media.describe(), applied.value));
                }
            }
            Err(problem) => {
                tracing::warn!(task, recording = %rec.sid, %problem, "safety net: the recording is running but was not listed for Flex Insights");
            }
        }
    }

    /// The task's call is over: with the `conference` method, was the
    /// conference recorded? Once per task, whichever event comes first.
    async fn finished(&self, event: TaskEvent) {
        let task = event.task.as_str();
        let Some((policy, snapshot)) = self.read(&event).await else {
            return;
        };
        match &policy.setup {
            Setup::Enabled(c) if c.method == Method::Conference => {}
            _ => return,
        }
        if !self.admitted(&event, &policy, &snapshot).await {
            return;
        }
        if !self
            .audit
            .first_time(&format!("conference-check:{task}"), EVENT_ID_TTL)
            .await
        {
            return;
        }
        let attributes = parse_value(&snapshot.attributes).ok();
        let named = attributes.as_ref().and_then(leg::task_conference);
        let conferences = match named.and_then(|c| c.parse().ok()) {
            Some(cf) => vec![cf],
            None => match self.twilio.conferences_named(task).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::error!(task, error = %e, "safety net: the task's conference could not be looked up; its recording is not checked");
                    return;
                }
            },
        };
        for cf in &conferences {
            let recordings = match self
                .twilio
                .list_recordings_of(&RecordingParent::Conference(cf.clone()))
                .await
            {
                Ok((list, _)) => list,
                Err(e) => {
                    tracing::error!(task, conference = %cf, error = %e, "safety net: the conference's recordings could not be listed");
                    return;
                }
            };
            let good = recordings
                .iter()
                .find(|r| !matches!(r.status.as_deref(), Some("absent") | Some("failed")));
            if let Some(r) = good {
                self.audit
                    .conference_recorded(task, cf.as_str(), &r.sid)
                    .await;
                return;
            }
        }
        let cf = conferences.first().map(|c| c.to_string());
        tracing::error!(task, conference = ?cf, "the task's conference was not recorded (method conference): Flex did not record it");
        self.audit
            .missed(task, Miss::ConferenceNotRecorded, None, cf.as_deref())
            .await;
    }
}
