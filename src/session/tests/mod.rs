//! Tests of the state machine, natively, one file per job of `impl Core`;
//! the fixtures and readers of commands they share are here.

use crate::api::{AuthorizeRequest, TargetKind};
use crate::api::{ControlAction, PauseBehavior};
use crate::attributes::Attributes;
use crate::backend_client::Answer;
use crate::insights::RecordedLeg;
use crate::session::{Command, Core, Event, FlexEvent, Level, Outgoing};
use crate::snapshot::{ConferenceSnapshot, Participant, TaskSnapshot};
use serde_json::json;

mod accept;
mod legs;
mod outcomes;
mod pause;
mod requests;
mod resume;
mod startup;
mod status;
mod teardown;
mod timeline;

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

fn authorizes(cmds: &[Command]) -> Vec<u64> {
    sends(cmds)
        .into_iter()
        .filter(|(_, o)| matches!(o, Outgoing::Authorize(_)))
        .map(|(id, _)| id)
        .collect()
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
