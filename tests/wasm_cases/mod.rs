//! Cases shared by the Node and the browser wasm test suites.

use dual_channel_recording::attributes::{Found, Lookup};
use dual_channel_recording::wasm::api::Engine;
use dual_channel_recording::wasm::lookup::JsLookup;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

/// A JS object, as the shim builds one, from JSON written for the test.
fn js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

/// A JS object as JSON text, to compare the core's answers.
fn text(v: &JsValue) -> String {
    String::from(js_sys::JSON::stringify(v).unwrap())
}

/// A host object whose callbacks record what they were called with.
struct Recorder {
    host: Object,
    calls: Array,
}

impl Recorder {
    fn new() -> Recorder {
        let calls = Array::new();
        let host = Object::new();
        for name in ["log", "notify", "follow", "recordingStarted"] {
            let f = Function::new_with_args(
                "a, b, c",
                &format!("this.calls.push(['{name}', a, b, c]);"),
            );
            Reflect::set(&host, &name.into(), &f).unwrap();
        }
        Reflect::set(&host, &"calls".into(), &calls).unwrap();
        Reflect::set(
            &host,
            &"token".into(),
            &Function::new_no_args("return 'tok';"),
        )
        .unwrap();
        Recorder { host, calls }
    }

    fn named(&self, name: &str) -> Vec<Array> {
        self.calls
            .iter()
            .map(|c| c.unchecked_into::<Array>())
            .filter(|c| c.get(0).as_string().as_deref() == Some(name))
            .collect()
    }
}

fn custom_data(channel: &str) -> String {
    format!(
        r#"{{"features": {{"dual_channel_recording": {{"enabled": true, "channel": "{channel}"}}}},
            "serverless_functions_domain": "127.0.0.1:9", "serverless_functions_protocol": "http"}}"#
    )
}

fn engine_for(r: &Recorder, channel: &str, locale: &str) -> Engine {
    Engine::new(
        js(&custom_data(channel)),
        "WK00000000000000000000000000000001",
        locale,
        0.5,
        r.host.clone().unchecked_into(),
        JsValue::UNDEFINED,
    )
}

/// Whether any log line contains `needle`.
fn logged(r: &Recorder, needle: &str) -> bool {
    r.named("log")
        .iter()
        .any(|l| l.get(2).as_string().unwrap_or_default().contains(needle))
}

/// This tab carries the call: accept `task_sid` and connect its conference.
fn start_call(engine: &Engine, task_sid: &str) {
    assert!(engine.handle(js(
        r#"{"type": "activeCall", "callSid": "CA000000000000000000000000000000a1"}"#
    )));
    assert!(engine.handle(js(&format!(
        r#"{{"type": "taskAccepted", "task": {{"taskSid": "{task_sid}", "sid": "WR00000000000000000000000000000001",
            "channel": "voice", "attributes": {{"direction": "inbound"}}, "dateUpdated": 1700000000000}}}}"#
    ))));
    assert!(engine.handle(js(&format!(
        r#"{{"type": "conference", "taskSid": "{task_sid}", "conference": {{"conferenceSid": "CF00000000000000000000000000000001",
            "participants": [{{"participantType": "customer", "status": "joined", "callSid": "CA000000000000000000000000000000c1"}},
                             {{"participantType": "worker", "status": "joined", "callSid": "CA000000000000000000000000000000a1", "workerSid": "WK00000000000000000000000000000001"}}]}}}}"#
    ))));
}

#[wasm_bindgen_test]
fn deep_attributes_do_not_exhaust_the_wasm_stack() {
    // JSON.parse builds the deep document; the lookup walks only its path.
    let depth = 100_000;
    let mut doc = String::from(r#"{"pad": "#);
    doc.push_str(&"[".repeat(depth));
    doc.push_str(&"]".repeat(depth));
    doc.push_str(r#", "privacy": ["a", "no-recording"]}"#);
    match JsLookup::new(js(&doc)).lookup("privacy") {
        Found::Array { scalars, .. } => assert!(scalars.contains(&"no-recording".to_string())),
        other => panic!("{other:?}"),
    }
    let mut deep = String::new();
    for _ in 0..depth {
        deep.push_str(r#"{"k":"#);
    }
    deep.push('1');
    deep.push_str(&"}".repeat(depth));
    let path: Vec<&str> = std::iter::repeat_n("k", depth).collect();
    assert_eq!(
        JsLookup::new(js(&deep)).at(&path),
        Found::Scalar("1".into())
    );
}

#[wasm_bindgen_test]
fn misconfiguration_notifies_the_host_once() {
    let r = Recorder::new();
    let engine = engine_for(&r, "agent", "es-MX");
    assert!(!engine.enabled());
    let notes = r.named("notify");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].get(1).as_string().as_deref(),
        Some("PSDualChannelBroken")
    );
    assert!(notes[0].get(2).as_string().unwrap().contains("doble canal"));
    assert!(logged(&r, "channel: must be"));
}

#[wasm_bindgen_test]
fn unreadable_events_are_logged_not_thrown() {
    let r = Recorder::new();
    let engine = engine_for(&r, "customer", "en-US");
    assert!(engine.enabled());
    let make = |src: &str| Function::new_no_args(src).call0(&JsValue::NULL).unwrap();
    // Each event, and why it is unreadable. A member whose getter throws
    // reads as absent, as one of the wrong type does.
    let cases = [
        (JsValue::from_str("{not an object"), "not an object"),
        (
            js(r#"{"type": "somethingElse"}"#),
            "unknown event type \"somethingElse\"",
        ),
        (js(r#"{"type": 7}"#), "no \"type\""),
        (
            make("return {type: 'hangup', get taskSid() { throw new Error('no'); }};"),
            "hangup without \"taskSid\"",
        ),
        (
            js(r#"{"type": "taskAccepted", "task": ["WT1", "WR1"]}"#),
            "taskAccepted without a \"task\" object",
        ),
    ];
    for (event, _) in &cases {
        assert!(!engine.handle(event.clone()));
    }
    let errors: Vec<String> = r
        .named("log")
        .iter()
        .filter(|l| l.get(1).as_string().as_deref() == Some("error"))
        .map(|l| l.get(2).as_string().unwrap())
        .collect();
    assert_eq!(errors.len(), cases.len());
    for (error, (_, why)) in errors.iter().zip(&cases) {
        assert_eq!(
            error,
            &format!("ignored an unreadable event from the shim ({why})")
        );
    }
}

#[wasm_bindgen_test]
async fn an_unreachable_backend_is_retried_and_the_task_can_be_dropped() {
    let r = Recorder::new();
    let engine = engine_for(&r, "customer", "en-US");
    assert!(engine.handle(js(
        r#"{"type": "activeCall", "callSid": "CA000000000000000000000000000000a1"}"#
    )));
    assert!(engine.handle(js(
        r#"{"type": "taskAccepted", "task": {"taskSid": "WT00000000000000000000000000000001", "sid": "WR00000000000000000000000000000001",
            "channel": "voice", "attributes": {"direction": "inbound"}, "dateUpdated": 1700000000000}}"#
    )));
    assert_eq!(
        engine.followed(),
        vec!["WT00000000000000000000000000000001".to_string()]
    );
    assert!(engine.handle(js(
        r#"{"type": "conference", "taskSid": "WT00000000000000000000000000000001", "conference": {"conferenceSid": "CF00000000000000000000000000000001",
            "participants": [{"participantType": "customer", "status": "joined", "callSid": "CA000000000000000000000000000000c1"},
                             {"participantType": "worker", "status": "joined", "callSid": "CA000000000000000000000000000000a1", "workerSid": "WK00000000000000000000000000000001"}]}}"#
    )));
    assert!(!engine.idle(), "the request is in flight");
    assert!(text(&engine.status("WT00000000000000000000000000000001"))
        .contains(r#""state":"starting""#));
    // Wait for the refused connection and the retry to be scheduled.
    for _ in 0..100 {
        if logged(&r, "attempt 1 failed") {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    assert!(logged(&r, "attempt 1 failed"));
    assert!(engine.handle(js(r#"{"type": "ended", "taskSid": "WT00000000000000000000000000000001", "reason": "canceled"}"#)));
    assert!(engine.idle(), "no retry outlives the task");
    engine.dispose();
}

#[wasm_bindgen_test]
async fn a_fetch_rejecting_with_something_not_an_error_is_a_network_failure() {
    // Code that wraps `fetch` may reject with a bare string; that must be a
    // retryable failure, not a trap.
    let install = Function::new_no_args(
        "globalThis.__realFetch = globalThis.fetch; globalThis.fetch = () => Promise.reject('wrapped fetch said no');",
    );
    install.call0(&JsValue::NULL).unwrap();
    let r = Recorder::new();
    let engine = engine_for(&r, "customer", "en-US");
    start_call(&engine, "WT00000000000000000000000000000002");
    let said = |r: &Recorder| logged(r, "wrapped fetch said no");
    for _ in 0..100 {
        if said(&r) {
            break;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    Function::new_no_args("globalThis.fetch = globalThis.__realFetch;")
        .call0(&JsValue::NULL)
        .unwrap();
    assert!(said(&r), "the rejection is logged as a failed attempt");
    engine.handle(js(r#"{"type": "ended", "taskSid": "WT00000000000000000000000000000002", "reason": "canceled"}"#));
    assert!(engine.idle());
    engine.dispose();
}

#[wasm_bindgen_test]
fn before_accept_answers_the_conference_record_at_once() {
    let r = Recorder::new();
    let engine = Engine::new(
        js(
            r#"{"features": {"dual_channel_recording": {"enabled": true, "method": "conference", "channel": "worker",
            "exclude_queues": ["Billing"], "exclude_attributes": [{"key": "customer.privacy", "value": "no-recording"}]}}}"#,
        ),
        "WK00000000000000000000000000000001",
        "en-US",
        0.5,
        r.host.clone().unchecked_into(),
        JsValue::UNDEFINED,
    );
    assert!(engine.enabled(), "no backend location needed");
    assert!(logged(&r, r#"channel "worker" is ignored"#));
    let task = |sid: &str, queue: &str, channel: &str, attributes: &str| {
        format!(
            r#"{{"taskSid": "{sid}", "sid": "WR00000000000000000000000000000001", "queueName": "{queue}",
                "queueSid": "WQ00000000000000000000000000000001", "channel": "{channel}", "attributes": {}}}"#,
            attributes
        )
    };
    let answer = |json: &str| -> serde_json::Value {
        serde_json::from_str(&text(&engine.before_accept(js(json)))).unwrap()
    };
    let t1 = "WT00000000000000000000000000000001";
    let a = answer(&task(t1, "Sales", "voice", r#"{"direction": "inbound"}"#));
    assert_eq!(a["conferenceRecord"], serde_json::json!(true));
    assert!(text(&engine.status(t1)).contains(r#""state":"conference""#));
    let a = answer(&task(t1, "Billing", "voice", "{}"));
    assert_eq!(a["conferenceRecord"], serde_json::json!(false));
    assert_eq!(a["reason"], "queue Billing is in exclude_queues");
    let a = answer(&task(
        t1,
        "Sales",
        "voice",
        r#"{"customer": {"privacy": ["no-recording"]}}"#,
    ));
    assert_eq!(a["conferenceRecord"], serde_json::json!(false));
    let a = answer(&task(t1, "Sales", "chat", "{}"));
    assert_eq!(a["conferenceRecord"], serde_json::Value::Null);
    // An unreadable task: untouched, logged, never thrown.
    let a = answer(r#""not an object""#);
    assert_eq!(a["conferenceRecord"], serde_json::Value::Null);
    assert!(logged(
        &r,
        "ignored an unreadable task from beforeAcceptTask"
    ));
    assert!(logged(
        &r,
        "not recording WT00000000000000000000000000000001: queue Billing"
    ));
    assert!(r.named("notify").is_empty());
}

#[wasm_bindgen_test]
fn flex_call_recording_on_is_one_warning() {
    let r = Recorder::new();
    let engine = engine_for(&r, "customer", "en-US");
    assert!(engine.handle(js(r#"{"type": "flexCallRecording", "enabled": true}"#)));
    assert!(engine.handle(js(r#"{"type": "flexCallRecording", "enabled": true}"#)));
    let warnings: Vec<String> = r
        .named("log")
        .iter()
        .filter(|l| l.get(1).as_string().as_deref() == Some("warn"))
        .map(|l| l.get(2).as_string().unwrap())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("recorded twice"));
    assert!(r.named("notify").is_empty(), "agents see nothing");
}

#[wasm_bindgen_test]
fn complete_is_held_only_while_a_request_of_the_task_is_open() {
    let r = Recorder::new();
    let engine = engine_for(&r, "customer", "en-US");
    let task = "WT00000000000000000000000000000009";
    assert_eq!(engine.complete_hold_ms(task), 0);
    start_call(&engine, task);
    // The recording request is on its way (to a port nothing answers on).
    assert!(engine.request_pending(task));
    assert_eq!(engine.complete_hold_ms(task), 3_000);
    assert_eq!(
        engine.complete_hold_ms("WT00000000000000000000000000000008"),
        0
    );
}

#[path = "../lookup_cases/mod.rs"]
mod lookup_cases;

/// The browser's lookup (JSON.parse, then the walk of `wasm::lookup`), the
/// native one (serde_json) and the oracle agree on generated documents.
#[wasm_bindgen_test]
fn browser_and_native_lookups_agree() {
    use dual_channel_recording::attributes::Attributes;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        lookup_cases::document(),
        proptest::collection::vec(lookup_cases::path(), 1..12),
    );
    runner
        .run(&strategy, |(doc, paths)| {
            let text = lookup_cases::to_json(&doc);
            let browser = JsLookup::new(js(&text));
            let native = Attributes::parse(&text);
            for p in paths.iter().chain(&lookup_cases::paths_of(&doc, 40)) {
                let want = lookup_cases::oracle(&doc, p);
                proptest::prop_assert_eq!(
                    browser.lookup(p),
                    want.clone(),
                    "browser: {} in {}",
                    p,
                    text
                );
                proptest::prop_assert_eq!(native.lookup(p), want, "native: {} in {}", p, text);
            }
            Ok(())
        })
        .unwrap();
}

/// What JSON cannot hold or a reader cannot read: unreadable, never a throw,
/// and never the prototype chain.
#[wasm_bindgen_test]
fn the_browser_lookup_reads_own_values_only_and_fails_closed() {
    use dual_channel_recording::attributes::{Attributes, Kind};
    let make = |src: &str| Function::new_no_args(src).call0(&JsValue::NULL).unwrap();
    let unreadable = |f: Found| matches!(f, Found::Unreadable(_));
    // Not attributes: what every object inherits.
    let plain = JsLookup::new(js(r#"{"a": 1}"#));
    for key in [
        "constructor",
        "toString",
        "__proto__",
        "hasOwnProperty",
        "a.constructor",
    ] {
        assert_eq!(plain.lookup(key), Found::Missing, "{key}");
    }
    let list = JsLookup::new(js(r#"{"l": [1, "x", null, {"k": 1}]}"#));
    assert_eq!(list.lookup("l.length"), Found::Missing);
    assert_eq!(list.lookup("l.01"), Found::Missing);
    assert_eq!(list.lookup("l.1"), Found::Scalar("x".into()));
    // A throwing getter, a throwing proxy, a revoked proxy, a BigInt.
    let getter = JsLookup::new(make(
        "return {ok: 'yes', get bad() { throw new Error('getter failed'); }};",
    ));
    assert_eq!(getter.lookup("ok"), Found::Scalar("yes".into()));
    assert!(unreadable(getter.lookup("bad")));
    let proxy = JsLookup::new(make(
        "return new Proxy({}, {getOwnPropertyDescriptor() { throw new Error('trap'); }});",
    ));
    assert!(unreadable(proxy.lookup("a")));
    let revoked = make("const p = Proxy.revocable({}, {}); p.revoke(); return {r: p.proxy};");
    assert!(unreadable(JsLookup::new(revoked.clone()).lookup("r.x")));
    assert!(unreadable(JsLookup::new(revoked).lookup("r")));
    let big = JsLookup::new(make("return {n: 10n, l: [1, 2n]};"));
    assert!(unreadable(big.lookup("n")));
    assert!(unreadable(big.lookup("l")));
    assert!(matches!(
        JsLookup::new(make("return 10n;")).kind(),
        Kind::Unreadable(_)
    ));
    // A cycle is walked only as far as the path goes.
    let cyclic = JsLookup::new(make("const o = {v: 'x'}; o.self = o; return o;"));
    assert_eq!(cyclic.lookup("self.self.self.v"), Found::Scalar("x".into()));
    // Undefined and functions are left out, as JSON.stringify leaves them.
    let odd = JsLookup::new(make("return {u: undefined, f() {}, l: [undefined, 'y']};"));
    assert_eq!(odd.lookup("u"), Found::Missing);
    assert_eq!(odd.lookup("f"), Found::Missing);
    assert_eq!(
        odd.lookup("l"),
        Found::Array {
            scalars: vec!["y".into()],
            len: 2
        }
    );
    // A lone surrogate: JSON.parse accepts it, serde_json does not. Both
    // fail closed where it is read; natively the whole document does.
    let lone = r#"{"a": "\ud800A", "b": "fine"}"#;
    assert!(unreadable(JsLookup::new(js(lone)).lookup("a")));
    assert_eq!(
        JsLookup::new(js(lone)).lookup("b"),
        Found::Scalar("fine".into())
    );
    assert!(unreadable(Attributes::parse(lone).lookup("a")));
    assert!(unreadable(Attributes::parse(lone).lookup("b")));
    // A sparse array whose `length` says billions: refused, not walked.
    let sparse = make("const l = []; l.length = 4e9; l[0] = 1; return {l, m: [1, 2]};");
    assert!(unreadable(JsLookup::new(sparse.clone()).lookup("l")));
    assert_eq!(
        JsLookup::new(sparse.clone()).lookup("l.0"),
        Found::Scalar("1".into())
    );
    assert!(dual_channel_recording::wasm::answer::tree(&sparse).is_err());
    // Arrays each under the limit add up (nested, they would multiply into
    // billions of reads): one budget for the whole document.
    let nested = make("const l = []; l.length = 40000; return [l, l];");
    let why = dual_channel_recording::wasm::answer::tree(&nested).unwrap_err();
    assert!(why.contains("array elements in all"), "{why}");
    // NaN is null, as JSON.stringify writes it; Infinity is a number.
    assert_eq!(
        dual_channel_recording::wasm::answer::tree(&make("return [NaN, -Infinity];")),
        Ok(dual_channel_recording::document::Tree::Array(vec![
            dual_channel_recording::document::Tree::Null,
            dual_channel_recording::document::Tree::Number("-Infinity".into()),
        ]))
    );
    // Numbers as JavaScript writes them.
    let n = JsLookup::new(js(r#"{"a": 1.0, "b": -0, "c": 1e400, "d": 1E2}"#));
    for (k, want) in [("a", "1"), ("b", "0"), ("c", "Infinity"), ("d", "100")] {
        assert_eq!(n.lookup(k), Found::Scalar(want.into()), "{k}");
    }
}

/// The backend's answers parsed by the JS engine and read into a
/// `document::Tree` (`wasm::answer`) hold what serde_json's parse holds
/// natively: the same members (the last of duplicate keys), numbers as
/// JavaScript writes them, and the same refusals (not JSON, nested past
/// serde_json's limit).
#[wasm_bindgen_test]
fn backend_answers_parse_as_serde_json_parses_them() {
    use dual_channel_recording::attributes::number_of_json;
    use dual_channel_recording::document::Tree;
    use dual_channel_recording::wasm::answer::parse;
    use serde_json::Value;
    fn tree_of(v: &Value) -> Tree {
        match v {
            Value::Null => Tree::Null,
            Value::Bool(b) => Tree::Bool(*b),
            Value::Number(n) => Tree::Number(number_of_json(n)),
            Value::String(s) => Tree::String(s.clone()),
            Value::Array(items) => Tree::Array(items.iter().map(tree_of).collect()),
            Value::Object(m) => {
                Tree::Object(m.iter().map(|(k, v)| (k.clone(), tree_of(v))).collect())
            }
        }
    }
    // Members in key order, as serde_json's map keeps them.
    fn sorted(t: Tree) -> Tree {
        match t {
            Tree::Array(items) => Tree::Array(items.into_iter().map(sorted).collect()),
            Tree::Object(mut m) => {
                m.sort_by(|a, b| a.0.cmp(&b.0));
                Tree::Object(m.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            t => t,
        }
    }
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let deep_ok = nested(127);
    let too_deep = nested(128);
    let cases: Vec<&str> = vec![
        r#"{"success":true,"callSid":"CA1","recordingSid":"RE1","alreadyRecording":false,"warning":null}"#,
        r#"{"state":"paused","recordings":[{"recordingSid":"RE1","status":"paused"},{"status":7},"x",[]]}"#,
        r#"{"code":20404,"message":"not found","moreInfo":"https://www.twilio.com/docs/errors/20404"}"#,
        r#"{"validForMs":-3,"n":[0,-0,1.5,1e3,1e21,9007199254740993,"é\u0000"]}"#,
        r#"{"b":1,"a":2,"b":3}"#,
        r#"{"__proto__":{"x":1},"constructor":true}"#,
        r#"[]"#,
        r#""text""#,
        r#"null"#,
        &deep_ok,
        &too_deep,
        "<html>",
        "",
        "{",
        r#"{"a":1} x"#,
        r#"{"big":1e400,"neg":-1e400}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"\udc00":1}"#,
    ];
    for body in cases {
        let native = serde_json::from_str::<Value>(body)
            .ok()
            .map(|v| tree_of(&v));
        assert_eq!(parse(body).map(sorted), native, "{body}");
    }
    assert_eq!(
        parse(r#"{"f":1.5,"i":1e3,"z":-0}"#),
        Some(Tree::Object(vec![
            ("f".into(), Tree::Number("1.5".into())),
            ("i".into(), Tree::Number("1000".into())),
            ("z".into(), Tree::Number("0".into())),
        ]))
    );
}

/// The worker the shim passes (`manager.workerClient.attributes`,
/// `manager.user.roles`): its `config_overrides` are merged over
/// custom_data (here the worker channel), and the template-feature conflict
/// is shown to an admin only. Unreadable attributes leave custom_data as is.
#[wasm_bindgen_test]
fn the_worker_reaches_the_core() {
    let custom_data = r#"{"plugin_dual_channel_recording": {"enabled": true, "channel": "customer",
        "backend_url": "http://127.0.0.1:9"},
        "features": {"dual_channel_recording": {"enabled": true}}}"#;
    let cases = [
        (
            r#"{"attributes": {}, "roles": ["admin"]}"#,
            true,
            "customer",
        ),
        (
            r#"{"attributes": {}, "roles": ["agent"]}"#,
            false,
            "customer",
        ),
        (
            r#"{"attributes": {"config_overrides": {"plugin_dual_channel_recording": {"channel": "worker"}}}, "roles": ["agent", "admin"]}"#,
            true,
            "worker",
        ),
        (
            r#"{"attributes": {"config_overrides": {"features": {"dual_channel_recording": {"enabled": false}}}}, "roles": ["admin"]}"#,
            false,
            "customer",
        ),
        // Not an object, roles not an array: custom_data alone, nobody told.
        (
            r#"{"attributes": "x", "roles": "admin"}"#,
            false,
            "customer",
        ),
    ];
    for (worker, notified, channel) in cases {
        let r = Recorder::new();
        let engine = Engine::new(
            js(custom_data),
            "WK00000000000000000000000000000001",
            "en-US",
            0.5,
            r.host.clone().unchecked_into(),
            js(worker),
        );
        assert!(engine.enabled(), "{worker}");
        let shown: Vec<String> = r
            .named("notify")
            .iter()
            .filter_map(|n| n.get(1).as_string())
            .collect();
        assert_eq!(
            shown.contains(&"PSDualChannelTemplateConflict".to_string()),
            notified,
            "{worker}: {shown:?}"
        );
        assert!(
            logged(&r, &format!("recording the {channel} channel")),
            "{worker}"
        );
    }
    // A getter that throws: the worker is left out, with one warning.
    let r = Recorder::new();
    let worker = js(r#"{"roles": ["admin"]}"#);
    let attributes = Object::new();
    let throwing = Function::new_no_args("throw new Error('boom')");
    let descriptor = Object::new();
    Reflect::set(&descriptor, &"get".into(), &throwing).unwrap();
    Reflect::set(&descriptor, &"enumerable".into(), &true.into()).unwrap();
    Object::define_property(&attributes, &"config_overrides".into(), &descriptor);
    Reflect::set(&worker, &"attributes".into(), &attributes).unwrap();
    let engine = Engine::new(
        js(custom_data),
        "WK00000000000000000000000000000001",
        "en-US",
        0.5,
        r.host.clone().unchecked_into(),
        worker,
    );
    assert!(engine.enabled());
    assert!(logged(&r, "config_overrides could not be read"));
}

/// lodash `merge` in the browser as natively: `null` in a worker's override
/// replaces what it names (here every template key), arrays merge by index.
#[wasm_bindgen_test]
fn overrides_merge_as_lodash_in_the_browser() {
    let custom_data = r#"{"features": {"dual_channel_recording": {"enabled": true, "channel": "customer",
        "exclude_queues": ["A", "B"]}}, "serverless_functions_domain": "127.0.0.1:9"}"#;
    for (worker, enabled) in [
        (
            r#"{"attributes": {"config_overrides": {"features": null}}}"#,
            false,
        ),
        (
            r#"{"attributes": {"config_overrides": {"features": {"dual_channel_recording": null}}}}"#,
            false,
        ),
        (
            r#"{"attributes": {"config_overrides": {"features": {"dual_channel_recording": {"exclude_queues": ["Z"]}}}}}"#,
            true,
        ),
        (
            r#"{"attributes": {"config_overrides": {"features": []}}}"#,
            false,
        ),
    ] {
        let r = Recorder::new();
        let engine = Engine::new(
            js(custom_data),
            "WK00000000000000000000000000000001",
            "en-US",
            0.5,
            r.host.clone().unchecked_into(),
            js(worker),
        );
        assert_eq!(engine.enabled(), enabled, "{worker}");
    }
}
