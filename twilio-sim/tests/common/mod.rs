//! What both test files need: requests to the simulator's router through
//! `oneshot`, with or without Twilio credentials, and their answers.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const AC: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[derive(Clone, Copy)]
pub enum Auth {
    Account,
    ApiKey,
    Wrong,
    None,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

pub fn basic(user: &str, pass: &str) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {enc}")
}

pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    auth: Auth,
    extra: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    match auth {
        Auth::Account => req = req.header(header::AUTHORIZATION, basic(AC, "sim-auth-token")),
        Auth::ApiKey => {
            req = req.header(
                header::AUTHORIZATION,
                basic("SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sim-api-secret"),
            )
        }
        Auth::Wrong => req = req.header(header::AUTHORIZATION, basic(AC, "nope")),
        Auth::None => {}
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some((ct, b)) => req.header(header::CONTENT_TYPE, ct).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        headers,
        body,
    }
}
