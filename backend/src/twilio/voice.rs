//! Programmable Voice (`api.twilio.com`): recordings of a call or a
//! conference, calls, conferences and their participants.

use super::{is_not_found, parse, Repeat, TwilioClient, TwilioError};
use crate::config::StatusCallback;
use dual_channel_recording::sid::{CallSid, ConferenceSid, RecordingSid};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Recording {
    pub sid: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub channels: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RecordingPage {
    #[serde(default)]
    recordings: Vec<Recording>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Call {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Participant {
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ConferenceIn {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct ConferencePage {
    #[serde(default)]
    conferences: Vec<ConferenceIn>,
}

/// What a recording belongs to, as Twilio addresses it: `Calls/{CA}` (a
/// leg this backend records) or `Conferences/{CF}` (Flex's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordingParent {
    Call(CallSid),
    Conference(ConferenceSid),
}

impl std::fmt::Display for RecordingParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordingParent::Call(ca) => write!(f, "Calls/{ca}"),
            RecordingParent::Conference(cf) => write!(f, "Conferences/{cf}"),
        }
    }
}

impl std::str::FromStr for RecordingParent {
    type Err = ();
    /// The text `Display` writes, with a SID of the right kind.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.split_once('/').ok_or(())? {
            ("Calls", ca) => ca.parse().map(RecordingParent::Call).map_err(|_| ()),
            ("Conferences", cf) => cf.parse().map(RecordingParent::Conference).map_err(|_| ()),
            _ => Err(()),
        }
    }
}

impl TwilioClient {
    /// Every SID here is typed (`sid::Sid`): checked before it can reach a URL.
    pub async fn create_recording(
        &self,
        call_sid: &CallSid,
        status_callback: Option<&StatusCallback>,
    ) -> Result<Recording, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{call_sid}/Recordings.json",
            self.hosts.api, self.account_sid
        );
        let mut form: Vec<(&str, &str)> =
            vec![("RecordingChannels", "dual"), ("RecordingTrack", "both")];
        if let Some(cb) = status_callback {
            form.push(("RecordingStatusCallback", cb.url.as_str()));
            form.push(("RecordingStatusCallbackMethod", "POST"));
            for e in &cb.events {
                form.push(("RecordingStatusCallbackEvent", e.as_str()));
            }
        }
        let reply = self
            .send("start recording", Repeat::NotOnTimeout, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        parse(&Self::ok_or_api(reply)?, "start recording")
    }

    /// The first page of the call's recordings and whether more pages exist.
    pub async fn list_recordings(
        &self,
        call_sid: &CallSid,
    ) -> Result<(Vec<Recording>, bool), TwilioError> {
        self.list_recordings_of(&RecordingParent::Call(call_sid.clone()))
            .await
    }

    /// The first page of the recordings of a call or a conference (Flex's
    /// own) and whether more exist.
    pub async fn list_recordings_of(
        &self,
        parent: &RecordingParent,
    ) -> Result<(Vec<Recording>, bool), TwilioError> {
        let what = match parent {
            RecordingParent::Call(_) => "list recordings",
            RecordingParent::Conference(_) => "list conference recordings",
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{parent}/Recordings.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send(what, Repeat::Safe, || {
                self.http.get(&url).query(&[("PageSize", "100")])
            })
            .await?;
        let page: RecordingPage = parse(&Self::ok_or_api(reply)?, what)?;
        Ok((page.recordings, page.next_page_uri.is_some()))
    }

    /// Sets a recording's `Status` (`paused` with `PauseBehavior`, or
    /// `in-progress`), addressed by its SID: `Twilio.CURRENT` is ambiguous
    /// when a call or conference has several recordings. Repeating it is
    /// harmless: setting the status a recording already has changes nothing.
    pub async fn update_recording_status(
        &self,
        parent: &RecordingParent,
        recording_sid: &RecordingSid,
        status: &str,
        pause_behavior: Option<&str>,
    ) -> Result<Recording, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{parent}/Recordings/{recording_sid}.json",
            self.hosts.api, self.account_sid
        );
        let mut form: Vec<(&str, &str)> = vec![("Status", status)];
        if let Some(b) = pause_behavior {
            form.push(("PauseBehavior", b));
        }
        let reply = self
            .send("update recording status", Repeat::Safe, || {
                self.http.post(&url).form(&form)
            })
            .await?;
        parse(&Self::ok_or_api(reply)?, "update recording status")
    }

    /// `None` when Twilio does not know the call.
    pub async fn fetch_call(&self, call_sid: &CallSid) -> Result<Option<Call>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{call_sid}.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("fetch call", Repeat::Safe, || self.http.get(&url))
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch call").map(Some)
    }

    /// The conferences named `friendly_name`, whatever their status: Flex
    /// names a task's conference after the task SID (`docs/flex-facts.md`,
    /// "Finding a task's conference server side").
    pub async fn conferences_named(
        &self,
        friendly_name: &str,
    ) -> Result<Vec<ConferenceSid>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Conferences.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("list conferences", Repeat::Safe, || {
                self.http
                    .get(&url)
                    .query(&[("FriendlyName", friendly_name), ("PageSize", "20")])
            })
            .await?;
        let page: ConferencePage = parse(&Self::ok_or_api(reply)?, "list conferences")?;
        Ok(page
            .conferences
            .into_iter()
            .filter_map(|c| c.sid.parse().ok())
            .collect())
    }

    /// `None` when the call is not (or no longer) in the conference.
    pub async fn fetch_participant(
        &self,
        conference_sid: &ConferenceSid,
        call_sid: &CallSid,
    ) -> Result<Option<Participant>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Conferences/{conference_sid}/Participants/{call_sid}.json",
            self.hosts.api, self.account_sid
        );
        let reply = self
            .send("fetch conference participant", Repeat::Safe, || {
                self.http.get(&url)
            })
            .await?;
        if is_not_found(&reply) {
            return Ok(None);
        }
        parse(&Self::ok_or_api(reply)?, "fetch conference participant").map(Some)
    }
}
