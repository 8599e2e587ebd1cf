//! # wiresync
//!
//! Typed real-time events over Socket.IO v4 or a plain JSON protocol for browser apps, in Rust
//! compiled to WebAssembly. The same client serves JavaScript (the `wiresync` npm package) and
//! Rust front ends (Leptos, Yew, Dioxus).
//!
//! Layers, one way at each step: browser event → [`platform`] (translate) → `driver`
//! → [`core`] (decide) → driver → platform (act) → handlers.
//!
//! - [`core`]: sans-IO codecs and state machines; time and randomness are parameters.
//! - [`events`]: the typed event catalog.
//! - `platform`, `driver`: browser glue, only on `wasm32`; `bindings`, the JavaScript API,
//!   only with the cargo feature `js` (the npm build's; a Rust app leaves it off).
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")] {
//! use wiresync::{Client, Options};
//! use wiresync::events::OrderStatusUpdate;
//!
//! let client = Client::connect(Options::new("http://127.0.0.1:3000"));
//! let _updates = client.on::<OrderStatusUpdate>(|u| {
//!     web_sys::console::log_1(&format!("{} is {}", u.order_id, u.status).into());
//! });
//! let _states = client.on_state(|s| web_sys::console::log_1(&s.status.as_str().into()));
//! # }
//! ```
#![deny(missing_docs)]

pub mod core;
pub mod events;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod driver;
#[cfg(target_arch = "wasm32")]
pub mod platform;
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
mod small_alloc;

/// The npm build's allocator (feature `small-alloc`): see `src/small_alloc.rs`.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: small_alloc::SizeClasses = small_alloc::SizeClasses::new();

pub use crate::core::connection::{State, Status};
pub use crate::core::error::{Error, ErrorCode, Result};
#[cfg(all(target_arch = "wasm32", feature = "outbox"))]
pub use crate::driver::outbox::{Outbox, OutboxOptions};
#[cfg(target_arch = "wasm32")]
pub use crate::driver::{Auth, Client, Options, Subscription};
