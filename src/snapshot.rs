//! Plain snapshots of the Flex objects the shim forwards. Every field is
//! optional or defaulted: a Flex version that leaves one out must not make an
//! event unreadable.

use serde::Deserialize;

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskSnapshot {
    pub task_sid: String,
    /// The reservation (`WR...`); `ITask.sid` in Flex.
    pub sid: String,
    pub queue_name: Option<String>,
    pub queue_sid: Option<String>,
    /// `taskChannelUniqueName`.
    pub channel: Option<String>,
    /// The task attributes as JSON text (see `attributes` for why not a tree).
    pub attributes: String,
    /// `dateUpdated` at acceptance, ms since the epoch.
    pub date_updated: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConferenceSnapshot {
    pub conference_sid: Option<String>,
    pub participants: Vec<Participant>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Participant {
    pub participant_type: Option<String>,
    pub status: Option<String>,
    pub call_sid: Option<String>,
    pub worker_sid: Option<String>,
    pub reservation_sid: Option<String>,
    pub is_current_worker: Option<bool>,
}

impl Participant {
    pub fn is_joined(&self) -> bool {
        self.status.as_deref() == Some("joined")
    }

    pub fn is_type(&self, t: &str) -> bool {
        self.participant_type.as_deref() == Some(t)
    }

    /// This worker's participant: by SID when Flex gives it, else Flex's own flag.
    pub fn is_worker(&self, worker_sid: &str) -> bool {
        self.is_type("worker")
            && match &self.worker_sid {
                Some(w) if !w.is_empty() => w == worker_sid,
                _ => self.is_current_worker == Some(true),
            }
    }
}
