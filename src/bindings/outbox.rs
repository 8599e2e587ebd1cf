//! The `client.outbox` half of the JS API (raw methods on `RawClient`; the friendly `Outbox`
//! class is in `pkg-template/client.js`).

use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::{split_binary, stringify, stringify_both, to_js, Opts, RawClient};
use crate::core::error::{Error, ErrorCode};
use crate::core::outbox::{Entry, EntryState};
use crate::driver::outbox::{HeaderSource, Outbox, OutboxEvent};
use crate::platform::{glue, idb};

/// `requestHeaders: () => headers | Promise<headers>` as the driver's header source.
pub fn headers_from_js(f: Function) -> HeaderSource {
    Rc::new(move || {
        let f = f.clone();
        Box::pin(async move {
            let mut v = f.call0(&JsValue::NULL).unwrap_or(JsValue::UNDEFINED);
            if let Some(p) = v.dyn_ref::<Promise>() {
                v = wasm_bindgen_futures::JsFuture::from(p.clone())
                    .await
                    .unwrap_or(JsValue::UNDEFINED);
            }
            header_pairs(&v)
        })
    })
}

fn header_pairs(v: &JsValue) -> Vec<(String, String)> {
    if !v.is_object() {
        return Vec::new();
    }
    Object::entries(&Object::from(v.clone()))
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

fn set(o: &JsValue, k: &str, v: JsValue) {
    glue::set(o, k, &v);
}

/// What `list()` shows of an entry: the stored record with its payload parsed, and its binary
/// `parts` (when given) back where their placeholders are.
fn entry_view(e: &Entry, parts: Option<Array>) -> JsValue {
    let r = idb::to_record(e, None, None);
    if let Some(p) = glue::get(&r, "payload").as_string() {
        let payload = js_sys::JSON::parse(&p).unwrap_or(JsValue::NULL);
        if let Some(parts) = parts {
            glue::fill_placeholders(&Array::of1(&payload), &parts);
        }
        set(&r, "payload", payload);
    }
    r
}

fn settle_with_id(resolve: Function, reject: Function) -> Box<dyn FnOnce(Result<String, Error>)> {
    Box::new(move |r| {
        let _ = match r {
            Ok(id) => {
                let o: JsValue = Object::new().into();
                set(&o, "id", id.into());
                resolve.call1(&JsValue::NULL, &o)
            }
            Err(e) => reject.call1(&JsValue::NULL, &to_js(&e)),
        };
    })
}

fn promise<T>(f: impl FnOnce(Function, Function) -> T) -> (Promise, T) {
    let mut slot = None;
    let p = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
    let (resolve, reject) = slot.expect("Promise executors run synchronously");
    (p, f(resolve, reject))
}

/// Lane, dedupe key and ttl.
type EnqueueOptions = (Option<String>, Option<String>, Option<u64>);

/// `{ dedupeKey, lane, ttlMs }` of `enqueue`.
fn enqueue_options(options: JsValue) -> Result<EnqueueOptions, JsValue> {
    Ok(
        match Opts::of(options, "", &["dedupeKey", "lane", "ttlMs"])? {
            Some(o) => (o.string("lane")?, o.string("dedupeKey")?, o.ms("ttlMs")?),
            None => (None, None, None),
        },
    )
}

type Request = (
    String,
    String,
    Vec<(String, String)>,
    Option<String>,
    Option<String>,
);

/// `{ url, method, headers, body, lane }` of `enqueueRequest`.
fn request_from_js(request: JsValue) -> Result<Request, JsValue> {
    let known = &["url", "method", "headers", "body", "lane"];
    let needs_url = || {
        to_js(&Error::new(
            ErrorCode::InvalidArgument,
            "enqueueRequest needs { url }",
        ))
    };
    let r = Opts::of(request, "request", known)?.ok_or_else(needs_url)?;
    let url = r.string("url")?.ok_or_else(needs_url)?;
    let method = r.string("method")?.unwrap_or_else(|| "POST".into());
    let mut headers = Vec::new();
    if let Some(h) = r.value("headers") {
        for pair in Object::entries(&Object::from(h)).iter() {
            let pair = Array::from(&pair);
            let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
                return Err(to_js(&Error::new(
                    ErrorCode::InvalidArgument,
                    "option `request.headers` must map names to strings",
                )));
            };
            headers.push((k, v));
        }
    }
    let body = match r.value("body") {
        None => None,
        Some(b) => Some(match b.as_string() {
            Some(s) => s,
            None => stringify(&b, "body", None)?,
        }),
    };
    Ok((url, method, headers, body, r.string("lane")?))
}

impl RawClient {
    fn with_outbox<T>(&self, f: impl FnOnce(&Outbox) -> T) -> Result<T, JsValue> {
        match self.session.outbox() {
            Some(o) => Ok(f(&o)),
            None => Err(to_js(&Error::new(
                ErrorCode::InvalidArgument,
                "the outbox is disabled (outbox: false)",
            ))),
        }
    }
}

#[wasm_bindgen]
impl RawClient {
    /// Queues `payload` for `event`; resolves with `{ id }` once committed to storage.
    #[wasm_bindgen(js_name = outboxEnqueue)]
    pub fn outbox_enqueue(&self, event: String, payload: JsValue, options: JsValue) -> Promise {
        // Binary parts (ArrayBuffers, typed arrays, Blobs) leave placeholders in the JSON.
        let (payload, parts) = split_binary(payload);
        // The payload itself binary: a placeholder now, not the object an entry needs.
        if parts.is_some() && glue::get(&payload, "_placeholder").is_truthy() {
            let e = Error::new(
                ErrorCode::PayloadInvalid,
                "an outbox payload must be a JSON object",
            );
            return Promise::reject(&to_js(&e.with_event(event)));
        }
        let (text, text_js) = match stringify_both(&payload, "payload", Some(&event)) {
            Ok(t) => t,
            Err(e) => return Promise::reject(&e),
        };
        let (lane, dedupe, ttl) = match enqueue_options(options) {
            Ok(o) => o,
            Err(e) => return Promise::reject(&e),
        };
        let (p, r) = promise(|resolve, reject| {
            self.with_outbox(|o| {
                o.enqueue_with(
                    (&event, &text, Some(text_js), parts),
                    lane,
                    dedupe,
                    ttl,
                    settle_with_id(resolve, reject),
                )
            })
        });
        match r {
            Ok(()) => p,
            Err(e) => Promise::reject(&e),
        }
    }

    /// Queues an HTTP request `{ url, method, headers, body, lane }`; resolves with `{ id }`.
    #[wasm_bindgen(js_name = outboxEnqueueRequest)]
    pub fn outbox_enqueue_request(&self, request: JsValue) -> Promise {
        let (url, method, headers, body, lane) = match request_from_js(request) {
            Ok(r) => r,
            Err(e) => return Promise::reject(&e),
        };
        let (p, r) = promise(|resolve, reject| {
            self.with_outbox(|o| {
                o.enqueue_request(
                    &url,
                    &method,
                    headers,
                    body,
                    lane,
                    settle_with_id(resolve, reject),
                )
            })
        });
        match r {
            Ok(()) => p,
            Err(e) => Promise::reject(&e),
        }
    }

    /// `{ pending, inFlight, failed, processing, lastError, persistence }`.
    #[wasm_bindgen(js_name = outboxStatus)]
    pub fn outbox_status(&self) -> Result<JsValue, JsValue> {
        self.with_outbox(|o| {
            let (s, persistence) = o.status();
            status_to_js(&s, persistence.as_str())
        })
    }

    /// `listener(type, data)`: `"change"` with the status, `"delivered"` / `"failed"` with the
    /// entry, `"dropped"` with the entry and the reason. Returns an id for `outboxOff`.
    #[wasm_bindgen(js_name = outboxOn)]
    pub fn outbox_on(&self, listener: Function) -> Result<f64, JsValue> {
        self.with_outbox(move |o| {
            o.on_raw(move |ev| {
                let (kind, data, extra) = match ev {
                    OutboxEvent::Change(s, persistence) => (
                        "change",
                        status_to_js(s, persistence.as_str()),
                        JsValue::UNDEFINED,
                    ),
                    OutboxEvent::Delivered(e) => {
                        ("delivered", entry_view(e, None), JsValue::UNDEFINED)
                    }
                    OutboxEvent::Failed(e) => ("failed", entry_view(e, None), JsValue::UNDEFINED),
                    OutboxEvent::Dropped(e, why) => ("dropped", entry_view(e, None), (*why).into()),
                };
                let _ = listener.call3(&JsValue::NULL, &kind.into(), &data, &extra);
            }) as f64
        })
    }

    /// Removes an outbox listener.
    #[wasm_bindgen(js_name = outboxOff)]
    pub fn outbox_off(&self, id: f64) {
        let _ = self.with_outbox(|o| o.off(id as u64));
    }

    /// Every entry in order, failed ones included.
    #[wasm_bindgen(js_name = outboxList)]
    pub fn outbox_list(&self) -> Result<Array, JsValue> {
        self.with_outbox(|o| {
            o.entries()
                .iter()
                .map(|e| entry_view(e, o.parts_of(&e.id)))
                .collect()
        })
    }

    /// The failed entries.
    #[wasm_bindgen(js_name = outboxFailed)]
    pub fn outbox_failed(&self) -> Result<Array, JsValue> {
        self.with_outbox(|o| {
            o.entries()
                .iter()
                .filter(|e| matches!(e.state, EntryState::Failed(_)))
                .map(|e| entry_view(e, o.parts_of(&e.id)))
                .collect()
        })
    }

    /// Moves a failed entry back to pending.
    #[wasm_bindgen(js_name = outboxRetry)]
    pub fn outbox_retry(&self, id: String) -> Result<bool, JsValue> {
        self.with_outbox(|o| o.retry(&id))
    }

    /// Removes an entry.
    #[wasm_bindgen(js_name = outboxRemove)]
    pub fn outbox_remove(&self, id: String) -> Result<bool, JsValue> {
        self.with_outbox(|o| o.remove(&id))
    }

    /// Removes every entry; resolves once storage is cleared.
    #[wasm_bindgen(js_name = outboxClear)]
    pub fn outbox_clear(&self) -> Promise {
        let (p, r) = promise(|resolve, reject| {
            self.with_outbox(|o| {
                o.clear_then(Box::new(move |r| {
                    let _ = match r {
                        Ok(()) => resolve.call0(&JsValue::NULL),
                        Err(e) => reject.call1(&JsValue::NULL, &to_js(&e)),
                    };
                }))
            })
        });
        match r {
            Ok(()) => p,
            Err(e) => Promise::reject(&e),
        }
    }

    /// Sends what can be sent now, ignoring retry delays.
    #[wasm_bindgen(js_name = outboxFlush)]
    pub fn outbox_flush(&self) -> Result<(), JsValue> {
        self.with_outbox(Outbox::flush)
    }
}

fn status_to_js(s: &crate::core::outbox::Status, persistence: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "pending", (s.pending as u32).into());
    set(&o, "inFlight", (s.in_flight as u32).into());
    set(&o, "failed", (s.failed as u32).into());
    set(&o, "processing", s.processing.into());
    set(
        &o,
        "lastError",
        s.last_error.as_deref().map_or(JsValue::NULL, JsValue::from),
    );
    set(&o, "persistence", persistence.into());
    o
}
