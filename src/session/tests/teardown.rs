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

/// A leg that starts recording while the task is paused is paused by the
/// core; if that pause is being retried (or is on its way) when the task
/// ends, it is not retried: it would pause again what the end resumed.
#[test]
fn an_automatic_pause_is_not_retried_after_the_task_ended() {
    // (the automatic pause's retry timer runs at the end?)
    for retrying in [true, false] {
        let (mut c, _) = core_with_pause("customer", json!({}));
        flex(&mut c, active(Some(A1)));
        flex(&mut c, task(T1, R1, json!({"direction": "inbound"})));
        flex(
            &mut c,
            FlexEvent::PauseState {
                task_sid: T1.into(),
                paused: true,
            },
        );
        let create = sends(&flex(&mut c, conf(T1, full(A1))))[0].0;
        let out = c.handle(Event::Answer {
            request: create,
            answer: ok(C1, "RE1", false),
        });
        assert_eq!(pauses(&out), vec![Some(C1.to_string())], "{retrying}");
        let pause = sends(&out)[0].0;
        let retry = if retrying {
            let out = c.handle(Event::Answer {
                request: pause,
                answer: Answer::Network("offline".into()),
            });
            Some(timers(&out)[0].0)
        } else {
            None
        };
        let out = flex(
            &mut c,
            FlexEvent::Ended {
                task_sid: T1.into(),
                reason: "completed".into(),
            },
        );
        assert_eq!(
            resumes(&out),
            vec![(Some(C1.to_string()), Some(CF.to_string()))]
        );
        if let Some(id) = retry {
            assert!(out.contains(&Command::CancelTimer { id }));
            assert!(sends(&c.handle(Event::Timer { id })).is_empty());
        } else {
            let out = c.handle(Event::Answer {
                request: pause,
                answer: Answer::Network("offline".into()),
            });
            assert!(timers(&out).is_empty(), "not retried after the end");
        }
        let resume = sends(&out)[0].0;
        c.handle(Event::Answer {
            request: resume,
            answer: Answer::http(200, r#"{"state":"recording","recordings":[]}"#),
        });
        assert!(c.idle(), "{retrying}");
    }
}
