//! Bodies refused before any field is read: content types, size, JSON that
//! does not parse or is not an object, duplicate fields; and deep nesting,
//! read without recursion.

use crate::common::*;
use crate::{check, form, valid_with, FORM, JSON};
use axum::http::StatusCode;

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

bad_input!(duplicate_field, CREATE, FORM, b"callSid=CA000000000000000000000000000000c1&callSid=CA000000000000000000000000000000c1&Token=x".to_vec(), BAD_REQUEST, "duplicate field `callSid`");
