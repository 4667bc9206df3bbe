//! What the simulator sends out, as Twilio does: Event Streams deliveries to
//! webhook sinks (a JSON array of CloudEvents, signed with `bodySHA256`) and
//! recording status callbacks (a signed form). `flush` runs after every
//! request (and after the simulator's own timers) and takes what the world
//! queued in its `outbox`; nothing here ever holds up the request that
//! caused it.
//!
//! Event Streams promises at least once, in no order, within seconds: each
//! sink has one worker that delivers its batches in order (unless
//! `reorder`), each `delayMs` after its events happened; a batch met by no
//! answer, a 5xx or a 429 is tried again in the background (backing off, up
//! to `ATTEMPTS` times) while later batches go on; any other answer is the
//! receiver's last word on it. Every attempt is recorded
//! (`GET /_sim/webhooks`), with what was sent and what came back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

use crate::cloudevents::{self, TaskRouterEvent, TASKROUTER_TYPE_PREFIX};
use crate::model::{DeliveryOptions, Outgoing, Sim};
use crate::signature;
use crate::time::{now_ms, now_us, rfc2822};
use crate::wire::API_HOST;
use crate::SimState;

/// Twilio gives a webhook sink 5 seconds to answer.
const SINK_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries of one batch before it is given up.
const ATTEMPTS: u32 = 8;
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(4);
/// With `reorder`, how long a batch waits for the next one to overtake it.
const REORDER_HOLD: Duration = Duration::from_millis(250);
/// With `duplicates`, the pause before a batch is sent again.
const DUPLICATE_AFTER: Duration = Duration::from_millis(50);

/// The sending side: one HTTP client, and one worker per sink. A reset
/// starts a new generation: what the old one still has in hand is dropped.
pub(crate) struct Outbound {
    client: reqwest::Client,
    generation: AtomicU64,
    queues: Mutex<HashMap<String, UnboundedSender<Batch>>>,
}

impl Outbound {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(SINK_TIMEOUT)
            .build()
            .unwrap_or_default();
        Outbound {
            client,
            generation: AtomicU64::new(0),
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every queued batch (`/_sim/reset`).
    pub fn reset(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

struct Batch {
    generation: u64,
    sink_sid: String,
    destination: String,
    events: Vec<Value>,
    due: Instant,
    options: DeliveryOptions,
}

/// A recording status callback, ready to send.
struct Callback {
    generation: u64,
    url: String,
    method: String,
    params: Vec<(String, String)>,
}

/// Sends whatever the world queued since the last flush.
pub(crate) fn flush(st: &SimState) {
    let cfg = st.config();
    let generation = st.outbound().generation();
    let mut sim = st.lock();
    if sim.world.outbox.is_empty() {
        return;
    }
    let outbox = std::mem::take(&mut sim.world.outbox);
    // Per sink, in the order the events happened.
    let mut batches: Vec<(String, Vec<Value>)> = Vec::new();
    let mut add = |sink: &str, event: Value| match batches.iter_mut().find(|(s, _)| s == sink) {
        Some((_, list)) => list.push(event),
        None => batches.push((sink.to_string(), vec![event])),
    };
    let mut callbacks = Vec::new();
    for item in outbox {
        match item {
            Outgoing::TaskRouter {
                event,
                task_sid,
                reservation_sid,
                worker_sid,
                at_ms,
            } => {
                let kind = format!("{TASKROUTER_TYPE_PREFIX}{event}");
                let mut targets: Vec<(String, u64)> = Vec::new();
                for sub in &sim.world.subscriptions {
                    if let Some((_, v)) = sub.types.iter().find(|(t, _)| *t == kind) {
                        if !targets.iter().any(|(s, _)| *s == sub.sink_sid) {
                            targets.push((sub.sink_sid.clone(), *v));
                        }
                    }
                }
                if targets.is_empty() {
                    continue;
                }
                // One event, one id, whichever sinks get it.
                let id = st.new_sid("EV");
                let e = TaskRouterEvent {
                    event,
                    task_sid: &task_sid,
                    reservation_sid: reservation_sid.as_deref(),
                    worker_sid: worker_sid.as_deref(),
                    at_ms,
                };
                for (sink, version) in targets {
                    add(
                        &sink,
                        cloudevents::taskrouter_event(cfg, &sim.world, &e, &id, version),
                    );
                }
            }
            Outgoing::SinkTest { sink_sid, test_id } => {
                let id = st.new_sid("EV");
                add(&sink_sid, cloudevents::test_event(&id, &test_id, now_ms()));
            }
            Outgoing::RecordingStatus {
                recording_sid,
                status,
            } => {
                if let Some(cb) = recording_callback(st, &sim, &recording_sid, &status, generation)
                {
                    callbacks.push(cb);
                }
            }
        }
    }
    let options = sim.delivery;
    let due = Instant::now() + Duration::from_millis(options.delay_ms);
    let mut queued = Vec::new();
    for (sink_sid, events) in batches {
        let Some(sink) = sim.world.sinks.iter().find(|s| s.sid == sink_sid) else {
            continue;
        };
        let Some(destination) = sink.destination() else {
            continue;
        };
        let batched = sink
            .configuration
            .get("batch_events")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let groups: Vec<Vec<Value>> = if batched {
            vec![events]
        } else {
            events.into_iter().map(|e| vec![e]).collect()
        };
        for events in groups {
            queued.push(Batch {
                generation,
                sink_sid: sink_sid.clone(),
                destination: destination.to_string(),
                events,
                due,
                options,
            });
        }
    }
    sim.webhooks_pending += (queued.len() + callbacks.len()) as u64;
    drop(sim);
    for batch in queued {
        enqueue(st, batch);
    }
    for cb in callbacks {
        let st = st.clone();
        tokio::spawn(async move { send_callback(&st, cb).await });
    }
}

fn enqueue(st: &SimState, batch: Batch) {
    let mut queues = st
        .outbound()
        .queues
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let sender = queues.entry(batch.sink_sid.clone()).or_insert_with(|| {
        let (tx, rx) = unbounded_channel();
        let st = st.clone();
        tokio::spawn(async move { sink_worker(st, rx).await });
        tx
    });
    // A worker only stops once its sender is gone, so this cannot fail.
    let _ = sender.send(batch);
}

async fn sink_worker(st: SimState, mut rx: UnboundedReceiver<Batch>) {
    let mut held: Option<Batch> = None;
    loop {
        let next = match held {
            None => rx.recv().await,
            Some(_) => match tokio::time::timeout(REORDER_HOLD, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if let Some(h) = held.take() {
                        deliver(&st, h).await;
                    }
                    continue;
                }
            },
        };
        let Some(mut batch) = next else {
            if let Some(h) = held.take() {
                deliver(&st, h).await;
            }
            return;
        };
        if batch.options.reorder {
            batch.events.reverse();
            match held.take() {
                // The newer batch overtakes the one held back.
                Some(h) => {
                    deliver(&st, batch).await;
                    deliver(&st, h).await;
                }
                None => held = Some(batch),
            }
        } else {
            deliver(&st, batch).await;
        }
    }
}

/// The first attempt of a batch, in the worker's order; retries go on apart.
async fn deliver(st: &SimState, batch: Batch) {
    tokio::time::sleep_until(batch.due).await;
    if batch.generation != st.outbound().generation() {
        return;
    }
    if post_batch(st, &batch, 1, false).await != Outcome::Again {
        if batch.options.duplicates {
            tokio::time::sleep(DUPLICATE_AFTER).await;
            post_batch(st, &batch, 1, true).await;
        }
        finished(st, batch.generation);
        return;
    }
    let st = st.clone();
    tokio::spawn(async move {
        let mut wait = FIRST_RETRY;
        for attempt in 2..=ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY);
            if batch.generation != st.outbound().generation() {
                return;
            }
            if post_batch(&st, &batch, attempt, false).await != Outcome::Again {
                if batch.options.duplicates {
                    tokio::time::sleep(DUPLICATE_AFTER).await;
                    post_batch(&st, &batch, attempt, true).await;
                }
                break;
            }
        }
        finished(&st, batch.generation);
    });
}

#[derive(PartialEq)]
enum Outcome {
    /// Answered (2xx, or a refusal that another try would not change).
    Done,
    /// No answer, a 5xx or a 429: worth another try.
    Again,
}

/// One POST of a batch.
async fn post_batch(st: &SimState, batch: &Batch, attempt: u32, duplicate: bool) -> Outcome {
    let body = serde_json::to_vec(&batch.events).unwrap_or_default();
    let url = signature::url_with_body_hash(&batch.destination, &body);
    let sig = signature::sign_json(&st.config().auth_token, &url);
    let sent_us = now_us();
    let result = st
        .outbound()
        .client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signature::HEADER, &sig)
        .body(body)
        .send()
        .await;
    let (status, error) = match result {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    record(
        st,
        batch.generation,
        json!({
            "kind": "eventStreams",
            "sinkSid": batch.sink_sid,
            "method": "POST",
            "url": url,
            "contentType": "application/json",
            "signature": sig,
            "body": batch.events,
            "attempt": attempt,
            "duplicate": duplicate,
            "status": status,
            "error": error,
            "sentUs": sent_us,
        }),
    );
    match status {
        Some(s) if s < 500 && s != 429 => Outcome::Done,
        _ => Outcome::Again,
    }
}

/// The callback Twilio makes when a recording reaches `status`, if its
/// creator asked for that event (`RecordingStatusCallbackEvent`, default
/// `completed`). A recording that fails (`failed`, which the parameter
/// cannot name) is reported to whoever asked for `absent` or `completed`.
fn recording_callback(
    st: &SimState,
    sim: &Sim,
    recording_sid: &str,
    status: &str,
    generation: u64,
) -> Option<Callback> {
    let cfg = st.config();
    let r = sim
        .world
        .recordings
        .iter()
        .find(|r| r.sid == recording_sid)?;
    let url = r.status_callback.as_deref()?;
    let asked = |e: &str| {
        if r.status_callback_event.is_empty() {
            e == "completed"
        } else {
            r.status_callback_event.iter().any(|x| x == e)
        }
    };
    let wanted = match status {
        "failed" => asked("absent") || asked("completed"),
        s => asked(s),
    };
    if !wanted {
        return None;
    }
    let ac = &cfg.account_sid;
    let mut params: Vec<(String, String)> = vec![
        ("AccountSid".into(), ac.clone()),
        ("CallSid".into(), r.call_sid.clone()),
        ("RecordingSid".into(), r.sid.clone()),
        (
            "RecordingUrl".into(),
            format!("{API_HOST}/2010-04-01/Accounts/{ac}/Recordings/{}", r.sid),
        ),
        ("RecordingStatus".into(), status.to_string()),
        (
            "RecordingChannels".into(),
            if r.dual { "2" } else { "1" }.into(),
        ),
        ("RecordingStartTime".into(), rfc2822(r.created_ms)),
        ("RecordingSource".into(), "StartCallRecordingAPI".into()),
        ("RecordingTrack".into(), r.track.clone()),
    ];
    if let Some(end) = r.ended_ms {
        let secs = ((end - r.created_ms).max(0) / 1000).to_string();
        params.push(("RecordingDuration".into(), secs));
    }
    if let Some(code) = r.error_code.filter(|_| status != "in-progress") {
        params.push(("ErrorCode".into(), code.to_string()));
    }
    Some(Callback {
        generation,
        url: url.to_string(),
        method: r.status_callback_method.clone(),
        params,
    })
}

async fn send_callback(st: &SimState, cb: Callback) {
    let client = &st.outbound().client;
    let sent_us = now_us();
    // A GET carries the parameters in its URL, which is then what is signed.
    let (url, sig, request) = if cb.method == "GET" {
        let query = serde_urlencoded::to_string(&cb.params).unwrap_or_default();
        let sep = if cb.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}{query}", cb.url);
        let sig = signature::sign_form(&st.config().auth_token, &url, &[]);
        let req = client.get(&url);
        (url, sig, req)
    } else {
        let sig = signature::sign_form(&st.config().auth_token, &cb.url, &cb.params);
        let body = serde_urlencoded::to_string(&cb.params).unwrap_or_default();
        let req = client
            .post(&cb.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        (cb.url.clone(), sig, req)
    };
    let result = request.header(signature::HEADER, &sig).send().await;
    let (status, error) = match result {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let params: Map<String, Value> = cb
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    record(
        st,
        cb.generation,
        json!({
            "kind": "recordingStatus",
            "method": cb.method,
            "url": url,
            "contentType": if cb.method == "GET" { Value::Null } else { json!("application/x-www-form-urlencoded") },
            "signature": sig,
            "body": params,
            "attempt": 1,
            "duplicate": false,
            "status": status,
            "error": error,
            "sentUs": sent_us,
        }),
    );
    finished(st, cb.generation);
}

/// One attempt into the webhooks log (unless a reset came in between).
fn record(st: &SimState, generation: u64, mut entry: Value) {
    if generation != st.outbound().generation() {
        return;
    }
    let limit = st.config().log_limit.max(1);
    let mut sim = st.lock();
    let seq = sim.next_webhook_seq;
    sim.next_webhook_seq += 1;
    if let Some(m) = entry.as_object_mut() {
        m.insert("seq".into(), json!(seq));
    }
    sim.webhooks.push_back(entry);
    while sim.webhooks.len() > limit {
        sim.webhooks.pop_front();
    }
}

fn finished(st: &SimState, generation: u64) {
    if generation != st.outbound().generation() {
        return;
    }
    let mut sim = st.lock();
    sim.webhooks_pending = sim.webhooks_pending.saturating_sub(1);
}
