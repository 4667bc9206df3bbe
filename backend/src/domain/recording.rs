//! Starting the dual-channel recording, once per call.
//!
//! # Idempotency within one process
//!
//! Several Flex tabs of one worker, a browser retry after a lost answer, or a
//! transfer can all ask to record the same call. Per call SID this process
//! keeps the in-progress dual recording it knows of, behind a per-call async
//! lock: the first request starts the recording (and writes the Insights
//! entry) while holding the lock; every later or concurrent request for that
//! call waits for it and then answers with the same recording and
//! `alreadyRecording: true`. Before answering so, Twilio is asked whether that
//! recording is still in progress (a recording stopped or completed elsewhere
//! is not "already recording"); if it is not, a new one is started.
//!
//! # Across replicas: the claim store
//!
//! The map lives in one process: alone, two replicas that both receive a
//! request for the same call would each start a recording, and a restart
//! forgets. With `REDIS_URL` the replicas share a claim store (`claims`):
//! before starting, a replica claims the call (`SET NX PX`); the winner looks
//! at the call's recordings at Twilio (the store may have lost an entry: a
//! Redis restart without persistence, an outage, a replica that died after
//! starting) and adopts one in progress or starts one, then stores its SID
//! under the claim. Every other replica, and a restarted one, answers with
//! that recording. A replica that loses the race while the winner is still
//! starting polls the store for the SID, for at most `ClaimStore::wait`; then
//! it asks Twilio, and answers "try again" (503, which the plugin retries)
//! if nothing is running yet. It never starts a second recording while a
//! claim is pending.
//!
//! With a store, this process keeps a call only briefly
//! ([`FORGET_AFTER_WITH_CLAIMS`]): the store is what remembers.
//!
//! When the store cannot be reached (each operation is bounded by a short
//! timeout), the request goes on without it, as a single replica would, but
//! looks at Twilio's list of the call's recordings before starting: a
//! duplicate recording is better than a missed one. Each such request is
//! logged and counted (`ClaimStore::failures`).

use crate::claims::{Claim, ClaimStore, Lease, RecordedClaim, StoreError};
use crate::config::StatusCallback;
use crate::error::AppError;
use crate::twilio::{Recording, TwilioClient, TwilioError};
use dual_channel_recording::insights::MediaEntry;
use dual_channel_recording::sid::{CallSid, RecordingSid};
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// A call nobody asked about for this long is forgotten: Twilio ends a call
/// after at most 4 hours by default (`TimeLimit`), so a recording started
/// longer ago cannot still be in progress. A slot in use is never idle that
/// long (no request lasts more than a minute), so it is never dropped while
/// locked.
const FORGET_AFTER: Duration = Duration::from_secs(4 * 3600 + 600);

/// With a claim store the store remembers each call's recording for as long
/// as a call can last; this process then keeps a call only as a lock and a
/// short cache: long enough for every request one start causes (all tabs at
/// once, the plugin's retries over some 20 s), so its memory stays flat over
/// a shift instead of holding four hours of calls.
pub const FORGET_AFTER_WITH_CLAIMS: Duration = Duration::from_secs(60);

/// While polling for a pending claim: first and longest pause.
const POLL_FIRST: Duration = Duration::from_millis(25);
const POLL_MAX: Duration = Duration::from_millis(250);

/// A recording this backend started or adopted.
#[derive(Clone, Debug)]
pub struct StartedRecording {
    pub sid: RecordingSid,
    /// From Twilio's `start_time`, ms since the epoch.
    pub start_ms: Option<i64>,
    /// Media entries already linked for it by this process, by target path:
    /// a repeat request for the same target needs no task read or write.
    pub linked: Vec<(String, MediaEntry)>,
}

impl StartedRecording {
    fn new(sid: RecordingSid, start_ms: Option<i64>) -> Self {
        StartedRecording {
            sid,
            start_ms,
            linked: Vec::new(),
        }
    }
}

pub type CallSlot = Arc<tokio::sync::Mutex<Option<StartedRecording>>>;

/// The calls this process knows a recording of, by call SID; `moka`'s
/// expiring cache, the same as the token cache in `auth`.
pub struct RecordingRegistry {
    calls: Cache<CallSid, CallSlot>,
}

impl Default for RecordingRegistry {
    fn default() -> Self {
        RecordingRegistry::forgetting_after(FORGET_AFTER)
    }
}

impl RecordingRegistry {
    /// A registry that forgets a call nobody asked about for `idle`. A call
    /// forgotten while a slow request still holds its slot gets a second
    /// slot beside it: harmless with a claim store (the second request meets
    /// the claim), so anything shorter than [`FORGET_AFTER`] is for that case.
    pub fn forgetting_after(idle: Duration) -> Self {
        RecordingRegistry {
            calls: Cache::builder().time_to_idle(idle).build(),
        }
    }

    /// The call's slot; lock it for the whole start-and-link sequence.
    pub async fn slot(&self, call_sid: &CallSid) -> CallSlot {
        self.calls
            .get_with(call_sid.clone(), async { CallSlot::default() })
            .await
    }

    /// Calls known now (after pending expirations are applied).
    pub async fn len(&self) -> u64 {
        self.calls.run_pending_tasks().await;
        self.calls.entry_count()
    }

    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
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

/// Returns the in-progress recording of the call (started by this backend,
/// another replica, or adopted from Twilio's list), or starts one. `slot` must
/// be the call's locked slot; `claims` the shared store, if configured.
pub async fn ensure_recording(
    twilio: &TwilioClient,
    claims: Option<&ClaimStore>,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&StatusCallback>,
) -> Result<Started, AppError> {
    match claims {
        None => ensure_here(twilio, call_sid, slot, status_callback, false).await,
        Some(store) => ensure_claimed(twilio, store, call_sid, slot, status_callback).await,
    }
}

/// This process alone: its own record, then (with `look_first`) Twilio's
/// list of the call's recordings, then a new recording.
async fn ensure_here(
    twilio: &TwilioClient,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&StatusCallback>,
    look_first: bool,
) -> Result<Started, AppError> {
    if let Some(existing) = slot.as_ref() {
        if still_recording(twilio, call_sid, &existing.sid).await? {
            return Ok(Started {
                recording: existing.clone(),
                already: true,
            });
        }
        tracing::info!(call = %call_sid, recording = %existing.sid, "earlier recording is no longer in progress; starting a new one");
        *slot = None;
    }
    if look_first {
        if let Some(found) = running_dual_recording(twilio, call_sid).await? {
            return Ok(remember(slot, found.sid, found.start_ms, true));
        }
    }
    let (sid, start_ms) = start(twilio, call_sid, status_callback).await?;
    Ok(remember(slot, sid, start_ms, false))
}

/// Several replicas: the claim store decides who starts (module comment).
async fn ensure_claimed(
    twilio: &TwilioClient,
    store: &ClaimStore,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&StatusCallback>,
) -> Result<Started, AppError> {
    let give_up_at = tokio::time::Instant::now() + store.wait();
    let mut pause = POLL_FIRST;
    loop {
        let claim = match store.claim(call_sid).await {
            Ok(c) => c,
            Err(e) => {
                return without_store(twilio, store, call_sid, slot, status_callback, e).await
            }
        };
        let lease = match claim {
            Claim::Won(lease) => lease,
            Claim::Recorded(rec) => {
                if let Some(sid) = &rec.recording {
                    if still_recording(twilio, call_sid, sid).await? {
                        return Ok(remember(slot, sid.clone(), rec.start_ms, true));
                    }
                }
                match take_over(store, call_sid, &rec).await {
                    Ok(Some(lease)) => lease,
                    // Another replica changed the entry first: read it again.
                    Ok(None) => continue,
                    Err(e) => {
                        return without_store(twilio, store, call_sid, slot, status_callback, e)
                            .await
                    }
                }
            }
            Claim::Pending => {
                if tokio::time::Instant::now() + pause > give_up_at {
                    return waited_too_long(twilio, call_sid, slot).await;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(POLL_MAX);
                continue;
            }
        };
        return start_claimed(twilio, store, call_sid, slot, status_callback, lease).await;
    }
}

async fn take_over(
    store: &ClaimStore,
    call_sid: &CallSid,
    rec: &RecordedClaim,
) -> Result<Option<Lease>, StoreError> {
    tracing::info!(call = %call_sid, recording = rec.recording.as_ref().map(tracing::field::display), "stored recording is no longer in progress; claiming the call again");
    store.take_over(call_sid, rec).await
}

/// This replica holds the claim: look at Twilio's list first (the store may
/// have lost what was started), else start; then store the SID.
async fn start_claimed(
    twilio: &TwilioClient,
    store: &ClaimStore,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&StatusCallback>,
    lease: Lease,
) -> Result<Started, AppError> {
    let outcome = match running_dual_recording(twilio, call_sid).await {
        Ok(Some(found)) => Ok((found.sid, found.start_ms, true)),
        Ok(None) => start(twilio, call_sid, status_callback)
            .await
            .map(|(sid, start_ms)| (sid, start_ms, false)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((sid, start_ms, already)) => {
            match store.record(call_sid, &lease, &sid, start_ms).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(call = %call_sid, recording = %sid, "the claim ran out while the recording was started and another replica holds it now; the recording stands")
                }
                Err(e) => {
                    let failures = store.count_failure();
                    tracing::warn!(call = %call_sid, recording = %sid, error = %e, failures, "could not store the recording in the claim store; the claim runs out by itself and other replicas then find the recording at Twilio");
                }
            }
            Ok(remember(slot, sid, start_ms, already))
        }
        Err(e) => {
            if let Err(release) = store.release(call_sid, &lease).await {
                tracing::warn!(call = %call_sid, error = %release, "could not give the claim up; it runs out by itself");
            }
            Err(e)
        }
    }
}

/// The store is unreachable: record anyway, as one replica would, after a
/// look at Twilio's list of the call's recordings.
async fn without_store(
    twilio: &TwilioClient,
    store: &ClaimStore,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
    status_callback: Option<&StatusCallback>,
    error: StoreError,
) -> Result<Started, AppError> {
    let failures = store.count_failure();
    tracing::warn!(call = %call_sid, error = %error, failures, "claim store unreachable; recording without a claim after checking the call's recordings at Twilio");
    ensure_here(twilio, call_sid, slot, status_callback, true).await
}

/// A pending claim outlived our wait: the winner is slow (throttled Twilio)
/// or gone. If its recording is running, that is the answer; otherwise the
/// plugin retries, and a claim that ran out is taken by the next request.
async fn waited_too_long(
    twilio: &TwilioClient,
    call_sid: &CallSid,
    slot: &mut Option<StartedRecording>,
) -> Result<Started, AppError> {
    if let Some(found) = running_dual_recording(twilio, call_sid).await? {
        return Ok(remember(slot, found.sid, found.start_ms, true));
    }
    crate::error::note_cause(&format!(
        "another replica is still starting the recording of {call_sid}"
    ));
    Err(AppError::Unavailable(
        "another recording-backend replica is still starting the recording of this call; try again shortly".into(),
    ))
}

/// Keeps the recording in the call's slot (with the entries already linked,
/// when it is the same recording) and answers with it.
fn remember(
    slot: &mut Option<StartedRecording>,
    sid: RecordingSid,
    start_ms: Option<i64>,
    already: bool,
) -> Started {
    let recording = match slot.take() {
        Some(mut known) if known.sid == sid => {
            known.start_ms = known.start_ms.or(start_ms);
            known
        }
        _ => StartedRecording::new(sid, start_ms),
    };
    *slot = Some(recording.clone());
    Started { recording, already }
}

struct Found {
    sid: RecordingSid,
    start_ms: Option<i64>,
}

/// A dual recording in progress (or paused) on the call, from Twilio's own
/// list. The list of a call's recordings has no status filter in Twilio's
/// API description (`Calls/{CallSid}/Recordings.json` takes `DateCreated`
/// and paging only), so the first page, newest first, is filtered here.
async fn running_dual_recording(
    twilio: &TwilioClient,
    call_sid: &CallSid,
) -> Result<Option<Found>, AppError> {
    let (list, _) = twilio
        .list_recordings(call_sid)
        .await
        .map_err(|e| AppError::from_twilio("checking the call's recordings", e))?;
    Ok(list
        .into_iter()
        .filter(|r| is_live(r.status.as_deref()) && r.channels == Some(2))
        .find_map(|r| {
            let sid = RecordingSid::parse(&r.sid).ok()?;
            tracing::info!(call = %call_sid, recording = %sid, "a dual recording is already running on the call; using it");
            Some(Found {
                start_ms: r.start_time.as_deref().and_then(parse_twilio_time_ms),
                sid,
            })
        }))
}

/// Starts a recording; after a start that timed out, adopts the one it may
/// have created.
async fn start(
    twilio: &TwilioClient,
    call_sid: &CallSid,
    status_callback: Option<&StatusCallback>,
) -> Result<(RecordingSid, Option<i64>), AppError> {
    let rec = match twilio.create_recording(call_sid, status_callback).await {
        Ok(r) => r,
        Err(TwilioError::Timeout) => adopt_after_timeout(twilio, call_sid).await?,
        Err(e) => return Err(AppError::from_twilio("starting the recording", e)),
    };
    let sid = RecordingSid::parse(&rec.sid).map_err(|_| {
        AppError::from_twilio(
            "starting the recording",
            TwilioError::BadAnswer("recording SID missing or malformed".into()),
        )
    })?;
    tracing::info!(call = %call_sid, recording = %sid, "dual-channel recording started");
    let start_ms = rec.start_time.as_deref().and_then(parse_twilio_time_ms);
    Ok((sid, start_ms))
}

async fn still_recording(
    twilio: &TwilioClient,
    call_sid: &CallSid,
    recording_sid: &RecordingSid,
) -> Result<bool, AppError> {
    let (list, more) = twilio
        .list_recordings(call_sid)
        .await
        .map_err(|e| AppError::from_twilio("checking the call's recordings", e))?;
    Ok(
        match list.iter().find(|r| recording_sid.as_str() == r.sid) {
            Some(r) => is_live(r.status.as_deref()),
            // Not on the first page of a long list: trust our own record rather
            // than risk a second recording.
            None => more,
        },
    )
}

/// The start request may have reached Twilio even though no answer came back.
/// Starting again could make a second recording, so look first: an in-progress
/// dual recording started through the API is the one we asked for.
async fn adopt_after_timeout(
    twilio: &TwilioClient,
    call_sid: &CallSid,
) -> Result<Recording, AppError> {
    tracing::warn!(
        call = %call_sid,
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

    #[tokio::test]
    async fn slots_are_shared_per_call() {
        let r = RecordingRegistry::default();
        let ca = |n: u8| format!("CA{n:032x}").parse::<CallSid>().unwrap();
        let a = r.slot(&ca(1)).await;
        let b = r.slot(&ca(1)).await;
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &r.slot(&ca(2)).await));
        assert_eq!(r.len().await, 2);
    }

    #[test]
    fn remembering_keeps_what_was_linked_for_the_same_recording_only() {
        let entry = MediaEntry::voice_recording(
            "https://example/RE1".into(),
            1,
            dual_channel_recording::insights::RecordedLeg::Customer,
        );
        let re = |n: u8| format!("RE{n:032x}").parse::<RecordingSid>().unwrap();
        let mut slot = Some(StartedRecording {
            sid: re(1),
            start_ms: None,
            linked: vec![("conversations.media".into(), entry)],
        });
        let same = remember(&mut slot, re(1), Some(7), true);
        assert!(same.already);
        assert_eq!(same.recording.linked.len(), 1);
        assert_eq!(same.recording.start_ms, Some(7));
        let other = remember(&mut slot, re(2), None, false);
        assert!(!other.already);
        assert!(other.recording.linked.is_empty());
        assert_eq!(slot.as_ref().map(|r| &r.sid), Some(&re(2)));
    }
}
