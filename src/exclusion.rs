//! Which tasks are never recorded: excluded queues and attribute rules.

use crate::attributes::{Found, Kind, Lookup, ReadError};
use crate::config::{AttributeRule, Config};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// `exclude_queues` lists the task's queue, by name or by SID.
    Queue(String),
    /// An `exclude_attributes` rule matched.
    Attribute { key: String, value: String },
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::Queue(q) => write!(f, "queue {q} is in exclude_queues"),
            Exclusion::Attribute { key, value } => {
                write!(f, "attribute {key} matches excluded value \"{value}\"")
            }
        }
    }
}

/// Whether one rule matches: the value at the dotted key equals the rule's
/// value as text, or is an array containing it. Null or missing never matches;
/// a value that cannot be read is an error (the caller fails closed).
pub fn rule_matches<L: Lookup + ?Sized>(
    attributes: &L,
    rule: &AttributeRule,
) -> Result<bool, ReadError> {
    match attributes.lookup(&rule.key) {
        Found::Scalar(text) => Ok(text == rule.value),
        Found::Array { scalars, .. } => Ok(scalars.contains(&rule.value)),
        Found::Missing | Found::Null | Found::Object => Ok(false),
        Found::Unreadable(reason) => Err(ReadError {
            key: rule.key.clone(),
            reason,
        }),
    }
}

/// Why a task's attributes cannot be checked against `exclude_attributes`,
/// or `None` when they can be read: they must be an object.
pub fn unreadable_attributes<L: Lookup + ?Sized>(attributes: &L) -> Option<String> {
    let kind = match attributes.kind() {
        Kind::Object => return None,
        Kind::Unreadable(why) => return Some(format!("could not be read ({why})")),
        Kind::Missing => "missing",
        Kind::Null => "null",
        Kind::Boolean => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "an array",
    };
    Some(format!("are {kind}, not a JSON object"))
}

/// The first reason the task must not be recorded, if any. Rules are
/// checked in order: the first that matches is reported, and a value that
/// cannot be read fails at the first rule that meets it.
pub fn exclusion<L: Lookup + ?Sized>(
    config: &Config,
    queue_name: Option<&str>,
    queue_sid: Option<&str>,
    attributes: &L,
) -> Result<Option<Exclusion>, ReadError> {
    for q in &config.exclude_queues {
        if Some(q.as_str()) == queue_name || Some(q.as_str()) == queue_sid {
            return Ok(Some(Exclusion::Queue(q.clone())));
        }
    }
    for rule in &config.exclude_attributes {
        if rule_matches(attributes, rule)? {
            return Ok(Some(Exclusion::Attribute {
                key: rule.key.clone(),
                value: rule.value.clone(),
            }));
        }
    }
    Ok(None)
}

/// What the admission rule reads of a task: the same fields wherever the
/// task comes from (a Flex snapshot in the browser, TaskRouter's answer in
/// the backend).
pub struct TaskFacts<'a, L: Lookup + ?Sized> {
    /// `taskChannelUniqueName` (TaskRouter's `task_channel_unique_name`).
    pub channel: Option<&'a str>,
    pub queue_name: Option<&'a str>,
    pub queue_sid: Option<&'a str>,
    pub attributes: &'a L,
}

/// Why the admission rule turns a task away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotAdmitted {
    /// Not a voice task: there is no call to record.
    NotVoice,
    /// A voice task that must not be recorded.
    Refused(Refusal),
}

/// Why a voice task must not be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Excluded(Exclusion),
    /// Attribute rules exist but the task's attributes are not a readable
    /// object (`unreadable_attributes`'s words): fail closed.
    AttributesNotAnObject(String),
    /// Attribute rules exist but a value they read cannot be read: fail closed.
    UnreadableAttributes(ReadError),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Excluded(why) => write!(f, "{why}"),
            Refusal::AttributesNotAnObject(why) => {
                write!(
                    f,
                    "its attributes {why}, so exclude_attributes cannot be checked"
                )
            }
            Refusal::UnreadableAttributes(e) => {
                write!(f, "the exclusion rules cannot be checked: {e}")
            }
        }
    }
}

/// The one admission rule, for both methods and for the backend's policy:
/// voice tasks only; when attribute rules exist, attributes that are not a
/// readable object fail closed (a rule that cannot be checked might have
/// excluded the task); then `exclusion`. Whether the feature is enabled and
/// which method records are the caller's concern.
pub fn admit<L: Lookup + ?Sized>(
    config: &Config,
    task: TaskFacts<'_, L>,
) -> Result<(), NotAdmitted> {
    if task.channel != Some("voice") {
        return Err(NotAdmitted::NotVoice);
    }
    if !config.exclude_attributes.is_empty() {
        if let Some(why) = unreadable_attributes(task.attributes) {
            return Err(NotAdmitted::Refused(Refusal::AttributesNotAnObject(why)));
        }
    }
    match exclusion(config, task.queue_name, task.queue_sid, task.attributes) {
        Ok(None) => Ok(()),
        Ok(Some(why)) => Err(NotAdmitted::Refused(Refusal::Excluded(why))),
        Err(e) => Err(NotAdmitted::Refused(Refusal::UnreadableAttributes(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Attributes;
    use crate::config::{Channel, Method};

    fn rule(key: &str, value: &str) -> AttributeRule {
        AttributeRule {
            key: key.into(),
            value: value.into(),
        }
    }

    fn config(queues: &[&str], rules: Vec<AttributeRule>) -> Config {
        Config {
            method: Method::CallLeg,
            channel: Channel::Customer,
            exclude_queues: queues.iter().map(|q| q.to_string()).collect(),
            exclude_attributes: rules,
            max_wait_ms: 60_000,
            accept_wait_ms: 200,
            backend_url: "http://x".into(),
        }
    }

    #[test]
    fn attribute_rules_compare_as_text() {
        let attrs = r#"{"direction": "inbound", "vip": true, "tier": 1, "score": 1.0, "none": null,
            "customer": {"preferences": {"privacy": ["anonymous", "no-recording", 3, false]}},
            "nested": {"list": [["no-recording"]]}, "obj": {"a": 1}}"#;
        let attrs = Attributes::parse(attrs);
        let cases = [
            ("direction", "inbound", true),
            ("direction", "outbound", false),
            ("vip", "true", true),
            ("vip", "false", false),
            ("tier", "1", true),
            ("score", "1", true),
            ("tier", "1.0", false),
            ("none", "null", false),
            ("missing", "x", false),
            ("customer.preferences.privacy", "no-recording", true),
            ("customer.preferences.privacy", "3", true),
            ("customer.preferences.privacy", "false", true),
            ("customer.preferences.privacy", "recording", false),
            ("nested.list", "no-recording", false),
            ("obj", "{\"a\":1}", false),
            ("customer.preferences.privacy.1", "no-recording", true),
        ];
        for (key, value, want) in cases {
            assert_eq!(
                rule_matches(&*attrs, &rule(key, value)).unwrap(),
                want,
                "{key} = {value}"
            );
        }
    }

    #[test]
    fn queues_by_name_or_sid() {
        let c = config(&["Billing", "WQ00000000000000000000000000000009"], vec![]);
        let cases = [
            (
                Some("Billing"),
                Some("WQ00000000000000000000000000000003"),
                Some(Exclusion::Queue("Billing".into())),
            ),
            (
                Some("Support"),
                Some("WQ00000000000000000000000000000009"),
                Some(Exclusion::Queue(
                    "WQ00000000000000000000000000000009".into(),
                )),
            ),
            (
                Some("billing"),
                Some("WQ00000000000000000000000000000001"),
                None,
            ),
            (None, None, None),
        ];
        for (name, sid, want) in cases {
            let attrs = Attributes::parse("{}");
            assert_eq!(exclusion(&c, name, sid, &*attrs).unwrap(), want, "{name:?}");
        }
    }

    #[test]
    fn attributes_that_are_not_an_object_are_unreadable() {
        let cases = [
            (r#"{"a": 1}"#, None),
            ("  {}", None),
            ("[1, 2]", Some("are an array, not a JSON object")),
            (r#""text""#, Some("are a string, not a JSON object")),
            ("null", Some("are null, not a JSON object")),
            ("true", Some("are a boolean, not a JSON object")),
            ("42", Some("are a number, not a JSON object")),
        ];
        for (text, want) in cases {
            let attrs = Attributes::parse(text);
            assert_eq!(unreadable_attributes(&*attrs).as_deref(), want, "{text:?}");
        }
        assert_eq!(
            unreadable_attributes(&*Attributes::default()).as_deref(),
            Some("are missing, not a JSON object")
        );
        for text in ["", "   ", "<xml>"] {
            let why = unreadable_attributes(&*Attributes::parse(text)).unwrap();
            assert!(
                why.starts_with("could not be read (not valid JSON: "),
                "{why}"
            );
        }
        assert_eq!(
            unreadable_attributes(&*Attributes::unreadable("a getter threw".into())).as_deref(),
            Some("could not be read (a getter threw)")
        );
    }

    #[test]
    fn first_matching_rule_is_reported() {
        let c = config(&[], vec![rule("a", "1"), rule("b", "x")]);
        assert_eq!(
            exclusion(&c, None, None, &*Attributes::parse(r#"{"b": ["x"]}"#)).unwrap(),
            Some(Exclusion::Attribute {
                key: "b".into(),
                value: "x".into()
            })
        );
        assert!(exclusion(&c, None, None, &*Attributes::parse("{not json")).is_err());
        // A rule that matches before the unreadable value is reached wins.
        let c = config(&[], vec![rule("a", "1"), rule("b", "x")]);
        let partly = Attributes::new(Partly);
        assert_eq!(
            exclusion(&c, None, None, &*partly).unwrap(),
            Some(Exclusion::Attribute {
                key: "a".into(),
                value: "1".into()
            })
        );
        let c = config(&[], vec![rule("b", "x"), rule("a", "1")]);
        assert_eq!(
            exclusion(&c, None, None, &*partly).unwrap_err().to_string(),
            "task attribute b could not be read (a getter threw)"
        );
        assert_eq!(
            Exclusion::Attribute {
                key: "b".into(),
                value: "x".into()
            }
            .to_string(),
            "attribute b matches excluded value \"x\""
        );
    }

    /// `a` reads 1, `b` throws, as a JS getter can.
    struct Partly;

    impl Lookup for Partly {
        fn at(&self, path: &[&str]) -> Found {
            match path {
                ["a"] => Found::Scalar("1".into()),
                ["b"] => Found::Unreadable("a getter threw".into()),
                _ => Found::Missing,
            }
        }

        fn kind(&self) -> Kind {
            Kind::Object
        }
    }

    /// The admission rule's order, as every caller (both methods, the
    /// backend) meets it.
    #[test]
    fn admission() {
        use crate::attributes::Attributes;
        let rules = config(&["Billing"], vec![rule("privacy", "no")]);
        let no_rules = config(&["Billing"], vec![]);
        let refused = |r| Err(NotAdmitted::Refused(r));
        // (case, configuration, channel, queue, attributes, answer)
        type Case<'a> = (
            &'a str,
            &'a Config,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            Result<(), NotAdmitted>,
        );
        let cases: Vec<Case> = vec![
            ("a voice task no rule matches", &rules, Some("voice"), Some("Sales"), r#"{"privacy":"yes"}"#, Ok(())),
            ("a chat task", &rules, Some("chat"), Some("Sales"), "{}", Err(NotAdmitted::NotVoice)),
            ("no channel at all", &rules, None, Some("Sales"), "{}", Err(NotAdmitted::NotVoice)),
            ("not voice comes before the exclusions", &rules, Some("chat"), Some("Billing"), "[1,2]", Err(NotAdmitted::NotVoice)),
            ("an excluded queue", &rules, Some("voice"), Some("Billing"), "{}", refused(Refusal::Excluded(Exclusion::Queue("Billing".into())))),
            ("a matching attribute", &rules, Some("voice"), Some("Sales"), r#"{"privacy":"no"}"#,
                refused(Refusal::Excluded(Exclusion::Attribute { key: "privacy".into(), value: "no".into() }))),
            ("attributes an array, with rules: fail closed", &rules, Some("voice"), Some("Sales"), "[1,2]",
                refused(Refusal::AttributesNotAnObject("are an array, not a JSON object".into()))),
            ("attributes a string, with rules: fail closed", &rules, Some("voice"), Some("Sales"), r#""text""#,
                refused(Refusal::AttributesNotAnObject("are a string, not a JSON object".into()))),
            ("attributes not JSON, with rules: fail closed", &rules, Some("voice"), Some("Sales"), "{",
                refused(Refusal::AttributesNotAnObject("could not be read (not valid JSON: EOF while parsing an object at line 1 column 1)".into()))),
            ("attributes an array, no attribute rule", &no_rules, Some("voice"), Some("Sales"), "[1,2]", Ok(())),
            ("an excluded queue wins over unreadable attributes without rules", &no_rules, Some("voice"), Some("Billing"), "[1,2]",
                refused(Refusal::Excluded(Exclusion::Queue("Billing".into())))),
        ];
        for (name, config, channel, queue, attributes, want) in cases {
            let attributes = Attributes::parse(attributes);
            let facts = TaskFacts {
                channel,
                queue_name: queue,
                queue_sid: None,
                attributes: &*attributes,
            };
            assert_eq!(admit(config, facts), want, "{name}");
        }
    }
}
