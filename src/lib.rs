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
//! - [`platform`], [`driver`]: browser glue (inert off `wasm32`: the client compiles there and
//!   never connects, for SSR apps and `cargo check`); `bindings`, the JavaScript API, only
//!   with the cargo feature `js` (the npm build's; a Rust app leaves it off).
//!
//! ```no_run
//! use wiresync::{Client, Options};
//! use wiresync::events::OrderStatusUpdate;
//!
//! let client = Client::connect(Options::new("http://127.0.0.1:3000"));
//! let _updates = client.on::<OrderStatusUpdate>(|u| {
//!     web_sys::console::log_1(&format!("{} is {}", u.order_id, u.status).into());
//! });
//! let _states = client.on_state(|s| web_sys::console::log_1(&s.status.as_str().into()));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

/// The README's Rust snippets, compiled and run as doc tests (on the host, where the client is
/// inert).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod core;
pub mod events;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod bindings;
pub mod driver;
pub mod platform;
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
mod small_alloc;

/// The npm build's allocator (feature `small-alloc`): see `src/small_alloc.rs`.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: small_alloc::SizeClasses = small_alloc::SizeClasses::new();

pub use crate::core::connection::{State, Status};
pub use crate::core::error::{Error, ErrorCode, Result};
#[cfg(feature = "outbox")]
pub use crate::core::outbox::Status as OutboxStatus;
#[cfg(feature = "cache")]
pub use crate::core::query_cache::Query;
pub use crate::core::query_key::QueryKey;
#[cfg(feature = "cache")]
pub use crate::driver::cache::{Cache, CacheOptions, PersistOptions};
#[cfg(feature = "outbox")]
pub use crate::driver::outbox::OutboxEvent;
#[cfg(feature = "outbox")]
pub use crate::driver::outbox::{EntryId, EntryOptions};
#[cfg(feature = "outbox")]
pub use crate::driver::outbox::{Outbox, OutboxOptions};
pub use crate::driver::Persistence;
pub use crate::driver::{Auth, Client, Membership, Options, Reply, Subscription};
