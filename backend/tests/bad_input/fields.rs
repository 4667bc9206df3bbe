//! The create request's fields: a missing, empty or wrongly typed token,
//! malformed SIDs, unknown values, and fields that need another.

use crate::common::*;
use crate::{check, form, valid_with, FORM, JSON};
use axum::http::StatusCode;
use serde_json::json;

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
