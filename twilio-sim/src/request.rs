//! Reading what clients send: JSON bodies (depth-bounded), forms and query
//! strings, Twilio's list paging, SID shapes and path parameters. Every
//! failure is already the answer to send.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use dual_channel_recording::insights::{parse_json_within, ParseError};
use serde::de::DeserializeOwned;

use crate::error::{bad, bad_param, not_found, ControlError, TwilioError};

/// Deepest JSON document the simulator accepts. Twilio stores task attributes
/// of any shape within its size limit; serde_json alone stops at 128 levels,
/// and a tree deeper than this would risk the stack when parsed or dropped.
pub const MAX_JSON_DEPTH: usize = 512;

/// Parses JSON of any depth up to `MAX_JSON_DEPTH`, with the workspace's one
/// depth pre-scan (`dual_channel_recording::insights::parse_json_within`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    parse_json_within(bytes, MAX_JSON_DEPTH).map_err(|e| match e {
        ParseError::TooDeep { depth, max } => {
            format!("nested {depth} levels deep, more than the {max} accepted")
        }
        ParseError::Invalid(e) => e,
    })
}

/// `true` when `s` is `prefix` followed by exactly 32 hex digits.
pub(crate) fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s.as_bytes()[2..].iter().all(|b| b.is_ascii_hexdigit())
}

/// A Twilio path's parameters; parameters the route cannot take are the
/// path's 404, as Twilio answers for a resource it does not know.
pub(crate) struct TwilioPath<T>(pub T);

impl<S, T> FromRequestParts<S> for TwilioPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = TwilioError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(TwilioPath(v)),
            Err(_) => Err(not_found(parts.uri.path())),
        }
    }
}

/// The path's account (or workspace) must be ours, as Twilio answers 404 for
/// any other account under these credentials.
pub(crate) fn check_owner(expected: &str, got: &str, path: &str) -> Result<(), TwilioError> {
    if expected == got {
        Ok(())
    } else {
        Err(not_found(path))
    }
}

/// A resource name that ends in `.json` (the router cannot split a segment),
/// without it; any other name is not a resource.
pub(crate) fn json_name<'a>(name: &'a str, path: &str) -> Result<&'a str, TwilioError> {
    name.strip_suffix(".json").ok_or_else(|| not_found(path))
}

pub(crate) fn parse_form(bytes: &Bytes) -> Result<Vec<(String, String)>, TwilioError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map_err(|_| bad_param("Request body is not valid application/x-www-form-urlencoded"))
}

pub(crate) fn parse_query(q: Option<&str>) -> Result<Vec<(String, String)>, TwilioError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or(""))
        .map_err(|_| bad_param("Query string is not valid"))
}

/// A parameter's value; the last one wins when it is repeated.
pub(crate) fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn one_of<'a>(
    pairs: &'a [(String, String)],
    key: &str,
    allowed: &[&str],
    default: &'a str,
) -> Result<&'a str, TwilioError> {
    match last(pairs, key) {
        None => Ok(default),
        Some(v) if allowed.contains(&v) => Ok(v),
        Some(v) => Err(bad_param(format!(
            "{key} must be one of {}; got '{v}'",
            allowed.join(", ")
        ))),
    }
}

/// Twilio list paging: `PageSize` 1..=1000 (default 50), `Page` from 0.
pub(crate) fn paging(pairs: &[(String, String)]) -> Result<(usize, usize), TwilioError> {
    let size = match last(pairs, "PageSize") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(bad_param("PageSize must be an integer from 1 to 1000")),
        },
    };
    let page = match last(pairs, "Page") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad_param("Page must be a non-negative integer"))?,
    };
    Ok((page, size))
}

/// A control API body, whatever its Content-Type (curl users forget it); an
/// empty body reads as `{}`.
pub(crate) fn control_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        &body[..]
    };
    parse_json(text).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

/// A control API field that must be a SID of this kind.
pub(crate) fn control_sid(value: &str, prefix: &str, field: &str) -> Result<(), ControlError> {
    if is_sid(value, prefix) {
        Ok(())
    } else {
        Err(bad(format!(
            "{field} must be {prefix} followed by 32 hex digits; got '{value}'"
        )))
    }
}

/// A control API path's SID, which must be of this kind.
pub(crate) fn path_sid(
    p: Result<Path<String>, PathRejection>,
    prefix: &str,
) -> Result<String, ControlError> {
    let Path(v) = p.map_err(|e| bad(format!("bad path: {e}")))?;
    control_sid(&v, prefix, "path SID")?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn json_bodies_parse_to_the_depth_limit() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // (body, the error, if any)
        let cases: Vec<(String, Option<String>)> = vec![
            (nested(MAX_JSON_DEPTH), None),
            (
                nested(MAX_JSON_DEPTH + 1),
                Some(format!(
                    "nested {} levels deep, more than the {MAX_JSON_DEPTH} accepted",
                    MAX_JSON_DEPTH + 1
                )),
            ),
            // Brackets inside strings do not count.
            (format!(r#"{{"a": "{}"}}"#, "[".repeat(10_000)), None),
            (
                "{} x".into(),
                Some("trailing characters at line 1 column 4".into()),
            ),
        ];
        for (body, want) in cases {
            let got = parse_json::<Value>(body.as_bytes()).err();
            assert_eq!(got, want, "{}", &body[..body.len().min(40)]);
        }
    }
}
