//! Page and network lifecycle: `online`/`offline`, `visibilitychange`, `pageshow` (back/forward
//! cache). Listeners are removed on Drop.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventTarget, VisibilityState};

/// What the page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEvent {
    /// `navigator.onLine` changed.
    Online(bool),
    /// The page became visible or was restored from the back/forward cache.
    Visible,
}

/// Whether the browser believes it is online (true where unknown).
pub fn is_online() -> bool {
    super::IN_BROWSER && web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// One registered listener: where, which event, the closure.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut()>);

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

/// Registered lifecycle listeners.
pub struct Lifecycle {
    listeners: Vec<Listener>,
}

impl Lifecycle {
    /// Starts listening; every event goes to `sink`.
    pub fn listen(sink: impl Fn(PageEvent) + Clone + 'static) -> Lifecycle {
        let mut listeners = Vec::new();
        let Some(window) = super::IN_BROWSER.then(web_sys::window).flatten() else {
            return Lifecycle { listeners };
        };
        let document = window.document();
        let mut add = |target: &EventTarget, name: &'static str, f: Box<dyn FnMut()>| {
            let closure = Closure::<dyn FnMut()>::new(f);
            if target
                .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push((target.clone(), name, closure));
            }
        };
        let s = sink.clone();
        add(
            &window,
            "online",
            Box::new(move || s(PageEvent::Online(true))),
        );
        let s = sink.clone();
        add(
            &window,
            "offline",
            Box::new(move || s(PageEvent::Online(false))),
        );
        let s = sink.clone();
        add(&window, "pageshow", Box::new(move || s(PageEvent::Visible)));
        if let Some(doc) = document {
            let d = doc.clone();
            add(
                &doc,
                "visibilitychange",
                Box::new(move || {
                    if d.visibility_state() == VisibilityState::Visible {
                        sink(PageEvent::Visible)
                    }
                }),
            );
        }
        Lifecycle { listeners }
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        for (target, name, closure) in &self.listeners {
            let _ =
                target.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        }
    }
}
