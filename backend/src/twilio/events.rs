//! The Events API calls (`events.twilio.com`: Event Streams' sinks and
//! subscriptions) of `recording-backend event-streams setup`, on the one
//! Twilio client (`twilio`: its retries, timeouts and error mapping).

use super::{parse, Repeat, TwilioClient, TwilioError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Created {
    sid: String,
}

impl TwilioClient {
    /// `POST https://events.twilio.com/v1/Sinks`: a webhook sink Twilio
    /// delivers Event Streams events to (`SinkConfiguration` is JSON text,
    /// `destination` and `method` for a webhook). Answers the sink's SID.
    pub async fn create_webhook_sink(
        &self,
        description: &str,
        destination: &str,
    ) -> Result<String, TwilioError> {
        let url = format!("{}/v1/Sinks", self.hosts.events);
        let configuration = serde_json::json!({
            "destination": destination,
            "method": "POST",
            "batch_events": false,
        })
        .to_string();
        let form = [
            ("Description", description),
            ("SinkType", "webhook"),
            ("SinkConfiguration", configuration.as_str()),
        ];
        let reply = self
            .send("create sink", Repeat::NotOnTimeout, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        let created: Created = parse(&TwilioClient::ok_or_api(reply)?, "create sink")?;
        Ok(created.sid)
    }

    /// `POST https://events.twilio.com/v1/Subscriptions`: subscribes the sink
    /// to `types` (each sent as Twilio's `{"type", "schema_version"}` JSON
    /// text). Answers the subscription's SID.
    pub async fn create_subscription(
        &self,
        description: &str,
        sink_sid: &str,
        types: &[&str],
    ) -> Result<String, TwilioError> {
        let url = format!("{}/v1/Subscriptions", self.hosts.events);
        let types: Vec<String> = types
            .iter()
            .map(|t| serde_json::json!({"type": t, "schema_version": 1}).to_string())
            .collect();
        let mut form: Vec<(&str, &str)> = vec![("Description", description), ("SinkSid", sink_sid)];
        for t in &types {
            form.push(("Types", t.as_str()));
        }
        let reply = self
            .send("create subscription", Repeat::NotOnTimeout, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        let created: Created = parse(&TwilioClient::ok_or_api(reply)?, "create subscription")?;
        Ok(created.sid)
    }
}
