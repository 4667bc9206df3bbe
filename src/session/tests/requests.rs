//! Requests besides the recording: the conference link of outbound calls and authorize-ahead.

use super::*;

#[test]
fn outbound_waits_for_the_answer_then_links_call_and_conference() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({"direction": "outbound"})));
    assert!(sends(&flex(
        &mut c,
        conf(T1, vec![p("worker", "joined", Some(A1), Some(ME))])
    ))
    .is_empty());
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let Outgoing::Create(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(req.call_sid, C1);
    assert_eq!(req.conference_sid.as_deref(), Some(CF));
    assert_eq!(req.customer_call_sid.as_deref(), Some(C1));
    // The recording request links the conference: hangup/complete add nothing.
    assert!(sends(&flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into()
        }
    ))
    .is_empty());
    assert!(sends(&flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into()
        }
    ))
    .is_empty());
}

#[test]
fn outbound_worker_channel_sends_the_customer_call_sid() {
    let mut c = core("worker");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({"direction": "outbound"})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let Outgoing::Create(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(req.call_sid, A1);
    assert_eq!(
        req.customer_call_sid.as_deref(),
        Some(C1),
        "call_sid is always the customer's call"
    );
}

#[test]
fn outbound_hung_up_unanswered_still_links_the_conference_once() {
    let mut c = core("customer");
    flex(&mut c, task(T1, R1, json!({"direction": "outbound"})));
    flex(
        &mut c,
        conf(T1, vec![p("worker", "joined", Some(A1), Some(ME))]),
    );
    let s = sends(&flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into(),
        },
    ));
    assert_eq!(s.len(), 1);
    let Outgoing::Link(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(
        (
            req.task_sid.as_str(),
            req.conference_sid.as_deref(),
            req.customer_call_sid.as_deref()
        ),
        (T1, Some(CF), None)
    );
    // CompleteTask may wait for the link, boundedly; other tasks are not held.
    assert!(c.request_pending(T1));
    assert_eq!(c.complete_hold_ms(T1), crate::session::COMPLETE_HOLD_MS);
    assert_eq!(c.complete_hold_ms(T2), 0);
    assert!(sends(&flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into()
        }
    ))
    .is_empty());
    let out = flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "completed".into(),
        },
    );
    assert!(sends(&out).is_empty());
    assert!(!c.idle(), "the link request outlives the task");
    c.handle(Event::Answer {
        request: s[0].0,
        answer: Answer::http(200, r#"{"success":true,"changed":true}"#),
    });
    assert!(c.idle());
    assert!(!c.request_pending(T1));
    assert_eq!(c.complete_hold_ms(T1), 0);
}

#[test]
fn completing_an_outbound_task_after_giving_up_still_links() {
    let mut c = core("customer");
    let out = flex(&mut c, task(T1, R1, json!({"direction": "outbound"})));
    let wait = timers(&out)[0].0;
    flex(
        &mut c,
        conf(T1, vec![p("worker", "joined", Some(A1), Some(ME))]),
    );
    let out = c.handle(Event::Timer { id: wait });
    assert_eq!(
        logs(&out, Level::Warn),
        vec![format!(
            "not recording {T1}: no recordable call leg appeared within 60 s"
        )]
    );
    assert!(out.contains(&Command::Follow { task_sids: vec![] }));
    assert!(
        sends(&flex(&mut c, conf(T1, full(A1)))).is_empty(),
        "stopped waiting"
    );
    let s = sends(&flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into(),
        },
    ));
    assert!(matches!(&s[0].1, Outgoing::Link(_)));
}

#[test]
fn inbound_tasks_with_a_conference_attribute_need_no_link() {
    let mut c = core("customer");
    flex(
        &mut c,
        task(
            T1,
            R1,
            json!({"direction": "outbound", "conference": {"sid": CF}}),
        ),
    );
    assert!(sends(&flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into()
        }
    ))
    .is_empty());
}

/// Authorize ahead is sent once per task that will be recorded, by the
/// call-leg method only, and is never what keeps the core busy or retrying.
#[test]
fn authorize_ahead_only_for_tasks_that_will_be_recorded() {
    let cases = [
        (
            json!({"enabled": true, "channel": "customer"}),
            json!({}),
            1,
        ),
        (json!({"enabled": true, "channel": "worker"}), json!({}), 1),
        (
            json!({"enabled": true, "channel": "customer", "method": "call-leg"}),
            json!({}),
            1,
        ),
        (
            json!({"enabled": true, "channel": "customer", "method": "conference"}),
            json!({}),
            0,
        ),
        (
            json!({"enabled": true, "channel": "customer", "exclude_queues": ["Sales"]}),
            json!({}),
            0,
        ),
        (
            json!({"enabled": true, "channel": "customer", "exclude_attributes": [{"key": "x", "value": 1}]}),
            json!({"x": 1}),
            0,
        ),
        (
            json!({"enabled": false, "channel": "customer"}),
            json!({}),
            0,
        ),
        // Already recorded before a transfer (customer channel): nothing to authorize.
        (
            json!({"enabled": true, "channel": "customer"}),
            json!({"conversations": {"media": [{"type": "VoiceRecording", "url": "u"}]}}),
            0,
        ),
    ];
    for (feature, attrs, want) in cases {
        let (mut c, _) = core_with(feature.clone());
        let out = flex(&mut c, task(T1, R1, attrs.clone()));
        assert_eq!(authorizes(&out).len(), want, "{feature} {attrs}");
        // A second accepted event for the same task sends nothing more.
        let again = flex(&mut c, task(T1, R1, attrs.clone()));
        assert!(authorizes(&again).is_empty(), "{feature}");
    }
}

#[test]
fn authorize_answers_are_logged_never_retried_and_change_nothing() {
    let answers = [
        (
            Answer::http(200, r#"{"success":true,"validForMs":15000}"#),
            Level::Debug,
        ),
        (
            Answer::http(
                403,
                r#"{"success":false,"code":"excluded","message":"m","rule":"exclude_queues: Sales"}"#,
            ),
            Level::Info,
        ),
        (Answer::http(503, ""), Level::Debug),
        (Answer::Network("refused".into()), Level::Debug),
    ];
    for (answer, level) in answers {
        let mut c = core("customer");
        flex(&mut c, active(Some(A1)));
        let out = flex(&mut c, task(T1, R1, json!({})));
        let id = authorizes(&out)[0];
        assert!(
            c.idle(),
            "an authorize on its way is not work the runner waits for"
        );
        let out = c.handle(Event::Answer {
            request: id,
            answer: answer.clone(),
        });
        assert!(timers(&out).is_empty(), "{answer:?}");
        assert!(sends(&out).is_empty(), "{answer:?}");
        assert_eq!(logs(&out, level).len(), 1, "{answer:?}");
        // The recording request goes out as without it.
        let s = sends(&flex(&mut c, conf(T1, full(A1))));
        assert_eq!(s.len(), 1);
        assert_eq!(created_call(&s[0].1), C1);
        // A repeated answer to the same id is ignored.
        assert!(c
            .handle(Event::Answer {
                request: id,
                answer
            })
            .is_empty());
    }
}

#[test]
fn an_authorize_answer_after_the_task_ended_is_ignored() {
    let mut c = core("customer");
    let id = authorizes(&flex(&mut c, task(T1, R1, json!({}))))[0];
    flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "canceled".into(),
        },
    );
    let out = c.handle(Event::Answer {
        request: id,
        answer: Answer::http(403, r#"{"success":false,"code":"disabled","message":"m"}"#),
    });
    assert!(out.is_empty(), "{out:?}");
    assert!(c.idle());
}
