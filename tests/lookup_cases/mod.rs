//! Generated attribute documents and paths, with an oracle: the value a
//! lookup must find, computed from the generated tree itself (no JSON
//! parser, no number formatter), by JavaScript's rules. Shared by the native
//! property test (tests/lookup_agrees.rs) and the wasm ones
//! (tests/wasm_cases), which also compare the browser's lookup.
//!
//! Documents hold valid UTF-16 only: serde_json refuses a lone surrogate
//! that JSON.parse accepts, so the two sides cannot agree on such a
//! document; that case is an explicit row (src/attributes.rs,
//! tests/wasm_cases).

#![allow(dead_code)]

use dual_channel_recording::attributes::Found;
use proptest::prelude::*;

/// A text as written in the JSON document and as it reads.
#[derive(Clone, Debug)]
pub struct Text {
    pub json: String,
    pub value: String,
}

#[derive(Clone, Debug)]
pub enum Node {
    Null,
    Bool(bool),
    /// A number as written, and JavaScript's `String(n)` of it.
    Num {
        json: String,
        js: String,
    },
    Str(Text),
    Arr(Vec<Node>),
    /// Members in document order; duplicate keys allowed.
    Obj(Vec<(Text, Node)>),
}

/// Keys and path segments: duplicates, dots, array-like and prototype names.
pub const NAMES: &[&str] = &[
    "a",
    "b",
    "a.b",
    "0",
    "1",
    "2",
    "01",
    "",
    "__proto__",
    "constructor",
    "toString",
    "length",
    "x y",
    "é",
];

/// One character of a string, in its written and read forms.
fn piece() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        "[a-z .]".prop_map(|c| (c.clone(), c)),
        Just(("\\\"".to_string(), "\"".to_string())),
        Just(("\\\\".to_string(), "\\".to_string())),
        Just(("\\n".to_string(), "\n".to_string())),
        Just(("\\/".to_string(), "/".to_string())),
        Just(("\\u0061".to_string(), "a".to_string())),
        Just(("\\u00e9".to_string(), "é".to_string())),
        Just(("é".to_string(), "é".to_string())),
        // A surrogate pair, escaped and raw.
        Just(("\\ud83d\\ude00".to_string(), "😀".to_string())),
        Just(("😀".to_string(), "😀".to_string())),
    ]
}

pub fn text() -> impl Strategy<Value = Text> {
    prop::collection::vec(piece(), 0..6).prop_map(|pieces| {
        let (mut json, mut value) = (String::from("\""), String::new());
        for (j, v) in pieces {
            json.push_str(&j);
            value.push_str(&v);
        }
        json.push('"');
        Text { json, value }
    })
}

/// A key: one of `NAMES`, sometimes with its first ASCII letter escaped
/// (the same key, written otherwise).
pub fn key() -> impl Strategy<Value = Text> {
    (prop::sample::select(NAMES), any::<bool>()).prop_map(|(name, escape)| {
        let mut json = String::from("\"");
        let mut chars = name.chars();
        match chars.next() {
            Some(c) if escape && c.is_ascii() => {
                json.push_str(&format!("\\u{:04x}", c as u32));
                json.extend(chars);
            }
            Some(c) => {
                json.push(c);
                json.extend(chars);
            }
            None => {}
        }
        json.push('"');
        Text {
            json,
            value: name.to_string(),
        }
    })
}

/// Numbers whose JavaScript text is known without a formatter.
const SPECIAL: &[(&str, &str)] = &[
    ("1e400", "Infinity"),
    ("-1e400", "-Infinity"),
    ("1e-400", "0"),
    ("-0", "0"),
    ("-0.0", "0"),
    ("0", "0"),
    ("1.0", "1"),
    ("1e0", "1"),
    ("1E2", "100"),
    ("1e+2", "100"),
    ("0.1", "0.1"),
    ("0.000001", "0.000001"),
    ("1e-7", "1e-7"),
    ("1.5e-7", "1.5e-7"),
    ("1e21", "1e+21"),
    ("123e19", "1.23e+21"),
    ("12345678901234567890", "12345678901234567000"),
    ("9007199254740993", "9007199254740992"),
    ("123456789012345678901234567890", "1.2345678901234568e+29"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("100000000000000000000", "100000000000000000000"),
];

pub fn number() -> impl Strategy<Value = Node> {
    let special = prop::sample::select(SPECIAL).prop_map(|(json, js)| Node::Num {
        json: json.into(),
        js: js.into(),
    });
    // An integer (exact in f64) in several spellings.
    let integer = (-(1i64 << 52)..(1i64 << 52), 0..5u8).prop_map(|(n, form)| {
        let json = match form {
            0 => n.to_string(),
            1 => format!("{n}.0"),
            2 => format!("{n}e0"),
            3 if n != 0 => format!("{n}0E-1"),
            3 => "0E-1".to_string(),
            _ => format!("{n}.000"),
        };
        Node::Num {
            json,
            js: n.to_string(),
        }
    });
    // A half (exact in f64).
    let half = (-(1i64 << 40)..(1i64 << 40)).prop_map(|n| {
        let sign = if n < 0 { "-" } else { "" };
        let text = format!("{sign}{}.5", n.unsigned_abs());
        Node::Num {
            json: text.clone(),
            js: text,
        }
    });
    // n × 10^e below 1e21: JavaScript writes every digit.
    let scaled = (1u64..100_000, 0u32..15).prop_map(|(n, e)| Node::Num {
        json: format!("{n}e{e}"),
        js: (u128::from(n) * 10u128.pow(e)).to_string(),
    });
    prop_oneof![special, integer, half, scaled]
}

pub fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        Just(Node::Null),
        any::<bool>().prop_map(Node::Bool),
        number(),
        text().prop_map(Node::Str),
    ]
}

pub fn node() -> impl Strategy<Value = Node> {
    let tree = leaf().prop_recursive(5, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Node::Arr),
            prop::collection::vec((key(), inner), 0..8).prop_map(Node::Obj),
        ]
    });
    prop_oneof![
        8 => tree.clone(),
        // Deep nesting, within what the backend parses (MAX_MERGE_DEPTH).
        1 => (tree.clone(), 1usize..300, any::<bool>()).prop_map(|(n, depth, objects)| {
            let mut cur = n;
            for _ in 0..depth {
                cur = if objects {
                    Node::Obj(vec![(
                        Text {
                            json: "\"a\"".into(),
                            value: "a".into(),
                        },
                        cur,
                    )])
                } else {
                    Node::Arr(vec![cur])
                };
            }
            cur
        }),
        // A big array.
        1 => prop::collection::vec(leaf(), 1000..3000).prop_map(Node::Arr),
    ]
}

/// A document: an object at the top, as task attributes are.
pub fn document() -> impl Strategy<Value = Node> {
    prop::collection::vec((key(), node()), 0..10).prop_map(Node::Obj)
}

/// A dotted path of 1 to 4 segments.
pub fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NAMES), 1..5).prop_map(|s| s.join("."))
}

/// Paths that exist in `doc` (keys and the first array indexes, up to three
/// levels), so that lookups hit as well as miss; at most `limit`.
pub fn paths_of(doc: &Node, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([(doc, String::new(), 0)]);
    while let Some((node, prefix, depth)) = queue.pop_front() {
        if depth == 3 || out.len() >= limit {
            continue;
        }
        let join = |seg: &str| {
            if prefix.is_empty() {
                seg.to_string()
            } else {
                format!("{prefix}.{seg}")
            }
        };
        match node {
            Node::Obj(members) => {
                for (k, v) in members {
                    let p = join(&k.value);
                    out.push(p.clone());
                    queue.push_back((v, p, depth + 1));
                }
            }
            Node::Arr(items) => {
                for (i, v) in items.iter().enumerate().take(3) {
                    let p = join(&i.to_string());
                    out.push(p.clone());
                    queue.push_back((v, p, depth + 1));
                }
            }
            _ => {}
        }
    }
    out.truncate(limit);
    out
}

/// The document as JSON text. Iterative: deep documents must not overflow.
pub fn to_json(node: &Node) -> String {
    enum Step<'a> {
        Node(&'a Node),
        Text(&'a str),
    }
    let mut out = String::new();
    let mut stack = vec![Step::Node(node)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Text(t) => out.push_str(t),
            Step::Node(Node::Null) => out.push_str("null"),
            Step::Node(Node::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Step::Node(Node::Num { json, .. }) => out.push_str(json),
            Step::Node(Node::Str(t)) => out.push_str(&t.json),
            Step::Node(Node::Arr(items)) => {
                out.push('[');
                stack.push(Step::Text("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Step::Node(item));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            Step::Node(Node::Obj(members)) => {
                out.push('{');
                stack.push(Step::Text("}"));
                for (i, (k, v)) in members.iter().enumerate().rev() {
                    stack.push(Step::Node(v));
                    stack.push(Step::Text(":"));
                    stack.push(Step::Text(&k.json));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
        }
    }
    out
}

fn scalar(node: &Node) -> Option<String> {
    match node {
        Node::Bool(b) => Some(b.to_string()),
        Node::Num { js, .. } => Some(js.clone()),
        Node::Str(t) => Some(t.value.clone()),
        _ => None,
    }
}

/// An array index as JavaScript reads one: `0`, or digits without a
/// leading zero.
fn index(segment: &str) -> Option<usize> {
    let canonical = segment == "0"
        || (!segment.is_empty()
            && !segment.starts_with('0')
            && segment.bytes().all(|b| b.is_ascii_digit()));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}

/// The oracle: the value at an exact path, by JavaScript's rules.
pub fn oracle_at(node: &Node, path: &[&str]) -> Found {
    let mut cur = node;
    for segment in path {
        let next = match cur {
            // The last of duplicate keys, as JSON.parse keeps.
            Node::Obj(members) => members
                .iter()
                .rev()
                .find(|(k, _)| k.value == *segment)
                .map(|(_, v)| v),
            Node::Arr(items) => index(segment).and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return Found::Missing,
        }
    }
    match cur {
        Node::Null => Found::Null,
        Node::Arr(items) => Found::Array {
            scalars: items.iter().filter_map(scalar).collect(),
            len: items.len(),
        },
        Node::Obj(_) => Found::Object,
        other => Found::Scalar(scalar(other).unwrap_or_default()),
    }
}

/// The oracle of a dotted lookup: the whole key first, as lodash's `get`.
pub fn oracle(node: &Node, dotted: &str) -> Found {
    if dotted.contains('.') {
        let whole = oracle_at(node, &[dotted]);
        if whole != Found::Missing {
            return whole;
        }
    }
    let segments: Vec<&str> = dotted.split('.').collect();
    oracle_at(node, &segments)
}
