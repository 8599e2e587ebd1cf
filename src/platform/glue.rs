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

    /// `TextEncoder.encodeInto(s)` into wasm memory at `ptr` (room for `cap` bytes); returns
    /// the bytes written.
    #[wasm_bindgen(js_name = encodeInto)]
    fn encode_into(s: &JsString, memory: &JsValue, ptr: u32, cap: u32) -> u32;
}

thread_local! {
    /// The scratch buffer [`string`] encodes into.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A JS string as a Rust one, encoded by the browser (`TextEncoder.encodeInto`) into a scratch
/// buffer and copied from there: for payloads of a kilobyte, several times cheaper than
/// wasm-bindgen's conversion, which loops over the characters in JS.
pub fn string(s: &JsString) -> String {
    let cap = s.length() as usize * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    let encode = |buf: &mut Vec<u8>| {
        if buf.len() < cap {
            buf.resize(cap, 0);
        }
        let ptr = buf.as_mut_ptr() as u32;
        let written = encode_into(s, &wasm_bindgen::memory(), ptr, cap as u32) as usize;
        // SAFETY: what TextEncoder.encodeInto writes is UTF-8 by definition (lone surrogates
        // become U+FFFD).
        unsafe { std::str::from_utf8_unchecked(&buf[..written.min(cap)]) }.to_owned()
    };
    if cap > SCRATCH_MAX {
        return encode(&mut Vec::new()); // a rare large string: its buffer is not kept
    }
    SCRATCH.with(|scratch| encode(&mut scratch.borrow_mut()))
}

/// The most the scratch buffer keeps between calls.
const SCRATCH_MAX: usize = 64 << 10;
