//! Reads JS options objects, every one the same way: keys that are not options are refused
//! with the nearest known name, and values of the wrong type get an `INVALID_ARGUMENT` naming
//! the option. `undefined` and `null` mean "not given" (the default). Durations are ms; a
//! non-negative number, where `Infinity` means never.

use std::cell::RefCell;

use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};

use super::to_js;
use crate::core::error::{Error, ErrorCode};
use crate::core::json_schema::compile;
#[cfg(feature = "outbox")]
use crate::core::outbox::Overflow;
use crate::core::protocol::Protocol;
use crate::core::schema::{Schemas, Type};
use crate::core::text::nearest;
use crate::core::transport::{check_transports, Transport};
#[cfg(feature = "cache")]
use crate::driver::cache::{CacheOptions, PersistOptions};
#[cfg(feature = "outbox")]
use crate::driver::outbox::OutboxOptions;
use crate::driver::{NextUrl, Options};
use crate::platform::glue;

fn invalid(message: String) -> JsValue {
    to_js(&Error::new(ErrorCode::InvalidArgument, message))
}

fn bad(name: &str, want: &str) -> JsValue {
    invalid(["option `", name, "` must be ", want].concat())
}

/// An options object whose keys were checked; its readers check each value's type.
pub struct Opts {
    obj: JsValue,
    path: &'static str,
}

impl Opts {
    /// `value` as the options at `path` (`""` for a call's own options argument). `undefined`
    /// and `null`: none given. Anything but a plain object, or a key not in `known`, is an
    /// `INVALID_ARGUMENT`.
    pub fn of(value: JsValue, path: &'static str, known: &[&str]) -> Result<Option<Opts>, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        if !value.is_object() || value.is_function() || Array::is_array(&value) {
            return Err(bad(
                if path.is_empty() { "options" } else { path },
                "an object",
            ));
        }
        for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.iter().any(|k| *k == key) {
                let mut m = String::from("unknown option `");
                m += &join(path, &key);
                m += "`";
                if let Some(near) = nearest(&key, known) {
                    m += " (did you mean `";
                    m += &join(path, near);
                    m += "`?)";
                }
                return Err(invalid(m));
            }
        }
        Ok(Some(Opts { obj: value, path }))
    }

    fn name(&self, key: &str) -> String {
        join(self.path, key)
    }

    #[cfg(feature = "cache")]
    /// The value of `key` as given (`undefined` when absent), for the one option where `null`
    /// is not "not given": a query key (`null` would select every query).
    pub fn raw(&self, key: &str) -> JsValue {
        glue::get(&self.obj, key)
    }

    /// The value of `key`, `None` when `undefined` or `null`.
    pub fn value(&self, key: &str) -> Option<JsValue> {
        let v = glue::get(&self.obj, key);
        (!(v.is_undefined() || v.is_null())).then_some(v)
    }

    /// The value of `key` if given; an `INVALID_ARGUMENT` saying it must be `want` unless
    /// `ok` accepts it. (One reader for every type: a generic one per type costs the wasm.)
    fn checked(
        &self,
        key: &str,
        want: &str,
        ok: fn(&JsValue) -> bool,
    ) -> Result<Option<JsValue>, JsValue> {
        match self.value(key) {
            Some(v) if !ok(&v) => Err(bad(&self.name(key), want)),
            v => Ok(v),
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        Ok(self
            .checked(key, "a string", JsValue::is_string)?
            .and_then(|v| v.as_string()))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, JsValue> {
        Ok(self
            .checked(key, "a boolean", |v| v.as_bool().is_some())?
            .map(|v| v.is_truthy()))
    }

    /// A number ≥ 0 (`Infinity` allowed).
    pub fn number(&self, key: &str) -> Result<Option<f64>, JsValue> {
        Ok(self
            .checked(key, "a number ≥ 0", non_negative)?
            .and_then(|v| v.as_f64()))
    }

    /// A duration in ms: a number ≥ 0; `Infinity` is never (`u64::MAX`, which the core's
    /// saturating time arithmetic never reaches).
    pub fn ms(&self, key: &str) -> Result<Option<u64>, JsValue> {
        let v = self.checked(key, "a duration in ms ≥ 0 (Infinity: never)", non_negative)?;
        // `as` saturates: Infinity is u64::MAX.
        Ok(v.and_then(|v| v.as_f64()).map(|n| n as u64))
    }

    /// One of `choices`, as its index.
    pub fn choice(&self, key: &str, choices: &[&str]) -> Result<Option<usize>, JsValue> {
        let Some(s) = self.value(key) else {
            return Ok(None);
        };
        if let Some(i) = s
            .as_string()
            .and_then(|s| choices.iter().position(|c| *c == s))
        {
            return Ok(Some(i));
        }
        let mut want = String::from("one of");
        for c in choices {
            want.push_str(if want.len() > 6 { ", \"" } else { " \"" });
            want.push_str(c);
            want.push('"');
        }
        Err(bad(&self.name(key), &want))
    }

    #[cfg(any(feature = "outbox", feature = "cache"))]
    pub fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        Ok(self
            .checked(key, "a function", JsValue::is_function)?
            .map(JsCast::unchecked_into))
    }

    /// The nested options object at `key` (its path must be `self.path` + `.` + `key`).
    pub fn object(
        &self,
        key: &str,
        path: &'static str,
        known: &[&str],
    ) -> Result<Option<Opts>, JsValue> {
        Opts::of(self.value(key).unwrap_or(JsValue::UNDEFINED), path, known)
    }
}

fn non_negative(v: &JsValue) -> bool {
    v.as_f64().is_some_and(|n| n >= 0.0)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        [path, ".", key].concat()
    }
}

const CONNECT: &[&str] = &[
    "url",
    "transports",
    "protocol",
    "path",
    "namespace",
    "auth",
    "reconnect",
    "ackTimeoutMs",
    "connectTimeoutMs",
    "maxFrameBytes",
    "pingIntervalMs",
    "pingTimeoutMs",
    "validate",
    "catalog",
    "schemas",
    "outbox",
    "cache",
    "shareAcrossTabs",
];

/// Parses `connect()` options. Returns them, the raw `auth` value, and the options object
/// for the outbox and cache parsers.
pub fn parse(o: JsValue) -> Result<(Options, JsValue, Opts), JsValue> {
    let o =
        Opts::of(o, "", CONNECT)?.ok_or_else(|| bad("options", "an object with at least `url`"))?;
    let (urls, next_url) = urls(&o)?;
    let mut urls = urls.into_iter();
    let mut opts = Options::new(urls.next().unwrap_or_default());
    opts.config.failover = urls.collect();
    opts.config.ask_url = next_url.is_some();
    opts.next_url = next_url;
    let cfg = &mut opts.config;
    let path = o.string("path")?.unwrap_or_else(|| "/socket.io/".into());
    let namespace = o.string("namespace")?.unwrap_or_else(|| "/".into());
    if !namespace.starts_with('/') {
        return Err(bad("namespace", "a string starting with '/'"));
    }
    cfg.protocol = match o.choice("protocol", &["socket.io", "json"])? {
        Some(1) => Protocol::Json,
        _ => Protocol::SocketIo { path, namespace },
    };
    if let Some(list) = o.value("transports") {
        let names: Option<Vec<Transport>> = Array::is_array(&list)
            .then(|| {
                let list: &Array = list.unchecked_ref();
                list.iter()
                    .map(|t| t.as_string().and_then(|t| Transport::parse(&t)))
                    .collect()
            })
            .flatten();
        let want = "a list of \"websocket\" and/or \"polling\", each at most once";
        let names = names.ok_or_else(|| bad("transports", want))?;
        check_transports(&names).map_err(|_| bad("transports", want))?;
        if cfg.protocol == Protocol::Json && names != [Transport::WebSocket] {
            return Err(bad("transports", "[\"websocket\"] with protocol \"json\""));
        }
        cfg.transports = names;
    }
    let set = |into: &mut u64, v: Option<u64>| *into = v.unwrap_or(*into);
    set(&mut cfg.ack_timeout_ms, o.ms("ackTimeoutMs")?);
    set(&mut cfg.connect_timeout_ms, o.ms("connectTimeoutMs")?);
    set(&mut cfg.ping_interval_ms, o.ms("pingIntervalMs")?);
    set(&mut cfg.ping_timeout_ms, o.ms("pingTimeoutMs")?);
    if let Some(n) = o.number("maxFrameBytes")? {
        cfg.max_frame_bytes = n as usize;
    }
    let known = &[
        "initialDelayMs",
        "maxDelayMs",
        "factor",
        "jitter",
        "maxAttempts",
    ];
    if let Some(r) = o.object("reconnect", "reconnect", known)? {
        let b = &mut cfg.backoff;
        set(&mut b.initial_delay_ms, r.ms("initialDelayMs")?);
        set(&mut b.max_delay_ms, r.ms("maxDelayMs")?);
        b.factor = r.number("factor")?.unwrap_or(b.factor);
        b.jitter = r.number("jitter")?.map_or(b.jitter, |j| j.min(1.0));
        if let Some(m) = r.number("maxAttempts")? {
            b.max_attempts = m.is_finite().then_some(m as u32);
        }
    }
    let catalog = o.bool("catalog")?.unwrap_or(true);
    if !catalog {
        opts.listen = Schemas::default();
        opts.emit = Schemas::default();
    }
    if let Some(s) = o.object("schemas", "schemas", &["listen", "emit"])? {
        declare(&s, "listen", &mut opts.listen)?;
        declare(&s, "emit", &mut opts.emit)?;
    }
    if o.bool("validate")? == Some(false) {
        opts = opts.without_validation();
    }
    if o.bool("shareAcrossTabs")? == Some(true) {
        // The identity is the outbox's (the session sets it), "" without one.
        opts.share = Some(String::new());
    }
    let auth = o.value("auth").unwrap_or(JsValue::UNDEFINED);
    Ok((opts, auth, o))
}

/// `url`: one server URL, a list of them (failover, in turn), or a function giving the URL of
/// each attempt from the last one's (called once here for the first, with `undefined`). Every
/// URL given here is checked (`INVALID_ARGUMENT`); the function's later answers are checked
/// by the core as each attempt starts.
/// What a `url` function that threw says.
fn thrown(e: &JsValue) -> String {
    let why = e
        .dyn_ref::<js_sys::Error>()
        .map_or_else(|| e.as_string().unwrap_or_default(), |e| e.message().into());
    ["the function threw: ", &why].concat()
}

fn urls(o: &Opts) -> Result<(Vec<String>, Option<NextUrl>), JsValue> {
    let want = "a server URL, a non-empty list of them, or a function returning one";
    let value = o.value("url").ok_or_else(|| bad("url", want))?;
    let (list, next): (Vec<JsValue>, Option<NextUrl>) = if let Some(f) = value.dyn_ref::<Function>()
    {
        let first = f
            .call1(&JsValue::NULL, &JsValue::UNDEFINED)
            .map_err(|e| invalid(["option `url`: ", &thrown(&e)].concat()))?;
        let f = f.clone();
        let next = move |last: &str| match f.call1(&JsValue::NULL, &last.into()) {
            Ok(u) => Ok(u.as_string().unwrap_or_default()),
            Err(e) => Err(thrown(&e)),
        };
        (vec![first], Some(std::rc::Rc::new(next)))
    } else if Array::is_array(&value) {
        (value.unchecked_into::<Array>().iter().collect(), None)
    } else {
        (vec![value], None)
    };
    if list.is_empty() {
        return Err(bad("url", want));
    }
    let mut urls = Vec::with_capacity(list.len());
    for v in list {
        let url = v.as_string().ok_or_else(|| bad("url", want))?;
        crate::core::protocol::check_url(&url)
            .map_err(|e| invalid(["option `url`: ", &e.message].concat()))?;
        urls.push(url);
    }
    Ok((urls, next))
}

thread_local! {
    /// Schemas compiled so far, by their JSON text: a client made again with the same schemas
    /// (a remount, a reconnect with new options) compiles nothing and leaks nothing new.
    static COMPILED: RefCell<Vec<(String, &'static Type)>> = const { RefCell::new(Vec::new()) };
}

/// Declares the app's schemas of one direction (`schemas.listen` / `schemas.emit`): each JSON
/// Schema is compiled here. (A Standard Schema validator runs in JS: events-client.js hands it
/// over as `true`, which sets the catalog's type for that name aside and checks nothing here.)
fn declare(o: &Opts, dir: &'static str, into: &mut Schemas) -> Result<(), JsValue> {
    let Some(map) = o.value(dir) else {
        return Ok(());
    };
    let path = join("schemas", dir);
    if !map.is_object() || Array::is_array(&map) {
        return Err(bad(&path, "an object: event name → schema"));
    }
    for name in Object::keys(map.unchecked_ref::<Object>()).iter() {
        let name = name.as_string().unwrap_or_default();
        let schema = glue::get(&map, &name);
        let at = || [&path, "[", &crate::core::json::quote(&name), "]"].concat();
        let text = (schema.is_object() || schema.as_bool().is_some())
            .then(|| js_sys::JSON::stringify(&schema).ok())
            .flatten()
            .and_then(|t| t.as_string())
            .ok_or_else(|| {
                bad(
                    &at(),
                    "a JSON Schema object, a boolean or a Standard Schema",
                )
            })?;
        let known = COMPILED.with(|c| c.borrow().iter().find(|(t, _)| *t == text).map(|e| e.1));
        let ty = match known {
            Some(ty) => ty,
            None => {
                let ty = compile(&text)
                    .map_err(|why| invalid(["option `", &at(), "`: ", &why].concat()))?;
                COMPILED.with(|c| c.borrow_mut().push((text, ty)));
                ty
            }
        };
        into.declare(&name, Some(ty));
    }
    Ok(())
}

/// In a build without the outbox, the cache or tab sharing (`wiresync/events`; `wiresync`
/// without sharing), asking for one is an `INVALID_ARGUMENT` that says which entry has it, not
/// an option silently ignored.
pub fn refuse_absent_features(o: &Opts) -> Result<(), JsValue> {
    let absent: &[(&str, &str)] = &[
        #[cfg(not(feature = "outbox"))]
        ("outbox", "\"wiresync\""),
        #[cfg(not(feature = "cache"))]
        ("cache", "\"wiresync\""),
        #[cfg(not(feature = "share"))]
        ("shareAcrossTabs", "\"wiresync/shared\""),
    ];
    for (key, entry) in absent {
        if o.value(key).is_some_and(|v| v != JsValue::FALSE) {
            return Err(invalid(
                [
                    "option `",
                    key,
                    "`: this entry has no ",
                    key,
                    "; import ",
                    entry,
                    " for it",
                ]
                .concat(),
            ));
        }
    }
    Ok(())
}

/// Parses the `outbox` option (`false` disables the outbox). Returns the options and the
/// `requestHeaders` function, if any.
#[cfg(feature = "outbox")]
pub fn parse_outbox(o: &Opts) -> Result<Option<(OutboxOptions, Option<Function>)>, JsValue> {
    match o.value("outbox") {
        Some(v) if v == JsValue::FALSE => return Ok(None),
        Some(v) if v.as_bool().is_some() => return Err(bad("outbox", "an object or false")),
        _ => {}
    }
    let mut opts = OutboxOptions::default();
    let known = &[
        "name",
        "identity",
        "capacity",
        "overflow",
        "ttlMs",
        "maxRetries",
        "window",
        "retry",
        "idField",
        "requestHeaders",
    ];
    let Some(v) = o.object("outbox", "outbox", known)? else {
        return Ok(Some((opts, None)));
    };
    opts.name = v.string("name")?.unwrap_or(opts.name);
    opts.identity = v.string("identity")?.unwrap_or(opts.identity);
    opts.id_field = v.string("idField")?.unwrap_or(opts.id_field);
    let c = &mut opts.config;
    if let Some(n) = v.number("capacity")? {
        c.capacity = n.max(1.0) as usize;
    }
    if let Some(i) = v.choice("overflow", &["drop-oldest", "reject"])? {
        c.overflow = if i == 0 {
            Overflow::DropOldest
        } else {
            Overflow::Reject
        };
    }
    c.ttl_ms = v.ms("ttlMs")?.unwrap_or(c.ttl_ms);
    if let Some(n) = v.number("maxRetries")? {
        c.max_retries = n as u32;
    }
    if let Some(n) = v.number("window")? {
        c.window = n.max(1.0) as usize;
    }
    if let Some(r) = v.object("retry", "outbox.retry", &["initialDelayMs", "maxDelayMs"])? {
        c.retry.initial_delay_ms = r.ms("initialDelayMs")?.unwrap_or(c.retry.initial_delay_ms);
        c.retry.max_delay_ms = r.ms("maxDelayMs")?.unwrap_or(c.retry.max_delay_ms);
    }
    Ok(Some((opts, v.function("requestHeaders")?)))
}

/// Parses the `cache` option: `{ name, identity, persist, broadcast, gcTimeMs, retry }`, where
/// `persist` is `true` or `{ maxAgeMs, buster, debounceMs }`.
#[cfg(feature = "cache")]
pub fn parse_cache(o: &Opts) -> Result<CacheOptions, JsValue> {
    let mut opts = CacheOptions::default();
    let known = &[
        "name",
        "identity",
        "persist",
        "broadcast",
        "gcTimeMs",
        "retry",
    ];
    let Some(v) = o.object("cache", "cache", known)? else {
        return Ok(opts);
    };
    opts.name = v.string("name")?.unwrap_or(opts.name);
    opts.identity = v.string("identity")?.unwrap_or(opts.identity);
    opts.broadcast = v.bool("broadcast")?.unwrap_or(opts.broadcast);
    opts.gc_time_ms = v.ms("gcTimeMs")?;
    if let Some(n) = v.number("retry")? {
        opts.retry = Some(n as u32);
    }
    match v.value("persist") {
        None => {}
        Some(p) if p.as_bool().is_some() => {
            opts.persist = (p == JsValue::TRUE).then(PersistOptions::default);
        }
        Some(p) if !p.is_object() || p.is_function() || Array::is_array(&p) => {
            return Err(bad("cache.persist", "a boolean or an object"));
        }
        Some(_) => {
            let known = &["maxAgeMs", "buster", "debounceMs"];
            let mut persist = PersistOptions::default();
            if let Some(p) = v.object("persist", "cache.persist", known)? {
                persist.max_age_ms = p.ms("maxAgeMs")?.unwrap_or(persist.max_age_ms);
                persist.debounce_ms = p.ms("debounceMs")?.unwrap_or(persist.debounce_ms);
                persist.buster = p.string("buster")?.unwrap_or(persist.buster);
            }
            opts.persist = Some(persist);
        }
    }
    Ok(opts)
}
