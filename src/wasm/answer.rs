//! JS values read into the core's `document::Tree`: the parts of Flex's
//! `custom_data` the core reads, and the backend's answers, whose text the
//! JS engine parses (`JSON.parse`). So the wasm carries neither a JSON
//! parser nor serde_json's `Value`; `config`, `pause` and `backend_client`
//! read the tree as they read a `serde_json::Value` natively.

use crate::attributes::MAX_ARRAY_LEN;
use crate::document::Tree;
use crate::wasm::lookup::{array_len, is_array, number_text, text, thrown};
use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Object.entries`, which runs getters and proxy traps (they may throw).
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    fn entries(value: &JsValue) -> Result<Array, JsValue>;
}

/// Nesting deeper than serde_json's parser accepts (its recursion limit,
/// 128) is unreadable here too; it also keeps this walk within wasm's stack.
const MAX_NESTING: usize = 127;

/// A body of the backend; `None` when it is not JSON.
pub fn parse(body: &str) -> Option<Tree> {
    tree(&JSON::parse(body).ok()?).ok()
}

/// The tests' answers in the browser (`backend_client` has the native one):
/// here, so the core's modules do not import the shell.
#[cfg(test)]
impl crate::backend_client::Answer {
    /// An HTTP answer with this body text, parsed as the shell parses one.
    pub(crate) fn http(status: u16, text: &str) -> Self {
        Self::Http {
            status,
            body: parse(text),
        }
    }
}

/// A JS value as a document; why not when it cannot be read (a getter or
/// proxy that throws, a value JSON has no counterpart for, nesting too deep).
pub fn tree(v: &JsValue) -> Result<Tree, String> {
    let mut elements = MAX_ARRAY_LEN;
    read(v, 0, &mut elements)
}

/// `elements`: how many array elements the rest of the walk may still read.
/// One budget for the whole document: arrays nested in arrays, each under
/// the limit, must not multiply into billions of reads.
fn read(v: &JsValue, nesting: usize, elements: &mut usize) -> Result<Tree, String> {
    if v.is_string() {
        return text(v).map(Tree::String);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Tree::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        // `JSON.parse` reads `1e400` as Infinity; natively the number's text
        // reads as Infinity too (`attributes::number_of_json`). NaN, which no
        // JSON text holds, is null, as `JSON.stringify` writes it.
        return Ok(if n.is_nan() {
            Tree::Null
        } else {
            Tree::Number(number_text(v)?)
        });
    }
    if v.is_null() || v.is_undefined() {
        return Ok(Tree::Null);
    }
    if !v.is_object() {
        let kind = v.js_typeof().as_string().unwrap_or_default();
        return Err(format!("a {kind} is not a JSON value"));
    }
    if nesting >= MAX_NESTING {
        return Err(format!("nested deeper than {MAX_NESTING} levels"));
    }
    if is_array(v).map_err(|e| thrown(&e))? {
        let len = array_len(v)? as usize;
        *elements = elements.checked_sub(len).ok_or_else(|| {
            format!("more than {MAX_ARRAY_LEN} array elements in all (one of {len})")
        })?;
        let len = len as u32;
        let mut items = Vec::new();
        for i in 0..len {
            let item = Reflect::get_u32(v, i).map_err(|e| thrown(&e))?;
            items.push(read(&item, nesting + 1, elements)?);
        }
        return Ok(Tree::Array(items));
    }
    let mut members = Vec::new();
    for entry in entries(v).map_err(|e| thrown(&e))?.iter() {
        let entry = Array::from(&entry);
        let key = text(&entry.get(0))?;
        members.push((key, read(&entry.get(1), nesting + 1, elements)?));
    }
    Ok(Tree::Object(members))
}
