//! Plain snapshots of the Flex objects the shim forwards. Every field is
//! optional or defaulted: a Flex version that leaves one out must not make an
//! event unreadable.

use crate::json::Json;

#[derive(Clone, Debug, Default, PartialEq)]
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
    /// The shim could not turn the task's attributes into JSON text (a cycle,
    /// a BigInt, a throwing getter): why, and `attributes` is then empty.
    pub attributes_unreadable: Option<String>,
    /// `dateUpdated` at acceptance, ms since the epoch.
    pub date_updated: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConferenceSnapshot {
    pub conference_sid: Option<String>,
    pub participants: Vec<Participant>,
}

#[derive(Clone, Debug, Default, PartialEq)]
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

impl TaskSnapshot {
    pub fn from_json(v: &Json) -> TaskSnapshot {
        TaskSnapshot {
            task_sid: v.str_at("taskSid").unwrap_or_default(),
            sid: v.str_at("sid").unwrap_or_default(),
            queue_name: v.str_at("queueName"),
            queue_sid: v.str_at("queueSid"),
            channel: v.str_at("channel"),
            attributes: v.str_at("attributes").unwrap_or_default(),
            attributes_unreadable: v.str_at("attributesUnreadable"),
            date_updated: v.get("dateUpdated").and_then(Json::as_i64),
        }
    }
}

impl ConferenceSnapshot {
    /// `None` for null or anything that is not an object.
    pub fn from_json(v: &Json) -> Option<ConferenceSnapshot> {
        let Json::Object(_) = v else { return None };
        Some(ConferenceSnapshot {
            conference_sid: v.str_at("conferenceSid"),
            participants: v
                .get("participants")
                .and_then(Json::as_array)
                .unwrap_or_default()
                .iter()
                .map(Participant::from_json)
                .collect(),
        })
    }
}

impl Participant {
    pub fn from_json(v: &Json) -> Participant {
        Participant {
            participant_type: v.str_at("participantType"),
            status: v.str_at("status"),
            call_sid: v.str_at("callSid"),
            worker_sid: v.str_at("workerSid"),
            reservation_sid: v.str_at("reservationSid"),
            is_current_worker: v.get("isCurrentWorker").and_then(Json::as_bool),
        }
    }
}
