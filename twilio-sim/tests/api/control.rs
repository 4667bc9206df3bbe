//! The control API (`/_sim`): bad input refused clearly, open to any origin,
//! reset; and the simulator served on a real socket.

use crate::common::{send, Auth, AC};
use crate::{assert_twilio_error, control, recordings_path, rest, scene, task_path, CA, WS, WT};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use twilio_sim::{SimConfig, SimState};

#[tokio::test]
async fn control_api_rejects_bad_input_clearly() {
    let app = scene().await;
    let cases: Vec<(Method, &str, &str)> = vec![
        (Method::POST, "/calls", "{not json"),
        (Method::POST, "/calls", "{\"callSid\": \"CA123\"}"),
        (Method::POST, "/calls", "{\"callSid\": \"CA00000000000000000000000000000003\", \"status\": \"dancing\"}"),
        (Method::POST, "/calls", "[]"),
        (Method::POST, "/calls/not-a-sid/end", ""),
        (Method::PUT, "/tasks/WT1", "{}"),
        (Method::PUT, "/tasks/WT00000000000000000000000000000009", "{\"attributes\": \"{}\"}"),
        (Method::POST, "/reservations", "{\"taskSid\": \"WT00000000000000000000000000000001\"}"),
        (Method::DELETE, "/reservations/WRzz", ""),
        (Method::PUT, "/conferences/CF00000000000000000000000000000001", "{\"participants\": [{\"callSid\": \"nope\", \"participantType\": \"customer\", \"status\": \"joined\"}]}"),
        (Method::POST, "/tokens", "{\"token\": \"\"}"),
        (Method::POST, "/tokens", "{\"token\": \"t\", \"workerSid\": \"WK1\"}"),
        (Method::POST, "/faults", "{}"),
        (Method::POST, "/faults", "{\"failNext\": {\"status\": 200, \"code\": 1}}"),
        (Method::POST, "/faults", "{\"failNext\": {\"status\": 9999, \"code\": 1}}"),
        (Method::POST, "/faults", "{\"latencyMs\": -1}"),
        (Method::POST, "/faults", "{\"concurrentWrite\": {\"taskSid\": \"WTx\", \"attributes\": {}}}"),
        (Method::POST, "/faults", "{\"concurrentWrite\": {\"taskSid\": \"WT00000000000000000000000000000001\", \"attributes\": 3}}"),
        (Method::POST, "/faults", "{\"surprise\": true}"),
    ];
    for (method, path, body) in cases {
        let a = send(
            &app,
            method.clone(),
            &format!("/_sim{path}"),
            Auth::None,
            &[],
            Some(("application/json", body.to_string())),
        )
        .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {:?}",
            a.body
        );
        assert!(
            a.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {:?}",
            a.body
        );
    }
    let missing = control(&app, Method::GET, "/nothing-here", Value::Null).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bare = send(&app, Method::GET, "/_sim", Auth::None, &[], None).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    // Garbage bytes and bodies of the wrong shape on every endpoint: a 4xx, never a panic.
    for path in [
        "/reset",
        "/tokens",
        "/calls",
        "/tasks/WT00000000000000000000000000000001",
        "/reservations",
        "/conferences/CF00000000000000000000000000000001",
        "/faults",
    ] {
        for body in ["\u{0}\u{ff}", "null", "123", "{\"a\":", "[{}]"] {
            for method in [Method::POST, Method::PUT] {
                let a = send(
                    &app,
                    method,
                    &format!("/_sim{path}"),
                    Auth::None,
                    &[],
                    Some(("application/json", body.to_string())),
                )
                .await;
                assert!(
                    a.status.is_client_error() || a.status.is_success(),
                    "{path} {body}: {}",
                    a.status
                );
            }
        }
    }
    // Nothing above reached the REST log.
    let log = control(&app, Method::GET, "/log", Value::Null).await;
    assert_eq!(log.body, json!([]));
}

#[tokio::test]
async fn control_api_is_open_to_any_origin() {
    let app = scene().await;
    let a = send(
        &app,
        Method::OPTIONS,
        "/_sim/faults",
        Auth::None,
        &[
            ("Origin", "http://127.0.0.1:9999"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    )
    .await;
    assert!(a.status.is_success());
    assert_eq!(
        a.headers["access-control-allow-origin"],
        "http://127.0.0.1:9999"
    );
    let get = send(
        &app,
        Method::GET,
        "/_sim/state",
        Auth::None,
        &[("Origin", "http://localhost:1")],
        None,
    )
    .await;
    assert_eq!(
        get.headers["access-control-allow-origin"],
        "http://localhost:1"
    );
}

#[tokio::test]
async fn reset_forgets_everything() {
    let app = scene().await;
    rest(&app, Method::POST, &recordings_path(CA), None).await;
    control(
        &app,
        Method::POST,
        "/faults",
        json!({"latencyMs": 5, "failNext": {"status": 500, "code": 20500, "count": 3}}),
    )
    .await;
    let r = control(&app, Method::POST, "/reset", Value::Null).await;
    assert_eq!(r.status, StatusCode::OK);
    let state = control(&app, Method::GET, "/state", Value::Null).await;
    assert_eq!(state.body["calls"], json!({}));
    assert_eq!(state.body["recordings"], json!([]));
    assert_eq!(state.body["tasks"], json!({}));
    assert_eq!(state.body["reservations"], json!([]));
    assert_eq!(state.body["conferences"], json!({}));
    assert_eq!(state.body["accountSid"], json!(AC));
    assert_eq!(state.body["workspaceSid"], json!(WS));
    assert_eq!(state.body["faults"]["failNext"], Value::Null);
    let log = control(&app, Method::GET, "/log", Value::Null).await;
    assert_eq!(log.body, json!([]));
    // Faults are gone too: a REST request answers normally (404, no task).
    let a = rest(&app, Method::GET, &task_path(WT), None).await;
    assert_twilio_error(&a, 404, 20404);
}

#[tokio::test]
async fn serve_on_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = SimState::new(SimConfig::default());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(twilio_sim::serve_with_shutdown(listener, state, async {
        let _ = rx.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /_sim/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let _ = tx.send(());
    server.await.expect("join").expect("serve");
}
