//! Plain snapshots of the Flex objects the shim forwards, and how they are
//! read (`read`, over any `Document`: the JS object in the browser,
//! `wasm::object`; a `serde_json::Value` natively). Every field is optional
//! or defaulted, and a field of the wrong type reads as absent: a Flex
//! version that leaves one out or changes it must not make an event
//! unreadable.

use crate::attributes::{Attributes, Lookup};
use crate::document::{Document, Node};
use crate::exclusion::TaskFacts;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskSnapshot {
    pub task_sid: String,
    /// The reservation (`WR...`); `ITask.sid` in Flex.
    pub sid: String,
    pub queue_name: Option<String>,
    pub queue_sid: Option<String>,
    /// `taskChannelUniqueName`.
    pub channel: Option<String>,
    /// The task attributes, read where they are: never decoded with the
    /// rest (the shell attaches them: the JS object Flex holds in the
    /// browser, a `serde_json::Value` natively).
    pub attributes: Attributes,
    /// `dateUpdated` at acceptance, ms since the epoch.
    pub date_updated: Option<i64>,
}

impl TaskSnapshot {
    /// The fields of the shim's task object; its `attributes` are attached
    /// by the caller, read where they are.
    pub fn read<D: Document>(task: &D) -> TaskSnapshot {
        TaskSnapshot {
            task_sid: task.str_at("taskSid").unwrap_or_default(),
            sid: task.str_at("sid").unwrap_or_default(),
            queue_name: task.str_at("queueName"),
            queue_sid: task.str_at("queueSid"),
            channel: task.str_at("channel"),
            attributes: Attributes::default(),
            // Whole milliseconds (a fraction is dropped), within i64.
            date_updated: task
                .f64_at("dateUpdated")
                .filter(|n| n.is_finite() && n.abs() < 9.2e18)
                .map(|n| n.trunc() as i64),
        }
    }

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

impl ConferenceSnapshot {
    /// The shim's conference object; a participant that is not an object
    /// reads as a default one, `participants` that is not an array as none.
    pub fn read<D: Document>(conference: &D) -> ConferenceSnapshot {
        let participants = match conference.at("participants") {
            Some(Node::Array(items)) => items
                .iter()
                .map(|p| {
                    if p.is_object() {
                        Participant::read(p)
                    } else {
                        Participant::default()
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        ConferenceSnapshot {
            conference_sid: conference.str_at("conferenceSid"),
            participants,
        }
    }
}

impl Participant {
    fn read<D: Document>(p: &D) -> Participant {
        Participant {
            participant_type: p.str_at("participantType"),
            status: p.str_at("status"),
            call_sid: p.str_at("callSid"),
            worker_sid: p.str_at("workerSid"),
            reservation_sid: p.str_at("reservationSid"),
            is_current_worker: p.bool_at("isCurrentWorker"),
        }
    }

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
