//! `status(taskSid)`: the state and the reason it gives.

use super::*;

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
