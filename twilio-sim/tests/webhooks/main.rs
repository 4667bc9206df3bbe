//! What the simulator sends out, received by a real HTTP server on loopback:
//! Event Streams deliveries (sink test and validate, subscriptions, signed
//! CloudEvent batches, the `eventStreams` delivery options, retries) and
//! recording status callbacks (signed forms, `failRecording`). One test
//! binary, one file per job: on a small machine fewer binaries link faster.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "../common/mod.rs"]
mod common;

use common::{send, Auth};

mod event_streams;
mod status_callbacks;

const TOKEN: &str = "sim-auth-token";
const CA: &str = "CA00000000000000000000000000000001";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    /// Path and query, as sent.
    target: String,
    signature: Option<String>,
    content_type: Option<String>,
    body: Bytes,
    at: Instant,
}

type Log = Arc<Mutex<Vec<Received>>>;
type Answers = Arc<Mutex<Vec<u16>>>;

/// A real HTTP server that records every request and answers each with the
/// next status of `answers` (200 once they run out).
#[derive(Clone)]
struct Receiver {
    base: String,
    got: Log,
}

async fn receiver(answers: Vec<u16>) -> Receiver {
    let got: Log = Arc::default();
    let answers = Arc::new(Mutex::new(answers));
    let state = (got.clone(), answers);
    let router = Router::new()
        .fallback(
            |State((got, answers)): State<(Log, Answers)>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: Bytes| async move {
                let header = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                got.lock().unwrap().push(Received {
                    method: method.to_string(),
                    target: uri.to_string(),
                    signature: header("x-twilio-signature"),
                    content_type: header("content-type"),
                    body,
                    at: Instant::now(),
                });
                let mut a = answers.lock().unwrap();
                let code = if a.is_empty() { 200 } else { a.remove(0) };
                StatusCode::from_u16(code).unwrap()
            },
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Receiver { base, got }
}

impl Receiver {
    /// Waits until at least `n` requests arrived (at most 5 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n || start.elapsed() > Duration::from_secs(5) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn hmac_b64(data: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn control(app: &Router, method: Method, path: &str, body: Value) -> Value {
    let a = send(
        app,
        method,
        &format!("/_sim{path}"),
        Auth::None,
        &[],
        Some(("application/json", body.to_string())),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
    a.body
}
