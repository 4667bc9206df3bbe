//! The control API's side of Event Streams and callbacks: how deliveries
//! behave (`PUT /_sim/event-streams`, the scenario format's `eventStreams`
//! object), what was sent (`GET /_sim/webhooks`), and the sinks and
//! subscriptions in `/_sim/state`.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ControlError;
use crate::model::{DeliveryOptions, Sim};
use crate::request::control_body;
use crate::SimState;

/// Upper bound on `delayMs`: Twilio delivers within seconds, and a typo must
/// not hold a run.
const MAX_DELAY_MS: u64 = 60_000;

/// `PUT /_sim/event-streams` `{"duplicates", "reorder", "delayMs"}`: every
/// later delivery behaves so (all off: in order, once, at once).
pub(crate) async fn put_delivery(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let options: DeliveryOptions = control_body(&body)?;
    if options.delay_ms > MAX_DELAY_MS {
        return Err(crate::error::bad(format!(
            "delayMs must be at most {MAX_DELAY_MS}"
        )));
    }
    st.lock().delivery = options;
    Ok(Json(json!({"ok": true})))
}

/// `GET /_sim/webhooks`: every attempt to deliver an Event Streams batch or
/// a recording status callback, oldest first, and how many are still queued
/// or on their way.
pub(crate) async fn webhooks(State(st): State<SimState>) -> Json<Value> {
    let sim = st.lock();
    Json(json!({"pending": sim.webhooks_pending, "webhooks": sim.webhooks}))
}

/// Sinks and subscriptions as `/_sim/state` shows them (a sink's `testId`
/// is what its test event carried, for `Validate`).
pub(crate) fn state(sim: &Sim) -> Value {
    let w = &sim.world;
    json!({
        "sinks": w.sinks.iter().map(|s| json!({
            "sid": s.sid,
            "type": s.sink_type,
            "status": s.status,
            "destination": s.destination(),
            "testId": s.test_id,
        })).collect::<Vec<_>>(),
        "subscriptions": w.subscriptions.iter().map(|s| json!({
            "sid": s.sid,
            "sinkSid": s.sink_sid,
            "types": s.types.iter().map(|(t, v)| json!({"type": t, "schemaVersion": v})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "delivery": sim.delivery,
        "pending": sim.webhooks_pending,
    })
}
