//! The HTTP surface: CORS for the configured origins (and loopback in demo
//! mode), the health check, and JSON answers to unknown paths and methods.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(CREATE)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap()
}

fn create_from(origin: &str) -> Request<Body> {
    let body: Vec<(&str, String)> = customer_request();
    Request::builder()
        .method(Method::POST)
        .uri(CREATE)
        .header(header::ORIGIN, origin)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(body).unwrap()))
        .unwrap()
}

#[tokio::test]
async fn cors_allows_configured_origins_and_answers_preflight() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    let a = send(&app, preflight("https://flex.twilio.com")).await;
    assert!(a.status.is_success(), "{}", a.status);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://flex.twilio.com"
    );
    let methods = a.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    assert!(
        sim.log().await.is_empty(),
        "a preflight costs no Twilio call"
    );

    let a = send(&app, create_from("https://flex.twilio.com")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://flex.twilio.com"
    );
}

#[tokio::test]
async fn cors_refuses_other_origins() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend_for(&sim);
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:5173",
        "https://flex.twilio.com.evil.example",
        "null",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert!(!a.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        let a = send(&app, create_from(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(a.json["code"], 403);
        assert!(a.json["message"]
            .as_str()
            .unwrap()
            .contains("ALLOWED_ORIGINS"));
    }
    assert!(sim.recordings().await.is_empty());
    assert!(sim.log().await.is_empty());
}

#[tokio::test]
async fn cors_demo_mode_adds_loopback() {
    let sim = Sim::start().await;
    sim.scene().await;
    let app = backend(config(&sim.url, &["--demo"], &[]));
    for origin in [
        "http://127.0.0.1:5173",
        "http://localhost:8080",
        "https://flex.twilio.com",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert!(a.status.is_success(), "{origin}: {}", a.status);
        assert_eq!(a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
    }
    for origin in [
        "http://127.0.0.1.evil.example",
        "http://localhost:80x",
        "https://localhost:1",
    ] {
        let a = send(&app, preflight(origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
    }
    // Configured origins replace the default.
    let app = backend(config(
        &sim.url,
        &[],
        &[("ALLOWED_ORIGINS", "https://a.example")],
    ));
    assert!(send(&app, preflight("https://a.example"))
        .await
        .status
        .is_success());
    assert_eq!(
        send(&app, preflight("https://flex.twilio.com"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn healthz_and_json_404_405() {
    let sim = Sim::start().await;
    let app = backend_for(&sim);
    let a = send(
        &app,
        Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["ok"], true);
    let a = send(
        &app,
        Request::builder().uri("/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["success"], false);
    let a = send(
        &app,
        Request::builder().uri(CREATE).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.json["code"], 405);
}
