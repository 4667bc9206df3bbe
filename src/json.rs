//! A small JSON reader for the wasm side, with no floats and no serde.
//!
//! Why our own: the plugin ships as one file that agents download, and
//! serde_json with float formatting and parsing was most of the wasm. The core
//! only needs strings, booleans, integers and number *text* (attribute values
//! are compared as text), so numbers stay text here.
//!
//! Two readers share one scanner: `attributes::lookup` walks task attributes
//! of any size and depth without building anything; `Json::parse` builds a
//! small tree for shallow documents we define (events, answers, the
//! configuration), with a depth limit so that neither parsing nor dropping the
//! tree can exhaust the stack.

use crate::attributes::{Found, ScanError};

/// Deeper documents are refused by `Json::parse` (ours are 4 levels deep).
pub const MAX_DEPTH: usize = 64;

/// Canonical text of a JSON number, so that `1`, `1.0` and `1e0` compare equal
/// whichever side (Flex, the configuration) wrote them. Exact decimal
/// arithmetic on the digits; renders as JavaScript does for the same value.
pub fn number_text(raw: &str) -> String {
    canonical_number(raw).unwrap_or_else(|| raw.to_string())
}

/// Whether `canonical_number` reads `raw` as a number: the same grammar,
/// without building the text.
fn is_number(raw: &[u8]) -> bool {
    let digit = |i: usize| raw.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = usize::from(raw.first() == Some(&b'-'));
    let mut seen_digit = false;
    while digit(i) {
        seen_digit = true;
        i += 1;
    }
    if raw.get(i) == Some(&b'.') {
        i += 1;
        while digit(i) {
            seen_digit = true;
            i += 1;
        }
    }
    if matches!(raw.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(raw.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return false;
        }
        while digit(i) {
            i += 1;
        }
    }
    seen_digit && i == raw.len()
}

/// `None` when `raw` is not a JSON number.
fn canonical_number(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut i = 0;
    let negative = b.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut digits: Vec<u8> = Vec::new();
    let mut exponent: i64 = 0;
    let mut seen_digit = false;
    while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
        digits.push(c);
        seen_digit = true;
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
            digits.push(c);
            exponent -= 1;
            seen_digit = true;
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let mut e: i64 = 0;
        let mut any = false;
        while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
            e = e
                .saturating_mul(10)
                .saturating_add(i64::from(c - b'0'))
                .min(1_000_000);
            any = true;
            i += 1;
        }
        if !any {
            return None;
        }
        exponent = exponent.saturating_add(if exp_negative { -e } else { e });
    }
    if !seen_digit || i != b.len() {
        return None;
    }
    let lead = digits.iter().take_while(|d| **d == b'0').count();
    digits.drain(..lead);
    while digits.last() == Some(&b'0') {
        digits.pop();
        exponent += 1;
    }
    if digits.is_empty() {
        return Some("0".to_string());
    }
    let n = digits.len() as i64;
    // Position of the decimal point counted from the first digit.
    let point = n + exponent;
    // Only ASCII digits: byte indices below are char boundaries.
    let digit_text = String::from_utf8_lossy(&digits).into_owned();
    let part = |r: std::ops::Range<usize>| digit_text.get(r).unwrap_or_default();
    let all = digit_text.len();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exponent >= 0 && point <= 21 {
        out.push_str(&digit_text);
        out.extend(std::iter::repeat_n('0', exponent as usize));
    } else if point > 0 && point <= 21 {
        out.push_str(part(0..point as usize));
        out.push('.');
        out.push_str(part(point as usize..all));
    } else if point <= 0 && point > -6 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digit_text);
    } else {
        out.push_str(part(0..1));
        if n > 1 {
            out.push('.');
            out.push_str(part(1..all));
        }
        let e = point - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.unsigned_abs().to_string());
    }
    Some(out)
}

/// A parsed JSON value. Numbers keep their canonical text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(text: &str) -> Result<Json, ScanError> {
        let mut s = Scanner::new(text);
        let v = s.value(0)?;
        s.ws();
        if s.peek().is_some() {
            return s.err("unexpected text after the value");
        }
        Ok(v)
    }

    /// A member of an object; the last one wins when a key repeats, as in JS.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer part of a number (dates in ms, codes, ports).
    pub fn as_i64(&self) -> Option<i64> {
        let Json::Number(text) = self else {
            return None;
        };
        if text.contains('e') {
            return None;
        }
        text.split('.').next()?.parse().ok()
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// "a string", "an object"... for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Optional string member: absent and null are `None`.
    pub fn str_at(&self, key: &str) -> Option<String> {
        self.get(key).and_then(Json::as_str).map(str::to_string)
    }
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize >> 4) & 15] as char);
                out.push(HEX[c as usize & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            b: text.as_bytes(),
            i: 0,
        }
    }

    /// A scanner at byte `i` of `text` (an offset this module handed out).
    pub(crate) fn at(text: &'a str, i: usize) -> Self {
        Scanner {
            b: text.as_bytes(),
            i,
        }
    }

    /// At `{`: reads the object through, calling `seen(key, value_offset)`
    /// for each member in order (the key's bytes, unescaped), and skipping
    /// each value.
    pub(crate) fn each_member(
        &mut self,
        mut seen: impl FnMut(&[u8], usize),
    ) -> Result<(), ScanError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a key");
            }
            let decoded;
            let key: &[u8] = match self.plain_string() {
                Some(raw) => raw,
                None => {
                    decoded = self.string()?;
                    decoded.as_bytes()
                }
            };
            self.expect(b':', "expected ':'")?;
            self.ws();
            seen(key, self.i);
            self.skip_value()?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    pub(crate) fn err<T>(&self, problem: &'static str) -> Result<T, ScanError> {
        Err(ScanError {
            offset: self.i,
            problem,
        })
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(crate) fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    pub(crate) fn expect(&mut self, c: u8, problem: &'static str) -> Result<(), ScanError> {
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
    pub(crate) fn enter_object_key(&mut self, key: &str) -> Result<bool, ScanError> {
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
            // Keys without escapes are compared where they lie: a lookup
            // reads past every key before its own, for every rule.
            let matched = match self.plain_string() {
                Some(raw) => raw == key.as_bytes(),
                None => self.string()? == key,
            };
            self.expect(b':', "expected ':'")?;
            self.ws();
            if matched {
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

    pub(crate) fn enter_array_index(&mut self, index: usize) -> Result<bool, ScanError> {
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

    pub(crate) fn read_found(&mut self) -> Result<Found, ScanError> {
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
    pub(crate) fn scalar(&mut self) -> Result<Option<String>, ScanError> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b'{' | b'[') => {
                self.skip_value()?;
                Ok(None)
            }
            Some(b't') => self.literal("true").map(|_| Some("true".into())),
            Some(b'f') => self.literal("false").map(|_| Some("false".into())),
            Some(b'n') => self.literal("null").map(|_| None),
            Some(b'-' | b'0'..=b'9') => self.number().map(Some),
            _ => self.err("expected a value"),
        }
    }

    /// At a number: its canonical text.
    pub(crate) fn number(&mut self) -> Result<String, ScanError> {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        let raw = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
        match canonical_number(raw) {
            Some(text) => Ok(text),
            None => self.err("bad number"),
        }
    }

    pub(crate) fn literal(&mut self, word: &'static str) -> Result<(), ScanError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("unknown literal")
        }
    }

    /// At `"`: the string's bytes when it holds no escape (and moves past
    /// it); `None` (staying put) when it does or is unterminated.
    pub(crate) fn plain_string(&mut self) -> Option<&'a [u8]> {
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        while let Some(&c) = b.get(j) {
            match c {
                b'"' => {
                    self.i = j + 1;
                    return b.get(start..j);
                }
                b'\\' => return None,
                _ => j += 1,
            }
        }
        None
    }

    /// At `"`: the unescaped string.
    pub(crate) fn string(&mut self) -> Result<String, ScanError> {
        if let Some(raw) = self.plain_string() {
            return Ok(String::from_utf8_lossy(raw).into_owned());
        }
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
                // A run without quote or escape is copied at once.
                _ => {
                    let rest = self.b.get(self.i..).unwrap_or_default();
                    let run = rest
                        .iter()
                        .position(|&x| x == b'"' || x == b'\\')
                        .unwrap_or(rest.len());
                    out.push(c);
                    out.extend_from_slice(&rest[..run]);
                    self.i += run;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    pub(crate) fn hex4(&mut self) -> Result<u32, ScanError> {
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
    pub(crate) fn skip_value(&mut self) -> Result<(), ScanError> {
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
                Some(_) => self.scalar_skip()?,
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// Skips a number or literal, checked as `scalar` checks it, without
    /// building its text.
    pub(crate) fn scalar_skip(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                if is_number(&self.b[start..self.i]) {
                    Ok(())
                } else {
                    self.err("bad number")
                }
            }
            _ => self.err("expected a value"),
        }
    }

    pub(crate) fn string_skip(&mut self) -> Result<(), ScanError> {
        self.i += 1;
        loop {
            let rest = self.b.get(self.i..).unwrap_or_default();
            let Some(k) = rest.iter().position(|&c| c == b'"' || c == b'\\') else {
                self.i = self.b.len();
                return self.err("unterminated string");
            };
            self.i += k;
            if rest[k] == b'"' {
                self.i += 1;
                return Ok(());
            }
            self.i += 2;
        }
    }
}

impl Scanner<'_> {
    fn value(&mut self, depth: usize) -> Result<Json, ScanError> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return self.err("expected a key");
                    }
                    let key = self.string()?;
                    self.expect(b':', "expected ':'")?;
                    let value = self.value(depth + 1)?;
                    members.push((key, value));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true").map(|_| Json::Bool(true)),
            Some(b'f') => self.literal("false").map(|_| Json::Bool(false)),
            Some(b'n') => self.literal("null").map(|_| Json::Null),
            Some(b'-' | b'0'..=b'9') => Ok(Json::Number(self.number()?)),
            _ => self.err("expected a value"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_a_number_accepts_what_reading_it_accepts() {
        let cases = [
            "0",
            "-0",
            "1",
            "01",
            "1.0",
            "1.",
            ".5",
            "-.5",
            "1e3",
            "1E+3",
            "1e-3",
            "1e",
            "1e+",
            "-",
            "",
            "1-2",
            "1.2.3",
            "1ee2",
            "--1",
            "+1",
            "12345678901234567890",
            "0.000001",
            "1e400",
            "e3",
            "-e3",
            "1.e3",
        ];
        for raw in cases {
            assert_eq!(
                is_number(raw.as_bytes()),
                canonical_number(raw).is_some(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn keys_are_compared_with_and_without_escapes() {
        use crate::attributes::{lookup, Found};
        let doc = r#"{"n": 1e2, "t": true, "x": [false, null], "k\u0065y": "escaped", "ke\"y": 2, "key": "plain", "é": "ü"}"#;
        assert_eq!(lookup(doc, "key").unwrap(), Found::Scalar("escaped".into()));
        assert_eq!(lookup(doc, "ke\"y").unwrap(), Found::Scalar("2".into()));
        assert_eq!(lookup(doc, "é").unwrap(), Found::Scalar("ü".into()));
        assert_eq!(lookup(doc, "missing").unwrap(), Found::Missing);
        assert!(lookup(r#"{"a": 1x, "b": 2}"#, "b").is_err());
        assert!(lookup(r#"{"a": tru, "b": 2}"#, "b").is_err());
        assert!(lookup(r#"{"a": [1, 2e], "b": 2}"#, "b").is_err());
        assert!(lookup(r#"{"a": "open"#, "b").is_err());
    }

    #[test]
    fn parses_what_we_exchange() {
        let v = Json::parse(
            r#" {"a": [1, 2.50, -3e2, true, null, "x\"y\u00e9"], "b": {}, "a": "last"} "#,
        )
        .unwrap();
        assert_eq!(v.get("a"), Some(&Json::String("last".into())));
        assert_eq!(v.get("b"), Some(&Json::Object(vec![])));
        let Json::Object(members) = &v else { panic!() };
        assert_eq!(
            members[0].1,
            Json::Array(vec![
                Json::Number("1".into()),
                Json::Number("2.5".into()),
                Json::Number("-300".into()),
                Json::Bool(true),
                Json::Null,
                Json::String("x\"yé".into()),
            ])
        );
        assert_eq!(
            Json::parse("1700000000000.5").unwrap().as_i64(),
            Some(1_700_000_000_000)
        );
        assert_eq!(Json::parse("-12").unwrap().as_i64(), Some(-12));
        assert_eq!(Json::parse("1e3").unwrap().as_i64(), Some(1000));
    }

    #[test]
    fn refuses_what_it_should() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "tru",
            "1 2",
            "\"abc",
            "[-]",
            "{\"a\":1,}",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(Json::parse(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Json::parse(&ok).is_ok());
    }

    #[test]
    fn quoting_round_trips() {
        for s in [
            "plain",
            "q\"uote",
            "back\\slash",
            "new\nline",
            "\u{1}ctl",
            "é😀",
        ] {
            assert_eq!(Json::parse(&quote(s)).unwrap(), Json::String(s.into()));
        }
    }
}
