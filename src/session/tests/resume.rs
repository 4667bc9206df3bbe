//! Never left paused: the automatic resume (the worker's part ended, a
//! transfer, `max_pause_seconds`, a pause that lands late) and the automatic
//! pause of a leg that starts recording while the task is paused.

use super::*;

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
            vec![(Some(C1.to_string()), Some(CF.to_string()))]
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
    assert_eq!(
        resumes(&out),
        vec![(Some(C1.to_string()), Some(CF.to_string()))]
    );
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
            c.followed().contains(&T1.to_string()),
            "{what}: a paused task is followed: {out:?}"
        );
        let out = flex(&mut c, conf(T1, after));
        let want = if resumed {
            vec![(Some(C1.to_string()), Some(CF.to_string()))]
        } else {
            vec![]
        };
        assert_eq!(resumes(&out), want, "{what}");
        assert_eq!(
            c.followed(),
            &[T1.to_string()],
            "{what}: followed to its end, resumed or not"
        );
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
    assert_eq!(
        resumes(&out),
        vec![(Some(C1.to_string()), Some(CF.to_string()))]
    );
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

/// An automatic pause being retried stops when the task is resumed: landing
/// after the resume, it would pause again with nobody left to resume it.
#[test]
fn an_automatic_pause_stops_when_the_task_is_resumed() {
    /// Resumes the task, given the max-pause timer's id.
    type Resume = fn(&mut Core, u64) -> Vec<Command>;
    // (what resumes, how, the core sends a resume itself?)
    let cases: [(&str, Resume, bool); 3] = [
        (
            "the agent resumed",
            |c, _| {
                flex(
                    c,
                    FlexEvent::PauseState {
                        task_sid: T1.into(),
                        paused: false,
                    },
                )
            },
            false,
        ),
        (
            "a read says not paused",
            |c, _| {
                flex(
                    c,
                    FlexEvent::StateRead {
                        task_sid: T1.into(),
                        paused: false,
                    },
                )
            },
            false,
        ),
        (
            "max_pause_seconds passed",
            |c, max_pause| c.handle(Event::Timer { id: max_pause }),
            true,
        ),
    ];
    for (name, resume, automatic) in cases {
        let (mut c, _) = core_with_pause("customer", json!({"max_pause_seconds": 30}));
        flex(&mut c, active(Some(A1)));
        flex(&mut c, task(T1, R1, json!({"direction": "inbound"})));
        let out = flex(
            &mut c,
            FlexEvent::PauseState {
                task_sid: T1.into(),
                paused: true,
            },
        );
        let max_pause = timers(&out)[0].0;
        let create = sends(&flex(&mut c, conf(T1, full(A1))))[0].0;
        let out = c.handle(Event::Answer {
            request: create,
            answer: ok(C1, "RE1", false),
        });
        let pause = sends(&out)[0].0;
        let out = c.handle(Event::Answer {
            request: pause,
            answer: Answer::http(503, "{}"),
        });
        let retry = timers(&out)[0].0;
        let out = resume(&mut c, max_pause);
        assert!(out.contains(&Command::CancelTimer { id: retry }), "{name}");
        let want = if automatic {
            vec![(Some(C1.to_string()), Some(CF.to_string()))]
        } else {
            vec![]
        };
        assert_eq!(resumes(&out), want, "{name}");
        assert!(
            sends(&c.handle(Event::Timer { id: retry })).is_empty(),
            "{name}"
        );
        for (request, _) in sends(&out) {
            c.handle(Event::Answer {
                request,
                answer: Answer::http(200, r#"{"state":"recording","recordings":[]}"#),
            });
        }
        assert!(c.idle(), "{name}");
    }
}

#[test]
fn no_automatic_resume_of_a_recording_that_ended_with_its_call() {
    // (what happened before the worker's part ended, the conference then, resumed)
    type Resumed = Vec<(Option<String>, Option<String>)>;
    let cases: Vec<(&str, Vec<Participant>, Resumed)> = vec![
        (
            "the worker hangs up, the customer's call goes on",
            full(A1),
            vec![(Some(C1.to_string()), Some(CF.to_string()))],
        ),
        // The customer's recording completed, but the conference is still
        // listed live and may hold Flex's own recording, which the pause
        // reached too: the resume goes (a 409 answer is logged at debug).
        (
            "the customer hung up first, the conference still listed live",
            vec![
                p("customer", "left", Some(C1), None),
                p("worker", "joined", Some(A1), Some(ME)),
            ],
            vec![(Some(C1.to_string()), Some(CF.to_string()))],
        ),
        (
            "everyone left: the call and the conference ended",
            vec![
                p("customer", "left", Some(C1), None),
                p("worker", "left", Some(A1), Some(ME)),
            ],
            vec![],
        ),
    ];
    for (what, participants, want) in cases {
        let (mut c, _) = core_with_pause("customer", json!({"enabled": true}));
        recording_customer_leg(&mut c);
        flex(
            &mut c,
            FlexEvent::PauseState {
                task_sid: T1.into(),
                paused: true,
            },
        );
        flex(&mut c, conf(T1, participants));
        let out = flex(
            &mut c,
            FlexEvent::Hangup {
                task_sid: T1.into(),
            },
        );
        assert_eq!(resumes(&out), want, "{what}");
        assert!(logs(&out, Level::Warn).is_empty(), "{what}: {out:?}");
    }
}

#[test]
fn nothing_left_to_resume_is_not_a_warning() {
    // (the backend's answer to an automatic resume, level of its log)
    let cases: Vec<(&str, Answer, Level)> = vec![
        (
            "409: the recording ended meanwhile",
            Answer::http(
                409,
                r#"{"success":false,"message":"nothing is being recorded on CA000000000000000000000000000000c1 of task WT00000000000000000000000000000001"}"#,
            ),
            Level::Debug,
        ),
        (
            "400: a real failure",
            Answer::http(400, r#"{"success":false,"message":"bad request"}"#),
            Level::Warn,
        ),
    ];
    for (what, answer, level) in cases {
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
        let out = c.handle(Event::Answer { request, answer });
        let said = logs(&out, level);
        assert!(
            said.iter().any(|l| l.contains("resume") && l.contains(T1)),
            "{what}: {out:?}"
        );
        if level == Level::Debug {
            assert!(
                logs(&out, Level::Warn).is_empty() && logs(&out, Level::Error).is_empty(),
                "{what}: {out:?}"
            );
        }
        assert!(c.idle(), "{what}: not retried");
    }
}
