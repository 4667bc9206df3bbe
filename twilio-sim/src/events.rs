//! Event Streams (`events.twilio.com/v1`): webhook sinks, their test event
//! and validation, and subscriptions naming the event types a sink gets.
//! What is delivered, and how, is `outbound.rs`.
//!
//! Twilio's contract (`tests/contract/twilio-openapi/`, the Events v1
//! paths): a sink is created `initialized`; `Test` sends it Twilio's test
//! event (`com.twilio.eventstreams.test-event`, whose `data.test_id` the
//! receiver reads) and `Validate` with that `TestId` makes it `active`; a
//! subscription needs an active sink ("Sink must be active for the
//! subscription to be created"). `Types` is repeated, each value a JSON
//! object `{"type", "schema_version"}`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::{bad_param, not_found, TwilioError};
use crate::model::{Sink, Subscription};
use crate::request::{is_sid, last, paging, parse_form, parse_json, parse_query, TwilioPath};
use crate::time::{iso8601, now_ms};
use crate::wire::EVENTS_HOST;
use crate::SimState;

/// The schema version a subscription gets when a type names none: the one
/// Twilio's Event Streams pages show for TaskRouter (`TaskRouter.WDSEvent/4`).
pub(crate) const LATEST_SCHEMA_VERSION: u64 = 4;

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route("/v1/Sinks", post(create_sink).get(list_sinks))
        .route(
            "/v1/Sinks/{sid}",
            get(fetch_sink).post(update_sink).delete(delete_sink),
        )
        .route("/v1/Sinks/{sid}/Test", post(test_sink))
        .route("/v1/Sinks/{sid}/Validate", post(validate_sink))
        .route(
            "/v1/Subscriptions",
            post(create_subscription).get(list_subscriptions),
        )
        .route(
            "/v1/Subscriptions/{sid}",
            get(fetch_subscription)
                .post(update_subscription)
                .delete(delete_subscription),
        )
}

impl Sink {
    pub fn to_twilio(&self) -> Value {
        let url = format!("{EVENTS_HOST}/v1/Sinks/{}", self.sid);
        json!({
            "date_created": iso8601(self.created_ms),
            "date_updated": iso8601(self.updated_ms),
            "description": self.description,
            "sid": self.sid,
            "sink_configuration": self.configuration,
            "sink_type": self.sink_type,
            "status": self.status,
            "links": {
                "sink_test": format!("{url}/Test"),
                "sink_validate": format!("{url}/Validate"),
            },
            "url": url,
        })
    }
}

impl Subscription {
    pub fn to_twilio(&self, account_sid: &str) -> Value {
        let url = format!("{EVENTS_HOST}/v1/Subscriptions/{}", self.sid);
        json!({
            "account_sid": account_sid,
            "sid": self.sid,
            "date_created": iso8601(self.created_ms),
            "date_updated": iso8601(self.updated_ms),
            "description": self.description,
            "sink_sid": self.sink_sid,
            "links": { "subscribed_events": format!("{url}/SubscribedEvents") },
            "url": url,
        })
    }
}

/// One page of an Events v1 list, with the `meta` block of Twilio's v1 APIs.
fn page(key: &str, path: &str, filters: &str, all: Vec<Value>, page: usize, size: usize) -> Value {
    let start = page.saturating_mul(size);
    let has_next = start.saturating_add(size) < all.len();
    let items: Vec<Value> = all.into_iter().skip(start).take(size).collect();
    let url = |p: usize| format!("{EVENTS_HOST}{path}?{filters}PageSize={size}&Page={p}");
    json!({
        key: items,
        "meta": {
            "first_page_url": url(0),
            "key": key,
            "next_page_url": if has_next { Some(url(page + 1)) } else { None },
            "page": page,
            "page_size": size,
            "previous_page_url": if page > 0 { Some(url(page - 1)) } else { None },
            "url": url(page),
        }
    })
}

fn required<'a>(form: &'a [(String, String)], key: &str) -> Result<&'a str, TwilioError> {
    last(form, key).ok_or_else(|| bad_param(format!("Missing required parameter {key}")))
}

fn http_url(v: &str) -> bool {
    v.starts_with("http://") || v.starts_with("https://")
}

/// A webhook sink's configuration: `destination` (an http(s) URL) and
/// `method` (`POST` or `GET`); `batch_events` may say whether events come
/// several to a request.
fn check_configuration(sink_type: &str, configuration: &Value) -> Result<(), TwilioError> {
    if sink_type != "webhook" {
        // Kinesis and Segment sinks are accepted and kept, never delivered to.
        return Ok(());
    }
    let destination = configuration.get("destination").and_then(Value::as_str);
    if !destination.is_some_and(http_url) {
        return Err(bad_param(
            "SinkConfiguration of a webhook sink needs a destination that is an http or https URL",
        ));
    }
    match configuration.get("method").and_then(Value::as_str) {
        Some("POST" | "GET" | "post" | "get") => {}
        _ => {
            return Err(bad_param(
                "SinkConfiguration of a webhook sink needs a method, POST or GET",
            ))
        }
    }
    if configuration
        .get("batch_events")
        .is_some_and(|b| !b.is_boolean())
    {
        return Err(bad_param(
            "SinkConfiguration batch_events must be true or false",
        ));
    }
    Ok(())
}

async fn create_sink(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let form = parse_form(&body)?;
    let description = required(&form, "Description")?.to_string();
    let sink_type = required(&form, "SinkType")?.to_string();
    if !["kinesis", "webhook", "segment", "email"].contains(&sink_type.as_str()) {
        return Err(bad_param(format!(
            "SinkType must be one of kinesis, webhook, segment, email; got '{sink_type}'"
        )));
    }
    let configuration: Value = parse_json(required(&form, "SinkConfiguration")?.as_bytes())
        .map_err(|e| bad_param(format!("SinkConfiguration is not valid JSON: {e}")))?;
    if !configuration.is_object() {
        return Err(bad_param("SinkConfiguration must be a JSON object"));
    }
    check_configuration(&sink_type, &configuration)?;
    let now = now_ms();
    let sink = Sink {
        sid: st.new_sid("DG"),
        description,
        sink_type,
        configuration,
        status: "initialized".into(),
        test_id: None,
        created_ms: now,
        updated_ms: now,
    };
    let answer = sink.to_twilio();
    st.lock().world.sinks.push(sink);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list_sinks(
    State(st): State<SimState>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, TwilioError> {
    let pairs = parse_query(query.as_deref())?;
    let (p, size) = paging(&pairs)?;
    let in_use = match last(&pairs, "InUse") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => return Err(bad_param(format!("InUse must be true or false; got '{v}'"))),
    };
    let status = last(&pairs, "Status");
    let sim = st.lock();
    let world = &sim.world;
    let used = |sid: &str| world.subscriptions.iter().any(|s| s.sink_sid == sid);
    let all: Vec<Value> = world
        .sinks
        .iter()
        .filter(|s| in_use.is_none_or(|u| used(&s.sid) == u))
        .filter(|s| status.is_none_or(|v| s.status == v))
        .map(Sink::to_twilio)
        .collect();
    let mut filters = String::new();
    if let Some(u) = in_use {
        filters.push_str(&format!("InUse={u}&"));
    }
    if let Some(v) = status {
        filters.push_str(&format!("Status={v}&"));
    }
    Ok(Json(page("sinks", uri.path(), &filters, all, p, size)))
}

/// The sink a path names; a SID of another shape is not a sink (404).
fn sink_index(sinks: &[Sink], sid: &str, uri: &Uri) -> Result<usize, TwilioError> {
    sinks
        .iter()
        .position(|s| is_sid(sid, "DG") && s.sid == sid)
        .ok_or_else(|| not_found(uri.path()))
}

async fn fetch_sink(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let sim = st.lock();
    let i = sink_index(&sim.world.sinks, &sid, &uri)?;
    Ok(Json(sim.world.sinks[i].to_twilio()))
}

async fn update_sink(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    let form = parse_form(&body)?;
    let description = required(&form, "Description")?.to_string();
    let mut sim = st.lock();
    let i = sink_index(&sim.world.sinks, &sid, &uri)?;
    let sink = &mut sim.world.sinks[i];
    sink.description = description;
    sink.updated_ms = now_ms();
    Ok(Json(sink.to_twilio()))
}

async fn delete_sink(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
) -> Result<StatusCode, TwilioError> {
    let mut sim = st.lock();
    let i = sink_index(&sim.world.sinks, &sid, &uri)?;
    if sim.world.subscriptions.iter().any(|s| s.sink_sid == sid) {
        return Err(bad_param(
            "The sink is in use by a subscription; delete the subscription first",
        ));
    }
    sim.world.sinks.remove(i);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/Sinks/{Sid}/Test`: Twilio's test event goes to the sink.
async fn test_sink(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let mut sim = st.lock();
    let i = sink_index(&sim.world.sinks, &sid, &uri)?;
    let test_id = crate::cloudevents::test_id(&st.new_sid("TE"));
    let sink = &mut sim.world.sinks[i];
    if sink.status == "initialized" {
        sink.status = "validating".into();
    }
    sink.test_id = Some(test_id.clone());
    sink.updated_ms = now_ms();
    sim.world.outbox.push(crate::model::Outgoing::SinkTest {
        sink_sid: sid,
        test_id,
    });
    Ok((StatusCode::CREATED, Json(json!({"result": "submitted"}))))
}

/// `POST /v1/Sinks/{Sid}/Validate` with the test event's `TestId`: the sink
/// becomes active.
async fn validate_sink(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let form = parse_form(&body)?;
    let given = required(&form, "TestId")?.to_string();
    let mut sim = st.lock();
    let i = sink_index(&sim.world.sinks, &sid, &uri)?;
    let sink = &mut sim.world.sinks[i];
    if sink.test_id.as_deref() != Some(given.as_str()) {
        return Err(bad_param(format!(
            "TestId '{given}' is not the test event last sent to this sink"
        )));
    }
    sink.status = "active".into();
    sink.updated_ms = now_ms();
    Ok((StatusCode::CREATED, Json(json!({"result": "valid"}))))
}

/// One `Types` value: `{"type": "com.twilio...", "schema_version": 4}`.
fn parse_type(text: &str) -> Result<(String, u64), TwilioError> {
    let v: Value = parse_json(text.as_bytes())
        .map_err(|e| bad_param(format!("Types value is not valid JSON: {e}")))?;
    let Some(t) = v
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err(bad_param(format!("Types value {text} names no type")));
    };
    let version = match v.get("schema_version") {
        None | Some(Value::Null) => LATEST_SCHEMA_VERSION,
        Some(n) => n.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            bad_param(format!(
                "schema_version of {t} must be a whole number from 1"
            ))
        })?,
    };
    Ok((t.to_string(), version))
}

async fn create_subscription(
    State(st): State<SimState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let form = parse_form(&body)?;
    let description = required(&form, "Description")?.to_string();
    let sink_sid = required(&form, "SinkSid")?.to_string();
    let mut types = Vec::new();
    for (_, v) in form.iter().filter(|(k, _)| k == "Types") {
        types.push(parse_type(v)?);
    }
    if types.is_empty() {
        return Err(bad_param("Missing required parameter Types"));
    }
    let mut sim = st.lock();
    let Some(sink) = sim.world.sinks.iter().find(|s| s.sid == sink_sid) else {
        return Err(bad_param(format!(
            "SinkSid {sink_sid} is not a sink of this account"
        )));
    };
    if sink.status != "active" {
        return Err(bad_param(format!(
            "Sink {sink_sid} is {}; it must be active (tested and validated) for a subscription",
            sink.status
        )));
    }
    let now = now_ms();
    let sub = Subscription {
        sid: st.new_sid("DF"),
        description,
        sink_sid,
        types,
        created_ms: now,
        updated_ms: now,
    };
    let answer = sub.to_twilio(&st.config().account_sid);
    sim.world.subscriptions.push(sub);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list_subscriptions(
    State(st): State<SimState>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, TwilioError> {
    let pairs = parse_query(query.as_deref())?;
    let (p, size) = paging(&pairs)?;
    let sink = last(&pairs, "SinkSid");
    let ac = &st.config().account_sid;
    let sim = st.lock();
    let all: Vec<Value> = sim
        .world
        .subscriptions
        .iter()
        .filter(|s| sink.is_none_or(|k| s.sink_sid == k))
        .map(|s| s.to_twilio(ac))
        .collect();
    let filters = sink.map(|k| format!("SinkSid={k}&")).unwrap_or_default();
    Ok(Json(page(
        "subscriptions",
        uri.path(),
        &filters,
        all,
        p,
        size,
    )))
}

fn subscription_index(subs: &[Subscription], sid: &str, uri: &Uri) -> Result<usize, TwilioError> {
    subs.iter()
        .position(|s| is_sid(sid, "DF") && s.sid == sid)
        .ok_or_else(|| not_found(uri.path()))
}

async fn fetch_subscription(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
) -> Result<Json<Value>, TwilioError> {
    let sim = st.lock();
    let i = subscription_index(&sim.world.subscriptions, &sid, &uri)?;
    Ok(Json(
        sim.world.subscriptions[i].to_twilio(&st.config().account_sid),
    ))
}

async fn update_subscription(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    let form = parse_form(&body)?;
    let mut sim = st.lock();
    let i = subscription_index(&sim.world.subscriptions, &sid, &uri)?;
    let sub = &mut sim.world.subscriptions[i];
    if let Some(d) = last(&form, "Description") {
        sub.description = d.to_string();
    }
    sub.updated_ms = now_ms();
    Ok(Json(sub.to_twilio(&st.config().account_sid)))
}

async fn delete_subscription(
    State(st): State<SimState>,
    TwilioPath(sid): TwilioPath<String>,
    uri: Uri,
) -> Result<StatusCode, TwilioError> {
    let mut sim = st.lock();
    let i = subscription_index(&sim.world.subscriptions, &sid, &uri)?;
    sim.world.subscriptions.remove(i);
    Ok(StatusCode::NO_CONTENT)
}
