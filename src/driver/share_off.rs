//! Without the cargo feature `share`: no tab shares a connection. Every call of `share.rs`'s
//! is here a no-op or "not sharing", so that a build without the feature carries none of it.

use std::rc::Rc;

use super::Inner;
use crate::core::connection::State;
use crate::core::error::Error;
use crate::core::protocol::Incoming;
use crate::core::share::Room;

pub(super) const ENABLED: bool = false;

pub(super) fn start(_: &Rc<Inner>, _: &str) {}
pub(super) fn following(_: &Inner) -> bool {
    false
}
pub(super) fn sharing(_: &Inner) -> bool {
    false
}
pub(super) fn event(_: &Rc<Inner>, _: &Incoming) -> bool {
    false
}
pub(super) fn state_changed(_: &Rc<Inner>) {}
pub(super) fn state(_: &Inner) -> Option<State> {
    None
}
pub(super) fn join(_: &Rc<Inner>, _: Room, _: super::AckWaiter) -> u64 {
    0
}
pub(super) fn leave(_: &Rc<Inner>, _: u64) {}
pub(super) fn emit(
    _: &Rc<Inner>,
    _: &str,
    _: &str,
    _: Option<Option<u64>>,
    _: Option<&js_sys::Array>,
) -> u64 {
    0
}
pub(super) fn leave_group(_: &Rc<Inner>) {}
pub(super) fn reconnect(_: &Rc<Inner>, _: Option<Option<String>>) {}
pub(super) fn answer(_: &Rc<Inner>, _: u64, _: &str, _: Option<&js_sys::Array>) {}
pub(super) fn regroup(_: &Rc<Inner>, _: &str) {}
pub(super) fn auth_once(_: &Inner) -> Option<Option<String>> {
    None
}
pub(super) fn acked(
    _: &Rc<Inner>,
    _: u64,
    _: &Result<String, Error>,
    _: &Option<js_sys::Array>,
) -> bool {
    false
}
pub(super) fn subscribed(_: &Rc<Inner>, _: u64, _: &Result<String, Error>) -> bool {
    false
}
