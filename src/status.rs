//! What `status(taskSid)` tells other plugins of a task: a plain object
//! `{state, recordings, reason?}` (a JS object in the browser, through
//! serde-wasm-bindgen).

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub state: &'static str,
    pub recordings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Status {
    /// A task this instance knows nothing of.
    pub fn unknown() -> Status {
        Status {
            state: "unknown",
            recordings: Vec::new(),
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_for_other_plugins() {
        let cases = [
            (
                Status {
                    state: "recording",
                    recordings: vec!["RE1".into(), "RE2".into()],
                    reason: None,
                },
                json!({"state": "recording", "recordings": ["RE1", "RE2"]}),
            ),
            (
                Status {
                    state: "excluded",
                    recordings: vec![],
                    reason: Some("queue \"B\"".into()),
                },
                json!({"state": "excluded", "recordings": [], "reason": "queue \"B\""}),
            ),
            (
                Status::unknown(),
                json!({"state": "unknown", "recordings": []}),
            ),
        ];
        for (status, want) in cases {
            assert_eq!(serde_json::to_value(&status).unwrap(), want);
        }
    }
}
