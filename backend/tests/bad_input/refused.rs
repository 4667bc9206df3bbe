//! Well-formed requests refused: a token Twilio rejects, a call or
//! reservation the worker's task does not name, the template's shape in
//! strict mode, the wrong method, a foreign origin.

use crate::common::*;
use crate::{check, form, valid_with, FORM};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

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
