//! The link request's fields.

use crate::common::*;
use crate::{check, form, FORM, JSON};
use axum::http::StatusCode;
use serde_json::json;

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
