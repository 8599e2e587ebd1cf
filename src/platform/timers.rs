//! The clock and the one timer the driver needs.

use gloo_timers::callback::Timeout;

thread_local! {
    // Looked up once: `window().performance()` costs two JS calls on every frame otherwise.
    static PERFORMANCE: Option<web_sys::Performance> = web_sys::window().and_then(|w| w.performance());
}

/// Milliseconds on a monotonic clock (`performance.now()`, `Date.now()` where absent).
pub fn now() -> u64 {
    PERFORMANCE
        .with(|p| p.as_ref().map_or_else(js_sys::Date::now, |p| p.now()))
        .max(0.0) as u64
}

/// A pending callback at a deadline; dropping it cancels (gloo's `Timeout` guard).
pub struct Timer {
    /// When it fires, on the [`now`] clock.
    pub deadline: u64,
    _timeout: Timeout,
}

impl Timer {
    /// Calls `f` once `deadline` is reached.
    pub fn at(deadline: u64, f: impl FnOnce() + 'static) -> Timer {
        let delay = deadline.saturating_sub(now()).min(i32::MAX as u64) as u32;
        Timer {
            deadline,
            _timeout: Timeout::new(delay, f),
        }
    }
}

/// Milliseconds since the epoch (`Date.now()`): for what must mean the same after a reload.
pub fn wall_now() -> u64 {
    js_sys::Date::now() as u64
}
