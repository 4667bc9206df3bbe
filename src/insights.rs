//! Flex Insights custom media: the one definition of a `VoiceRecording` entry
//! and of where it goes in the task attributes. Shared by the wasm core (which
//! says what to link) and the backend (which writes it), so both agree.
//!
//! Invariants:
//! - entries are only ever appended; an entry already listed (same URL) is not
//!   added twice and no existing entry is changed or reordered;
//! - every key of the attributes that is not on the path we write stays as it is;
//! - a path that holds something other than an object (or `media` something
//!   other than an array) is someone else's data: we refuse instead of replacing it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const VOICE_RECORDING: &str = "VoiceRecording";

/// The link to a recording for Insights, under the REST API host the recording
/// was made through (`https://api.twilio.com`, or a regional host such as
/// `https://api.dublin.ie1.twilio.com`): a recording made in another region
/// is not served from the default host.
pub fn recording_url(api_host: &str, account_sid: &str, recording_sid: &str) -> String {
    let host = api_host.trim_end_matches('/');
    format!("{host}/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}")
}

/// The `channels` of every `VoiceRecording` entry. Twilio's "Turn on
/// dual-channel recording" page gives this one static value and warns that
/// other values make Insights metrics such as talk time inconsistent; the
/// flex-project-template writes it for customer and worker legs alike
/// (`docs/flex-facts.md`, "Flex Insights media"). In a recording of a
/// worker's leg, channel 1 (labelled "customer") holds that worker, and
/// channel 2 everyone else, the customer included.
pub const MEDIA_CHANNELS: [&str; 2] = ["customer", "others"];

/// Which call leg a recording was made on (which segment it belongs to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordedLeg {
    Customer,
    Worker,
}

impl RecordedLeg {
    /// Always [`MEDIA_CHANNELS`]: Insights knows no other labels.
    pub fn channels(self) -> [&'static str; 2] {
        MEDIA_CHANNELS
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordedLeg::Customer => "customer",
            RecordedLeg::Worker => "worker",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(RecordedLeg::Customer),
            "worker" => Some(RecordedLeg::Worker),
            _ => None,
        }
    }
}

/// Where in the task attributes a media entry belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaTarget {
    /// `conversations.media`: the whole conversation (customer leg).
    Conversation,
    /// `reservation_attributes.{WR...}.media`: one worker's segment.
    Reservation(String),
}

impl MediaTarget {
    fn path(&self) -> Vec<&str> {
        match self {
            MediaTarget::Conversation => vec!["conversations", "media"],
            MediaTarget::Reservation(wr) => vec!["reservation_attributes", wr.as_str(), "media"],
        }
    }

    /// Dotted path for messages.
    pub fn describe(&self) -> String {
        self.path().join(".")
    }
}

/// One `VoiceRecording` custom media entry, as Twilio's "Custom Media attached
/// to Conversations" page defines it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    /// Milliseconds since the Unix epoch.
    pub start_time: i64,
    pub channels: Vec<String>,
}

impl MediaEntry {
    pub fn voice_recording(url: String, start_time: i64, leg: RecordedLeg) -> Self {
        MediaEntry {
            kind: VOICE_RECORDING.to_string(),
            url,
            start_time,
            channels: leg.channels().iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// The `start_time` of a new entry. Flex Insights drops a recording whose start
/// lies after the reservation's `accepted` event, so the first recording of a
/// segment is dated one second before acceptance (the template's work-around);
/// later recordings of the same segment (Join Call) carry their own start.
pub fn entry_start_time(
    existing_recordings: usize,
    accepted_at_ms: Option<i64>,
    recording_start_ms: Option<i64>,
    now_ms: i64,
) -> i64 {
    match (existing_recordings, accepted_at_ms) {
        (0, Some(accepted)) => accepted.saturating_sub(1000),
        _ => recording_start_ms.unwrap_or(now_ms),
    }
}

/// Deepest task attributes the backend parses into a tree to merge. Twilio
/// caps task attributes at 4096 characters, so real documents are far shallower; past
/// this, parsing and dropping a tree would risk the stack, and the recording
/// stands without its Insights entry (with a warning saying why).
pub const MAX_MERGE_DEPTH: usize = 512;

/// How deeply `json` nests, counted without parsing (strings are skipped).
pub fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    TooDeep { depth: usize, max: usize },
    Invalid(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::TooDeep { depth, max } => write!(
                f,
                "the task attributes nest {depth} levels deep, more than the {max} this backend merges"
            ),
            ParseError::Invalid(e) => write!(f, "the task attributes are not valid JSON ({e})"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses task attributes for a merge: any depth up to `MAX_MERGE_DEPTH`
/// (serde_json alone stops at 128, which real Flex attributes can exceed).
pub fn parse_attributes(json: &str) -> Result<Value, ParseError> {
    parse_json_within(json.as_bytes(), MAX_MERGE_DEPTH)
}

/// Parses JSON of any depth up to `max_depth`, checked before parsing so
/// that no document deeper than that is ever built (parsing or dropping one
/// recurses once a level). The one depth pre-scan of the workspace: the
/// backend's merge and the simulator's bodies both come here.
pub fn parse_json_within<T: serde::de::DeserializeOwned>(
    json: &[u8],
    max_depth: usize,
) -> Result<T, ParseError> {
    let depth = nesting_depth(json);
    if depth > max_depth {
        return Err(ParseError::TooDeep {
            depth,
            max: max_depth,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    de.disable_recursion_limit();
    let v = T::deserialize(&mut de).map_err(|e| ParseError::Invalid(e.to_string()))?;
    de.end().map_err(|e| ParseError::Invalid(e.to_string()))?;
    Ok(v)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeOutcome {
    Added,
    AlreadyListed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// The attributes document itself is not a JSON object.
    NotAnObject,
    /// Something that is not an object sits where we must descend.
    Blocked { path: String, found: &'static str },
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeError::NotAnObject => write!(f, "the task attributes are not a JSON object"),
            MergeError::Blocked { path, found } => write!(
                f,
                "task attribute `{path}` holds {found}, not what Flex Insights expects there; it was left as it is"
            ),
        }
    }
}

impl std::error::Error for MergeError {}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The media list at `target`, if there is one.
pub fn media_list<'a>(attributes: &'a Value, target: &MediaTarget) -> Option<&'a Vec<Value>> {
    let mut cur = attributes;
    for key in target.path() {
        cur = cur.as_object()?.get(key)?;
    }
    cur.as_array()
}

/// How many `VoiceRecording` entries the target already lists.
pub fn existing_recordings(attributes: &Value, target: &MediaTarget) -> usize {
    media_list(attributes, target).map_or(0, |list| {
        list.iter()
            .filter(|e| e.get("type").and_then(Value::as_str) == Some(VOICE_RECORDING))
            .count()
    })
}

fn descend<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
    walked: &mut Vec<String>,
) -> Result<&'a mut Map<String, Value>, MergeError> {
    walked.push(key.to_string());
    let slot = obj
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    let found = kind_of(slot);
    slot.as_object_mut().ok_or_else(|| MergeError::Blocked {
        path: walked.join("."),
        found,
    })
}

/// Appends `entry` to the media list at `target`, creating the path as needed.
pub fn append_media(
    attributes: &mut Value,
    target: &MediaTarget,
    entry: &MediaEntry,
) -> Result<MergeOutcome, MergeError> {
    let path = target.path();
    let (last, parents) = path.split_last().expect("media paths are never empty");
    let mut obj = attributes.as_object_mut().ok_or(MergeError::NotAnObject)?;
    let mut walked = Vec::new();
    for key in parents {
        obj = descend(obj, key, &mut walked)?;
    }
    walked.push(last.to_string());
    let slot = obj
        .entry(last.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    let found = kind_of(slot);
    let list = slot.as_array_mut().ok_or_else(|| MergeError::Blocked {
        path: walked.join("."),
        found,
    })?;
    if list
        .iter()
        .any(|e| e.get("url").and_then(Value::as_str) == Some(entry.url.as_str()))
    {
        return Ok(MergeOutcome::AlreadyListed);
    }
    list.push(serde_json::to_value(entry).expect("a media entry always serialises"));
    Ok(MergeOutcome::Added)
}

/// Outbound calls started in Flex lack `conference.sid` and `call_sid`: fill in
/// what is missing, never replace what is there. Returns whether anything changed.
pub fn link_call(
    attributes: &mut Value,
    conference_sid: Option<&str>,
    customer_call_sid: Option<&str>,
) -> Result<bool, MergeError> {
    let obj = attributes.as_object_mut().ok_or(MergeError::NotAnObject)?;
    let mut changed = false;
    if let Some(cf) = conference_sid {
        let mut walked = Vec::new();
        let conf = descend(obj, "conference", &mut walked)?;
        if !conf.get("sid").is_some_and(Value::is_string) {
            conf.insert("sid".into(), Value::String(cf.to_string()));
            changed = true;
        }
    }
    if let Some(ca) = customer_call_sid {
        if !obj.get("call_sid").is_some_and(Value::is_string) {
            obj.insert("call_sid".into(), Value::String(ca.to_string()));
            changed = true;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(url: &str) -> MediaEntry {
        MediaEntry::voice_recording(url.into(), 1000, RecordedLeg::Customer)
    }

    #[test]
    fn entry_shape_is_twilios() {
        let v = serde_json::to_value(MediaEntry::voice_recording(
            "u".into(),
            5,
            RecordedLeg::Worker,
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"type": "VoiceRecording", "url": "u", "start_time": 5, "channels": ["customer", "others"]})
        );
        let v = serde_json::to_value(entry("u")).unwrap();
        assert_eq!(v["channels"], json!(["customer", "others"]));
    }

    #[test]
    fn channels_are_twilios_static_value_for_every_leg() {
        for leg in [RecordedLeg::Customer, RecordedLeg::Worker] {
            let e = MediaEntry::voice_recording("u".into(), 5, leg);
            assert_eq!(e.channels, vec!["customer", "others"], "{leg:?}");
        }
    }

    #[test]
    fn recording_links_use_the_api_host_given() {
        let cases = [
            (
                "https://api.twilio.com",
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            ),
            (
                "https://api.dublin.ie1.twilio.com",
                "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            ),
            (
                "https://api.sydney.au1.twilio.com/",
                "https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            ),
        ];
        for (host, want) in cases {
            assert_eq!(recording_url(host, "AC1", "RE1"), want);
        }
    }

    #[test]
    fn appends_without_touching_anything_else() {
        let mut a = json!({"x": {"y": [1, 2]}, "conversations": {"abandoned": "No", "media": [{"type": "Referenced", "url": "crm"}]}});
        assert_eq!(
            append_media(&mut a, &MediaTarget::Conversation, &entry("r1")).unwrap(),
            MergeOutcome::Added
        );
        assert_eq!(a["x"], json!({"y": [1, 2]}));
        assert_eq!(a["conversations"]["abandoned"], "No");
        assert_eq!(a["conversations"]["media"][0]["url"], "crm");
        assert_eq!(a["conversations"]["media"][1]["url"], "r1");
    }

    #[test]
    fn never_lists_a_url_twice() {
        let mut a = json!({});
        append_media(&mut a, &MediaTarget::Conversation, &entry("r1")).unwrap();
        assert_eq!(
            append_media(&mut a, &MediaTarget::Conversation, &entry("r1")).unwrap(),
            MergeOutcome::AlreadyListed
        );
        assert_eq!(a["conversations"]["media"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn reservation_target_keeps_other_reservations_and_order() {
        let wr = "WR00000000000000000000000000000009".to_string();
        let mut a = json!({"reservation_attributes": {"WRother": {"media": [1]}}});
        let t = MediaTarget::Reservation(wr.clone());
        append_media(&mut a, &t, &entry("r1")).unwrap();
        append_media(&mut a, &t, &entry("r2")).unwrap();
        assert_eq!(
            a["reservation_attributes"]["WRother"],
            json!({"media": [1]})
        );
        let list = &a["reservation_attributes"][&wr]["media"];
        assert_eq!(list[0]["url"], "r1");
        assert_eq!(list[1]["url"], "r2");
        assert_eq!(existing_recordings(&a, &t), 2);
        assert_eq!(t.describe(), format!("reservation_attributes.{wr}.media"));
    }

    #[test]
    fn refuses_to_overwrite_foreign_shapes() {
        let cases = [
            (
                json!({"conversations": "text"}),
                "conversations",
                "a string",
            ),
            (
                json!({"conversations": {"media": {"a": 1}}}),
                "conversations.media",
                "an object",
            ),
            (json!({"conversations": [1]}), "conversations", "an array"),
        ];
        for (mut a, path, found) in cases {
            let before = a.clone();
            let err = append_media(&mut a, &MediaTarget::Conversation, &entry("r")).unwrap_err();
            assert_eq!(
                err,
                MergeError::Blocked {
                    path: path.into(),
                    found
                }
            );
            assert_eq!(a, before);
        }
        assert_eq!(
            append_media(&mut json!([1]), &MediaTarget::Conversation, &entry("r")),
            Err(MergeError::NotAnObject)
        );
    }

    #[test]
    fn null_slots_are_filled() {
        let mut a = json!({"conversations": null});
        append_media(&mut a, &MediaTarget::Conversation, &entry("r")).unwrap();
        assert_eq!(a["conversations"]["media"][0]["url"], "r");
    }

    #[test]
    fn deep_attributes_parse_up_to_the_limit() {
        let deep = |n: usize| {
            format!(
                r#"{{"x": {}1{}, "s": "[[[{{"}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        assert_eq!(nesting_depth(deep(300).as_bytes()), 301);
        let mut v = parse_attributes(&deep(300)).unwrap();
        append_media(&mut v, &MediaTarget::Conversation, &entry("r")).unwrap();
        let text = serde_json::to_string(&v).unwrap();
        assert!(text.contains(&"[".repeat(300)));
        // The deepest accepted document parses, serialises and drops within a
        // 2 MB stack (a test thread's, and a tokio worker's).
        let deepest = parse_attributes(&deep(MAX_MERGE_DEPTH - 1)).unwrap();
        assert!(serde_json::to_string(&deepest).is_ok());
        drop(deepest);
        assert_eq!(
            parse_attributes(&deep(MAX_MERGE_DEPTH)),
            Err(ParseError::TooDeep {
                depth: MAX_MERGE_DEPTH + 1,
                max: MAX_MERGE_DEPTH
            })
        );
        assert!(matches!(
            parse_attributes("{\"a\": }"),
            Err(ParseError::Invalid(_))
        ));
        assert!(matches!(
            parse_attributes("{} x"),
            Err(ParseError::Invalid(_))
        ));
    }

    #[test]
    fn start_time_rule() {
        assert_eq!(entry_start_time(0, Some(10_000), Some(12_000), 99), 9_000);
        assert_eq!(entry_start_time(1, Some(10_000), Some(12_000), 99), 12_000);
        assert_eq!(entry_start_time(1, Some(10_000), None, 99), 99);
        assert_eq!(entry_start_time(0, None, Some(12_000), 99), 12_000);
        assert_eq!(entry_start_time(0, Some(i64::MIN), None, 0), i64::MIN);
    }

    #[test]
    fn link_call_fills_only_gaps() {
        let mut a = json!({"direction": "outbound"});
        assert!(link_call(&mut a, Some("CF1"), Some("CA1")).unwrap());
        assert_eq!(
            a,
            json!({"direction": "outbound", "conference": {"sid": "CF1"}, "call_sid": "CA1"})
        );
        assert!(!link_call(&mut a, Some("CF2"), Some("CA2")).unwrap());
        assert_eq!(a["conference"]["sid"], "CF1");
        let mut b = json!({"conference": {"participants": {"worker": "CAw"}}});
        assert!(link_call(&mut b, Some("CF1"), None).unwrap());
        assert_eq!(
            b["conference"],
            json!({"participants": {"worker": "CAw"}, "sid": "CF1"})
        );
    }
}
