//! The handler registry behind `on`, `once` and `onAny`: event name → handlers in registration
//! order. Generic over the handler type, so the driver stores JS functions or Rust closures.
//! Plain vectors: apps listen to tens of event names, and a hash map would cost the wasm more
//! code than the lookups it saves.

/// Identifies a registered handler; pass it to [`Registry::off`].
pub type HandlerId = u64;

#[derive(Debug)]
struct Entry<H> {
    id: HandlerId,
    handler: H,
    once: bool,
}

/// Handlers by event name, plus catch-all handlers.
#[derive(Debug)]
pub struct Registry<H> {
    next: HandlerId,
    by_name: Vec<(String, Vec<Entry<H>>)>,
    any: Vec<Entry<H>>,
}

impl<H> Default for Registry<H> {
    fn default() -> Self {
        Registry {
            next: 1,
            by_name: Vec::new(),
            any: Vec::new(),
        }
    }
}

impl<H: Clone> Registry<H> {
    /// A handler for `name`, called on every such event.
    pub fn on(&mut self, name: &str, handler: H) -> HandlerId {
        self.add(Some(name), handler, false)
    }

    /// A handler for `name`, removed after its first call.
    pub fn once(&mut self, name: &str, handler: H) -> HandlerId {
        self.add(Some(name), handler, true)
    }

    /// A handler for every event.
    pub fn on_any(&mut self, handler: H) -> HandlerId {
        self.add(None, handler, false)
    }

    fn add(&mut self, name: Option<&str>, handler: H, once: bool) -> HandlerId {
        let id = self.next;
        self.next += 1;
        let entry = Entry { id, handler, once };
        match name {
            None => self.any.push(entry),
            Some(n) => match self.by_name.iter_mut().find(|(k, _)| k == n) {
                Some((_, list)) => list.push(entry),
                None => self.by_name.push((n.to_owned(), vec![entry])),
            },
        }
        id
    }

    /// Removes a handler. Returns whether it was registered. Idempotent.
    pub fn off(&mut self, id: HandlerId) -> bool {
        self.remove(id).is_some()
    }

    /// Removes a handler and gives it back, for the caller to drop once it no longer borrows
    /// the registry (what the handler owns may unregister other handlers as it drops).
    pub fn remove(&mut self, id: HandlerId) -> Option<H> {
        let mut removed = None;
        let lists =
            std::iter::once(&mut self.any).chain(self.by_name.iter_mut().map(|(_, list)| list));
        for list in lists {
            if let Some(at) = list.iter().position(|e| e.id == id) {
                removed = Some(list.remove(at).handler);
                break;
            }
        }
        self.by_name.retain(|(_, list)| !list.is_empty());
        removed
    }

    /// Whether anything listens to `name` (catch-all handlers included).
    pub fn wants(&self, name: &str) -> bool {
        !self.any.is_empty() || self.by_name.iter().any(|(k, _)| k == name)
    }

    /// The handlers to call for one `name` event, in order: named ones first, then catch-alls.
    /// `once` handlers are removed as they are returned.
    pub fn take_for(&mut self, name: &str) -> Vec<H> {
        let at = self.by_name.iter().position(|(k, _)| k == name);
        let named = at.map_or(0, |at| self.by_name[at].1.len());
        let mut out = Vec::with_capacity(named + self.any.len());
        if let Some(at) = at {
            let list = &mut self.by_name[at].1;
            out.extend(list.iter().map(|e| e.handler.clone()));
            if list.iter().any(|e| e.once) {
                list.retain(|e| !e.once);
                if list.is_empty() {
                    self.by_name.remove(at);
                }
            }
        }
        out.extend(self.any.iter().map(|e| e.handler.clone()));
        out
    }

    /// Number of registered handlers.
    pub fn len(&self) -> usize {
        self.any.len() + self.by_name.iter().map(|(_, l)| l.len()).sum::<usize>()
    }

    /// Whether none are registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes handler `id` from `registry` and drops it after the borrow ends, so that a handler
/// owning other registrations (guards) can unregister them as it drops. Never a panic: a
/// registry borrowed right now (only while handlers are taken out for a dispatch) is left as
/// it is.
pub fn unregister<H: Clone>(registry: &std::cell::RefCell<Registry<H>>, id: HandlerId) {
    let removed = registry
        .try_borrow_mut()
        .ok()
        .and_then(|mut r| r.remove(id));
    drop(removed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_run_in_order_and_once_runs_once() {
        let mut r = Registry::default();
        r.on("a", 1);
        r.once("a", 2);
        r.on("b", 3);
        r.on_any(9);
        assert_eq!(r.take_for("a"), vec![1, 2, 9]);
        assert_eq!(r.take_for("a"), vec![1, 9]);
        assert_eq!(r.take_for("zzz"), vec![9]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn off_is_idempotent_and_cleans_up() {
        let mut r = Registry::default();
        let a = r.on("a", 1);
        let any = r.on_any(2);
        assert!(r.off(a));
        assert!(!r.off(a));
        assert!(r.wants("a"), "the catch-all still wants it");
        assert!(r.off(any));
        assert!(!r.wants("a"));
        assert!(r.is_empty());
    }
}
