//! Flex token check with a cache of valid answers.
//!
//! A burst of accepted calls would otherwise make one token check each, and
//! every check is a Twilio REST call counted against the account's limits.
//! A valid answer is kept until the earlier of the token's own expiration and
//! [`TOKEN_CACHE_TTL`], keyed by a SHA-256 of the token (a memory dump or a log
//! line shows no usable token). Invalid answers and failures are never kept:
//! a token Twilio refused once is asked about again, and a check that could
//! not be made is an error (503), never a pass.

use crate::error::AppError;
use crate::twilio::{TwilioClient, TwilioError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Longest a valid answer is trusted without asking Twilio again: a token
/// revoked at Twilio stops working here within this time.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

/// Beyond this many cached tokens, expired entries are swept; the cache can
/// never hold more than this many live ones either (we stop caching instead).
const TOKEN_CACHE_MAX: usize = 10_000;

/// Who the token belongs to, as Twilio's token check says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub worker_sid: Option<String>,
    pub identity: Option<String>,
    /// Short, non-reversible tag for logs.
    pub token_tag: String,
}

struct Cached {
    identity: Identity,
    until: Instant,
}

/// One slot per token hash. The async lock makes concurrent first requests
/// with the same token wait for one check instead of each making their own.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    map: HashMap<[u8; 32], Slot>,
    /// Size at which the next sweep runs (0 means `TOKEN_CACHE_MAX`). After a
    /// sweep it is twice what stayed, so a cache full of live tokens is not
    /// rescanned on every request; the 5-minute lifetime bounds its size.
    sweep_at: usize,
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
    fn slot(&self, hash: [u8; 32]) -> Slot {
        let mut guard = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let Slots {
            map: slots,
            sweep_at,
        } = &mut *guard;
        if slots.len() >= (*sweep_at).max(TOKEN_CACHE_MAX) {
            // Drop every slot nobody is using that holds nothing live.
            let now = Instant::now();
            slots.retain(|_, s| {
                Arc::strong_count(s) > 1
                    || s.try_lock()
                        .map(|c| c.as_ref().is_some_and(|c| c.until > now))
                        .unwrap_or(true)
            });
            *sweep_at = slots.len().saturating_mul(2);
        }
        slots.entry(hash).or_default().clone()
    }

    fn forget_if_empty(&self, hash: &[u8; 32]) {
        let mut guard = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = guard.map.get(hash) {
            if Arc::strong_count(s) == 1 && s.try_lock().map(|c| c.is_none()).unwrap_or(false) {
                guard.map.remove(hash);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks `token`, from the cache when a valid answer is still fresh.
    pub async fn check(&self, twilio: &TwilioClient, token: &str) -> Result<Identity, AppError> {
        let hash = token_hash(token);
        let token_tag = tag(&hash);
        let result = {
            let slot = self.slot(hash);
            let mut cached = slot.lock().await;
            match cached.as_ref() {
                Some(c) if c.until > Instant::now() => {
                    tracing::debug!(token = %token_tag, "Flex token valid (cached)");
                    return Ok(c.identity.clone());
                }
                _ => *cached = None,
            }
            let answer = twilio.validate_token(token).await;
            match answer {
                Ok(v) if v.valid => {
                    let identity = Identity {
                        worker_sid: v.worker_sid.filter(|s| !s.is_empty()),
                        identity: v.identity.filter(|s| !s.is_empty()),
                        token_tag: token_tag.clone(),
                    };
                    match cache_lifetime(v.expiration.as_deref(), SystemTime::now()) {
                        Some(ttl) if !ttl.is_zero() => {
                            *cached = Some(Cached {
                                identity: identity.clone(),
                                until: Instant::now() + ttl,
                            })
                        }
                        _ => tracing::warn!(
                            token = %token_tag,
                            "token check gave no usable expiration; answer not cached"
                        ),
                    }
                    tracing::info!(token = %token_tag, worker = ?identity.worker_sid, roles = ?v.roles, "Flex token valid");
                    Ok(identity)
                }
                Ok(v) => {
                    tracing::info!(token = %token_tag, code = ?v.code, "Flex token rejected");
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
        };
        if result.is_err() {
            self.forget_if_empty(&hash);
        }
        result
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
                "Twilio refused this backend's credentials on the token check: {code} {message}"
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
