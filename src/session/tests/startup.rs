//! Start-up diagnostics: what the log and the notification say about the configuration.

use super::*;
use crate::session::Worker;

#[test]
fn misconfiguration_notifies_once_and_stays_inert() {
    let (mut c, out) = core_with(json!({"enabled": true, "channel": "agent"}));
    let notes: Vec<_> = out
        .iter()
        .filter(|c| matches!(c, Command::Notify { .. }))
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(matches!(
        notes[0],
        Command::Notify {
            id: "PSDualChannelBroken",
            ..
        }
    ));
    assert_eq!(
        logs(&out, Level::Error)[0],
        r#"misconfigured: channel: must be "customer" or "worker", found "agent""#
    );
    assert!(!c.is_enabled());
    assert!(flex(&mut c, task(T1, R1, json!({}))).is_empty());
    assert!(flex(&mut c, conf(T1, full(A1))).is_empty());
    let (_, out) = Core::new::<&serde_json::Value>(Err("a BigInt".into()), ME, "pt-BR", 1);
    assert!(out
        .iter()
        .any(|c| matches!(c, Command::Notify { text, .. } if text.starts_with("A função"))));
    let (c, out) = core_with(json!({"enabled": false}));
    assert!(!out.iter().any(|c| matches!(c, Command::Notify { .. })));
    assert!(!c.is_enabled());
}

#[test]
fn flex_call_recording_on_warns_once_at_start() {
    let enabled = json!({"enabled": true, "channel": "customer"});
    // (feature, Flex's Call Recording, warnings)
    let cases = [
        (enabled.clone(), true, 1),
        (enabled.clone(), false, 0),
        (json!({"enabled": false}), true, 0),
        (json!({"enabled": true, "channel": "agent"}), true, 0),
    ];
    for (feature, on, want) in cases {
        let (mut c, _) = core_with(feature.clone());
        let mut warnings = Vec::new();
        for _ in 0..3 {
            let out = flex(&mut c, FlexEvent::FlexCallRecording { enabled: on });
            warnings.extend(logs(&out, Level::Warn));
        }
        assert_eq!(warnings.len(), want, "{feature} {on}: {warnings:?}");
        if want == 1 {
            assert!(warnings[0].contains("recorded twice"), "{}", warnings[0]);
            assert!(warnings[0].contains("call_recording_enabled"));
        }
    }
}

/// The conference method with Flex's Call Recording off records conferences
/// Flex Insights cannot reach: the console says so once, and administrators
/// are told once (agents see nothing: the shim shows `NotifyAdmins` only to
/// the `admin` role).
#[test]
fn conference_method_without_flex_call_recording_warns_admins_once() {
    let conference = json!({"enabled": true, "method": "conference"});
    // (feature, Flex's Call Recording, warnings and notices)
    let cases = [
        (conference.clone(), false, 1),
        (conference.clone(), true, 0),
        (json!({"enabled": true, "channel": "customer"}), false, 0),
        (json!({"enabled": false, "method": "conference"}), false, 0),
    ];
    for (feature, on, want) in cases {
        let (mut c, _) = core_with(feature.clone());
        let (mut warnings, mut notices) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let out = flex(&mut c, FlexEvent::FlexCallRecording { enabled: on });
            warnings.extend(logs(&out, Level::Warn));
            notices.extend(out.into_iter().filter_map(|cmd| match cmd {
                Command::NotifyAdmins { id, text } => Some((id, text)),
                _ => None,
            }));
        }
        assert_eq!(
            (warnings.len(), notices.len()),
            (want, want),
            "{feature} {on}"
        );
        if want == 1 {
            assert!(
                warnings[0].contains("Flex Insights cannot reach"),
                "{}",
                warnings[0]
            );
            assert_eq!(
                notices[0],
                (crate::strings::ADMIN_NOTICE_ID, warnings[0].as_str())
            );
        }
    }
}

#[test]
fn invalid_pause_configuration_is_reported_with_its_path_and_pausing_is_off() {
    let (c, out) = core_with_pause(
        "customer",
        json!({"enabled": "yes", "max_pause_seconds": -1}),
    );
    let errors = logs(&out, Level::Error);
    assert!(
        errors
            .iter()
            .any(|l| l.contains("features.pause_recording.enabled")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|l| l.contains("features.pause_recording.max_pause_seconds")),
        "{errors:?}"
    );
    let notes = out
        .iter()
        .filter(|c| matches!(c, Command::Notify { .. }))
        .count();
    assert_eq!(notes, 1);
    assert!(c.is_enabled(), "recording itself goes on");
    assert!(c.pause_config().is_none());
    let mut c = c;
    recording_customer_leg(&mut c);
    let err = c.control_request(T1, ControlAction::Pause).unwrap_err();
    assert!(err.contains("pause_recording is invalid"), "{err}");
}

/// Pausing Flex's conference recording needs the backend: without its
/// location the administrator is told the path, and pausing is off.
#[test]
fn conference_method_pausing_without_backend_url_says_where() {
    let data = json!({
        "features": {
            "dual_channel_recording": {"enabled": true, "method": "conference"},
            "pause_recording": {"enabled": true}
        }
    });
    let (c, out) = Core::new(Ok(&data), ME, "en-US", 7);
    assert!(c.is_enabled(), "recording decisions go on");
    assert!(c.pause_config().is_none(), "pausing is off");
    assert!(out.iter().any(|cmd| matches!(cmd, Command::Log { level: Level::Error, message } if message.contains("features.dual_channel_recording.backend_url: missing"))), "{out:?}");
    assert!(out.iter().any(|cmd| matches!(cmd, Command::Notify { .. })));
}

#[test]
fn template_feature_beside_the_own_block_is_logged_and_shown_to_admins_only() {
    let data = json!({
        "plugin_dual_channel_recording": {"enabled": true, "channel": "customer",
            "backend_url": "https://r.example.com", "pause_recording": {"enabled": true}},
        "features": {"dual_channel_recording": {"enabled": true}, "pause_recording": {"enabled": true}}
    });
    let notified = |out: &[Command]| -> Vec<&'static str> {
        out.iter()
            .filter_map(|c| match c {
                Command::Notify { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    };
    let roles = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (who, want) in [
        (roles(&["agent"]), vec![]),
        (roles(&[]), vec![]),
        (roles(&["supervisor"]), vec![]),
        (
            roles(&["agent", "admin"]),
            vec![crate::strings::TEMPLATE_CONFLICT_NOTIFICATION_ID],
        ),
    ] {
        let worker = Worker {
            attributes: None,
            roles: &who,
        };
        let (c, out) = Core::for_worker(Ok(&data), worker, ME, "en-US", 7);
        assert!(c.is_enabled());
        assert_eq!(notified(&out), want, "{who:?}");
        // Every user's console says it, once per feature.
        let warns = logs(&out, Level::Warn);
        assert_eq!(warns.len(), 2, "{warns:?}");
        assert!(warns[0].contains("features.dual_channel_recording.enabled is true"));
        assert!(warns[1].contains("features.pause_recording.enabled is true"));
    }
    // The worker's own override switches the template's features off: no conflict.
    let attrs = json!({"config_overrides": {"features": {
        "dual_channel_recording": {"enabled": false}, "pause_recording": {"enabled": false}}}});
    let admin = roles(&["admin"]);
    let (_, out) = Core::for_worker(
        Ok(&data),
        Worker {
            attributes: Some(&attrs),
            roles: &admin,
        },
        ME,
        "en-US",
        7,
    );
    assert!(notified(&out).is_empty());
    assert!(logs(&out, Level::Warn).is_empty());
}

#[test]
fn the_own_blocks_problems_are_logged_with_its_name() {
    let data = json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"}});
    let (_, out) = Core::new(Ok(&data), ME, "en-US", 7);
    let errors = logs(&out, Level::Error);
    assert_eq!(
        errors,
        [
            "misconfigured: plugin_dual_channel_recording.backend_url: missing: set the backend's origin, such as \"https://recordings.example.com\" (or the template's serverless_functions_domain)",
            "not recording any call until custom_data.plugin_dual_channel_recording is fixed"
        ]
    );
    let data = json!({"plugin_dual_channel_recording": {"enabled": true, "method": "conference",
        "pause_recording": {"enabled": true}}});
    let (_, out) = Core::new(Ok(&data), ME, "en-US", 7);
    assert!(
        logs(&out, Level::Error)[0].starts_with(
            "misconfigured: plugin_dual_channel_recording.backend_url: missing (or the template's serverless_functions_domain)"
        ),
        "{out:?}"
    );
}
