//! Legs: which leg is recorded, when, and by which instance.

use super::*;

#[test]
fn inbound_customer_channel_carried_here_starts_at_once() {
    let mut c = core("customer");
    let out = flex(&mut c, active(Some(A1)));
    assert!(sends(&out).is_empty());
    let out = flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    // Authorize ahead: one request at accept, before the legs join.
    assert_eq!(
        sends(&out),
        vec![(
            1,
            Outgoing::Authorize(AuthorizeRequest {
                token: String::new(),
                task_sid: T1.into(),
                reservation_sid: R1.into(),
            })
        )]
    );
    assert_eq!(timers(&out), vec![(2, 60_000)], "the wait limit");
    assert!(out.contains(&Command::Follow {
        task_sids: vec![T1.into()]
    }));
    assert_eq!(c.status(T1).state, "waiting");
    let out = flex(&mut c, conf(T1, full(A1)));
    let s = sends(&out);
    assert_eq!(s.len(), 1);
    let Outgoing::Create(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(req.call_sid, C1);
    assert_eq!(req.leg, Some(RecordedLeg::Customer));
    assert_eq!(req.target, Some(TargetKind::Conversation));
    assert_eq!(req.task_sid.as_deref(), Some(T1));
    assert_eq!(req.reservation_sid.as_deref(), Some(R1));
    assert_eq!(req.accepted_at, Some(1_700_000_000_000));
    assert_eq!(
        req.conference_sid, None,
        "inbound tasks carry their conference already"
    );
    assert!(req.token.is_empty(), "the shell adds the token");
    assert!(
        out.contains(&Command::CancelTimer { id: 2 }),
        "no longer waiting"
    );
    assert_eq!(
        c.followed(),
        &[T1.to_string()],
        "followed to its end: a pause of a recording that ended with its call is then known"
    );
    assert!(!c.idle());
    assert_eq!(c.status(T1).state, "starting");
    let out = c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(C1, "RE1", false),
    });
    assert!(out.contains(&Command::RecordingStarted {
        task_sid: T1.into(),
        call_sid: C1.into(),
        recording_sid: "RE1".into(),
        already_recording: false,
    }));
    assert_eq!(c.status(T1).state, "recording");
    assert_eq!(c.status(T1).recordings, vec!["RE1".to_string()]);
    assert!(c.idle());
    // Later conference changes change nothing.
    assert!(sends(&flex(&mut c, conf(T1, full(A2)))).is_empty());
}

#[test]
fn instance_with_no_call_of_its_own_acts_at_once() {
    // An agent on a phone number: no Flex tab carries the call, so none waits.
    let mut c = core("customer");
    flex(&mut c, task(T1, R1, json!({"direction": "inbound"})));
    let out = flex(&mut c, conf(T1, full(A1)));
    assert_eq!(created_call(&sends(&out)[0].1), C1);
    assert!(!timers(&out)
        .iter()
        .any(|(_, ms)| *ms == crate::session::DEFER_MS));
}

#[test]
fn instance_busy_with_another_call_defers_then_acts() {
    let mut c = core("customer");
    flex(&mut c, active(Some(B1)));
    flex(&mut c, task(T1, R1, json!({"direction": "inbound"})));
    let out = flex(&mut c, conf(T1, full(A1)));
    assert!(sends(&out).is_empty());
    let t = timers(&out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].1, crate::session::DEFER_MS);
    assert!(!c.idle(), "a deferred start is work in flight");
    let out = c.handle(Event::Timer { id: t[0].0 });
    assert_eq!(sends(&out).len(), 1);
    assert_eq!(created_call(&sends(&out)[0].1), C1);
}

#[test]
fn deferred_start_is_promoted_when_the_call_arrives_here() {
    let mut c = core("customer");
    flex(&mut c, active(Some(B1)));
    flex(&mut c, task(T1, R1, json!({})));
    let out = flex(&mut c, conf(T1, full(A1)));
    let defer = timers(&out)[0].0;
    let out = flex(&mut c, active(Some(A1)));
    assert!(out.contains(&Command::CancelTimer { id: defer }));
    assert_eq!(sends(&out).len(), 1);
    assert!(
        sends(&c.handle(Event::Timer { id: defer })).is_empty(),
        "a cancelled timer firing late does nothing"
    );
}

#[test]
fn worker_channel_join_call_back_and_forth_records_each_leg_once() {
    let mut c = core("worker");
    flex(&mut c, task(T1, R1, json!({"call_sid": C1})));
    flex(&mut c, active(Some(A1)));
    let out = flex(&mut c, conf(T1, full(A1)));
    let s = sends(&out);
    assert_eq!(s.len(), 1);
    let Outgoing::Create(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(
        (req.call_sid.as_str(), req.leg, req.target),
        (A1, Some(RecordedLeg::Worker), Some(TargetKind::Reservation))
    );
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(A1, "RE1", false),
    });
    assert_eq!(
        c.followed(),
        &[T1.to_string()],
        "the worker channel keeps following for Join Call"
    );
    // Join Call from another tab: this tab no longer carries the call and has
    // none of its own, so it asks at once (the backend answers both tabs with
    // the one recording).
    flex(&mut c, active(None));
    let moved = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", Some(A2), Some(ME)),
    ];
    let s = sends(&flex(&mut c, conf(T1, moved.clone())));
    assert_eq!(created_call(&s[0].1), A2);
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(A2, "RE2", true),
    });
    // The same state again changes nothing.
    assert!(sends(&flex(&mut c, conf(T1, moved))).is_empty());
    // And back to this tab on a third leg.
    flex(&mut c, active(Some(A3)));
    let back = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "left", Some(A2), Some(ME)),
        p("worker", "joined", Some(A3), Some(ME)),
    ];
    let s = sends(&flex(&mut c, conf(T1, back)));
    assert_eq!(created_call(&s[0].1), A3);
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(A3, "RE3", false),
    });
    assert_eq!(c.status(T1).recordings, vec!["RE1", "RE2", "RE3"]);
}

#[test]
fn customer_channel_ignores_join_call() {
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(C1, "RE1", false),
    });
    flex(&mut c, active(Some(A2)));
    let moved = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", Some(A2), Some(ME)),
    ];
    assert!(sends(&flex(&mut c, conf(T1, moved))).is_empty());
}

#[test]
fn a_deferred_leg_that_stops_being_live_is_never_started() {
    let mut c = core("worker");
    flex(&mut c, active(Some(B1)));
    flex(&mut c, task(T1, R1, json!({})));
    let first = timers(&flex(&mut c, conf(T1, full(A1))))[0].0;
    let moved = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", Some(A2), Some(ME)),
    ];
    let out = flex(&mut c, conf(T1, moved));
    assert!(out.contains(&Command::CancelTimer { id: first }));
    assert!(sends(&c.handle(Event::Timer { id: first })).is_empty());
}

#[test]
fn worker_channel_records_transfers_to_this_worker() {
    let mut c = core("worker");
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(
            T1,
            R1,
            json!({"conversations": {"media": [{"url": "earlier"}]}}),
        ),
    );
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    assert_eq!(created_call(&s[0].1), A1);
}

#[test]
fn internal_outbound_records_this_instances_call() {
    let mut c = core("customer");
    flex(
        &mut c,
        task(
            T2,
            R2,
            json!({"client_call": true, "direction": "outbound", "to": "client:bob"}),
        ),
    );
    assert_eq!(c.status(T2).state, "waiting");
    let s = sends(&flex(&mut c, active(Some(B1))));
    let Outgoing::Create(req) = &s[0].1 else {
        panic!()
    };
    assert_eq!(
        (req.call_sid.as_str(), req.leg),
        (B1, Some(RecordedLeg::Worker))
    );
}

#[test]
fn worker_leg_whose_call_sid_arrives_late() {
    let mut c = core("worker");
    flex(&mut c, active(Some(A1)));
    flex(&mut c, task(T1, R1, json!({})));
    let no_sid = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "joined", None, Some(ME)),
    ];
    assert!(sends(&flex(&mut c, conf(T1, no_sid))).is_empty());
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    assert_eq!(created_call(&s[0].1), A1);
}
