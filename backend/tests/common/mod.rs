//! Test harness: the real Twilio simulator on a loopback port, the backend
//! app driven in-process with `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

pub mod process;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use clap::Parser;
use dual_channel_recording::retry::Backoff;
use http_body_util::BodyExt;
use recording_backend::config::{Cli, Config};
use recording_backend::twilio::RetryPolicy;
use recording_backend::{app, AppState};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tower::ServiceExt;

pub mod net;
pub mod redis_server;

pub const AC: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const WS: &str = "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const WK: &str = "WK00000000000000000000000000000001";
pub const WK_OTHER: &str = "WK00000000000000000000000000000002";
pub const WT: &str = "WT000000000000000000000000000000a1";
pub const WR: &str = "WR000000000000000000000000000000a1";
pub const WR_OTHER: &str = "WR000000000000000000000000000000b2";
pub const CF: &str = "CF000000000000000000000000000000a1";
pub const CA_CUSTOMER: &str = "CA000000000000000000000000000000c1";
pub const CA_WORKER: &str = "CA000000000000000000000000000000a1";
pub const CA_STRANGER: &str = "CA000000000000000000000000000000ff";
pub const TOKEN: &str = "flex-token-alice";
pub const TOKEN_OTHER: &str = "flex-token-bob";
pub const IDENTITY: &str = "alice_40example_2Ecom";
pub const ACCEPTED_AT: i64 = 1_700_000_000_000;

pub struct Sim {
    pub url: String,
    http: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = twilio_sim::SimState::new(twilio_sim::SimConfig::default());
        tokio::spawn(async move {
            let _ = twilio_sim::serve(listener, state).await;
        });
        Sim {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}/_sim{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "sim control {path}: {status} {v}");
        v
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.control(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Value {
        self.control(Method::PUT, path, body).await
    }

    /// A POST straight at the simulator's API v2010 (`path` under the
    /// account), as someone other than the backend: status and body.
    pub async fn twilio_post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/2010-04-01/Accounts/{AC}{path}", self.url))
            .basic_auth(AC, Some("sim-auth-token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A dual-channel recording of `call` started by someone other than the
    /// backend (another plugin, the console); its SID.
    pub async fn start_recording_elsewhere(&self, call: &str) -> String {
        let (status, r) = self
            .twilio_post(
                &format!("/Calls/{call}/Recordings.json"),
                &[("RecordingChannels", "dual")],
            )
            .await;
        assert_eq!(status, 201, "{r}");
        r["sid"].as_str().unwrap().to_string()
    }

    pub async fn state(&self) -> Value {
        let text = self
            .http
            .get(format!("{}/_sim/state", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Task attributes in the state may nest deeper than serde_json's default limit.
        let mut de = serde_json::Deserializer::from_str(&text);
        de.disable_recursion_limit();
        <Value as serde::Deserialize>::deserialize(&mut de).unwrap()
    }

    pub async fn log(&self) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_sim/log", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array().cloned().unwrap_or_default()
    }

    pub async fn recordings(&self) -> Vec<Value> {
        self.state().await["recordings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn attributes(&self, task: &str) -> Value {
        self.state().await["tasks"][task]["attributes"].clone()
    }

    /// The Flex configuration the backend reads its recording policy from:
    /// `feature` at `custom_data.features.dual_channel_recording`.
    pub async fn flex_config(&self, feature: Value, call_recording_enabled: bool) {
        self.put(
            "/configuration",
            json!({
                "uiAttributes": {"custom_data": {
                    "serverless_functions_domain": "recordings.example.com",
                    "features": {"dual_channel_recording": feature}
                }},
                "callRecordingEnabled": call_recording_enabled
            }),
        )
        .await;
    }

    /// Recording on for the customer leg, with pausing and
    /// `max_pause_seconds` (the backend's `pause_watch` reads it).
    pub async fn pause_config(&self, max_pause_seconds: f64) {
        self.put(
            "/configuration",
            json!({
                "uiAttributes": {"custom_data": {"features": {
                    "dual_channel_recording": {"enabled": true, "channel": "customer"},
                    "pause_recording": {"enabled": true, "max_pause_seconds": max_pause_seconds}
                }}},
                "callRecordingEnabled": false
            }),
        )
        .await;
    }

    /// The status of recording `re`, of a call or a conference (null if none).
    pub async fn recording_status(&self, re: &str) -> Value {
        let state = self.state().await;
        state["recordings"]
            .as_array()
            .unwrap()
            .iter()
            .chain(state["conferenceRecordings"].as_array().unwrap())
            .find(|r| r["sid"] == re)
            .map(|r| r["status"].clone())
            .unwrap_or(Value::Null)
    }

    /// Waits until recording `re`'s status is `want`, at most `within`;
    /// fails with `what` otherwise.
    pub async fn await_recording_status(&self, re: &str, want: &str, within: Duration, what: &str) {
        let until = std::time::Instant::now() + within;
        while self.recording_status(re).await != want {
            assert!(std::time::Instant::now() < until, "{what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One inbound call accepted by worker WK: its task, reservation,
    /// conference (customer and worker legs joined) and both calls; the Flex
    /// configuration enables recording without exclusions.
    pub async fn scene(&self) {
        self.flex_config(json!({"enabled": true, "channel": "customer"}), false)
            .await;
        self.post(
            "/tokens",
            json!({"token": TOKEN, "workerSid": WK, "identity": IDENTITY}),
        )
        .await;
        self.post(
            "/tokens",
            json!({"token": TOKEN_OTHER, "workerSid": WK_OTHER, "identity": "bob"}),
        )
        .await;
        self.post(
            "/calls",
            json!({"callSid": CA_CUSTOMER, "status": "in-progress", "from": "+15005550006", "to": "+15005550001"}),
        )
        .await;
        self.post(
            "/calls",
            json!({"callSid": CA_WORKER, "status": "in-progress", "from": "+15005550001", "to": format!("client:{IDENTITY}")}),
        )
        .await;
        self.post(
            "/calls",
            json!({"callSid": CA_STRANGER, "status": "in-progress"}),
        )
        .await;
        self.put(
            &format!("/tasks/{WT}"),
            json!({"attributes": {
                "call_sid": CA_CUSTOMER,
                "direction": "inbound",
                "conference": {"sid": CF},
                "customers": {"name": "Ada", "tags": [1, 2, {"deep": {"x": true}}]},
                "conversations": {"abandoned": "No"}
            }}),
        )
        .await;
        self.post(
            "/reservations",
            json!({"taskSid": WT, "reservationSid": WR, "workerSid": WK, "status": "accepted"}),
        )
        .await;
        self.put(
            &format!("/conferences/{CF}"),
            json!({"taskSid": WT, "participants": [
                {"callSid": CA_CUSTOMER, "participantType": "customer", "status": "joined"},
                {"callSid": CA_WORKER, "participantType": "worker", "status": "joined", "workerSid": WK, "reservationSid": WR}
            ]}),
        )
        .await;
    }
}

/// Backend configuration pointing at `base` for every Twilio product.
pub fn config(base: &str, extra_args: &[&str], vars: &[(&str, &str)]) -> Config {
    let mut args = vec!["recording-backend", "--twilio-base-url", base];
    args.extend_from_slice(extra_args);
    let cli = Cli::try_parse_from(args).unwrap();
    let mut env: HashMap<String, String> = [
        ("TWILIO_ACCOUNT_SID", AC),
        ("TWILIO_AUTH_TOKEN", "sim-auth-token"),
        ("TWILIO_FLEX_WORKSPACE_SID", WS),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in vars {
        env.insert(k.to_string(), v.to_string());
    }
    Config::from_env(&cli, |k| env.get(k).cloned()).unwrap()
}

/// Fast but otherwise real retry policy, so tests of failures stay short.
pub fn test_retry() -> RetryPolicy {
    RetryPolicy {
        schedule: Backoff {
            max_attempts: 5,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
            budget: Some(Duration::from_secs(3)),
        },
        request_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
    }
}

pub fn backend(config: Config) -> Router {
    app(AppState::with_retry(config, test_retry()).unwrap())
}

pub fn backend_for(sim: &Sim) -> Router {
    backend(config(&sim.url, &[], &[]))
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
}

pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Answer {
        status,
        headers,
        json,
    }
}

pub async fn post_raw(
    app: &Router,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut b = Request::builder().method(Method::POST).uri(path);
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    send(app, b.body(Body::from(body)).unwrap()).await
}

pub async fn post_form(app: &Router, path: &str, pairs: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(pairs).unwrap();
    post_raw(
        app,
        path,
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
    )
    .await
}

pub async fn post_json(app: &Router, path: &str, body: Value) -> Answer {
    post_raw(
        app,
        path,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
}

pub const CREATE: &str = "/features/dual-channel-recording/flex/create-recording";
pub const LINK: &str = "/features/dual-channel-recording/flex/link-call";

/// The create-recording request the core sends for the customer leg.
pub fn customer_request() -> Vec<(&'static str, String)> {
    vec![
        ("callSid", CA_CUSTOMER.into()),
        ("Token", TOKEN.into()),
        ("taskSid", WT.into()),
        ("reservationSid", WR.into()),
        ("leg", "customer".into()),
        ("target", "conversation".into()),
        ("acceptedAt", ACCEPTED_AT.to_string()),
        ("conferenceSid", CF.into()),
    ]
}

pub async fn create(app: &Router, pairs: &[(&'static str, String)]) -> Answer {
    let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(app, CREATE, &p).await
}

/// `n` customer-leg create requests at once, spread in turn over `apps`
/// (one backend, or replicas), each answered 200. Returns the one recording
/// SID they all name (the test fails if they name several) and how many
/// answers started it rather than finding it running.
pub async fn create_at_once(apps: &[Router], n: usize) -> (String, usize) {
    let joins: Vec<_> = (0..n)
        .map(|i| {
            let app = apps[i % apps.len()].clone();
            tokio::spawn(async move { create(&app, &customer_request()).await })
        })
        .collect();
    let mut answers = Vec::new();
    for j in joins {
        answers.push(j.await.unwrap());
    }
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    }
    let sids: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| a.json["recordingSid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sids.len(), 1, "{sids:?}");
    let started = answers
        .iter()
        .filter(|a| a.json["alreadyRecording"] == false)
        .count();
    (sids.into_iter().next().unwrap(), started)
}

pub fn count(log: &[Value], method: &str, path_part: &str) -> usize {
    log.iter()
        .filter(|e| {
            e["method"] == method && e["path"].as_str().is_some_and(|p| p.contains(path_part))
        })
        .count()
}

/// A loopback port nothing listens on.
pub async fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}
