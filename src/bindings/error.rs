//! `WiresyncError`: a real JS `Error` (stack, `instanceof Error`) with `code` and `event`.

use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::Error;
use crate::platform::glue;

/// The JS error for a Rust [`Error`]: `name` `"WiresyncError"`, `code`, `message`, `event`.
pub fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("WiresyncError");
    glue::set(&err, "code", &e.code.as_str().into());
    if let Some(ev) = &e.event {
        glue::set(&err, "event", &ev.into());
    }
    err.into()
}

/// A short text for a thrown JS value.
pub fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    v.as_string()
        .unwrap_or_else(|| "a non-Error value was thrown".into())
}
