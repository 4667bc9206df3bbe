//! Starting the dual-channel recording, once per call.
//!
//! # Idempotency
//!
//! Several Flex tabs of one worker, a browser retry after a lost answer, or a
//! transfer can all ask to record the same call. Per call SID this process
//! keeps the in-progress dual recording it started, behind a per-call async
//! lock: the first request starts the recording (and writes the Insights
//! entry) while holding the lock; every later or concurrent request for that
//! call waits for it and then answers with the same recording and
//! `alreadyRecording: true`. Before answering so, Twilio is asked whether that
//! recording is still in progress (a recording stopped or completed elsewhere
//! is not "already recording"); if it is not, a new one is started.
//!
//! # What can still race
//!
//! The map lives in one process. Two replicas behind a load balancer that both
//! receive a request for the same call (two tabs, or a retry landing on the
//! other replica) each see an empty map and each start a recording: two
//! recordings and two media entries for one leg. A restart also forgets which
//! recordings this process started. A deployment with more than one replica
//! avoids it by routing every request for one call to one replica (consistent
//! hashing on `callSid`, e.g. a load balancer hashing the form field or a
//! `X-Call-Sid` header the plugin could send, or sticky sessions per worker as
//! the next-best approximation), or by replacing this map with a shared store
//! holding a per-call lease (for example Redis `SET NX PX`) checked before the
//! recording is started. Within one replica there is no race.

use crate::error::AppError;
use crate::twilio::{Recording, TwilioClient, TwilioError};
use dual_channel_recording::insights::MediaEntry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// Twilio ends a call after at most 4 hours by default (`TimeLimit`); a
/// recording we started longer ago than this cannot still be in progress, so
/// its entry may be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(4 * 3600 + 600);

/// The map is swept of forgettable entries once it holds this many calls;
/// after a sweep, the next one waits until the map has doubled, so a map of
/// recent calls that cannot be forgotten yet is not rescanned on every request.
const SWEEP_AT: usize = 10_000;

/// A recording this backend started.
#[derive(Clone, Debug)]
pub struct StartedRecording {
    pub sid: String,
    /// From Twilio's `start_time`, ms since the epoch.
    pub start_ms: Option<i64>,
    started: Instant,
    /// Media entries already linked for it, by target path: a repeat request
    /// for the same target needs no task read or write.
    pub linked: Vec<(String, MediaEntry)>,
}

pub type CallSlot = Arc<tokio::sync::Mutex<Option<StartedRecording>>>;

#[derive(Default)]
pub struct RecordingRegistry {
    calls: Mutex<Calls>,
}

#[derive(Default)]
struct Calls {
    map: HashMap<String, CallSlot>,
    /// Size at which the next sweep runs (0 means `SWEEP_AT`).
    sweep_at: usize,
}

impl RecordingRegistry {
    /// The call's slot; lock it for the whole start-and-link sequence.
    pub fn slot(&self, call_sid: &str) -> CallSlot {
        let mut guard = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let Calls {
            map: calls,
            sweep_at,
        } = &mut *guard;
        if calls.len() >= (*sweep_at).max(SWEEP_AT) {
            calls.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map(|s| {
                            s.as_ref()
                                .is_some_and(|r| r.started.elapsed() < FORGET_AFTER)
                        })
                        .unwrap_or(true)
            });
            *sweep_at = calls.len().saturating_mul(2);
        }
        calls.entry(call_sid.to_string()).or_default().clone()
    }

    pub fn len(&self) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    /// Size at which the next sweep will run.
    pub fn next_sweep(&self) -> usize {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.sweep_at.max(SWEEP_AT)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Twilio's `start_time` is RFC 2822 (`Tue, 14 Apr 2026 10:00:00 +0000`).
pub fn parse_twilio_time_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc2822).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Statuses in which Twilio still records (or will resume recording).
fn is_live(status: Option<&str>) -> bool {
    matches!(status, Some("in-progress") | Some("paused"))
}

pub struct Started {
    pub recording: StartedRecording,
    pub already: bool,
}

/// Returns the in-progress recording this backend started on the call, or
/// starts one. `slot` must be the call's locked slot.
pub async fn ensure_recording(
    twilio: &TwilioClient,
    call_sid: &str,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&crate::config::StatusCallback>,
) -> Result<Started, AppError> {
    if let Some(existing) = slot.as_ref() {
        if still_recording(twilio, call_sid, &existing.sid).await? {
            return Ok(Started {
                recording: existing.clone(),
                already: true,
            });
        }
        tracing::info!(call = call_sid, recording = %existing.sid, "earlier recording is no longer in progress; starting a new one");
        *slot = None;
    }
    let rec = match twilio.create_recording(call_sid, status_callback).await {
        Ok(r) => r,
        Err(TwilioError::Timeout) => adopt_after_timeout(twilio, call_sid).await?,
        Err(e) => return Err(AppError::from_twilio("starting the recording", e)),
    };
    if !dual_channel_recording::sid::is_sid(
        dual_channel_recording::sid::SidKind::Recording,
        &rec.sid,
    ) {
        return Err(AppError::from_twilio(
            "starting the recording",
            TwilioError::BadAnswer("recording SID missing or malformed".into()),
        ));
    }
    let started = StartedRecording {
        sid: rec.sid.clone(),
        start_ms: rec.start_time.as_deref().and_then(parse_twilio_time_ms),
        started: Instant::now(),
        linked: Vec::new(),
    };
    tracing::info!(call = call_sid, recording = %started.sid, "dual-channel recording started");
    *slot = Some(started.clone());
    Ok(Started {
        recording: started,
        already: false,
    })
}

async fn still_recording(
    twilio: &TwilioClient,
    call_sid: &str,
    recording_sid: &str,
) -> Result<bool, AppError> {
    let (list, more) = twilio
        .list_recordings(call_sid)
        .await
        .map_err(|e| AppError::from_twilio("checking the call's recordings", e))?;
    Ok(match list.iter().find(|r| r.sid == recording_sid) {
        Some(r) => is_live(r.status.as_deref()),
        // Not on the first page of a long list: trust our own record rather
        // than risk a second recording.
        None => more,
    })
}

/// The start request may have reached Twilio even though no answer came back.
/// Starting again could make a second recording, so look first: an in-progress
/// dual recording started through the API is the one we asked for.
async fn adopt_after_timeout(twilio: &TwilioClient, call_sid: &str) -> Result<Recording, AppError> {
    tracing::warn!(
        call = call_sid,
        "recording start timed out; looking for the recording on the call"
    );
    let (list, _) = twilio
        .list_recordings(call_sid)
        .await
        .map_err(|e| AppError::from_twilio("checking the call's recordings", e))?;
    list.into_iter()
        .find(|r| is_live(r.status.as_deref()) && r.channels == Some(2))
        .ok_or_else(|| {
            AppError::Unavailable(
                "Twilio did not answer in time while starting the recording and no recording is running on the call; try again".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_are_amortised_when_nothing_can_be_forgotten() {
        let registry = RecordingRegistry::default();
        let recent = || StartedRecording {
            sid: "RE".into(),
            start_ms: None,
            started: Instant::now(),
            linked: Vec::new(),
        };
        for i in 0..SWEEP_AT {
            let slot = registry.slot(&format!("CA{i}"));
            *slot.try_lock().unwrap() = Some(recent());
        }
        assert_eq!(registry.len(), SWEEP_AT);
        // The next call sweeps, keeps every recent entry, and moves the next
        // sweep to twice the size instead of sweeping on every request.
        registry.slot("CAnew");
        assert_eq!(registry.len(), SWEEP_AT + 1);
        assert_eq!(registry.next_sweep(), 2 * SWEEP_AT);
    }

    #[test]
    fn twilio_times_parse() {
        assert_eq!(
            parse_twilio_time_ms("Tue, 14 Nov 2023 22:13:20 +0000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_twilio_time_ms("Tue, 14 Nov 2023 23:13:20 +0100"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_twilio_time_ms("2023-11-14T22:13:20Z"), None);
        assert_eq!(parse_twilio_time_ms(""), None);
    }

    #[test]
    fn slots_are_shared_per_call() {
        let r = RecordingRegistry::default();
        let a = r.slot("CA1");
        let b = r.slot("CA1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &r.slot("CA2")));
        assert_eq!(r.len(), 2);
    }
}
