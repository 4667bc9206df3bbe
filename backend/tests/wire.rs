//! Every request the core encodes (`api`'s `to_form`, what the plugin
//! sends) goes through the backend's decoder (`http::body::FormOrJson`,
//! then `http::input`) and comes out as it went in: a form key renamed on
//! one side only fails here, not first in a scenario replay. Each request
//! is built with every field set (a struct literal, so a new field must be
//! added here), and again with only what is required.

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{header, Method, Request};
use dual_channel_recording::api::{
    AuthorizeRequest, ControlAction, CreateRecordingRequest, LinkCallRequest, PauseBehavior,
    RecordingControlRequest, TargetKind,
};
use dual_channel_recording::insights::{MediaTarget, RecordedLeg};
use recording_backend::http::body::FormOrJson;
use recording_backend::http::input::{AuthorizeInput, ControlInput, CreateInput, LinkInput};
use recording_backend::twilio::RecordingParent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

const CA: &str = "CA000000000000000000000000000000c1";
const CA_CUSTOMER: &str = "CA000000000000000000000000000000c2";
const WT: &str = "WT000000000000000000000000000000a1";
const WR: &str = "WR000000000000000000000000000000a1";
const CF: &str = "CF000000000000000000000000000000a1";
/// Characters a form must escape, and one that is not ASCII.
const TOKEN: &str = "eyJ.a b+c/=&é?%";

async fn decode<T: DeserializeOwned>(content_type: &str, body: String) -> T {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    match FormOrJson::<T>::from_request(req, &()).await {
        Ok(FormOrJson(v)) => v,
        Err(e) => panic!("the backend refused what the core sent: {e}"),
    }
}

/// Decoded from the core's form (and, for good measure, from JSON), the
/// request is the one that was encoded.
async fn round_trip<T>(sent: &T, form: String) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let from_form: T = decode("application/x-www-form-urlencoded", form.clone()).await;
    assert_eq!(&from_form, sent, "form {form}");
    let json = serde_json::to_string(sent).unwrap();
    let from_json: T = decode("application/json", json.clone()).await;
    assert_eq!(&from_json, sent, "JSON {json}");
    from_form
}

fn sid<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: Debug,
{
    s.parse().unwrap()
}

#[tokio::test]
async fn create_recording() {
    let full = |leg, target| CreateRecordingRequest {
        call_sid: CA.into(),
        token: TOKEN.into(),
        task_sid: Some(WT.into()),
        reservation_sid: Some(WR.into()),
        leg: Some(leg),
        target: Some(target),
        accepted_at: Some(1_700_000_000_123),
        conference_sid: Some(CF.into()),
        customer_call_sid: Some(CA_CUSTOMER.into()),
    };
    let cases = [
        (
            full(RecordedLeg::Customer, TargetKind::Conversation),
            MediaTarget::Conversation,
        ),
        (
            full(RecordedLeg::Worker, TargetKind::Reservation),
            MediaTarget::Reservation(WR.into()),
        ),
    ];
    for (sent, target) in cases {
        let got = round_trip(&sent, sent.to_form()).await;
        assert_eq!(
            CreateInput::try_from(got).unwrap(),
            CreateInput {
                call_sid: sid(CA),
                token: TOKEN.into(),
                task_sid: Some(sid(WT)),
                reservation_sid: Some(sid(WR)),
                leg: sent.leg,
                target: Some(target),
                accepted_at: Some(1_700_000_000_123),
                conference_sid: Some(sid(CF)),
                customer_call_sid: Some(sid(CA_CUSTOMER)),
            }
        );
    }
    // The template's shape: a call and a token.
    let sent = CreateRecordingRequest {
        call_sid: CA.into(),
        token: TOKEN.into(),
        ..Default::default()
    };
    let got = round_trip(&sent, sent.to_form()).await;
    let input = CreateInput::try_from(got).unwrap();
    assert_eq!((input.call_sid, input.task_sid), (sid(CA), None));
}

#[tokio::test]
async fn authorize() {
    let sent = AuthorizeRequest {
        token: TOKEN.into(),
        task_sid: WT.into(),
        reservation_sid: WR.into(),
    };
    let got = round_trip(&sent, sent.to_form()).await;
    assert_eq!(
        AuthorizeInput::try_from(got).unwrap(),
        AuthorizeInput {
            token: TOKEN.into(),
            task_sid: sid(WT),
            reservation_sid: sid(WR),
        }
    );
}

#[tokio::test]
async fn link_call() {
    let sent = LinkCallRequest {
        token: TOKEN.into(),
        task_sid: WT.into(),
        conference_sid: Some(CF.into()),
        customer_call_sid: Some(CA_CUSTOMER.into()),
    };
    let got = round_trip(&sent, sent.to_form()).await;
    assert_eq!(
        LinkInput::try_from(got).unwrap(),
        LinkInput {
            token: TOKEN.into(),
            task_sid: sid(WT),
            conference_sid: Some(sid(CF)),
            customer_call_sid: Some(sid(CA_CUSTOMER)),
        }
    );
    let sent = LinkCallRequest {
        customer_call_sid: None,
        ..sent
    };
    let got = round_trip(&sent, sent.to_form()).await;
    assert_eq!(LinkInput::try_from(got).unwrap().customer_call_sid, None);
}

#[tokio::test]
async fn recording_control() {
    let on_call = |pause_behavior| RecordingControlRequest {
        token: TOKEN.into(),
        task_sid: WT.into(),
        call_sid: Some(CA.into()),
        conference_sid: None,
        customer_call_sid: None,
        pause_behavior,
        recording_sids: None,
    };
    let on_conference = |pause_behavior| RecordingControlRequest {
        call_sid: None,
        conference_sid: Some(CF.into()),
        ..on_call(pause_behavior)
    };
    let call = RecordingParent::Call(sid(CA));
    let conference = RecordingParent::Conference(sid(CF));
    let cases = [
        (
            on_call(Some(PauseBehavior::Skip)),
            ControlAction::Pause,
            &call,
        ),
        (on_call(None), ControlAction::Resume, &call),
        (on_call(None), ControlAction::State, &call),
        (
            on_conference(Some(PauseBehavior::Silence)),
            ControlAction::Pause,
            &conference,
        ),
        (on_conference(None), ControlAction::Resume, &conference),
    ];
    for (sent, action, parent) in cases {
        let got = round_trip(&sent, sent.to_form()).await;
        assert_eq!(
            ControlInput::new(got, action).unwrap(),
            ControlInput {
                token: TOKEN.into(),
                task_sid: sid(WT),
                parents: vec![parent.clone()],
                pause_behavior: sent.pause_behavior,
                recording_sids: None,
            },
            "{action:?}"
        );
    }
}

/// A pause names every place a recording of the call may run; a resume may
/// name the recordings the pause paused.
#[tokio::test]
async fn recording_control_everywhere() {
    const RE1: &str = "RE000000000000000000000000000000e1";
    const RE2: &str = "RE000000000000000000000000000000e2";
    let everywhere = |recording_sids: Option<String>| RecordingControlRequest {
        token: TOKEN.into(),
        task_sid: WT.into(),
        call_sid: Some(CA.into()),
        conference_sid: Some(CF.into()),
        customer_call_sid: Some(CA_CUSTOMER.into()),
        pause_behavior: None,
        recording_sids,
    };
    let all = vec![
        RecordingParent::Call(sid(CA)),
        RecordingParent::Conference(sid(CF)),
        RecordingParent::Call(sid(CA_CUSTOMER)),
    ];
    let cases = [
        (everywhere(None), ControlAction::Pause, None),
        (
            everywhere(Some(format!("{RE1},{RE2}"))),
            ControlAction::Resume,
            Some(vec![sid(RE1), sid(RE2)]),
        ),
        (everywhere(Some(String::new())), ControlAction::Resume, None),
    ];
    for (sent, action, recording_sids) in cases {
        let got = round_trip(&sent, sent.to_form()).await;
        let input = ControlInput::new(got, action).unwrap();
        assert_eq!(input.parents, all, "{action:?}");
        assert_eq!(input.recording_sids, recording_sids, "{action:?}");
    }
    // The customer's call named twice is one place.
    let twice = RecordingControlRequest {
        customer_call_sid: Some(CA.into()),
        ..everywhere(None)
    };
    let input = ControlInput::new(twice, ControlAction::Pause).unwrap();
    assert_eq!(input.parents, all[..2].to_vec());
    // recordingSids: resuming only, and SIDs only.
    for (sent, action, error) in [
        (
            everywhere(Some(RE1.into())),
            ControlAction::Pause,
            "resuming only",
        ),
        (
            everywhere(Some("RE1,x".into())),
            ControlAction::Resume,
            "recordingSids must be",
        ),
    ] {
        let err = ControlInput::new(sent, action).unwrap_err().to_string();
        assert!(err.contains(error), "{err}");
    }
}

/// The requests above are all the core encodes: each type of `api` with a
/// `to_form` is one of them.
#[test]
fn every_encoded_request_is_covered() {
    let api = include_str!("../../src/api.rs");
    let mut encoded = Vec::new();
    let mut current = None;
    for line in api.lines() {
        if let Some(rest) = line.strip_prefix("impl ") {
            current = rest.split_whitespace().next();
        }
        if line.trim_start().starts_with("pub fn to_form(") {
            encoded.push(current.expect("to_form outside an impl"));
        }
    }
    encoded.sort_unstable();
    assert_eq!(
        encoded,
        [
            "AuthorizeRequest",
            "CreateRecordingRequest",
            "LinkCallRequest",
            "RecordingControlRequest"
        ]
    );
}
