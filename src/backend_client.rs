//! Talking to the backend, as decisions: when to retry, how long to wait, and
//! what an answer means. The wasm shell does the actual `fetch`.

use crate::retry::Backoff;
use core::time::Duration;

use crate::api::{RefusalCode, TWILIO_CALL_NOT_IN_PROGRESS};
use crate::document::Document;

/// A parsed body of the backend: serde_json's tree natively; in the browser
/// the JS engine's parse, read into a `Tree` by the shell (`wasm::answer`),
/// so the wasm carries no JSON parser.
#[cfg(not(target_arch = "wasm32"))]
pub type Body = serde_json::Value;
#[cfg(target_arch = "wasm32")]
pub type Body = crate::document::Tree;

/// How the plugin retries a request to the backend (`retry::Backoff`):
/// about as the template's client, up to 10 attempts, delays with full jitter
/// doubling from 200 ms up to 3 s. No time budget: a request ends with its
/// attempts or with its task.
pub const RETRY: Backoff = Backoff {
    max_attempts: 10,
    base: Duration::from_millis(200),
    cap: Duration::from_secs(3),
    budget: None,
};

/// What the shell saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// No HTTP answer: connection refused, DNS, CORS, aborted.
    Network(String),
    Http {
        status: u16,
        /// The body as JSON, parsed by the shell; `None` when it could not
        /// be read as JSON (a proxy's HTML page, an empty body; in the
        /// browser also what `wasm::answer` refuses: a lone surrogate, more
        /// than `attributes::MAX_ARRAY_LEN` array elements, nesting past
        /// serde_json's limit).
        body: Option<Body>,
    },
}

/// (In the browser `wasm::answer` defines this helper: the shell's parse.)
#[cfg(all(test, not(target_arch = "wasm32")))]
impl Answer {
    /// An HTTP answer with this body text, parsed as the shell would.
    pub(crate) fn http(status: u16, text: &str) -> Answer {
        let body = serde_json::from_str(text).ok();
        Answer::Http { status, body }
    }
}

/// What an answer means for a create-recording request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    Done(T),
    /// Worth trying again: the backend or Twilio is briefly unavailable.
    Retry(String),
    /// Trying again cannot help.
    Fail(String),
    /// The backend's recording policy (its own reading of the Flex
    /// configuration) forbids it: a decision, not a failure.
    Refused(String),
}

/// What the plugin needs of `api::CreateRecordingResponse`. Read with our own
/// JSON reader (no serde in the wasm); a test checks it against the serde type
/// the backend writes, so the two cannot drift apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    pub call_sid: String,
    pub recording_sid: String,
    pub already_recording: bool,
    pub warning: Option<String>,
}

fn describe_error(status: u16, body: Option<&Body>) -> String {
    let text = |k: &str| body.and_then(|v| v.str_at(k));
    let message = text("message");
    let code = body.and_then(|v| v.i64_at("code"));
    match (code, message) {
        (Some(TWILIO_CALL_NOT_IN_PROGRESS), Some(m)) => {
            format!("the call is no longer in progress (Twilio {TWILIO_CALL_NOT_IN_PROGRESS}: {m})")
        }
        (Some(code), Some(m)) => match text("moreInfo") {
            Some(info) => format!("HTTP {status}, code {code}: {m} ({info})"),
            None => format!("HTTP {status}, code {code}: {m}"),
        },
        _ => format!("HTTP {status} without a readable error body"),
    }
}

fn error_code(body: Option<&Body>) -> Option<i64> {
    body?.i64_at("code")
}

/// The message of a policy refusal (`api::RefusalBody`), if `body` is one.
fn refusal(body: Option<&Body>) -> Option<String> {
    let v = body?;
    let code = RefusalCode::from_code(&v.str_at("code")?)?;
    let message = v.str_at("message").unwrap_or_default();
    Some(match v.str_at("rule") {
        Some(rule) => format!("{message} (rule: {rule}; code {})", code.as_str()),
        None => format!("{message} (code {})", code.as_str()),
    })
}

pub(crate) fn classify<T>(answer: &Answer, read: impl Fn(&Body) -> Option<T>) -> Outcome<T> {
    let (status, body) = match answer {
        Answer::Network(why) => {
            return Outcome::Retry(format!("the backend could not be reached ({why})"))
        }
        Answer::Http { status, body } => (*status, body.as_ref()),
    };
    if (200..300).contains(&status) {
        return match body.and_then(&read) {
            Some(v) => Outcome::Done(v),
            None => Outcome::Fail(format!(
                "the backend answered {status} with an unreadable body"
            )),
        };
    }
    // Twilio's 21220 (the call is not in progress) is final whatever HTTP
    // status carries it: no repeat can bring the call back.
    if error_code(body) == Some(TWILIO_CALL_NOT_IN_PROGRESS) {
        return Outcome::Fail(describe_error(status, body));
    }
    match status {
        403 => match refusal(body) {
            Some(why) => Outcome::Refused(why),
            None => Outcome::Fail(describe_error(status, body)),
        },
        429 | 500.. => Outcome::Retry(describe_error(status, body)),
        _ => Outcome::Fail(describe_error(status, body)),
    }
}

pub fn create_outcome(answer: &Answer) -> Outcome<Started> {
    classify(answer, |v| {
        Some(Started {
            call_sid: v.str_at("callSid")?,
            recording_sid: v.str_at("recordingSid")?,
            already_recording: v.bool_at("alreadyRecording").unwrap_or(false),
            warning: v.str_at("warning"),
        })
    })
}

pub fn authorize_outcome(answer: &Answer) -> Outcome<u64> {
    classify(answer, |v| {
        v.bool_at("success").filter(|ok| *ok)?;
        v.i64_at("validForMs").and_then(|ms| u64::try_from(ms).ok())
    })
}

pub fn link_outcome(answer: &Answer) -> Outcome<bool> {
    classify(answer, |v| v.bool_at("success").filter(|ok| *ok))
}

/// A small xorshift generator: the core stays deterministic under test while
/// the shell seeds it from the browser's randomness.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    pub fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_table() {
        let ok = r#"{"success":true,"callSid":"CA1","recordingSid":"RE1","recordingUrl":"u","alreadyRecording":false,"media":null,"mediaWritten":true}"#;
        let cases: Vec<(Answer, &str)> = vec![
            (Answer::Network("refused".into()), "retry"),
            (Answer::http(200, ok), "done"),
            (Answer::http(201, ok), "done"),
            (Answer::http(200, "<html>"), "fail"),
            (Answer::http(429, ""), "retry"),
            (
                Answer::http(502, r#"{"success":false,"message":"m","code":20500}"#),
                "retry",
            ),
            (Answer::http(503, ""), "retry"),
            (
                Answer::http(
                    409,
                    r#"{"success":false,"message":"Call is not in-progress","code":21220}"#,
                ),
                "fail",
            ),
            (
                Answer::http(403, r#"{"success":false,"message":"no","code":403}"#),
                "fail",
            ),
            // 21220 is final whatever status carries it.
            (
                Answer::http(
                    502,
                    r#"{"success":false,"message":"Call is not in-progress","code":21220}"#,
                ),
                "fail",
            ),
            (
                Answer::http(503, r#"{"success":false,"message":"m","code":21220}"#),
                "fail",
            ),
            (
                Answer::http(429, r#"{"success":false,"message":"m","code":21220}"#),
                "fail",
            ),
            (
                Answer::http(400, r#"{"success":false,"message":"m","code":21220}"#),
                "fail",
            ),
            (Answer::http(400, ""), "fail"),
            (
                Answer::http(
                    403,
                    r#"{"success":false,"code":"excluded","message":"m","rule":"exclude_queues: Sales"}"#,
                ),
                "refused",
            ),
            (
                Answer::http(403, r#"{"success":false,"code":"disabled","message":"m"}"#),
                "refused",
            ),
            (
                Answer::http(
                    403,
                    r#"{"success":false,"code":"something-else","message":"m"}"#,
                ),
                "fail",
            ),
            // Only a 403 is a refusal; a 503 while the policy is unknown is retried.
            (
                Answer::http(
                    503,
                    r#"{"success":false,"code":503,"message":"the recording policy could not be read"}"#,
                ),
                "retry",
            ),
        ];
        for (answer, want) in cases {
            let got = match create_outcome(&answer) {
                Outcome::Done(_) => "done",
                Outcome::Retry(_) => "retry",
                Outcome::Fail(_) => "fail",
                Outcome::Refused(_) => "refused",
            };
            assert_eq!(got, want, "{answer:?}");
        }
    }

    #[test]
    fn error_messages_carry_twilios_words() {
        let a = Answer::http(
            409,
            r#"{"success":false,"message":"Call is not in-progress. Cannot create recording.","code":21220}"#,
        );
        let Outcome::Fail(m) = create_outcome(&a) else {
            panic!()
        };
        assert_eq!(m, "the call is no longer in progress (Twilio 21220: Call is not in-progress. Cannot create recording.)");
        let a = Answer::http(
            502,
            r#"{"success":false,"message":"Too many","code":20429,"moreInfo":"https://www.twilio.com/docs/errors/20429"}"#,
        );
        let Outcome::Retry(m) = create_outcome(&a) else {
            panic!()
        };
        assert_eq!(
            m,
            "HTTP 502, code 20429: Too many (https://www.twilio.com/docs/errors/20429)"
        );
    }

    /// The reader agrees with the serde types the backend writes.
    #[test]
    fn reads_what_the_backend_writes() {
        use crate::api::{CreateRecordingResponse, ErrorBody, LinkCallResponse};
        use crate::insights::{MediaEntry, RecordedLeg};
        let written = CreateRecordingResponse {
            success: true,
            call_sid: "CA1".into(),
            recording_sid: "RE1".into(),
            recording_url: "u".into(),
            already_recording: true,
            media: Some(MediaEntry::voice_recording(
                "u".into(),
                5,
                RecordedLeg::Customer,
            )),
            media_written: false,
            warning: Some("too large".into()),
        };
        let body = serde_json::to_string(&written).unwrap();
        let Outcome::Done(read) = create_outcome(&Answer::http(201, &body)) else {
            panic!()
        };
        assert_eq!(
            read,
            Started {
                call_sid: "CA1".into(),
                recording_sid: "RE1".into(),
                already_recording: true,
                warning: Some("too large".into())
            }
        );
        let body = serde_json::to_string(&LinkCallResponse {
            success: true,
            changed: false,
        })
        .unwrap();
        assert_eq!(link_outcome(&Answer::http(200, &body)), Outcome::Done(true));
        let err = ErrorBody {
            success: false,
            message: "m".into(),
            code: 20003,
            more_info: Some("i".into()),
        };
        let body = serde_json::to_string(&err).unwrap();
        let Outcome::Fail(m) = create_outcome(&Answer::http(401, &body)) else {
            panic!()
        };
        assert_eq!(m, "HTTP 401, code 20003: m (i)");
    }

    /// Every refusal the backend writes is read as one, never retried.
    #[test]
    fn reads_every_refusal_the_backend_writes() {
        use crate::api::RefusalBody;
        for code in RefusalCode::ALL {
            let body = serde_json::to_string(&RefusalBody {
                success: false,
                code,
                message: "task WT1 is excluded".into(),
                rule: Some("exclude_queues: Sales".into()),
            })
            .unwrap();
            assert_eq!(
                create_outcome(&Answer::http(403, &body)),
                Outcome::Refused(format!(
                    "task WT1 is excluded (rule: exclude_queues: Sales; code {})",
                    code.as_str()
                ))
            );
            assert!(matches!(
                link_outcome(&Answer::http(403, &body)),
                Outcome::Refused(_)
            ));
        }
    }

    #[test]
    fn jitter_is_in_unit_range() {
        let mut j = Jitter::new(0);
        for _ in 0..10_000 {
            let u = j.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
