use super::*;
use crate::config::{Channel, Method};
use serde_json::{json, Value};

const DOMAIN: &str = "functions.example.com";

fn cd(v: Value) -> Value {
    let mut v = v;
    v["serverless_functions_domain"] = json!(DOMAIN);
    v
}

fn errors(s: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if let Setup::Invalid(e) = &s.recording {
        out.extend(e.iter().map(ToString::to_string));
    }
    if let Err(e) = &s.pause {
        out.extend(e.iter().map(ToString::to_string));
    }
    out
}

/// What a case resolves to, in a line a table can state.
fn summary(s: &Settings) -> String {
    let rec = match &s.recording {
        Setup::Disabled => "off".to_string(),
        Setup::Invalid(_) => "invalid".to_string(),
        Setup::Enabled(c) => format!(
            "{}/{} q{:?} a{} {}",
            match c.method {
                Method::CallLeg => "call-leg",
                Method::Conference => "conference",
            },
            match c.channel {
                Channel::Customer => "customer",
                Channel::Worker => "worker",
            },
            c.exclude_queues,
            c.exclude_attributes.len(),
            c.backend_url
        ),
    };
    let pause = match &s.pause {
        Ok(p) if p.enabled => format!("pause(silence={})", p.include_silence),
        Ok(_) => "no pause".into(),
        Err(_) => "pause invalid".into(),
    };
    format!("{:?}: {rec}; {pause}", s.block)
}

#[test]
fn which_block_is_read_and_what_it_says() {
    let own = |v: Value| cd(json!({ "plugin_dual_channel_recording": v }));
    let cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "own block alone, template features absent",
            own(json!({"enabled": true, "channel": "worker", "pause_recording": {"enabled": true}})),
            json!({}),
            "Own: call-leg/worker q[] a0 https://functions.example.com; pause(silence=false)",
        ),
        (
            "own block wins: the template's keys are not read for behaviour",
            cd(json!({
                "plugin_dual_channel_recording": {"enabled": true, "channel": "customer"},
                "features": {"dual_channel_recording": {"enabled": true, "channel": "bogus"},
                             "pause_recording": {"enabled": "yes"}}})),
            json!({}),
            "Own: call-leg/customer q[] a0 https://functions.example.com; no pause",
        ),
        (
            "own block switched off while the template's feature is off too",
            cd(json!({
                "plugin_dual_channel_recording": {"enabled": false},
                "features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}})),
            json!({}),
            "Own: off; no pause",
        ),
        (
            "own block absent: the template's keys as before",
            cd(json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"},
                                   "pause_recording": {"enabled": true, "include_silence": true}}})),
            json!({}),
            "Template: call-leg/customer q[] a0 https://functions.example.com; pause(silence=true)",
        ),
        (
            "own block null counts as absent",
            cd(json!({"plugin_dual_channel_recording": null,
                      "features": {"dual_channel_recording": {"enabled": true, "channel": "worker"}}})),
            json!({}),
            "Template: call-leg/worker q[] a0 https://functions.example.com; no pause",
        ),
        (
            "a worker's override deep-merged into the own block",
            own(json!({"enabled": true, "channel": "customer", "exclude_queues": ["A", "B"]})),
            json!({"config_overrides": {"plugin_dual_channel_recording": {"channel": "worker", "exclude_queues": ["Z"]}}}),
            "Own: call-leg/worker q[\"Z\", \"B\"] a0 https://functions.example.com; no pause",
        ),
        (
            "a worker's override of the template's keys",
            cd(json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}})),
            json!({"config_overrides": {"features": {"dual_channel_recording": {"enabled": false}}}}),
            "Template: off; no pause",
        ),
        (
            "an override may bring the own block for one worker",
            cd(json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}})),
            json!({"config_overrides": {"plugin_dual_channel_recording": {"enabled": true, "channel": "worker"}}}),
            "Own: call-leg/worker q[] a0 https://functions.example.com; no pause",
        ),
        (
            "config_overrides that is not an object is ignored",
            own(json!({"enabled": true, "channel": "customer"})),
            json!({"config_overrides": "channel=worker"}),
            "Own: call-leg/customer q[] a0 https://functions.example.com; no pause",
        ),
        (
            "other worker attributes are not configuration",
            own(json!({"enabled": true, "channel": "customer"})),
            json!({"plugin_dual_channel_recording": {"enabled": false}, "skills": ["x"]}),
            "Own: call-leg/customer q[] a0 https://functions.example.com; no pause",
        ),
        (
            "conference method with pausing finds the backend through serverless_functions_*",
            own(json!({"enabled": true, "method": "conference", "pause_recording": {"enabled": true}})),
            json!({}),
            "Own: conference/customer q[] a0 https://functions.example.com; pause(silence=false)",
        ),
        (
            "conference method, the template's block, serverless_functions_* too",
            cd(json!({"features": {"dual_channel_recording": {"enabled": true, "method": "conference"},
                                   "pause_recording": {"enabled": true}}})),
            json!({}),
            "Template: conference/customer q[] a0 https://functions.example.com; pause(silence=false)",
        ),
    ];
    for (name, custom_data, attributes, want) in cases {
        let s = resolve(&custom_data, Some(&attributes));
        assert_eq!(summary(&s), want, "{name}: {:?}", errors(&s));
        assert_eq!(
            s.overridden,
            attributes
                .get("config_overrides")
                .is_some_and(Value::is_object),
            "{name}"
        );
    }
}

#[test]
fn problems_name_the_block_actually_read() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"}}),
            vec!["plugin_dual_channel_recording.backend_url: missing: set the backend's origin"],
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"},
                   "serverless_functions_domain": "https://x.io/path"}),
            vec!["serverless_functions_domain: \"https://x.io/path\" is not a host name"],
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer", "backend_url": 8}}),
            vec!["plugin_dual_channel_recording.backend_url: must be an origin"],
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "agent",
                   "exclude_attributes": [{"value": 1}], "backend_url": "https://r.example.com"}}),
            vec![
                "plugin_dual_channel_recording.channel: must be",
                "plugin_dual_channel_recording.exclude_attributes[0].key: missing",
            ],
        ),
        (
            json!({"plugin_dual_channel_recording": true}),
            vec!["plugin_dual_channel_recording: must be an object, found a boolean"],
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": false, "pause_recording": {"indicator_banner": 1, "max_pause_seconds": -1}}}),
            vec![
                "plugin_dual_channel_recording.pause_recording.indicator_banner: must be true or false",
                "plugin_dual_channel_recording.pause_recording.max_pause_seconds: must be",
            ],
        ),
        (
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "agent"},
                                "pause_recording": {"enabled": 1}}, "serverless_functions_domain": DOMAIN}),
            vec!["channel: must be", "features.pause_recording.enabled: must be true or false"],
        ),
    ];
    for (custom_data, want) in cases {
        let got = errors(&resolve(&custom_data, None));
        assert_eq!(got.len(), want.len(), "{custom_data}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.starts_with(w),
                "{custom_data}: {g} does not start with {w}"
            );
        }
    }
}

#[test]
fn the_policy_reads_the_same_rules_without_the_backend_location() {
    let custom_data = json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer",
        "exclude_queues": ["Sales"]}});
    let worker = json!({"config_overrides": {"plugin_dual_channel_recording": {"exclude_queues": ["Sales", "VIP"]}}});
    // No serverless_functions_domain: the browser cannot reach a backend...
    assert!(matches!(
        resolve(&custom_data, Some(&worker)).recording,
        Setup::Invalid(_)
    ));
    // ...the backend applies the rules all the same.
    let Setup::Enabled(c) = resolve_policy(&custom_data, Some(&worker)).recording else {
        panic!("policy")
    };
    assert_eq!(c.exclude_queues, ["Sales", "VIP"]);
    assert_eq!(c.backend_url, "");
}

#[test]
fn a_template_feature_on_beside_the_own_block_is_a_conflict() {
    use TemplateFeature::*;
    let on = json!({"enabled": true});
    let cases: Vec<(Value, Value, Vec<TemplateFeature>)> = vec![
        // Both of the template's features on, both of ours on.
        (
            json!({"enabled": true, "channel": "customer", "pause_recording": {"enabled": true}}),
            json!({"dual_channel_recording": on, "pause_recording": on}),
            vec![DualChannelRecording, PauseRecording],
        ),
        // Ours records, the template only pauses.
        (
            json!({"enabled": true, "channel": "customer"}),
            json!({"dual_channel_recording": {"enabled": false}, "pause_recording": on}),
            vec![],
        ),
        (
            json!({"enabled": true, "channel": "customer", "pause_recording": {"enabled": true}}),
            json!({"pause_recording": on}),
            vec![PauseRecording],
        ),
        // Ours is off: the template records alone, once.
        (
            json!({"enabled": false}),
            json!({"dual_channel_recording": on}),
            vec![],
        ),
        // `enabled` must be exactly true, as the template tests it.
        (
            json!({"enabled": true, "channel": "customer"}),
            json!({"dual_channel_recording": {"enabled": "true"}}),
            vec![],
        ),
    ];
    for (own, features, want) in cases {
        let custom_data = cd(json!({"plugin_dual_channel_recording": own, "features": features}));
        assert_eq!(resolve(&custom_data, None).conflicts, want, "{custom_data}");
    }
    // Without the own block, the template's keys are ours: no conflict.
    let template = cd(
        json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}, "pause_recording": on}}),
    );
    assert!(resolve(&template, None).conflicts.is_empty());
    // A worker's override can switch the template's feature off for that worker.
    let custom_data = cd(
        json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"},
        "features": {"dual_channel_recording": on}}),
    );
    let worker =
        json!({"config_overrides": {"features": {"dual_channel_recording": {"enabled": false}}}});
    assert!(resolve(&custom_data, Some(&worker)).conflicts.is_empty());
    assert!(DualChannelRecording
        .message()
        .contains("set features.dual_channel_recording.enabled to false"));
}
