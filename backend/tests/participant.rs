//! The participant-status rule of authorization (`authz::in_conference`):
//! a call that is in the task's conference may be recorded, one Twilio
//! answers for as `complete` (it left) or `failed` (it never joined) may
//! not. Twilio's Participant resource has those statuses, and a fetch made
//! as a participant leaves can still find it so; the simulator plays that
//! with a participant's `twilioStatus`.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// A call that is neither the task's (`call_sid`) nor the worker's own
/// client leg: only its place in the conference can make it the task's.
const CA_THIRD: &str = "CA000000000000000000000000000000d3";

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
                {"callSid": CA_THIRD, "participantType": "external", "status": "joined", "twilioStatus": participant_status}
            ]}),
        )
        .await;
        let app = backend_for(&sim);
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
