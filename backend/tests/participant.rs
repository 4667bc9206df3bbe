//! The participant-status rule of authorization (`authz::in_conference`):
//! a call that is in the task's conference may be recorded, one Twilio
//! answers for as `complete` (it left) or `failed` (it never joined) may
//! not. Twilio's Participant resource has those statuses, and a fetch made
//! as a participant leaves can still find it so; the simulator forgets a
//! participant that left at once (404), so here a relay in front of the
//! real simulator answers that one fetch with the status of the row, and
//! passes everything else through unchanged.

mod common;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// A call that is neither the task's (`call_sid`) nor the worker's own
/// client leg: only its place in the conference can make it the task's.
const CA_THIRD: &str = "CA000000000000000000000000000000d3";

#[derive(Clone)]
struct Relay {
    sim: String,
    http: reqwest::Client,
    /// The status the participant fetch of `CA_THIRD` answers with.
    participant_status: Arc<Mutex<String>>,
}

async fn relay(State(r): State<Relay>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = r
        .http
        .request(parts.method.clone(), format!("{}{path}", r.sim));
    for (k, v) in &parts.headers {
        if k != header::HOST && k != header::CONTENT_LENGTH {
            out = out.header(k, v);
        }
    }
    let answer = out.body(body).send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    let participant = format!("/Conferences/{CF}/Participants/{CA_THIRD}.json");
    if status.is_success() && parts.uri.path().ends_with(&participant) {
        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        v["status"] = json!(*r.participant_status.lock().unwrap());
        bytes = serde_json::to_vec(&v).unwrap();
    }
    let mut res = Response::builder().status(status);
    for (k, v) in &headers {
        if k != header::CONTENT_LENGTH && k != header::TRANSFER_ENCODING {
            res = res.header(k, v);
        }
    }
    res.body(Body::from(bytes)).unwrap()
}

/// The relay on a loopback port; its URL and the status it answers with.
async fn start_relay(sim: &Sim) -> (String, Arc<Mutex<String>>) {
    let participant_status = Arc::new(Mutex::new("connected".to_string()));
    let state = Relay {
        sim: sim.url.clone(),
        http: reqwest::Client::new(),
        participant_status: participant_status.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(relay).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, participant_status)
}

#[tokio::test]
async fn only_a_participant_still_in_the_conference_belongs_to_the_task() {
    // Twilio's participant status, and whether a call in that status may be
    // recorded as the task's.
    let cases = [
        ("connected", StatusCode::OK),
        ("complete", StatusCode::FORBIDDEN),
        ("failed", StatusCode::FORBIDDEN),
    ];
    for (participant_status, want) in cases {
        let sim = Sim::start().await;
        sim.scene().await;
        sim.post(
            "/calls",
            json!({"callSid": CA_THIRD, "status": "in-progress", "from": "+15005550006", "to": "+15005550007"}),
        )
        .await;
        sim.put(
            &format!("/conferences/{CF}"),
            json!({"taskSid": WT, "participants": [
                {"callSid": CA_CUSTOMER, "participantType": "customer", "status": "joined"},
                {"callSid": CA_WORKER, "participantType": "worker", "status": "joined", "workerSid": WK, "reservationSid": WR},
                {"callSid": CA_THIRD, "participantType": "external", "status": "joined"}
            ]}),
        )
        .await;
        let (relay_url, status) = start_relay(&sim).await;
        *status.lock().unwrap() = participant_status.to_string();
        let app = backend(config(&relay_url, &[], &[]));
        let mut req = customer_request();
        req[0].1 = CA_THIRD.into();
        req.truncate(4);
        let a = create(&app, &req).await;
        assert_eq!(a.status, want, "{participant_status}: {}", a.json);
        let log = sim.log().await;
        assert_eq!(
            count(
                &log,
                "GET",
                &format!("/Conferences/{CF}/Participants/{CA_THIRD}")
            ),
            1,
            "{participant_status}: the participant was looked up"
        );
        let recorded = sim.recordings().await.len();
        if want == StatusCode::OK {
            assert_eq!(recorded, 1, "{participant_status}");
        } else {
            assert_eq!(recorded, 0, "{participant_status}");
            assert!(
                a.json["message"]
                    .as_str()
                    .unwrap()
                    .contains("is neither the call of task"),
                "{}",
                a.json
            );
        }
    }
}
