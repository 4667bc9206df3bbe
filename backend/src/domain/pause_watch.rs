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
//! After a pause or a resume the store did not hear of, the replica that
//! made it replaces the token the store still holds, if a watched pause's
//! written before the failure, as soon as the store answers again
//! (`make_stale`), so no timer, not even one that does not know of the
//! failure, finds an older pause's token current afterwards; a pause made
//! on another replica after the failure keeps its token and its timer.
//!
//! What this cannot see: pauses and resumes made outside this backend (the
//! Twilio console, another application); a resume and a new pause on a
//! replica cut off from the store, while another replica's timer of the
//! older pause fires before the store hears of them; and a resume and a new
//! pause both landing during the one Twilio request of the timer's own
//! update.
//!
//! A replica that stops (a rolling deploy, a crash) loses its timers. With a
//! claim store, a watched pause's token also names the task, what to resume
//! and `max_pause_seconds`, and the key lives `max_pause_seconds` plus
//! `TOKEN_TTL`, so its time to live says when the pause is due, measured by
//! Redis's clock alone (a jump of that clock, or a failover to a Redis whose
//! clock is ahead by more than twice the grace, is what could still make a
//! taken-over timer early). A replica that starts takes every such timer
//! over (`rearm`, retried until the store answers), firing one grace after
//! the due time so the pausing replica's own timer, if it still runs, goes
//! first; if several replicas hold a timer for one pause, the token lets
//! one of them resume it. Without a claim store the tokens and their timers
//! live and die with the process; the plugin's own resumes remain.

use crate::claims::{ClaimStore, StoreError};
use crate::domain::policy::{PolicyCache, TaskFacts};
use crate::twilio::{Recording, RecordingParent, TwilioClient};
use dual_channel_recording::retry::Backoff;
use dual_channel_recording::sid::{RecordingSid, TaskSid};
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use rand::RngExt;
use std::sync::Arc;
use std::time::Duration;

/// The longest pause the configuration accepts (a day, `pause::parse`) and
/// the grace: a token is kept no longer than its timer can run.
const TOKEN_TTL: Duration = Duration::from_secs(86_400 + 600);

/// The pause watch: what its timers need (Twilio, the claim store, the
/// policy, the grace after `max_pause_seconds`: `config::PAUSE_WATCH_GRACE`)
/// and, when no claim store holds them, the pauses' tokens by recording
/// SID. Cheap to clone: each timer holds a clone.
#[derive(Clone)]
pub struct PauseWatch {
    twilio: Arc<TwilioClient>,
    claims: Option<Arc<ClaimStore>>,
    policy: Arc<PolicyCache>,
    grace: Duration,
    local: Cache<RecordingSid, String>,
}

/// A pause the backend made and watches.
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub task_sid: TaskSid,
    /// Where the recording is addressed.
    pub parent: RecordingParent,
    pub recording_sid: RecordingSid,
}

/// A pause's token: `{nonce}` for an unwatched pause; for a watched one
/// `{nonce}:{max ms}:{task}:{parent}`, what a replica that starts needs to
/// take the timer over. When it is due is not in it: the key lives
/// `max + TOKEN_TTL`, so its remaining time to live in Redis says (`rearm`),
/// by Redis's clock rather than each replica's.
fn new_token(watched: Option<(&Watched, Duration)>) -> String {
    let nonce: u128 = rand::rng().random();
    match watched {
        Some((w, max)) => format!(
            "{nonce:032x}:{}:{}:{}",
            max.as_millis(),
            w.task_sid,
            w.parent
        ),
        None => format!("{nonce:032x}"),
    }
}

/// The watched pause a token found in the claim store names; `None` for an
/// unwatched pause or a value this backend did not write.
fn watched_of(recording_sid: &str, token: &str) -> Option<Watched> {
    let mut parts = token.splitn(4, ':');
    let (_nonce, max, task, parent) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    max.parse::<u64>().ok()?;
    Some(Watched {
        task_sid: task.parse().ok()?,
        parent: parent.parse().ok()?,
        recording_sid: recording_sid.parse().ok()?,
    })
}

/// How the backend keeps at a claim-store operation it must not drop: the
/// listing at start (`rearm`) and, after a failed write, making the older
/// pause's token stale (`make_stale`). Every few seconds, for as long as a
/// token can live.
const STORE_RETRY: Backoff = Backoff {
    max_attempts: u32::MAX,
    base: Duration::from_millis(200),
    cap: Duration::from_secs(5),
    // A token lives at most `max_pause_seconds` (a day at most) + TOKEN_TTL.
    budget: Some(Duration::from_secs(2 * (86_400 + 600))),
};

/// Tokens written this long after a failure still count as older than it
/// (`make_stale`): the failing request and a pause on another replica may
/// land in either order, and erring that way only makes a pause later.
const STALE_MARGIN: Duration = Duration::from_secs(1);

/// Runs `op` until it succeeds or `STORE_RETRY` gives up.
async fn keep_trying<T, F, Fut>(what: &str, mut op: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let start = tokio::time::Instant::now();
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => {
                if attempt > 1 {
                    tracing::info!(attempts = attempt, "{what}: done");
                }
                return Some(v);
            }
            Err(e) => {
                let unit: f64 = rand::rng().random();
                let Some(delay) = STORE_RETRY.next_delay(attempt, start.elapsed(), unit) else {
                    tracing::warn!(error = %e, attempts = attempt, "{what}: gave up");
                    return None;
                };
                if attempt == 1 {
                    tracing::warn!(error = %e, "{what}: the claim store cannot be reached; trying again until it can");
                }
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        }
    }
}

impl PauseWatch {
    pub fn new(
        twilio: Arc<TwilioClient>,
        claims: Option<Arc<ClaimStore>>,
        policy: Arc<PolicyCache>,
        grace: Duration,
    ) -> Self {
        PauseWatch {
            twilio,
            claims,
            policy,
            grace,
            local: Cache::builder().time_to_live(TOKEN_TTL).build(),
        }
    }

    /// After a pause or a resume the store did not hear of, the token it
    /// holds (an older pause's) must stop looking current, or a timer that
    /// does not know of the failure (one a replica takes over at start,
    /// `rearm`) could resume the newer pause early. As soon as the store
    /// answers, a watched token written before the failure is replaced by a
    /// fresh unwatched one; one written after it (a pause on another replica
    /// meanwhile) stays, with its own timer.
    fn make_stale(&self, recording_sid: &RecordingSid) {
        let (watch, re) = (self.clone(), recording_sid.clone());
        let failed = tokio::time::Instant::now();
        tokio::spawn(async move {
            let Some(store) = &watch.claims else {
                return;
            };
            keep_trying("making an older pause's token stale", || async {
                let older_than = failed.elapsed().saturating_sub(STALE_MARGIN);
                store
                    .replace_older_pause(&re, older_than, TOKEN_TTL, &new_token(None))
                    .await
            })
            .await;
        });
    }

    /// At start: takes over the timer of every watched pause the claim store
    /// holds (another replica's, or this one's before a restart). Each fires
    /// one grace after the pause is due (the key's remaining time to live
    /// says when), so the pausing replica's own timer, if it still runs, goes
    /// first; an overdue pause is looked at at once. Nothing without a claim
    /// store.
    pub async fn rearm(self) {
        let Some(store) = &self.claims else {
            return;
        };
        // Counted before the listing: a pause or resume this replica fails to
        // note while it lists (it serves requests meanwhile) keeps these timers
        // from resuming, as it would its own.
        let failures_before = store.failures();
        // A store this replica could not reach at start is not a store that
        // missed a pause or a resume: no failure is counted.
        let Some(pauses) = keep_trying("taking over the pause timers", || store.paused()).await
        else {
            return;
        };
        let mut taken = 0;
        for (recording_sid, token, ttl) in pauses {
            let Some(watched) = watched_of(&recording_sid, &token) else {
                continue;
            };
            // The key was set to live `max_pause_seconds + TOKEN_TTL`: what is
            // left beyond TOKEN_TTL is the time to `max_pause_seconds`.
            let wait = ttl.saturating_sub(TOKEN_TTL) + self.grace + self.grace;
            taken += 1;
            let watch = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                watch
                    .resume_if_still_paused(&watched, &token, failures_before)
                    .await;
            });
        }
        tracing::info!(
            timers = taken,
            "pause timers taken over from the claim store"
        );
    }

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
    pub async fn paused(&self, paused: Watched, after: Option<Duration>) {
        let wait = after.map(|a| a + self.grace);
        let token = new_token(after.map(|max| (&paused, max)));
        let failures_before = match &self.claims {
            Some(store) => {
                let ttl = after.unwrap_or_default() + TOKEN_TTL;
                if let Err(e) = store.mark_paused(&paused.recording_sid, &token, ttl).await {
                    store.count_failure();
                    tracing::warn!(recording = %paused.recording_sid, error = %e, "the pause cannot be watched without the claim store; the plugin's own resume remains");
                    self.make_stale(&paused.recording_sid);
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
        let Some(wait) = wait else { return };
        let watch = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            watch
                .resume_if_still_paused(&paused, &token, failures_before)
                .await;
        });
    }

    /// A resume (from any tab, or this watch) ends the pause.
    pub async fn resumed(&self, recording_sid: &RecordingSid) {
        match &self.claims {
            Some(store) => {
                if let Err(e) = store.clear_paused(recording_sid).await {
                    store.count_failure();
                    tracing::warn!(recording = %recording_sid, error = %e, "the claim store did not hear of the resume");
                    self.make_stale(recording_sid);
                }
            }
            None => self.local.invalidate(recording_sid).await,
        }
    }

    /// Whether the pause `token` made is still the newest and not resumed;
    /// forgets it if so. `None` when that cannot be known.
    async fn take(&self, recording_sid: &RecordingSid, token: &str) -> Option<bool> {
        match &self.claims {
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

    /// The slow checks (Twilio, the policy) come first and the token last,
    /// just before the update: a resume and a new pause arriving during the
    /// checks replace the token, and this timer then does nothing. What
    /// remains is the one Twilio request of the update itself.
    async fn resume_if_still_paused(&self, paused: &Watched, token: &str, failures_before: u64) {
        let re = &paused.recording_sid;
        match self.still_paused(paused).await {
            Ok(true) => {}
            // Resumed already (by a browser, or by Twilio with the call): the
            // token goes, if still this pause's, so no later start looks again.
            Ok(false) => {
                match &self.claims {
                    // Housekeeping: a failure here misses no pause or resume,
                    // so it is not counted against the other timers.
                    Some(store) => {
                        let _ = store.take_paused(re, token).await;
                    }
                    None => {
                        self.take(re, token).await;
                    }
                }
                return;
            }
            Err(why) => {
                tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed but the recording was not resumed: {why}");
                return;
            }
        }
        // A resume records again: the Flex configuration's rules apply, as to a
        // resume the plugin asks for.
        if let Err(why) = self.resume_allowed(&paused.task_sid).await {
            tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed; the recording stays paused: {why}");
            return;
        }
        // The store missed something since this pause (a resume it did not hear
        // of, then a pause it did not record, would leave this token looking
        // current): better a pause the plugin must end than one ended early.
        if let Some(store) = &self.claims {
            if store.failures() != failures_before {
                tracing::warn!(recording = %re, task = %paused.task_sid, "max_pause_seconds passed; the recording stays paused because the claim store failed since the pause");
                return;
            }
        }
        if self.take(re, token).await != Some(true) {
            return;
        }
        match self
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

    async fn still_paused(&self, paused: &Watched) -> Result<bool, String> {
        let (listed, _) = self
            .twilio
            .list_recordings_of(&paused.parent)
            .await
            .map_err(|e| format!("listing its recordings failed: {e}"))?;
        Ok(listed.iter().any(|r: &Recording| {
            paused.recording_sid.as_str() == r.sid && r.status.as_deref() == Some("paused")
        }))
    }

    async fn resume_allowed(&self, task_sid: &TaskSid) -> Result<(), String> {
        let Some(policy) = self
            .policy
            .current(&self.twilio)
            .await
            .map_err(|e| format!("the Flex configuration cannot be read ({e})"))?
        else {
            return Ok(());
        };
        let task = self
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const WT: &str = "WT0123456789abcdef0123456789abcdef";
    const RE: &str = "RE0123456789abcdef0123456789abcdef";
    const CA: &str = "CA0123456789abcdef0123456789abcdef";
    const CF: &str = "CF0123456789abcdef0123456789abcdef";

    fn watched(parent: &str) -> Watched {
        Watched {
            task_sid: WT.parse().unwrap(),
            parent: parent.parse().unwrap(),
            recording_sid: RE.parse().unwrap(),
        }
    }

    #[test]
    fn a_watched_pause_token_reads_back_and_anything_else_does_not() {
        for parent in [format!("Calls/{CA}"), format!("Conferences/{CF}")] {
            let max = Duration::from_millis(1500);
            let token = new_token(Some((&watched(&parent), max)));
            assert!(token.contains(":1500:"), "{token}");
            assert_eq!(watched_of(RE, &token), Some(watched(&parent)), "{token}");
            // Each pause's token is its own.
            assert_ne!(token, new_token(Some((&watched(&parent), max))));
        }
        let unwatched = new_token(None);
        assert_eq!(unwatched.len(), 32);
        let refused = [
            unwatched.as_str(),
            "",
            &format!("n:{WT}:Calls/{CA}"),
            &format!("n:soon:{WT}:Calls/{CA}"),
            &format!("n:-1:{WT}:Calls/{CA}"),
            &format!("n:5:{WT}"),
            &format!("n:5:{WT}:Calls/{CF}"),
            &format!("n:5:{WT}:Participants/{CA}"),
            &format!("n:5:{WT}:Calls/{CA}/Recordings"),
            &format!("n:5:{CA}:Calls/{CA}"),
            &format!("n:5:{WT}:Calls"),
            &format!("n:5:{WT}:Calls/"),
        ];
        for token in refused {
            assert_eq!(watched_of(RE, token), None, "{token}");
        }
        let token = new_token(Some((&watched(&format!("Calls/{CA}")), Duration::ZERO)));
        assert_eq!(watched_of("not-a-recording", &token), None);
    }
}
