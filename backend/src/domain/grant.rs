//! Authorize ahead.
//!
//! The first words of a call are lost between the moment its legs are up and
//! the moment Twilio starts recording. Everything but the recording create
//! itself (token, reservation, task, policy) can be checked earlier: when the
//! agent accepts the task, the plugin sends one `authorize` request, and
//! between the accept and the legs joining (seconds, in Flex) the backend
//! makes those checks and keeps a grant for that worker, task and
//! reservation. When the leg's create-recording request comes with the same
//! three, the grant stands in for the reservation, task and policy reads, so
//! for a call the task names (its `call_sid`, the customer leg) the recording
//! create is the first Twilio request on the hot path.
//!
//! # Invariants
//!
//! - A grant is keyed by the worker SID of the *token that asked*, so it is
//!   never used by another worker: another token maps to another key.
//! - A grant never outlives its reservation's `accepted` state by more than
//!   `config::GRANT_VALID_FOR`: past that age it is "in doubt" and the request makes
//!   every check again (and renews the grant if they pass). 15 s covers the
//!   accept-to-legs time of a Flex call with room to spare, so a grant made
//!   at accept serves its legs; a reservation that moves on (task completed,
//!   canceled or transferred away) can be used for at most that long, and the
//!   call itself must still belong to the task and be in progress, which
//!   Twilio checks on the create. Issue 9's `wrapping` rule lives in
//!   `authz::task_access`, which grants use unchanged.
//! - A request that meets an authorization still in flight for its key waits
//!   for it (one lock per key) instead of repeating its Twilio reads.
//! - Refusals are never kept: a failed check leaves no grant.
//! - A key nobody asked about for [`GrantStore::forget_after`] (the grant's
//!   validity plus the request deadline) is forgotten, so the store holds the
//!   tasks of the last minute or so, not every task of the shift.

use crate::config::REQUEST_DEADLINE;
use crate::domain::auth::Identity;
use crate::domain::authz;
use crate::domain::policy::{PolicyCache, TaskFacts};
use crate::error::AppError;
use crate::twilio::{TaskSnapshot, TwilioClient};
use dual_channel_recording::sid::{ReservationSid, TaskSid, WorkerSid};
use moka::sync::Cache;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GrantKey {
    pub worker_sid: WorkerSid,
    pub task_sid: TaskSid,
    pub reservation_sid: ReservationSid,
}

impl GrantKey {
    /// The key of a request: `None` when the token has no worker or the
    /// request names no task or reservation (then there is no grant to use).
    pub fn of(
        identity: &Identity,
        task_sid: Option<&TaskSid>,
        reservation_sid: Option<&ReservationSid>,
    ) -> Option<GrantKey> {
        Some(GrantKey {
            worker_sid: identity.worker_sid.clone()?,
            task_sid: task_sid?.clone(),
            reservation_sid: reservation_sid?.clone(),
        })
    }
}

/// What was checked, and when.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The task as read at the check: its attributes say which call is the
    /// task's, and its ETag is the first one the attribute write tries.
    pub task: TaskSnapshot,
    at: Instant,
}

pub type GrantSlot = Arc<tokio::sync::Mutex<Option<Grant>>>;

/// The slots by key: `moka`'s expiring cache, as for the token cache and the
/// recording map. A slot is dropped once idle for `forget_after`; a request
/// that still holds it keeps its `Arc` and finishes unharmed.
pub struct GrantStore {
    valid_for: Duration,
    slots: Cache<GrantKey, GrantSlot>,
}

impl GrantStore {
    pub fn new(valid_for: Duration) -> Self {
        Self::forgetting_after(valid_for, Self::forget_after(valid_for))
    }

    /// A store that forgets a key idle for `idle` (tests use a short one).
    pub fn forgetting_after(valid_for: Duration, idle: Duration) -> Self {
        GrantStore {
            valid_for,
            slots: Cache::builder().time_to_idle(idle).build(),
        }
    }

    /// How long an unused key is kept. A grant is usable for `valid_for`
    /// from its check, and the check began after the request took the slot
    /// (it may first have waited for the lock, within the request deadline);
    /// past this, nothing in the slot can be used, and nobody waits on it.
    /// Shorter would only cost a repeated check, longer only memory: before,
    /// the store swept at 10,000 keys and so held every task of a shift.
    pub fn forget_after(valid_for: Duration) -> Duration {
        valid_for + REQUEST_DEADLINE
    }

    pub fn valid_for(&self) -> Duration {
        self.valid_for
    }

    /// The key's slot; lock it to read, wait for, or write its grant.
    pub fn slot(&self, key: &GrantKey) -> GrantSlot {
        self.slots.get_with(key.clone(), GrantSlot::default)
    }

    /// The grant in `slot`, if it is not in doubt yet.
    pub fn usable(&self, slot: &Option<Grant>) -> Option<Grant> {
        slot.as_ref()
            .filter(|g| g.at.elapsed() < self.valid_for)
            .cloned()
    }

    /// `checked_at`: when the checks began. The reservation may have been
    /// read then, so the grant's age counts from it, not from when the
    /// slowest read (a retried configuration read) came back.
    pub fn grant(task: TaskSnapshot, checked_at: Instant) -> Grant {
        Grant {
            task,
            at: checked_at,
        }
    }

    /// The task as checked for `key`: the grant's while it is usable;
    /// otherwise `check` runs now (one at a time per key: a request that
    /// meets a check in flight waits for it) and what passes is kept as the
    /// key's grant. A refusal leaves no grant.
    pub async fn use_or_check(
        &self,
        key: &GrantKey,
        check: impl Future<Output = Result<TaskSnapshot, AppError>>,
    ) -> Result<TaskSnapshot, AppError> {
        let slot = self.slot(key);
        let mut held = slot.lock().await;
        if let Some(g) = self.usable(&held) {
            return Ok(g.task);
        }
        *held = None;
        let checked_at = Instant::now();
        let task = check.await?;
        *held = Some(Self::grant(task.clone(), checked_at));
        Ok(task)
    }

    /// The key's grant if it is usable, checking nothing (token-only
    /// authorization: a grant only saves the task read).
    pub async fn usable_for(&self, key: &GrantKey) -> Option<Grant> {
        let slot = self.slot(key);
        let held = slot.lock().await;
        self.usable(&held)
    }

    /// Keys held now (after pending expirations are applied).
    pub fn len(&self) -> usize {
        self.slots.run_pending_tasks();
        usize::try_from(self.slots.entry_count()).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reservation, task and policy, as a create-recording request in strict
/// mode checks them; the task as read.
pub async fn check(
    twilio: &TwilioClient,
    policy: &PolicyCache,
    identity: &Identity,
    task_sid: &TaskSid,
    reservation_sid: Option<&ReservationSid>,
) -> Result<TaskSnapshot, AppError> {
    let (access, policy) = tokio::join!(
        authz::task_access(twilio, identity, task_sid, reservation_sid),
        policy.current_for(twilio, identity.worker_sid.as_ref()),
    );
    let access = access?;
    if let Some(p) = policy? {
        p.check(Some(TaskFacts::of(task_sid, &access.task)))?;
    }
    Ok(access.task)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> GrantKey {
        GrantKey {
            worker_sid: format!("WK{:032x}", 1).parse().unwrap(),
            task_sid: format!("WT{n:032x}").parse().unwrap(),
            reservation_sid: format!("WR{n:032x}").parse().unwrap(),
        }
    }

    #[test]
    fn one_slot_per_key() {
        let store = GrantStore::new(crate::config::GRANT_VALID_FOR);
        let a = store.slot(&key(1));
        assert!(Arc::ptr_eq(&a, &store.slot(&key(1))));
        assert!(!Arc::ptr_eq(&a, &store.slot(&key(2))));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn the_store_keeps_only_recent_keys() {
        // A shift's worth of tasks, each asked about once, then nothing:
        // every key is forgotten after the idle time, so memory stays flat.
        // Keys made first: the 50 ms idle time counts the insertions only.
        let keys: Vec<GrantKey> = (1..2_000).map(key).collect();
        let store =
            GrantStore::forgetting_after(crate::config::GRANT_VALID_FOR, Duration::from_millis(50));
        let held = store.slot(&key(0));
        for k in &keys {
            let _ = store.slot(k);
        }
        assert_eq!(store.len(), 2_000);
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(store.len(), 0);
        // A request that still holds a forgotten slot keeps using it.
        assert!(held.try_lock().is_ok());
    }
}
