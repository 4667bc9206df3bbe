//! `recording-backend event-streams setup --url <PUBLIC_URL>`: creates the
//! Event Streams webhook sink at `<PUBLIC_URL>/twilio/event-streams` and
//! subscribes it to the TaskRouter events the safety net reads (Twilio's
//! Events API, `POST /v1/Sinks` and `POST /v1/Subscriptions`).

use crate::config::EVENT_STREAMS_PATH;
use crate::twilio::TwilioClient;

/// The TaskRouter event types the safety net and the audit read
/// (`domain::events`).
pub const EVENT_TYPES: [&str; 5] = [
    "com.twilio.taskrouter.reservation.accepted",
    "com.twilio.taskrouter.reservation.wrapup",
    "com.twilio.taskrouter.reservation.completed",
    "com.twilio.taskrouter.task.completed",
    "com.twilio.taskrouter.task.canceled",
];

const DESCRIPTION: &str = "dual-channel recording safety net";

/// What was created, as the operator reads it.
pub async fn run(twilio: &TwilioClient, public_url: &str) -> Result<String, String> {
    let base = public_url.trim_end_matches('/');
    if !base.starts_with("https://") && !base.starts_with("http://") {
        return Err(format!(
            "--url must be the backend's PUBLIC_URL (https://host), not {base:?}"
        ));
    }
    let destination = format!("{base}{EVENT_STREAMS_PATH}");
    let sink = twilio
        .create_webhook_sink(DESCRIPTION, &destination)
        .await
        .map_err(|e| format!("creating the sink failed: {e}"))?;
    let subscription = twilio
        .create_subscription(DESCRIPTION, &sink, &EVENT_TYPES)
        .await
        .map_err(|e| format!("the sink {sink} was created, but subscribing it failed: {e}"))?;
    Ok(format!(
        "sink {sink} delivers to {destination}\nsubscription {subscription}: {}\nNext: test and validate the sink (README, \"When the browser fails\"):\n  twilio api:events:v1:sinks:test:create --sid {sink}\n",
        EVENT_TYPES.join(", ")
    ))
}
