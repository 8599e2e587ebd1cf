//! Browser glue: turns web-sys callbacks into plain values for the driver and nothing more.
//! Every type here owns its JS closures and removes them on Drop.

pub mod glue;
pub mod idb;
pub mod lifecycle;
pub mod tabs;
pub mod timers;
pub mod websocket;

/// Drops `value` after the current JS callback has returned (in a microtask). Used for objects
/// whose closures may be running right now: dropping a wasm-bindgen `Closure` while it is being
/// invoked is an error.
pub fn drop_later<T: 'static>(value: T) {
    drop_boxed_later(Box::new(value));
}

/// The one body behind [`drop_later`]: one future type for every `T` (a future per type would
/// put a copy of the task code in the wasm for each).
fn drop_boxed_later(value: Box<dyn std::any::Any>) {
    wasm_bindgen_futures::spawn_local(async move { drop(value) });
}
