//! The shared claim store (Redis, `REDIS_URL`): how several backend replicas,
//! and a restarted one, agree on the one recording of a call.
//!
//! Per call there is one key, `dual-channel-recording:{AC}:claim:{CA}`:
//!
//! - `pending:{nonce}` while one replica starts the recording. It is set with
//!   `SET NX PX` (inside a script that also reads what is there when the set
//!   fails), so exactly one replica wins; it expires after a lease longer than
//!   any start can take, so a replica that dies mid-start does not block the
//!   call for ever.
//! - `recorded:{RE}:{start ms}` once the recording exists, kept as long as a
//!   call can last. Every replica answers a repeat with that recording.
//!
//! Changes of an existing value are compare-and-set scripts: a replica writes
//! the recording only over its own pending value (or an expired one), and
//! replaces a recording that is no longer in progress only if nobody else did
//! first.
//!
//! A pause the backend made, for `pause_watch`, is one more key per
//! recording, `dual-channel-recording:{AC}:paused:{RE}`, holding the token of
//! the newest pause: a resume on any replica deletes it, a new pause
//! replaces it, so the replica whose timer fires resumes only a pause that is
//! still its own. A watched pause's token also names its task and where
//! the recording is and its `max_pause_seconds`, and the key lives that
//! long plus a day and ten minutes, so its time to live says when the pause
//! is due and how old the token is: a replica that starts takes its timer
//! over (`domain::pause_watch`, `PauseWatch::rearm`).
//!
//! `recording` decides what to do with each answer; this module only
//! talks to Redis, each operation bounded by a short timeout so an unreachable
//! store costs milliseconds, never a blocked request.

use crate::config::RedisTarget;
use crate::twilio::RetryPolicy;
use dual_channel_recording::sid::{AccountSid, CallSid, RecordingSid};
use rand::RngExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One Redis operation may take this long before the store counts as
/// unreachable for that request.
const OP_TIMEOUT: Duration = Duration::from_millis(500);

/// After a failed connection attempt, requests do not try again for this
/// long: they go straight to the fallback instead of each waiting for a
/// connect timeout.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// A recording entry is kept as long as a call can last: Twilio ends a call
/// after at most 4 hours by default (`TimeLimit`), plus a margin.
pub const RECORDED_TTL: Duration = Duration::from_secs(4 * 3600 + 600);

/// A replica that lost the race waits this long for the winner's recording
/// before it asks Twilio and, if nothing is running yet, answers "try again"
/// (the plugin retries), well within the plugin's own 15 s request timeout.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

// Every script may run twice (an operation is repeated once after a dropped
// connection, which may or may not have carried it): each answers the same
// the second time.

/// Takes the claim when the key is free (or already ours); otherwise
/// answers what is there.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, ARGV[1]}
end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  return {1, v}
end
return {0, v}
";

/// Writes `ARGV[2]` if the key still holds `ARGV[1]`, nothing at all, or
/// `ARGV[2]` already.
const REPLACE: &str = r"
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] or v == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Deletes the key if it still holds `ARGV[1]`.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Sets the key, whatever it held.
const PUT: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Deletes the key, whatever it held.
const DROP: &str = r"
return redis.call('DEL', KEYS[1])
";

/// Replaces a watched pause token (`{nonce}:{max ms}:...`, set to live
/// `max + ARGV[2]` ms) by `ARGV[3]` if it was written at least `ARGV[1]` ms
/// ago, by Redis's clock: its age is what its time to live has lost.
/// Anything else (a newer token, an unwatched one, no key) stays.
const STALE: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local max = tonumber(string.match(v, '^[^:]*:(%d+):'))
if not max then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
if max + tonumber(ARGV[2]) - ttl >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
";

/// What the store says about a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This replica holds the claim: start the recording, then [`ClaimStore::record`] it.
    Won(Lease),
    /// Another replica is starting a recording on the call right now.
    Pending,
    /// A recording was started on the call, by this replica or another.
    Recorded(RecordedClaim),
}

/// This replica's pending claim on a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedClaim {
    /// `None`: a value this backend cannot read, treated as a recording
    /// that is no longer running.
    pub recording: Option<RecordingSid>,
    pub start_ms: Option<i64>,
    /// The stored value, for a compare-and-set replacing it.
    value: String,
}

/// The store could not be asked (unreachable, timed out, or answered
/// something we cannot read). Never shown to a browser.
#[derive(Clone, Debug, thiserror::Error)]
#[error("claim store (Redis) unavailable: {0}")]
pub struct StoreError(pub String);

/// What a stored value means. A value we cannot read is treated as a
/// recording that is no longer running, so it gets replaced.
fn parse_value(value: &str) -> Claim {
    if value.starts_with("pending:") {
        return Claim::Pending;
    }
    let recorded = value.strip_prefix("recorded:").and_then(|rest| {
        let (sid, start) = rest.split_once(':').unwrap_or((rest, ""));
        RecordingSid::parse(sid).ok().map(|sid| RecordedClaim {
            recording: Some(sid),
            start_ms: start.parse().ok(),
            value: value.to_string(),
        })
    });
    Claim::Recorded(recorded.unwrap_or_else(|| RecordedClaim {
        recording: None,
        start_ms: None,
        value: value.to_string(),
    }))
}

fn recorded_value(sid: &RecordingSid, start_ms: Option<i64>) -> String {
    match start_ms {
        Some(ms) => format!("recorded:{sid}:{ms}"),
        None => format!("recorded:{sid}:"),
    }
}

fn new_lease() -> Lease {
    let nonce: u128 = rand::rng().random();
    Lease {
        value: format!("pending:{nonce:032x}"),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub struct ClaimStore {
    target: RedisTarget,
    prefix: String,
    lease: Duration,
    wait: Duration,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    last_failed_connect: Mutex<Option<Instant>>,
    failures: AtomicU64,
    claim: Script,
    replace: Script,
    release: Script,
    put: Script,
    drop: Script,
    stale: Script,
}

impl ClaimStore {
    /// Nothing is connected yet: a backend starts (and records, without
    /// claims) while Redis is down, and connects on first use.
    pub fn new(target: RedisTarget, account_sid: &AccountSid, retry: &RetryPolicy) -> Self {
        ClaimStore {
            target,
            prefix: format!("dual-channel-recording:{account_sid}:"),
            lease: lease_for(retry),
            wait: DEFAULT_WAIT,
            conn: tokio::sync::Mutex::new(None),
            last_failed_connect: Mutex::new(None),
            failures: AtomicU64::new(0),
            claim: Script::new(CLAIM),
            replace: Script::new(REPLACE),
            release: Script::new(RELEASE),
            put: Script::new(PUT),
            drop: Script::new(DROP),
            stale: Script::new(STALE),
        }
    }

    /// How long a replica that lost the race waits for the winner.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// How long a pending claim holds off the other replicas.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Requests that found the store unavailable and went on without it
    /// since this process started.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Counts one request that went on without the store; returns the total.
    pub fn count_failure(&self) -> u64 {
        crate::metrics::claim_store_error();
        self.failures.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn key(&self, call_sid: &CallSid) -> String {
        format!("{}claim:{call_sid}", self.prefix)
    }

    fn pause_key(&self, recording_sid: &RecordingSid) -> String {
        format!("{}paused:{recording_sid}", self.prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let paused = self
            .last_failed_connect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| t.elapsed() < RECONNECT_PAUSE);
        if paused {
            return Err(StoreError(
                "not connected (last attempt failed less than a second ago)".into(),
            ));
        }
        let client = redis::Client::open(self.target.info().clone())
            .map_err(|e| StoreError(e.to_string()))?;
        // The manager reconnects by itself after a dropped connection; one
        // quick attempt per reconnection, each request bounded by OP_TIMEOUT.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connected = tokio::time::timeout(
            OP_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await;
        match connected {
            Ok(Ok(c)) => {
                tracing::info!(redis = %self.target, "connected to the claim store");
                *guard = Some(c.clone());
                Ok(c)
            }
            Ok(Err(e)) => {
                self.connect_failed();
                Err(StoreError(e.to_string()))
            }
            Err(_) => {
                self.connect_failed();
                Err(StoreError(format!("no connection within {OP_TIMEOUT:?}")))
            }
        }
    }

    fn connect_failed(&self) {
        *self
            .last_failed_connect
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        key: String,
        args: &[&str],
    ) -> Result<T, StoreError> {
        let mut invocation = script.key(key);
        for a in args {
            invocation.arg(*a);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.connection().await?;
            match tokio::time::timeout(OP_TIMEOUT, invocation.invoke_async(&mut conn)).await {
                Ok(Ok(v)) => return Ok(v),
                // The first use of a connection Redis dropped (a Redis
                // restart) fails at once and makes the manager reconnect:
                // one more try then, so a Redis that is back is used.
                Ok(Err(e)) if attempt == 1 && (e.is_connection_dropped() || e.is_io_error()) => {
                    tracing::info!(error = %e, "claim store connection dropped; trying once more");
                }
                Ok(Err(e)) => return Err(StoreError(e.to_string())),
                Err(_) => return Err(StoreError(format!("no answer within {OP_TIMEOUT:?}"))),
            }
        }
    }

    /// A key of this account's namespace (`dual-channel-recording:{AC}:{rest}`),
    /// for the other users of the store (`audit_store`).
    pub fn key_of(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// A connection for other users of the store; each of their commands
    /// goes through [`bounded`] like ours.
    pub async fn shared_connection(&self) -> Result<ConnectionManager, StoreError> {
        self.connection().await
    }

    /// Claims the call if nobody has; otherwise says who has.
    pub async fn claim(&self, call_sid: &CallSid) -> Result<Claim, StoreError> {
        let lease = new_lease();
        let lease_ms = millis(self.lease).to_string();
        let (won, value): (i64, Option<String>) = self
            .run(&self.claim, self.key(call_sid), &[&lease.value, &lease_ms])
            .await?;
        Ok(match (won, value) {
            (1, _) => Claim::Won(lease),
            // Gone between the failed SET and the GET cannot happen inside
            // one script; answered as pending so the caller simply asks again.
            (_, None) => Claim::Pending,
            (_, Some(v)) => parse_value(&v),
        })
    }

    /// Replaces a recording that is no longer in progress with a claim of
    /// ours, unless another replica changed the entry first (`None`).
    pub async fn take_over(
        &self,
        call_sid: &CallSid,
        seen: &RecordedClaim,
    ) -> Result<Option<Lease>, StoreError> {
        let lease = new_lease();
        let lease_ms = millis(self.lease).to_string();
        let done: i64 = self
            .run(
                &self.replace,
                self.key(call_sid),
                &[&seen.value, &lease.value, &lease_ms],
            )
            .await?;
        Ok((done == 1).then_some(lease))
    }

    /// Stores the recording under our claim. `false`: our lease had run out
    /// and another replica has claimed the call since.
    pub async fn record(
        &self,
        call_sid: &CallSid,
        lease: &Lease,
        recording_sid: &RecordingSid,
        start_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let value = recorded_value(recording_sid, start_ms);
        let ttl = millis(RECORDED_TTL).to_string();
        let done: i64 = self
            .run(
                &self.replace,
                self.key(call_sid),
                &[&lease.value, &value, &ttl],
            )
            .await?;
        Ok(done == 1)
    }

    /// Gives the claim up after a failed start, so the next request need not
    /// wait for the lease to run out.
    pub async fn release(&self, call_sid: &CallSid, lease: &Lease) -> Result<(), StoreError> {
        let _: i64 = self
            .run(&self.release, self.key(call_sid), &[&lease.value])
            .await?;
        Ok(())
    }

    /// Notes that `recording_sid` was paused by the pause `token` (see
    /// `pause_watch`); a later pause overwrites it.
    pub async fn mark_paused(
        &self,
        recording_sid: &RecordingSid,
        token: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let ttl = millis(ttl).to_string();
        let _: i64 = self
            .run(&self.put, self.pause_key(recording_sid), &[token, &ttl])
            .await?;
        Ok(())
    }

    /// Forgets the pause of `recording_sid` if it is still the one `token`
    /// made: `true` then, `false` when it was resumed or paused again since.
    pub async fn take_paused(
        &self,
        recording_sid: &RecordingSid,
        token: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = self
            .run(&self.release, self.pause_key(recording_sid), &[token])
            .await?;
        Ok(n == 1)
    }

    /// Forgets any pause of `recording_sid` (it was resumed).
    pub async fn clear_paused(&self, recording_sid: &RecordingSid) -> Result<(), StoreError> {
        let _: i64 = self
            .run(&self.drop, self.pause_key(recording_sid), &[])
            .await?;
        Ok(())
    }

    /// Makes the pause token of `recording_sid` stale (replaces it by
    /// `new_token`, which lives `token_ttl`) if it is a watched pause's
    /// written at least `older_than` ago; `true` if it did.
    pub async fn replace_older_pause(
        &self,
        recording_sid: &RecordingSid,
        older_than: Duration,
        token_ttl: Duration,
        new_token: &str,
    ) -> Result<bool, StoreError> {
        let (older, ttl) = (
            millis(older_than).to_string(),
            millis(token_ttl).to_string(),
        );
        let n: i64 = self
            .run(
                &self.stale,
                self.pause_key(recording_sid),
                &[&older, &ttl, new_token],
            )
            .await?;
        Ok(n == 1)
    }

    /// Every pause noted in the store, as (recording SID, token, time left
    /// to live), for a replica that starts and takes the timers over
    /// (`PauseWatch::rearm`). A SCAN of this account's pause keys (Redis
    /// walks its whole keyspace for it, in steps), then each key's value and
    /// remaining time to live, each step bounded by the usual timeout.
    pub async fn paused(&self) -> Result<Vec<(String, String, Duration)>, StoreError> {
        let mut conn = self.connection().await?;
        let prefix = format!("{}paused:", self.prefix);
        let pattern = format!("{prefix}*");
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = bounded(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn),
            )
            .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for chunk in keys.chunks(200) {
            // Value and time to live of each key, read together.
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in chunk {
                pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
            }
            let answers: Vec<redis::Value> = bounded(pipe.query_async(&mut conn)).await?;
            for (key, pair) in chunk.iter().zip(answers.chunks(2)) {
                let [value, ttl] = pair else { continue };
                let (Ok(Some(token)), Ok(ttl)) = (
                    redis::from_redis_value_ref::<Option<String>>(value),
                    redis::from_redis_value_ref::<i64>(ttl),
                ) else {
                    continue;
                };
                // -1: no expiry (not a key we set), -2: gone meanwhile.
                let (Some(re), Ok(ttl)) = (key.strip_prefix(&prefix), u64::try_from(ttl)) else {
                    continue;
                };
                out.push((re.to_string(), token, Duration::from_millis(ttl)));
            }
        }
        Ok(out)
    }
}

/// One Redis command, within `OP_TIMEOUT`.
pub async fn bounded<T>(
    op: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StoreError(e.to_string())),
        Err(_) => Err(StoreError(format!("no answer within {OP_TIMEOUT:?}"))),
    }
}

/// Longer than the longest start a live replica can make: the Twilio client's
/// longest operation (`RetryPolicy::longest_operation`: the schedule's time
/// budget plus one last request), twice (the start, then the look at the
/// call's recordings after a start that timed out), plus a margin.
pub fn lease_for(retry: &RetryPolicy) -> Duration {
    retry
        .longest_operation()
        .saturating_mul(2)
        .saturating_add(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RE: &str = "RE0123456789abcdef0123456789abcdef";

    #[test]
    fn stored_values_read_back() {
        let cases: &[(&str, Claim)] = &[
            ("pending:00ff", Claim::Pending),
            (
                "recorded:RE0123456789abcdef0123456789abcdef:1700000000000",
                Claim::Recorded(RecordedClaim {
                    recording: Some(RE.parse().unwrap()),
                    start_ms: Some(1_700_000_000_000),
                    value: format!("recorded:{RE}:1700000000000"),
                }),
            ),
            (
                "recorded:RE0123456789abcdef0123456789abcdef:",
                Claim::Recorded(RecordedClaim {
                    recording: Some(RE.parse().unwrap()),
                    start_ms: None,
                    value: format!("recorded:{RE}:"),
                }),
            ),
            // Unreadable values are a recording no longer running: replaced.
            (
                "recorded:RExyz:1",
                Claim::Recorded(RecordedClaim {
                    recording: None,
                    start_ms: None,
                    value: "recorded:RExyz:1".into(),
                }),
            ),
            (
                "something else",
                Claim::Recorded(RecordedClaim {
                    recording: None,
                    start_ms: None,
                    value: "something else".into(),
                }),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(&parse_value(value), want, "{value}");
        }
        assert_eq!(
            parse_value(&recorded_value(&RE.parse().unwrap(), Some(5))),
            Claim::Recorded(RecordedClaim {
                recording: Some(RE.parse().unwrap()),
                start_ms: Some(5),
                value: format!("recorded:{RE}:5"),
            })
        );
    }

    #[test]
    fn leases_are_unique_and_pending() {
        let a = new_lease();
        let b = new_lease();
        assert_ne!(a, b);
        assert_eq!(parse_value(&a.value), Claim::Pending);
    }

    #[test]
    fn the_lease_outlasts_a_start() {
        let p = RetryPolicy::default();
        let lease = lease_for(&p);
        assert_eq!(p.longest_operation(), Duration::from_secs(8 + 5));
        assert!(lease > p.longest_operation() * 2);
        assert!(DEFAULT_WAIT < lease);
    }
}
