//! The feature configuration, read once at start from Flex's `custom_data`
//! (`ui_attributes`): `features.dual_channel_recording` and where the backend is.
//!
//! Fail safe: any invalid part makes the whole feature inert (it records
//! nothing) and every problem is reported with its path, so an administrator
//! can fix them all at once. Unknown keys are tolerated; missing lists are empty.

use crate::document::{Document, Node};

pub use crate::document::type_name;

pub const FEATURE_KEY: &str = "dual_channel_recording";
/// The plugin's own block, `custom_data.plugin_dual_channel_recording`: when
/// present, the template's `features.*` keys are not read.
pub const OWN_BLOCK: &str = "plugin_dual_channel_recording";

/// Which block of `custom_data` holds the plugin's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// `plugin_dual_channel_recording` (with `pause_recording` inside).
    Own,
    /// The template's `features.dual_channel_recording` and `features.pause_recording`.
    Template,
}

impl Block {
    /// The own block when `custom_data` holds it (not null), else the template's keys.
    pub fn of<D: Document>(custom_data: &D) -> Block {
        match custom_data.at(OWN_BLOCK) {
            None | Some(Node::Null) => Block::Template,
            Some(_) => Block::Own,
        }
    }

    /// Where the recording settings are, as an administrator finds them.
    pub fn recording_path(self) -> &'static str {
        match self {
            Block::Own => OWN_BLOCK,
            Block::Template => "features.dual_channel_recording",
        }
    }

    /// Where the pause settings are.
    pub fn pause_path(self) -> &'static str {
        match self {
            Block::Own => "plugin_dual_channel_recording.pause_recording",
            Block::Template => "features.pause_recording",
        }
    }
}
/// How long a task waits for its leg to appear before we give up (the template's 60 s).
pub const DEFAULT_MAX_WAIT_SECONDS: u64 = 60;
/// How long `beforeAcceptTask` may hold an accept while the core is still
/// loading (`accept_wait_ms`). The shim reads the raw number before the core
/// exists and clamps it to these bounds (plugin-shim/src/feature/index.js).
pub const DEFAULT_ACCEPT_WAIT_MS: u64 = 200;
pub const MAX_ACCEPT_WAIT_MS: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Record the customer's leg: one recording for the whole call.
    Customer,
    /// Record this worker's leg: one recording per leg the worker is on.
    Worker,
}

/// How calls are recorded (`method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Each call leg through the REST API, by the backend (the default).
    CallLeg,
    /// Flex records the whole conference natively (`conferenceOptions.conferenceRecord`).
    Conference,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeRule {
    pub key: String,
    /// The value as text: strings as themselves, numbers and booleans as JSON text.
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub method: Method,
    /// With `Method::Conference` it is ignored: what the administrator wrote
    /// if valid, else `Customer`.
    pub channel: Channel,
    pub exclude_queues: Vec<String>,
    pub exclude_attributes: Vec<AttributeRule>,
    pub max_wait_ms: u64,
    pub accept_wait_ms: u64,
    /// Base URL of the backend, no trailing slash. Empty with
    /// `Method::Conference`, which never sends a request and does not read
    /// the backend's location.
    pub backend_url: String,
}

/// The outcome of reading the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    /// The feature is absent or `enabled` is false: do nothing, show nothing.
    Disabled,
    Enabled(Config),
    /// Misconfigured: record nothing, show the notification, log each problem.
    Invalid(Vec<ConfigError>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where, as an administrator would find it: `exclude_attributes[2].key`.
    pub path: String,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Milliseconds from a number of seconds as JavaScript writes it (`2`,
/// `0.5`); digits past the third decimal are dropped. `None` for what is not
/// plain non-negative decimal text (`1e+21`, `-1`, `Infinity`) or overflows.
pub(crate) fn seconds_to_ms(text: &str) -> Option<u64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.contains(['e', 'E']) || int.contains(['e', 'E']) || int.starts_with('-') {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let mut millis = 0u64;
    for (k, d) in frac.bytes().take(3).enumerate() {
        let digit = d.checked_sub(b'0').filter(|d| *d <= 9)?;
        millis += u64::from(digit) * [100, 10, 1][k];
    }
    whole.checked_mul(1000)?.checked_add(millis)
}

/// Comparable text of a rule value or `None` when it cannot be compared.
pub fn value_text<D>(v: &Node<D>) -> Option<String> {
    match v {
        Node::String(s) | Node::Number(s) => Some(s.clone()),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads the whole `custom_data` object, from the block it holds
/// (`Block::of`). A worker's overrides and the diagnostics: `settings`.
pub fn parse<D: Document>(custom_data: D) -> Setup {
    parse_block(&custom_data, Block::of(&custom_data), true)
}

/// The feature's rules alone, as the backend applies them: where the backend
/// is (`serverless_functions_*`) is the browser's concern, and its absence
/// says nothing about what may be recorded. `backend_url` is empty.
pub fn parse_policy<D: Document>(custom_data: D) -> Setup {
    parse_block(&custom_data, Block::of(&custom_data), false)
}

/// The recording settings of `block` in `custom_data`. Problems inside the
/// plugin's own block are reported with the block's path
/// (`plugin_dual_channel_recording.channel`); inside the template's, with the
/// key alone as before (`channel`); the template's `serverless_functions_*`
/// with their own names.
pub fn parse_block<D: Document>(custom_data: &D, block: Block, locate_backend: bool) -> Setup {
    match parse_with(custom_data, block, locate_backend) {
        Setup::Invalid(errors) => Setup::Invalid(
            errors
                .into_iter()
                .map(|e| match block {
                    Block::Own if e.path.is_empty() => ConfigError {
                        path: OWN_BLOCK.into(),
                        ..e
                    },
                    Block::Own if !e.path.starts_with("serverless_functions_") => ConfigError {
                        path: format!("{OWN_BLOCK}.{}", e.path),
                        ..e
                    },
                    _ => e,
                })
                .collect(),
        ),
        other => other,
    }
}

fn parse_with<D: Document>(custom_data: &D, block: Block, locate_backend: bool) -> Setup {
    let feature = match block {
        Block::Own => custom_data.get(OWN_BLOCK),
        Block::Template => custom_data.get("features").and_then(|f| f.get(FEATURE_KEY)),
    };
    let Some(feature) = feature else {
        return Setup::Disabled;
    };
    let mut errors = Vec::new();
    let mut err = |path: String, problem: String| errors.push(ConfigError { path, problem });
    let obj = feature;
    let Node::Object = obj.node() else {
        let found = format!("must be an object, found {}", type_name(&obj.node()));
        return Setup::Invalid(vec![ConfigError {
            // The own block's prefix is added by `parse_block`.
            path: match block {
                Block::Own => String::new(),
                Block::Template => format!("features.{FEATURE_KEY}"),
            },
            problem: found,
        }]);
    };
    match obj.at("enabled") {
        None | Some(Node::Bool(false)) | Some(Node::Null) => return Setup::Disabled,
        Some(Node::Bool(true)) => {}
        Some(other) => {
            err(
                "enabled".into(),
                format!("must be true or false, found {}", type_name(&other)),
            );
        }
    }

    let method = match obj.at("method") {
        None | Some(Node::Null) => Some(Method::CallLeg),
        Some(Node::String(m)) if m == "call-leg" => Some(Method::CallLeg),
        Some(Node::String(m)) if m == "conference" => Some(Method::Conference),
        Some(Node::String(m)) => {
            err(
                "method".into(),
                format!("must be \"call-leg\" or \"conference\", found \"{m}\""),
            );
            None
        }
        Some(other) => {
            err(
                "method".into(),
                format!(
                    "must be \"call-leg\" or \"conference\", found {}",
                    type_name(&other)
                ),
            );
            None
        }
    };

    // Only the call-leg method reads `channel` and the backend's location;
    // with an unknown method neither is checked, so the one problem reported
    // is the method itself.
    let call_leg = method == Some(Method::CallLeg);
    let channel = match obj.at("channel") {
        Some(Node::String(s)) if !call_leg && s == "worker" => Some(Channel::Worker),
        _ if !call_leg => Some(Channel::Customer),
        Some(Node::String(s)) if s == "customer" => Some(Channel::Customer),
        Some(Node::String(s)) if s == "worker" => Some(Channel::Worker),
        Some(Node::String(s)) => {
            err(
                "channel".into(),
                format!("must be \"customer\" or \"worker\", found \"{s}\""),
            );
            None
        }
        None => {
            err(
                "channel".into(),
                "missing: set \"customer\" or \"worker\"".into(),
            );
            None
        }
        Some(other) => {
            err(
                "channel".into(),
                format!(
                    "must be \"customer\" or \"worker\", found {}",
                    type_name(&other)
                ),
            );
            None
        }
    };

    let mut exclude_queues = Vec::new();
    match obj.at("exclude_queues") {
        None | Some(Node::Null) => {}
        Some(Node::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.node() {
                    Node::String(s) if !s.is_empty() => exclude_queues.push(s),
                    Node::String(_) => {
                        err(format!("exclude_queues[{i}]"), "empty queue name".into())
                    }
                    other => err(
                        format!("exclude_queues[{i}]"),
                        format!(
                            "must be a queue name or WQ SID (a string), found {}",
                            type_name(&other)
                        ),
                    ),
                }
            }
        }
        Some(other) => err(
            "exclude_queues".into(),
            format!("must be an array, found {}", type_name(&other)),
        ),
    }

    let mut exclude_attributes = Vec::new();
    match obj.at("exclude_attributes") {
        None | Some(Node::Null) => {}
        Some(Node::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let rule = item;
                let Node::Object = rule.node() else {
                    err(
                        format!("exclude_attributes[{i}]"),
                        format!(
                            "must be an object {{\"key\", \"value\"}}, found {}",
                            type_name(&item.node())
                        ),
                    );
                    continue;
                };
                let key = match rule.at("key") {
                    Some(Node::String(k)) if !k.is_empty() => Some(k.clone()),
                    Some(Node::String(_)) => {
                        err(format!("exclude_attributes[{i}].key"), "empty".into());
                        None
                    }
                    None => {
                        err(format!("exclude_attributes[{i}].key"), "missing".into());
                        None
                    }
                    Some(other) => {
                        err(
                            format!("exclude_attributes[{i}].key"),
                            format!("must be a string, found {}", type_name(&other)),
                        );
                        None
                    }
                };
                let value = match rule.at("value") {
                    None => {
                        err(format!("exclude_attributes[{i}].value"), "missing".into());
                        None
                    }
                    Some(v) => {
                        let text = value_text(&v);
                        if text.is_none() {
                            err(
                                format!("exclude_attributes[{i}].value"),
                                format!(
                                    "must be a string, number or boolean, found {}",
                                    type_name(&v)
                                ),
                            );
                        }
                        text
                    }
                };
                if let (Some(key), Some(value)) = (key, value) {
                    exclude_attributes.push(AttributeRule { key, value });
                }
            }
        }
        Some(other) => err(
            "exclude_attributes".into(),
            format!("must be an array, found {}", type_name(&other)),
        ),
    }

    let max_wait_ms = match obj.at("max_wait_seconds") {
        None | Some(Node::Null) => DEFAULT_MAX_WAIT_SECONDS * 1000,
        Some(Node::Number(n)) => match seconds_to_ms(&n) {
            Some(ms) if ms > 0 && ms <= 3_600_000 => ms,
            _ => {
                err(
                    "max_wait_seconds".into(),
                    format!("must be between 0 and 3600, found {}", n),
                );
                0
            }
        },
        Some(other) => {
            err(
                "max_wait_seconds".into(),
                format!("must be a number of seconds, found {}", type_name(&other)),
            );
            0
        }
    };

    let accept_wait_ms = match obj.at("accept_wait_ms") {
        None | Some(Node::Null) => DEFAULT_ACCEPT_WAIT_MS,
        Some(Node::Number(n)) => match n.parse::<u64>() {
            Ok(ms) if ms <= MAX_ACCEPT_WAIT_MS => ms,
            _ => {
                err(
                    "accept_wait_ms".into(),
                    format!("must be a whole number of milliseconds from 0 to {MAX_ACCEPT_WAIT_MS}, found {}", n),
                );
                0
            }
        },
        Some(other) => {
            err(
                "accept_wait_ms".into(),
                format!(
                    "must be a number of milliseconds, found {}",
                    type_name(&other)
                ),
            );
            0
        }
    };

    // The plugin's own key wins; the template's `serverless_functions_*` are
    // the fallback, so a template configuration works unchanged. The
    // conference method makes no backend request and reads neither, and
    // the backend reading the policy needs no backend location.
    let backend_url = if !locate_backend {
        Some(String::new())
    } else if !call_leg {
        // Only pausing Flex's conference recording (`pause_recording`) needs
        // the backend in this method, found as in the other: the plugin's own
        // key, else the template's. Without either it stays empty, and the
        // start-up says so only if pausing is on (`session::startup`).
        match obj.at("backend_url") {
            None | Some(Node::Null) => {
                Some(backend_url(custom_data, &mut |_, _| {}).unwrap_or_default())
            }
            Some(v) => backend_origin(v, &mut err),
        }
    } else {
        match obj.at("backend_url") {
            // In the own block, the plugin's key is the one to name; the
            // template's keys still count when they are there.
            None | Some(Node::Null)
                if block == Block::Own
                    && matches!(
                        custom_data.at("serverless_functions_domain"),
                        None | Some(Node::Null)
                    ) =>
            {
                err(
                    "backend_url".into(),
                    "missing: set the backend's origin, such as \"https://recordings.example.com\" (or the template's serverless_functions_domain)".into(),
                );
                None
            }
            None | Some(Node::Null) => backend_url(custom_data, &mut err),
            Some(v) => backend_origin(v, &mut err),
        }
    };

    match (method, channel, backend_url) {
        (Some(method), Some(channel), Some(backend_url)) if errors.is_empty() => {
            Setup::Enabled(Config {
                method,
                channel,
                exclude_queues,
                exclude_attributes,
                max_wait_ms,
                accept_wait_ms,
                backend_url,
            })
        }
        _ => Setup::Invalid(errors),
    }
}

/// `serverless_functions_protocol://serverless_functions_domain[:serverless_functions_port]`,
/// the flex-project-template convention for where its functions live.
fn backend_url<D: Document>(
    custom_data: &D,
    err: &mut impl FnMut(String, String),
) -> Option<String> {
    let domain = match custom_data.at("serverless_functions_domain") {
        Some(Node::String(d)) if valid_host(&d) => Some(d),
        Some(Node::String(d)) if d.is_empty() => {
            err(
                "serverless_functions_domain".into(),
                "missing: set the backend's host name".into(),
            );
            None
        }
        Some(Node::String(d)) => {
            err(
                "serverless_functions_domain".into(),
                format!("\"{d}\" is not a host name (write it without scheme or path)"),
            );
            None
        }
        None | Some(Node::Null) => {
            err(
                "serverless_functions_domain".into(),
                "missing: set the backend's host name".into(),
            );
            None
        }
        Some(other) => {
            err(
                "serverless_functions_domain".into(),
                format!("must be a string, found {}", type_name(&other)),
            );
            None
        }
    };
    let protocol = match custom_data.at("serverless_functions_protocol") {
        None | Some(Node::Null) => Some("https".to_string()),
        Some(Node::String(p)) if p == "https" || p == "http" => Some(p.clone()),
        Some(Node::String(p)) if p == "https:" || p == "http:" => {
            Some(p.trim_end_matches(':').to_string())
        }
        Some(other) => {
            err(
                "serverless_functions_protocol".into(),
                format!(
                    "must be \"https\" or \"http\", found {}",
                    match &other {
                        Node::String(p) => format!("\"{p}\""),
                        other => type_name(other).to_string(),
                    }
                ),
            );
            None
        }
    };
    let port = match custom_data.at("serverless_functions_port") {
        None | Some(Node::Null) => Some(None),
        Some(Node::String(p)) if p.is_empty() => Some(None),
        Some(Node::String(p)) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(Some(n)),
            _ => {
                err(
                    "serverless_functions_port".into(),
                    format!("\"{p}\" is not a port number"),
                );
                None
            }
        },
        Some(Node::Number(n)) => match n.parse::<u16>() {
            Ok(p) if p > 0 => Some(Some(p)),
            _ => {
                err(
                    "serverless_functions_port".into(),
                    format!("{} is not a port number", n),
                );
                None
            }
        },
        Some(other) => {
            err(
                "serverless_functions_port".into(),
                format!("must be a port number, found {}", type_name(&other)),
            );
            None
        }
    };
    let (domain, protocol, port) = (domain?, protocol?, port?);
    Some(match port {
        Some(p) => format!("{protocol}://{domain}:{p}"),
        None => format!("{protocol}://{domain}"),
    })
}

/// `features.dual_channel_recording.backend_url`: an origin, such as
/// `https://recordings.example.com` or `http://127.0.0.1:8787` (a trailing
/// slash is tolerated; a path is not, since the plugin appends its own).
fn backend_origin<D>(v: Node<D>, err: &mut impl FnMut(String, String)) -> Option<String> {
    const EXPECTED: &str =
        "must be an origin such as \"https://recordings.example.com\" (scheme, host and optional port; no path)";
    let Node::String(text) = &v else {
        err(
            "backend_url".into(),
            format!("{EXPECTED}, found {}", type_name(&v)),
        );
        return None;
    };
    let trimmed = text.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match host {
        Some(h) if valid_host(h) => Some(trimmed.to_string()),
        _ => {
            err(
                "backend_url".into(),
                format!("{EXPECTED}, found \"{text}\""),
            );
            None
        }
    }
}

fn valid_host(d: &str) -> bool {
    !d.is_empty()
        && d.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn j(v: Value) -> Value {
        v
    }

    fn with(feature: Value) -> Value {
        j(
            json!({"features": {"dual_channel_recording": feature}, "serverless_functions_domain": "example.twil.io"}),
        )
    }

    fn errors(setup: Setup) -> Vec<String> {
        match setup {
            Setup::Invalid(e) => e.iter().map(|e| e.to_string()).collect(),
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn backend_url_is_the_plugins_own_key_and_the_template_keys_the_fallback() {
        let feature =
            |url: Value| json!({"enabled": true, "channel": "customer", "backend_url": url});
        let template = json!({"serverless_functions_domain": "functions.example.com",
            "serverless_functions_protocol": "http", "serverless_functions_port": "8080"});
        let with_template = |url: Value| {
            let mut cd = template.clone();
            cd["features"] = json!({"dual_channel_recording": feature(url)});
            j(cd)
        };
        let alone = |url: Value| j(json!({"features": {"dual_channel_recording": feature(url)}}));
        let ok = [
            (
                alone(json!("https://recordings.example.com")),
                "https://recordings.example.com",
            ),
            (
                alone(json!("https://recordings.example.com/")),
                "https://recordings.example.com",
            ),
            (
                alone(json!("http://127.0.0.1:8787")),
                "http://127.0.0.1:8787",
            ),
            // The plugin's key wins over the template's domain...
            (
                with_template(json!("https://recordings.example.com")),
                "https://recordings.example.com",
            ),
            // ...and the template's keys still work without it.
            (
                with_template(Value::Null),
                "http://functions.example.com:8080",
            ),
        ];
        for (cd, want) in ok {
            let Setup::Enabled(c) = parse(&cd) else {
                panic!("{cd:?}")
            };
            assert_eq!(c.backend_url, want);
        }
        for bad in [
            json!("recordings.example.com"),
            json!("https://recordings.example.com/api"),
            json!("ftp://recordings.example.com"),
            json!("https://"),
            json!("https://a b"),
            json!(""),
            json!(8787),
            json!({"url": "https://x"}),
        ] {
            // A wrong value is an error at its path, never a silent fallback.
            let e = errors(parse(&with_template(bad.clone())));
            assert_eq!(e.len(), 1, "{bad}: {e:?}");
            assert!(
                e[0].starts_with("backend_url: must be an origin"),
                "{bad}: {e:?}"
            );
        }
        // Neither key: the template's domain is what is missing.
        let e = errors(parse(&j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}}),
        )));
        assert!(
            e[0].starts_with("serverless_functions_domain: missing"),
            "{e:?}"
        );
    }

    #[test]
    fn valid_configuration() {
        let s = parse(&with(json!({
            "enabled": true, "channel": "worker", "exclude_queues": ["Billing", "WQ00000000000000000000000000000003"],
            "exclude_attributes": [{"key": "a.b", "value": "x"}, {"key": "n", "value": 1.0}, {"key": "t", "value": true}],
            "unknown_key": {"tolerated": true}
        })));
        let Setup::Enabled(c) = s else {
            panic!("{s:?}")
        };
        assert_eq!(c.channel, Channel::Worker);
        assert_eq!(c.exclude_queues.len(), 2);
        assert_eq!(
            c.exclude_attributes,
            vec![
                AttributeRule {
                    key: "a.b".into(),
                    value: "x".into()
                },
                AttributeRule {
                    key: "n".into(),
                    value: "1".into()
                },
                AttributeRule {
                    key: "t".into(),
                    value: "true".into()
                },
            ]
        );
        assert_eq!(c.max_wait_ms, 60_000);
        assert_eq!(c.backend_url, "https://example.twil.io");
    }

    #[test]
    fn missing_lists_are_empty_and_disabled_is_silent() {
        let Setup::Enabled(c) = parse(&with(json!({"enabled": true, "channel": "customer"})))
        else {
            panic!()
        };
        assert!(c.exclude_queues.is_empty() && c.exclude_attributes.is_empty());
        assert_eq!(
            parse(&with(json!({"enabled": false, "channel": "nonsense"}))),
            Setup::Disabled
        );
        assert_eq!(parse(&j(json!({}))), Setup::Disabled);
        assert_eq!(parse(&j(json!({"features": {}}))), Setup::Disabled);
        assert_eq!(
            parse(&with(json!({"channel": "customer"}))),
            Setup::Disabled
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"enabled": true, "channel": "agent"}), vec![r#"channel: must be "customer" or "worker", found "agent""#]),
            (json!({"enabled": true}), vec![r#"channel: missing: set "customer" or "worker""#]),
            (json!({"enabled": "yes", "channel": "customer"}), vec!["enabled: must be true or false, found a string"]),
            (json!({"enabled": true, "channel": "customer", "exclude_queues": "Billing"}), vec!["exclude_queues: must be an array, found a string"]),
            (json!({"enabled": true, "channel": "customer", "exclude_queues": ["a", 3]}), vec!["exclude_queues[1]: must be a queue name or WQ SID (a string), found a number"]),
            (json!({"enabled": true, "channel": "customer", "exclude_attributes": {"key": "a"}}), vec!["exclude_attributes: must be an array, found an object"]),
            (
                json!({"enabled": true, "channel": "customer", "exclude_attributes": [{"key": "a", "value": 1}, {"value": 1}, {"key": 5, "value": "x"}, {"key": "k"}, {"key": "k", "value": null}, {"key": "k", "value": [1]}, "x"]}),
                vec![
                    "exclude_attributes[1].key: missing",
                    "exclude_attributes[2].key: must be a string, found a number",
                    "exclude_attributes[3].value: missing",
                    "exclude_attributes[4].value: must be a string, number or boolean, found null",
                    "exclude_attributes[5].value: must be a string, number or boolean, found an array",
                    r#"exclude_attributes[6]: must be an object {"key", "value"}, found a string"#,
                ],
            ),
            (json!({"enabled": true, "channel": "customer", "max_wait_seconds": -1}), vec!["max_wait_seconds: must be between 0 and 3600, found -1"]),
            (json!("on"), vec!["features.dual_channel_recording: must be an object, found a string"]),
            (json!({"enabled": true, "channel": "customer", "method": "phone"}), vec![r#"method: must be "call-leg" or "conference", found "phone""#]),
            (json!({"enabled": true, "channel": "customer", "method": 1}), vec![r#"method: must be "call-leg" or "conference", found a number"#]),
        ];
        for (feature, want) in cases {
            assert_eq!(errors(parse(&with(feature.clone()))), want, "{feature}");
        }
    }

    #[test]
    fn policy_reading_needs_no_backend_location() {
        let cd = j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer", "exclude_queues": ["Sales"]}}}),
        );
        assert!(matches!(parse(&cd), Setup::Invalid(_)));
        let Setup::Enabled(c) = parse_policy(&cd) else {
            panic!("{:?}", parse_policy(&cd))
        };
        assert_eq!(c.exclude_queues, vec!["Sales".to_string()]);
        assert_eq!(c.backend_url, "");
        // Every other problem is still one.
        let bad = j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "agent"}}}),
        );
        assert_eq!(
            errors(parse_policy(&bad)),
            vec![r#"channel: must be "customer" or "worker", found "agent""#]
        );
    }

    #[test]
    fn method_choice() {
        let method = |feature: Value| match parse(&with(feature)) {
            Setup::Enabled(c) => Ok((c.method, c.channel)),
            Setup::Invalid(e) => Err(e.iter().map(|e| e.to_string()).collect::<Vec<_>>()),
            Setup::Disabled => Err(vec!["disabled".to_string()]),
        };
        type Want = Result<(Method, Channel), Vec<&'static str>>;
        let cases: Vec<(Value, Want)> = vec![
            (
                json!({"enabled": true, "channel": "worker"}),
                Ok((Method::CallLeg, Channel::Worker)),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": null}),
                Ok((Method::CallLeg, Channel::Customer)),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": "call-leg"}),
                Ok((Method::CallLeg, Channel::Customer)),
            ),
            (
                json!({"enabled": true, "channel": "worker", "method": "conference"}),
                Ok((Method::Conference, Channel::Worker)),
            ),
            // In the conference method `channel` is not required, and ignored.
            (
                json!({"enabled": true, "method": "conference"}),
                Ok((Method::Conference, Channel::Customer)),
            ),
            (
                json!({"enabled": true, "method": "conference", "channel": "agent"}),
                Ok((Method::Conference, Channel::Customer)),
            ),
            (
                json!({"enabled": true, "method": "conference", "channel": 3}),
                Ok((Method::Conference, Channel::Customer)),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": "Conference"}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found "Conference""#,
                ]),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": "native"}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found "native""#,
                ]),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": ""}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found """#,
                ]),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": true}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found a boolean"#,
                ]),
            ),
            (
                json!({"enabled": true, "channel": "customer", "method": ["conference"]}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found an array"#,
                ]),
            ),
            // An unknown method is the one problem reported: channel is not asked for.
            (
                json!({"enabled": true, "method": "conferance"}),
                Err(vec![
                    r#"method: must be "call-leg" or "conference", found "conferance""#,
                ]),
            ),
            // The other keys are checked in every method.
            (
                json!({"enabled": true, "method": "conference", "exclude_queues": [1], "exclude_attributes": [{"value": "x"}]}),
                Err(vec![
                    "exclude_queues[0]: must be a queue name or WQ SID (a string), found a number",
                    "exclude_attributes[0].key: missing",
                ]),
            ),
            (
                json!({"enabled": false, "method": "nonsense"}),
                Err(vec!["disabled"]),
            ),
        ];
        for (feature, want) in cases {
            let want = want.map_err(|e| e.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(method(feature.clone()), want, "{feature}");
        }
    }

    #[test]
    fn conference_method_needs_no_backend_location() {
        let cd = j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "method": "conference"}}}),
        );
        let Setup::Enabled(c) = parse(&cd) else {
            panic!("{:?}", parse(&cd))
        };
        assert_eq!(c.method, Method::Conference);
        assert_eq!(c.backend_url, "");
        // Not even a broken one is reported: the conference method never reads it.
        let cd = j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "method": "conference"}}, "serverless_functions_domain": "https://x.io/path"}),
        );
        assert!(matches!(parse(&cd), Setup::Enabled(_)));
        // The call-leg method still needs it.
        let cd = j(
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer", "method": "call-leg"}}}),
        );
        assert_eq!(
            errors(parse(&cd)),
            vec!["serverless_functions_domain: missing: set the backend's host name"]
        );
    }

    #[test]
    fn seconds_as_milliseconds() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("2", Some(2_000)),
            ("0.5", Some(500)),
            ("1.25", Some(1_250)),
            ("0.0015", Some(1)),
            ("18446744073709551", Some(18_446_744_073_709_551_000)),
            ("18446744073709552", None),
            ("-1", None),
            ("1e+21", None),
            ("1.5e-7", None),
            ("1E2", None),
            ("Infinity", None),
            ("NaN", None),
            ("1.x", None),
            ("1.:", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(seconds_to_ms(text), *want, "{text}");
        }
    }

    #[test]
    fn accept_wait_bound() {
        let wait = |v: Value| match parse(&with(
            json!({"enabled": true, "method": "conference", "accept_wait_ms": v}),
        )) {
            Setup::Enabled(c) => Ok(c.accept_wait_ms),
            Setup::Invalid(e) => Err(e
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")),
            Setup::Disabled => Err("disabled".into()),
        };
        let bad = |found: &str| {
            Err(format!(
                "accept_wait_ms: must be a whole number of milliseconds from 0 to 1000, found {found}"
            ))
        };
        let cases: Vec<(Value, Result<u64, String>)> = vec![
            (Value::Null, Ok(DEFAULT_ACCEPT_WAIT_MS)),
            (json!(0), Ok(0)),
            (json!(150), Ok(150)),
            (json!(1000), Ok(1000)),
            (json!(1001), bad("1001")),
            (json!(-5), bad("-5")),
            (json!(2.5), bad("2.5")),
            // Numbers are read as JavaScript writes them: 1000.0 is 1000.
            (json!(1e3), Ok(1000)),
            (
                json!("200"),
                Err("accept_wait_ms: must be a number of milliseconds, found a string".into()),
            ),
        ];
        for (v, want) in cases {
            assert_eq!(wait(v.clone()), want, "{v}");
        }
        let Setup::Enabled(c) = parse(&with(json!({"enabled": true, "channel": "customer"})))
        else {
            panic!()
        };
        assert_eq!(c.accept_wait_ms, 200);
    }

    #[test]
    fn backend_location() {
        let base = |extra: Value| {
            let mut cd = json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}});
            for (k, v) in extra.as_object().unwrap() {
                cd[k] = v.clone();
            }
            parse(&j(cd))
        };
        let url = |s: Setup| match s {
            Setup::Enabled(c) => c.backend_url,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            url(base(
                json!({"serverless_functions_domain": "127.0.0.1:8787", "serverless_functions_protocol": "http"})
            )),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            url(base(
                json!({"serverless_functions_domain": "localhost", "serverless_functions_port": "3000", "serverless_functions_protocol": "http:"})
            )),
            "http://localhost:3000"
        );
        assert_eq!(
            url(base(
                json!({"serverless_functions_domain": "x.io", "serverless_functions_port": 8443})
            )),
            "https://x.io:8443"
        );
        assert_eq!(
            errors(base(json!({}))),
            vec!["serverless_functions_domain: missing: set the backend's host name"]
        );
        assert_eq!(
            errors(base(
                json!({"serverless_functions_domain": "https://x.io/path"})
            )),
            vec![
                r#"serverless_functions_domain: "https://x.io/path" is not a host name (write it without scheme or path)"#
            ]
        );
        assert_eq!(
            errors(base(
                json!({"serverless_functions_domain": "x.io", "serverless_functions_port": 0})
            )),
            vec!["serverless_functions_port: 0 is not a port number"]
        );
    }
}
