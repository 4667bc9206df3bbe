//! What a backend answer means: retried, given up, refused.

use super::*;

#[test]
fn retries_with_backoff_then_gives_up_after_ten_attempts() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let (request, first) = s[0].clone();
    for attempt in 1..10 {
        let out = c.handle(Event::Answer {
            request,
            answer: Answer::http(429, ""),
        });
        let t = timers(&out);
        assert_eq!(t.len(), 1, "attempt {attempt}");
        assert!(t[0].1 <= 3_000);
        let resend = sends(&c.handle(Event::Timer { id: t[0].0 }));
        assert_eq!(
            resend,
            vec![(request, first.clone())],
            "the same request again"
        );
    }
    let out = c.handle(Event::Answer {
        request,
        answer: Answer::Network("refused".into()),
    });
    assert!(timers(&out).is_empty());
    assert_eq!(logs(&out, Level::Error).len(), 1);
    assert!(logs(&out, Level::Error)[0].starts_with("gave up recording"));
    assert_eq!(c.status(T1).state, "failed");
    assert!(c.idle());
}

#[test]
fn call_not_in_progress_is_not_retried() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let out = c.handle(Event::Answer {
        request: s[0].0,
        answer: Answer::http(409, r#"{"success":false,"message":"Call is not in-progress. Cannot create recording.","code":21220}"#),
    });
    assert!(timers(&out).is_empty());
    assert_eq!(
        logs(&out, Level::Error),
        vec![format!("could not record {C1} for {T1}: the call is no longer in progress (Twilio 21220: Call is not in-progress. Cannot create recording.)")]
    );
}

#[test]
fn policy_refusal_is_logged_at_info_and_not_retried() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let out = c.handle(Event::Answer {
        request: s[0].0,
        answer: Answer::http(403, r#"{"success":false,"code":"excluded","message":"task is excluded","rule":"exclude_queues: Sales"}"#),
    });
    assert!(timers(&out).is_empty());
    assert!(sends(&out).is_empty());
    assert!(logs(&out, Level::Error).is_empty() && logs(&out, Level::Warn).is_empty());
    assert_eq!(
        logs(&out, Level::Info),
        vec![format!("not recording {C1} for {T1}: the backend's recording policy refused it: task is excluded (rule: exclude_queues: Sales; code excluded)")]
    );
    assert!(c.idle());
}
