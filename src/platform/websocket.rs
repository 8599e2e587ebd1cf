//! A browser WebSocket whose events arrive as one enum, in the manner of gloo-net: its closures
//! (messages come through `glue.js`) are owned by the struct, live exactly as long as it, and
//! are removed, and the socket closed, on Drop.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, WebSocket};

/// What the socket reports.
#[derive(Debug)]
pub enum SocketEvent<'a> {
    /// Connected.
    Open,
    /// A text frame: its text (in the socket's buffer, valid for this call), and the JS string
    /// it came from.
    Text(&'a str, js_sys::JsString),
    /// A binary frame (an ArrayBuffer).
    Binary(js_sys::ArrayBuffer),
    /// Closed (also after an error), with the close code and reason.
    Closed(u16, String),
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").finish_non_exhaustive()
    }
}

/// An open or opening WebSocket.
pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _reserve: Closure<dyn FnMut(u32) -> u32>,
    _on_text: Closure<dyn FnMut(u32, js_sys::JsString)>,
    _on_binary: Closure<dyn FnMut(js_sys::ArrayBuffer)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

impl Socket {
    /// Opens `url`; every event goes to `sink`. An invalid URL is an error at once.
    pub fn open(
        url: &str,
        sink: impl Fn(SocketEvent<'_>) + Clone + 'static,
    ) -> Result<Socket, String> {
        if !super::IN_BROWSER {
            return Err("no browser: nothing connects off wasm32".into());
        }
        let ws =
            WebSocket::new(url).map_err(|e| ["cannot open ", url, ": ", &describe(&e)].concat())?;
        // ArrayBuffer, not Blob: Blob data is read asynchronously and would reorder events.
        ws.set_binary_type(BinaryType::Arraybuffer);
        let s = sink.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || s(SocketEvent::Open));
        let s = sink.clone();
        // Text frames come through glue.js: the browser encodes each into this buffer (kept
        // for the socket's life, grown when a frame needs more room), read in place.
        let buffer: Rc<RefCell<Vec<u8>>> = Rc::default();
        let b = buffer.clone();
        let reserve = Closure::<dyn FnMut(u32) -> u32>::new(move |room: u32| {
            // glue.js never asks while a frame is being handled; if it did, 0 (no room).
            let Ok(mut v) = b.try_borrow_mut() else {
                return 0;
            };
            *v = vec![0; room as usize];
            v.as_mut_ptr() as u32
        });
        let on_text = Closure::<dyn FnMut(u32, js_sys::JsString)>::new(move |len: u32, js| {
            // Borrowed for the sink's call: glue.js writes the buffer again only for the next
            // frame, after this call returns (it holds frames that arrive meanwhile).
            let bytes = buffer.borrow();
            let Some(bytes) = bytes.get(..len as usize) else {
                return; // never: glue.js writes at most what it reserved
            };
            // SAFETY: what TextEncoder.encodeInto writes is UTF-8 by definition (lone
            // surrogates become U+FFFD), so the frame is not scanned a second time to check.
            s(SocketEvent::Text(
                unsafe { std::str::from_utf8_unchecked(bytes) },
                js,
            ));
        });
        let s = sink.clone();
        let on_binary = Closure::<dyn FnMut(js_sys::ArrayBuffer)>::new(move |data| {
            s(SocketEvent::Binary(data))
        });
        let s = sink.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            s(SocketEvent::Closed(e.code(), e.reason()))
        });
        // An error is always followed by a close event; the close carries the information.
        let on_error = Closure::<dyn FnMut()>::new(|| {});
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        crate::platform::glue::on_frames(
            &ws,
            &wasm_bindgen::memory(),
            reserve.as_ref().unchecked_ref(),
            on_text.as_ref().unchecked_ref(),
            on_binary.as_ref().unchecked_ref(),
        );
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _reserve: reserve,
            _on_text: on_text,
            _on_binary: on_binary,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Sends a text frame. Returns false if the socket refused it (not open).
    pub fn send(&self, text: &str) -> bool {
        self.ws.send_with_str(text).is_ok()
    }

    /// Sends a binary frame: an ArrayBuffer, typed array, DataView or Blob.
    pub fn send_data(&self, data: &wasm_bindgen::JsValue) {
        crate::platform::glue::send_data(&self.ws, data);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

fn describe(e: &wasm_bindgen::JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| e.as_string().unwrap_or_else(|| "unknown error".into()))
}
