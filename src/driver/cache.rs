//! The cache driver: owns the core [`QueryCache`](crate::core::query_cache::QueryCache) and
//! the event [`Rules`](crate::core::invalidation::Rules), runs query functions when the core
//! asks, calls watch hooks and observers, applies rules to the client's events, and
//! invalidates active queries after a reconnect that did not recover the session.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{Client, LocalFuture};
use crate::core::connection::Status as ConnStatus;
use crate::core::invalidation::{Action, Rules};
use crate::core::query_cache::{CacheOutput, Filters, Query, QueryCache, QueryType, RefetchType};
use crate::core::query_key::{partial_match, Value};
use crate::core::subscriptions::HandlerId;
use crate::platform::timers::{now, Timer};

/// Runs a query: resolves to its data as JSON text, or the reason it failed.
pub type QueryFn = Rc<dyn Fn() -> LocalFuture<Result<String, String>>>;
type Hook = Rc<dyn Fn(&[Value])>;
type Listener = Rc<dyn Fn(&Query)>;

struct Inner {
    core: RefCell<QueryCache>,
    rules: RefCell<Rules>,
    watchers: RefCell<Vec<(u64, Filters, Hook)>>,
    observers: RefCell<Vec<(u64, String, Listener)>>,
    query_fns: RefCell<Vec<(String, QueryFn)>>,
    next: Cell<u64>,
    timer: RefCell<Option<Timer>>,
    client: Client,
    handler: Cell<HandlerId>,
    state_listener: Cell<HandlerId>,
    was_open: Cell<bool>,
}

/// The query cache of a client.
#[derive(Clone)]
pub struct Cache {
    inner: Rc<Inner>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.client.off(self.handler.get());
        self.client.off_state(self.state_listener.get());
    }
}

impl Cache {
    /// A cache fed by `client`'s events (through the rules) and its reconnects.
    pub fn new(client: &Client) -> Cache {
        let inner = Rc::new(Inner {
            core: RefCell::new(QueryCache::new()),
            rules: RefCell::new(Rules::default()),
            watchers: RefCell::new(Vec::new()),
            observers: RefCell::new(Vec::new()),
            query_fns: RefCell::new(Vec::new()),
            next: Cell::new(0),
            timer: RefCell::new(None),
            client: client.clone(),
            handler: Cell::new(0),
            state_listener: Cell::new(0),
            was_open: Cell::new(false),
        });
        let weak = Rc::downgrade(&inner);
        inner.handler.set(client.on_any_raw(move |d| {
            let Some(inner) = weak.upgrade() else { return };
            if !inner.rules.borrow().wants(d.name) {
                return;
            }
            let payload = Value::parse(d.raw_args)
                .ok()
                .and_then(|a| {
                    if let Value::Arr(mut items) = a {
                        items.drain(..).next()
                    } else {
                        None
                    }
                })
                .unwrap_or(Value::Null);
            let (invalidate, set) = inner.rules.borrow().apply(d.name, &payload);
            let payload_text = payload.hash();
            let cache = Cache {
                inner: inner.clone(),
            };
            for key in set {
                cache.set_data(&key, payload_text.clone());
            }
            for key in invalidate {
                cache.invalidate(
                    &Filters {
                        query_key: Some(key),
                        ..Filters::default()
                    },
                    RefetchType::Active,
                );
            }
        }));
        let weak = Rc::downgrade(&inner);
        inner.state_listener.set(client.on_state_raw(move |s| {
            let Some(inner) = weak.upgrade() else { return };
            let open = s.status == ConnStatus::Open;
            // TanStack's refetch-on-reconnect, except when nothing was missed.
            if open && inner.was_open.get() && !s.recovered {
                let active = Filters {
                    kind: QueryType::Active,
                    ..Filters::default()
                };
                Cache {
                    inner: inner.clone(),
                }
                .invalidate(&active, RefetchType::Active);
            }
            if open {
                inner.was_open.set(true);
            }
        }));
        Cache { inner }
    }

    fn id(&self) -> u64 {
        self.inner.next.set(self.inner.next.get() + 1);
        self.inner.next.get()
    }

    /// `setQueryData`: `data` is JSON text.
    pub fn set_data(&self, key: &Value, data: String) {
        self.inner.core.borrow_mut().set_data(now(), key, data);
        pump(&self.inner);
    }

    /// `setQueryData` with the key as JSON text (see [`QueryCache::set_data_json`]).
    pub fn set_data_json(&self, key_text: &str, data: String) -> Result<(), String> {
        let r = self
            .inner
            .core
            .borrow_mut()
            .set_data_json(now(), key_text, data);
        pump(&self.inner);
        r
    }

    /// `getQueryData`: the data as JSON text.
    pub fn get_data(&self, key: &Value) -> Option<String> {
        self.inner
            .core
            .borrow()
            .get(key)
            .and_then(|q| q.data.clone())
    }

    /// `invalidateQueries`; returns how many queries matched.
    pub fn invalidate(&self, filters: &Filters, refetch: RefetchType) -> usize {
        let n = self
            .inner
            .core
            .borrow_mut()
            .invalidate(now(), filters, refetch)
            .len();
        pump(&self.inner);
        n
    }

    /// `removeQueries`; returns how many were removed.
    pub fn remove(&self, filters: &Filters) -> usize {
        let n = self.inner.core.borrow_mut().remove(now(), filters).len();
        pump(&self.inner);
        n
    }

    /// `resetQueries`; returns how many were reset.
    pub fn reset(&self, filters: &Filters) -> usize {
        let n = self.inner.core.borrow_mut().reset(now(), filters).len();
        pump(&self.inner);
        n
    }

    /// The invalidation hook: `hook(keys)` whenever an invalidation or a patch touches keys
    /// that `filters` matches. Returns an id for [`unwatch`](Self::unwatch).
    pub fn watch(&self, filters: Filters, hook: impl Fn(&[Value]) + 'static) -> u64 {
        let id = self.id();
        self.inner
            .watchers
            .borrow_mut()
            .push((id, filters, Rc::new(hook)));
        id
    }

    /// Removes a watch hook.
    pub fn unwatch(&self, id: u64) {
        self.inner
            .watchers
            .borrow_mut()
            .retain(|(i, _, _)| *i != id);
    }

    /// Observes `key`: `query_fn` runs when data is missing or stale and on invalidation while
    /// observed; `listener` hears every change. Returns an id for [`unobserve`](Self::unobserve).
    pub fn observe(
        &self,
        key: &Value,
        query_fn: QueryFn,
        stale_time: u64,
        gc_time: u64,
        listener: impl Fn(&Query) + 'static,
    ) -> u64 {
        let hash = key.hash();
        {
            let mut fns = self.inner.query_fns.borrow_mut();
            fns.retain(|(h, _)| *h != hash);
            fns.push((hash.clone(), query_fn));
        }
        let core_id = self
            .inner
            .core
            .borrow_mut()
            .observe(now(), key, stale_time, gc_time);
        self.inner
            .observers
            .borrow_mut()
            .push((core_id, hash.clone(), Rc::new(listener)));
        notify(&self.inner, &hash);
        pump(&self.inner);
        core_id
    }

    /// Stops observing.
    pub fn unobserve(&self, id: u64) {
        self.inner
            .observers
            .borrow_mut()
            .retain(|(i, _, _)| *i != id);
        self.inner.core.borrow_mut().unobserve(now(), id);
        pump(&self.inner);
    }

    /// Adds an event rule; returns its id.
    pub fn add_rule(&self, event: &str, action: Action) -> u64 {
        self.inner.rules.borrow_mut().add(event, action)
    }

    /// Removes an event rule.
    pub fn remove_rule(&self, id: u64) {
        self.inner.rules.borrow_mut().remove(id);
    }

    /// A query's current state.
    pub fn query(&self, key: &Value) -> Option<Query> {
        self.inner.core.borrow().get(key).cloned()
    }
}

fn notify(inner: &Rc<Inner>, hash: &str) {
    let listeners: Vec<Listener> = inner
        .observers
        .borrow()
        .iter()
        .filter(|(_, h, _)| h == hash)
        .map(|(_, _, l)| l.clone())
        .collect();
    if listeners.is_empty() {
        return; // nobody observes it: nothing to clone
    }
    let Some(q) = inner.core.borrow().get_by_hash(hash).cloned() else {
        return;
    };
    for l in listeners {
        l(&q);
    }
}

fn pump(inner: &Rc<Inner>) {
    loop {
        let out = inner.core.borrow_mut().poll();
        let Some(out) = out else { break };
        match out {
            CacheOutput::Updated(hash) => notify(inner, &hash),
            CacheOutput::Removed(hash) => inner.query_fns.borrow_mut().retain(|(h, _)| *h != hash),
            CacheOutput::Touched(_) if inner.watchers.borrow().is_empty() => {}
            CacheOutput::Touched(hashes) => {
                let keys: Vec<Value> = {
                    let core = inner.core.borrow();
                    hashes
                        .iter()
                        .filter_map(|h| core.get_by_hash(h).map(|q| q.key.clone()))
                        .collect()
                };
                let watchers: Vec<(Filters, Hook)> = inner
                    .watchers
                    .borrow()
                    .iter()
                    .map(|(_, f, h)| (f.clone(), h.clone()))
                    .collect();
                for (f, hook) in watchers {
                    let matched: Vec<Value> = keys
                        .iter()
                        .filter(|k| match &f.query_key {
                            None => true,
                            Some(fk) if f.exact => fk.hash() == k.hash(),
                            Some(fk) => partial_match(k, fk),
                        })
                        .cloned()
                        .collect();
                    if !matched.is_empty() {
                        hook(&matched);
                    }
                }
            }
            CacheOutput::Fetch(hash) => {
                let f = inner
                    .query_fns
                    .borrow()
                    .iter()
                    .find(|(h, _)| *h == hash)
                    .map(|(_, f)| f.clone());
                match f {
                    None => inner
                        .core
                        .borrow_mut()
                        .fetch_failed(&hash, "no query function".into()),
                    Some(f) => {
                        let weak = Rc::downgrade(inner);
                        let fut = f();
                        wasm_bindgen_futures::spawn_local(async move {
                            let result = fut.await;
                            let Some(inner) = weak.upgrade() else { return };
                            match result {
                                Ok(data) => inner.core.borrow_mut().fetched(now(), &hash, data),
                                Err(why) => inner.core.borrow_mut().fetch_failed(&hash, why),
                            }
                            pump(&inner);
                        });
                    }
                }
            }
        }
    }
    arm_timer(inner);
}

fn arm_timer(inner: &Rc<Inner>) {
    let Some(deadline) = inner.core.borrow().poll_timeout() else {
        return;
    };
    if inner
        .timer
        .borrow()
        .as_ref()
        .is_some_and(|t| t.deadline <= deadline)
    {
        return;
    }
    if let Some(old) = inner.timer.borrow_mut().take() {
        crate::platform::drop_later(old);
    }
    let weak = Rc::downgrade(inner);
    *inner.timer.borrow_mut() = Some(Timer::at(deadline, move || {
        if let Some(inner) = weak.upgrade() {
            if let Some(fired) = inner.timer.borrow_mut().take() {
                crate::platform::drop_later(fired);
            }
            inner.core.borrow_mut().handle_timeout(now());
            pump(&inner);
        }
    }));
}
