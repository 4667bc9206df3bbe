//! Plain snapshots of the Flex objects the shim forwards. Every field is
//! optional or defaulted: a Flex version that leaves one out must not make an
//! event unreadable.

use crate::attributes::{Attributes, Lookup};
use crate::event::loose;
use crate::exclusion::TaskFacts;
use serde::Deserialize;

/// A field of the wrong type reads as absent (`event::loose`), as a Flex
/// version that changed it must not make the whole event unreadable.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskSnapshot {
    #[serde(deserialize_with = "loose::string")]
    pub task_sid: String,
    /// The reservation (`WR...`); `ITask.sid` in Flex.
    #[serde(deserialize_with = "loose::string")]
    pub sid: String,
    #[serde(deserialize_with = "loose::opt_string")]
    pub queue_name: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    pub queue_sid: Option<String>,
    /// `taskChannelUniqueName`.
    #[serde(deserialize_with = "loose::opt_string")]
    pub channel: Option<String>,
    /// The task attributes, read where they are: never decoded with the
    /// rest (the shell attaches them: the JS object Flex holds in the
    /// browser, a `serde_json::Value` natively).
    #[serde(skip)]
    pub attributes: Attributes,
    /// `dateUpdated` at acceptance, ms since the epoch.
    #[serde(deserialize_with = "loose::opt_millis")]
    pub date_updated: Option<i64>,
}

impl TaskSnapshot {
    /// What the admission rule (`exclusion::admit`) reads of the task.
    pub fn facts(&self) -> TaskFacts<'_, dyn Lookup> {
        TaskFacts {
            channel: self.channel.as_deref(),
            queue_name: self.queue_name.as_deref(),
            queue_sid: self.queue_sid.as_deref(),
            attributes: &*self.attributes,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConferenceSnapshot {
    #[serde(deserialize_with = "loose::opt_string")]
    pub conference_sid: Option<String>,
    #[serde(deserialize_with = "loose::list")]
    pub participants: Vec<Participant>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Participant {
    #[serde(deserialize_with = "loose::opt_string")]
    pub participant_type: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    pub status: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    pub call_sid: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    pub worker_sid: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    pub reservation_sid: Option<String>,
    #[serde(deserialize_with = "loose::opt_bool")]
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
