//! A small JSON scanner: it validates JSON text and splits it into raw parts without building a
//! tree. The core only needs packet headers, the event name and a few handshake fields; payloads
//! stay as raw text and are parsed by the browser's own `JSON.parse` in the glue. Keeping a JSON
//! library out of the core keeps it out of the wasm.

use std::fmt;

/// How deep arrays and objects may nest before the scanner gives up (bounded stack use).
pub const MAX_DEPTH: u32 = 128;

/// Why a piece of text is not the JSON that was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the problem in the scanned text.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl JsonError {
    /// The message, e.g. `invalid JSON at byte 3: unexpected end` (built without `core::fmt`).
    pub fn text(&self) -> String {
        [
            "invalid JSON at byte ",
            &super::text::int(self.at as u64),
            ": ",
            self.what,
        ]
        .concat()
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for JsonError {}

/// The type of a JSON value, read from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// The kind of a raw JSON value (already validated, leading whitespace allowed).
    pub fn of(raw: &str) -> Kind {
        let b = raw.as_bytes();
        match b.get(skip_ws(b, 0)) {
            Some(b'n') => Kind::Null,
            Some(b't') | Some(b'f') => Kind::Bool,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            _ => Kind::Number,
        }
    }

    /// The name used in error messages: `"string"`, `"object"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

pub(crate) fn err(at: usize, what: &'static str) -> JsonError {
    JsonError { at, what }
}

/// The byte at `i`, or 0 past the end (0 is never valid JSON outside a string, and inside one
/// it is a control byte, so it always leads to an error where it matters).
pub(crate) fn at(b: &[u8], i: usize) -> u8 {
    if i < b.len() {
        b[i]
    } else {
        0
    }
}

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Scans one value starting at `i` (no leading whitespace) and returns the index just past it.
pub(crate) fn scan_value(b: &[u8], i: usize, depth: u32) -> Result<usize, JsonError> {
    match b.get(i) {
        None => Err(err(i, "unexpected end")),
        Some(b'"') => scan_string(b, i),
        Some(b'[') => scan_array(b, i, depth, |j, d| scan_value(b, j, d)),
        Some(b'{') => scan_object(b, i, depth, |_, j, d| scan_value(b, j, d)),
        Some(b't') => scan_literal(b, i, b"true"),
        Some(b'f') => scan_literal(b, i, b"false"),
        Some(b'n') => scan_literal(b, i, b"null"),
        Some(b'-' | b'0'..=b'9') => scan_number(b, i),
        Some(_) => Err(err(i, "unexpected character")),
    }
}

fn scan_literal(b: &[u8], i: usize, lit: &[u8]) -> Result<usize, JsonError> {
    if b.len() >= i + lit.len() && &b[i..i + lit.len()] == lit {
        Ok(i + lit.len())
    } else {
        Err(err(i, "invalid literal"))
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

fn scan_number(b: &[u8], mut i: usize) -> Result<usize, JsonError> {
    let start = i;
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i),
        _ => return Err(err(start, "invalid number")),
    }
    if at(b, i) == b'.' {
        let j = digits(b, i + 1);
        if j == i + 1 {
            return Err(err(i, "invalid number"));
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(b, i);
        if j == i {
            return Err(err(i, "invalid number"));
        }
        i = j;
    }
    Ok(i)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `v` is below `n` (n ≤ 128), eight at a time.
fn any_below(v: u64, n: u8) -> bool {
    v.wrapping_sub(ONES * n as u64) & !v & HIGHS != 0
}

/// Whether any byte of `v` equals `byte`.
fn any_eq(v: u64, byte: u8) -> bool {
    any_below(v ^ (ONES * byte as u64), 1)
}

/// Skips the plain part of a string body eight bytes at a time: stops at (or before) the first
/// `"`, `\` or control byte. Payload text is mostly string bodies, so this is the hot loop.
fn skip_plain(b: &[u8], mut j: usize) -> usize {
    while let Some(word) = b.get(j..j + 8).and_then(|c| <&[u8; 8]>::try_from(c).ok()) {
        let v = u64::from_le_bytes(*word);
        if any_eq(v, b'"') || any_eq(v, b'\\') || any_below(v, 0x20) {
            break;
        }
        j += 8;
    }
    j
}

/// Scans the string whose opening quote is at `i`; returns the index just past its closing one.
pub(crate) fn scan_string(b: &[u8], i: usize) -> Result<usize, JsonError> {
    let mut j = skip_plain(b, i + 1);
    loop {
        match b.get(j) {
            None => return Err(err(i, "unterminated string")),
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => match b.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u') => {
                    let hex = b.get(j + 2..j + 6).ok_or(err(j, "bad \\u escape"))?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(err(j, "bad \\u escape"));
                    }
                    j += 6;
                }
                _ => return Err(err(j, "bad escape")),
            },
            Some(c) if *c < 0x20 => return Err(err(j, "control character in string")),
            Some(_) => j += 1,
        }
    }
}

/// Scans the array whose `[` is at `i`: `element(start, depth)` scans each element (it starts at
/// `start`, no leading whitespace) and returns the index just past it. Returns the index just
/// past the `]`.
pub(crate) fn scan_array(
    b: &[u8],
    i: usize,
    depth: u32,
    mut element: impl FnMut(usize, u32) -> Result<usize, JsonError>,
) -> Result<usize, JsonError> {
    if depth >= MAX_DEPTH {
        return Err(err(i, "nested too deeply"));
    }
    let mut j = skip_ws(b, i + 1);
    if at(b, j) == b']' {
        return Ok(j + 1);
    }
    loop {
        j = skip_ws(b, element(j, depth + 1)?);
        match b.get(j) {
            Some(b',') => j = skip_ws(b, j + 1),
            Some(b']') => return Ok(j + 1),
            _ => return Err(err(j, "expected ',' or ']'")),
        }
    }
}

/// Scans the object whose `{` is at `i`: `value((key_start, key_end), start, depth)` scans each
/// value (the raw key, quotes included, is `key_start..key_end`) and returns the index just
/// past it. Returns the index just past the `}`.
pub(crate) fn scan_object(
    b: &[u8],
    i: usize,
    depth: u32,
    mut value: impl FnMut((usize, usize), usize, u32) -> Result<usize, JsonError>,
) -> Result<usize, JsonError> {
    if depth >= MAX_DEPTH {
        return Err(err(i, "nested too deeply"));
    }
    let mut j = skip_ws(b, i + 1);
    if at(b, j) == b'}' {
        return Ok(j + 1);
    }
    loop {
        if at(b, j) != b'"' {
            return Err(err(j, "expected a string key"));
        }
        let key_end = scan_string(b, j)?;
        let colon = skip_ws(b, key_end);
        if at(b, colon) != b':' {
            return Err(err(colon, "expected ':'"));
        }
        j = skip_ws(b, value((j, key_end), skip_ws(b, colon + 1), depth + 1)?);
        match b.get(j) {
            Some(b',') => j = skip_ws(b, j + 1),
            Some(b'}') => return Ok(j + 1),
            _ => return Err(err(j, "expected ',' or '}'")),
        }
    }
}

fn whole<T>(
    s: &str,
    f: impl FnOnce(&[u8], usize) -> Result<(usize, T), JsonError>,
) -> Result<T, JsonError> {
    let b = s.as_bytes();
    let start = skip_ws(b, 0);
    let (end, out) = f(b, start)?;
    let rest = skip_ws(b, end);
    if rest != b.len() {
        return Err(err(rest, "trailing characters"));
    }
    Ok(out)
}

/// Checks that `s` is exactly one JSON value (surrounding whitespace allowed).
pub fn validate(s: &str) -> Result<Kind, JsonError> {
    whole(s, |b, i| Ok((scan_value(b, i, 0)?, Kind::of(&s[i..]))))
}

/// Splits a JSON array into the raw text of its elements.
pub fn array_elements(s: &str) -> Result<Vec<&str>, JsonError> {
    whole(s, |b, i| {
        if at(b, i) != b'[' {
            return Err(err(i, "expected an array"));
        }
        let mut parts = Vec::new();
        let end = scan_array(b, i, 0, |a, d| {
            let z = scan_value(b, a, d)?;
            parts.push(&s[a..z]);
            Ok(z)
        })?;
        Ok((end, parts))
    })
}

/// Splits a JSON object into `(key, raw value)` pairs, keys unescaped, in document order.
pub fn object_entries(s: &str) -> Result<Vec<(String, &str)>, JsonError> {
    whole(s, |b, i| {
        if at(b, i) != b'{' {
            return Err(err(i, "expected an object"));
        }
        let mut raw = Vec::new();
        let end = scan_object(b, i, 0, |(ka, kz), a, d| {
            let z = scan_value(b, a, d)?;
            raw.push((&s[ka..kz], &s[a..z]));
            Ok(z)
        })?;
        let mut out = Vec::with_capacity(raw.len());
        for (k, v) in raw {
            out.push((unquote(k)?, v));
        }
        Ok((end, out))
    })
}

/// Splits a JSON object into `(raw key, raw value)` pairs without unescaping or allocating
/// keys; compare keys with [`key_is`].
pub fn object_entries_raw(s: &str) -> Result<Vec<(&str, &str)>, JsonError> {
    whole(s, |b, i| {
        if at(b, i) != b'{' {
            return Err(err(i, "expected an object"));
        }
        let mut out = Vec::new();
        let end = scan_object(b, i, 0, |(ka, kz), a, d| {
            let z = scan_value(b, a, d)?;
            out.push((&s[ka..kz], &s[a..z]));
            Ok(z)
        })?;
        Ok((end, out))
    })
}

/// Whether a raw key (a JSON string literal, quotes included) spells `name`.
pub fn key_is(raw_key: &str, name: &str) -> bool {
    let inner = &raw_key.as_bytes()[1..raw_key.len() - 1];
    // An escape never makes a string shorter than its text, so a raw key no longer than the
    // name is equal to it exactly when its bytes are.
    if inner.len() <= name.len() {
        return inner == name.as_bytes();
    }
    if inner.first() != name.as_bytes().first() && inner.first() != Some(&b'\\') {
        return false;
    }
    inner.contains(&b'\\') && unquote(raw_key).is_ok_and(|k| k == name)
}

/// A JSON object split once, for looking up several fields.
#[derive(Debug)]
pub struct Fields<'a>(Vec<(String, &'a str)>);

impl<'a> Fields<'a> {
    /// Splits `object` (which must be a JSON object).
    pub fn of(object: &'a str) -> Result<Fields<'a>, JsonError> {
        object_entries(object).map(Fields)
    }

    /// The raw value of `key`, if present (the last one wins, as in `JSON.parse`).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The value of `key` if it is a string.
    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|v| unquote(v).ok())
    }
}

/// Decodes a raw JSON string literal (with its quotes) into a Rust string.
/// Lone surrogates become U+FFFD, as a lenient decoder would.
pub fn unquote(raw: &str) -> Result<String, JsonError> {
    let raw = raw.trim();
    let b = raw.as_bytes();
    if b.first() != Some(&b'"') || scan_string(b, 0)? != b.len() {
        return Err(err(0, "expected a string"));
    }
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return Ok(inner.to_owned());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hi = hex4(&mut chars);
                let code = if (0xD800..0xDC00).contains(&hi) {
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        let lo = hex4(&mut look);
                        if (0xDC00..0xE000).contains(&lo) {
                            chars = look;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            0xFFFD
                        }
                    } else {
                        0xFFFD
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other), // '"', '\\', '/'
            None => {}
        }
    }
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    (0..4).fold(0, |acc, _| {
        acc * 16 + chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0)
    })
}

/// Appends `s` as a JSON string literal.
pub fn quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u");
                out.push_str(&super::text::hex4(c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(s, &mut out);
    out
}

/// Reads a raw JSON number as a non-negative integer (`25000`, also `25000.0`), if it is one.
/// (No float parsing: it would add kilobytes to the wasm for no use here.)
pub fn as_u64(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let int = match raw.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => raw,
    };
    int.parse::<u64>().ok()
}

/// Reads a raw JSON number as `f64`, without Rust's float parser (kilobytes in the wasm):
/// up to 19 significant digits are read exactly, then scaled by a power of ten, which may
/// differ from `JSON.parse` in the last bit. The same text always reads the same, so a value
/// equal to a schema's bound as written compares equal. `None` if `raw` is not a number.
pub fn number(raw: &str) -> Option<f64> {
    let b = raw.trim().as_bytes();
    let neg = b.first() == Some(&b'-');
    let mut i = neg as usize;
    let (mut mant, mut exp, mut digits) = (0u64, 0i32, 0u32);
    let mut seen = false;
    let mut fraction = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                seen = true;
                if digits < 19 {
                    mant = mant * 10 + (c - b'0') as u64;
                    digits += (mant != 0) as u32;
                    exp -= fraction as i32;
                } else {
                    exp += !fraction as i32;
                }
            }
            b'.' if !fraction => fraction = true,
            _ => break,
        }
        i += 1;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        i += matches!(b.get(i), Some(b'-' | b'+')) as usize;
        let mut e = 0i32;
        while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
            e = (e * 10 + (c - b'0') as i32).min(99_999);
            i += 1;
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    if !seen || i != b.len() {
        return None;
    }
    if mant == 0 {
        return Some(if neg { -0.0 } else { 0.0 }); // not 0 × ∞ for `0e400`
    }
    // Two steps keep 10^exp finite where the result is (e.g. 1e-320 is 1e-300 × 1e-20).
    let half = exp / 2;
    let v = mant as f64 * 10f64.powi(half) * 10f64.powi(exp - half);
    Some(if neg { -v } else { v })
}

/// Whether two raw JSON scalars are the same value (`"a"` and `"\u0061"`, `1` and `1.0`).
pub fn same_scalar(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    match (Kind::of(a), Kind::of(b)) {
        (Kind::String, Kind::String) => {
            a == b || matches!((unquote(a), unquote(b)), (Ok(x), Ok(y)) if x == y)
        }
        (Kind::Number, Kind::Number) => {
            matches!((number(a), number(b)), (Some(x), Some(y)) if x == y)
        }
        (x, y) => x == y && a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_documents_are_accepted_with_their_kind() {
        let cases = [
            ("null", Kind::Null),
            (" true ", Kind::Bool),
            ("-0.5e+3", Kind::Number),
            ("\"a\\u00e9\\n\"", Kind::String),
            ("[1, [2, {\"a\": []}]]", Kind::Array),
            ("{\"a\":{\"b\":[null,false]}}", Kind::Object),
        ];
        for (text, kind) in cases {
            assert_eq!(validate(text), Ok(kind), "{text}");
        }
    }

    #[test]
    fn invalid_documents_are_rejected() {
        for text in [
            "",
            "[",
            "[1,]",
            "{\"a\"}",
            "{a:1}",
            "01",
            "1.",
            "-",
            "\"abc",
            "\"\\x\"",
            "tru",
            "[1] x",
            "\"\u{1}\"",
            "{\"a\":1,}",
            "\"\\u12G4\"",
            "1e",
        ] {
            assert!(validate(text).is_err(), "{text:?} should be invalid");
        }
    }

    #[test]
    fn the_word_at_a_time_string_scan_stops_at_every_special_byte() {
        for at in 0..20 {
            for special in ["\"", "\\n", "\u{1}", "é"] {
                let body = format!("{}{special}{}", "a".repeat(at), "b".repeat(9));
                let doc = quote(&body);
                assert_eq!(unquote(&doc).unwrap(), body, "{doc:?}");
                assert_eq!(validate(&doc), Ok(Kind::String));
                let raw_ctl = format!("\"{}\u{1}x\"", "a".repeat(at));
                assert!(validate(&raw_ctl).is_err(), "a raw control byte at {at}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(validate(&deep).unwrap_err().what, "nested too deeply");
    }

    #[test]
    fn array_elements_are_raw_slices() {
        let parts = array_elements(r#"["ev", {"a": [1,2]} , "x,y", 3]"#).unwrap();
        assert_eq!(parts, vec![r#""ev""#, r#"{"a": [1,2]}"#, r#""x,y""#, "3"]);
        assert_eq!(array_elements("[]").unwrap(), Vec::<&str>::new());
        assert!(array_elements("{}").is_err());
    }

    #[test]
    fn object_entries_unescape_keys_and_the_last_field_wins() {
        let o = r#"{"sid":"abc","n\u0061me":1,"sid":"def"}"#;
        let e = object_entries(o).unwrap();
        assert_eq!(e[1], ("name".to_owned(), "1"));
        let f = Fields::of(o).unwrap();
        assert_eq!(f.get("sid"), Some(r#""def""#));
        assert_eq!(f.string("sid").as_deref(), Some("def"));
        assert_eq!(f.get("nope"), None);
    }

    #[test]
    fn raw_keys_compare_with_and_without_escapes() {
        let e = object_entries_raw(r#"{"orderId":1,"st\u0061tus":2}"#).unwrap();
        assert!(key_is(e[0].0, "orderId"));
        assert!(key_is(e[1].0, "status"));
        assert!(!key_is(e[0].0, "order"));
    }

    #[test]
    fn strings_round_trip_through_quote_and_unquote() {
        for s in [
            "",
            "plain",
            "quote \" back \\ slash",
            "ctl \u{1}\n\t",
            "émoji 😀",
        ] {
            assert_eq!(unquote(&quote(s)).unwrap(), s);
        }
        assert_eq!(unquote(r#""\ud83d\ude00""#).unwrap(), "😀");
        assert_eq!(unquote(r#""\ud83d""#).unwrap(), "\u{FFFD}");
    }

    #[test]
    fn integers_are_read_from_numbers() {
        assert_eq!(as_u64("25000"), Some(25000));
        assert_eq!(as_u64("25000.00"), Some(25000));
        assert_eq!(as_u64("2.5e4"), None);
        assert_eq!(as_u64("-1"), None);
        assert_eq!(as_u64("1.5"), None);
    }
}
