//! The JavaScript API: the only module with `#[wasm_bindgen]`. It converts JS values to the
//! driver's Rust types and back; the friendly surface (`connect`, unsubscribe functions,
//! generics) is the thin `pkg-template/index.js` wrapper over these raw exports.

#[cfg(feature = "cache")]
mod cache;
mod error;
mod options;
#[cfg(feature = "outbox")]
mod outbox;

use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

use crate::core::connection::State;
use crate::core::error::{Error, ErrorCode};
use crate::driver::session::{Session, SessionOptions};
use crate::driver::{self, AckWaiter, Auth, Client};
use crate::platform::glue;
pub use error::to_js;
use options::Opts;

fn stringify(value: &JsValue, what: &str, event: Option<&str>) -> Result<String, JsValue> {
    stringify_both(value, what, event).map(|(text, _)| text)
}

/// [`stringify`], also giving the JSON text as the JS string `JSON.stringify` made.
fn stringify_both(
    value: &JsValue,
    what: &str,
    event: Option<&str>,
) -> Result<(String, JsValue), JsValue> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|js| {
            // `undefined` (from a function or `undefined`) is not a string: not serializable.
            let js: js_sys::JsString = js.dyn_into().ok()?;
            Some((crate::platform::glue::string(&js), js.into()))
        })
        .ok_or_else(|| {
            let mut e = Error::new(
                ErrorCode::PayloadInvalid,
                [what, " is not JSON-serializable"].concat(),
            );
            e.event = event.map(str::to_owned);
            to_js(&e)
        })
}

/// Arguments to send as JSON text, and their binary parts (ArrayBuffers, typed arrays, Blobs)
/// taken out and left as placeholders, if they have any.
fn outgoing(
    args: &Array,
    what: &str,
    event: Option<&str>,
) -> Result<(String, Option<Array>), JsValue> {
    let (args, parts) = split_binary(args.into());
    Ok((stringify(&args, what, event)?, parts))
}

/// `value` with its binary parts (ArrayBuffers, typed arrays, Blobs) taken out and left as
/// placeholders, and those parts; `value` itself and `None` when it has none.
fn split_binary(value: JsValue) -> (JsValue, Option<Array>) {
    let split = glue::binary_parts(&value);
    if split.is_undefined() {
        return (value, None);
    }
    let split: Array = split.unchecked_into();
    (split.get(0), Some(split.get(1).unchecked_into()))
}

/// Turns a JS auth value (object, function returning an object or a promise of one,
/// `undefined`) into the driver's [`Auth`].
fn auth_from_js(value: JsValue) -> Result<Auth, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Auth::None);
    }
    if let Some(f) = value.dyn_ref::<Function>() {
        let f = f.clone();
        return Ok(Auth::Provider(Rc::new(move || {
            let f = f.clone();
            Box::pin(async move {
                let mut v = f.call0(&JsValue::NULL).map_err(|e| error::describe(&e))?;
                if let Some(p) = v.dyn_ref::<Promise>() {
                    v = wasm_bindgen_futures::JsFuture::from(p.clone())
                        .await
                        .map_err(|e| error::describe(&e))?;
                }
                if v.is_undefined() || v.is_null() {
                    return Ok(None);
                }
                if !v.is_object() || Array::is_array(&v) {
                    return Err("the auth function must return an object".to_owned());
                }
                js_sys::JSON::stringify(&v)
                    .ok()
                    .and_then(|s| s.as_string())
                    .map(Some)
                    .ok_or("auth is not JSON".into())
            })
        })));
    }
    if value.is_object() && !Array::is_array(&value) {
        return Ok(Auth::Json(stringify(&value, "auth", None)?));
    }
    Err(to_js(&Error::new(
        ErrorCode::InvalidArgument,
        "auth must be an object or a function returning one",
    )))
}

fn state_to_js(s: &State) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| glue::set(&o, k, &v);
    set("status", s.status.as_str().into());
    set("attempt", s.attempt.into());
    set("error", s.error.as_ref().map_or(JsValue::NULL, to_js));
    set("recovered", s.recovered.into());
    set("resync", s.resync.into());
    set("url", s.url.as_str().into());
    set(
        "transport",
        s.transport.map_or(JsValue::NULL, |t| t.as_str().into()),
    );
    set(
        "shared",
        s.shared.map_or(JsValue::NULL, |sh| {
            let x = js_sys::Object::new();
            glue::set(&x, "leader", &sh.leader.into());
            glue::set(&x, "tabs", &sh.tabs.into());
            x.into()
        }),
    );
    o.into()
}

/// A promise and the waiter that settles it.
fn promise_waiter(pick_first: bool) -> (Promise, AckWaiter) {
    let mut slot: Option<(Function, Function)> = None;
    let promise = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
    let (resolve, reject) = slot.expect("Promise executors run synchronously");
    let waiter: AckWaiter = Box::new(move |result| {
        let _ = match result {
            Ok(args) => {
                let v = if pick_first {
                    Array::from(&args).get(0)
                } else {
                    args
                };
                resolve.call1(&JsValue::NULL, &v)
            }
            Err(e) => reject.call1(&JsValue::NULL, &to_js(&e)),
        };
    });
    (promise, waiter)
}

/// Reports a JS handler's throw as `HANDLER_ERROR`; the other handlers still run.
/// A JS listener (state, cache observer, watch hook) threw: `HANDLER_ERROR`.
fn listener_error(e: &JsValue) -> Error {
    Error::new(ErrorCode::HandlerError, error::describe(e))
}

fn handler_result(d: &driver::Delivery, result: Result<JsValue, JsValue>) {
    if let Err(e) = result {
        d.report(&Error::new(ErrorCode::HandlerError, error::describe(&e)).with_event(d.name));
    }
}

/// A JS `handler(args, ackId)` as a driver handler.
fn event_handler(handler: Function) -> impl Fn(&driver::Delivery) {
    move |d| handler_result(d, handler.call2(&JsValue::NULL, d.args, &ack_id(d.ack)))
}

/// Creates a client and starts connecting. Options are documented in the README and in
/// `index.d.ts` (`ConnectOptions`). Throws a `WiresyncError` (`INVALID_ARGUMENT`) for bad ones.
#[wasm_bindgen(js_name = connect)]
pub fn connect(options: JsValue) -> Result<RawClient, JsValue> {
    let (connect, auth, options) = options::parse(options)?;
    let opts = SessionOptions {
        connect: driver::Options {
            auth: auth_from_js(auth)?,
            ..connect
        },
        #[cfg(feature = "outbox")]
        outbox: options::parse_outbox(&options)?.map(|(mut o, headers)| {
            o.request_headers = headers.map(outbox::headers_from_js);
            o
        }),
        #[cfg(feature = "cache")]
        cache: options::parse_cache(&options)?,
    };
    options::refuse_absent_features(&options)?;
    let session = Session::open(opts);
    Ok(RawClient {
        client: session.client.clone(),
        session,
    })
}

impl std::fmt::Debug for RawClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClient").finish_non_exhaustive()
    }
}

/// The raw client behind the JS `Client` class: a driver [`Session`].
#[wasm_bindgen]
pub struct RawClient {
    session: Session,
    /// `session.client`, the handle most calls use.
    client: Client,
}

#[wasm_bindgen]
impl RawClient {
    /// `handler(args: unknown[], ackId?: number)` for every `event`; returns a handler id.
    pub fn on(&self, event: String, handler: Function) -> f64 {
        self.client.on_raw(&event, event_handler(handler)) as f64
    }

    /// Like `on`, once.
    pub fn once(&self, event: String, handler: Function) -> f64 {
        self.client.once_raw(&event, event_handler(handler)) as f64
    }

    /// `handler(event: string, args: unknown[], ackId?: number)` for every event.
    #[wasm_bindgen(js_name = onAny)]
    pub fn on_any(&self, handler: Function) -> f64 {
        self.client.on_any_raw(move |d| {
            handler_result(
                d,
                handler.call3(&JsValue::NULL, &d.name.into(), d.args, &ack_id(d.ack)),
            )
        }) as f64
    }

    /// Removes an event handler.
    pub fn off(&self, id: f64) {
        self.client.off(id as u64);
    }

    /// `listener(state)` on every state change; returns an id for `offState`.
    #[wasm_bindgen(js_name = onState)]
    pub fn on_state(&self, listener: Function) -> f64 {
        let report = self.client.reporter();
        self.client.on_state_raw(move |s| {
            if let Err(e) = listener.call1(&JsValue::NULL, &state_to_js(s)) {
                report(&listener_error(&e));
            }
        }) as f64
    }

    /// Removes a state listener.
    #[wasm_bindgen(js_name = offState)]
    pub fn off_state(&self, id: f64) {
        self.client.off_state(id as u64);
    }

    /// `listener(error: WiresyncError)`; returns an id for `offError`.
    #[wasm_bindgen(js_name = onError)]
    pub fn on_error(&self, listener: Function) -> f64 {
        self.client.on_error_raw(move |e| {
            let _ = listener.call1(&JsValue::NULL, &to_js(e));
        }) as f64
    }

    /// Removes an error listener.
    #[wasm_bindgen(js_name = offError)]
    pub fn off_error(&self, id: f64) {
        self.client.off_error(id as u64);
    }

    /// `{ status, attempt, error, recovered, resync, url, transport, shared }`.
    pub fn state(&self) -> JsValue {
        state_to_js(&self.client.state())
    }

    /// Emits `event` with `args` (an array). Throws `WiresyncError` on bad input.
    pub fn emit(&self, event: String, args: Array) -> Result<(), JsValue> {
        let (json, parts) = outgoing(&args, "payload", Some(&event))?;
        self.client
            .emit_json(&event, &json, parts.as_ref())
            .map_err(|e| to_js(&e))
    }

    /// Emits and resolves with the server's first ack argument; rejects with `ACK_TIMEOUT`.
    #[wasm_bindgen(js_name = emitWithAck)]
    pub fn emit_with_ack(&self, event: String, args: Array, options: JsValue) -> Promise {
        let (promise, waiter) = promise_waiter(true);
        let parsed = Opts::of(options, "", &["timeoutMs"])
            .and_then(|o| o.map_or(Ok(None), |o| o.ms("timeoutMs")))
            .and_then(|timeout| Ok((timeout, outgoing(&args, "payload", Some(&event))?)));
        let (timeout, (json, parts)) = match parsed {
            Ok(p) => p,
            Err(e) => return Promise::reject(&e),
        };
        match self
            .client
            .emit_with_ack_json(&event, &json, timeout, waiter, parts.as_ref())
        {
            Ok(()) => promise,
            Err(e) => Promise::reject(&to_js(&e)),
        }
    }

    /// Answers a server's ack request with `args` (an array).
    pub fn ack(&self, id: f64, args: Array) -> Result<(), JsValue> {
        let (json, parts) = outgoing(&args, "ack", None)?;
        self.client
            .ack_json(id as u64, &json, parts.as_ref())
            .map_err(|e| to_js(&e))
    }

    /// Joins a room; returns `{ id, ready }`.
    pub fn subscribe(
        &self,
        channel: String,
        params: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let ack = match Opts::of(options, "", &["ack"])? {
            Some(o) => o.bool("ack")?.unwrap_or(true),
            None => true,
        };
        let params = if params.is_undefined() {
            None
        } else {
            Some(stringify(&params, "params", Some(&channel))?)
        };
        let (promise, waiter) = promise_waiter(true);
        let id = self
            .client
            .subscribe_json(&channel, params.as_deref(), ack, waiter)
            .map_err(|e| to_js(&e))?;
        let o = js_sys::Object::new();
        glue::set(&o, "id", &(id as f64).into());
        glue::set(&o, "ready", &promise);
        Ok(o.into())
    }

    /// Leaves a room.
    pub fn unsubscribe(&self, id: f64) {
        self.client.unsubscribe(id as u64);
    }

    /// New credentials (object or function); reconnects with them. With `{ identity }`
    /// different from the outbox's, the outbox switches to that identity's own store first,
    /// so no entry is ever sent under another identity's credentials.
    #[wasm_bindgen(js_name = setAuth)]
    pub fn set_auth(&self, auth: JsValue, options: JsValue) -> Result<(), JsValue> {
        let identity = match Opts::of(options, "", &["identity"])? {
            Some(o) => o.string("identity")?,
            None => None,
        };
        let auth = auth_from_js(auth)?;
        self.session.set_auth(auth, identity.as_deref());
        Ok(())
    }

    /// For a Standard Schema validator (zod, valibot, arktype), which runs in JS: the
    /// `PAYLOAD_INVALID` error of its first issue (`path`: a JSON array of keys and indexes),
    /// worded as Rust's own checks word theirs. With `report`, the error listeners (or, with
    /// none, the console once per event) are told too, as for a dropped event.
    #[wasm_bindgen(js_name = payloadInvalid)]
    pub fn payload_invalid(
        &self,
        event: String,
        path: &str,
        message: &str,
        report: bool,
    ) -> JsValue {
        use crate::core::{
            json,
            schema::{describe, Segment},
        };
        let steps: Vec<Segment> = json::array_elements(path)
            .unwrap_or_default()
            .into_iter()
            .map(|s| match json::as_u64(s) {
                Some(i) => Segment::Index(i as usize),
                None => Segment::Field(json::unquote(s).unwrap_or_default().into()),
            })
            .collect();
        let e = Error::new(
            ErrorCode::PayloadInvalid,
            describe(&steps, &[": ", message].concat()),
        )
        .with_event(event);
        if report {
            self.client.report_error(&e);
        }
        to_js(&e)
    }

    /// For wiresync's own JS wrappers (`wiresync/react`, `wiresync/tanstack`), whose options
    /// are read in JS: checks `options` against the `known` keys as every option is checked
    /// (`INVALID_ARGUMENT` naming an unknown key and the nearest known one).
    /// `known` is comma-separated. (Only the full build's wrappers read options in JS.)
    #[cfg(feature = "cache")]
    #[wasm_bindgen(js_name = checkOptions)]
    pub fn check_options(&self, options: JsValue, known: &str) -> Result<(), JsValue> {
        let known: Vec<&str> = known.split(',').collect();
        Opts::of(options, "", &known).map(drop)
    }

    /// Reconnects now (the cache talks with other tabs again).
    pub fn reconnect(&self) {
        self.session.reconnect();
    }

    /// Closes for good: the connection, the cache's link to other tabs (its data stays
    /// readable) and the outbox's flushing role (its entries stay stored for whoever flushes).
    pub fn close(&self) {
        self.session.close();
    }
}

fn ack_id(ack: Option<u64>) -> JsValue {
    ack.map_or(JsValue::UNDEFINED, |id| (id as f64).into())
}
