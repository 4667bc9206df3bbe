//! `X-Twilio-Signature`, as Twilio signs the requests it sends (Twilio's
//! "Webhooks security" page; `docs/flex-facts.md`): HMAC-SHA1 keyed with the
//! account's auth token, base64. A form body is signed over the full URL
//! followed by every parameter, sorted by name, as name then value with no
//! separator. A JSON body (Event Streams) is not signed itself: its hex
//! SHA-256 goes into the URL as the `bodySHA256` query parameter, and the
//! signature covers that full URL alone.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub(crate) const HEADER: &str = "X-Twilio-Signature";

fn hmac_sha1_base64(key: &str, data: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The signature of a form-encoded request to `url` with `params`.
pub(crate) fn sign_form(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name, then by value, so repeated names sign the same in any order.
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    hmac_sha1_base64(auth_token, &data)
}

/// The lowercase hex SHA-256 of a body, as `bodySHA256` carries it.
pub(crate) fn body_sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `url` with `bodySHA256` added to its query, the URL a JSON body is sent to.
pub(crate) fn url_with_body_hash(url: &str, body: &[u8]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}bodySHA256={}", body_sha256(body))
}

/// The signature of a JSON request sent to `url_with_hash` (already carrying
/// `bodySHA256`).
pub(crate) fn sign_json(auth_token: &str, url_with_hash: &str) -> String {
    hmac_sha1_base64(auth_token, url_with_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The example of Twilio's "Validating signatures" documentation and of
    /// the test suites of Twilio's helper libraries (twilio-python's
    /// `test_request_validator`, twilio-php's `RequestValidatorTest`): auth
    /// token `12345`.
    #[test]
    fn form_bodies_sign_as_twilios_published_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ];
        // (parameters in this order, signature)
        let mut shuffled = params;
        shuffled.reverse();
        let cases = [
            (pairs(&params), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            // The order they were sent in does not matter: they are sorted.
            (pairs(&shuffled), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ];
        for (p, want) in cases {
            assert_eq!(sign_form("12345", url, &p), want);
        }
        assert_ne!(
            sign_form("54321", url, &pairs(&params)),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    /// The JSON-body vector of the same suites: the body's hash, the URL it
    /// goes to, and the signature over that URL.
    #[test]
    fn json_bodies_sign_as_twilios_published_example() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        // (URL before, URL with the hash)
        let cases = [
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                format!("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={hash}"),
            ),
            (
                "https://example.com/twilio/event-streams",
                format!("https://example.com/twilio/event-streams?bodySHA256={hash}"),
            ),
        ];
        for (url, want) in &cases {
            assert_eq!(&url_with_body_hash(url, body), want);
        }
        assert_eq!(body_sha256(body), hash);
        assert_eq!(
            sign_json("12345", &cases[0].1),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        );
    }
}
