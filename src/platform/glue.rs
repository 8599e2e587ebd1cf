//! The JS side of the per-frame path (`glue.js`): one call per frame in, one call per event to
//! parse its arguments, instead of a call for each property, slice and parse.

use js_sys::{Function, JsString};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/glue.js")]
extern "C" {
    /// Sets `ws.onmessage`: a text frame's UTF-8 goes into the `reserve(bytes) -> pointer`
    /// buffer, then `text(length, frame)`; binary frames to `binary(byteLength)`.
    #[wasm_bindgen(js_name = onFrames)]
    pub fn on_frames(
        ws: &web_sys::WebSocket,
        memory: &JsValue,
        reserve: &Function,
        text: &Function,
        binary: &Function,
    );

    /// The arguments that `frame.slice(start, frame.length - tail)` holds (one JSON value when
    /// `single`, else comma-separated ones), parsed into an array; `undefined` when they are
    /// not JSON.
    #[wasm_bindgen(js_name = eventArgs)]
    pub fn event_args(frame: &JsString, start: u32, tail: u32, single: bool) -> JsValue;
}
