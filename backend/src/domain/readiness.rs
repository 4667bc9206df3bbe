//! Readiness: whether this backend can do its work now, which comes down to
//! whether Twilio accepts its credentials. A backend with a wrong auth token
//! is alive (`/healthz`) but refuses every call that arrives; readiness says
//! so before the first one does (`/readyz`, `recording-backend healthcheck
//! --ready`, `recording_backend_ready` in `/metrics`).
//!
//! The check is one read Twilio documents and the backend needs anyway:
//! `GET https://flex-api.twilio.com/v1/Configuration`, the recording
//! policy's read (`policy::PolicyCache::refresh`), at start and every
//! [`crate::config::READINESS_EVERY`]. So it also keeps the policy fresh for
//! the requests.
//!
//! - Twilio answers 401 or 403 (error 20003, "Permission Denied": wrong
//!   credentials, a deleted key, a suspended account, a restricted key;
//!   twilio.com/docs/api/errors/20003 and /403): not ready.
//! - Twilio cannot be reached, or does not answer in time: not ready.
//! - Any other answer authenticated the credentials. With `POLICY=on` the
//!   backend also needs the configuration itself (without it every
//!   recording is refused with 503), so an error answer or an unreadable
//!   configuration is not ready; with `POLICY=off` it is ready.

use crate::config::PolicyMode;
use crate::domain::policy::{PolicyCache, ReadProblem};
use crate::twilio::{TwilioClient, TwilioError};
use std::sync::Mutex;

/// The outcomes of a check, as `recording_backend_readiness_checks_total`
/// labels them (every one counted from zero).
pub const OUTCOMES: [&str; 4] = [
    OK,
    CREDENTIALS_REFUSED,
    UNREACHABLE,
    CONFIGURATION_UNREADABLE,
];
const OK: &str = "ok";
const CREDENTIALS_REFUSED: &str = "credentials_refused";
const UNREACHABLE: &str = "unreachable";
const CONFIGURATION_UNREADABLE: &str = "configuration_unreadable";

/// What one check found.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    Ready,
    CredentialsRefused {
        status: u16,
        code: i64,
    },
    Unreachable(String),
    /// The credentials were accepted, but the configuration could not be had.
    ConfigurationUnreadable(String),
}

impl Check {
    /// What a read of the Flex configuration says about readiness.
    pub fn of(read: Result<(), &ReadProblem>, mode: PolicyMode) -> Check {
        let problem = match read {
            Ok(()) => return Check::Ready,
            Err(p) => p,
        };
        match problem {
            ReadProblem::Twilio(TwilioError::Api {
                status: status @ (401 | 403),
                code,
                ..
            }) => Check::CredentialsRefused {
                status: *status,
                code: *code,
            },
            ReadProblem::Twilio(TwilioError::Unreachable(detail)) => {
                Check::Unreachable(detail.clone())
            }
            ReadProblem::Twilio(TwilioError::Timeout) => {
                Check::Unreachable("no answer in time".into())
            }
            _ if mode == PolicyMode::Off => Check::Ready,
            other => Check::ConfigurationUnreadable(other.to_string()),
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            Check::Ready => OK,
            Check::CredentialsRefused { .. } => CREDENTIALS_REFUSED,
            Check::Unreachable(_) => UNREACHABLE,
            Check::ConfigurationUnreadable(_) => CONFIGURATION_UNREADABLE,
        }
    }

    /// Whether Twilio accepted the credentials: unknown when it was not reached.
    fn credentials_ok(&self) -> Option<bool> {
        match self {
            Check::Ready | Check::ConfigurationUnreadable(_) => Some(true),
            Check::CredentialsRefused { .. } => Some(false),
            Check::Unreachable(_) => None,
        }
    }

    /// Why the backend is not ready, in an operator's words; `None` when it is.
    pub fn reason(&self) -> Option<String> {
        match self {
            Check::Ready => None,
            Check::CredentialsRefused { status, code } => Some(format!(
                "Twilio refuses the credentials (error {code}, HTTP {status}): check TWILIO_ACCOUNT_SID and TWILIO_API_KEY/TWILIO_API_SECRET or TWILIO_AUTH_TOKEN, and that the account is active"
            )),
            Check::Unreachable(detail) => Some(format!(
                "Twilio cannot be reached to check the credentials: {detail}"
            )),
            Check::ConfigurationUnreadable(problem) => Some(format!(
                "Twilio accepts the credentials, but the Flex configuration (the recording policy, POLICY=on) cannot be read: {problem}"
            )),
        }
    }
}

/// The last check's outcome, shared by the checks and `/readyz`.
pub struct Readiness {
    mode: PolicyMode,
    last: Mutex<Option<Check>>,
}

/// Before the first check has ended.
pub const NOT_CHECKED_YET: &str = "the credentials have not been checked with Twilio yet";

impl Readiness {
    pub fn new(mode: PolicyMode) -> Self {
        crate::metrics::readiness_unknown();
        Readiness {
            mode,
            last: Mutex::new(None),
        }
    }

    /// Ready, or why not.
    pub fn status(&self) -> Result<(), String> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match last.as_ref() {
            None => Err(NOT_CHECKED_YET.into()),
            Some(check) => check.reason().map_or(Ok(()), Err),
        }
    }

    /// One check: reads the Flex configuration through the policy cache and
    /// keeps what it says. Logged when the outcome changes, not on every check.
    pub async fn check(&self, policy: &PolicyCache, twilio: &TwilioClient) -> Check {
        let read = policy.refresh(twilio).await;
        let check = Check::of(read.as_ref().map(|_| ()), self.mode);
        crate::metrics::readiness_checked(
            check.outcome(),
            check.reason().is_none(),
            check.credentials_ok(),
        );
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_ref() != Some(&check) {
            match (&check, check.reason()) {
                (_, None) => tracing::info!("ready: Twilio accepts the credentials"),
                (Check::CredentialsRefused { .. }, Some(reason)) => {
                    tracing::error!(outcome = check.outcome(), "not ready: {reason}")
                }
                (_, Some(reason)) => {
                    tracing::warn!(outcome = check.outcome(), "not ready: {reason}")
                }
            }
        }
        *last = Some(check.clone());
        check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: i64) -> ReadProblem {
        ReadProblem::Twilio(TwilioError::Api {
            status,
            code,
            message: "m".into(),
            more_info: None,
        })
    }

    #[test]
    fn what_a_read_says() {
        use PolicyMode::{Off, On};
        let unreachable = ReadProblem::Twilio(TwilioError::Unreachable("refused".into()));
        let unreadable = ReadProblem::Unreadable("not a configuration".into());
        // Problem, mode, outcome, ready, credentials accepted.
        type Case = (
            Option<ReadProblem>,
            PolicyMode,
            &'static str,
            bool,
            Option<bool>,
        );
        let cases: [Case; 11] = [
            (None, On, OK, true, Some(true)),
            (None, Off, OK, true, Some(true)),
            (
                Some(api(401, 20003)),
                On,
                CREDENTIALS_REFUSED,
                false,
                Some(false),
            ),
            (
                Some(api(401, 20003)),
                Off,
                CREDENTIALS_REFUSED,
                false,
                Some(false),
            ),
            (
                Some(api(403, 20003)),
                Off,
                CREDENTIALS_REFUSED,
                false,
                Some(false),
            ),
            (Some(unreachable.clone()), On, UNREACHABLE, false, None),
            (
                Some(ReadProblem::Twilio(TwilioError::Timeout)),
                Off,
                UNREACHABLE,
                false,
                None,
            ),
            (
                Some(api(404, 20404)),
                On,
                CONFIGURATION_UNREADABLE,
                false,
                Some(true),
            ),
            (Some(api(404, 20404)), Off, OK, true, Some(true)),
            (
                Some(unreadable.clone()),
                On,
                CONFIGURATION_UNREADABLE,
                false,
                Some(true),
            ),
            (Some(unreadable), Off, OK, true, Some(true)),
        ];
        for (problem, mode, outcome, ready, credentials) in cases {
            let c = Check::of(problem.as_ref().map_or(Ok(()), Err), mode);
            assert_eq!(c.outcome(), outcome, "{problem:?} {mode:?}");
            assert_eq!(c.reason().is_none(), ready, "{problem:?} {mode:?}");
            assert_eq!(c.credentials_ok(), credentials, "{problem:?} {mode:?}");
            assert!(OUTCOMES.contains(&c.outcome()));
        }
    }

    #[test]
    fn reasons_read_as_words() {
        let r = Check::of(Err(&api(401, 20003)), PolicyMode::On)
            .reason()
            .unwrap();
        assert!(
            r.starts_with("Twilio refuses the credentials (error 20003, HTTP 401)"),
            "{r}"
        );
        assert!(r.contains("TWILIO_AUTH_TOKEN"), "{r}");
        for problem in [
            api(401, 20003),
            api(500, 20500),
            ReadProblem::Twilio(TwilioError::Unreachable("connection refused".into())),
        ] {
            let r = Check::of(Err(&problem), PolicyMode::On).reason().unwrap();
            assert!(!r.contains("Some(") && !r.contains("Api {"), "{r}");
        }
    }
}
