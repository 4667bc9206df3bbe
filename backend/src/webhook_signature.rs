//! Twilio's webhook signatures (`X-Twilio-Signature`), as Twilio's
//! "Webhooks security" page and its helper libraries (`validateRequest`,
//! `validateRequestWithBody`) define them:
//!
//! - the signed text is the full URL Twilio called (scheme, host, path and
//!   query string), followed, for a form body, by every POST parameter's name
//!   and value, sorted by name;
//! - the signature is HMAC-SHA1 of that text keyed with the account's auth
//!   token, in base64;
//! - a JSON body (Event Streams) is not appended: Twilio adds a `bodySHA256`
//!   query parameter holding the hex SHA-256 of the raw body to the URL it
//!   signs, so the body is covered through the URL.
//!
//! Comparisons are constant-time (`hmac`'s `verify_slice`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;

/// Why a request was not accepted as Twilio's. Logged, never answered in
/// detail (the answer is a bare 403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("the request carries no X-Twilio-Signature header")]
    Missing,
    #[error("X-Twilio-Signature does not match the URL and body (another auth token, another URL, or a changed body)")]
    Mismatch,
    #[error(
        "the URL carries no bodySHA256 parameter, which Twilio adds to every signed JSON request"
    )]
    NoBodyHash,
    #[error("bodySHA256 does not match the SHA-256 of the body received")]
    BodyHashMismatch,
}

fn mac(auth_token: &str, text: &str) -> HmacSha1 {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(text.as_bytes());
    mac
}

/// The text Twilio signs: the URL, then each parameter's name and value,
/// sorted by name (and by value within one name).
fn signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut text = url.to_string();
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    text
}

/// The signature Twilio sends for a request to `url` with these form
/// parameters (none for a JSON body).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(
        mac(auth_token, &signed_text(url, params))
            .finalize()
            .into_bytes(),
    )
}

/// Hex SHA-256 of a body, as Twilio writes it in `bodySHA256`.
pub fn body_sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check(
    auth_token: &str,
    signature: Option<&str>,
    url: &str,
    params: &[(String, String)],
) -> Result<(), SignatureProblem> {
    let signature = signature.ok_or(SignatureProblem::Missing)?;
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureProblem::Mismatch)?;
    mac(auth_token, &signed_text(url, params))
        .verify_slice(&given)
        .map_err(|_| SignatureProblem::Mismatch)
}

/// A form-encoded request (recording status callbacks).
pub fn check_form(
    auth_token: &str,
    signature: Option<&str>,
    url: &str,
    params: &[(String, String)],
) -> Result<(), SignatureProblem> {
    check(auth_token, signature, url, params)
}

/// A JSON request (Event Streams): the URL's `bodySHA256` must be the body's
/// hash, and the signature the URL's.
pub fn check_json(
    auth_token: &str,
    signature: Option<&str>,
    url: &str,
    body: &[u8],
) -> Result<(), SignatureProblem> {
    check(auth_token, signature, url, &[])?;
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let given = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == "bodySHA256")
                .map(|(_, v)| v)
        })
        .ok_or(SignatureProblem::NoBodyHash)?;
    if given.eq_ignore_ascii_case(&body_sha256(body)) {
        Ok(())
    } else {
        Err(SignatureProblem::BodyHashMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The example of Twilio's "Webhooks security" page and its helper
    /// libraries' samples (twilio-ruby's `RequestValidator`): auth token
    /// `12345`, URL `https://mycompany.com/myapp.php?foo=1&bar=2`, five
    /// parameters, signature `0/KCTR6DLpKmkAf8muzZqo1nDgQ=`.
    #[test]
    fn twilios_documented_example() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert_eq!(
            check_form("12345", Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ="), url, &params),
            Ok(())
        );
    }

    #[test]
    fn form_cases() {
        let params = pairs(&[("b", "2"), ("a", "1")]);
        let url = "https://rec.example/twilio/recording-status";
        let good = sign("tok", url, &params);
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            &'a str,
            Result<(), SignatureProblem>,
        );
        let cases: Vec<Case> = vec![
            ("tok", Some(&good), url, Ok(())),
            ("other", Some(&good), url, Err(SignatureProblem::Mismatch)),
            (
                "tok",
                Some(&good),
                "https://elsewhere.example/twilio/recording-status",
                Err(SignatureProblem::Mismatch),
            ),
            ("tok", None, url, Err(SignatureProblem::Missing)),
            (
                "tok",
                Some("not base64 !"),
                url,
                Err(SignatureProblem::Mismatch),
            ),
            ("tok", Some(""), url, Err(SignatureProblem::Mismatch)),
        ];
        for (token, sig, u, want) in cases {
            assert_eq!(
                check_form(token, sig, u, &params),
                want,
                "{token} {sig:?} {u}"
            );
        }
        // The order parameters arrive in does not matter; their values do.
        let reordered = pairs(&[("a", "1"), ("b", "2")]);
        assert_eq!(check_form("tok", Some(&good), url, &reordered), Ok(()));
        let changed = pairs(&[("a", "1"), ("b", "3")]);
        assert_eq!(
            check_form("tok", Some(&good), url, &changed),
            Err(SignatureProblem::Mismatch)
        );
    }

    #[test]
    fn json_cases() {
        let body = br#"[{"id":"1"}]"#;
        let base = "https://rec.example/twilio/event-streams";
        let url = format!("{base}?bodySHA256={}", body_sha256(body));
        let good = sign("tok", &url, &[]);
        assert_eq!(check_json("tok", Some(&good), &url, body), Ok(()));
        assert_eq!(
            check_json("tok", Some(&good), &url, br#"[{"id":"2"}]"#),
            Err(SignatureProblem::BodyHashMismatch)
        );
        let unhashed = sign("tok", base, &[]);
        assert_eq!(
            check_json("tok", Some(&unhashed), base, body),
            Err(SignatureProblem::NoBodyHash)
        );
        assert_eq!(
            check_json("tok", None, &url, body),
            Err(SignatureProblem::Missing)
        );
        let elsewhere = format!(
            "https://other.example/twilio/event-streams?bodySHA256={}",
            body_sha256(body)
        );
        let theirs = sign("tok", &elsewhere, &[]);
        assert_eq!(
            check_json("tok", Some(&theirs), &url, body),
            Err(SignatureProblem::Mismatch)
        );
        assert_eq!(
            body_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
