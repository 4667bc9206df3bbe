//! The end of a task: its timers and retries end with it.

use super::*;

#[test]
fn cancel_while_waiting_ends_everything() {
    let mut c = core("worker");
    let out = flex(&mut c, task(T1, R1, json!({})));
    let wait = timers(&out)[0].0;
    let out = flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "canceled".into(),
        },
    );
    assert!(out.contains(&Command::CancelTimer { id: wait }));
    assert!(out.contains(&Command::Follow { task_sids: vec![] }));
    assert_eq!(c.status(T1).state, "done");
    assert!(flex(&mut c, conf(T1, full(A1))).is_empty());
    assert!(c.idle());
}

#[test]
fn cancel_while_deferred_or_retrying_cancels_those_timers() {
    let mut c = core("customer");
    flex(&mut c, active(Some(B1)));
    flex(&mut c, task(T1, R1, json!({})));
    let defer = timers(&flex(&mut c, conf(T1, full(A1))))[0].0;
    let out = flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "canceled".into(),
        },
    );
    assert!(out.contains(&Command::CancelTimer { id: defer }));
    assert!(c.idle());

    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let retry = timers(&c.handle(Event::Answer {
        request: s[0].0,
        answer: Answer::Network("refused".into()),
    }))[0]
        .0;
    let out = flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "completed".into(),
        },
    );
    assert!(out.contains(&Command::CancelTimer { id: retry }));
    assert!(c.idle());
}

#[test]
fn a_request_in_flight_when_the_task_ends_is_not_retried() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "canceled".into(),
        },
    );
    let out = c.handle(Event::Answer {
        request: s[0].0,
        answer: Answer::http(503, ""),
    });
    assert!(timers(&out).is_empty());
    assert!(c.idle());
}

#[test]
fn a_recording_answered_after_the_task_ended_shows_in_its_status() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "completed".into(),
        },
    );
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(C1, "RE1", false),
    });
    let st = c.status(T1);
    assert_eq!((st.state, st.recordings), ("done", vec!["RE1".to_string()]));
}
