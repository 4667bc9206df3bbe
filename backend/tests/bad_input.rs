//! Every row of `docs/bad-input.md`: a bad request, the status and the
//! message it gets. Each runs against a real simulator and also checks that
//! no Twilio request was made for it (input is refused before any URL exists),
//! except where the row is about Twilio's answer.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::json;

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

bad_input!(
    no_content_type,
    CREATE,
    None,
    valid_with("", ""),
    UNSUPPORTED_MEDIA_TYPE,
    "must be application/x-www-form-urlencoded or application/json"
);
bad_input!(
    text_plain_body,
    CREATE,
    Some("text/plain"),
    valid_with("", ""),
    UNSUPPORTED_MEDIA_TYPE,
    "application/json"
);
bad_input!(
    multipart_body,
    CREATE,
    Some("multipart/form-data; boundary=x"),
    b"--x--".to_vec(),
    UNSUPPORTED_MEDIA_TYPE,
    "application/json"
);
bad_input!(
    body_over_16_kib,
    CREATE,
    FORM,
    form(&[("callSid", CA_CUSTOMER), ("Token", &"t".repeat(20_000))]),
    PAYLOAD_TOO_LARGE,
    "larger than 16384 bytes"
);
bad_input!(
    empty_form_body,
    CREATE,
    FORM,
    Vec::new(),
    BAD_REQUEST,
    "missing field `callSid`"
);
bad_input!(
    malformed_json,
    CREATE,
    JSON,
    b"{\"callSid\": ".to_vec(),
    BAD_REQUEST,
    "the JSON body is not valid"
);
bad_input!(
    json_array_body,
    CREATE,
    JSON,
    b"[1,2]".to_vec(),
    BAD_REQUEST,
    "the JSON body is not valid"
);
// Deep nesting in an ignored field is skipped without recursion: no stack
// overflow, and the request goes on to the token check and authorization.
bad_input!(
    json_deeply_nested_unknown_field,
    CREATE,
    JSON,
    format!(
        "{{\"ignored\": {}{}, \"callSid\": \"{CA_CUSTOMER}\", \"Token\": \"{TOKEN}\"}}",
        "[".repeat(5000),
        "]".repeat(5000)
    )
    .into_bytes(),
    FORBIDDEN,
    "AUTHORIZATION=strict",
    1
);
bad_input!(
    json_deeply_nested_known_field,
    CREATE,
    JSON,
    format!(
        "{{\"callSid\": \"{CA_CUSTOMER}\", \"Token\": \"{TOKEN}\", \"leg\": {}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    )
    .into_bytes(),
    BAD_REQUEST,
    "the JSON body is not valid"
);
bad_input!(
    missing_token,
    CREATE,
    FORM,
    form(&[("callSid", CA_CUSTOMER)]),
    UNAUTHORIZED,
    "no Flex token"
);
bad_input!(
    empty_token,
    CREATE,
    FORM,
    valid_with("Token", ""),
    UNAUTHORIZED,
    "no Flex token"
);
bad_input!(
    blank_token,
    CREATE,
    FORM,
    valid_with("Token", "   "),
    UNAUTHORIZED,
    "no Flex token"
);
bad_input!(
    token_of_wrong_json_type,
    CREATE,
    JSON,
    json!({"callSid": CA_CUSTOMER, "Token": 12})
        .to_string()
        .into_bytes(),
    BAD_REQUEST,
    "invalid type"
);
bad_input!(
    missing_call_sid,
    CREATE,
    FORM,
    form(&[("Token", TOKEN)]),
    BAD_REQUEST,
    "missing field `callSid`"
);
bad_input!(
    call_sid_wrong_prefix,
    CREATE,
    FORM,
    valid_with("callSid", WT),
    BAD_REQUEST,
    "callSid must be a call SID (CA...)"
);
bad_input!(
    call_sid_path_traversal,
    CREATE,
    FORM,
    valid_with("callSid", "CA/../../Calls/CA000000000000000000"),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    call_sid_too_long,
    CREATE,
    FORM,
    valid_with("callSid", &format!("{CA_CUSTOMER}0")),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    call_sid_not_hex,
    CREATE,
    FORM,
    valid_with("callSid", "CA00000000000000000000000000000zzz"),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    call_sid_with_query,
    CREATE,
    FORM,
    valid_with("callSid", "CA0000000000000000000000000000c1?x=1"),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    call_sid_lowercase_prefix,
    CREATE,
    FORM,
    valid_with("callSid", "ca000000000000000000000000000000c1"),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    call_sid_unicode,
    CREATE,
    FORM,
    valid_with("callSid", "CAéééééééééééééééé"),
    BAD_REQUEST,
    "callSid must be a call SID"
);
bad_input!(
    task_sid_malformed,
    CREATE,
    FORM,
    valid_with("taskSid", "WT123"),
    BAD_REQUEST,
    "taskSid must be a task SID (WT...)"
);
bad_input!(
    reservation_sid_malformed,
    CREATE,
    FORM,
    valid_with("reservationSid", "WK00000000000000000000000000000001"),
    BAD_REQUEST,
    "reservationSid must be a reservation SID (WR...)"
);
bad_input!(
    conference_sid_malformed,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("taskSid", WT),
        ("conferenceSid", "CF-1")
    ]),
    BAD_REQUEST,
    "conferenceSid must be a conference SID (CF...)"
);
bad_input!(
    customer_call_sid_malformed,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("taskSid", WT),
        ("customerCallSid", "client:alice")
    ]),
    BAD_REQUEST,
    "customerCallSid must be a call SID"
);
bad_input!(
    unknown_target,
    CREATE,
    FORM,
    valid_with("target", "worker"),
    BAD_REQUEST,
    "unknown variant `worker`"
);
bad_input!(
    unknown_leg,
    CREATE,
    FORM,
    form(&[("callSid", CA_CUSTOMER), ("Token", TOKEN), ("leg", "agent")]),
    BAD_REQUEST,
    "unknown variant `agent`"
);
bad_input!(
    accepted_at_not_a_number,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("acceptedAt", "yesterday")
    ]),
    BAD_REQUEST,
    "the form body is not valid"
);
bad_input!(
    accepted_at_overflows,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("acceptedAt", "99999999999999999999")
    ]),
    BAD_REQUEST,
    "the form body is not valid"
);
bad_input!(
    target_without_task,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("target", "conversation")
    ]),
    BAD_REQUEST,
    "target conversation needs taskSid"
);
bad_input!(
    reservation_target_without_reservation,
    CREATE,
    FORM,
    form(&[
        ("callSid", CA_CUSTOMER),
        ("Token", TOKEN),
        ("taskSid", WT),
        ("target", "reservation")
    ]),
    BAD_REQUEST,
    "target reservation needs reservationSid"
);
bad_input!(duplicate_field, CREATE, FORM, b"callSid=CA000000000000000000000000000000c1&callSid=CA000000000000000000000000000000c1&Token=x".to_vec(), BAD_REQUEST, "duplicate field `callSid`");
bad_input!(
    invalid_token,
    CREATE,
    FORM,
    valid_with("Token", "not-a-registered-token"),
    UNAUTHORIZED,
    "the Flex token was rejected by Twilio",
    1
);
bad_input!(
    template_shape_in_strict_mode,
    CREATE,
    FORM,
    form(&[("callSid", CA_CUSTOMER), ("Token", TOKEN)]),
    FORBIDDEN,
    "AUTHORIZATION=strict",
    1
);
bad_input!(
    call_of_another_task,
    CREATE,
    FORM,
    valid_with("callSid", CA_STRANGER),
    FORBIDDEN,
    "is neither the call of task",
    // Token, reservations, task, Flex configuration and the worker (read
    // alongside, for their config_overrides), participant, call.
    7
);
bad_input!(
    other_workers_reservation,
    CREATE,
    FORM,
    valid_with("reservationSid", WR_OTHER),
    FORBIDDEN,
    "is not a reservation of task",
    // Token, the named reservation, task, Flex configuration and the worker
    // (read alongside).
    5
);
bad_input!(
    link_missing_task,
    LINK,
    FORM,
    form(&[("Token", TOKEN), ("conferenceSid", CF)]),
    BAD_REQUEST,
    "missing field `taskSid`"
);
bad_input!(
    link_task_sid_malformed,
    LINK,
    FORM,
    form(&[
        ("Token", TOKEN),
        ("taskSid", "WT../x"),
        ("conferenceSid", CF)
    ]),
    BAD_REQUEST,
    "taskSid must be a task SID"
);
bad_input!(
    link_nothing_to_link,
    LINK,
    FORM,
    form(&[("Token", TOKEN), ("taskSid", WT)]),
    BAD_REQUEST,
    "nothing to link"
);
bad_input!(
    link_missing_token,
    LINK,
    JSON,
    json!({"taskSid": WT, "conferenceSid": CF})
        .to_string()
        .into_bytes(),
    UNAUTHORIZED,
    "no Flex token"
);

#[tokio::test]
async fn get_on_create_is_405() {
    let sim = Sim::start().await;
    let app = backend_for(&sim);
    let a = send(
        &app,
        Request::builder()
            .method(Method::GET)
            .uri(format!("{CREATE}?callSid={CA_CUSTOMER}&Token={TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    println!(
        "ROW | {} | {} | {}",
        a.status.as_u16(),
        a.json["code"],
        a.json["message"]
    );
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.json["success"], false);
    assert!(sim.log().await.is_empty());
}

#[tokio::test]
async fn post_from_a_foreign_origin_is_403() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = send(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri(CREATE)
            .header(header::ORIGIN, "https://attacker.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(valid_with("", "")))
            .unwrap(),
    )
    .await;
    println!(
        "ROW | {} | {} | {}",
        a.status.as_u16(),
        a.json["code"],
        a.json["message"]
    );
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("ALLOWED_ORIGINS"));
    assert!(sim.log().await.is_empty());
}
