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
        // Flex's own conference recording, if any, is paused with it.
        assert_eq!(body.conference_sid.as_deref(), Some(CF));
        // The customer's call is the recorded leg: not named twice.
        assert_eq!(body.customer_call_sid, None);
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
    // Neither the plugin's backend_url nor the template's keys: no backend,
    // and the answer names the key of the block read.
    for (data, key) in [
        (
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer", "method": "conference"}}}),
            "features.dual_channel_recording.backend_url",
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "method": "conference"}}),
            "plugin_dual_channel_recording.backend_url",
        ),
    ] {
        let (c, _) = Core::new(Ok(&data), ME, "en-US", 7);
        let err = c.control_request(T1, ControlAction::Pause).unwrap_err();
        assert!(err.contains(key), "{err}");
    }
    // The backend is found as in the call-leg method: backend_url, else the
    // template's serverless_functions_* (issue 18: the demo's conference mode).
    for (data, url) in [
        (
            json!({"features": {"dual_channel_recording": {"enabled": true, "method": "conference", "backend_url": "http://127.0.0.1:8787"}}}),
            "http://127.0.0.1:8787/features/dual-channel-recording/flex/pause-recording",
        ),
        (
            json!({"features": {"dual_channel_recording": {"enabled": true, "method": "conference"}},
                   "serverless_functions_domain": "127.0.0.1", "serverless_functions_port": "8787",
                   "serverless_functions_protocol": "http"}),
            "http://127.0.0.1:8787/features/dual-channel-recording/flex/pause-recording",
        ),
        (
            json!({"plugin_dual_channel_recording": {"enabled": true, "method": "conference"},
                   "serverless_functions_domain": "recordings.example.com"}),
            "https://recordings.example.com/features/dual-channel-recording/flex/pause-recording",
        ),
    ] {
        let (mut c, _) = Core::new(Ok(&data), ME, "en-US", 7);
        flex(
            &mut c,
            task(T1, R1, json!({"call_sid": C1, "direction": "inbound"})),
        );
        flex(&mut c, conf(T1, full(A1)));
        let (to, body) = c.control_request(T1, ControlAction::Pause).unwrap();
        assert_eq!(
            (to.as_str(), body.call_sid, body.conference_sid.as_deref()),
            (url, None, Some(CF))
        );
    }
}

#[test]
fn no_button_request_for_a_recording_that_ended_with_its_call() {
    // (the conference after the customer's leg was recorded, action, sent?)
    // The customer left while the worker is still in the conference: a
    // pause also reaches the conference (Flex's own recording), so it goes.
    let customer_gone = vec![
        p("customer", "left", Some(C1), None),
        p("worker", "joined", Some(A1), Some(ME)),
    ];
    let gone = vec![
        p("customer", "left", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
    ];
    let cases: Vec<(&str, Vec<Participant>, ControlAction, bool)> = vec![
        ("live: pause", full(A1), ControlAction::Pause, true),
        ("live: resume", full(A1), ControlAction::Resume, true),
        (
            "the customer left, the conference goes on: pause",
            customer_gone.clone(),
            ControlAction::Pause,
            true,
        ),
        (
            "the customer left, the conference goes on: resume",
            customer_gone,
            ControlAction::Resume,
            true,
        ),
        (
            "everyone left: pause",
            gone.clone(),
            ControlAction::Pause,
            false,
        ),
        (
            "everyone left: resume",
            gone.clone(),
            ControlAction::Resume,
            false,
        ),
        // Reading the state still asks Twilio (it answers "none").
        ("everyone left: state", gone, ControlAction::State, true),
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

/// What this instance's pauses paused is what its resume names, and no more
/// once resumed; every place a recording of the call may run is named.
#[test]
fn a_resume_names_exactly_what_the_pauses_paused() {
    const RE1: &str = "RE000000000000000000000000000000e1";
    const RE2: &str = "RE000000000000000000000000000000e2";
    let done = |paused: &[&str], resumed: &[&str]| crate::pause::ControlState {
        state: "paused".into(),
        recordings: Vec::new(),
        paused_now: paused.iter().map(|s| s.to_string()).collect(),
        resumed_now: resumed.iter().map(|s| s.to_string()).collect(),
        parents: Vec::new(),
    };
    let (mut c, _) = core_with_pause("worker", json!({"enabled": true}));
    recording_customer_leg(&mut c);
    let resume_sids = |c: &Core| {
        c.control_request(T1, ControlAction::Resume)
            .unwrap()
            .1
            .recording_sids
    };
    // (what happened, pauses answered before, expected recordingSids)
    type Step<'a> = (
        &'a str,
        ControlAction,
        &'a [&'a str],
        &'a [&'a str],
        Option<&'a str>,
    );
    let steps: [Step; 5] = [
        (
            "no pause yet: every paused one",
            ControlAction::State,
            &[],
            &[],
            None,
        ),
        (
            "a pause of two",
            ControlAction::Pause,
            &[RE1, RE2],
            &[],
            Some("RE000000000000000000000000000000e1,RE000000000000000000000000000000e2"),
        ),
        (
            "a second pause found them paused",
            ControlAction::Pause,
            &[],
            &[],
            Some("RE000000000000000000000000000000e1,RE000000000000000000000000000000e2"),
        ),
        (
            "a state read changes nothing",
            ControlAction::State,
            &[RE1],
            &[],
            Some("RE000000000000000000000000000000e1,RE000000000000000000000000000000e2"),
        ),
        (
            "resumed: forgotten",
            ControlAction::Resume,
            &[],
            &[RE1],
            None,
        ),
    ];
    for (what, action, paused, resumed, want) in steps {
        c.remember_control(T1, action, &done(paused, resumed));
        assert_eq!(resume_sids(&c).as_deref(), want, "{what}");
    }
    let (_, pause) = c.control_request(T1, ControlAction::Pause).unwrap();
    assert_eq!(pause.recording_sids, None, "only a resume names recordings");
    assert_eq!(pause.conference_sid.as_deref(), Some(CF));
}

#[test]
fn a_resume_is_held_back_only_when_what_the_pause_paused_has_ended() {
    use crate::pause::{ControlState, Target};
    const RE1: &str = "RE000000000000000000000000000000e1";
    const RE2: &str = "RE000000000000000000000000000000e2";
    // This worker left (a transfer); the customer's call and the conference go on.
    let left = vec![
        p("customer", "joined", Some(C1), None),
        p("worker", "left", Some(A1), Some(ME)),
    ];
    // (what the pause paused, where each ran, the resume sent?)
    type Paused<'a> = Vec<(&'a str, Option<Target>)>;
    let cases: Vec<(&str, Paused, bool)> = vec![
        (
            "only a recording of the leg that left",
            vec![(RE1, Some(Target::Call(A1.into())))],
            false,
        ),
        (
            "Flex's conference recording too, which goes on",
            vec![
                (RE1, Some(Target::Call(A1.into()))),
                (RE2, Some(Target::Conference(CF.into()))),
            ],
            true,
        ),
        (
            "the customer's call, which goes on",
            vec![(RE2, Some(Target::Call(C1.into())))],
            true,
        ),
        (
            "where one ran is unknown: the places the resume reaches decide",
            vec![(RE1, Some(Target::Call(A1.into()))), (RE2, None)],
            true,
        ),
    ];
    for (what, paused, sent) in cases {
        let (mut c, _) = core_with_pause("customer", json!({}));
        recording_customer_leg(&mut c);
        let state = ControlState {
            state: "paused".into(),
            recordings: Vec::new(),
            paused_now: paused.iter().map(|(sid, _)| sid.to_string()).collect(),
            resumed_now: Vec::new(),
            parents: paused
                .iter()
                .filter_map(|(sid, parent)| Some((sid.to_string(), parent.clone()?)))
                .collect(),
        };
        c.remember_control(T1, ControlAction::Pause, &state);
        flex(&mut c, conf(T1, left.clone()));
        let got = c.control_request(T1, ControlAction::Resume);
        assert_eq!(got.is_ok(), sent, "{what}: {got:?}");
    }
}
