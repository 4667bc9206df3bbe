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

/// Canonical text of a JSON number, so that `1`, `1.0` and `1e0` compare equal
/// whichever side (Flex, the configuration) wrote them.
pub fn number_text(raw: &str) -> String {
    match raw.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            format!("{}", f as i64)
        }
        Ok(f) if f.is_finite() => format!("{f}"),
        _ => raw.to_string(),
    }
}

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

/// Looks up an exact path of segments.
pub fn lookup_path(json: &str, path: &[&str]) -> Result<Found, ScanError> {
    let mut s = Scanner {
        b: json.as_bytes(),
        i: 0,
    };
    s.ws();
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

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn err<T>(&self, problem: &'static str) -> Result<T, ScanError> {
        Err(ScanError {
            offset: self.i,
            problem,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, problem: &'static str) -> Result<(), ScanError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(problem)
        }
    }

    /// At `{`: moves to the value of `key` and returns true, or consumes the
    /// object and returns false.
    fn enter_object_key(&mut self, key: &str) -> Result<bool, ScanError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(false);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a key");
            }
            let k = self.string()?;
            self.expect(b':', "expected ':'")?;
            self.ws();
            if k == key {
                return Ok(true);
            }
            self.skip_value()?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(false);
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn enter_array_index(&mut self, index: usize) -> Result<bool, ScanError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(false);
        }
        let mut n = 0usize;
        loop {
            self.ws();
            if n == index {
                return Ok(true);
            }
            self.skip_value()?;
            n += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(false);
                }
                _ => return self.err("expected ',' or ']'"),
            }
        }
    }

    fn read_found(&mut self) -> Result<Found, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.skip_value()?;
                Ok(Found::Object)
            }
            Some(b'[') => {
                self.i += 1;
                let mut scalars = Vec::new();
                let mut len = 0usize;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Found::Array { scalars, len });
                }
                loop {
                    self.ws();
                    if let Some(text) = self.scalar()? {
                        scalars.push(text);
                    }
                    len += 1;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Found::Array { scalars, len });
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            _ => match self.scalar()? {
                Some(text) => Ok(Found::Scalar(text)),
                None => Ok(Found::Null),
            },
        }
    }

    /// A scalar's comparable text; `None` for null and for containers (skipped).
    fn scalar(&mut self) -> Result<Option<String>, ScanError> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b'{' | b'[') => {
                self.skip_value()?;
                Ok(None)
            }
            Some(b't') => self.literal("true").map(|_| Some("true".into())),
            Some(b'f') => self.literal("false").map(|_| Some("false".into())),
            Some(b'n') => self.literal("null").map(|_| None),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let raw = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                Ok(Some(number_text(raw)))
            }
            _ => self.err("expected a value"),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), ScanError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("unknown literal")
        }
    }

    /// At `"`: the unescaped string.
    fn string(&mut self) -> Result<String, ScanError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.b.get(self.i) == Some(&b'\\')
                                && self.b.get(self.i + 1) == Some(&b'u')
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                _ => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn hex4(&mut self) -> Result<u32, ScanError> {
        let Some(digits) = self.b.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        let mut v = 0u32;
        for d in digits {
            let Some(x) = (*d as char).to_digit(16) else {
                return self.err("bad \\u escape");
            };
            v = v * 16 + x;
        }
        self.i += 4;
        Ok(v)
    }

    /// Skips one value of any depth with a counter instead of recursion.
    fn skip_value(&mut self) -> Result<(), ScanError> {
        let mut depth = 0usize;
        loop {
            self.ws();
            match self.peek() {
                None => return self.err("unexpected end"),
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.i += 1;
                    continue;
                }
                Some(b'}' | b']') => {
                    if depth == 0 {
                        return self.err("unexpected close");
                    }
                    depth -= 1;
                    self.i += 1;
                }
                Some(b'"') => {
                    self.string_skip()?;
                }
                Some(b',' | b':') if depth > 0 => {
                    self.i += 1;
                    continue;
                }
                Some(_) => {
                    self.scalar()?;
                }
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    fn string_skip(&mut self) -> Result<(), ScanError> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'\\') => self.i += 2,
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => self.i += 1,
            }
        }
    }
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
        assert_eq!(number_text("12345678901234567890"), "12345678901234567000");
    }
}
