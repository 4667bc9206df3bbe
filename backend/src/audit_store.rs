//! Where the audit's facts are kept (`domain::audit` decides what they
//! mean): in the shared Redis of the claim store when `REDIS_URL` is set, so
//! the audit survives restarts and sees what every replica saw; in this
//! process's memory otherwise (and the audit's answer says `memory`).
//!
//! Redis keys, all under the claim store's `dual-channel-recording:{AC}:`
//! and living [`AUDIT_TTL`]:
//! - `audit:task:{WT}`: a hash of the task's facts (field names are the
//!   domain's);
//! - `audit:tasks`: a sorted set of task SIDs by the time the task was first
//!   seen (ms), which a window query reads;
//! - `audit:call:{CA}`: the task a recorded call belongs to;
//! - `audit:ended:{RE}`: how a recording ended when it ended badly
//!   (`absent`, `failed`);
//! - `once:{key}`: first-time marks (an Event Streams event's id, a status
//!   callback), set with `SET NX PX`.

use crate::claims::{bounded, ClaimStore, StoreError};
use moka::sync::Cache;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An audit covers a month of calls, plus a few days to ask about it.
pub const AUDIT_TTL: Duration = Duration::from_secs(35 * 24 * 3600);

/// One task's facts: field name to value.
pub type Facts = BTreeMap<String, String>;

#[derive(Default)]
struct Local {
    /// Task SID to (first seen ms, facts).
    tasks: HashMap<String, (i64, Facts)>,
    calls: HashMap<String, String>,
    ended: HashMap<String, String>,
}

/// Whether a fact replaces what is there or is written only where nothing is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Write {
    Replace,
    IfAbsent,
}

pub struct AuditStore {
    shared: Option<Arc<ClaimStore>>,
    local: Mutex<Local>,
    /// First-time marks without Redis, forgotten after their time to live.
    once: Cache<String, ()>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl AuditStore {
    pub fn new(shared: Option<Arc<ClaimStore>>) -> Self {
        AuditStore {
            shared,
            local: Mutex::new(Local::default()),
            once: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
        }
    }

    /// `redis` or `memory`, as the audit's answer names it.
    pub fn kind(&self) -> &'static str {
        if self.shared.is_some() {
            "redis"
        } else {
            "memory"
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `true` the first time `key` is seen (across replicas with Redis)
    /// within `ttl`.
    pub async fn first_time(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let Some(store) = &self.shared else {
            return Ok(self.once.entry(key.to_string()).or_insert(()).is_fresh());
        };
        let mut conn = store.shared_connection().await?;
        let set: Option<String> = bounded(
            redis::cmd("SET")
                .arg(store.key_of(&format!("once:{key}")))
                .arg("1")
                .arg("NX")
                .arg("PX")
                .arg(ms(ttl))
                .query_async(&mut conn),
        )
        .await?;
        Ok(set.is_some())
    }

    /// Writes facts of a task first seen at `seen_ms` (kept at the earliest).
    pub async fn note(
        &self,
        task: &str,
        seen_ms: i64,
        write: Write,
        facts: &[(&str, String)],
    ) -> Result<(), StoreError> {
        let Some(store) = &self.shared else {
            let mut local = self.local();
            let entry = local
                .tasks
                .entry(task.to_string())
                .or_insert((seen_ms, Facts::new()));
            entry.0 = entry.0.min(seen_ms);
            for (k, v) in facts {
                if write == Write::Replace || !entry.1.contains_key(*k) {
                    entry.1.insert(k.to_string(), v.clone());
                }
            }
            return Ok(());
        };
        let mut conn = store.shared_connection().await?;
        let key = store.key_of(&format!("audit:task:{task}"));
        let index = store.key_of("audit:tasks");
        let ttl = ms(AUDIT_TTL);
        let mut pipe = redis::pipe();
        pipe.atomic();
        // LT: an earlier sighting wins; a new task is added.
        pipe.cmd("ZADD")
            .arg(&index)
            .arg("LT")
            .arg(seen_ms)
            .arg(task)
            .ignore();
        pipe.cmd("PEXPIRE").arg(&index).arg(ttl).ignore();
        for (k, v) in facts {
            let cmd = match write {
                Write::Replace => "HSET",
                Write::IfAbsent => "HSETNX",
            };
            pipe.cmd(cmd).arg(&key).arg(*k).arg(v).ignore();
        }
        pipe.cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
        bounded(pipe.query_async::<()>(&mut conn)).await
    }

    /// Notes that `call` is a call of `task`.
    pub async fn note_call(&self, call: &str, task: &str) -> Result<(), StoreError> {
        self.put("call", call, task).await
    }

    /// Notes how a recording ended (`absent`, `failed`).
    pub async fn note_ended(&self, recording: &str, status: &str) -> Result<(), StoreError> {
        self.put("ended", recording, status).await
    }

    async fn put(&self, kind: &str, id: &str, value: &str) -> Result<(), StoreError> {
        let Some(store) = &self.shared else {
            let mut local = self.local();
            let map = if kind == "call" {
                &mut local.calls
            } else {
                &mut local.ended
            };
            map.insert(id.to_string(), value.to_string());
            return Ok(());
        };
        let mut conn = store.shared_connection().await?;
        bounded(
            redis::cmd("SET")
                .arg(store.key_of(&format!("audit:{kind}:{id}")))
                .arg(value)
                .arg("PX")
                .arg(ms(AUDIT_TTL))
                .query_async::<()>(&mut conn),
        )
        .await
    }

    async fn get(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        let Some(store) = &self.shared else {
            let local = self.local();
            let map = if kind == "call" {
                &local.calls
            } else {
                &local.ended
            };
            return Ok(map.get(id).cloned());
        };
        let mut conn = store.shared_connection().await?;
        bounded(
            redis::cmd("GET")
                .arg(store.key_of(&format!("audit:{kind}:{id}")))
                .query_async(&mut conn),
        )
        .await
    }

    /// The task a call was recorded for, if known.
    pub async fn task_of_call(&self, call: &str) -> Result<Option<String>, StoreError> {
        self.get("call", call).await
    }

    /// How a recording ended, if it ended badly.
    pub async fn ended(&self, recording: &str) -> Result<Option<String>, StoreError> {
        self.get("ended", recording).await
    }

    /// Every task first seen within `[from_ms, to_ms]`, with its facts.
    pub async fn window(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, Facts)>, StoreError> {
        let Some(store) = &self.shared else {
            let local = self.local();
            let mut out: Vec<(i64, String, Facts)> = local
                .tasks
                .iter()
                .filter(|(_, (seen, _))| (from_ms..=to_ms).contains(seen))
                .map(|(t, (seen, f))| (*seen, t.clone(), f.clone()))
                .collect();
            out.sort();
            return Ok(out.into_iter().map(|(_, t, f)| (t, f)).collect());
        };
        let mut conn = store.shared_connection().await?;
        let tasks: Vec<String> = bounded(
            redis::cmd("ZRANGEBYSCORE")
                .arg(store.key_of("audit:tasks"))
                .arg(from_ms)
                .arg(to_ms)
                .query_async(&mut conn),
        )
        .await?;
        let mut out = Vec::with_capacity(tasks.len());
        for chunk in tasks.chunks(200) {
            let mut pipe = redis::pipe();
            for t in chunk {
                pipe.cmd("HGETALL")
                    .arg(store.key_of(&format!("audit:task:{t}")));
            }
            let facts: Vec<HashMap<String, String>> = bounded(pipe.query_async(&mut conn)).await?;
            for (t, f) in chunk.iter().zip(facts) {
                out.push((t.clone(), f.into_iter().collect()));
            }
        }
        Ok(out)
    }
}
