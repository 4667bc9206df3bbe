//! The backend against Twilio's documented behaviour (issue 9): the
//! reservation lifecycle, TaskRouter's 4096-character attribute limit, and
//! Twilio's 21220 on every request the backend makes. Each case runs against
//! the real simulator and checks the answer and that nothing was lost.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const STATUSES: [&str; 8] = [
    "pending",
    "accepted",
    "rejected",
    "timeout",
    "canceled",
    "rescinded",
    "wrapping",
    "completed",
];

async fn set_reservation(sim: &Sim, status: &str) {
    sim.post(
        "/reservations",
        json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": status}),
    )
    .await;
}

fn live(status: &str) -> bool {
    matches!(status, "accepted" | "wrapping")
}

#[tokio::test]
async fn recording_with_the_reservation_named_in_each_status() {
    for status in STATUSES {
        let sim = Sim::start().await;
        sim.scene().await;
        set_reservation(&sim, status).await;
        let before = sim.attributes(WT).await;
        let app = backend_for(&sim);
        let a = create(&app, &customer_request()).await;
        if live(status) {
            assert_eq!(a.status, StatusCode::OK, "{status}: {}", a.json);
            assert_eq!(a.json["mediaWritten"], true, "{status}: {}", a.json);
            assert_eq!(sim.recordings().await.len(), 1, "{status}");
        } else {
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{status}: {}", a.json);
            let m = a.json["message"].as_str().unwrap_or_default();
            assert!(m.contains(WR) && m.contains(status), "{status}: {m}");
            assert!(sim.recordings().await.is_empty(), "{status}");
            assert_eq!(sim.attributes(WT).await, before, "{status}");
        }
        // One fetch of that reservation, never a list.
        let log = sim.log().await;
        assert_eq!(count(&log, "GET", &format!("/Reservations/{WR}")), 1);
    }
}

#[tokio::test]
async fn linking_the_conference_in_each_status() {
    for status in STATUSES {
        let sim = Sim::start().await;
        sim.scene().await;
        sim.put(
            &format!("/tasks/{WT}"),
            json!({"attributes": {"direction": "outbound", "outbound_to": "+15550300111"}}),
        )
        .await;
        set_reservation(&sim, status).await;
        let app = backend_for(&sim);
        let a = post_form(
            &app,
            LINK,
            &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
        )
        .await;
        let attrs = sim.attributes(WT).await;
        if live(status) {
            assert_eq!(a.status, StatusCode::OK, "{status}: {}", a.json);
            assert_eq!(attrs["conference"]["sid"], CF, "{status}");
        } else {
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{status}: {}", a.json);
            let m = a.json["message"].as_str().unwrap_or_default();
            assert!(
                m.contains("no accepted or wrapping reservation") && m.contains(status),
                "{status}: {m}"
            );
            assert_eq!(
                attrs,
                json!({"direction": "outbound", "outbound_to": "+15550300111"})
            );
        }
    }
}

/// The `Attributes` text of the backend's task writes, in order.
async fn written_attributes(sim: &Sim) -> Vec<String> {
    sim.log()
        .await
        .iter()
        .filter(|e| {
            e["method"] == "POST" && e["path"].as_str().is_some_and(|p| p.contains("/Tasks/"))
        })
        .filter_map(|e| e["requestBody"]["Attributes"].as_str().map(str::to_string))
        .collect()
}

fn chars(v: &Value) -> usize {
    v.to_string().chars().count()
}

async fn scene_with_notes(notes: &str) -> (Sim, Value) {
    let sim = Sim::start().await;
    sim.scene().await;
    let attrs = json!({"call_sid": CA_CUSTOMER, "conference": {"sid": CF}, "notes": notes});
    sim.put(&format!("/tasks/{WT}"), json!({ "attributes": attrs }))
        .await;
    (sim, attrs)
}

#[tokio::test]
async fn media_entry_at_4095_4096_and_4097_characters() {
    // What the media entry adds, measured on a short document.
    let (sim, attrs) = scene_with_notes("").await;
    let a = create(&backend_for(&sim), &customer_request()).await;
    assert_eq!(a.json["mediaWritten"], true, "{}", a.json);
    let written = written_attributes(&sim).await;
    let added = written[0].chars().count() - chars(&attrs);

    for total in [4095usize, 4096, 4097] {
        let notes = "x".repeat(total - added - chars(&attrs));
        let (sim, attrs) = scene_with_notes(&notes).await;
        let before = sim.attributes(WT).await;
        let a = create(&backend_for(&sim), &customer_request()).await;
        assert_eq!(a.status, StatusCode::OK, "{total}: {}", a.json);
        assert_eq!(a.json["success"], true);
        // The recording stands whatever happens to the entry.
        assert_eq!(sim.recordings().await.len(), 1, "{total}");
        let rec = a.json["recordingSid"].as_str().unwrap().to_string();
        let written = written_attributes(&sim).await;
        if total <= 4096 {
            assert_eq!(a.json["mediaWritten"], true, "{total}: {}", a.json);
            assert_eq!(written.len(), 1);
            assert_eq!(written[0].chars().count(), total);
            let after = sim.attributes(WT).await;
            assert_eq!(after["notes"], attrs["notes"], "nothing shortened");
            assert_eq!(
                after["conversations"]["media"][0]["url"],
                a.json["recordingUrl"]
            );
        } else {
            assert_eq!(a.json["mediaWritten"], false, "{total}: {}", a.json);
            let w = a.json["warning"].as_str().unwrap();
            assert!(w.contains(&rec), "{w}");
            assert!(w.contains("4097 characters") && w.contains("4096"), "{w}");
            assert!(written.is_empty(), "no write is sent");
            assert_eq!(sim.attributes(WT).await, before);
        }
    }
}

#[tokio::test]
async fn conference_link_that_would_not_fit_is_refused_and_nothing_written() {
    let sim = Sim::start().await;
    sim.scene().await;
    let attrs = json!({"direction": "outbound", "notes": "x".repeat(4060)});
    sim.put(&format!("/tasks/{WT}"), json!({ "attributes": attrs }))
        .await;
    let app = backend_for(&sim);
    let a = post_form(
        &app,
        LINK,
        &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.json);
    let m = a.json["message"].as_str().unwrap();
    assert!(m.contains("characters") && m.contains("4096"), "{m}");
    assert!(written_attributes(&sim).await.is_empty());
    assert_eq!(sim.attributes(WT).await, attrs);
}

/// Every request the backend makes, met by a Twilio error carrying 21220.
struct Case {
    what: &'static str,
    method: &'static str,
    path_suffix: String,
}

async fn fault(sim: &Sim, status: u16, case: &Case) {
    sim.post(
        "/faults",
        json!({"failNext": {"status": status, "code": 21220, "count": 5, "path": case.path_suffix, "method": case.method}}),
    )
    .await;
}

#[tokio::test]
async fn twilio_21220_on_each_request_is_never_retried() {
    const CA_OWN: &str = "CA000000000000000000000000000000d1";
    let cases = [
        Case {
            what: "token check",
            method: "POST",
            path_suffix: "/Tokens/validate".into(),
        },
        Case {
            what: "fetch reservation",
            method: "GET",
            path_suffix: format!("/Reservations/{WR}"),
        },
        Case {
            what: "fetch task",
            method: "GET",
            path_suffix: format!("/Tasks/{WT}"),
        },
        Case {
            what: "fetch conference participant",
            method: "GET",
            path_suffix: format!("/Participants/{CA_WORKER}.json"),
        },
        Case {
            what: "fetch call",
            method: "GET",
            path_suffix: format!("/Calls/{CA_OWN}.json"),
        },
        Case {
            what: "start recording",
            method: "POST",
            path_suffix: "/Recordings.json".into(),
        },
    ];
    for status in [400u16, 404, 429, 503] {
        for case in &cases {
            let sim = Sim::start().await;
            sim.scene().await;
            // The worker's own client leg, in no conference: read as a call.
            sim.post(
                "/calls",
                json!({"callSid": CA_OWN, "status": "in-progress", "from": "+15005550001", "to": format!("client:{IDENTITY}")}),
            )
            .await;
            let before = sim.attributes(WT).await;
            let app = backend_for(&sim);
            let mut req = customer_request();
            match case.what {
                "fetch conference participant" => req[0].1 = CA_WORKER.into(),
                "fetch call" => {
                    req[0].1 = CA_OWN.into();
                    req.retain(|(k, _)| *k != "conferenceSid");
                }
                _ => {}
            }
            fault(&sim, status, case).await;
            let a = create(&app, &req).await;
            let label = format!("{} answered {status}/21220", case.what);
            assert_eq!(a.status, StatusCode::CONFLICT, "{label}: {}", a.json);
            assert_eq!(a.json["code"], 21220, "{label}");
            let log = sim.log().await;
            let tries = log
                .iter()
                .filter(|e| {
                    e["method"] == case.method
                        && e["path"]
                            .as_str()
                            .is_some_and(|p| p.ends_with(&case.path_suffix))
                })
                .count();
            assert_eq!(tries, 1, "{label}: retried");
            assert!(sim.recordings().await.is_empty(), "{label}");
            assert_eq!(sim.attributes(WT).await, before, "{label}");
        }
    }
}

#[tokio::test]
async fn twilio_21220_on_list_recordings_list_reservations_and_task_writes() {
    for status in [400u16, 429] {
        // Listing the call's recordings (a repeat request on a call we record).
        let sim = Sim::start().await;
        sim.scene().await;
        let app = backend_for(&sim);
        let first = create(&app, &customer_request()).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        let media = sim.attributes(WT).await;
        let case = Case {
            what: "list recordings",
            method: "GET",
            path_suffix: "/Recordings.json".into(),
        };
        fault(&sim, status, &case).await;
        let a = create(&app, &customer_request()).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{status}: {}", a.json);
        assert_eq!(a.json["code"], 21220);
        assert_eq!(count(&sim.log().await, "GET", "/Recordings.json"), 1);
        assert_eq!(
            sim.recordings().await.len(),
            1,
            "the first recording stands"
        );
        assert_eq!(sim.attributes(WT).await, media);

        // Listing the worker's reservations (link-call names none).
        let sim = Sim::start().await;
        sim.scene().await;
        let app = backend_for(&sim);
        let before = sim.attributes(WT).await;
        let case = Case {
            what: "list reservations",
            method: "GET",
            path_suffix: "/Reservations".into(),
        };
        fault(&sim, status, &case).await;
        let a = post_form(
            &app,
            LINK,
            &[
                ("Token", TOKEN),
                ("taskSid", WT),
                ("customerCallSid", CA_CUSTOMER),
            ],
        )
        .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{status}: {}", a.json);
        assert_eq!(count(&sim.log().await, "GET", "/Reservations"), 1);
        assert_eq!(sim.attributes(WT).await, before);

        // Writing the task: the recording stands and the answer says why the
        // entry is missing (create); link-call answers 409.
        let sim = Sim::start().await;
        sim.scene().await;
        let app = backend_for(&sim);
        let before = sim.attributes(WT).await;
        let case = Case {
            what: "update task",
            method: "POST",
            path_suffix: format!("/Tasks/{WT}"),
        };
        fault(&sim, status, &case).await;
        let a = create(&app, &customer_request()).await;
        assert_eq!(a.status, StatusCode::OK, "{status}: {}", a.json);
        assert_eq!(a.json["mediaWritten"], false);
        let w = a.json["warning"].as_str().unwrap();
        assert!(
            w.contains("21220") || w.contains("Forbidden") || w.contains("Twilio"),
            "{w}"
        );
        assert_eq!(count(&sim.log().await, "POST", &format!("/Tasks/{WT}")), 1);
        assert_eq!(sim.recordings().await.len(), 1);
        assert_eq!(sim.attributes(WT).await, before);

        sim.put(
            &format!("/tasks/{WT}"),
            json!({"attributes": {"direction": "outbound"}}),
        )
        .await;
        let before_link = count(&sim.log().await, "POST", &format!("/Tasks/{WT}"));
        let a = post_form(
            &app,
            LINK,
            &[("Token", TOKEN), ("taskSid", WT), ("conferenceSid", CF)],
        )
        .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{status}: {}", a.json);
        assert_eq!(a.json["code"], 21220);
        assert_eq!(
            count(&sim.log().await, "POST", &format!("/Tasks/{WT}")),
            before_link + 1
        );
        assert_eq!(sim.attributes(WT).await, json!({"direction": "outbound"}));
    }
}
