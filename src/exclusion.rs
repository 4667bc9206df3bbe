//! Which tasks are never recorded: excluded queues and attribute rules.

use crate::attributes::{lookup, lookup_all, Found, ScanError};
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
/// value as text, or is an array containing it. Null or missing never matches.
pub fn rule_matches(attributes_json: &str, rule: &AttributeRule) -> Result<bool, ScanError> {
    Ok(found_matches(
        &lookup(attributes_json, &rule.key)?,
        &rule.value,
    ))
}

fn found_matches(found: &Found, value: &str) -> bool {
    match found {
        Found::Scalar(text) => text == value,
        Found::Array { scalars, .. } => scalars.iter().any(|s| s == value),
        Found::Missing | Found::Null | Found::Object => false,
    }
}

/// Why a task's attributes cannot be checked against `exclude_attributes`,
/// or `None` when they can be read: they must be a JSON object. `unserialised`
/// is the shim's reason when it could not even produce the text.
pub fn unreadable_attributes(unserialised: Option<&str>, attributes_json: &str) -> Option<String> {
    if let Some(why) = unserialised {
        return Some(format!("could not be read in Flex ({why})"));
    }
    let kind = match attributes_json.trim_start().as_bytes().first() {
        Some(b'{') => return None,
        None => "empty",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "not JSON",
    };
    Some(format!("are {kind}, not a JSON object"))
}

/// The first reason the task must not be recorded, if any.
pub fn exclusion(
    config: &Config,
    queue_name: Option<&str>,
    queue_sid: Option<&str>,
    attributes_json: &str,
) -> Result<Option<Exclusion>, ScanError> {
    for q in &config.exclude_queues {
        if Some(q.as_str()) == queue_name || Some(q.as_str()) == queue_sid {
            return Ok(Some(Exclusion::Queue(q.clone())));
        }
    }
    if config.exclude_attributes.is_empty() {
        return Ok(None);
    }
    let keys: Vec<&str> = config
        .exclude_attributes
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    // In rule order: the first rule that matches is reported, and a document
    // that cannot be read fails at the first rule that meets the problem.
    for (rule, found) in config
        .exclude_attributes
        .iter()
        .zip(lookup_all(attributes_json, &keys))
    {
        if found_matches(&found?, &rule.value) {
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
                rule_matches(attrs, &rule(key, value)).unwrap(),
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
            assert_eq!(exclusion(&c, name, sid, "{}").unwrap(), want, "{name:?}");
        }
    }

    #[test]
    fn attributes_that_are_not_an_object_are_unreadable() {
        let cases = [
            (None, r#"{"a": 1}"#, None),
            (None, "  {}", None),
            (None, "", Some("are empty, not a JSON object")),
            (None, "   ", Some("are empty, not a JSON object")),
            (None, "[1, 2]", Some("are an array, not a JSON object")),
            (None, r#""text""#, Some("are a string, not a JSON object")),
            (None, "null", Some("are null, not a JSON object")),
            (None, "true", Some("are a boolean, not a JSON object")),
            (None, "42", Some("are a number, not a JSON object")),
            (None, "<xml>", Some("are not JSON, not a JSON object")),
            (
                Some("cyclic object value"),
                "",
                Some("could not be read in Flex (cyclic object value)"),
            ),
            (
                Some("BigInt"),
                "{}",
                Some("could not be read in Flex (BigInt)"),
            ),
        ];
        for (unserialised, text, want) in cases {
            assert_eq!(
                unreadable_attributes(unserialised, text).as_deref(),
                want,
                "{unserialised:?} {text:?}"
            );
        }
    }

    #[test]
    fn first_matching_rule_is_reported() {
        let c = config(&[], vec![rule("a", "1"), rule("b", "x")]);
        assert_eq!(
            exclusion(&c, None, None, r#"{"b": ["x"]}"#).unwrap(),
            Some(Exclusion::Attribute {
                key: "b".into(),
                value: "x".into()
            })
        );
        assert!(exclusion(&c, None, None, "{not json").is_err());
        assert_eq!(
            Exclusion::Attribute {
                key: "b".into(),
                value: "x".into()
            }
            .to_string(),
            "attribute b matches excluded value \"x\""
        );
    }
}
