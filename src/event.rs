//! The events the shim forwards from Flex, and how they are decoded.
//!
//! In the browser an event is a JS object converted with serde-wasm-bindgen
//! (`wasm_api`); natively (the tests) it is a `serde_json::Value`. Either
//! way only the fields named here are read: a task's attributes are never
//! decoded with the event, the shell attaches them as a `Lookup`.

use crate::attributes::Attributes;
use crate::snapshot::{ConferenceSnapshot, TaskSnapshot};
use serde::Deserialize;

/// Events from Flex, as the shim sends them (an object with a `type`).
#[derive(Clone, Debug, PartialEq)]
pub enum FlexEvent {
    TaskAccepted {
        task: TaskSnapshot,
    },
    Conference {
        task_sid: String,
        conference: Option<ConferenceSnapshot>,
    },
    ActiveCall {
        call_sid: Option<String>,
    },
    Hangup {
        task_sid: String,
    },
    Complete {
        task_sid: String,
    },
    Ended {
        task_sid: String,
        reason: String,
    },
    /// Flex's own "Call Recording" setting at start
    /// (`manager.serviceConfiguration.call_recording_enabled`).
    FlexCallRecording {
        enabled: bool,
    },
    /// What Twilio now says of the task's recordings after this worker
    /// paused or resumed them in this instance.
    PauseState {
        task_sid: String,
        paused: bool,
    },
    /// What Twilio says of them when merely read (the button's display).
    /// A pause seen this way may be another agent's (a warm transfer): it
    /// is never resumed automatically; seeing it resumed clears ours.
    StateRead {
        task_sid: String,
        paused: bool,
    },
}

/// Every field any event has; which ones count depends on `type`. Not a
/// tagged enum: serde buffers a tagged enum's whole content first, which
/// would walk the task's attributes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Wire {
    #[serde(rename = "type", deserialize_with = "loose::opt_string")]
    kind: Option<String>,
    #[serde(deserialize_with = "loose::opt_string")]
    task_sid: Option<String>,
    #[serde(deserialize_with = "loose::object")]
    task: Option<TaskSnapshot>,
    #[serde(deserialize_with = "loose::object")]
    conference: Option<ConferenceSnapshot>,
    #[serde(deserialize_with = "loose::opt_string")]
    call_sid: Option<String>,
    #[serde(deserialize_with = "loose::opt_bool")]
    enabled: Option<bool>,
    #[serde(deserialize_with = "loose::opt_string")]
    reason: Option<String>,
    #[serde(deserialize_with = "loose::opt_bool")]
    paused: Option<bool>,
}

impl Wire {
    /// Whether this is a `taskAccepted` event, whose task's attributes the
    /// shell attaches to `event()`'s answer.
    pub fn is_task_accepted(&self) -> bool {
        self.kind.as_deref() == Some("taskAccepted")
    }

    /// The event; the error says what is wrong with it. `attributes`: the
    /// accepted task's (ignored for other events).
    pub fn event(self, attributes: Attributes) -> Result<FlexEvent, String> {
        let kind = self.kind.ok_or("no \"type\"")?;
        let task_sid = self.task_sid;
        let task_sid = || task_sid.ok_or_else(|| format!("{kind} without \"taskSid\""));
        Ok(match kind.as_str() {
            "taskAccepted" => match self.task {
                Some(task) => FlexEvent::TaskAccepted {
                    task: TaskSnapshot { attributes, ..task },
                },
                None => return Err("taskAccepted without a \"task\" object".into()),
            },
            "conference" => FlexEvent::Conference {
                task_sid: task_sid()?,
                conference: self.conference,
            },
            "activeCall" => FlexEvent::ActiveCall {
                call_sid: self.call_sid,
            },
            "hangup" => FlexEvent::Hangup {
                task_sid: task_sid()?,
            },
            "complete" => FlexEvent::Complete {
                task_sid: task_sid()?,
            },
            "flexCallRecording" => FlexEvent::FlexCallRecording {
                enabled: self.enabled.unwrap_or(false),
            },
            "ended" => FlexEvent::Ended {
                task_sid: task_sid()?,
                reason: self.reason.unwrap_or_default(),
            },
            "pauseState" => FlexEvent::PauseState {
                task_sid: task_sid()?,
                paused: self.paused.unwrap_or(false),
            },
            "stateRead" => FlexEvent::StateRead {
                task_sid: task_sid()?,
                paused: self.paused.unwrap_or(false),
            },
            other => return Err(format!("unknown event type \"{other}\"")),
        })
    }
}

impl FlexEvent {
    /// An event given as a `serde_json::Value` (natively: the tests, tools).
    /// A task's `attributes` member is looked up in place.
    pub fn from_value(v: &serde_json::Value) -> Result<FlexEvent, String> {
        if !v.is_object() {
            return Err("not an object".into());
        }
        let wire = Wire::deserialize(v).map_err(|e| e.to_string())?;
        let attributes = match v.get("task").and_then(|t| t.get("attributes")) {
            Some(a) => Attributes::new(a.clone()),
            None => Attributes::default(),
        };
        wire.event(attributes)
    }
}

/// Readers for fields a Flex version may give with another type: a value of
/// the wrong type reads as absent (or default) instead of failing the event.
///
/// Each tries the type it wants and drops the deserializer's error. That is
/// safe for the deserializers the core is given (serde-wasm-bindgen over a
/// JS value, `&serde_json::Value`): neither is a stream a failed read could
/// leave half-consumed. (Not for `serde_json::from_str`.)
pub mod loose {
    use serde::{Deserialize, Deserializer};

    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(String::deserialize(d).ok())
    }

    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(String::deserialize(d).unwrap_or_default())
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(bool::deserialize(d).ok())
    }

    /// Whole milliseconds (a fraction is dropped), within i64.
    pub fn opt_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(f64::deserialize(d)
            .ok()
            .filter(|n| n.is_finite() && n.abs() < 9.2e18)
            .map(|n| n.trunc() as i64))
    }

    /// An object read as `T`; anything else (null, a string...) is `None`.
    pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(T::deserialize(d).ok())
    }

    /// An element of `list`: what is not an object reads as `T::default()`.
    struct Element<T>(T);

    impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Element<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element<T>, D::Error> {
            Ok(Element(T::deserialize(d).unwrap_or_default()))
        }
    }

    /// An array of objects read as `T`; anything else is empty.
    pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(Vec::<Element<T>>::deserialize(d)
            .map(|items| items.into_iter().map(|Element(t)| t).collect())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Found;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<FlexEvent, String> {
        FlexEvent::from_value(&v)
    }

    #[test]
    fn events_decode_from_the_shims_objects() {
        let e = parse(
            json!({"type": "taskAccepted", "task": {"taskSid": "WT1", "sid": "WR1",
            "queueName": "Q", "queueSid": null, "channel": "voice",
            "attributes": {"a": {"b": 1}}, "dateUpdated": 1700000000000.7_f64}}),
        )
        .unwrap();
        let FlexEvent::TaskAccepted { task } = e else {
            panic!()
        };
        assert_eq!(
            (task.task_sid.as_str(), task.queue_sid, task.date_updated),
            ("WT1", None, Some(1_700_000_000_000))
        );
        assert_eq!(task.attributes.lookup("a.b"), Found::Scalar("1".into()));
        let e = parse(json!({"type": "conference", "taskSid": "WT1", "conference": {
            "conferenceSid": "CF1", "participants": [
                {"participantType": "worker", "status": "joined", "callSid": null, "isCurrentWorker": true},
                "not an object",
                {"participantType": 7, "callSid": ["x"], "isCurrentWorker": "yes"}]}}))
        .unwrap();
        let FlexEvent::Conference {
            conference: Some(c),
            ..
        } = e
        else {
            panic!()
        };
        assert_eq!(c.participants[0].is_current_worker, Some(true));
        assert_eq!(c.participants[0].call_sid, None);
        // Elements and fields of the wrong type read as absent.
        assert_eq!(c.participants[1], Default::default());
        assert_eq!(c.participants[2], Default::default());
        let cases = [
            (
                json!({"type": "conference", "taskSid": "WT1", "conference": null}),
                FlexEvent::Conference {
                    task_sid: "WT1".into(),
                    conference: None,
                },
            ),
            (
                json!({"type": "conference", "taskSid": "WT1", "conference": "x"}),
                FlexEvent::Conference {
                    task_sid: "WT1".into(),
                    conference: None,
                },
            ),
            (
                json!({"type": "conference", "taskSid": "WT1", "conference": {"participants": {}}}),
                FlexEvent::Conference {
                    task_sid: "WT1".into(),
                    conference: Some(ConferenceSnapshot::default()),
                },
            ),
            (
                json!({"type": "activeCall", "callSid": null}),
                FlexEvent::ActiveCall { call_sid: None },
            ),
            (
                json!({"type": "activeCall", "callSid": 12}),
                FlexEvent::ActiveCall { call_sid: None },
            ),
            (
                json!({"type": "flexCallRecording", "enabled": true}),
                FlexEvent::FlexCallRecording { enabled: true },
            ),
            (
                json!({"type": "flexCallRecording", "enabled": "yes"}),
                FlexEvent::FlexCallRecording { enabled: false },
            ),
            (
                json!({"type": "ended", "taskSid": "WT1", "extra": {"deep": [1]}}),
                FlexEvent::Ended {
                    task_sid: "WT1".into(),
                    reason: String::new(),
                },
            ),
        ];
        for (v, want) in cases {
            assert_eq!(parse(v.clone()).unwrap(), want, "{v}");
        }
        let errors = [
            (json!({"type": "hangup"}), "hangup without \"taskSid\""),
            (
                json!({"type": "hangup", "taskSid": 1}),
                "hangup without \"taskSid\"",
            ),
            (json!({"type": "nope"}), "unknown event type \"nope\""),
            (json!({"task": {}}), "no \"type\""),
            (json!({"type": 3}), "no \"type\""),
            (
                json!({"type": "taskAccepted", "task": "x"}),
                "taskAccepted without a \"task\" object",
            ),
            (json!("taskAccepted"), "not an object"),
            (json!(null), "not an object"),
        ];
        for (v, want) in errors {
            let e = parse(v.clone()).unwrap_err();
            assert!(e.starts_with(want), "{v}: {e}");
        }
    }

    /// An event written as JSON text for the table.
    fn parse_text(text: &str) -> Result<FlexEvent, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        FlexEvent::from_value(&v)
    }

    #[test]
    fn pause_events_parse() {
        let cases = [
            (
                r#"{"type":"pauseState","taskSid":"WT1","paused":true}"#,
                FlexEvent::PauseState {
                    task_sid: "WT1".into(),
                    paused: true,
                },
            ),
            (
                r#"{"type":"stateRead","taskSid":"WT1","paused":false}"#,
                FlexEvent::StateRead {
                    task_sid: "WT1".into(),
                    paused: false,
                },
            ),
            (
                r#"{"type":"stateRead","taskSid":"WT1"}"#,
                FlexEvent::StateRead {
                    task_sid: "WT1".into(),
                    paused: false,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_text(text).unwrap(), want, "{text}");
        }
        assert!(parse_text(r#"{"type":"pauseState"}"#).is_err());
    }
}
