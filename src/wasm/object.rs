//! A JS value read as a `document::Document`, member by member, where it
//! is: how the shell reads the shim's events and task snapshots
//! (`FlexEvent::read`, `TaskSnapshot::read`). Nothing is converted but the
//! members the core asks for, so a task's attributes are never walked here,
//! and the wasm carries no deserializer for them (serde's derived visitors
//! and the float formatting of its error messages cost more than the core's
//! own rules).

use crate::attributes::MAX_ARRAY_LEN;
use crate::document::{Document, Node};
use crate::wasm::lookup::{array_len, is_array, number_text};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

/// A JS value read as a document. A member whose read throws (a getter, a
/// proxy) reads as absent, as a member of the wrong type does.
pub struct JsObject(pub JsValue);

impl Document for JsObject {
    fn node(&self) -> Node<JsObject> {
        let v = &self.0;
        if let Some(s) = v.as_string() {
            return Node::String(s);
        }
        if let Some(b) = v.as_bool() {
            return Node::Bool(b);
        }
        if v.as_f64().is_some() {
            return number_text(v).map_or(Node::Null, Node::Number);
        }
        if !v.is_object() {
            return Node::Null;
        }
        match is_array(v) {
            Ok(false) => Node::Object,
            Ok(true) => match array_len(v) {
                Ok(len) if len as usize <= MAX_ARRAY_LEN => Node::Array(
                    (0..len)
                        .map(|i| JsObject(Reflect::get_u32(v, i).unwrap_or(JsValue::UNDEFINED)))
                        .collect(),
                ),
                _ => Node::Null,
            },
            Err(_) => Node::Null,
        }
    }

    fn get(&self, key: &str) -> Option<JsObject> {
        if !self.0.is_object() {
            return None;
        }
        match Reflect::get(&self.0, &JsValue::from_str(key)) {
            Ok(v) if !v.is_undefined() => Some(JsObject(v)),
            _ => None,
        }
    }

    fn f64_at(&self, key: &str) -> Option<f64> {
        self.get(key)?.0.as_f64()
    }
}
