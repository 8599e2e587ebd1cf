//! Compiles an app's own JSON Schemas into the [`Type`]s the catalog's validator checks, so
//! an app's events are validated by the same one-pass check as the catalog's.
//!
//! The subset: `type` (`"string"`, `"number"`, `"integer"`, `"boolean"`, `"object"`, `"array"`,
//! `"null"`, or one of them with `"null"` in an array), `properties`, `required`, `items`,
//! `additionalProperties`, `enum`, `const`, `nullable`, `minLength`, `maxLength`, `minimum`,
//! `maximum`, and the boolean schemas `true` and `false`. Annotations (`title`,
//! `description`, `default`, `examples`, `format`, `$schema`, `$id`, `$comment`,
//! `deprecated`, `readOnly`, `writeOnly`) are allowed and not checked. Any other keyword is an
//! error, so that a typo (`requried`) is not a schema that accepts everything.
//!
//! ```
//! use wiresync::core::{json_schema::compile, schema::validate};
//! let ty = compile(r#"{"type":"object","properties":{"orderId":{"type":"string"},
//!     "status":{"enum":["placed","delivered"]}},"required":["orderId","status"]}"#).unwrap();
//! assert!(validate(ty, r#"{"orderId":"o1","status":"placed"}"#).is_ok());
//! assert_eq!(
//!     validate(ty, r#"{"orderId":"o1"}"#).unwrap_err(),
//!     "field `status` is missing"
//! );
//! assert_eq!(
//!     compile(r#"{"type":"object","properties":{"n":{"type":"strin"}}}"#).unwrap_err(),
//!     "properties.n.type: unknown type \"strin\" (did you mean \"string\"?)"
//! );
//! ```

use super::json::{self, Kind};
use super::schema::{Field, Type};
use super::text::nearest;

const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// The keywords: those checked, then the annotations (accepted, not checked).
const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "const",
    "nullable",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "title",
    "description",
    "default",
    "examples",
    "format",
    "$schema",
    "$id",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Schemas nested deeper than this are refused (the payload scanner's own limit is lower).
const MAX_DEPTH: u32 = 64;

/// Compiles a schema given as JSON text. The error names the path in the schema and the
/// reason (`properties.status.type: unknown type "strin" (did you mean "string"?)`).
///
/// The compiled type lives for the rest of the program (it is leaked, as the catalog's are
/// static): compile each schema once, as `connect` does, not per event.
pub fn compile(raw: &str) -> Result<&'static Type, String> {
    node(raw, "", 0)
}

fn leak(t: Type) -> &'static Type {
    Box::leak(Box::new(t))
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        [path, ".", key].concat()
    }
}

/// An error at `path` + `key` (`key` empty: at `path`).
#[inline(never)]
fn fail(path: &str, key: &str, why: &str) -> String {
    let at = if key.is_empty() {
        path.to_owned()
    } else {
        join(path, key)
    };
    if at.is_empty() {
        why.to_owned()
    } else {
        [&at, ": ", why].concat()
    }
}

fn node(raw: &str, path: &str, depth: u32) -> Result<&'static Type, String> {
    match Kind::of(raw) {
        Kind::Bool if raw.trim() == "true" => return Ok(&Type::Any),
        Kind::Bool => return Ok(&Type::Never),
        Kind::Object if depth < MAX_DEPTH => {}
        Kind::Object => return Err(fail(path, "", "nested too deeply")),
        _ => return Err(fail(path, "", "a schema must be an object or a boolean")),
    }
    let entries = json::object_entries(raw).map_err(|e| fail(path, "", &e.text()))?;
    let get = |key: &str| {
        entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    };

    // The type, and whether null is allowed besides.
    let mut nullable = match get("nullable").map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(fail(path, "nullable", "expected true or false")),
    };
    let mut names = Vec::new();
    if let Some(t) = get("type") {
        match Kind::of(t) {
            Kind::String => names.push(t),
            Kind::Array => names = json::array_elements(t).map_err(|e| e.text())?,
            _ => {
                return Err(fail(
                    path,
                    "type",
                    "expected a type name or an array of them",
                ))
            }
        }
    }
    if names.is_empty() && get("type").is_some() {
        return Err(fail(path, "type", "expected at least one type"));
    }
    let (mut name, mut null) = (None, false);
    for t in names {
        let t = json::unquote(t).map_err(|_| fail(path, "type", "expected a type name"))?;
        match TYPES.iter().find(|n| **n == t) {
            Some(&"null") => null = true,
            Some(n) if name.is_none() => name = Some(*n),
            Some(_) => {
                return Err(fail(
                    path,
                    "type",
                    "only one type, or one type and \"null\", is supported",
                ))
            }
            None => {
                let mut why = ["unknown type \"", &t, "\""].concat();
                if let Some(near) = nearest(&t, TYPES) {
                    why = why + " (did you mean \"" + near + "\"?)";
                }
                return Err(fail(path, "type", &why));
            }
        }
    }
    // `"null"` alone: null only; beside another type: that type or null.
    match (name, null) {
        (None, true) => name = Some("null"),
        (Some(_), true) => nullable = true,
        _ => {}
    }

    for (k, _) in &entries {
        if !KEYWORDS.contains(&k.as_str()) {
            let mut why = ["unknown keyword `", k, "`"].concat();
            if let Some(near) = nearest(k, KEYWORDS) {
                why = why + " (did you mean `" + near + "`?)";
            }
            return Err(fail(path, "", &why));
        }
    }
    // Without a type, the keywords say which (`{"items": …}` is an array schema).
    let has = |keys: &[&str]| keys.iter().any(|k| get(k).is_some());
    let implied = match name {
        Some("integer") => Some("number"),
        Some(n) => Some(n),
        None if has(&["properties", "required", "additionalProperties"]) => Some("object"),
        None if has(&["items"]) => Some("array"),
        None if has(&["minLength", "maxLength"]) => Some("string"),
        None if has(&["minimum", "maximum"]) => Some("number"),
        None => None,
    };

    let typed = match implied {
        Some("string") => text(&get, path)?,
        Some("number") => number(&get, path, name == Some("integer"))?,
        Some("boolean") => &Type::Bool,
        Some("null") => &Type::Null,
        Some("array") => match get("items") {
            Some(items) => leak(Type::Array(node(items, &join(path, "items"), depth + 1)?)),
            None => &Type::Array(&Type::Any),
        },
        Some(_) => object(&get, path, depth)?,
        None => &Type::Any,
    };
    // `enum` / `const`: these values only, each of which must also fit the rest of the schema.
    let (key, values) = match (get("enum"), get("const")) {
        (Some(_), Some(_)) => return Err(fail(path, "", "use `enum` or `const`, not both")),
        (Some(raw), None) => (
            "enum",
            json::array_elements(raw)
                .map_err(|_| fail(path, "enum", "expected an array of values"))?,
        ),
        (None, Some(raw)) => ("const", vec![raw]),
        (None, None) => {
            return Ok(if nullable {
                leak(Type::Nullable(typed))
            } else {
                typed
            })
        }
    };
    for v in &values {
        let null_ok = nullable && Kind::of(v) == Kind::Null;
        if !null_ok && super::schema::validate(typed, v).is_err() {
            let why = [v.trim(), " does not fit the schema's type or bounds"].concat();
            return Err(fail(path, key, &why));
        }
    }
    let base = values_type(&values, &join(path, key))?;
    Ok(if nullable {
        leak(Type::Nullable(base))
    } else {
        base
    })
}

/// `enum` / `const`: scalars, compared as values.
fn values_type(values: &[&str], path: &str) -> Result<&'static Type, String> {
    if values.is_empty() {
        return Err(fail(path, "", "expected at least one value"));
    }
    if values
        .iter()
        .any(|v| matches!(Kind::of(v), Kind::Object | Kind::Array))
    {
        return Err(fail(
            path,
            "",
            "only strings, numbers, booleans and null are supported as values",
        ));
    }
    let raw: Vec<&'static str> = values.iter().map(|v| leak_str(v.trim().into())).collect();
    Ok(leak(Type::Values(Box::leak(raw.into_boxed_slice()))))
}

type Get<'a> = dyn Fn(&str) -> Option<&'a str> + 'a;

/// A non-negative integer keyword (`minLength`).
fn count(get: &Get, path: &str, key: &str) -> Result<Option<u32>, String> {
    get(key)
        .map(|v| {
            json::as_u64(v)
                .map(|n| n.min(u32::MAX as u64) as u32)
                .ok_or_else(|| fail(path, key, "expected an integer ≥ 0"))
        })
        .transpose()
}

fn text(get: &Get, path: &str) -> Result<&'static Type, String> {
    let min = count(get, path, "minLength")?;
    let max = count(get, path, "maxLength")?;
    if min.is_none() && max.is_none() {
        return Ok(&Type::Str);
    }
    Ok(leak(Type::Text {
        min: min.unwrap_or(0),
        max: max.unwrap_or(u32::MAX),
    }))
}

fn number(get: &Get, path: &str, int: bool) -> Result<&'static Type, String> {
    let bound = |key: &str| {
        get(key)
            .map(|v| {
                json::number(v)
                    .map(|n| (n, v.trim()))
                    .ok_or_else(|| fail(path, key, "expected a number"))
            })
            .transpose()
    };
    let (min, max) = (bound("minimum")?, bound("maximum")?);
    if !int && min.is_none() && max.is_none() {
        return Ok(&Type::Num);
    }
    let mut range = String::from(if int { "an integer" } else { "a number" });
    let mut and = "";
    for (b, sign) in [(min, " ≥ "), (max, " ≤ ")] {
        if let Some((_, raw)) = b {
            range = range + and + sign + raw;
            and = " and";
        }
    }
    Ok(leak(Type::Number {
        min: min.map_or(f64::NEG_INFINITY, |b| b.0),
        max: max.map_or(f64::INFINITY, |b| b.0),
        int,
        range: leak_str(range),
    }))
}

fn object(get: &Get, path: &str, depth: u32) -> Result<&'static Type, String> {
    let mut required: Vec<String> = Vec::new();
    if let Some(r) = get("required") {
        let bad = || fail(path, "required", "expected an array of property names");
        for name in json::array_elements(r).map_err(|_| bad())? {
            required.push(json::unquote(name).map_err(|_| bad())?);
        }
    }
    let mut fields = Vec::new();
    if let Some(p) = get("properties") {
        if Kind::of(p) != Kind::Object {
            return Err(fail(path, "properties", "expected an object of schemas"));
        }
        let props = json::object_entries(p).map_err(|e| e.text())?;
        for (name, schema) in props {
            let ty = node(schema, &join(&join(path, "properties"), &name), depth + 1)?;
            let needed = required.contains(&name);
            fields.push(Field {
                ty: if needed { ty } else { leak(Type::Optional(ty)) },
                name: leak_str(name),
                doc: "",
            });
        }
    }
    // Required without a schema of its own: any value, but there.
    for name in required {
        if !fields.iter().any(|f| f.name == name) {
            fields.push(Field {
                name: leak_str(name),
                ty: &Type::Any,
                doc: "",
            });
        }
    }
    let extra = match get("additionalProperties") {
        None => None,
        Some(raw) => Some(node(raw, &join(path, "additionalProperties"), depth + 1)?)
            .filter(|t| !matches!(t, Type::Any)),
    };
    Ok(leak(Type::Object {
        name: "",
        fields: Box::leak(fields.into_boxed_slice()),
        extra,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::schema::validate;

    fn check(schema: &str, ok: &[&str], bad: &[(&str, &str)]) {
        let ty = compile(schema).unwrap_or_else(|e| panic!("{schema}: {e}"));
        for v in ok {
            assert_eq!(validate(ty, v), Ok(()), "{schema} accepts {v}");
            assert!(
                crate::core::schema::scan_match(v, 0, ty, 0).unwrap().1,
                "fast path accepts {v}"
            );
        }
        for (v, why) in bad {
            assert_eq!(
                validate(ty, v),
                Err((*why).to_owned()),
                "{schema} refuses {v}"
            );
            assert!(
                !crate::core::schema::scan_match(v, 0, ty, 0).unwrap().1,
                "fast path refuses {v}"
            );
        }
    }

    #[test]
    fn the_order_event_of_issue_11() {
        check(
            r#"{"type":"object","properties":{"orderId":{"type":"string"},"status":{"type":"string"}},"required":["orderId","status"]}"#,
            &[
                r#"{"orderId":"o1","status":"placed"}"#,
                r#"{"orderId":"o1","status":"placed","other":[1]}"#,
            ],
            &[
                (r#"{"orderId":"o1"}"#, "field `status` is missing"),
                (
                    r#"{"orderId":1,"status":"x"}"#,
                    "field `orderId`: expected string, got number",
                ),
            ],
        );
    }

    #[test]
    fn optional_nullable_and_additional_properties() {
        check(
            r#"{"properties":{"a":{"type":"string"},"b":{"type":["integer","null"]},"c":{"type":"string","nullable":true}},"required":["b"],"additionalProperties":false}"#,
            &[
                r#"{"b":null}"#,
                r#"{"b":2,"a":"x","c":null}"#,
                r#"{"b":2.0}"#,
            ],
            &[
                (r#"{}"#, "field `b` is missing"),
                (
                    r#"{"b":1,"a":null}"#,
                    "field `a`: expected string, got null",
                ),
                (r#"{"b":1.5}"#, "field `b`: 1.5 is not an integer"),
                (r#"{"b":1,"zz":1}"#, "field `zz` is not allowed"),
            ],
        );
        check(
            r#"{"type":"object","additionalProperties":{"type":"number"}}"#,
            &[r#"{"x":1,"y":2}"#, "{}"],
            &[(
                r#"{"x":1,"y":"2"}"#,
                "field `y`: expected number, got string",
            )],
        );
    }

    #[test]
    fn bounds_enums_and_consts() {
        check(
            r#"{"type":"string","minLength":1,"maxLength":3}"#,
            &[r#""a""#, r#""éèà""#, r#""\u00e9""#],
            &[
                (r#""""#, "payload: shorter than 1 characters"),
                (r#""abcd""#, "payload: longer than 3 characters"),
                ("1", "payload: expected string, got number"),
            ],
        );
        check(
            r#"{"type":"number","minimum":-1.5,"maximum":1e2}"#,
            &["-1.5", "0", "100", "1E2", "99.99"],
            &[
                ("-1.6", "payload: -1.6 is not a number ≥ -1.5 and ≤ 1e2"),
                ("100.5", "payload: 100.5 is not a number ≥ -1.5 and ≤ 1e2"),
                (r#""5""#, "payload: expected number, got string"),
            ],
        );
        check(
            r#"{"items":{"enum":["a","b"]},"type":"array"}"#,
            &["[]", r#"["a","b","a"]"#],
            &[(
                r#"["a","c"]"#,
                "field `[1]`: \"c\" is not one of \"a\", \"b\"",
            )],
        );
        check(
            r#"{"enum":[1,"x",null,true]}"#,
            &["1", "1.0", r#""x""#, r#""\u0078""#, "null", "true"],
            &[("2", "payload: 2 is not one of 1, \"x\", null, true")],
        );
        check(
            r#"{"const":"v1"}"#,
            &[r#""v1""#],
            &[(r#""v2""#, "payload: \"v2\" is not one of \"v1\"")],
        );
        check("true", &["1", "{}"], &[]);
        check("false", &[], &[("1", "payload is not allowed")]);
    }

    #[test]
    fn bad_schemas_name_the_path_and_the_reason() {
        let cases = [
            (
                r#"{"type":"strin"}"#,
                "type: unknown type \"strin\" (did you mean \"string\"?)",
            ),
            (
                r#"{"requried":["a"]}"#,
                "unknown keyword `requried` (did you mean `required`?)",
            ),
            (
                r#"{"properties":{"a":{"properties":{"b":{"minLength":-1,"type":"string"}}}}}"#,
                "properties.a.properties.b.minLength: expected an integer ≥ 0",
            ),
            (
                r#"{"type":["string","number"]}"#,
                "type: only one type, or one type and \"null\", is supported",
            ),
            (r#"{"enum":[]}"#, "enum: expected at least one value"),
            (
                r#"{"enum":[{"a":1}]}"#,
                "enum: only strings, numbers, booleans and null are supported as values",
            ),
            (
                r#"{"required":"a"}"#,
                "required: expected an array of property names",
            ),
            (r#"{"nullable":1}"#, "nullable: expected true or false"),
            (r#"{"type":[]}"#, "type: expected at least one type"),
            (
                r#"{"type":"integer","enum":[1,2.5]}"#,
                "enum: 2.5 does not fit the schema's type or bounds",
            ),
            (
                r#"{"enum":[1],"const":1}"#,
                "use `enum` or `const`, not both",
            ),
            ("1", "a schema must be an object or a boolean"),
            (
                r#"{"type":"object","properties":[]}"#,
                "properties: expected an object of schemas",
            ),
        ];
        for (schema, why) in cases {
            assert_eq!(compile(schema).map(|_| ()), Err(why.to_owned()), "{schema}");
        }
        let deep = "{\"items\":".repeat(70) + "{}" + &"}".repeat(70);
        assert!(compile(&deep).unwrap_err().ends_with("nested too deeply"));
    }

    #[test]
    fn null_beside_a_type_and_odd_numbers() {
        check(
            r#"{"type":["null","string"],"nullable":true}"#,
            &["null", r#""a""#],
            &[("1", "payload: expected string, got number")],
        );
        check(
            r#"{"type":["null"]}"#,
            &["null"],
            &[("1", "payload: expected null, got number")],
        );
        check(
            r#"{"type":"integer","minimum":0}"#,
            &["0", "0e400", "-0", "7"],
            &[("1e400", "payload: 1e400 is not an integer ≥ 0")],
        );
        check(
            r#"{"type":["string","null"],"enum":["a",null]}"#,
            &["null", r#""a""#],
            &[],
        );
    }

    #[test]
    fn annotations_are_accepted_and_ignored() {
        let ty = compile(
            r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"d","type":"string","format":"date-time","examples":["x"],"default":"x"}"#,
        )
        .unwrap();
        assert!(matches!(ty, Type::Str));
    }
}
