//! The clock and the one timer the driver needs.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;

thread_local! {
    // Looked up once: `window().performance()` costs two JS calls on every frame otherwise.
    static PERFORMANCE: Option<web_sys::Performance> = web_sys::window().and_then(|w| w.performance());
}

/// Milliseconds on a monotonic clock (`performance.now()`, `Date.now()` where absent).
pub fn now() -> u64 {
    if !super::IN_BROWSER {
        return 0;
    }
    PERFORMANCE
        .with(|p| p.as_ref().map_or_else(js_sys::Date::now, |p| p.now()))
        .max(0.0) as u64
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// A pending callback at a deadline; dropping it cancels (gloo's `Timeout` guard).
pub struct Timer {
    /// When it fires, on the [`now`] clock.
    pub deadline: u64,
    _timeout: Option<Timeout>,
}

impl Timer {
    /// Calls `f` once `deadline` is reached.
    pub fn at(deadline: u64, f: impl FnOnce() + 'static) -> Timer {
        let delay = deadline.saturating_sub(now()).min(i32::MAX as u64) as u32;
        Timer {
            deadline,
            // Off the browser: never fires.
            _timeout: super::IN_BROWSER.then(|| Timeout::new(delay, f)),
        }
    }
}

/// Keeps a timer in `owner`'s `slot` due at `at` (on the [`now`] clock) or earlier: one armed
/// no later is kept (the deadlines that move later, a heartbeat's with every frame, cost no
/// setTimeout; a timer that fires early finds nothing due, and its owner arms again), a later
/// one is replaced. When it fires, the slot is emptied, then `fire(owner)` runs, once `at` has
/// come (a timer that fires before it arms again). The one re-arm rule of every driver timer.
pub fn rearm<T: 'static>(
    owner: &Rc<T>,
    slot: fn(&T) -> &RefCell<Option<Timer>>,
    at: u64,
    fire: fn(&Rc<T>),
) {
    let cell = slot(owner);
    if cell.borrow().as_ref().is_some_and(|t| t.deadline <= at) {
        return;
    }
    if let Some(old) = cell.borrow_mut().take() {
        super::drop_later(old);
    }
    let weak = Rc::downgrade(owner);
    let timer = Timer::at(at, move || {
        let Some(owner) = weak.upgrade() else { return };
        if let Some(fired) = slot(&owner).borrow_mut().take() {
            super::drop_later(fired);
        }
        if now() < at {
            // Early: a delay beyond setTimeout's ~24.8 days was capped (an `Infinity` deadline
            // waits on, 24.8 days at a time), or the browser fired a little early.
            return rearm(&owner, slot, at, fire);
        }
        fire(&owner);
    });
    *cell.borrow_mut() = Some(timer);
}

/// A wall-clock deadline (epoch ms, what the outbox and cache cores count in) on the [`now`]
/// clock the timers run on.
pub fn from_wall(deadline: u64) -> u64 {
    now().saturating_add(deadline.saturating_sub(wall_now()))
}

/// Milliseconds since the epoch (`Date.now()`): for what must mean the same after a reload.
pub fn wall_now() -> u64 {
    if super::IN_BROWSER {
        js_sys::Date::now() as u64
    } else {
        0
    }
}
