//! Reads single values out of task attributes, through one trait.
//!
//! Rules (`exclusion`, `leg::call_kind`, the backend's authorization and
//! pause checks) are written once against `Lookup`. In the browser the
//! lookup walks the attributes object Flex holds (`wasm::lookup`): nothing
//! is parsed, and JavaScript's own semantics apply. Natively (the backend,
//! the tests) it walks a `serde_json::Value`. Either way a lookup costs the
//! length of its path, plus the length of an array it ends on (at most
//! `MAX_ARRAY_LEN`), whatever the size or depth of the rest of the document.

use serde_json::Value;
use std::rc::Rc;

/// The longest array a rule reads. TaskRouter's 4096-character limit keeps
/// real attributes far below it; in the browser another script may set an
/// array's `length` to billions without elements, which must not stall the
/// accept. A longer array is unreadable, on both sides alike.
pub const MAX_ARRAY_LEN: usize = 65_536;

/// Why an array of `len` elements is not read.
pub fn array_too_long(len: usize) -> String {
    format!("an array of {len} elements, more than the {MAX_ARRAY_LEN} a rule reads")
}

/// What sits at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Missing,
    Null,
    /// A string as itself, a boolean as `true`/`false`, a number as
    /// JavaScript's `String(number)` writes it (`number_text`).
    Scalar(String),
    /// The texts of the array's scalar elements (nested containers and nulls
    /// are not comparable and are left out), and its length.
    Array {
        scalars: Vec<String>,
        len: usize,
    },
    Object,
    /// The value could not be read, and why (a getter or proxy that throws,
    /// a BigInt, text that is not valid Unicode, a document that is not
    /// JSON). A rule that depends on it fails closed.
    Unreadable(String),
}

/// What the document itself is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Missing,
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
    Unreadable(String),
}

/// A rule met a value it could not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The rule's key, as the administrator wrote it.
    pub key: String,
    pub reason: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "task attribute {} could not be read ({})",
            self.key, self.reason
        )
    }
}

impl std::error::Error for ReadError {}

/// Task attributes as rules read them.
pub trait Lookup {
    /// The value at an exact path of segments (no segment is split on dots).
    /// An object segment is an own key; an array segment is an index written
    /// as JavaScript writes it (`0`, `12`; not `01` or `+1`).
    fn at(&self, path: &[&str]) -> Found;

    /// What the document itself is.
    fn kind(&self) -> Kind;

    /// `dotted_path` as Flex administrators write it: a dotted path through
    /// nested objects (`customer.preferences.privacy`), where a numeric
    /// segment may index an array (`tags.0`), and where a top-level key that
    /// itself contains dots (`"a.b": ...`) wins, as in lodash's `get`, which
    /// the template used.
    fn lookup(&self, dotted_path: &str) -> Found {
        if dotted_path.contains('.') {
            let whole = self.at(&[dotted_path]);
            if whole != Found::Missing {
                return whole;
            }
        }
        let segments: Vec<&str> = dotted_path.split('.').collect();
        self.at(&segments)
    }
}

/// JavaScript's `String(number)` (`Number.prototype.toString`): `1`, `1.0`
/// and `1e0` are `1`, `-0` is `0`, `1e21` is `1e+21`, and a number past
/// f64's range is `Infinity`, as the browser reads it.
pub fn number_text(n: f64) -> String {
    ryu_js::Buffer::new().format(n).to_string()
}

/// A serde_json number as JavaScript writes it. Integers of f64's exact
/// range need no float formatting (nor its code in the wasm); the rest goes
/// through f64, as JavaScript reads every number.
pub fn number_of_json(n: &serde_json::Number) -> String {
    const EXACT: i64 = 1 << 53;
    match n.as_i64() {
        // `-0` is an integer 0 here: JavaScript writes it `0` too.
        Some(i) if (-EXACT..=EXACT).contains(&i) => i.to_string(),
        // With `arbitrary_precision` (the backend, the tests) `as_f64`
        // refuses what overflows f64 (`1e400`); JavaScript reads Infinity,
        // and so does Rust's parse of the number's own text.
        _ => number_text(
            n.as_f64()
                .or_else(|| n.to_string().parse().ok())
                .unwrap_or(f64::NAN),
        ),
    }
}

/// An array index as JavaScript accepts one for an array: canonical decimal
/// text (`"01"` names a property, not element 1).
pub fn array_index(segment: &str) -> Option<usize> {
    let i: usize = segment.parse().ok()?;
    (segment == i.to_string()).then_some(i)
}

fn scalar_of_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        // Through the number's text: with serde_json's `arbitrary_precision`
        // that is the document's own (`1e400`), and Rust's parse rounds it
        // correctly, as JavaScript's does.
        Value::Number(n) => Some(number_of_json(n)),
        _ => None,
    }
}

fn found_of_value(v: &Value) -> Found {
    match v {
        Value::Null => Found::Null,
        Value::Array(items) if items.len() > MAX_ARRAY_LEN => {
            Found::Unreadable(array_too_long(items.len()))
        }
        Value::Array(items) => Found::Array {
            scalars: items.iter().filter_map(scalar_of_value).collect(),
            len: items.len(),
        },
        Value::Object(_) => Found::Object,
        scalar => scalar_of_value(scalar).map_or(Found::Null, Found::Scalar),
    }
}

/// The native lookup. Duplicate keys: serde_json keeps the last, as
/// JavaScript's `JSON.parse` does.
impl Lookup for Value {
    fn at(&self, path: &[&str]) -> Found {
        let mut cur = self;
        for segment in path {
            let next = match cur {
                Value::Object(members) => members.get(*segment),
                Value::Array(items) => array_index(segment).and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(v) => cur = v,
                None => return Found::Missing,
            }
        }
        found_of_value(cur)
    }

    fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
}

/// No attributes at all.
struct Absent;

impl Lookup for Absent {
    fn at(&self, _: &[&str]) -> Found {
        Found::Missing
    }

    fn kind(&self) -> Kind {
        Kind::Missing
    }
}

/// A document that could not be read: every lookup says why.
struct Unreadable(String);

impl Lookup for Unreadable {
    fn at(&self, _: &[&str]) -> Found {
        Found::Unreadable(self.0.clone())
    }

    fn kind(&self) -> Kind {
        Kind::Unreadable(self.0.clone())
    }
}

/// The attributes of a task snapshot: whatever the shell read them from (a
/// JS object in the browser, a `serde_json::Value` natively).
#[derive(Clone)]
pub struct Attributes(Rc<dyn Lookup>);

impl Attributes {
    pub fn new(lookup: impl Lookup + 'static) -> Attributes {
        Attributes(Rc::new(lookup))
    }

    /// Attributes given as JSON text, for the tests' tables (the backend
    /// reads TaskRouter's text with `parse_value` and looks up in the
    /// `Value` itself). Text that is not JSON, nests deeper than
    /// `insights::MAX_MERGE_DEPTH` or holds a lone surrogate (which
    /// serde_json refuses) is unreadable: rules fail closed on it.
    pub fn parse(json: &str) -> Attributes {
        match parse_value(json) {
            Ok(v) => Attributes::new(v),
            Err(why) => Attributes::new(Unreadable(why)),
        }
    }

    /// A document the shell could not read at all, and why.
    pub fn unreadable(why: String) -> Attributes {
        Attributes::new(Unreadable(why))
    }
}

/// Task attributes as JSON text into a tree, for a lookup; the reason when
/// they cannot be read.
pub fn parse_value(json: &str) -> Result<Value, String> {
    crate::insights::parse_attributes(json).map_err(|e| match e {
        crate::insights::ParseError::Invalid(why) => format!("not valid JSON: {why}"),
        too_deep => too_deep.to_string(),
    })
}

impl Default for Attributes {
    fn default() -> Attributes {
        Attributes::new(Absent)
    }
}

impl std::ops::Deref for Attributes {
    type Target = dyn Lookup;

    fn deref(&self) -> &(dyn Lookup + 'static) {
        &*self.0
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attributes({:?})", self.0.kind())
    }
}

/// The same attributes: the same document, not an equal one (a JS object
/// cannot be compared without walking it).
impl PartialEq for Attributes {
    fn eq(&self, other: &Attributes) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Found {
        Found::Scalar(x.into())
    }

    fn doc(text: &str) -> Attributes {
        Attributes::parse(text)
    }

    #[test]
    fn lookups() {
        let d = doc(
            r#"{"a": {"b": [1, "x", true, null, {"z": 1}, [2]], "c": "d\"e\u00e9\ud83d\ude00"},
            "n": null, "num": 1.0, "neg": -2.5e1, "t": false, "a.b": "literal", "arr": [{"k": "v"}],
            "dup": 1, "dup": 2, "": "empty key", "01": "key", "list": ["a", "b"]}"#,
        );
        let cases: &[(&str, Found)] = &[
            ("a.b", s("literal")),
            ("a.c", s("d\"eé😀")),
            ("n", Found::Null),
            ("num", s("1")),
            ("neg", s("-25")),
            ("t", s("false")),
            ("missing", Found::Missing),
            ("a.missing.deeper", Found::Missing),
            ("a", Found::Object),
            ("arr.0.k", s("v")),
            ("arr.1.k", Found::Missing),
            ("arr.x", Found::Missing),
            ("num.x", Found::Missing),
            ("", s("empty key")),
            // The last of duplicate keys, as JSON.parse.
            ("dup", s("2")),
            ("01", s("key")),
            ("list.01", Found::Missing),
            ("list.+1", Found::Missing),
            ("list.1", s("b")),
            // An array's own `length` is no element.
            ("list.length", Found::Missing),
        ];
        for (key, want) in cases {
            assert_eq!(&d.lookup(key), want, "{key}");
        }
        assert_eq!(
            d.at(&["a", "b"]),
            Found::Array {
                scalars: vec!["1".into(), "x".into(), "true".into()],
                len: 6
            }
        );
        assert_eq!(d.at(&[]), Found::Object);
    }

    #[test]
    fn arrays_past_the_limit_are_unreadable_not_walked() {
        let list = |n: usize| format!("{{\"l\": [{}]}}", vec!["1"; n].join(","));
        let at_limit = doc(&list(MAX_ARRAY_LEN));
        assert!(matches!(at_limit.lookup("l"), Found::Array { len, .. } if len == MAX_ARRAY_LEN));
        let past = doc(&list(MAX_ARRAY_LEN + 1));
        assert_eq!(
            past.lookup("l"),
            Found::Unreadable(array_too_long(MAX_ARRAY_LEN + 1))
        );
        // An element is still one step away.
        assert_eq!(past.lookup("l.3"), s("1"));
    }

    #[test]
    fn numbers_read_as_javascript_writes_them() {
        let cases = [
            ("1", "1"),
            ("1.0", "1"),
            ("1e0", "1"),
            ("1E2", "100"),
            ("1.5", "1.5"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("12345678901234567890", "12345678901234567000"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("1.25e2", "125"),
            ("1e21", "1e+21"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("1e-400", "0"),
            ("0.1", "0.1"),
            ("123456789012345678901234567890", "1.2345678901234568e+29"),
        ];
        for (text, want) in cases {
            let d = doc(&format!(r#"{{"n": {text}, "a": [{text}]}}"#));
            assert_eq!(d.lookup("n"), s(want), "{text}");
            assert_eq!(
                d.lookup("a"),
                Found::Array {
                    scalars: vec![want.into()],
                    len: 1
                },
                "{text}"
            );
        }
    }

    #[test]
    fn unreadable_documents_fail_every_lookup() {
        // serde_json refuses a lone surrogate, where JSON.parse accepts it:
        // natively the whole document is unreadable (fail closed); the
        // browser's lookup calls the value itself unreadable
        // (`wasm::lookup`). Generated documents (tests/lookup_agrees.rs)
        // hold valid UTF-16 only for that reason.
        for bad in [
            r#"{"a": "\ud800A"}"#,
            r#"{"a": "#,
            r#"{"a" 1}"#,
            r#"[1 2 {"y" "z"}]"#,
            "{]",
            r#"{"a": 01}"#,
            "{\"a\": \"raw\u{1}control\"}",
            "",
        ] {
            let d = doc(bad);
            assert!(matches!(d.lookup("a"), Found::Unreadable(_)), "{bad}");
            assert!(matches!(d.kind(), Kind::Unreadable(_)), "{bad}");
        }
    }

    #[test]
    fn deep_and_large_documents() {
        // Past insights::MAX_MERGE_DEPTH: unreadable, never a stack overflow.
        let depth = 200_000;
        let mut text = String::from(r#"{"before": "#);
        text.push_str(&"[".repeat(depth));
        text.push_str(&"]".repeat(depth));
        text.push_str(r#", "x": {"y": "found"}}"#);
        assert!(matches!(doc(&text).lookup("x.y"), Found::Unreadable(_)));
        // Within it: read.
        let mut deep = String::new();
        for _ in 0..400 {
            deep.push_str(r#"{"k":"#);
        }
        deep.push('1');
        deep.push_str(&"}".repeat(400));
        let path: Vec<&str> = std::iter::repeat_n("k", 400).collect();
        assert_eq!(doc(&deep).at(&path), s("1"));
        let big = format!(r#"{{"pad": "{}", "q": 7}}"#, "x".repeat(5_000_000));
        assert_eq!(doc(&big).lookup("q"), s("7"));
    }

    #[test]
    fn kinds() {
        let cases = [
            ("{}", Kind::Object),
            ("[]", Kind::Array),
            ("\"x\"", Kind::String),
            ("1", Kind::Number),
            ("true", Kind::Boolean),
            ("null", Kind::Null),
        ];
        for (text, want) in cases {
            assert_eq!(doc(text).kind(), want, "{text}");
        }
        assert_eq!(Attributes::default().kind(), Kind::Missing);
        assert_eq!(Attributes::default().lookup("a"), Found::Missing);
    }
}
