//! The backend's own `max_pause_seconds`: a pause this backend made is
//! resumed once that long (plus a grace) has passed, even when no browser is
//! left to do it.
//!
//! Why here as well as in the plugin: the plugin resumes when the worker's
//! part ends or `max_pause_seconds` passes, but only while its tab lives. A
//! tab closed or crashed mid-pause would leave the customer's leg, or the
//! conference, paused for the rest of the call (issue 14: "never left paused
//! by accident"). The grace lets the plugin's own resume come first, so the
//! backend acts only when no browser did.
//!
//! Never early: a pause card details depend on must not end before its time.
//! Each pause the backend makes gets a token (watched or not); a resume on
//! any replica forgets it, a later pause replaces it, and the timer resumes
//! only a pause that still holds its own token, checked last, just before
//! the update. With a claim store (`REDIS_URL`) the tokens live there, so
//! every replica sees every pause and resume; without one, in this process
//! (one replica, as the README says). When the store cannot be asked, or
//! failed since the pause, the timer does not resume (the plugin still
//! will): a late resume costs audio, an early one could record a card
//! number.
//!
//! What this cannot see: pauses and resumes made outside this backend (the
//! Twilio console, another application), a store failure on another replica
//! between a resume and a new pause, and a resume and a new pause both
//! landing during the one Twilio request of the timer's own update. A
//! replica that stops loses its timers; the plugin's own resumes remain.

use crate::policy::TaskFacts;
use crate::twilio::Recording;
use crate::AppState;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use rand::RngExt;
use std::time::Duration;

/// How long after `max_pause_seconds` the backend steps in. The plugin's
/// timer starts when its pause answer lands, so its resume normally comes
/// first; one still being retried when the backend resumes asks for the
/// state the recording already has, which changes nothing.
pub const GRACE: Duration = Duration::from_secs(10);

/// The longest pause the configuration accepts (a day, `pause::parse`) and
/// the grace: a token is kept no longer than its timer can run.
const TOKEN_TTL: Duration = Duration::from_secs(86_400 + 600);

/// The pauses this backend watches, by recording SID, when no claim store
/// holds them.
pub struct PauseWatch {
    local: Cache<String, String>,
}

impl Default for PauseWatch {
    fn default() -> Self {
        PauseWatch {
            local: Cache::builder().time_to_live(TOKEN_TTL).build(),
        }
    }
}

/// A pause the backend made and watches.
#[derive(Clone, Debug)]
pub struct Watched {
    pub task_sid: String,
    /// `Calls/{CA}` or `Conferences/{CF}`: where the recording is addressed.
    pub parent: String,
    pub recording_sid: String,
}

fn new_token() -> String {
    let nonce: u128 = rand::rng().random();
    format!("{nonce:032x}")
}

impl PauseWatch {
    /// Pauses this process holds a token of (none with a claim store).
    pub async fn len(&self) -> u64 {
        self.local.run_pending_tasks().await;
        self.local.entry_count()
    }

    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Every pause this backend makes passes here, watched or not: its token
    /// replaces any older pause's, so an older timer can never end it.
    /// `after` is the configured `max_pause_seconds`, if any.
    pub async fn paused(&self, state: &AppState, paused: Watched, after: Option<Duration>) {
        let token = new_token();
        let s = &*state.0;
        let failures_before = match &s.claims {
            Some(store) => {
                let ttl = after.unwrap_or_default() + TOKEN_TTL;
                if let Err(e) = store.mark_paused(&paused.recording_sid, &token, ttl).await {
                    store.count_failure();
                    tracing::warn!(recording = %paused.recording_sid, error = %e, "the pause cannot be watched without the claim store; the plugin's own resume remains");
                    return;
                }
                store.failures()
            }
            None => {
                self.local
                    .insert(paused.recording_sid.clone(), token.clone())
                    .await;
                0
            }
        };
        let Some(after) = after else { return };
        let state = state.clone();
        let wait = after + s.config.pause_watch_grace;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            resume_if_still_paused(&state, &paused, &token, failures_before).await;
        });
    }

    /// A resume (from any tab, or this watch) ends the pause.
    pub async fn resumed(&self, state: &AppState, recording_sid: &str) {
        match &state.0.claims {
            Some(store) => {
                if let Err(e) = store.clear_paused(recording_sid).await {
                    store.count_failure();
                    tracing::warn!(recording = %recording_sid, error = %e, "the claim store did not hear of the resume");
                }
            }
            None => self.local.invalidate(recording_sid).await,
        }
    }

    /// Whether the pause `token` made is still the newest and not resumed;
    /// forgets it if so. `None` when that cannot be known.
    async fn take(&self, state: &AppState, recording_sid: &str, token: &str) -> Option<bool> {
        match &state.0.claims {
            Some(store) => match store.take_paused(recording_sid, token).await {
                Ok(taken) => Some(taken),
                Err(e) => {
                    store.count_failure();
                    tracing::warn!(recording = %recording_sid, error = %e, "the claim store cannot say whether the pause was resumed; left to the plugin");
                    None
                }
            },
            None => {
                let result = self
                    .local
                    .entry_by_ref(recording_sid)
                    .and_compute_with(|entry| {
                        std::future::ready(match entry {
                            Some(e) if e.value() == token => Op::Remove,
                            _ => Op::Nop,
                        })
                    })
                    .await;
                Some(matches!(result, CompResult::Removed(_)))
            }
        }
    }
}

/// The slow checks (Twilio, the policy) come first and the token last, just
/// before the update: a resume and a new pause arriving during the checks
/// replace the token, and this timer then does nothing. What remains is the
/// one Twilio request of the update itself.
async fn resume_if_still_paused(
    state: &AppState,
    paused: &Watched,
    token: &str,
    failures_before: u64,
) {
    let s = &*state.0;
    let re = &paused.recording_sid;
    match still_paused(state, paused).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(why) => {
            tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed but the recording was not resumed: {why}");
            return;
        }
    }
    // A resume records again: the Flex configuration's rules apply, as to a
    // resume the plugin asks for.
    if let Err(why) = resume_allowed(state, &paused.task_sid).await {
        tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed; the recording stays paused: {why}");
        return;
    }
    // The store missed something since this pause (a resume it did not hear
    // of, then a pause it did not record, would leave this token looking
    // current): better a pause the plugin must end than one ended early.
    if let Some(store) = &s.claims {
        if store.failures() != failures_before {
            tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed; the recording stays paused because the claim store failed since the pause");
            return;
        }
    }
    if s.pause_watch.take(state, re, token).await != Some(true) {
        return;
    }
    match s
        .twilio
        .update_recording_status(&paused.parent, re, "in-progress", None)
        .await
    {
        Ok(_) => {
            crate::metrics::pause_watch_resumed();
            tracing::info!(recording = %re, task = %paused.task_sid, "resumed after max_pause_seconds: no browser resumed it");
        }
        Err(e) => {
            tracing::warn!(recording = %re, task = %paused.task_sid, error = %e, "max_pause_seconds passed but Twilio refused the resume")
        }
    }
}

async fn still_paused(state: &AppState, paused: &Watched) -> Result<bool, String> {
    let twilio = &state.0.twilio;
    let listed = match paused.parent.split_once('/') {
        Some(("Calls", call)) => twilio.list_recordings(call).await,
        Some(("Conferences", cf)) => twilio.list_conference_recordings(cf).await,
        _ => return Err(format!("unexpected recording parent {}", paused.parent)),
    }
    .map_err(|e| format!("listing its recordings failed: {e}"))?;
    Ok(listed.0.iter().any(|r: &Recording| {
        r.sid == paused.recording_sid && r.status.as_deref() == Some("paused")
    }))
}

async fn resume_allowed(state: &AppState, task_sid: &str) -> Result<(), String> {
    let Some(policy) = crate::routes::policy(state)
        .await
        .map_err(|e| format!("the Flex configuration cannot be read ({e})"))?
    else {
        return Ok(());
    };
    let task = state
        .0
        .twilio
        .fetch_task(task_sid)
        .await
        .map_err(|e| format!("reading the task failed: {e}"))?
        .ok_or_else(|| {
            format!("task {task_sid} is gone, so its exclusion rules cannot be checked")
        })?;
    policy
        .check_resume(TaskFacts::of(task_sid, &task))
        .map_err(|r| r.message())
}
