//! Query keys as TanStack Query has them: JSON arrays, matched by prefix (arrays) and subset
//! (objects), and hashed to a stable string with sorted object keys (`hashKey`), so `exact`
//! matching is one string comparison.
//!
//! ```
//! use wiresync::core::query_key::{partial_match, Value};
//!
//! let key = Value::parse(r#"["order", {"id": "1", "tab": "items"}]"#).unwrap();
//! let filter = Value::parse(r#"["order", {"id": "1"}]"#).unwrap();
//! assert!(partial_match(&key, &filter)); // prefix on arrays, subset on objects
//! assert!(!partial_match(&filter, &key));
//! // The hash sorts object keys: the same key written in any order hashes the same.
//! let same = Value::parse(r#"["order", {"tab": "items", "id": "1"}]"#).unwrap();
//! assert_eq!(key.hash(), same.hash());
//! assert_eq!(key.hash(), r#"["order",{"id":"1","tab":"items"}]"#);
//! ```

use super::json::{self, JsonError, Kind};

/// A query key: a JSON array, made with [`key!`](crate::key) or parsed by [`Value::parse`].
pub type QueryKey = Value;

/// A query key from its parts, each anything a [`Value`] is made from (`&str`, `String`,
/// numbers, `bool`, another `Value`):
///
/// ```
/// use wiresync::key;
/// let order_id = "ord_1";
/// let k = key!["order", order_id, 2];
/// assert_eq!(k.hash(), r#"["order","ord_1",2]"#);
/// ```
#[macro_export]
macro_rules! key {
    ($($part:expr),* $(,)?) => {
        $crate::core::query_key::Value::Arr(::std::vec![
            $($crate::core::query_key::Value::from($part)),*
        ])
    };
}

/// A JSON value, for query keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as its JSON text made canonical (`1.0` → `1`, `-0` → `0`) so that equal
    /// numbers compare and hash equal; non-integers keep their text.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, fields in document order.
    Obj(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f32> for Value {
    fn from(n: f32) -> Value {
        Value::from(f64::from(n))
    }
}

impl From<f64> for Value {
    /// A finite number; `NaN` and infinities are `null`, as `JSON.stringify` makes them.
    fn from(n: f64) -> Value {
        if n.is_finite() {
            Value::Num(canonical_number(&n.to_string()))
        } else {
            Value::Null
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Num(n.to_string())
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl Value {
    /// Parses JSON text.
    pub fn parse(raw: &str) -> Result<Value, JsonError> {
        json::validate(raw)?;
        Ok(Value::from_valid(raw))
    }

    fn from_valid(raw: &str) -> Value {
        let raw = raw.trim();
        match Kind::of(raw) {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(raw == "true"),
            Kind::Number => Value::Num(canonical_number(raw)),
            Kind::String => Value::Str(json::unquote(raw).unwrap_or_default()),
            Kind::Array => Value::Arr(
                json::array_elements(raw)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Value::from_valid)
                    .collect(),
            ),
            Kind::Object => Value::Obj(
                json::object_entries(raw)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, Value::from_valid(v)))
                    .collect(),
            ),
        }
    }

    /// `value[key]` as JavaScript reads it (array indices as strings too); `None` = undefined.
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            Value::Arr(items) => key
                .parse::<usize>()
                .ok()
                .filter(|&i| super::text::int(i as u64) == key)
                .and_then(|i| items.get(i)),
            _ => None,
        }
    }

    /// TanStack's `hashKey`: JSON with object keys sorted.
    pub fn hash(&self) -> String {
        let mut out = String::new();
        self.hash_into(&mut out);
        out
    }

    fn hash_into(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Num(n) => out.push_str(n),
            Value::Str(s) => json::quote_into(s, out),
            Value::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.hash_into(out);
                }
                out.push(']');
            }
            Value::Obj(fields) => {
                // Sorted by insertion (a key's objects have a few fields; no sort routine in
                // the wasm for this). Later duplicates win, as in JSON.parse.
                let mut sorted: Vec<&(String, Value)> = Vec::with_capacity(fields.len());
                for f in fields {
                    match sorted.binary_search_by(|(k, _)| k.as_str().cmp(&f.0)) {
                        Ok(at) => sorted[at] = f,
                        Err(at) => sorted.insert(at, f),
                    }
                }
                out.push('{');
                for (i, (k, v)) in sorted.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::quote_into(k, out);
                    out.push(':');
                    v.hash_into(out);
                }
                out.push('}');
            }
        }
    }
}

/// The hash of a key given as JSON text, without parsing it, when the text is already in hash
/// form: what `JSON.stringify` writes for keys of strings without escapes, plain integers,
/// booleans, null and nested arrays (no objects, no whitespace). `None` means: parse it.
pub fn hash_of_plain(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut in_string = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'"' => in_string = false,
                b'\\' => return None,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'[' | b']' | b',' => {}
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let num = &text[start..i];
                    let plain =
                        num != "-0" && num != "-" && !(num.len() > 1 && num.starts_with('0'));
                    if !plain || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
                        return None;
                    }
                    continue;
                }
                b't' | b'f' | b'n' => {
                    let lit: &[u8] = match c {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    if !b[i..].starts_with(lit) {
                        return None;
                    }
                    i += lit.len();
                    continue;
                }
                _ => return None, // objects, whitespace, anything else: the slow path
            }
        }
        i += 1;
    }
    (!in_string && json::validate(text).is_ok()).then_some(text)
}

/// `1.0` → `1`, `-0` → `0`, `10.50` → `10.5`, `1E2` → `1e2`: integers and plain decimals
/// reach one spelling per value without float parsing.
fn canonical_number(raw: &str) -> String {
    let raw = raw.to_ascii_lowercase();
    if raw.contains('e') {
        return raw; // rare in keys; kept as written
    }
    let (neg, digits) = match raw.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, raw.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && !(int == "0" && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// TanStack's `partialMatchKey(a, b)`: does `a` (a query's key) match the filter `b`?
/// Arrays match by prefix, objects by subset, everything else by equality.
pub fn partial_match(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Arr(a), Value::Arr(b)) => {
            b.len() <= a.len() && a.iter().zip(b).all(|(x, y)| partial_match(x, y))
        }
        (Value::Arr(_) | Value::Obj(_), Value::Obj(fields)) => fields
            .iter()
            .all(|(k, bv)| a.get(k).is_some_and(|av| partial_match(av, bv))),
        (Value::Obj(_), Value::Arr(items)) => items.iter().enumerate().all(|(i, bv)| {
            a.get(&super::text::int(i as u64))
                .is_some_and(|av| partial_match(av, bv))
        }),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Value {
        Value::parse(raw).unwrap()
    }

    /// Cases in the manner of query-core's `partialMatchKey` tests: (query key, filter, match).
    #[test]
    fn partial_match_table() {
        let cases = [
            (
                r#"["a", {"b": "b", "c": "c"}]"#,
                r#"["a", {"b": "b"}]"#,
                true,
            ),
            (
                r#"["a", {"b": "b"}]"#,
                r#"["a", {"b": "b", "c": "c"}]"#,
                false,
            ),
            (
                r#"["a", {"b": "b", "c": "c"}]"#,
                r#"["a", {"b": "d"}]"#,
                false,
            ),
            (
                r#"["a", {"b": {"c": 1, "d": 2}}]"#,
                r#"["a", {"b": {"c": 1}}]"#,
                true,
            ),
            (r#"["todos"]"#, r#"["todos"]"#, true),
            (r#"["todos", 1]"#, r#"["todos"]"#, true),
            (r#"["todos"]"#, r#"["todos", 1]"#, false),
            (r#"["todos", 1]"#, r#"["todos", "1"]"#, false),
            (r#"["todos", 1]"#, r#"["todos", 1.0]"#, true),
            (r#"["a", ["b", "c"]]"#, r#"["a", ["b"]]"#, true),
            (r#"["a", ["b"]]"#, r#"["a", ["b", "c"]]"#, false),
            (r#"["a", null]"#, r#"["a", null]"#, true),
            (r#"["a", null]"#, r#"["a", {}]"#, false),
            (r#"["a", {}]"#, r#"["a", null]"#, false),
            (r#"["a", {"x": 1}]"#, r#"["a", {}]"#, true),
            (r#"["a", true]"#, r#"["a", false]"#, false),
            (r#"["a", [1, 2]]"#, r#"["a", {"0": 1}]"#, true),
            (r#"["a", {"0": 1, "1": 2}]"#, r#"["a", [1]]"#, true),
            (r#"["a"]"#, "[]", true),
            ("[]", "[]", true),
        ];
        for (query, filter, want) in cases {
            assert_eq!(
                partial_match(&v(query), &v(filter)),
                want,
                "{query} ~ {filter}"
            );
        }
    }

    #[test]
    fn plain_key_text_is_its_own_hash_and_anything_else_is_parsed() {
        for text in [
            r#"["orders","42"]"#,
            "[1,-2,true,null,[3]]",
            "[]",
            r#"["a b"]"#,
        ] {
            assert_eq!(hash_of_plain(text), Some(text), "{text}");
            assert_eq!(v(text).hash(), text);
        }
        for text in [
            r#"["o",{"a":1}]"#,
            "[1.5]",
            "[-0]",
            r#"["a\nb"]"#,
            "[ 1]",
            "[1e3]",
            "[1,",
            r#"["x"]]"#,
        ] {
            assert_eq!(hash_of_plain(text), None, "{text}");
        }
    }

    #[test]
    fn hashes_sort_object_keys_and_canonicalize_numbers() {
        assert_eq!(
            v(r#"["todos", {"page": 1, "filter": "done"}]"#).hash(),
            r#"["todos",{"filter":"done","page":1}]"#
        );
        assert_eq!(
            v(r#"[{"b":1,"a":{"d":2,"c":3}}]"#).hash(),
            v(r#"[{"a":{"c":3,"d":2},"b":1}]"#).hash()
        );
        assert_eq!(v("[1.0, -0, 10.50, 0.0]").hash(), "[1,0,10.5,0]");
        assert_ne!(v(r#"["1"]"#).hash(), v("[1]").hash());
        assert_eq!(
            v(r#"[{"a":1,"a":2}]"#).hash(),
            r#"[{"a":2}]"#,
            "the last duplicate wins"
        );
    }
}
