//! The audit: which voice tasks should have been recorded and were not, and
//! why; which were deliberately not recorded, by which rule; which were
//! recorded, and by whom. The facts come from the plugin's requests
//! (`http::recording`), the safety net (`safety_net`) and Twilio's recording
//! status callbacks; they are kept in `audit_store` (Redis or memory). What
//! they mean is decided here, once, when a report is asked for
//! ([`classify`]).

use crate::audit_store::{AuditStore, Facts, Write};
use crate::claims::StoreError;
use serde::Serialize;

// The facts' field names.
const ACCEPTED: &str = "accepted_ms";
const CALL: &str = "call";
const EXCLUDED: &str = "excluded";
const RECORDING: &str = "recording";
const BY: &str = "by";
const MISSED: &str = "missed";
const CONFERENCE: &str = "conference";
const RESERVATION: &str = "reservation";
const WORKER: &str = "worker";

/// Who started (or made) a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordedBy {
    /// The plugin's request (`/create-recording`).
    Plugin,
    /// The safety net, because no browser had.
    SafetyNet,
    /// Flex's own conference recording (`method: conference`).
    FlexConference,
}

impl RecordedBy {
    fn text(self) -> &'static str {
        match self {
            RecordedBy::Plugin => "plugin",
            RecordedBy::SafetyNet => "safety-net",
            RecordedBy::FlexConference => "flex-conference",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            RecordedBy::Plugin,
            RecordedBy::SafetyNet,
            RecordedBy::FlexConference,
        ]
        .into_iter()
        .find(|b| b.text() == s)
    }
}

/// Why a task that should have been recorded was not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Miss {
    NoRecordingStarted,
    RecordingAbsent,
    RecordingFailed,
    ConferenceNotRecorded,
}

impl Miss {
    pub fn text(self) -> &'static str {
        match self {
            Miss::NoRecordingStarted => "no-recording-started",
            Miss::RecordingAbsent => "recording-absent",
            Miss::RecordingFailed => "recording-failed",
            Miss::ConferenceNotRecorded => "conference-not-recorded",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Miss::NoRecordingStarted,
            Miss::RecordingAbsent,
            Miss::RecordingFailed,
            Miss::ConferenceNotRecorded,
        ]
        .into_iter()
        .find(|m| m.text() == s)
    }

    /// A recording's bad end, as a status callback names it.
    pub fn of_status(status: &str) -> Option<Self> {
        match status {
            "absent" => Some(Miss::RecordingAbsent),
            "failed" => Some(Miss::RecordingFailed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unrecorded {
    pub task_sid: String,
    pub reason: Miss,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conference_sid: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded {
    pub task_sid: String,
    pub rule: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub task_sid: String,
    pub recording_sid: String,
    pub by: RecordedBy,
}

/// One task's place in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Unrecorded(Unrecorded),
    Excluded(Excluded),
    Recorded(Recorded),
    /// Nothing decided yet (the safety net's check is still to come).
    Open,
}

/// What a task's facts mean. `ended`: how its recording ended, when it
/// ended badly (`absent`, `failed`).
pub fn classify(task: &str, facts: &Facts, ended: Option<&str>) -> Verdict {
    let get = |k: &str| facts.get(k).filter(|v| !v.is_empty()).cloned();
    if let Some(rule) = get(EXCLUDED) {
        return Verdict::Excluded(Excluded {
            task_sid: task.to_string(),
            rule,
        });
    }
    if let Some(recording) = get(RECORDING) {
        if let Some(reason) = ended.and_then(Miss::of_status) {
            return Verdict::Unrecorded(Unrecorded {
                task_sid: task.to_string(),
                reason,
                call_sid: get(CALL),
                recording_sid: Some(recording),
                conference_sid: get(CONFERENCE),
            });
        }
        return Verdict::Recorded(Recorded {
            task_sid: task.to_string(),
            recording_sid: recording,
            by: get(BY)
                .and_then(|b| RecordedBy::parse(&b))
                .unwrap_or(RecordedBy::Plugin),
        });
    }
    match get(MISSED).and_then(|m| Miss::parse(&m)) {
        Some(reason) => Verdict::Unrecorded(Unrecorded {
            task_sid: task.to_string(),
            reason,
            call_sid: get(CALL),
            recording_sid: None,
            conference_sid: get(CONFERENCE),
        }),
        None => Verdict::Open,
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub unrecorded: Vec<Unrecorded>,
    pub excluded: Vec<Excluded>,
    pub recorded: Vec<Recorded>,
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// An accepted reservation of a voice task, as the audit notes it.
#[derive(Clone, Copy, Debug)]
pub struct Accept<'a> {
    pub task: &'a str,
    pub accepted_ms: i64,
    pub call: Option<&'a str>,
    pub reservation: Option<&'a str>,
    pub worker: Option<&'a str>,
}

/// An accepted task nothing was decided for yet (`Audit::undecided`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    pub task: String,
    pub accepted_ms: i64,
    pub reservation: Option<String>,
    pub worker: Option<String>,
}

/// The audit's writes and its report, over the store.
pub struct Audit {
    store: AuditStore,
}

impl Audit {
    pub fn new(store: AuditStore) -> Self {
        Audit { store }
    }

    pub fn store(&self) -> &AuditStore {
        &self.store
    }

    /// A failed write is logged and counted; the recording matters more
    /// than its audit line.
    async fn note(&self, task: &str, seen_ms: Option<i64>, write: Write, facts: &[(&str, String)]) {
        let seen = seen_ms.unwrap_or_else(now_ms);
        if let Err(e) = self.store.note(task, seen, write, facts).await {
            crate::metrics::claim_store_error();
            tracing::warn!(task, error = %e, "the audit could not note this task's facts");
        }
    }

    /// A voice task was accepted (an Event Streams event).
    pub async fn accepted(&self, accept: Accept<'_>) {
        let Accept {
            task,
            accepted_ms,
            call,
            reservation,
            worker,
        } = accept;
        let mut facts = vec![(ACCEPTED, accepted_ms.to_string())];
        for (k, v) in [(CALL, call), (RESERVATION, reservation), (WORKER, worker)] {
            if let Some(v) = v {
                facts.push((k, v.to_string()));
            }
        }
        self.note(task, Some(accepted_ms), Write::IfAbsent, &facts)
            .await;
    }

    /// The policy excludes the task: not to be recorded, by `rule`.
    pub async fn excluded(&self, task: &str, rule: &str) {
        self.note(task, None, Write::Replace, &[(EXCLUDED, rule.to_string())])
            .await;
    }

    /// A recording of the task's call. `started`: this one started it
    /// (it replaces what was noted), else it found it running (noted only
    /// if nothing was).
    pub async fn recorded(
        &self,
        task: &str,
        call: &str,
        recording: &str,
        by: RecordedBy,
        started: bool,
    ) {
        let write = if started {
            Write::Replace
        } else {
            Write::IfAbsent
        };
        self.note(
            task,
            None,
            write,
            &[
                (RECORDING, recording.to_string()),
                (BY, by.text().to_string()),
                (CALL, call.to_string()),
            ],
        )
        .await;
        if let Err(e) = self.store.note_call(call, task).await {
            tracing::warn!(task, call, error = %e, "the audit could not note the call's task");
        }
    }

    /// Flex recorded the task's conference.
    pub async fn conference_recorded(&self, task: &str, conference: &str, recording: &str) {
        self.note(
            task,
            None,
            Write::Replace,
            &[
                (RECORDING, recording.to_string()),
                (BY, RecordedBy::FlexConference.text().to_string()),
                (CONFERENCE, conference.to_string()),
            ],
        )
        .await;
    }

    /// The task should have been recorded and was not.
    pub async fn missed(
        &self,
        task: &str,
        reason: Miss,
        call: Option<&str>,
        conference: Option<&str>,
    ) {
        crate::metrics::recording_missed(reason.text());
        let mut facts = vec![(MISSED, reason.text().to_string())];
        if let Some(c) = call {
            facts.push((CALL, c.to_string()));
        }
        if let Some(c) = conference {
            facts.push((CONFERENCE, c.to_string()));
        }
        self.note(task, None, Write::Replace, &facts).await;
    }

    /// Twilio reported that a recording ended badly; answers the task of
    /// its call when known.
    pub async fn recording_ended(
        &self,
        call: &str,
        recording: &str,
        status: &str,
    ) -> Option<String> {
        if let Err(e) = self.store.note_ended(recording, status).await {
            crate::metrics::claim_store_error();
            tracing::warn!(recording, error = %e, "the audit could not note how the recording ended");
        }
        self.store.task_of_call(call).await.ok().flatten()
    }

    /// Whether `key` is new (an event id, a callback), across replicas with
    /// Redis. A store that cannot answer counts as new: handling an event
    /// twice is harmless (a recording is claimed per call), missing one is not.
    pub async fn first_time(&self, key: &str, ttl: std::time::Duration) -> bool {
        match self.store.first_time(key, ttl).await {
            Ok(first) => first,
            Err(e) => {
                crate::metrics::claim_store_error();
                tracing::warn!(key, error = %e, "could not check whether this was seen before; handling it");
                true
            }
        }
    }

    /// The accepted tasks first seen within `[from_ms, to_ms]` whose check
    /// nobody made (a backend stopped while it waited): `SafetyNet::rearm`
    /// makes it.
    pub async fn undecided(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Undecided>, StoreError> {
        let mut out = Vec::new();
        for (task, facts) in self.store.window(from_ms, to_ms).await? {
            let Some(accepted_ms) = facts.get(ACCEPTED).and_then(|a| a.parse().ok()) else {
                continue;
            };
            if classify(&task, &facts, None) == Verdict::Open {
                out.push(Undecided {
                    task,
                    accepted_ms,
                    reservation: facts.get(RESERVATION).cloned(),
                    worker: facts.get(WORKER).cloned(),
                });
            }
        }
        Ok(out)
    }

    /// The report of the tasks first seen within `[from_ms, to_ms]`.
    pub async fn report(&self, from_ms: i64, to_ms: i64) -> Result<Report, StoreError> {
        let mut report = Report::default();
        for (task, facts) in self.store.window(from_ms, to_ms).await? {
            let ended = match facts.get(RECORDING) {
                Some(re) => self.store.ended(re).await?,
                None => None,
            };
            match classify(&task, &facts, ended.as_deref()) {
                Verdict::Unrecorded(u) => report.unrecorded.push(u),
                Verdict::Excluded(e) => report.excluded.push(e),
                Verdict::Recorded(r) => report.recorded.push(r),
                Verdict::Open => {}
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, &str)]) -> Facts {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn what_facts_mean() {
        let unrec = |reason, call: Option<&str>, re: Option<&str>| {
            Verdict::Unrecorded(Unrecorded {
                task_sid: "WT1".into(),
                reason,
                call_sid: call.map(Into::into),
                recording_sid: re.map(Into::into),
                conference_sid: None,
            })
        };
        let cases: Vec<(Facts, Option<&str>, Verdict)> = vec![
            (facts(&[(ACCEPTED, "1")]), None, Verdict::Open),
            (
                facts(&[(ACCEPTED, "1"), (EXCLUDED, "exclude_queues: Sales")]),
                None,
                Verdict::Excluded(Excluded {
                    task_sid: "WT1".into(),
                    rule: "exclude_queues: Sales".into(),
                }),
            ),
            (
                facts(&[(RECORDING, "RE1"), (BY, "safety-net"), (CALL, "CA1")]),
                None,
                Verdict::Recorded(Recorded {
                    task_sid: "WT1".into(),
                    recording_sid: "RE1".into(),
                    by: RecordedBy::SafetyNet,
                }),
            ),
            (
                facts(&[(RECORDING, "RE1"), (BY, "plugin"), (CALL, "CA1")]),
                Some("absent"),
                unrec(Miss::RecordingAbsent, Some("CA1"), Some("RE1")),
            ),
            (
                facts(&[(RECORDING, "RE1"), (CALL, "CA1")]),
                Some("failed"),
                unrec(Miss::RecordingFailed, Some("CA1"), Some("RE1")),
            ),
            (
                facts(&[(MISSED, "no-recording-started"), (CALL, "CA1")]),
                None,
                unrec(Miss::NoRecordingStarted, Some("CA1"), None),
            ),
            // A recording found later wins over an earlier miss.
            (
                facts(&[
                    (MISSED, "no-recording-started"),
                    (RECORDING, "RE2"),
                    (BY, "plugin"),
                ]),
                None,
                Verdict::Recorded(Recorded {
                    task_sid: "WT1".into(),
                    recording_sid: "RE2".into(),
                    by: RecordedBy::Plugin,
                }),
            ),
            (facts(&[(MISSED, "something else")]), None, Verdict::Open),
        ];
        for (f, ended, want) in cases {
            assert_eq!(classify("WT1", &f, ended), want, "{f:?} {ended:?}");
        }
    }

    #[tokio::test]
    async fn memory_store_round_trip() {
        let audit = Audit::new(AuditStore::new(None));
        let accept = |task, accepted_ms, call| Accept {
            task,
            accepted_ms,
            call,
            reservation: None,
            worker: None,
        };
        audit.accepted(accept("WT1", 1_000, Some("CA1"))).await;
        audit
            .recorded("WT1", "CA1", "RE1", RecordedBy::SafetyNet, true)
            .await;
        // The plugin finding it running afterwards changes nothing.
        audit
            .recorded("WT1", "CA1", "RE1", RecordedBy::Plugin, false)
            .await;
        audit.accepted(accept("WT2", 2_000, Some("CA2"))).await;
        audit
            .missed("WT2", Miss::NoRecordingStarted, Some("CA2"), None)
            .await;
        audit.accepted(accept("WT3", 3_000, None)).await;
        audit.excluded("WT3", "exclude_queues: Sales").await;
        audit.accepted(accept("WT9", 9_000, None)).await;
        let open = audit.undecided(0, 10_000).await.unwrap();
        assert_eq!(
            open.iter().map(|u| u.task.as_str()).collect::<Vec<_>>(),
            ["WT9"]
        );
        let r = audit.report(0, 5_000).await.unwrap();
        assert_eq!(r.recorded.len(), 1);
        assert_eq!(r.recorded[0].by, RecordedBy::SafetyNet);
        assert_eq!(r.unrecorded.len(), 1);
        assert_eq!(r.unrecorded[0].task_sid, "WT2");
        assert_eq!(r.excluded[0].rule, "exclude_queues: Sales");
        assert_eq!(
            audit
                .recording_ended("CA1", "RE1", "absent")
                .await
                .as_deref(),
            Some("WT1")
        );
        let r = audit.report(0, 5_000).await.unwrap();
        assert!(r.recorded.is_empty());
        assert_eq!(r.unrecorded.len(), 2);
        assert!(
            audit
                .first_time("e1", std::time::Duration::from_secs(60))
                .await
        );
        assert!(
            !audit
                .first_time("e1", std::time::Duration::from_secs(60))
                .await
        );
    }
}
