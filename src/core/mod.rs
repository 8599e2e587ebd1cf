//! The sans-IO core: protocol codecs and state machines that never touch the network, a clock
//! or randomness directly. Time (ms) and random seeds come in as arguments; effects go out as
//! values. It builds and tests natively (`cargo test`) and knows nothing of the browser.

pub mod backoff;
pub mod cache_sync;
pub mod connection;
pub mod error;
pub mod handlers;
pub mod invalidation;
pub mod json;
pub mod json_schema;
pub mod outbox;
pub mod protocol;
pub mod query_cache;
pub mod query_index;
pub mod query_key;
pub mod schema;
pub mod share;
pub mod text;
pub mod transport;
