//! Every row of `docs/bad-input.md`: a bad request, the status and the
//! message it gets. Each runs against a real simulator and also checks that
//! no Twilio request was made for it (input is refused before any URL exists),
//! except where the row is about Twilio's answer. One test binary, one file
//! per job: on a small machine fewer binaries link faster.

#[path = "../common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::*;

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

fn valid_with(key: &str, value: &str) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("taskSid", WT),
        ("reservationSid", WR),
        ("target", "conversation"),
    ];
    pairs.retain(|(k, _)| *k != key);
    if !value.is_empty() || key == "Token" {
        pairs.push((key, value));
    }
    form(&pairs)
}

async fn check(
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    status: StatusCode,
    message_part: &str,
    twilio_calls: usize,
) {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = post_raw(&app, path, content_type, body).await;
    println!(
        "ROW | {} | {} | {}",
        a.status.as_u16(),
        a.json["code"],
        a.json["message"].as_str().unwrap_or("")
    );
    assert_eq!(a.status, status, "{}", a.json);
    assert_eq!(a.json["success"], false, "{}", a.json);
    assert!(a.json["code"].is_i64(), "{}", a.json);
    let msg = a.json["message"].as_str().unwrap();
    assert!(msg.contains(message_part), "{msg:?} lacks {message_part:?}");
    assert!(!msg.contains(TOKEN), "the token is echoed: {msg}");
    assert_eq!(sim.log().await.len(), twilio_calls);
    assert!(sim.recordings().await.is_empty());
}

macro_rules! bad_input {
    ($name:ident, $path:expr, $ct:expr, $body:expr, $status:ident, $msg:expr) => {
        bad_input!($name, $path, $ct, $body, $status, $msg, 0);
    };
    ($name:ident, $path:expr, $ct:expr, $body:expr, $status:ident, $msg:expr, $calls:expr) => {
        #[tokio::test]
        async fn $name() {
            check($path, $ct, $body, StatusCode::$status, $msg, $calls).await;
        }
    };
}

// Declared after the macro, which their rows use.
mod body;
mod event_streams;
mod fields;
mod link;
mod refused;
