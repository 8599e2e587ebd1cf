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
    /// An object with these fields.
    Object {
        /// The TypeScript interface name (empty in the wasm build, which generates no TypeScript).
        name: &'static str,
        /// Its fields.
        fields: &'static [Field],
        /// The type of every other field; `None`: others are allowed and ignored.
        extra: Option<&'static Type>,
    },
    /// One of these strings.
    OneOf {
        /// The TypeScript type name (empty in the wasm build, which generates no TypeScript).
        name: &'static str,
        /// The allowed values.
        values: &'static [&'static str],
    },
    // The rest serve apps' own schemas (see `json_schema`); the catalog needs none of them.
    /// `null`.
    Null,
    /// Nothing: a field that must not be there (`additionalProperties: false`).
    Never,
    /// `null` or the inner type; as an object field, required unless wrapped in `Optional`.
    Nullable(&'static Type),
    /// An object field that may be absent; when present, the inner type (`null` only if it
    /// allows it).
    Optional(&'static Type),
    /// A string of `min..=max` characters (Unicode scalar values).
    Text {
        /// Fewest characters.
        min: u32,
        /// Most characters.
        max: u32,
    },
    /// A number in `min..=max`, an integer if `int`.
    Number {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
        /// Only whole numbers.
        int: bool,
        /// The range as the schema wrote it (for errors), e.g. `"an integer ≥ 1"`.
        range: &'static str,
    },
    /// One of these JSON values (strings, numbers, booleans or null, as raw JSON).
    Values(&'static [&'static str]),
}

impl Type {
    /// Whether an object field of this type may be left out.
    pub fn may_be_absent(&self) -> bool {
        matches!(self, Type::Opt(_) | Type::Optional(_))
    }
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

/// The types that check one direction's payloads, by event name: the app's own first, then a
/// preset (the catalog) for names the app did not declare. Empty: nothing is checked.
#[derive(Clone, Default)]
pub struct Schemas {
    own: Vec<(String, Option<&'static Type>)>,
    preset: Option<fn(&str) -> Option<&'static Type>>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.own.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Schemas")
            .field("own", &names)
            .field("preset", &self.preset.is_some())
            .finish()
    }
}

impl Schemas {
    /// Only `preset` (e.g. [`crate::events::listen_schema`]); `None` for none.
    pub fn with_preset(preset: Option<fn(&str) -> Option<&'static Type>>) -> Schemas {
        Schemas {
            own: Vec::new(),
            preset,
        }
    }

    /// Declares `name`'s payload type, replacing the preset's and an earlier declaration.
    /// `None`: the payload is checked elsewhere (a JavaScript validator), not here.
    pub fn declare(&mut self, name: &str, ty: Option<&'static Type>) {
        self.own.retain(|(n, _)| n != name);
        self.own.push((name.to_owned(), ty));
    }

    /// The type that checks `name`'s payloads, if any.
    pub fn get(&self, name: &str) -> Option<&'static Type> {
        match self.own.iter().find(|(n, _)| n == name) {
            Some((_, ty)) => *ty,
            None => self.preset.and_then(|f| f(name)),
        }
    }

    /// Whether the app declared `name` itself (not the preset).
    pub fn declares(&self, name: &str) -> bool {
        self.own.iter().any(|(n, _)| n == name)
    }

    /// Checks `name`'s payload (raw JSON); `Ok` when no type checks it.
    pub fn validate(&self, name: &str, raw: &str) -> Result<(), String> {
        self.get(name).map_or(Ok(()), |ty| validate(ty, raw))
    }
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
        describe(&f.path, &f.reason)
    })
}

/// Where a payload failed and why, as errors say it: ``field `a.b[0]`: expected string, got
/// number``, or `payload: …` at the top. `reason` starts with `": "` or `" is …"`. (Also
/// for what JavaScript validators report, so that every mismatch reads the same.)
pub fn describe(path: &[Segment], reason: &str) -> String {
    let mut at = String::new();
    for seg in path {
        match seg {
            Segment::Field(name) => {
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(name);
            }
            Segment::Index(i) => {
                at.push('[');
                at.push_str(&super::text::int(*i as u64));
                at.push(']');
            }
        }
    }
    let at = if at.is_empty() {
        "payload".to_owned()
    } else {
        ["field `", &at, "`"].concat()
    };
    at + reason
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
        Type::Null => scan_kind(Kind::Null),
        Type::Opt(_) | Type::Nullable(_) if first == b'n' => scan_kind(Kind::Null),
        Type::Opt(inner) | Type::Nullable(inner) | Type::Optional(inner) => {
            scan_match(s, i, inner, depth)
        }
        Type::Never => Ok((json::scan_value(b, i, depth)?, false)),
        Type::OneOf { values, .. } => {
            let end = json::scan_value(b, i, depth)?;
            let raw = &s[i..end];
            Ok((
                end,
                first == b'"' && values.iter().any(|v| json::key_is(raw, v)),
            ))
        }
        Type::Text { .. } | Type::Number { .. } | Type::Values(_) => {
            let end = json::scan_value(b, i, depth)?;
            Ok((end, scalar_fault(ty, &s[i..end]).is_none()))
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
        Type::Object { fields, extra, .. } if first == b'{' && fields.len() <= 64 => {
            // Per field: seen at all, and whether its last occurrence failed.
            let (mut seen, mut bad) = (0u64, 0u64);
            let mut extra_ok = true;
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
                    return match extra {
                        None => json::scan_value(b, j, d),
                        Some(ty) => {
                            let (end, m) = scan_match(s, j, ty, d)?;
                            extra_ok &= m;
                            Ok(end)
                        }
                    };
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
                && extra_ok
                && fields
                    .iter()
                    .enumerate()
                    .all(|(at, f)| seen & (1u64 << at) != 0 || f.ty.may_be_absent());
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

/// Why a raw JSON value is not of a scalar type with bounds (`Text`, `Number`, `Values`);
/// `None` when it is (or `ty` is another type).
fn scalar_fault(ty: &Type, raw: &str) -> Option<String> {
    let kind = Kind::of(raw);
    let not = |want: &str| Some([": expected ", want, ", got ", kind.name()].concat());
    match ty {
        Type::Text { min, max } => {
            if kind != Kind::String {
                return not("string");
            }
            let n = json::unquote(raw).map_or(0, |t| t.chars().count()) as u64;
            let int = |n: u32| super::text::int(n as u64);
            if n < *min as u64 {
                Some([": shorter than ", &int(*min), " characters"].concat())
            } else if n > *max as u64 {
                Some([": longer than ", &int(*max), " characters"].concat())
            } else {
                None
            }
        }
        Type::Number {
            min,
            max,
            int,
            range,
        } => match json::number(raw) {
            Some(n) if n >= *min && n <= *max && (!int || (n.is_finite() && n.trunc() == n)) => {
                None
            }
            Some(_) => Some([": ", raw.trim(), " is not ", range].concat()),
            None => not(if *int { "integer" } else { "number" }),
        },
        Type::Values(values) => {
            if values.iter().any(|v| json::same_scalar(raw, v)) {
                None
            } else {
                Some([": ", raw.trim(), " is not one of ", &values.join(", ")].concat())
            }
        }
        _ => None,
    }
}

/// A mismatch: where (built only when there is one) and why.
struct Failure {
    path: Vec<Segment>,
    reason: String,
}

/// A step into a payload: an object's field or an array's index.
#[derive(Debug)]
pub enum Segment {
    /// An object field.
    Field(std::borrow::Cow<'static, str>),
    /// An array element.
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
        Type::Null if kind == Kind::Null => Ok(()),
        Type::Null => expect("null"),
        Type::Never => fail(" is not allowed".to_owned()),
        Type::Opt(_) | Type::Nullable(_) if kind == Kind::Null => Ok(()),
        Type::Opt(inner) | Type::Nullable(inner) | Type::Optional(inner) => check(inner, raw),
        Type::Text { .. } | Type::Number { .. } | Type::Values(_) => {
            scalar_fault(ty, raw).map_or(Ok(()), fail)
        }
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
        Type::Object { fields, extra, .. } => {
            let Ok(entries) = json::object_entries_raw(raw) else {
                return expect("object");
            };
            for f in fields.iter() {
                let found = entries.iter().rev().find(|(k, _)| json::key_is(k, f.name));
                let result = match found {
                    Some((_, v)) => check(f.ty, v),
                    None if f.ty.may_be_absent() => Ok(()),
                    None => fail(" is missing".to_owned()),
                };
                result.map_err(|mut e| {
                    e.path.push(Segment::Field(f.name.into()));
                    e
                })?;
            }
            if let Some(extra) = extra {
                for (k, v) in &entries {
                    if !fields.iter().any(|f| json::key_is(k, f.name)) {
                        check(extra, v).map_err(|mut e| {
                            e.path
                                .push(Segment::Field(json::unquote(k).unwrap_or_default().into()));
                            e
                        })?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// The TypeScript for a type used in a field (named types by name).
pub fn ts_ref(ty: &Type) -> String {
    match ty {
        Type::Str | Type::Text { .. } => "string".into(),
        Type::Num | Type::Number { .. } => "number".into(),
        Type::Bool => "boolean".into(),
        Type::Any => "unknown".into(),
        Type::Null => "null".into(),
        Type::Never => "never".into(),
        Type::Values(values) => values.join(" | "),
        Type::Optional(inner) => ts_ref(inner),
        Type::Opt(inner) | Type::Nullable(inner) => format!("{} | null", ts_ref(inner)),
        Type::Array(inner) => match inner {
            Type::Opt(_) | Type::Nullable(_) | Type::Values(_) => format!("({})[]", ts_ref(inner)),
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
        Type::Object { name, fields, .. } => {
            out.push_str(&format!("export interface {name} {{\n"));
            for f in fields.iter() {
                if !f.doc.is_empty() {
                    out.push_str(&format!("  /** {} */\n", f.doc.trim()));
                }
                let opt = if f.ty.may_be_absent() { "?" } else { "" };
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
        Type::Opt(inner) | Type::Array(inner) | Type::Nullable(inner) | Type::Optional(inner) => {
            named_types(inner, seen, out)
        }
        Type::Object { name, fields, .. } => {
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
        extra: None,
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
        extra: None,
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

    #[cfg(not(target_arch = "wasm32"))]
    static APP: Type = Type::Object {
        name: "",
        extra: Some(&Type::Number {
            min: 0.0,
            max: 10.0,
            int: true,
            range: "an integer ≥ 0 and ≤ 10",
        }),
        fields: &[
            Field {
                name: "text",
                ty: &Type::Text { min: 1, max: 3 },
                doc: "",
            },
            Field {
                name: "n",
                ty: &Type::Nullable(&Type::Number {
                    min: -3.0,
                    max: 100.0,
                    int: false,
                    range: "",
                }),
                doc: "",
            },
            Field {
                name: "v",
                ty: &Type::Optional(&Type::Values(&["1", "null", "\"x\""])),
                doc: "",
            },
            Field {
                name: "gone",
                ty: &Type::Optional(&Type::Never),
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
            Type::Any | Type::Null => Just("null".to_owned()).boxed(),
            Type::Never => Just("1".to_owned()).boxed(),
            Type::Opt(inner) | Type::Nullable(inner) => {
                prop_oneof![1 => Just("null".to_owned()), 3 => near(inner)].boxed()
            }
            Type::Optional(inner) => near(inner),
            Type::Text { .. } => {
                proptest::sample::select(vec![r#""""#, r#""ab""#, r#""\u00e9bcde""#, "1"])
                    .prop_map(str::to_owned)
                    .boxed()
            }
            Type::Number { .. } => {
                proptest::sample::select(vec!["0", "1.5", "-3", "1e2", "100.0", r#""1""#])
                    .prop_map(str::to_owned)
                    .boxed()
            }
            Type::Values(values) => {
                let mut v: Vec<&'static str> = values.to_vec();
                v.extend(["2", r#""zzz""#]);
                proptest::sample::select(v).prop_map(str::to_owned).boxed()
            }
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

        /// The same for the types only apps' own schemas use.
        #[test]
        fn they_agree_on_app_schema_types_too(raw in near(&APP)) {
            let fast = scan_match(&raw, 0, &APP, 0).unwrap();
            proptest::prop_assert_eq!(fast.0, raw.len());
            proptest::prop_assert_eq!(fast.1, check(&APP, &raw).is_ok(), "{}", raw);
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
