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
}
