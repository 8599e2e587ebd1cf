//! Coordination between tabs of one origin: a Web Lock decides which tab flushes an outbox,
//! a BroadcastChannel tells the others that the store changed.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

type Callback = Closure<dyn FnMut()>;

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("held", &self.held.get())
            .finish_non_exhaustive()
    }
}

/// Holds (or waits for) the exclusive lock `name`; `on_acquired` runs once it is ours. The
/// lock is released, or the request withdrawn, when this is dropped. Where Web Locks are
/// missing, the lock is ours at once (one tab assumed).
pub struct Leadership {
    release: Option<Function>,
    _callbacks: Option<(Callback, Option<Callback>)>,
    held: Rc<Cell<bool>>,
}

impl Leadership {
    /// Requests the lock.
    pub fn request(name: &str, on_acquired: impl Fn() + 'static) -> Leadership {
        Self::request_with(name, false, on_acquired, None)
    }

    /// Requests the lock; with `steal`, takes it at once from the tab holding it. `on_lost`
    /// runs if another tab takes it over later.
    pub fn request_with(
        name: &str,
        steal: bool,
        on_acquired: impl Fn() + 'static,
        on_lost: Option<Box<dyn Fn()>>,
    ) -> Leadership {
        let held = Rc::new(Cell::new(false));
        if !super::IN_BROWSER {
            // Never ours: nothing is flushed off the browser.
            return Leadership {
                release: None,
                _callbacks: None,
                held,
            };
        }
        let h = held.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            h.set(true);
            on_acquired();
        });
        let h = held.clone();
        let lost = on_lost.map(|f| {
            Closure::<dyn FnMut()>::new(move || {
                h.set(false);
                f();
            })
        });
        let release = super::glue::request_lock(
            name,
            callback.as_ref().unchecked_ref(),
            steal,
            lost.as_ref().map(|l| l.as_ref().clone().unchecked_into()),
        );
        match release.dyn_into::<Function>() {
            Ok(release) => Leadership {
                release: Some(release),
                _callbacks: Some((callback, lost)),
                held,
            },
            Err(_) => {
                // No Web Locks: call it now (the closure is still alive here).
                let f: &Function = callback.as_ref().unchecked_ref();
                let _ = f.call0(&JsValue::NULL);
                Leadership {
                    release: None,
                    _callbacks: None,
                    held,
                }
            }
        }
    }

    /// Whether this tab holds the lock.
    pub fn held(&self) -> bool {
        self.held.get()
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        // First: after this, JS never calls the callback that is dropped next.
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").finish_non_exhaustive()
    }
}

/// A BroadcastChannel whose messages go to `on_message`: plain strings, or (from
/// [`post_parts`](Channel::post_parts)) a string with binary parts. Closed on Drop.
pub struct Channel {
    channel: Option<web_sys::BroadcastChannel>,
    _on_message: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl Channel {
    /// Joins channel `name`. Where BroadcastChannel is missing, posts go nowhere.
    pub fn open(name: &str, on_message: impl Fn(String, Option<Array>) + 'static) -> Channel {
        let opened = super::IN_BROWSER.then(|| web_sys::BroadcastChannel::new(name).ok());
        let Some(channel) = opened.flatten() else {
            return Channel {
                channel: None,
                _on_message: None,
            };
        };
        let cb =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let data = e.data();
                if let Some(text) = data.as_string() {
                    on_message(text, None);
                } else if Array::is_array(&data) {
                    let parts: Array = data.unchecked_into();
                    if let Some(text) = parts.shift().as_string() {
                        on_message(text, Some(parts));
                    }
                }
            });
        channel.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        Channel {
            channel: Some(channel),
            _on_message: Some(cb),
        }
    }

    /// Tells the other tabs.
    pub fn post(&self, text: &str) {
        if let Some(c) = &self.channel {
            let _ = c.post_message(&text.into());
        }
    }

    /// Tells the other tabs, with binary parts (ArrayBuffers, copied by structured clone).
    pub fn post_parts(&self, text: &str, parts: &Array) {
        if let Some(c) = &self.channel {
            let all = Array::of1(&text.into());
            for p in parts.iter() {
                all.push(&p);
            }
            let _ = c.post_message(&all);
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        if let Some(c) = &self.channel {
            c.set_onmessage(None);
            c.close();
        }
    }
}

thread_local! {
    /// `window.crypto`, looked up once (not three calls into JS per id).
    static CRYPTO: Option<web_sys::Crypto> =
        super::IN_BROWSER.then(web_sys::window).flatten().and_then(|w| w.crypto().ok());
}

/// A random UUID v4 (`crypto.randomUUID()`, or `Math.random` where crypto is missing).
pub fn uuid() -> String {
    let from_crypto = CRYPTO.with(|c| c.as_ref().map(|c| c.random_uuid()));
    from_crypto.unwrap_or_else(|| {
        let hex: String = (0..32)
            .map(|_| crate::core::text::hex_digit((super::random() * 16.0) as u32))
            .collect();
        [
            &hex[0..8],
            "-",
            &hex[8..12],
            "-4",
            &hex[13..16],
            "-a",
            &hex[17..20],
            "-",
            &hex[20..32],
        ]
        .concat()
    })
}
