//! The JS side of the per-frame path (`glue.js`): one call per frame in, one call per event to
//! parse its arguments, instead of a call for each property, slice and parse.

use js_sys::{Function, JsString};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/glue.js")]
extern "C" {
    /// Sets `ws.onmessage`: a text frame's UTF-8 goes into the `reserve(bytes) -> pointer`
    /// buffer, then `text(length, frame)`; binary frames to `binary(arrayBuffer)`.
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
    /// the bytes written, or -1 when all of `s` did not fit.
    #[wasm_bindgen(js_name = encodeInto)]
    fn encode_into(s: &JsString, memory: &JsValue, ptr: u32, cap: u32) -> i32;

    /// The binary parts of `args` (an array to send): `undefined` when none, else
    /// `[copy with placeholders, parts]`.
    #[wasm_bindgen(js_name = binaryParts)]
    pub fn binary_parts(args: &JsValue) -> JsValue;

    /// Puts `parts` back where their placeholders sit in `args` (in place); false when a
    /// placeholder points past them.
    #[wasm_bindgen(js_name = fillPlaceholders)]
    pub fn fill_placeholders(args: &JsValue, parts: &js_sys::Array) -> bool;

    /// The byte size of the largest of `parts` (`byteLength`, or `size` for a Blob).
    #[wasm_bindgen(js_name = largestPart)]
    pub fn largest_part(parts: &js_sys::Array) -> f64;

    /// `ws.send(data)` of a binary part.
    #[wasm_bindgen(js_name = sendData)]
    pub fn send_data(ws: &web_sys::WebSocket, data: &JsValue);

    /// An HTTP long-polling request: `GET url` (`body` undefined) or `POST url` with `body`;
    /// `done(status, text)` once (status 0 and the reason when it failed). Returns
    /// `abort(afterMs)`.
    pub fn request(url: &str, body: Option<String>, done: &JsValue) -> Function;

    /// The bytes of a binary part (ArrayBuffer or view) as a `Uint8Array`; `undefined` for a
    /// Blob.
    #[wasm_bindgen(js_name = partBytes)]
    pub fn part_bytes(part: &JsValue) -> JsValue;

    /// Requests the Web Lock `name` (with `steal`, taking it from its holder); `acquired()`
    /// once it is ours, `lost()` if another tab takes it over later. Returns `release()` (which
    /// also withdraws a request not granted yet), or `undefined` without Web Locks.
    #[wasm_bindgen(js_name = requestLock)]
    pub fn request_lock(
        name: &str,
        acquired: &Function,
        steal: bool,
        lost: Option<Function>,
    ) -> JsValue;
}

thread_local! {
    /// The scratch buffer [`string`] encodes into.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A JS string as a Rust one, encoded by the browser (`TextEncoder.encodeInto`) into a scratch
/// buffer and copied from there: for payloads of a kilobyte, several times cheaper than
/// wasm-bindgen's conversion, which loops over the characters in JS.
pub fn string(s: &JsString) -> String {
    let units = s.length() as usize;
    let memory = wasm_bindgen::memory();
    // Into `buf`, replacing what it held, with room for `cap` bytes: whether the whole string
    // fitted (else `buf` is left empty).
    let encode = |buf: &mut Vec<u8>, cap: usize| -> bool {
        buf.clear();
        buf.reserve(cap);
        let written = encode_into(s, &memory, buf.as_mut_ptr() as u32, cap as u32);
        let Some(written) = usize::try_from(written).ok().filter(|w| *w <= cap) else {
            return false;
        };
        // SAFETY: encodeInto initialized these bytes, and they are UTF-8 by definition (lone
        // surrogates become U+FFFD).
        unsafe { buf.set_len(written) };
        true
    };
    if units > SCRATCH_MAX {
        // A rare large string, in a buffer of its own that becomes the String (no copy, and
        // not kept): first with one byte per unit, which ASCII fills exactly, then with the
        // three that any string fits in.
        let mut buf = Vec::new();
        if !encode(&mut buf, units) {
            encode(&mut buf, units * 3);
            buf.shrink_to_fit();
        }
        // SAFETY: as above.
        return unsafe { String::from_utf8_unchecked(buf) };
    }
    SCRATCH.with(|scratch| {
        let mut buf = scratch.borrow_mut();
        // UTF-8 takes at most 3 bytes per UTF-16 unit: it always fits.
        encode(&mut buf, units * 3);
        // SAFETY: as above.
        unsafe { std::str::from_utf8_unchecked(&buf) }.to_owned()
    })
}

/// The longest string (UTF-16 units) that [`string`] encodes through the scratch buffer, which
/// keeps three bytes for each between calls.
const SCRATCH_MAX: usize = 64 << 10;

/// `o[k] = v`; nothing happens where `o` is not an object. (The record fields of the outbox
/// and cache stores go through `idb`'s own, which reuses their names' JS strings.)
pub fn set(o: &JsValue, k: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &k.into(), v);
}

/// `o[k]`; `undefined` where it throws (`o` not an object, a throwing getter).
pub fn get(o: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}
