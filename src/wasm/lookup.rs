//! The browser's `Lookup`: walks the attributes object Flex holds, one own
//! property per path segment, so JavaScript's own semantics apply and
//! nothing is parsed or copied. Never the prototype chain (`constructor`,
//! `__proto__` and `toString` are not attributes unless the object has them
//! as its own). A getter or proxy that throws makes the value unreadable,
//! never an exception through the core.

use crate::attributes::{
    array_index, array_too_long, Attributes, Found, Kind, Lookup, MAX_ARRAY_LEN,
};
use js_sys::{JsString, Number, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws on a revoked proxy.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    pub(crate) fn is_array(value: &JsValue) -> Result<bool, JsValue>;

    /// `Object.prototype.hasOwnProperty.call(object, key)`: whether `key` is
    /// the object's own, without allocating a property descriptor per path
    /// segment (the accept's tail latency is the garbage collector's), and
    /// whatever the object's own prototype or members are (`Object.hasOwn`
    /// would be shorter but is newer than the browsers the plugin declares).
    /// Throws on a revoked proxy.
    #[wasm_bindgen(js_namespace = ["Object", "prototype", "hasOwnProperty"], js_name = call, catch)]
    pub(crate) fn has_own(object: &JsValue, key: &JsValue) -> Result<bool, JsValue>;
}

/// A JS value read as task attributes.
pub struct JsLookup(JsValue);

impl JsLookup {
    pub fn new(value: JsValue) -> JsLookup {
        JsLookup(value)
    }

    /// `object[key]` as attributes (`task.attributes`); a throwing read makes
    /// them unreadable.
    pub fn member(object: &JsValue, key: &str) -> Attributes {
        if !object.is_object() {
            return Attributes::default();
        }
        match Reflect::get(object, &JsValue::from_str(key)) {
            Ok(value) => Attributes::new(JsLookup(value)),
            Err(e) => Attributes::unreadable(thrown(&e)),
        }
    }
}

/// What a throw said.
pub(crate) fn thrown(e: &JsValue) -> String {
    let message = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_default();
    if message.is_empty() {
        "reading it threw".into()
    } else {
        format!("reading it threw: {message}")
    }
}

/// A JS string as Rust text. Rust strings cannot hold a lone surrogate,
/// and serde_json refuses one natively; a lossy copy could match a rule (or
/// a key) the real text does not, so such a string is unreadable.
pub(crate) fn text(v: &JsValue) -> Result<String, String> {
    let s = v.unchecked_ref::<JsString>();
    if !s.is_valid_utf16() {
        return Err("a string that is not valid Unicode (a lone surrogate)".into());
    }
    Ok(String::from(s))
}

/// A JS number as text, by JavaScript's own `Number.prototype.toString`
/// (`attributes::number_text` natively): no float formatting in the wasm.
pub(crate) fn number_text(v: &JsValue) -> Result<String, String> {
    v.unchecked_ref::<Number>()
        .to_string_with_radix(10)
        .map(String::from)
        .map_err(|e| thrown(&e))
}

/// The text of a scalar, as `attributes::Found::Scalar` holds it; `None`
/// for what is not one (null, containers, and what JSON cannot hold and
/// `JSON.stringify` leaves out: undefined, functions, symbols).
fn scalar(v: &JsValue) -> Option<Result<String, String>> {
    if let Some(b) = v.as_bool() {
        return Some(Ok(b.to_string()));
    }
    if v.as_f64().is_some() {
        return Some(number_text(v));
    }
    if v.is_string() {
        return Some(text(v));
    }
    if v.is_bigint() {
        return Some(Err("a BigInt, which JSON cannot hold".into()));
    }
    None
}

fn found(v: &JsValue) -> Found {
    if v.is_null() {
        return Found::Null;
    }
    if let Some(text) = scalar(v) {
        return text.map_or_else(Found::Unreadable, Found::Scalar);
    }
    if !v.is_object() {
        return Found::Missing;
    }
    match is_array(v) {
        Err(e) => Found::Unreadable(thrown(&e)),
        Ok(false) => Found::Object,
        Ok(true) => read_array(v),
    }
}

/// Element of `array` at `i`, or why it could not be read.
fn element(array: &JsValue, i: u32) -> Result<JsValue, String> {
    Reflect::get_u32(array, i).map_err(|e| thrown(&e))
}

/// An array's `length` as a count (a `length` that is not one counts 0).
/// Callers bound it before walking: a sparse array's `length` costs nothing
/// to set and everything to walk.
pub(crate) fn array_len(array: &JsValue) -> Result<u32, String> {
    let len = Reflect::get(array, &JsValue::from_str("length"))
        .map_err(|e| thrown(&e))?
        .as_f64()
        .unwrap_or(0.0);
    Ok(if len.is_finite() && len >= 0.0 {
        len.min(u32::MAX as f64) as u32
    } else {
        0
    })
}

fn read_array(array: &JsValue) -> Found {
    let len = match array_len(array) {
        Ok(len) if len as usize > MAX_ARRAY_LEN => {
            return Found::Unreadable(array_too_long(len as usize))
        }
        Ok(len) => len,
        Err(why) => return Found::Unreadable(why),
    };
    let mut scalars = Vec::new();
    for i in 0..len {
        let item = match element(array, i) {
            Ok(item) => item,
            Err(why) => return Found::Unreadable(why),
        };
        match scalar(&item) {
            Some(Ok(text)) => scalars.push(text),
            Some(Err(why)) => return Found::Unreadable(why),
            None => {}
        }
    }
    Found::Array {
        scalars,
        len: len as usize,
    }
}

impl Lookup for JsLookup {
    fn at(&self, path: &[&str]) -> Found {
        let mut cur = self.0.clone();
        for segment in path {
            if !cur.is_object() {
                return Found::Missing;
            }
            let key = match is_array(&cur) {
                Err(e) => return Found::Unreadable(thrown(&e)),
                // An array's own `length` is not an element.
                Ok(true) if array_index(segment).is_none() => return Found::Missing,
                Ok(_) => JsValue::from_str(segment),
            };
            let own = match has_own(&cur, &key) {
                Ok(own) => own,
                Err(e) => return Found::Unreadable(thrown(&e)),
            };
            if !own {
                return Found::Missing;
            }
            cur = match Reflect::get(&cur, &key) {
                Ok(v) => v,
                Err(e) => return Found::Unreadable(thrown(&e)),
            };
        }
        found(&cur)
    }

    fn kind(&self) -> Kind {
        let v = &self.0;
        if v.is_null() {
            return Kind::Null;
        }
        if v.as_bool().is_some() {
            return Kind::Boolean;
        }
        if v.as_f64().is_some() {
            return Kind::Number;
        }
        if v.is_string() {
            return Kind::String;
        }
        if v.is_bigint() {
            return Kind::Unreadable("a BigInt, which JSON cannot hold".into());
        }
        if !v.is_object() {
            return Kind::Missing;
        }
        match is_array(v) {
            Err(e) => Kind::Unreadable(thrown(&e)),
            Ok(true) => Kind::Array,
            Ok(false) => Kind::Object,
        }
    }
}
