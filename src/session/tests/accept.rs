//! Admission: which accepted tasks get a session, and which are left alone.

use super::*;

#[test]
fn exclusions_and_skips_never_start_anything() {
    let cases: Vec<(&str, &str, FlexEvent, &str)> = vec![
        (
            "customer",
            "excluded queue",
            {
                let mut e = task(T1, R1, json!({}));
                if let FlexEvent::TaskAccepted { task } = &mut e {
                    task.queue_name = Some("Billing".into());
                }
                e
            },
            "queue Billing is in exclude_queues",
        ),
        (
            "customer",
            "excluded attribute",
            task(
                T1,
                R1,
                json!({"customer": {"privacy": ["x", "no-recording"]}}),
            ),
            "attribute customer.privacy matches excluded value \"no-recording\"",
        ),
        (
            "customer",
            "internal inbound",
            task(T1, R1, json!({"client_call": true, "direction": "inbound"})),
            "inbound leg of an internal call",
        ),
        (
            "customer",
            "transfer already recorded",
            task(T1, R1, json!({"conversations": {"media": [{"url": "x"}]}})),
            "already recorded before a transfer",
        ),
    ];
    for (channel, name, accept, reason) in cases {
        let mut c = core(channel);
        flex(&mut c, active(Some(A1)));
        let out = flex(&mut c, accept);
        assert!(timers(&out).is_empty(), "{name}");
        assert!(
            sends(&flex(&mut c, conf(T1, full(A1)))).is_empty(),
            "{name}"
        );
        let st = c.status(T1);
        assert_eq!(
            (st.state, st.reason.as_deref()),
            ("excluded", Some(reason)),
            "{name}"
        );
    }
}

#[test]
fn non_voice_tasks_are_ignored() {
    let mut c = core("customer");
    let mut e = task(T1, R1, json!({}));
    if let FlexEvent::TaskAccepted { task } = &mut e {
        task.channel = Some("chat".into());
    }
    assert!(flex(&mut c, e).is_empty());
    assert_eq!(c.status(T1).state, "unknown");
}

#[test]
fn duplicate_accept_is_ignored() {
    let mut c = core("customer");
    flex(&mut c, task(T1, R1, json!({})));
    assert!(flex(&mut c, task(T1, R1, json!({}))).is_empty());
}

#[test]
fn unreadable_attributes_fail_closed_when_attribute_rules_exist() {
    let with_rules = json!({"enabled": true, "channel": "customer",
        "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}]});
    let queue_rules_only =
        json!({"enabled": true, "channel": "customer", "exclude_queues": ["Billing"]});
    // (configuration, attributes, recorded)
    let text = |t: &str| Attributes::parse(t);
    let cases: Vec<(&serde_json::Value, Attributes, bool)> = vec![
        (&with_rules, text(r#"{"direction":"inbound"}"#), true),
        (&with_rules, Attributes::default(), false),
        (&with_rules, text("[1,2]"), false),
        (&with_rules, text(r#""text""#), false),
        (&with_rules, text("null"), false),
        (
            &with_rules,
            Attributes::unreadable("a getter threw".into()),
            false,
        ),
        (
            &queue_rules_only,
            Attributes::unreadable("a getter threw".into()),
            true,
        ),
        (&queue_rules_only, text("[1,2]"), true),
    ];
    for (feature, attributes, recorded) in cases {
        let (mut c, _) = core_with(feature.clone());
        let out = flex(
            &mut c,
            FlexEvent::TaskAccepted {
                task: TaskSnapshot {
                    task_sid: T1.into(),
                    sid: R1.into(),
                    queue_name: Some("Sales".into()),
                    queue_sid: None,
                    channel: Some("voice".into()),
                    attributes: attributes.clone(),
                    date_updated: Some(1_700_000_000_000),
                },
            },
        );
        let status = c.status(T1);
        let label = format!("{feature} {attributes:?}");
        if recorded {
            assert_ne!(status.state, "excluded", "{label}");
            assert!(logs(&out, Level::Warn).is_empty(), "{label}");
        } else {
            assert_eq!(status.state, "excluded", "{label}");
            let warnings = logs(&out, Level::Warn);
            assert_eq!(warnings.len(), 1, "{label}: one warning");
            assert!(
                warnings[0].contains("exclude_attributes cannot be checked"),
                "{label}: {}",
                warnings[0]
            );
            // Later Flex state for the task starts nothing.
            let out = flex(&mut c, conf(T1, full(A1)));
            assert!(sends(&out).is_empty(), "{label}");
        }
    }
}

#[test]
fn events_for_unknown_tasks_and_bad_sids_are_harmless() {
    let mut c = core("customer");
    assert!(flex(&mut c, conf(T2, full(A1))).is_empty());
    assert!(flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: "nonsense".into()
        }
    )
    .is_empty());
    assert!(c.handle(Event::Timer { id: 999 }).is_empty());
    assert!(c
        .handle(Event::Answer {
            request: 999,
            answer: Answer::Network("x".into())
        })
        .is_empty());
    let out = flex(&mut c, task("WTnot-a-sid", R1, json!({})));
    assert_eq!(logs(&out, Level::Warn).len(), 1);
    let out = flex(&mut c, active(Some("../../etc")));
    assert!(out.is_empty());
}
