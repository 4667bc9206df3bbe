//! Flex's token check (`Tokens/validate`).

use crate::common::{send, Auth, AC};
use crate::{assert_twilio_error, control, scene, WK};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn token_check() {
    let app = scene().await;
    let path = format!("/v1/Accounts/{AC}/Tokens/validate");
    let check = |token: &str| {
        let body = json!({ "token": token }).to_string();
        let app = app.clone();
        let path = path.clone();
        async move {
            send(
                &app,
                Method::POST,
                &path,
                Auth::Account,
                &[],
                Some(("application/json", body)),
            )
            .await
        }
    };
    let ok = check("tok-1").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["valid"], json!(true));
    assert_eq!(ok.body["code"], json!(0));
    assert_eq!(ok.body["message"], Value::Null);
    assert_eq!(ok.body["worker_sid"], json!(WK));
    assert_eq!(ok.body["identity"], json!("alice"));
    assert_eq!(ok.body["roles"], json!(["agent"]));
    assert!(ok.body["expiration"]
        .as_str()
        .is_some_and(|e| e.ends_with('Z')));

    let bad = check("who-knows").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert_eq!(bad.body["valid"], json!(false));
    assert!(bad.body["message"].as_str().is_some());

    control(
        &app,
        Method::POST,
        "/tokens",
        json!({"token": "old", "expiresInSec": -5}),
    )
    .await;
    let old = check("old").await;
    assert_eq!(old.body["valid"], json!(false));
    assert_eq!(old.body["code"], json!(20104));

    let anon = send(
        &app,
        Method::POST,
        &path,
        Auth::None,
        &[],
        Some(("application/json", "{\"token\":\"tok-1\"}".into())),
    )
    .await;
    assert_twilio_error(&anon, 401, 20003);
}
