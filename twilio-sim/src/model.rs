//! The simulated world: what Twilio holds (calls, recordings, tasks,
//! reservations, conferences, tokens, the Flex configuration), the faults
//! armed for the next requests, the request log, and the rules by which the
//! world changes by itself (a call's end ends its recordings; Flex records a
//! conference once two are in it). How these objects look on the wire is
//! `wire.rs`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

/// Everything `/_sim/reset` forgets.
#[derive(Default)]
pub(crate) struct Sim {
    pub world: World,
    pub faults: Faults,
    pub log: VecDeque<LogEntry>,
    pub next_seq: u64,
}

#[derive(Default)]
pub(crate) struct World {
    pub tokens: HashMap<String, Token>,
    pub calls: BTreeMap<String, Call>,
    /// In creation order; never deduplicated, since tests count them.
    pub recordings: Vec<Recording>,
    pub tasks: BTreeMap<String, Task>,
    /// In creation order.
    pub reservations: Vec<Reservation>,
    pub conferences: BTreeMap<String, Conference>,
    /// Flex's own conference recordings, in creation order.
    pub conference_recordings: Vec<ConferenceRecording>,
    /// Per task, the `conferenceRecord` its accept ended with (`None`: left unset).
    pub conference_record: HashMap<String, Option<bool>>,
    pub flex: FlexConfiguration,
    pub workers: BTreeMap<String, Worker>,
}

/// The account's Flex configuration (`GET /v1/Configuration`). Every Flex
/// account has one; a fresh one carries no `custom_data` of ours.
#[derive(Default)]
pub(crate) struct FlexConfiguration {
    pub ui_attributes: Map<String, Value>,
    /// Flex's own "Call Recording" setting.
    pub call_recording_enabled: bool,
    pub updated_ms: i64,
}

#[derive(Default)]
pub(crate) struct Faults {
    pub fail_next: Option<FailNext>,
    pub latency_ms: u64,
    /// Applied in order, each right after the next answered GET of its task
    /// or, when no GET came first, at its next write, before the If-Match
    /// check: either way between the writer's read and its write.
    pub concurrent_writes: Vec<ConcurrentWrite>,
}

pub(crate) struct FailNext {
    pub status: StatusCode,
    pub code: i64,
    pub remaining: u64,
    /// Only requests whose path ends with this fail (tests aim a fault at one
    /// kind of request); `None`: any REST request.
    pub path: Option<String>,
    /// Only requests with this HTTP method fail; `None`: any.
    pub method: Option<String>,
    /// REST requests answered normally before the first failure (tests
    /// aiming at one request of a sequence; scenarios leave it at 0).
    pub after: u64,
}

pub(crate) struct ConcurrentWrite {
    pub task_sid: String,
    pub attributes: Map<String, Value>,
}

pub(crate) struct Token {
    pub worker_sid: Option<String>,
    pub identity: String,
    pub valid: bool,
    pub expires_at_ms: i64,
    pub roles: Vec<String>,
}

pub(crate) struct Call {
    pub sid: String,
    pub status: String,
    pub from: String,
    pub to: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}

pub(crate) struct Recording {
    pub sid: String,
    pub call_sid: String,
    pub dual: bool,
    pub status: String,
    pub track: String,
    pub trim: String,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub status_callback_event: Vec<String>,
    /// How the last pause was asked to sound (`skip` or `silence`).
    pub pause_behavior: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}
/// Flex's own recording of a task's conference (`conferenceRecord`).
pub(crate) struct ConferenceRecording {
    pub sid: String,
    pub conference_sid: String,
    pub status: String,
    pub pause_behavior: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub ended_ms: Option<i64>,
}

/// A recording that can still be paused, resumed or stopped.
pub(crate) fn recording_active(status: &str) -> bool {
    matches!(status, "in-progress" | "paused")
}

pub(crate) struct Task {
    pub sid: String,
    pub attributes: Map<String, Value>,
    pub revision: u64,
    pub assignment_status: String,
    pub priority: i64,
    pub reason: Option<String>,
    pub queue_name: Option<String>,
    pub queue_sid: Option<String>,
    pub channel: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A TaskRouter worker: only what Flex and the backend read of it, its
/// attributes (the flex-project-template keeps `config_overrides` there).
pub(crate) struct Worker {
    pub sid: String,
    pub attributes: Map<String, Value>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub(crate) struct Reservation {
    pub sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub(crate) struct Conference {
    pub sid: String,
    pub task_sid: Option<String>,
    pub participants: Vec<Participant>,
    pub updated_ms: i64,
}

#[derive(Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Participant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    pub participant_type: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_sid: Option<String>,
    /// Not in the scenario format: Twilio's own participant status
    /// (`queued`, `connecting`, `ringing`, `connected`, `complete`,
    /// `failed`), for the moments Flex's `status` does not show, such as a
    /// fetch that meets a participant as it leaves. With it the participant
    /// is fetchable and answers with that status; without it a `joined`
    /// participant is `connected` and any other is gone (404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twilio_status: Option<String>,
}

impl Participant {
    /// The status a fetch of this participant answers with; `None`: not found.
    pub fn twilio_status(&self) -> Option<&str> {
        match (&self.twilio_status, self.status.as_str()) {
            (Some(s), _) => Some(s),
            // Flex's "joined" is Twilio's "connected".
            (None, "joined") => Some("connected"),
            (None, _) => None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub request_body: Value,
    pub response_body: Value,
    pub latency_ms: u64,
    /// When the request arrived, µs since the Unix epoch (before any
    /// injected latency): what start-delay benchmarks compare with.
    pub received_us: i64,
}

/// Objects merge key by key, recursively; anything else replaces.
pub(crate) fn deep_merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match (target.get_mut(k), v) {
            (Some(Value::Object(t)), Value::Object(p)) => deep_merge(t, p),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

pub(crate) const CALL_STATUSES: &[&str] = &[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];
pub(crate) const TASK_STATUSES: &[&str] = &[
    "pending",
    "reserved",
    "assigned",
    "canceled",
    "completed",
    "wrapping",
];
pub(crate) const RESERVATION_STATUSES: &[&str] = &[
    "pending",
    "accepted",
    "rejected",
    "timeout",
    "canceled",
    "rescinded",
    "wrapping",
    "completed",
];

/// TaskRouter's limit on a task's attributes: 4096 characters of JSON text
/// (TaskRouter's published "Resource configuration limits", which cannot be
/// raised; `docs/flex-facts.md`). The scenario format says such a write
/// is refused with a 400 and changes nothing.
pub const TASK_ATTRIBUTES_MAX_CHARS: usize = 4096;

impl World {
    /// Ends a call and, as Twilio does, completes the recordings running on it.
    pub fn set_call_status(&mut self, call_sid: &str, status: &str, now: i64) {
        let Some(call) = self.calls.get_mut(call_sid) else {
            return;
        };
        call.status = status.to_string();
        call.updated_ms = now;
        let ended = !matches!(status, "queued" | "ringing" | "in-progress");
        if ended {
            call.ended_ms.get_or_insert(now);
            for r in self
                .recordings
                .iter_mut()
                .filter(|r| r.call_sid == call_sid)
            {
                if recording_active(&r.status) {
                    r.status = "completed".into();
                    r.updated_ms = now;
                    r.ended_ms = Some(now);
                }
            }
            self.end_finished_conference_recordings(now);
        } else {
            call.ended_ms = None;
        }
    }

    /// Starts Flex's recording of a task's conference once it has two joined
    /// participants, when the task's accept asked for it (see
    /// `tests/scenarios/README.md`).
    pub fn maybe_start_conference_recording(
        &mut self,
        conference_sid: &str,
        sid: impl FnOnce() -> String,
        now: i64,
    ) {
        let Some(conf) = self.conferences.get(conference_sid) else {
            return;
        };
        let Some(task_sid) = conf.task_sid.as_deref() else {
            return;
        };
        let wanted = self
            .conference_record
            .get(task_sid)
            .copied()
            .unwrap_or(None)
            .unwrap_or(self.flex.call_recording_enabled);
        let recorded = self.conference_record.contains_key(task_sid);
        let joined = conf
            .participants
            .iter()
            .filter(|p| p.status == "joined")
            .count();
        let exists = self
            .conference_recordings
            .iter()
            .any(|r| r.conference_sid == conference_sid);
        if recorded && wanted && joined >= 2 && !exists {
            self.conference_recordings.push(ConferenceRecording {
                sid: sid(),
                conference_sid: conference_sid.to_string(),
                status: "in-progress".into(),
                pause_behavior: None,
                created_ms: now,
                updated_ms: now,
                ended_ms: None,
            });
        }
    }

    /// Completes the recordings of every conference whose last call has ended.
    pub fn end_finished_conference_recordings(&mut self, now: i64) {
        let calls = &self.calls;
        let live = |sid: &str| -> bool {
            self.conferences.get(sid).is_some_and(|c| {
                c.participants.iter().any(|p| {
                    p.status == "joined"
                        && p.call_sid
                            .as_deref()
                            .is_none_or(|ca| calls.get(ca).is_none_or(|c| c.ended_ms.is_none()))
                })
            })
        };
        let ended: Vec<String> = self
            .conference_recordings
            .iter()
            .filter(|r| recording_active(&r.status) && !live(&r.conference_sid))
            .map(|r| r.sid.clone())
            .collect();
        for r in self
            .conference_recordings
            .iter_mut()
            .filter(|r| ended.contains(&r.sid))
        {
            r.status = "completed".into();
            r.updated_ms = now;
            r.ended_ms = Some(now);
        }
    }
}
