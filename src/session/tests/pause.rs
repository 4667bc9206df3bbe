//! Pause and resume: the request the buttons send, and when it is sent.

use super::*;

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
fn no_button_request_for_a_recording_that_ended_with_its_call() {
    // (the conference after the customer's leg was recorded, action, sent?)
    let gone = vec![
        p("customer", "left", Some(C1), None),
        p("worker", "joined", Some(A1), Some(ME)),
    ];
    let cases: Vec<(&str, Vec<Participant>, ControlAction, bool)> = vec![
        ("live: pause", full(A1), ControlAction::Pause, true),
        ("live: resume", full(A1), ControlAction::Resume, true),
        (
            "the customer left: pause",
            gone.clone(),
            ControlAction::Pause,
            false,
        ),
        (
            "the customer left: resume",
            gone.clone(),
            ControlAction::Resume,
            false,
        ),
        // Reading the state still asks Twilio (it answers "none").
        ("the customer left: state", gone, ControlAction::State, true),
    ];
    for (what, participants, action, sent) in cases {
        let (mut c, _) = core_with_pause("customer", json!({}));
        recording_customer_leg(&mut c);
        flex(&mut c, conf(T1, participants));
        match c.control_request(T1, action) {
            Ok((_, body)) => {
                assert!(sent, "{what}: sent");
                assert_eq!(body.call_sid.as_deref(), Some(C1), "{what}");
            }
            Err(err) => {
                assert!(!sent, "{what}: {err}");
                assert!(err.contains("nothing is being recorded"), "{what}: {err}");
            }
        }
    }
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
