//! The backend's answers as the browser reads them: the JS engine parses the
//! text (`JSON.parse`), so the wasm carries no JSON parser of its own, and
//! the parsed object becomes the `serde_json::Value` that `backend_client`
//! reads, as it does natively from serde_json's parse.

use js_sys::{Array, Object, JSON};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// Nesting deeper than serde_json's parser accepts (its recursion limit,
/// 128) is unreadable here too; it also keeps this walk within wasm's stack.
const MAX_NESTING: usize = 127;

/// Integers up to 2^53 are exact in a JS number: they read as integers
/// (`as_i64`), as serde-wasm-bindgen reads them.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// A body of the backend; `None` when it is not JSON.
pub fn parse(body: &str) -> Option<Value> {
    value(&JSON::parse(body).ok()?, 0)
}

fn value(v: &JsValue, nesting: usize) -> Option<Value> {
    if let Some(s) = v.as_string() {
        return Some(Value::String(s));
    }
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return Some(Value::Number(if n.fract() == 0.0 && n.abs() <= EXACT {
            Number::from(n as i64)
        } else {
            Number::from_f64(n)?
        }));
    }
    if v.is_null() {
        return Some(Value::Null);
    }
    if nesting >= MAX_NESTING {
        return None;
    }
    if Array::is_array(v) {
        return v
            .unchecked_ref::<Array>()
            .iter()
            .map(|item| value(&item, nesting + 1))
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array);
    }
    // What JSON.parse gives is a plain object with own members only.
    let object = v.dyn_ref::<Object>()?;
    let mut members = Map::new();
    for entry in Object::entries(object).iter() {
        let entry = entry.unchecked_into::<Array>();
        members.insert(
            entry.get(0).as_string()?,
            value(&entry.get(1), nesting + 1)?,
        );
    }
    Some(Value::Object(members))
}
