//! Browser glue: turns web-sys callbacks into plain values for the driver and nothing more.
//! Every type here owns its JS closures and removes them on Drop.
//!
//! Off the browser (any target but `wasm32`: rust-analyzer, `cargo check`, the server half of
//! an SSR app) the glue is inert ([`IN_BROWSER`]): nothing is spawned, no timer fires, no
//! socket, lock, channel or page listener opens, and the clocks read 0. The driver adds the
//! rest at its entries: the client never connects, and what would build JS values (typed
//! data, outbox records) answers `CLOSED` (`driver::off_browser`; see
//! [`Client`](crate::Client)).

pub mod glue;
pub mod idb;
pub mod lifecycle;
pub mod tabs;
pub mod timers;
pub mod websocket;

/// Whether the glue talks to a browser (`wasm32`); `false` where it is inert.
pub const IN_BROWSER: bool = cfg!(target_arch = "wasm32");

/// Runs `task` on the page's event loop (`spawn_local`). Off the browser it never runs.
pub fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    if IN_BROWSER {
        wasm_bindgen_futures::spawn_local(task);
    }
}

/// A random number in `[0, 1)` (`Math.random()`); 0.5 off the browser.
pub fn random() -> f64 {
    if IN_BROWSER {
        js_sys::Math::random()
    } else {
        0.5
    }
}

/// A warning on the console; nothing off the browser.
pub fn warn(text: &str) {
    if IN_BROWSER {
        web_sys::console::warn_1(&text.into());
    }
}

/// Drops `value` after the current JS callback has returned (in a microtask). Used for objects
/// whose closures may be running right now: dropping a wasm-bindgen `Closure` while it is being
/// invoked is an error.
pub fn drop_later<T: 'static>(value: T) {
    drop_boxed_later(Box::new(value));
}

/// The one body behind [`drop_later`]: one future type for every `T` (a future per type would
/// put a copy of the task code in the wasm for each).
fn drop_boxed_later(value: Box<dyn std::any::Any>) {
    spawn(async move { drop(value) });
}
