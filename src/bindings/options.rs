//! Reads the JS options object into the driver's [`Options`], with a typed error naming the
//! option for anything of the wrong type.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use super::to_js;
use crate::core::error::{Error, ErrorCode};
#[cfg(feature = "outbox")]
use crate::core::outbox::Overflow;
use crate::core::protocol::Protocol;
#[cfg(feature = "cache")]
use crate::driver::cache::{CacheOptions, PersistOptions};
#[cfg(feature = "outbox")]
use crate::driver::outbox::OutboxOptions;
use crate::driver::Options;

fn bad(name: &str, want: &str) -> JsValue {
    to_js(&Error::new(
        ErrorCode::InvalidArgument,
        ["option `", name, "` must be ", want].concat(),
    ))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn string(obj: &JsValue, key: &str, name: &str) -> Result<Option<String>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| bad(name, "a string"))
}

fn number(obj: &JsValue, key: &str, name: &str) -> Result<Option<f64>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n >= 0.0 && !n.is_nan() => Ok(Some(n)),
        _ => Err(bad(name, "a non-negative number")),
    }
}

fn ms(obj: &JsValue, key: &str, name: &str, into: &mut u64) -> Result<(), JsValue> {
    if let Some(n) = number(obj, key, name)? {
        *into = n.min(u64::MAX as f64) as u64;
    }
    Ok(())
}

/// Parses `connect()` options. Returns the options and the raw `auth` value.
pub fn parse(o: &JsValue) -> Result<(Options, JsValue), JsValue> {
    if !o.is_object() {
        return Err(bad("options", "an object with at least `url`"));
    }
    let url = string(o, "url", "url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| bad("url", "a non-empty string"))?;
    let mut opts = Options::new(url);
    let cfg = &mut opts.config;
    let path = string(o, "path", "path")?.unwrap_or_else(|| "/socket.io/".into());
    let namespace = string(o, "namespace", "namespace")?.unwrap_or_else(|| "/".into());
    if !namespace.starts_with('/') {
        return Err(bad("namespace", "a string starting with '/'"));
    }
    cfg.protocol = match string(o, "protocol", "protocol")?.as_deref() {
        None | Some("socket.io") => Protocol::SocketIo { path, namespace },
        Some("json") => Protocol::Json,
        Some(_) => return Err(bad("protocol", "\"socket.io\" or \"json\"")),
    };
    ms(o, "ackTimeoutMs", "ackTimeoutMs", &mut cfg.ack_timeout_ms)?;
    ms(
        o,
        "connectTimeoutMs",
        "connectTimeoutMs",
        &mut cfg.connect_timeout_ms,
    )?;
    ms(
        o,
        "pingIntervalMs",
        "pingIntervalMs",
        &mut cfg.ping_interval_ms,
    )?;
    ms(
        o,
        "pingTimeoutMs",
        "pingTimeoutMs",
        &mut cfg.ping_timeout_ms,
    )?;
    if let Some(n) = number(o, "maxFrameBytes", "maxFrameBytes")? {
        cfg.max_frame_bytes = n.min(usize::MAX as f64) as usize;
    }
    let r = get(o, "reconnect");
    if !r.is_undefined() {
        let b = &mut cfg.backoff;
        ms(
            &r,
            "initialDelayMs",
            "reconnect.initialDelayMs",
            &mut b.initial_delay_ms,
        )?;
        ms(
            &r,
            "maxDelayMs",
            "reconnect.maxDelayMs",
            &mut b.max_delay_ms,
        )?;
        if let Some(f) = number(&r, "factor", "reconnect.factor")? {
            b.factor = f;
        }
        if let Some(j) = number(&r, "jitter", "reconnect.jitter")? {
            b.jitter = j.min(1.0);
        }
        if let Some(m) = number(&r, "maxAttempts", "reconnect.maxAttempts")? {
            b.max_attempts = m.is_finite().then_some(m as u32);
        }
    }
    let v = get(o, "validate");
    if !v.is_undefined() {
        opts.validate = v.as_bool().ok_or_else(|| bad("validate", "a boolean"))?;
    }
    Ok((opts, get(o, "auth")))
}

/// In a build without the outbox or the cache (`wiresync/events`), asking for one is an
/// `INVALID_ARGUMENT` that says where it is, not an option silently ignored.
pub fn refuse_absent_features(o: &JsValue) -> Result<(), JsValue> {
    let absent: &[&str] = &[
        #[cfg(not(feature = "outbox"))]
        "outbox",
        #[cfg(not(feature = "cache"))]
        "cache",
    ];
    for key in absent {
        let v = get(o, key);
        if !(v.is_undefined() || v == JsValue::FALSE) {
            return Err(to_js(&Error::new(
                ErrorCode::InvalidArgument,
                [
                    "option `",
                    key,
                    "`: this build has no ",
                    key,
                    " (wiresync/events); import \"wiresync\" for it",
                ]
                .concat(),
            )));
        }
    }
    Ok(())
}

/// Parses the `outbox` option (`false` disables the outbox). Returns the options and the raw
/// `requestHeaders` function, if any.
#[cfg(feature = "outbox")]
pub fn parse_outbox(o: &JsValue) -> Result<Option<(OutboxOptions, JsValue)>, JsValue> {
    let v = get(o, "outbox");
    if v == JsValue::FALSE {
        return Ok(None);
    }
    let mut opts = OutboxOptions::default();
    if v.is_undefined() {
        return Ok(Some((opts, JsValue::UNDEFINED)));
    }
    if !v.is_object() {
        return Err(bad("outbox", "an object or false"));
    }
    if let Some(name) = string(&v, "name", "outbox.name")? {
        opts.name = name;
    }
    if let Some(identity) = string(&v, "identity", "outbox.identity")? {
        opts.identity = identity;
    }
    if let Some(field) = string(&v, "idField", "outbox.idField")? {
        opts.id_field = field;
    }
    let c = &mut opts.config;
    if let Some(n) = number(&v, "capacity", "outbox.capacity")? {
        c.capacity = n.max(1.0) as usize;
    }
    c.overflow = match string(&v, "overflow", "outbox.overflow")?.as_deref() {
        None | Some("drop-oldest") => Overflow::DropOldest,
        Some("reject") => Overflow::Reject,
        Some(_) => return Err(bad("outbox.overflow", "\"drop-oldest\" or \"reject\"")),
    };
    ms(&v, "ttlMs", "outbox.ttlMs", &mut c.ttl_ms)?;
    if let Some(n) = number(&v, "maxRetries", "outbox.maxRetries")? {
        c.max_retries = n.min(u32::MAX as f64) as u32;
    }
    if let Some(n) = number(&v, "window", "outbox.window")? {
        c.window = n.max(1.0) as usize;
    }
    let r = get(&v, "retry");
    if !r.is_undefined() {
        ms(
            &r,
            "initialDelayMs",
            "outbox.retry.initialDelayMs",
            &mut c.retry.initial_delay_ms,
        )?;
        ms(
            &r,
            "maxDelayMs",
            "outbox.retry.maxDelayMs",
            &mut c.retry.max_delay_ms,
        )?;
    }
    Ok(Some((opts, get(&v, "requestHeaders"))))
}

/// Parses the `cache` option: `{ name, identity, persist, broadcast, gcTimeMs, retry }`, where
/// `persist` is `true` or `{ maxAgeMs, buster, debounceMs }`.
#[cfg(feature = "cache")]
pub fn parse_cache(o: &JsValue) -> Result<CacheOptions, JsValue> {
    let mut opts = CacheOptions::default();
    let v = get(o, "cache");
    if v.is_undefined() {
        return Ok(opts);
    }
    if !v.is_object() {
        return Err(bad("cache", "an object"));
    }
    if let Some(name) = string(&v, "name", "cache.name")? {
        opts.name = name;
    }
    if let Some(identity) = string(&v, "identity", "cache.identity")? {
        opts.identity = identity;
    }
    let b = get(&v, "broadcast");
    if !b.is_undefined() {
        opts.broadcast = b
            .as_bool()
            .ok_or_else(|| bad("cache.broadcast", "a boolean"))?;
    }
    let mut gc = 0;
    if !get(&v, "gcTimeMs").is_undefined() {
        ms(&v, "gcTimeMs", "cache.gcTimeMs", &mut gc)?;
        opts.gc_time_ms = Some(gc);
    }
    if let Some(n) = number(&v, "retry", "cache.retry")? {
        opts.retry = Some(n.min(u32::MAX as f64) as u32);
    }
    let p = get(&v, "persist");
    if p == JsValue::TRUE {
        opts.persist = Some(PersistOptions::default());
    } else if p.is_object() {
        let mut persist = PersistOptions::default();
        ms(
            &p,
            "maxAgeMs",
            "cache.persist.maxAgeMs",
            &mut persist.max_age_ms,
        )?;
        ms(
            &p,
            "debounceMs",
            "cache.persist.debounceMs",
            &mut persist.debounce_ms,
        )?;
        if let Some(buster) = string(&p, "buster", "cache.persist.buster")? {
            persist.buster = buster;
        }
        opts.persist = Some(persist);
    } else if !(p.is_undefined() || p == JsValue::FALSE) {
        return Err(bad("cache.persist", "a boolean or an object"));
    }
    Ok(opts)
}
