//! wiresync core.
#![deny(missing_docs)]

pub mod core;
pub mod events;
