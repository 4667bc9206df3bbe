//! The `conference` method: Flex records the whole conference natively, and
//! the plugin only decides, when a task is about to be accepted, whether it
//! may (`conferenceOptions.conferenceRecord` of the `AcceptTask` action).
//!
//! The rules are the call-leg method's (`exclusion::admit`): `enabled`, voice only,
//! `exclude_queues` by name or SID, `exclude_attributes` with dotted keys,
//! text comparison and array membership. They replace the
//! flex-project-template's `conditional-recording` feature, which sets the
//! same flag in a `beforeAcceptTask` listener (docs/flex-facts.md).

use crate::config::{Config, Method};
use crate::exclusion::{admit, NotAdmitted};
use crate::snapshot::TaskSnapshot;
use serde::Serialize;

/// What the `beforeAcceptTask` listener does with `conferenceOptions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `conferenceRecord = true`: Flex records the conference.
    Record,
    /// `conferenceRecord = false`, and why.
    DoNotRecord(Refusal),
    /// `conferenceOptions` untouched: Flex's own setting applies.
    Untouched(Untouched),
}

/// Why a voice task is not recorded: the admission rule's refusal.
pub use crate::exclusion::Refusal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Untouched {
    /// Disabled or misconfigured: the plugin is inert.
    Inert,
    /// `method` is `call-leg`: the backend records the legs instead.
    CallLegMethod,
    /// Not a voice task: there is no conference to record.
    NotVoice,
}

impl Decision {
    /// The value for `conferenceOptions.conferenceRecord`; `None`: leave it.
    pub fn conference_record(&self) -> Option<bool> {
        match self {
            Decision::Record => Some(true),
            Decision::DoNotRecord(_) => Some(false),
            Decision::Untouched(_) => None,
        }
    }

    /// Why, in words for an administrator reading the console.
    pub fn reason(&self) -> String {
        match self {
            Decision::Record => {
                "no exclusion rule applies: Flex records the whole conference".into()
            }
            Decision::DoNotRecord(refusal) => refusal.to_string(),
            Decision::Untouched(Untouched::Inert) => {
                "the plugin is disabled or misconfigured: Flex's own recording setting applies"
                    .into()
            }
            Decision::Untouched(Untouched::CallLegMethod) => {
                "method is call-leg: the call legs are recorded instead".into()
            }
            Decision::Untouched(Untouched::NotVoice) => "not a voice task".into(),
        }
    }

    /// `{"conferenceRecord": true|false|null, "reason": "..."}`, the answer the shim reads.
    pub fn answer(&self) -> AcceptAnswer {
        AcceptAnswer {
            conference_record: self.conference_record(),
            reason: self.reason(),
        }
    }
}

/// What `beforeAccept` answers the shim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptAnswer {
    /// `null`: leave `conferenceOptions` untouched.
    pub conference_record: Option<bool>,
    pub reason: String,
}

/// The decision for a task about to be accepted. `config` is `None` when the
/// feature is disabled or misconfigured.
pub fn decide(config: Option<&Config>, task: &TaskSnapshot) -> Decision {
    let Some(config) = config else {
        return Decision::Untouched(Untouched::Inert);
    };
    if config.method != Method::Conference {
        return Decision::Untouched(Untouched::CallLegMethod);
    }
    match admit(config, task.facts()) {
        Ok(()) => Decision::Record,
        Err(NotAdmitted::NotVoice) => Decision::Untouched(Untouched::NotVoice),
        Err(NotAdmitted::Refused(why)) => Decision::DoNotRecord(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Attributes;
    use crate::attributes::ReadError;
    use crate::config::{parse, Setup};
    use crate::exclusion::Exclusion;
    use serde_json::{json, Value};

    /// The configuration as an administrator writes it.
    fn config(feature: Value) -> Option<Config> {
        let cd = json!({"features": {"dual_channel_recording": feature}, "serverless_functions_domain": "x.io"});
        match parse(&cd) {
            Setup::Enabled(c) => Some(c),
            Setup::Disabled => None,
            Setup::Invalid(e) => panic!("{feature}: {e:?}"),
        }
    }

    fn task(channel: &str, queue: (&str, &str), attributes: Value) -> TaskSnapshot {
        TaskSnapshot {
            task_sid: "WT00000000000000000000000000000001".into(),
            sid: "WR00000000000000000000000000000001".into(),
            queue_name: Some(queue.0.into()),
            queue_sid: Some(queue.1.into()),
            channel: Some(channel.into()),
            attributes: Attributes::new(attributes),
            date_updated: None,
        }
    }

    const SALES: (&str, &str) = ("Sales", "WQ00000000000000000000000000000001");
    const LEGAL: (&str, &str) = ("Legal Queue", "WQ00000000000000000000000000000789");

    fn queue(q: &str) -> Decision {
        Decision::DoNotRecord(Refusal::Excluded(Exclusion::Queue(q.into())))
    }

    fn attribute(key: &str, value: &str) -> Decision {
        Decision::DoNotRecord(Refusal::Excluded(Exclusion::Attribute {
            key: key.into(),
            value: value.into(),
        }))
    }

    #[test]
    fn decision_table() {
        let conference = |queues: Value, rules: Value| json!({"enabled": true, "method": "conference", "exclude_queues": queues, "exclude_attributes": rules});
        let cases: Vec<(&str, Value, TaskSnapshot, Decision)> = vec![
            // The flex-project-template's own conditional-recording cases.
            (
                "no exclusions configured",
                conference(json!([]), json!([])),
                task(
                    "voice",
                    ("Test Queue", "WQ00000000000000000000000000000123"),
                    json!({"direction": "inbound"}),
                ),
                Decision::Record,
            ),
            (
                "queue name in the list",
                conference(json!(["Compliance Queue", "Legal Queue"]), json!([])),
                task("voice", LEGAL, json!({})),
                queue("Legal Queue"),
            ),
            (
                "queue SID in the list",
                conference(json!(["WQ00000000000000000000000000000789"]), json!([])),
                task(
                    "voice",
                    ("Regular Queue", "WQ00000000000000000000000000000789"),
                    json!({}),
                ),
                queue("WQ00000000000000000000000000000789"),
            ),
            (
                "queue before attributes",
                conference(
                    json!(["Legal Queue"]),
                    json!([{"key": "sensitive", "value": "true"}]),
                ),
                task("voice", LEGAL, json!({"sensitive": "false"})),
                queue("Legal Queue"),
            ),
            (
                "any attribute rule matches, array membership",
                conference(
                    json!([]),
                    json!([{"key": "conversations.topics", "value": "medical"}, {"key": "conversations.topics", "value": "financial"}]),
                ),
                task(
                    "voice",
                    SALES,
                    json!({"conversations": {"topics": ["general", "financial"]}}),
                ),
                attribute("conversations.topics", "financial"),
            ),
            (
                "no rule matches",
                conference(
                    json!(["Other Queue"]),
                    json!([{"key": "customer.consent.recording", "value": "denied"}, {"key": "tags", "value": "do-not-record"}]),
                ),
                task(
                    "voice",
                    SALES,
                    json!({"customer": {"consent": {"recording": "granted"}}, "tags": ["normal", "followup"]}),
                ),
                Decision::Record,
            ),
            (
                "nested array attribute",
                conference(
                    json!([]),
                    json!([{"key": "customer.flags", "value": "privacy-mode"}]),
                ),
                task(
                    "voice",
                    SALES,
                    json!({"customer": {"flags": ["verified", "privacy-mode", "premium"]}}),
                ),
                attribute("customer.flags", "privacy-mode"),
            ),
            // The template's documented examples.
            (
                "outbound calls excluded",
                conference(
                    json!([]),
                    json!([{"key": "direction", "value": "outbound"}]),
                ),
                task("voice", SALES, json!({"direction": "outbound"})),
                attribute("direction", "outbound"),
            ),
            (
                "boolean attribute against \"true\"",
                conference(json!([]), json!([{"key": "customer.vip", "value": "true"}])),
                task("voice", SALES, json!({"customer": {"vip": true}})),
                attribute("customer.vip", "true"),
            ),
            // Ours: the same semantics as the call-leg method.
            (
                "queue names are case-sensitive",
                conference(json!(["legal queue"]), json!([])),
                task("voice", LEGAL, json!({})),
                Decision::Record,
            ),
            (
                "number rule against a number",
                conference(json!([]), json!([{"key": "tier", "value": 1}])),
                task("voice", SALES, json!({"tier": 1.0})),
                attribute("tier", "1"),
            ),
            (
                "null never matches",
                conference(json!([]), json!([{"key": "privacy", "value": "null"}])),
                task("voice", SALES, json!({"privacy": null})),
                Decision::Record,
            ),
            (
                "missing attribute",
                conference(
                    json!([]),
                    json!([{"key": "customer.privacy", "value": "no-recording"}]),
                ),
                task("voice", SALES, json!({"customer": "someone"})),
                Decision::Record,
            ),
            (
                "channel worker is ignored",
                json!({"enabled": true, "method": "conference", "channel": "worker"}),
                task("voice", SALES, json!({})),
                Decision::Record,
            ),
            (
                "unreadable attributes with rules: fail closed",
                conference(json!([]), json!([{"key": "a", "value": "b"}])),
                TaskSnapshot {
                    attributes: Attributes::unreadable("a getter threw".into()),
                    ..task("voice", SALES, json!({}))
                },
                Decision::DoNotRecord(Refusal::AttributesNotAnObject(
                    "could not be read (a getter threw)".into(),
                )),
            ),
            (
                "attributes not an object, with rules: fail closed",
                conference(json!([]), json!([{"key": "a", "value": "b"}])),
                TaskSnapshot {
                    attributes: Attributes::parse("[1]"),
                    ..task("voice", SALES, json!({}))
                },
                Decision::DoNotRecord(Refusal::AttributesNotAnObject(
                    "are an array, not a JSON object".into(),
                )),
            ),
            (
                "a rule's value that cannot be read: fail closed",
                conference(json!([]), json!([{"key": "a", "value": "b"}])),
                TaskSnapshot {
                    attributes: Attributes::new(Throws),
                    ..task("voice", SALES, json!({}))
                },
                Decision::DoNotRecord(Refusal::UnreadableAttributes(ReadError {
                    key: "a".into(),
                    reason: "a getter threw".into(),
                })),
            ),
            (
                "attributes that cannot be read, no attribute rule",
                conference(json!(["Billing"]), json!([])),
                TaskSnapshot {
                    attributes: Attributes::unreadable("a getter threw".into()),
                    ..task("voice", SALES, json!({}))
                },
                Decision::Record,
            ),
            (
                "unreadable attributes without rules",
                conference(json!([]), json!([])),
                TaskSnapshot {
                    attributes: Attributes::parse("{not json"),
                    ..task("voice", SALES, json!({}))
                },
                Decision::Record,
            ),
            (
                "queue unknown to Flex",
                conference(json!(["Sales"]), json!([])),
                TaskSnapshot {
                    queue_name: None,
                    queue_sid: None,
                    ..task("voice", SALES, json!({}))
                },
                Decision::Record,
            ),
            // Left untouched.
            (
                "chat task",
                conference(json!(["Sales"]), json!([])),
                task("chat", SALES, json!({})),
                Decision::Untouched(Untouched::NotVoice),
            ),
            (
                "no channel",
                conference(json!([]), json!([])),
                TaskSnapshot {
                    channel: None,
                    ..task("voice", SALES, json!({}))
                },
                Decision::Untouched(Untouched::NotVoice),
            ),
            (
                "call-leg method",
                json!({"enabled": true, "channel": "customer", "exclude_queues": ["Sales"]}),
                task("voice", SALES, json!({})),
                Decision::Untouched(Untouched::CallLegMethod),
            ),
            (
                "disabled",
                json!({"enabled": false, "method": "conference"}),
                task("voice", SALES, json!({})),
                Decision::Untouched(Untouched::Inert),
            ),
        ];
        for (what, feature, task, want) in cases {
            let got = decide(config(feature).as_ref(), &task);
            assert_eq!(got, want, "{what}");
        }
    }

    /// An object whose every member throws when read, as a JS getter can.
    struct Throws;

    impl crate::attributes::Lookup for Throws {
        fn at(&self, _: &[&str]) -> crate::attributes::Found {
            crate::attributes::Found::Unreadable("a getter threw".into())
        }

        fn kind(&self) -> crate::attributes::Kind {
            crate::attributes::Kind::Object
        }
    }

    #[test]
    fn answer_for_the_shim() {
        let cases = [
            (
                Decision::Record,
                r#"{"conferenceRecord":true,"reason":"no exclusion rule applies: Flex records the whole conference"}"#,
            ),
            (
                queue("Billing"),
                r#"{"conferenceRecord":false,"reason":"queue Billing is in exclude_queues"}"#,
            ),
            (
                attribute("a.b", "say \"no\""),
                r#"{"conferenceRecord":false,"reason":"attribute a.b matches excluded value \"say \"no\"\""}"#,
            ),
            (
                Decision::Untouched(Untouched::NotVoice),
                r#"{"conferenceRecord":null,"reason":"not a voice task"}"#,
            ),
        ];
        for (decision, want) in cases {
            assert_eq!(serde_json::to_string(&decision.answer()).unwrap(), want);
        }
    }
}

/// The conference method through the state machine: what the shim sees.
#[cfg(test)]
mod core_tests {
    use crate::attributes::Attributes;
    use crate::session::{Command, Core, Event, FlexEvent, Level};
    use crate::snapshot::{ConferenceSnapshot, Participant, TaskSnapshot};
    use serde_json::{json, Value};

    const ME: &str = "WK00000000000000000000000000000001";
    const T1: &str = "WT00000000000000000000000000000001";

    fn core(feature: Value, custom_data_extra: Value) -> (Core, Vec<Command>) {
        let mut cd = json!({"features": {"dual_channel_recording": feature}});
        for (k, v) in custom_data_extra.as_object().unwrap() {
            cd[k] = v.clone();
        }
        Core::new(Ok(&cd), ME, "en-US", 7)
    }

    fn task(queue: &str, attributes: Value) -> TaskSnapshot {
        TaskSnapshot {
            task_sid: T1.into(),
            sid: "WR00000000000000000000000000000001".into(),
            queue_name: Some(queue.into()),
            queue_sid: Some("WQ00000000000000000000000000000001".into()),
            channel: Some("voice".into()),
            attributes: Attributes::new(attributes),
            date_updated: Some(1_700_000_000_000),
        }
    }

    fn logs(cmds: &[Command]) -> Vec<(Level, String)> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Log { level, message } => Some((*level, message.clone())),
                _ => None,
            })
            .collect()
    }

    const CONFERENCE: fn() -> Value = || {
        json!({"enabled": true, "method": "conference", "exclude_queues": ["Billing"],
            "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}]})
    };

    #[test]
    fn start_says_what_the_method_does_and_that_channel_worker_is_ignored() {
        let (c, cmds) = core(CONFERENCE(), json!({}));
        assert!(c.is_enabled());
        let l = logs(&cmds);
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(l[0].1.contains("method conference"), "{l:?}");
        assert!(!cmds.iter().any(|c| matches!(c, Command::Notify { .. })));

        let mut worker = CONFERENCE();
        worker["channel"] = json!("worker");
        let l = logs(&core(worker, json!({})).1);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[1].0, Level::Warn);
        assert!(
            l[1].1.starts_with(r#"channel "worker" is ignored"#),
            "{l:?}"
        );

        let mut customer = CONFERENCE();
        customer["channel"] = json!("customer");
        assert_eq!(logs(&core(customer, json!({})).1).len(), 1);
    }

    #[test]
    fn an_unknown_method_is_a_misconfiguration() {
        let (mut c, cmds) = core(
            json!({"enabled": true, "channel": "customer", "method": "native"}),
            json!({"serverless_functions_domain": "x.io"}),
        );
        assert!(!c.is_enabled());
        assert!(cmds.iter().any(|c| matches!(c, Command::Notify { .. })));
        assert!(logs(&cmds)
            .iter()
            .any(|(_, m)| m
                .contains(r#"method: must be "call-leg" or "conference", found "native""#)));
        let (decision, out) = c.before_accept(&task("Sales", json!({})));
        assert_eq!(decision.conference_record(), None);
        assert!(out.is_empty());
    }

    #[test]
    fn before_accept_decides_logs_and_keeps_the_reason() {
        let (mut c, _) = core(CONFERENCE(), json!({}));
        let (d, cmds) = c.before_accept(&task("Sales", json!({"direction": "inbound"})));
        assert_eq!(d.conference_record(), Some(true));
        assert_eq!(logs(&cmds).len(), 1);
        let status = c.status(T1);
        assert_eq!(status.state, "conference");
        assert_eq!(status.reason.as_deref(), Some(d.reason().as_str()));

        let (d, cmds) = c.before_accept(&task("Billing", json!({})));
        assert_eq!(d.conference_record(), Some(false));
        assert_eq!(
            logs(&cmds),
            vec![(
                Level::Info,
                format!("not recording {T1}: queue Billing is in exclude_queues")
            )]
        );
        assert_eq!(c.status(T1).state, "excluded");
        assert_eq!(
            c.status(T1).reason.as_deref(),
            Some("queue Billing is in exclude_queues")
        );

        let (d, _) = c.before_accept(&task(
            "Sales",
            json!({"customer": {"privacy": ["x", "no-recording"]}}),
        ));
        assert_eq!(d.conference_record(), Some(false));

        let (d, cmds) = c.before_accept(&TaskSnapshot {
            channel: Some("chat".into()),
            ..task("Sales", json!({}))
        });
        assert_eq!(d.conference_record(), None);
        assert!(cmds.is_empty());
    }

    #[test]
    fn accepting_and_the_call_itself_start_nothing() {
        let (mut c, _) = core(CONFERENCE(), json!({}));
        c.before_accept(&task("Sales", json!({})));
        let mut all = Vec::new();
        for e in [
            FlexEvent::TaskAccepted {
                task: task(
                    "Sales",
                    json!({"call_sid": "CA000000000000000000000000000000c1"}),
                ),
            },
            FlexEvent::Conference {
                task_sid: T1.into(),
                conference: Some(ConferenceSnapshot {
                    conference_sid: Some("CF00000000000000000000000000000001".into()),
                    participants: vec![
                        Participant {
                            participant_type: Some("customer".into()),
                            status: Some("joined".into()),
                            call_sid: Some("CA000000000000000000000000000000c1".into()),
                            ..Participant::default()
                        },
                        Participant {
                            participant_type: Some("worker".into()),
                            status: Some("joined".into()),
                            call_sid: Some("CA000000000000000000000000000000a1".into()),
                            worker_sid: Some(ME.into()),
                            ..Participant::default()
                        },
                    ],
                }),
            },
            FlexEvent::ActiveCall {
                call_sid: Some("CA000000000000000000000000000000a1".into()),
            },
            FlexEvent::Hangup {
                task_sid: T1.into(),
            },
            FlexEvent::Complete {
                task_sid: T1.into(),
            },
            FlexEvent::Ended {
                task_sid: T1.into(),
                reason: "completed".into(),
            },
        ] {
            all.extend(c.handle(Event::Flex(e)));
        }
        // No request, no timer: Flex records the conference. The task is
        // followed while it lasts (its conference is what a pause reaches).
        assert!(
            all.iter()
                .all(|cmd| matches!(cmd, Command::Follow { .. } | Command::Log { .. })),
            "{all:?}"
        );
        assert!(c.idle());
        assert!(c.followed().is_empty());
        assert_eq!(c.status(T1).state, "done");
    }

    #[test]
    fn flex_call_recording_on_is_no_warning_in_the_conference_method() {
        let (mut c, _) = core(CONFERENCE(), json!({}));
        let out = c.handle(Event::Flex(FlexEvent::FlexCallRecording { enabled: true }));
        assert!(logs(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn call_leg_method_never_answers() {
        let (mut c, _) = core(
            json!({"enabled": true, "channel": "customer", "exclude_queues": ["Billing"]}),
            json!({"serverless_functions_domain": "x.io"}),
        );
        for q in ["Sales", "Billing"] {
            let (d, cmds) = c.before_accept(&task(q, json!({})));
            assert_eq!(d.conference_record(), None);
            assert!(cmds.is_empty());
        }
        assert_eq!(c.status(T1).state, "unknown");
    }
}
