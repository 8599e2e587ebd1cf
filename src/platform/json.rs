//! `JSON.parse` on a JS string. js-sys's `JSON::parse` takes a Rust `&str`, which would copy a
//! frame that came from JS back out of wasm memory (`TextDecoder`) only to parse it; this calls
//! the browser's own `JSON.parse` on the JS string the WebSocket handed over.

use js_sys::{Function, JsString, Reflect};
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static PARSE: Option<(JsValue, Function)> = {
        let json = Reflect::get(&js_sys::global(), &"JSON".into()).ok();
        json.and_then(|j| {
            let parse = Reflect::get(&j, &"parse".into()).ok()?.dyn_into::<Function>().ok()?;
            Some((j, parse))
        })
    };
}

/// `JSON.parse(text)`; `Err` when it throws.
pub fn parse(text: &JsString) -> Result<JsValue, JsValue> {
    PARSE.with(|p| match p {
        Some((json, parse)) => parse.call1(json, text),
        None => js_sys::JSON::parse(&String::from(text)),
    })
}
