//! Flex token check with a cache of valid answers.
//!
//! A burst of accepted calls would otherwise make one token check each, and
//! every check is a Twilio REST call counted against the account's limits.
//! A valid answer is kept until the earlier of the token's own expiration and
//! [`TOKEN_CACHE_TTL`], keyed by a SHA-256 of the token (a memory dump or a log
//! line shows no usable token). Invalid answers and failures are never kept:
//! a token Twilio refused once is asked about again, and a check that could
//! not be made is an error (503), never a pass. Concurrent first requests with
//! the same token wait for one check instead of each making their own.
//!
//! The cache is `moka`'s (per-entry lifetimes, bounded size, one loader per
//! key), the same expiring cache as the recording map in `recording`.

use crate::error::AppError;
use crate::twilio::{TwilioClient, TwilioError};
use dual_channel_recording::sid::WorkerSid;
use moka::future::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant, SystemTime};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Longest a valid answer is trusted without asking Twilio again: a token
/// revoked at Twilio stops working here within this time.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

/// At most this many tokens are cached; beyond it the least useful answers
/// are evicted (and asked about again when next seen).
const TOKEN_CACHE_MAX: u64 = 10_000;

/// Who the token belongs to, as Twilio's token check says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The token's TaskRouter worker; `None` for a token of no worker (or
    /// one whose worker SID is not a `WK` SID: it cannot hold a reservation).
    pub worker_sid: Option<WorkerSid>,
    pub identity: Option<String>,
    /// Short, non-reversible tag for logs.
    pub token_tag: String,
}

#[derive(Clone)]
struct Cached {
    identity: Identity,
    /// How long this answer may be trusted; zero: not at all.
    ttl: Duration,
}

/// Each answer lives as long as its own token allows.
struct TokenLifetime;

impl Expiry<[u8; 32], Cached> for TokenLifetime {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub struct TokenCache {
    answers: Cache<[u8; 32], Cached>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            answers: Cache::builder()
                .max_capacity(TOKEN_CACHE_MAX)
                .expire_after(TokenLifetime)
                .build(),
        }
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn tag(hash: &[u8; 32]) -> String {
    hash[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// How long from now a token that expires at `expiration` (RFC 3339) may be cached.
pub fn cache_lifetime(expiration: Option<&str>, now: SystemTime) -> Option<Duration> {
    let exp = OffsetDateTime::parse(expiration?, &Rfc3339).ok()?;
    let exp = SystemTime::from(exp);
    let left = exp.duration_since(now).ok()?;
    Some(left.min(TOKEN_CACHE_TTL))
}

impl TokenCache {
    /// Answers cached now (after pending evictions and expirations are applied).
    pub async fn len(&self) -> u64 {
        self.answers.run_pending_tasks().await;
        self.answers.entry_count()
    }

    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Checks `token`, from the cache when a valid answer is still fresh.
    pub async fn check(&self, twilio: &TwilioClient, token: &str) -> Result<Identity, AppError> {
        let hash = token_hash(token);
        let token_tag = tag(&hash);
        let answer = self
            .answers
            .try_get_with(hash, ask_twilio(twilio, token, token_tag.clone()))
            .await;
        match answer {
            Ok(c) => {
                tracing::debug!(token = %token_tag, "Flex token valid");
                Ok(c.identity)
            }
            Err(e) => Err((*e).clone()),
        }
    }
}

/// One token check at Twilio: a valid answer with how long it may be kept,
/// or the error to answer with (never kept).
async fn ask_twilio(
    twilio: &TwilioClient,
    token: &str,
    token_tag: String,
) -> Result<Cached, AppError> {
    match twilio.validate_token(token).await {
        Ok(v) if v.valid => {
            let identity = Identity {
                worker_sid: v.worker_sid.and_then(|s| WorkerSid::parse(&s).ok()),
                identity: v.identity.filter(|s| !s.is_empty()),
                token_tag: token_tag.clone(),
            };
            let ttl = cache_lifetime(v.expiration.as_deref(), SystemTime::now())
                .unwrap_or(Duration::ZERO);
            if ttl.is_zero() {
                tracing::warn!(
                    token = %token_tag,
                    "token check gave no usable expiration; answer not cached"
                );
            }
            tracing::info!(token = %token_tag, worker = identity.worker_sid.as_ref().map(display), roles = v.roles.as_ref().map(|r| display(r.join(","))), "Flex token valid");
            Ok(Cached { identity, ttl })
        }
        Ok(v) => {
            crate::error::note_cause(&format!(
                "Twilio rejected Flex token {token_tag}: {}",
                rejection(v.code, v.message.as_deref())
            ));
            Err(AppError::InvalidToken {
                code: v.code.filter(|c| *c != 0).unwrap_or(401),
                message: v
                    .message
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "the token is not valid".into()),
            })
        }
        Err(e) => Err(token_check_failed(e)),
    }
}

/// Twilio's reason for rejecting a token, as a sentence's end: its error
/// code and message when it gave them.
fn rejection(code: Option<i64>, message: Option<&str>) -> String {
    let message = message.filter(|m| !m.is_empty());
    match (code.filter(|c| *c != 0), message) {
        (Some(c), Some(m)) => format!("error {c}, {m}"),
        (Some(c), None) => format!("error {c}"),
        (None, Some(m)) => m.to_string(),
        (None, None) => "no reason given".into(),
    }
}

/// The check itself failing is never a pass: 503 while Twilio cannot be
/// asked, 502 when Twilio refuses this backend (its credentials are wrong).
fn token_check_failed(e: TwilioError) -> AppError {
    // 21220 means the same wherever it comes from, and the plugin must never
    // repeat a request that met it (409).
    if matches!(e, TwilioError::Api { code, .. } if code == dual_channel_recording::api::TWILIO_CALL_NOT_IN_PROGRESS)
    {
        return AppError::from_twilio("checking the Flex token", e);
    }
    match e {
        TwilioError::Api {
            status: 401,
            code,
            message,
            more_info,
        }
        | TwilioError::Api {
            status: 403,
            code,
            message,
            more_info,
        } => {
            crate::error::note_cause(&format!(
                "Twilio refused this backend's credentials on the token check: error {code}, {message}"
            ));
            AppError::Twilio {
                status: axum::http::StatusCode::BAD_GATEWAY,
                code,
                message: "Twilio refused the recording backend's own credentials while checking the Flex token; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key)".into(),
                more_info,
            }
        }
        TwilioError::Api {
            status,
            code,
            message,
            more_info,
        } if status != 429 && status < 500 => AppError::Twilio {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code,
            message: format!("Twilio refused the Flex token check: {message}"),
            more_info,
        },
        other => {
            crate::error::note_cause(&format!("Flex token check unavailable: {other}"));
            AppError::Unavailable(
                "the Flex token could not be checked with Twilio right now; nothing was recorded; try again shortly".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_read_as_words() {
        let cases = [
            (
                Some(20101),
                Some("Invalid Access Token"),
                "error 20101, Invalid Access Token",
            ),
            (Some(20101), None, "error 20101"),
            (Some(0), Some(""), "no reason given"),
            (None, Some("expired"), "expired"),
            (None, None, "no reason given"),
        ];
        for (code, message, want) in cases {
            assert_eq!(rejection(code, message), want, "{code:?} {message:?}");
        }
    }

    #[test]
    fn lifetime_is_capped_and_needs_a_future_expiration() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // 2023-11-14T22:13:20Z is the epoch second above.
        assert_eq!(
            cache_lifetime(Some("2023-11-14T22:14:20.000Z"), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            cache_lifetime(Some("2023-11-15T22:13:20Z"), now),
            Some(TOKEN_CACHE_TTL)
        );
        assert_eq!(cache_lifetime(Some("2023-11-14T22:13:19Z"), now), None);
        assert_eq!(cache_lifetime(Some("tomorrow"), now), None);
        assert_eq!(cache_lifetime(None, now), None);
    }

    #[test]
    fn tags_do_not_reveal_the_token() {
        let h = token_hash("eyJhbGciOi.secret.sig");
        let t = tag(&h);
        assert_eq!(t.len(), 8);
        assert!(!t.contains("secret"));
        assert_eq!(t, tag(&token_hash("eyJhbGciOi.secret.sig")));
    }
}
