//! The Flex configuration and the worker, read from the JS objects the shim
//! passes into the core's `document::Tree`: only the keys the core reads
//! (`settings::resolve`), so the rest of a large `custom_data` (other
//! plugins' features) and of the worker's attributes is never walked.

use crate::document::Tree;
use crate::wasm::answer::tree;
use crate::wasm::api::describe;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

/// `object[key]` when it is an own property that is not undefined, as
/// `JSON.stringify` kept members; `Err` when reading threw.
pub(crate) fn own(object: &JsValue, key: &str) -> Result<Option<JsValue>, String> {
    if !object.is_object() {
        return Ok(None);
    }
    let key = JsValue::from_str(key);
    let read = crate::wasm::lookup::has_own(object, &key).and_then(|own| {
        if own {
            Reflect::get(object, &key)
        } else {
            Ok(JsValue::UNDEFINED)
        }
    });
    match read {
        Ok(v) if v.is_undefined() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(describe(&e)),
    }
}

/// The parts of Flex's `custom_data` the core reads (`config::parse`,
/// `pause::parse`), as a tree: only those are converted, so the rest of a
/// large configuration (other plugins' features) is never walked.
pub fn read_custom_data(custom_data: &JsValue) -> Result<Tree, String> {
    let mut out = Vec::new();
    for key in [
        "serverless_functions_domain",
        "serverless_functions_protocol",
        "serverless_functions_port",
    ] {
        if let Some(v) = own(custom_data, key)? {
            out.push((key.into(), tree(&v)?));
        }
    }
    if let Some(block) = own(custom_data, crate::config::OWN_BLOCK)? {
        out.push((crate::config::OWN_BLOCK.into(), tree(&block)?));
    }
    if let Some(features) = own(custom_data, "features")? {
        // Not an object (null in a worker's override replaces the template's
        // keys, as lodash merges it): kept as it is.
        if !features.is_object() || js_sys::Array::is_array(&features) {
            out.push(("features".into(), tree(&features)?));
            return Ok(Tree::Object(out));
        }
        let mut picked = Vec::new();
        for key in [crate::config::FEATURE_KEY, crate::pause::PAUSE_FEATURE_KEY] {
            if let Some(v) = own(&features, key)? {
                picked.push((key.into(), tree(&v)?));
            }
        }
        out.push(("features".into(), Tree::Object(picked)));
    }
    Ok(Tree::Object(out))
}

/// The worker the shim describes (`{attributes, roles}`: Flex's
/// `manager.workerClient.attributes` and `manager.user.roles`): the
/// attributes' `config_overrides`, read as `custom_data` is (only the keys
/// the core reads), and the role names. What cannot be read is left out:
/// the worker then gets `custom_data` alone, and the reason is returned.
pub fn read_worker(worker: &JsValue) -> (Option<Tree>, Vec<String>, Option<String>) {
    if !worker.is_object() {
        return (None, Vec::new(), None);
    }
    let mut problem = None;
    let overrides = match own(worker, "attributes").and_then(|a| match a {
        Some(a) if a.is_object() => own(&a, crate::settings::OVERRIDES_KEY),
        _ => Ok(None),
    }) {
        Ok(Some(o)) if o.is_object() && !js_sys::Array::is_array(&o) => {
            match read_custom_data(&o) {
                Ok(t) => Some(Tree::Object(vec![(
                    crate::settings::OVERRIDES_KEY.into(),
                    t,
                )])),
                Err(e) => {
                    problem = Some(e);
                    None
                }
            }
        }
        Ok(_) => None,
        Err(e) => {
            problem = Some(e);
            None
        }
    };
    let roles = match own(worker, "roles").and_then(|r| r.map(|r| tree(&r)).transpose()) {
        Ok(Some(Tree::Array(items))) => items
            .into_iter()
            .filter_map(|r| match r {
                Tree::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    (overrides, roles, problem)
}
