//! Table and timeline tests of the state machine, natively.

use crate::api::{AuthorizeRequest, TargetKind};
use crate::attributes::Attributes;
use crate::backend_client::{Answer, Jitter};
use crate::insights::RecordedLeg;
use crate::session::{Command, Core, Event, FlexEvent, Level, Outgoing};
use crate::snapshot::{ConferenceSnapshot, Participant, TaskSnapshot};
use serde_json::json;

const ME: &str = "WK00000000000000000000000000000001";
const T1: &str = "WT00000000000000000000000000000001";
const T2: &str = "WT00000000000000000000000000000002";
const R1: &str = "WR00000000000000000000000000000001";
const R2: &str = "WR00000000000000000000000000000002";
const CF: &str = "CF00000000000000000000000000000001";
const C1: &str = "CA000000000000000000000000000000c1";
const A1: &str = "CA000000000000000000000000000000a1";
const A2: &str = "CA000000000000000000000000000000a2";
const A3: &str = "CA000000000000000000000000000000a3";
const B1: &str = "CA000000000000000000000000000000b1";

fn custom_data(feature: serde_json::Value) -> serde_json::Value {
    json!({
        "features": {"dual_channel_recording": feature},
        "serverless_functions_domain": "127.0.0.1:8787",
        "serverless_functions_protocol": "http"
    })
}

fn core_with(feature: serde_json::Value) -> (Core, Vec<Command>) {
    Core::new(Ok(&custom_data(feature)), ME, "en-US", 42)
}

fn core(channel: &str) -> Core {
    core_with(
        json!({"enabled": true, "channel": channel, "exclude_queues": ["Billing"],
        "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}]}),
    )
    .0
}

fn task(sid: &str, wr: &str, attrs: serde_json::Value) -> FlexEvent {
    FlexEvent::TaskAccepted {
        task: TaskSnapshot {
            task_sid: sid.into(),
            sid: wr.into(),
            queue_name: Some("Sales".into()),
            queue_sid: Some("WQ00000000000000000000000000000001".into()),
            channel: Some("voice".into()),
            attributes: Attributes::new(attrs),
            date_updated: Some(1_700_000_000_000),
        },
    }
}

fn p(kind: &str, status: &str, call: Option<&str>, worker: Option<&str>) -> Participant {
    Participant {
        participant_type: Some(kind.into()),
        status: Some(status.into()),
        call_sid: call.map(Into::into),
        worker_sid: worker.map(Into::into),
        reservation_sid: None,
        is_current_worker: worker.map(|w| w == ME),
    }
}

fn conf(task_sid: &str, participants: Vec<Participant>) -> FlexEvent {
    FlexEvent::Conference {
        task_sid: task_sid.into(),
        conference: Some(ConferenceSnapshot {
            conference_sid: Some(CF.into()),
            participants,
        }),
    }
}

fn full(worker_leg: &str) -> Vec<Participant> {
    vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "joined", Some(worker_leg), Some(ME)),
    ]
}

fn active(call: Option<&str>) -> FlexEvent {
    FlexEvent::ActiveCall {
        call_sid: call.map(Into::into),
    }
}

fn flex(c: &mut Core, e: FlexEvent) -> Vec<Command> {
    c.handle(Event::Flex(e))
}

fn sends(cmds: &[Command]) -> Vec<(u64, Outgoing)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send { request, body, .. } => Some((*request, body.clone())),
            _ => None,
        })
        .collect()
}

fn created_call(o: &Outgoing) -> &str {
    match o {
        Outgoing::Create(r) => &r.call_sid,
        Outgoing::Link(_) | Outgoing::Control { .. } | Outgoing::Authorize(_) => {
            panic!("expected a create request")
        }
    }
}

fn timers(cmds: &[Command]) -> Vec<(u64, u64)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::SetTimer { id, ms } => Some((*id, *ms)),
            _ => None,
        })
        .collect()
}

fn ok(call: &str, re: &str, already: bool) -> Answer {
    Answer::http(
        201,
        &json!({"success": true, "callSid": call, "recordingSid": re, "recordingUrl": "u",
            "alreadyRecording": already, "media": null, "mediaWritten": true})
        .to_string(),
    )
}

fn logs(cmds: &[Command], level: Level) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Log { level: l, message } if *l == level => Some(message.clone()),
            _ => None,
        })
        .collect()
}

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
    assert!(
        out.contains(&Command::Follow { task_sids: vec![] }),
        "customer leg chosen: nothing left to follow"
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
fn duplicate_accept_is_ignored() {
    let mut c = core("customer");
    flex(&mut c, task(T1, R1, json!({})));
    assert!(flex(&mut c, task(T1, R1, json!({}))).is_empty());
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

/// Random timelines over a small alphabet of events: the core must never
/// panic, and at the end of each timeline all tasks end and leave it idle.
#[test]
fn random_timelines_never_panic_and_always_wind_down() {
    let mut rng = Jitter::new(7);
    let mut pick = |n: usize| (rng.unit() * n as f64) as usize;
    let tasks = [T1, T2];
    let calls = [Some(C1), Some(A1), Some(A2), Some(B1), None];
    for round in 0..300 {
        let channel = if round % 2 == 0 { "customer" } else { "worker" };
        let mut c = core(channel);
        let mut outstanding: Vec<u64> = Vec::new();
        let mut set_timers: Vec<u64> = Vec::new();
        for _ in 0..40 {
            let t = tasks[pick(2)];
            let event = match pick(9) {
                0 => {
                    let direction = ["inbound", "outbound"][pick(2)];
                    let internal = pick(4) == 0;
                    Event::Flex(task(
                        t,
                        R1,
                        json!({"direction": direction, "client_call": internal}),
                    ))
                }
                1 => Event::Flex(conf(
                    t,
                    (0..pick(4))
                        .map(|_| {
                            let kind = ["customer", "worker"][pick(2)];
                            p(
                                kind,
                                ["joined", "left"][pick(2)],
                                calls[pick(5)],
                                if kind == "worker" { Some(ME) } else { None },
                            )
                        })
                        .collect(),
                )),
                2 => Event::Flex(active(calls[pick(5)])),
                3 => Event::Flex(FlexEvent::Hangup { task_sid: t.into() }),
                4 => Event::Flex(FlexEvent::Complete { task_sid: t.into() }),
                5 => Event::Flex(FlexEvent::Ended {
                    task_sid: t.into(),
                    reason: "canceled".into(),
                }),
                6 if !set_timers.is_empty() => Event::Timer {
                    id: set_timers.remove(pick(set_timers.len())),
                },
                7 if !outstanding.is_empty() => {
                    let request = outstanding.remove(pick(outstanding.len()));
                    let answer = match pick(4) {
                        0 => ok(C1, "RE1", false),
                        1 => Answer::Network("x".into()),
                        2 => Answer::http(503, "{"),
                        _ => Answer::http(403, "{}"),
                    };
                    Event::Answer { request, answer }
                }
                _ => Event::Flex(active(None)),
            };
            for cmd in c.handle(event) {
                match cmd {
                    Command::Send { request, .. } => outstanding.push(request),
                    Command::SetTimer { id, .. } => set_timers.push(id),
                    Command::CancelTimer { id } => set_timers.retain(|t| *t != id),
                    _ => {}
                }
            }
        }
        for t in tasks {
            c.handle(Event::Flex(FlexEvent::Ended {
                task_sid: t.into(),
                reason: "completed".into(),
            }));
        }
        for request in outstanding {
            c.handle(Event::Answer {
                request,
                answer: Answer::http(403, ""),
            });
        }
        assert!(c.followed().is_empty());
        // Only link retries may remain; they end when answered.
        let mut guard = 0;
        while !c.idle() && guard < 50 {
            guard += 1;
            for id in set_timers.clone() {
                for cmd in c.handle(Event::Timer { id }) {
                    if let Command::Send { request, .. } = cmd {
                        c.handle(Event::Answer {
                            request,
                            answer: Answer::http(403, ""),
                        });
                    }
                }
            }
        }
        assert!(c.idle(), "round {round}");
    }
}

/// Each status carries the reason for what the session shows, from the core
/// (the demo and other plugins show it as it is).
#[test]
fn statuses_say_why() {
    // (channel, worker leg of the conference, backend answered alreadyRecording, state, reason contains)
    let cases = [
        (
            "customer",
            None,
            false,
            "waiting",
            "waiting for the leg to record",
        ),
        (
            "customer",
            Some(A1),
            false,
            "recording",
            "customer's leg for the whole call; Join Call",
        ),
        (
            "customer",
            Some(A1),
            true,
            "recording",
            "answered alreadyRecording",
        ),
        (
            "worker",
            Some(A1),
            false,
            "recording",
            "this worker's leg; each new leg",
        ),
        (
            "worker",
            Some(A1),
            true,
            "recording",
            "answered alreadyRecording",
        ),
    ];
    for (channel, leg, already, state, reason) in cases {
        let mut c = core(channel);
        flex(&mut c, active(leg));
        flex(
            &mut c,
            task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
        );
        if let Some(leg) = leg {
            let out = flex(&mut c, conf(T1, full(leg)));
            let s = sends(&out);
            let want = if channel == "customer" { C1 } else { leg };
            c.handle(Event::Answer {
                request: s[0].0,
                answer: ok(want, "RE1", already),
            });
        }
        let st = c.status(T1);
        assert_eq!(st.state, state, "{channel} {leg:?} {already}");
        let got = st.reason.unwrap_or_default();
        assert!(got.contains(reason), "{channel} {leg:?} {already}: {got:?}");
    }
    // Join Call on the customer channel: a new worker leg, the same recording.
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(C1, "RE1", false),
    });
    flex(&mut c, active(Some(A2)));
    let out = flex(
        &mut c,
        conf(
            T1,
            vec![
                p("customer", "joined", Some(C1), None),
                p("worker", "left", Some(A1), Some(ME)),
                p("worker", "joined", Some(A2), Some(ME)),
            ],
        ),
    );
    assert!(sends(&out).is_empty());
    let st = c.status(T1);
    assert_eq!(
        (st.state, st.recordings.clone()),
        ("recording", vec!["RE1".to_string()])
    );
    assert!(st
        .reason
        .unwrap_or_default()
        .contains("keep this recording"));
    // The event says whether this instance's request started the recording.
    let mut c = core("customer");
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    let s = sends(&flex(&mut c, conf(T1, full(A1))));
    let out = c.handle(Event::Answer {
        request: s[0].0,
        answer: ok(C1, "RE1", true),
    });
    assert!(out.contains(&Command::RecordingStarted {
        task_sid: T1.into(),
        call_sid: C1.into(),
        recording_sid: "RE1".into(),
        already_recording: true,
    }));
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

// ---------------------------------------------------------------- pause and resume

use crate::api::{ControlAction, PauseBehavior};

fn core_with_pause(channel: &str, pause: serde_json::Value) -> (Core, Vec<Command>) {
    let data = json!({
        "features": {
            "dual_channel_recording": {"enabled": true, "channel": channel,
                "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}]},
            "pause_recording": pause
        },
        "serverless_functions_domain": "127.0.0.1:8787",
        "serverless_functions_protocol": "http"
    });
    Core::new(Ok(&data), ME, "en-US", 7)
}

/// A customer-channel task recording C1 as RE1.
fn recording_customer_leg(c: &mut Core) {
    flex(c, active(Some(A1)));
    flex(
        c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    let out = flex(c, conf(T1, full(A1)));
    let (request, _) = sends(&out)[0].clone();
    c.handle(Event::Answer {
        request,
        answer: ok(C1, "RE1", false),
    });
}

fn resumes(cmds: &[Command]) -> Vec<(Option<String>, Option<String>)> {
    sends(cmds)
        .into_iter()
        .filter_map(|(_, o)| match o {
            Outgoing::Control {
                action: ControlAction::Resume,
                body,
            } => Some((body.call_sid, body.conference_sid)),
            _ => None,
        })
        .collect()
}

#[test]
fn pause_request_names_the_recorded_leg_and_the_behaviour() {
    let cases = [
        (json!({}), PauseBehavior::Skip),
        (json!({"include_silence": false}), PauseBehavior::Skip),
        (json!({"include_silence": true}), PauseBehavior::Silence),
    ];
    for (pause, behaviour) in cases {
        let (mut c, _) = core_with_pause("customer", pause);
        recording_customer_leg(&mut c);
        let (url, body) = c.control_request(T1, ControlAction::Pause).unwrap();
        assert_eq!(
            url,
            "http://127.0.0.1:8787/features/dual-channel-recording/flex/pause-recording"
        );
        assert_eq!(body.call_sid.as_deref(), Some(C1));
        assert_eq!(body.conference_sid, None);
        assert_eq!(body.pause_behavior, Some(behaviour));
        let (_, body) = c.control_request(T1, ControlAction::Resume).unwrap();
        assert_eq!(body.pause_behavior, None, "only a pause has a behaviour");
        let err = c.control_request(T2, ControlAction::Pause).unwrap_err();
        assert!(err.contains("not a task of this worker"), "{err}");
        // Accepted here but excluded: nothing is recorded on it.
        flex(
            &mut c,
            task(
                T2,
                R2,
                json!({"call_sid": B1, "direction": "inbound", "customer": {"privacy": "no-recording"}}),
            ),
        );
        let err = c.control_request(T2, ControlAction::Pause).unwrap_err();
        assert!(err.contains("nothing is being recorded"), "{err}");
    }
}

#[test]
fn conference_method_pauses_the_conference() {
    let data = json!({
        "features": {"dual_channel_recording": {"enabled": true, "channel": "customer", "method": "conference"}},
        "serverless_functions_domain": "127.0.0.1:8787"
    });
    // The template's backend keys are not read in this method: no backend.
    let (c, _) = Core::new(Ok(&data), ME, "en-US", 7);
    let err = c.control_request(T1, ControlAction::Pause).unwrap_err();
    assert!(err.contains("backend_url"), "{err}");
    let data = json!({
        "features": {"dual_channel_recording": {"enabled": true, "method": "conference", "backend_url": "http://127.0.0.1:8787"}}
    });
    let (mut c, _) = Core::new(Ok(&data), ME, "en-US", 7);
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    flex(&mut c, conf(T1, full(A1)));
    let (_, body) = c.control_request(T1, ControlAction::Pause).unwrap();
    assert_eq!(
        (body.call_sid, body.conference_sid.as_deref()),
        (None, Some(CF))
    );
}

#[test]
fn never_left_paused_when_the_workers_part_ends() {
    // (what ends the worker's part, resumed?)
    let ends: Vec<(&str, FlexEvent, bool)> = vec![
        (
            "hang-up",
            FlexEvent::Hangup {
                task_sid: T1.into(),
            },
            true,
        ),
        (
            "complete",
            FlexEvent::Complete {
                task_sid: T1.into(),
            },
            true,
        ),
        (
            "transfer (the task leaves)",
            FlexEvent::Ended {
                task_sid: T1.into(),
                reason: "completed".into(),
            },
            true,
        ),
        (
            "another task's hang-up",
            FlexEvent::Hangup {
                task_sid: T2.into(),
            },
            false,
        ),
    ];
    for (what, end, resumed) in ends {
        let (mut c, _) = core_with_pause("customer", json!({"enabled": true}));
        recording_customer_leg(&mut c);
        flex(
            &mut c,
            FlexEvent::PauseState {
                task_sid: T1.into(),
                paused: true,
            },
        );
        let out = flex(&mut c, end);
        let want = if resumed {
            vec![(Some(C1.to_string()), None)]
        } else {
            vec![]
        };
        assert_eq!(resumes(&out), want, "{what}");
        // Once: a later event of the same task does not resume again.
        let again = flex(
            &mut c,
            FlexEvent::Complete {
                task_sid: T1.into(),
            },
        );
        if resumed {
            assert!(resumes(&again).is_empty(), "{what}: resumed twice");
        }
    }
    // Not paused (or resumed in the meantime): nothing is sent.
    let (mut c, _) = core_with_pause("customer", json!({}));
    recording_customer_leg(&mut c);
    assert!(resumes(&flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into()
        }
    ))
    .is_empty());
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: false,
        },
    );
    assert!(resumes(&flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into()
        }
    ))
    .is_empty());
}

#[test]
fn max_pause_seconds_resumes_and_a_resume_cancels_it() {
    let (mut c, _) = core_with_pause("customer", json!({"max_pause_seconds": 45}));
    recording_customer_leg(&mut c);
    let out = flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    let t = timers(&out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].1, 45_000);
    // Pausing again (another tab's state read) does not restart the clock.
    assert!(timers(&flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true
        }
    ))
    .is_empty());
    let out = c.handle(Event::Timer { id: t[0].0 });
    assert_eq!(resumes(&out), vec![(Some(C1.to_string()), None)]);
    assert!(!c.idle(), "the resume is on its way");
    let (request, _) = sends(&out)[0].clone();
    let out = c.handle(Event::Answer {
        request,
        answer: Answer::http(
            200,
            r#"{"success":true,"state":"recording","recordings":[]}"#,
        ),
    });
    assert!(
        logs(&out, Level::Info)
            .iter()
            .any(|l| l.contains("resume of")),
        "{out:?}"
    );
    assert!(c.idle());
    // A resume before the limit cancels the timer.
    let out = flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    let id = timers(&out)[0].0;
    let out = flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: false,
        },
    );
    assert!(out.contains(&Command::CancelTimer { id }));
    assert!(resumes(&c.handle(Event::Timer { id })).is_empty());
}

#[test]
fn an_automatic_resume_is_retried_then_given_up_with_a_log() {
    let (mut c, _) = core_with_pause("customer", json!({}));
    recording_customer_leg(&mut c);
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    let out = flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into(),
        },
    );
    let (request, _) = sends(&out)[0].clone();
    let out = c.handle(Event::Answer {
        request,
        answer: Answer::Network("refused".into()),
    });
    assert_eq!(timers(&out).len(), 1, "retried later");
    let out = c.handle(Event::Timer {
        id: timers(&out)[0].0,
    });
    assert_eq!(resumes(&out).len(), 1);
    let out = c.handle(Event::Answer {
        request,
        answer: Answer::http(
            403,
            r#"{"success":false,"message":"no accepted reservation","code":403}"#,
        ),
    });
    assert!(
        logs(&out, Level::Warn)
            .iter()
            .any(|l| l.contains("not this worker's task")),
        "{out:?}"
    );
    assert!(c.idle());

    // Unreachable backend: a few quick attempts, then given up with a log.
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    let out = flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into(),
        },
    );
    let (request, _) = sends(&out)[0].clone();
    let mut attempts = 1;
    let mut last;
    loop {
        last = c.handle(Event::Answer {
            request,
            answer: Answer::Network("refused".into()),
        });
        let Some((id, ms)) = timers(&last).first().copied() else {
            break;
        };
        assert!(ms <= 1_000, "a quick retry, not {ms} ms");
        c.handle(Event::Timer { id });
        attempts += 1;
    }
    assert_eq!(attempts, crate::session::CONTROL_ATTEMPTS);
    assert!(
        logs(&last, Level::Error)
            .iter()
            .any(|l| l.contains("gave up")),
        "{last:?}"
    );
    assert!(c.idle());
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

#[test]
fn a_transfer_while_paused_resumes_when_this_worker_leaves() {
    // (channel, the conference after the transfer, resumed?)
    let other = "WK00000000000000000000000000000002";
    let transferred = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", Some(B1), Some(other)),
    ];
    let customer_gone = vec![
        p("customer", "left", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
    ];
    let joined_again = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", Some(A2), Some(ME)),
    ];
    // Join Call before Flex has the new leg's call SID: still on the call.
    let joining = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
        p("worker", "joined", None, Some(ME)),
    ];
    let cases: Vec<(&str, Vec<Participant>, bool)> = vec![
        (
            "transfer: the customer stays, this worker left",
            transferred,
            true,
        ),
        ("the call is over for everyone", customer_gone, false),
        (
            "Join Call: this worker is still on the call",
            joined_again,
            false,
        ),
        (
            "Join Call, the new leg's call SID not known yet: still on the call",
            joining,
            false,
        ),
    ];
    for (what, after, resumed) in cases {
        let (mut c, _) = core_with_pause("customer", json!({}));
        recording_customer_leg(&mut c);
        let out = flex(
            &mut c,
            FlexEvent::PauseState {
                task_sid: T1.into(),
                paused: true,
            },
        );
        assert!(
            out.contains(&Command::Follow {
                task_sids: vec![T1.into()]
            }),
            "{what}: a paused task is followed"
        );
        let out = flex(&mut c, conf(T1, after));
        let want = if resumed {
            vec![(Some(C1.to_string()), None)]
        } else {
            vec![]
        };
        assert_eq!(resumes(&out), want, "{what}");
        if resumed {
            assert!(
                out.contains(&Command::Follow { task_sids: vec![] }),
                "{what}: no longer followed"
            );
        }
    }
}

#[test]
fn a_pause_only_read_is_never_resumed_automatically() {
    // Another agent on the same call (warm transfer) paused it: this worker's
    // tab reads "paused" for its button, then leaves the call. Resuming would
    // record what the other agent is taking care not to record.
    let (mut c, _) = core_with_pause("customer", json!({"max_pause_seconds": 30}));
    recording_customer_leg(&mut c);
    let out = flex(
        &mut c,
        FlexEvent::StateRead {
            task_sid: T1.into(),
            paused: true,
        },
    );
    assert!(
        timers(&out).is_empty(),
        "no max-pause clock for someone else's pause"
    );
    assert!(resumes(&flex(
        &mut c,
        FlexEvent::Hangup {
            task_sid: T1.into()
        }
    ))
    .is_empty());
    // A read that finds it resumed clears our own pause (resumed in another tab).
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    flex(
        &mut c,
        FlexEvent::StateRead {
            task_sid: T1.into(),
            paused: false,
        },
    );
    assert!(resumes(&flex(
        &mut c,
        FlexEvent::Complete {
            task_sid: T1.into()
        }
    ))
    .is_empty());
}

#[test]
fn a_pause_waits_while_the_recording_is_being_started() {
    let (mut c, _) = core_with_pause("customer", json!({}));
    assert!(!c.control_pending(T1), "unknown task: nothing to wait for");
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    assert!(
        !c.control_pending(T1),
        "no leg yet: a pause now is refused, not held"
    );
    let out = flex(&mut c, conf(T1, full(A1)));
    assert!(c.control_pending(T1), "the create request is on its way");
    let (request, _) = sends(&out)[0].clone();
    c.handle(Event::Answer {
        request,
        answer: ok(C1, "RE1", false),
    });
    assert!(!c.control_pending(T1));
    // A failed start does not hold a pause forever either.
    let (mut c, _) = core_with_pause("customer", json!({}));
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    let out = flex(&mut c, conf(T1, full(A1)));
    let (request, _) = sends(&out)[0].clone();
    c.handle(Event::Answer {
        request,
        answer: Answer::http(403, r#"{"success":false,"message":"no","code":403}"#),
    });
    assert!(!c.control_pending(T1));
}

fn authorizes(cmds: &[Command]) -> Vec<u64> {
    sends(cmds)
        .into_iter()
        .filter(|(_, o)| matches!(o, Outgoing::Authorize(_)))
        .map(|(id, _)| id)
        .collect()
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

fn pauses(cmds: &[Command]) -> Vec<Option<String>> {
    sends(cmds)
        .into_iter()
        .filter_map(|(_, o)| match o {
            Outgoing::Control {
                action: ControlAction::Pause,
                body,
            } => Some(body.call_sid),
            _ => None,
        })
        .collect()
}

/// Card details are being read when the agent moves legs: the new leg's
/// recording is paused as soon as it starts.
#[test]
fn a_leg_that_starts_recording_while_paused_is_paused_at_once() {
    let (mut c, _) = core_with_pause("worker", json!({}));
    flex(&mut c, active(Some(A1)));
    flex(
        &mut c,
        task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
    );
    let out = flex(&mut c, conf(T1, full(A1)));
    let (request, _) = sends(&out)[0].clone();
    let out = c.handle(Event::Answer {
        request,
        answer: ok(A1, "RE1", false),
    });
    assert!(pauses(&out).is_empty(), "nothing paused yet");
    flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    // Join Call: the new leg A2 is recorded, and paused at once.
    flex(&mut c, active(Some(A2)));
    let out = flex(
        &mut c,
        conf(
            T1,
            vec![
                p("customer", "joined", Some(C1), None),
                p("worker", "left", Some(A1), Some(ME)),
                p("worker", "joined", Some(A2), Some(ME)),
            ],
        ),
    );
    let (request, _) = sends(&out)
        .into_iter()
        .find(|(_, o)| matches!(o, Outgoing::Create(_)))
        .expect("the new leg is recorded");
    let out = c.handle(Event::Answer {
        request,
        answer: ok(A2, "RE2", false),
    });
    assert_eq!(pauses(&out), vec![Some(A2.to_string())]);
}

/// This tab's pause that lands after its task left this worker would never
/// be resumed by anyone: it is resumed at once.
#[test]
fn a_pause_that_lands_after_the_task_ended_is_resumed_at_once() {
    let (mut c, _) = core_with_pause("customer", json!({}));
    recording_customer_leg(&mut c);
    flex(
        &mut c,
        FlexEvent::Ended {
            task_sid: T1.into(),
            reason: "completed".into(),
        },
    );
    let out = flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T1.into(),
            paused: true,
        },
    );
    assert_eq!(resumes(&out), vec![(Some(C1.to_string()), None)]);
    // A task this tab never held: nothing to do.
    let out = flex(
        &mut c,
        FlexEvent::PauseState {
            task_sid: T2.into(),
            paused: true,
        },
    );
    assert!(resumes(&out).is_empty());
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
