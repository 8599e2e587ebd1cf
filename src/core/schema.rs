//! Payload schemas: one static description of each catalog type serves runtime validation of
//! raw JSON (no JSON library, no JS calls) and TypeScript generation, so Rust and TS agree.

use super::json::{self, JsonError, Kind};

/// The shape of a JSON value.
#[derive(Debug)]
pub enum Type {
    /// A string.
    Str,
    /// A number (integers included).
    Num,
    /// `true` / `false`.
    Bool,
    /// Anything.
    Any,
    /// `null`, absent, or the inner type.
    Opt(&'static Type),
    /// An array of the inner type.
    Array(&'static Type),
    /// An object with these fields (others are allowed and ignored).
    Object {
        /// The TypeScript interface name (empty in the wasm build, which generates no TypeScript).
        name: &'static str,
        /// Its fields.
        fields: &'static [Field],
    },
    /// One of these strings.
    OneOf {
        /// The TypeScript type name (empty in the wasm build, which generates no TypeScript).
        name: &'static str,
        /// The allowed values.
        values: &'static [&'static str],
    },
}

/// An object field: its JSON name and type.
#[derive(Debug)]
pub struct Field {
    /// Name on the wire (camelCase).
    pub name: &'static str,
    /// Its type.
    pub ty: &'static Type,
    /// Its documentation, copied to the TypeScript.
    pub doc: &'static str,
}

/// A Rust type with a wire schema.
pub trait Schema {
    /// Its schema.
    const TYPE: &'static Type;
}

impl Schema for String {
    const TYPE: &'static Type = &Type::Str;
}
impl Schema for bool {
    const TYPE: &'static Type = &Type::Bool;
}
macro_rules! numbers {
    ($($t:ty)*) => { $(impl Schema for $t { const TYPE: &'static Type = &Type::Num; })* };
}
numbers!(f64 f32 u8 u16 u32 u64 i8 i16 i32 i64);
impl<T: Schema> Schema for Option<T> {
    const TYPE: &'static Type = &Type::Opt(T::TYPE);
}
impl<T: Schema> Schema for Vec<T> {
    const TYPE: &'static Type = &Type::Array(T::TYPE);
}

/// Checks raw, already valid JSON against a type. The error names the path and the reason,
/// e.g. ``field `location.latitude`: expected number, got string``.
pub fn validate(ty: &Type, raw: &str) -> Result<(), String> {
    let raw = raw.trim();
    // The fast path: one pass, no allocation. Only a mismatch takes the path that says where.
    if scan_match(raw, 0, ty, 0) == Ok((raw.len(), true)) {
        return Ok(());
    }
    check(ty, raw).map_err(|mut f| {
        // Segments were collected innermost first, while unwinding.
        f.path.reverse();
        let mut path = String::new();
        for seg in &f.path {
            match seg {
                Segment::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Segment::Index(i) => {
                    path.push('[');
                    path.push_str(&super::text::int(*i as u64));
                    path.push(']');
                }
            }
        }
        let at = if path.is_empty() {
            "payload".to_owned()
        } else {
            ["field `", &path, "`"].concat()
        };
        at + &f.reason
    })
}

/// Scans the JSON value that starts at byte `i` of `s` (no leading whitespace) and checks it
/// against `ty` in the same pass, without allocating: the index just past the value, and whether
/// it matched what [`validate`] accepts. Of repeated keys the last counts, as in JSON.parse.
/// A decoder that must scan a payload anyway (to find where it ends) validates it this way at
/// no second pass.
pub fn scan_match(s: &str, i: usize, ty: &Type, depth: u32) -> Result<(usize, bool), JsonError> {
    let b = s.as_bytes();
    let first = json::at(b, i);
    let scan_kind = |kind: Kind| Ok((json::scan_value(b, i, depth)?, Kind::of(&s[i..]) == kind));
    match ty {
        Type::Any => Ok((json::scan_value(b, i, depth)?, true)),
        Type::Str => scan_kind(Kind::String),
        Type::Num => scan_kind(Kind::Number),
        Type::Bool => scan_kind(Kind::Bool),
        Type::Opt(_) if first == b'n' => scan_kind(Kind::Null),
        Type::Opt(inner) => scan_match(s, i, inner, depth),
        Type::OneOf { values, .. } => {
            let end = json::scan_value(b, i, depth)?;
            let raw = &s[i..end];
            Ok((
                end,
                first == b'"' && values.iter().any(|v| json::key_is(raw, v)),
            ))
        }
        Type::Array(inner) if first == b'[' => {
            let mut ok = true;
            let end = json::scan_array(b, i, depth, |j, d| {
                let (end, m) = scan_match(s, j, inner, d)?;
                ok &= m;
                Ok(end)
            })?;
            Ok((end, ok))
        }
        Type::Object { fields, .. } if first == b'{' && fields.len() <= 64 => {
            // Per field: seen at all, and whether its last occurrence failed.
            let (mut seen, mut bad) = (0u64, 0u64);
            // Servers mostly send the fields in the order they are declared: the one after
            // the last found is tried first.
            let mut next = 0;
            let end = json::scan_object(b, i, depth, |(ka, kz), j, d| {
                let key = &s[ka..kz];
                let found = match fields.get(next) {
                    Some(f) if json::key_is(key, f.name) => Some(next),
                    _ => fields.iter().position(|f| json::key_is(key, f.name)),
                };
                let Some(at) = found else {
                    return json::scan_value(b, j, d);
                };
                next = at + 1;
                let (end, m) = scan_match(s, j, fields[at].ty, d)?;
                let bit = 1u64 << at;
                seen |= bit;
                if m {
                    bad &= !bit;
                } else {
                    bad |= bit;
                }
                Ok(end)
            })?;
            let ok = bad == 0
                && fields
                    .iter()
                    .enumerate()
                    .all(|(at, f)| seen & (1u64 << at) != 0 || matches!(f.ty, Type::Opt(_)));
            Ok((end, ok))
        }
        Type::Object { .. } if first == b'{' => {
            let end = json::scan_value(b, i, depth)?;
            Ok((end, check(ty, &s[i..end]).is_ok()))
        }
        // An array or object type, and a value of another kind.
        Type::Array(_) | Type::Object { .. } => Ok((json::scan_value(b, i, depth)?, false)),
    }
}

/// A mismatch: where (built only when there is one) and why.
struct Failure {
    path: Vec<Segment>,
    reason: String,
}

enum Segment {
    Field(&'static str),
    Index(usize),
}

fn fail<T>(reason: String) -> Result<T, Failure> {
    Err(Failure {
        path: Vec::new(),
        reason,
    })
}

fn check(ty: &Type, raw: &str) -> Result<(), Failure> {
    let kind = Kind::of(raw);
    let expect = |want: &str| fail([": expected ", want, ", got ", kind.name()].concat());
    match ty {
        Type::Any => Ok(()),
        Type::Str if kind == Kind::String => Ok(()),
        Type::Str => expect("string"),
        Type::Num if kind == Kind::Number => Ok(()),
        Type::Num => expect("number"),
        Type::Bool if kind == Kind::Bool => Ok(()),
        Type::Bool => expect("boolean"),
        Type::Opt(_) if kind == Kind::Null => Ok(()),
        Type::Opt(inner) => check(inner, raw),
        Type::OneOf { .. } if kind != Kind::String => expect("string"),
        Type::OneOf { values, .. } => {
            if values.iter().any(|v| json::key_is(raw, v)) {
                Ok(())
            } else {
                let s = json::unquote(raw).unwrap_or_default();
                fail([": \"", &s, "\" is not one of ", &values.join(", ")].concat())
            }
        }
        Type::Array(inner) => {
            let Ok(items) = json::array_elements(raw) else {
                return expect("array");
            };
            for (i, item) in items.iter().enumerate() {
                check(inner, item).map_err(|mut f| {
                    f.path.push(Segment::Index(i));
                    f
                })?;
            }
            Ok(())
        }
        Type::Object { fields, .. } => {
            let Ok(entries) = json::object_entries_raw(raw) else {
                return expect("object");
            };
            for f in fields.iter() {
                let found = entries.iter().rev().find(|(k, _)| json::key_is(k, f.name));
                let result = match found {
                    Some((_, v)) => check(f.ty, v),
                    None if matches!(f.ty, Type::Opt(_)) => Ok(()),
                    None => fail(" is missing".to_owned()),
                };
                result.map_err(|mut e| {
                    e.path.push(Segment::Field(f.name));
                    e
                })?;
            }
            Ok(())
        }
    }
}

/// The TypeScript for a type used in a field (named types by name).
pub fn ts_ref(ty: &Type) -> String {
    match ty {
        Type::Str => "string".into(),
        Type::Num => "number".into(),
        Type::Bool => "boolean".into(),
        Type::Any => "unknown".into(),
        Type::Opt(inner) => format!("{} | null", ts_ref(inner)),
        Type::Array(inner) => match inner {
            Type::Opt(_) => format!("({})[]", ts_ref(inner)),
            _ => format!("{}[]", ts_ref(inner)),
        },
        Type::Object { name, .. } | Type::OneOf { name, .. } => (*name).into(),
    }
}

/// The TypeScript declaration of a named type (`export interface ...` / `export type ...`),
/// with `doc` as its TSDoc.
pub fn ts_decl(ty: &Type, doc: &str) -> Option<String> {
    let mut out = String::new();
    if !doc.is_empty() {
        out.push_str(&format!("/** {} */\n", doc.trim()));
    }
    match ty {
        Type::Object { name, fields } => {
            out.push_str(&format!("export interface {name} {{\n"));
            for f in fields.iter() {
                if !f.doc.is_empty() {
                    out.push_str(&format!("  /** {} */\n", f.doc.trim()));
                }
                let opt = if matches!(f.ty, Type::Opt(_)) {
                    "?"
                } else {
                    ""
                };
                out.push_str(&format!("  {}{opt}: {};\n", f.name, ts_ref(f.ty)));
            }
            out.push_str("}\n");
        }
        Type::OneOf { name, values } => {
            let vals: Vec<String> = values.iter().map(|v| json::quote(v)).collect();
            out.push_str(&format!("export type {name} = {};\n", vals.join(" | ")));
        }
        _ => return None,
    }
    Some(out)
}

/// Named types reachable from `ty`, depth first, each once (by name), nested ones first.
pub fn named_types(ty: &'static Type, seen: &mut Vec<&'static str>, out: &mut Vec<&'static Type>) {
    match ty {
        Type::Opt(inner) | Type::Array(inner) => named_types(inner, seen, out),
        Type::Object { name, fields } => {
            if seen.contains(name) {
                return;
            }
            seen.push(name);
            for f in fields.iter() {
                named_types(f.ty, seen, out);
            }
            out.push(ty);
        }
        Type::OneOf { name, .. } if !seen.contains(name) => {
            seen.push(name);
            out.push(ty);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static STATUS: Type = Type::OneOf {
        name: "Status",
        values: &["a", "b"],
    };
    static POINT: Type = Type::Object {
        name: "Point",
        fields: &[
            Field {
                name: "lat",
                ty: &Type::Num,
                doc: "",
            },
            Field {
                name: "label",
                ty: &Type::Opt(&Type::Str),
                doc: "",
            },
        ],
    };
    static THING: Type = Type::Object {
        name: "Thing",
        fields: &[
            Field {
                name: "id",
                ty: &Type::Str,
                doc: "The id.",
            },
            Field {
                name: "status",
                ty: &STATUS,
                doc: "",
            },
            Field {
                name: "points",
                ty: &Type::Array(&POINT),
                doc: "",
            },
            Field {
                name: "extra",
                ty: &Type::Opt(&Type::Bool),
                doc: "",
            },
        ],
    };

    /// Values made from a schema: each part valid most of the time, else a near miss (another
    /// kind, a field left out or repeated, its key escaped, the fields in another order), so
    /// that both outcomes are common.
    #[cfg(not(target_arch = "wasm32"))]
    fn near(ty: &'static Type) -> proptest::strategy::BoxedStrategy<String> {
        use proptest::prelude::*;
        let pick = |good: &'static str, bad: &'static str| {
            prop_oneof![4 => Just(good.to_owned()), 1 => Just(bad.to_owned())].boxed()
        };
        match ty {
            Type::Str => pick(r#""\u00e9a""#, "1"),
            Type::Num => pick("-1.5e3", r#""1""#),
            Type::Bool => pick("true", "null"),
            Type::Any => Just("null".to_owned()).boxed(),
            Type::Opt(inner) => prop_oneof![1 => Just("null".to_owned()), 3 => near(inner)].boxed(),
            Type::OneOf { values, .. } => pick(
                Box::leak(crate::core::json::quote(values[0]).into_boxed_str()),
                r#""zzz""#,
            ),
            Type::Array(inner) => proptest::collection::vec(near(inner), 0..3)
                .prop_map(|v| ["[", &v.join(" , "), "]"].concat())
                .boxed(),
            Type::Object { fields, .. } => {
                let entries: Vec<_> = fields
                    .iter()
                    .map(|f| {
                        let key = f.name;
                        (0u8..10, near(f.ty), near(f.ty)).prop_map(move |(how, v, again)| {
                            let escaped =
                                ["\\u00", &format!("{:02x}", key.as_bytes()[0]), &key[1..]]
                                    .concat();
                            match how {
                                0 => String::new(),                        // left out
                                1 => format!(r#""{key}":[],"{key}":{v}"#), // repeated: the last counts
                                2 => format!(r#""{key}":{v},"{key}":{{}}"#),
                                3 => format!(r#""{escaped}":{v}"#),
                                _ => format!(r#""{key}" : {v},"other":{again}"#),
                            }
                        })
                    })
                    .collect();
                (entries, any::<bool>())
                    .prop_map(|(mut parts, reverse)| {
                        parts.retain(|p| !p.is_empty());
                        if reverse {
                            parts.reverse();
                        }
                        ["{", &parts.join(","), "}"].concat()
                    })
                    .boxed()
            }
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// The one-pass check and the one that explains decide alike on every value.
        #[test]
        fn the_fast_and_the_explaining_pass_agree(raw in near(&THING)) {
            let fast = scan_match(&raw, 0, &THING, 0).unwrap();
            proptest::prop_assert_eq!(fast.0, raw.len());
            proptest::prop_assert_eq!(fast.1, check(&THING, &raw).is_ok(), "{}", raw);
        }
    }

    /// The values above are matches and misses both, often enough to test either way.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn near_values_match_and_miss_alike_often() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = near(&THING);
        let matched = (0..2000)
            .filter(|_| {
                let raw = strategy.new_tree(&mut runner).unwrap().current();
                scan_match(&raw, 0, &THING, 0).unwrap().1
            })
            .count();
        assert!((200..1800).contains(&matched), "{matched} of 2000 matched");
    }

    #[test]
    fn validation_table() {
        let ok = [
            r#"{"id":"1","status":"a","points":[]}"#,
            r#"{"id":"1","status":"b","points":[{"lat":1.5}],"extra":null,"unknown":1}"#,
            r#"{"id":"1","status":"b","points":[{"lat":1,"label":"x"}],"extra":true}"#,
        ];
        for raw in ok {
            assert_eq!(validate(&THING, raw), Ok(()), "{raw}");
        }
        let bad = [
            (r#"{"status":"a","points":[]}"#, "field `id` is missing"),
            (
                r#"{"id":1,"status":"a","points":[]}"#,
                "field `id`: expected string, got number",
            ),
            (
                r#"{"id":"1","status":"c","points":[]}"#,
                "field `status`: \"c\" is not one of a, b",
            ),
            (
                r#"{"id":"1","status":"a","points":[{"lat":"x"}]}"#,
                "field `points[0].lat`: expected number, got string",
            ),
            (
                r#"{"id":"1","status":"a","points":{}}"#,
                "field `points`: expected array, got object",
            ),
            (r#"[1]"#, "payload: expected object, got array"),
        ];
        for (raw, why) in bad {
            assert_eq!(validate(&THING, raw), Err(why.to_owned()), "{raw}");
        }
        // The fast path decides as the slow one does, repeated keys included (the last wins).
        let repeated = [
            (r#"{"id":1,"id":"1","status":"a","points":[]}"#, true),
            (r#"{"id":"1","id":1,"status":"a","points":[]}"#, false),
        ];
        for (raw, valid) in ok
            .iter()
            .map(|r| (*r, true))
            .chain(bad.iter().map(|(r, _)| (*r, false)))
            .chain(repeated)
        {
            assert_eq!(
                scan_match(raw, 0, &THING, 0),
                Ok((raw.len(), valid)),
                "fast path: {raw}"
            );
            assert_eq!(check(&THING, raw).is_ok(), valid, "slow path: {raw}");
        }
    }

    #[test]
    fn typescript_declarations() {
        let mut seen = Vec::new();
        let mut types = Vec::new();
        named_types(&THING, &mut seen, &mut types);
        let names: Vec<String> = types.iter().map(|t| ts_ref(t)).collect();
        assert_eq!(names, ["Status", "Point", "Thing"]);
        let decl = ts_decl(&THING, "A thing.").unwrap();
        assert!(decl.contains("/** A thing. */\nexport interface Thing {"));
        assert!(decl.contains("  /** The id. */\n  id: string;"));
        assert!(decl.contains("  points: Point[];"));
        assert!(decl.contains("  extra?: boolean | null;"));
        assert_eq!(
            ts_decl(&STATUS, "").unwrap(),
            "export type Status = \"a\" | \"b\";\n"
        );
    }

    #[test]
    fn generic_schemas_compose() {
        assert!(matches!(
            <Option<Vec<String>> as Schema>::TYPE,
            Type::Opt(Type::Array(Type::Str))
        ));
    }
}
