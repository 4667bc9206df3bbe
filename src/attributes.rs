//! Reads single values out of task attributes given as JSON text, without
//! building a tree.
//!
//! Why not `serde_json::Value`: task attributes belong to whoever built the
//! contact centre; they can be large or nested thousands of levels deep. Building
//! (and dropping) a tree is recursive and would overflow the wasm stack, and a
//! panic in wasm aborts the whole plugin. This scanner is iterative: its stack
//! use does not grow with nesting, it never panics, and it reads only what a
//! rule asks for.

/// What sits at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Missing,
    Null,
    /// A string as itself, a number or boolean as its canonical text.
    Scalar(String),
    /// The texts of the array's scalar elements (nested containers and nulls
    /// are not comparable and are left out), and its length.
    Array {
        scalars: Vec<String>,
        len: usize,
    },
    Object,
}

/// The attributes are not JSON an exclusion rule can be checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanError {
    pub offset: usize,
    pub problem: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "task attributes are not valid JSON ({} at byte {})",
            self.problem, self.offset
        )
    }
}

pub use crate::json::number_text;
use crate::json::Scanner;

/// Looks `key` up as Flex administrators write it: a dotted path through
/// nested objects (`customer.preferences.privacy`), where a numeric segment may
/// index an array (`tags.0`), and where a top-level key that itself contains
/// dots (`"a.b": ...`) wins, as in lodash's `get`, which the template used.
pub fn lookup(json: &str, key: &str) -> Result<Found, ScanError> {
    if key.contains('.') {
        let whole = lookup_path(json, &[key])?;
        if whole != Found::Missing {
            return Ok(whole);
        }
    }
    let segments: Vec<&str> = key.split('.').collect();
    lookup_path(json, &segments)
}

/// `lookup` of each of `keys`, in order, reading the document's top level
/// once instead of once per key: exclusion rules are checked together, and a
/// task's attributes may be long. Falls back to one `lookup` per key when
/// the document is not an object or cannot be read through, so that every
/// answer, error included, is the one `lookup` gives.
pub fn lookup_all(json: &str, keys: &[&str]) -> Vec<Result<Found, ScanError>> {
    let one_by_one = || keys.iter().map(|k| lookup(json, k)).collect();
    let mut s = Scanner::new(json);
    s.ws();
    if s.peek() != Some(b'{') {
        return one_by_one();
    }
    let firsts: Vec<&str> = keys
        .iter()
        .map(|k| k.split('.').next().unwrap_or_default())
        .collect();
    // The first member of each name wins, as in `lookup`.
    let mut whole: Vec<Option<usize>> = vec![None; keys.len()];
    let mut first: Vec<Option<usize>> = vec![None; keys.len()];
    let read = s.each_member(|name, at| {
        for (i, key) in keys.iter().enumerate() {
            if whole[i].is_none() && name == key.as_bytes() {
                whole[i] = Some(at);
            }
            if first[i].is_none() && name == firsts[i].as_bytes() {
                first[i] = Some(at);
            }
        }
    });
    if read.is_err() {
        return one_by_one();
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            if let Some(at) = whole[i] {
                return Scanner::at(json, at).read_found();
            }
            match first[i] {
                Some(at) if key.contains('.') => {
                    let rest: Vec<&str> = key.split('.').skip(1).collect();
                    descend(Scanner::at(json, at), &rest)
                }
                _ => Ok(Found::Missing),
            }
        })
        .collect()
}

/// Looks up an exact path of segments.
pub fn lookup_path(json: &str, path: &[&str]) -> Result<Found, ScanError> {
    let mut s = Scanner::new(json);
    s.ws();
    descend(s, path)
}

/// From the value the scanner is at, follows `path` and reads what is there.
fn descend(mut s: Scanner<'_>, path: &[&str]) -> Result<Found, ScanError> {
    for seg in path {
        match s.peek() {
            Some(b'{') => {
                if !s.enter_object_key(seg)? {
                    return Ok(Found::Missing);
                }
            }
            Some(b'[') => {
                let Ok(index) = seg.parse::<usize>() else {
                    return Ok(Found::Missing);
                };
                if !s.enter_array_index(index)? {
                    return Ok(Found::Missing);
                }
            }
            _ => return Ok(Found::Missing),
        }
    }
    s.read_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Found {
        Found::Scalar(x.into())
    }

    #[test]
    fn lookups() {
        let doc = r#"{"a": {"b": [1, "x", true, null, {"z": 1}, [2]], "c": "d\"e\u00e9\ud83d\ude00"},
            "n": null, "num": 1.0, "neg": -2.5e1, "t": false, "a.b": "literal", "arr": [{"k": "v"}]}"#;
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
            ("", Found::Missing),
        ];
        for (key, want) in cases {
            assert_eq!(&lookup(doc, key).unwrap(), want, "{key}");
        }
        let arr = lookup_path(doc, &["a", "b"]).unwrap();
        assert_eq!(
            arr,
            Found::Array {
                scalars: vec!["1".into(), "x".into(), "true".into()],
                len: 6
            }
        );
    }

    #[test]
    fn lookup_all_answers_as_lookup_does() {
        let docs = [
            r#"{"a": {"b": [1, "x", true, null, {"z": 1}, [2]], "c": "d\"e"}, "a.b": "literal", "n": null, "num": 1.0}"#,
            r#"{"a": 1, "a": 2, "k\u0065y": "escaped", "key": "plain", "x.y": {"z": 1}, "x": {"y": "seg"}}"#,
            r#"{"x": {"y": "seg"}, "x.y": "whole after"}"#,
            r#"{"tags": ["no-recording", 3, false], "deep": {"n": {"n": {"leaf": "go"}}}, "": "empty"}"#,
            r#"{"found": 1, "later": [1, 2"#,
            r#"{"found": 1, "bad": tru}"#,
            r#"[{"k": "v"}, 2]"#,
            r#""just a string""#,
            "",
            "{}",
            r#"  { "spaced" : { "in" : [ "side" ] } }  trailing"#,
        ];
        let keys = [
            "a",
            "a.b",
            "a.c",
            "a.b.0",
            "a.missing",
            "n",
            "num",
            "key",
            "x.y",
            "x.y.z",
            "x",
            "tags",
            "deep.n.n.leaf",
            "deep.n.x",
            "",
            "found",
            "later",
            "bad",
            "0.k",
            "spaced.in",
            "spaced.in.0",
        ];
        for doc in docs {
            let all = lookup_all(doc, &keys);
            for (key, got) in keys.iter().zip(all) {
                assert_eq!(got, lookup(doc, key), "{doc} / {key}");
            }
        }
    }

    #[test]
    fn deep_and_large_documents_do_not_overflow() {
        let depth = 200_000;
        let mut doc = String::from(r#"{"before": "#);
        doc.push_str(&"[".repeat(depth));
        doc.push_str(&"]".repeat(depth));
        doc.push_str(r#", "x": {"y": "found"}}"#);
        assert_eq!(lookup(&doc, "x.y").unwrap(), s("found"));
        let mut deep_obj = String::new();
        for _ in 0..100_000 {
            deep_obj.push_str(r#"{"k":"#);
        }
        deep_obj.push('1');
        deep_obj.push_str(&"}".repeat(100_000));
        let path: Vec<&str> = std::iter::repeat_n("k", 100_000).collect();
        assert_eq!(lookup_path(&deep_obj, &path).unwrap(), s("1"));
        let big = format!(r#"{{"pad": "{}", "q": 7}}"#, "x".repeat(5_000_000));
        assert_eq!(lookup(&big, "q").unwrap(), s("7"));
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for bad in [
            r#"{"a": "#,
            r#"{"a" 1}"#,
            r#"{"a": tru}"#,
            r#"{"a": "\u12"}"#,
            r#"{"x": 1, "a": [1,}"#,
            "{",
            "\"unterminated",
            r#"{"a":"\"#,
        ] {
            assert!(
                lookup(bad, "a").is_err() || lookup(bad, "a") == Ok(Found::Missing),
                "{bad}"
            );
        }
        assert!(lookup(r#"{"x": [1, 2"#, "a").is_err());
    }

    #[test]
    fn number_canonical_text() {
        assert_eq!(number_text("1"), "1");
        assert_eq!(number_text("1.0"), "1");
        assert_eq!(number_text("1e0"), "1");
        assert_eq!(number_text("1.5"), "1.5");
        assert_eq!(number_text("-0"), "0");
        assert_eq!(number_text("12345678901234567890"), "12345678901234567890");
        assert_eq!(number_text("0.000001"), "0.000001");
        assert_eq!(number_text("1e-7"), "1e-7");
        assert_eq!(number_text("1.25e2"), "125");
        assert_eq!(number_text("1e21"), "1e+21");
        assert_eq!(number_text("-00.50"), "-0.5");
    }
}
