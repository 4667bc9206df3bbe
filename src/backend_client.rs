//! Talking to the backend, as decisions: when to retry, how long to wait, and
//! what an answer means. The wasm shell does the actual `fetch`.

use crate::api::{
    CreateRecordingResponse, ErrorBody, LinkCallResponse, TWILIO_CALL_NOT_IN_PROGRESS,
};

/// Exponential backoff with full jitter (about as the template's client:
/// up to 10 attempts, delays capped at 3 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_ms: u64,
    pub cap_ms: u64,
}

pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 10,
    base_ms: 200,
    cap_ms: 3_000,
};

impl RetryPolicy {
    /// Delay before attempt `attempt + 1`, after `attempt` (1-based) failed.
    /// `unit` is a uniform random number in [0, 1).
    pub fn delay_ms(&self, attempt: u32, unit: f64) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        let ceiling = exp.min(self.cap_ms);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        (ceiling as f64 * unit) as u64
    }

    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// What the shell saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// No HTTP answer: connection refused, DNS, CORS, aborted.
    Network(String),
    Http {
        status: u16,
        body: String,
    },
}

/// What an answer means for a create-recording request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    Done(T),
    /// Worth trying again: the backend or Twilio is briefly unavailable.
    Retry(String),
    /// Trying again cannot help.
    Fail(String),
}

fn describe_error(status: u16, body: &str) -> String {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) if e.code == TWILIO_CALL_NOT_IN_PROGRESS => {
            format!(
                "the call is no longer in progress (Twilio {}: {})",
                e.code, e.message
            )
        }
        Ok(e) => match e.more_info {
            Some(info) => format!("HTTP {status}, code {}: {} ({info})", e.code, e.message),
            None => format!("HTTP {status}, code {}: {}", e.code, e.message),
        },
        Err(_) => format!("HTTP {status} without a readable error body"),
    }
}

fn classify<T: serde::de::DeserializeOwned>(answer: &Answer) -> Outcome<T> {
    match answer {
        Answer::Network(why) => Outcome::Retry(format!("the backend could not be reached ({why})")),
        Answer::Http { status, body } if (200..300).contains(status) => {
            match serde_json::from_str::<T>(body) {
                Ok(v) => Outcome::Done(v),
                Err(e) => Outcome::Fail(format!(
                    "the backend answered {status} with an unreadable body ({e})"
                )),
            }
        }
        Answer::Http { status, body } if *status == 429 || *status >= 500 => {
            Outcome::Retry(describe_error(*status, body))
        }
        Answer::Http { status, body } => Outcome::Fail(describe_error(*status, body)),
    }
}

pub fn create_outcome(answer: &Answer) -> Outcome<CreateRecordingResponse> {
    classify(answer)
}

pub fn link_outcome(answer: &Answer) -> Outcome<LinkCallResponse> {
    classify(answer)
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
    fn backoff_is_capped_full_jitter() {
        let p = RETRY;
        assert_eq!(p.delay_ms(1, 0.0), 0);
        assert_eq!(p.delay_ms(1, 0.999_999), 199);
        assert_eq!(p.delay_ms(2, 0.5), 200);
        assert_eq!(p.delay_ms(4, 0.5), 800);
        assert_eq!(p.delay_ms(5, 0.999_999), 2_999);
        assert_eq!(p.delay_ms(9, 0.999_999), 2_999);
        assert_eq!(p.delay_ms(u32::MAX, 1.0), 3_000);
        assert_eq!(p.delay_ms(3, f64::NAN), 0);
        assert!(p.may_retry(9) && !p.may_retry(10));
    }

    #[test]
    fn answers_table() {
        let ok = r#"{"success":true,"callSid":"CA1","recordingSid":"RE1","recordingUrl":"u","alreadyRecording":false,"media":null,"mediaWritten":true}"#;
        let cases: Vec<(Answer, &str)> = vec![
            (Answer::Network("refused".into()), "retry"),
            (
                Answer::Http {
                    status: 200,
                    body: ok.into(),
                },
                "done",
            ),
            (
                Answer::Http {
                    status: 201,
                    body: ok.into(),
                },
                "done",
            ),
            (
                Answer::Http {
                    status: 200,
                    body: "<html>".into(),
                },
                "fail",
            ),
            (
                Answer::Http {
                    status: 429,
                    body: "".into(),
                },
                "retry",
            ),
            (
                Answer::Http {
                    status: 502,
                    body: r#"{"success":false,"message":"m","code":20500}"#.into(),
                },
                "retry",
            ),
            (
                Answer::Http {
                    status: 503,
                    body: "".into(),
                },
                "retry",
            ),
            (
                Answer::Http {
                    status: 409,
                    body: r#"{"success":false,"message":"Call is not in-progress","code":21220}"#
                        .into(),
                },
                "fail",
            ),
            (
                Answer::Http {
                    status: 403,
                    body: r#"{"success":false,"message":"no","code":403}"#.into(),
                },
                "fail",
            ),
            (
                Answer::Http {
                    status: 400,
                    body: "".into(),
                },
                "fail",
            ),
        ];
        for (answer, want) in cases {
            let got = match create_outcome(&answer) {
                Outcome::Done(_) => "done",
                Outcome::Retry(_) => "retry",
                Outcome::Fail(_) => "fail",
            };
            assert_eq!(got, want, "{answer:?}");
        }
    }

    #[test]
    fn error_messages_carry_twilios_words() {
        let a = Answer::Http { status: 409, body: r#"{"success":false,"message":"Call is not in-progress. Cannot create recording.","code":21220}"#.into() };
        let Outcome::Fail(m) = create_outcome(&a) else {
            panic!()
        };
        assert_eq!(m, "the call is no longer in progress (Twilio 21220: Call is not in-progress. Cannot create recording.)");
        let a = Answer::Http { status: 502, body: r#"{"success":false,"message":"Too many","code":20429,"moreInfo":"https://www.twilio.com/docs/errors/20429"}"#.into() };
        let Outcome::Retry(m) = create_outcome(&a) else {
            panic!()
        };
        assert_eq!(
            m,
            "HTTP 502, code 20429: Too many (https://www.twilio.com/docs/errors/20429)"
        );
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
