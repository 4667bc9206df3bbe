//! A worker's `config_overrides` over `custom_data`, as the flex-project-template
//! merges them (`lodash.merge(custom_data, attributes.config_overrides)`,
//! `utils/configuration/index.ts`), read as one `Document`.
//!
//! The merge is a view, not a copy: reading a key reads both sides. So the
//! readers of `config` and `pause` are the same with or without overrides,
//! and the browser and the backend, which call them through `settings`,
//! resolve the same configuration.
//!
//! lodash `merge`, for values JSON can hold (the table test below writes
//! each rule down):
//!
//! | source (override) | destination (custom_data) | result |
//! | --- | --- | --- |
//! | absent | anything | the destination |
//! | `null`, boolean, number, string | anything | the source (`null` overwrites) |
//! | array | array | index by index; the longer array's length |
//! | array | anything else | the source |
//! | object | object | key by key |
//! | object | array | the array, its indices merged with the source's index keys |
//! | object | anything else | the source |
//!
//! lodash also skips a source key `__proto__`; so does this view. Not
//! reproduced: an object with a numeric `length` as destination of an array
//! (lodash treats it as array-like), which no configuration holds.

use crate::document::{Document, Node};

/// `base` with `over` merged over it; either side may be absent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merged<D> {
    base: Option<D>,
    over: Option<D>,
}

impl<D: Document + Copy> Merged<D> {
    /// `custom_data` with the worker's `config_overrides` (`None`: no override).
    pub fn new(base: D, over: Option<D>) -> Self {
        Merged {
            base: Some(base),
            over,
        }
    }

    fn base_only(d: D) -> Self {
        Merged {
            base: Some(d),
            over: None,
        }
    }

    fn over_only(d: D) -> Self {
        Merged {
            base: None,
            over: Some(d),
        }
    }
}

fn scalar<D, M>(n: Node<D>) -> Node<M> {
    match n {
        Node::Null => Node::Null,
        Node::Bool(b) => Node::Bool(b),
        Node::Number(s) => Node::Number(s),
        Node::String(s) => Node::String(s),
        // Callers map arrays and objects themselves.
        Node::Array(_) | Node::Object => Node::Object,
    }
}

fn lift<D: Document + Copy>(n: Node<D>, each: impl Fn(D) -> Merged<D>) -> Node<Merged<D>> {
    match n {
        Node::Array(items) => Node::Array(items.into_iter().map(each).collect()),
        other => scalar(other),
    }
}

impl<D: Document + Copy> Document for Merged<D> {
    fn node(&self) -> Node<Self> {
        let base = self.base.map(|b| b.node());
        let Some(over) = self.over else {
            return match base {
                Some(n) => lift(n, Merged::base_only),
                // Both absent is never built; read it as null.
                None => Node::Null,
            };
        };
        match (over.node(), base) {
            (Node::Array(src), Some(Node::Array(dst))) => {
                let len = src.len().max(dst.len());
                Node::Array(
                    (0..len)
                        .map(|i| Merged {
                            base: dst.get(i).copied(),
                            over: src.get(i).copied(),
                        })
                        .collect(),
                )
            }
            (Node::Array(src), _) => Node::Array(src.into_iter().map(Merged::over_only).collect()),
            (Node::Object, Some(Node::Array(dst))) => Node::Array(
                dst.into_iter()
                    .enumerate()
                    .map(|(i, d)| Merged {
                        base: Some(d),
                        over: over.get(&i.to_string()),
                    })
                    .collect(),
            ),
            (Node::Object, _) => Node::Object,
            (other, _) => scalar(other),
        }
    }

    fn get(&self, key: &str) -> Option<Self> {
        let from_base = self.base.and_then(|b| b.get(key));
        let over = match self.over {
            None => return from_base.map(Merged::base_only),
            Some(o) => o,
        };
        if !matches!(over.node(), Node::Object) {
            // A scalar or array source replaced whatever was there.
            return over.get(key).map(Merged::over_only);
        }
        let from_over = if key == "__proto__" {
            None
        } else {
            over.get(key)
        };
        // Under an object source, the destination's member counts only
        // when the destination is an object (or an array) itself.
        let from_base = match self.base.map(|b| b.node()) {
            Some(Node::Object | Node::Array(_)) => from_base,
            _ => None,
        };
        match (from_base, from_over) {
            (None, None) => None,
            (base, over) => Some(Merged { base, over }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The merged view written out as JSON, to compare whole documents.
    fn written<D: Document + Copy>(d: D, probe: &Value) -> Value {
        match d.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => json!(b),
            Node::Number(n) => serde_json::from_str(&n).unwrap_or(Value::Null),
            Node::String(s) => json!(s),
            Node::Array(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| written(item, probe.get(i).unwrap_or(&Value::Null)))
                    .collect(),
            ),
            Node::Object => {
                // The view lists no keys: read the ones the expected value names.
                let mut out = serde_json::Map::new();
                if let Value::Object(keys) = probe {
                    for (k, sub) in keys {
                        if let Some(v) = d.get(k) {
                            out.insert(k.clone(), written(v, sub));
                        }
                    }
                }
                Value::Object(out)
            }
        }
    }

    #[test]
    fn lodash_merge_rules() {
        // (destination, source, what lodash.merge(destination, source) gives)
        let cases = [
            // Absent source keys keep the destination.
            (
                json!({"a": 1, "b": 2}),
                json!({"b": 3}),
                json!({"a": 1, "b": 3}),
            ),
            // null overwrites (lodash assigns every value but undefined).
            (
                json!({"a": {"x": 1}}),
                json!({"a": null}),
                json!({"a": null}),
            ),
            (json!({"a": 1}), json!({"a": false}), json!({"a": false})),
            (json!({"a": "x"}), json!({"a": 0}), json!({"a": 0})),
            // Objects key by key, at any depth.
            (
                json!({"f": {"d": {"enabled": true, "channel": "customer"}}}),
                json!({"f": {"d": {"channel": "worker"}}}),
                json!({"f": {"d": {"enabled": true, "channel": "worker"}}}),
            ),
            // Arrays index by index: a shorter source keeps the tail.
            (
                json!({"q": ["A", "B", "C"]}),
                json!({"q": ["Z"]}),
                json!({"q": ["Z", "B", "C"]}),
            ),
            (
                json!({"q": ["A"]}),
                json!({"q": ["Y", "Z"]}),
                json!({"q": ["Y", "Z"]}),
            ),
            (json!({"q": []}), json!({"q": ["Z"]}), json!({"q": ["Z"]})),
            (
                json!({"q": ["A", "B"]}),
                json!({"q": []}),
                json!({"q": ["A", "B"]}),
            ),
            // ...and objects inside arrays merge too.
            (
                json!({"r": [{"key": "a", "value": 1}]}),
                json!({"r": [{"value": 2}]}),
                json!({"r": [{"key": "a", "value": 2}]}),
            ),
            // An array over something else replaces it; so does an object.
            (json!({"q": "A"}), json!({"q": ["Z"]}), json!({"q": ["Z"]})),
            (
                json!({"q": {"0": "A"}}),
                json!({"q": ["Z"]}),
                json!({"q": ["Z"]}),
            ),
            (
                json!({"o": 5}),
                json!({"o": {"x": 1}}),
                json!({"o": {"x": 1}}),
            ),
            (
                json!({"o": null}),
                json!({"o": {"x": 1}}),
                json!({"o": {"x": 1}}),
            ),
            // An object over an array keeps the array, its index keys merged.
            (
                json!({"q": ["A", "B"]}),
                json!({"q": {"1": "Z"}}),
                json!({"q": ["A", "Z"]}),
            ),
            // A scalar over an object or array replaces it.
            (json!({"q": ["A"]}), json!({"q": "Z"}), json!({"q": "Z"})),
            // `__proto__` in the source is skipped.
            (
                json!({"a": 1}),
                json!({"__proto__": {"a": 2}}),
                json!({"a": 1}),
            ),
            // New keys appear.
            (
                json!({}),
                json!({"n": {"m": [1]}}),
                json!({"n": {"m": [1]}}),
            ),
        ];
        for (dst, src, want) in cases {
            let got = written(Merged::new(&dst, Some(&src)), &want);
            assert_eq!(got, want, "merge({dst}, {src})");
            // `__proto__` must not be readable either.
            assert!(Merged::new(&dst, Some(&src)).get("__proto__").is_none());
        }
    }

    #[test]
    fn without_override_the_view_is_the_destination() {
        for dst in [
            json!({"a": [1, {"b": null}]}),
            json!(null),
            json!("x"),
            json!([1]),
        ] {
            assert_eq!(written(Merged::new(&dst, None), &dst), dst);
        }
    }

    #[test]
    fn merged_members_of_scalars_are_absent() {
        let dst = json!({"a": 1});
        let src = json!({"a": "x"});
        let m = Merged::new(&dst, Some(&src));
        assert!(m.get("a").and_then(|a| a.get("b")).is_none());
        assert!(m.get("missing").is_none());
    }
}
