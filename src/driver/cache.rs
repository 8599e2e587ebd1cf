//! The cache driver: owns the core [`QueryCache`] and
//! the event [`Rules`], runs query functions when the core
//! asks, calls watch hooks and observers, applies rules to the client's events, invalidates
//! active queries after a reconnect that did not recover the session, persists changed
//! queries to IndexedDB (debounced, one record per query) and tells other tabs about patches
//! and invalidations.
//!
//! Its clock is `Date.now()` (as TanStack's `dataUpdatedAt`), so persisted ages survive reloads.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{Client, LocalFuture, Persistence, Subscription};
use crate::core::cache_sync::{SyncMessage, TabLink};
use crate::core::connection::Status as ConnStatus;
use crate::core::error::{Error, ErrorCode};
use crate::core::handlers::HandlerId;
use crate::core::invalidation::{Action, Rules};
use crate::core::query_cache::{
    restorable, CacheOutput, Change, Filters, Query, QueryCache, RefetchType,
};
use crate::core::query_key::{hash_of_plain, QueryKey, Value};
use crate::events::Listen;
use crate::platform::idb::{self, Op, Store, WriteError};
use crate::platform::tabs::Channel;
use crate::platform::timers::{self, wall_now as wall, Timer};

/// Removes the entry `id` (first field) of `list` and gives it back, to be dropped once the
/// list is no longer borrowed.
fn take_entry<A, B>(list: &RefCell<Vec<(u64, A, B)>>, id: u64) -> Option<(u64, A, B)> {
    let mut list = list.borrow_mut();
    let at = list.iter().position(|(i, _, _)| *i == id)?;
    Some(list.remove(at))
}

/// JSON text as `T` (`JSON.parse`, then serde).
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, Error> {
    super::off_browser()?;
    let value = js_sys::JSON::parse(json)
        .map_err(|_| Error::new(ErrorCode::DecodeError, "cached data is not JSON"))?;
    super::from_js(value, "")
}

/// Runs a query: resolves to its data as JSON text, or the reason it failed.
pub type QueryFn = Rc<dyn Fn() -> LocalFuture<Result<String, String>>>;
type Hook = Rc<dyn Fn(&[Value])>;
type Listener = Rc<dyn Fn(&Query)>;
/// Re-applies optimistic layers: called with the key and the new server data.
pub type Rebase = Rc<dyn Fn(&Value, Option<&str>)>;

/// How the cache persists (`cache.persist` in `connect`).
#[derive(Debug, Clone)]
pub struct PersistOptions {
    /// Stored queries older than this are dropped on load. Default 24 h.
    pub max_age_ms: u64,
    /// A version string: a store written with another one is dropped on load. Default "".
    pub buster: String,
    /// Changes are written this long after the first one (one transaction). Default 100 ms.
    pub debounce_ms: u64,
}

impl Default for PersistOptions {
    fn default() -> Self {
        PersistOptions {
            max_age_ms: 24 * 60 * 60 * 1000,
            buster: String::new(),
            debounce_ms: 100,
        }
    }
}

/// Cache options (`cache` in `connect`).
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Names the store and the tab channel, with `identity`. Default "default".
    pub name: String,
    /// Whose cache: each identity has its own store and channel. Default: the outbox's.
    pub identity: String,
    /// Persist to IndexedDB. Default off.
    pub persist: Option<PersistOptions>,
    /// Tell other tabs about patches and invalidations. Default on.
    pub broadcast: bool,
    /// gc time of queries never observed; default 5 min, or `max_age_ms` when persisting.
    pub gc_time_ms: Option<u64>,
    /// Retries of a failed fetch while observed. Default 3.
    pub retry: Option<u32>,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            name: "default".into(),
            identity: String::new(),
            persist: None,
            broadcast: true,
            gc_time_ms: None,
            retry: None,
        }
    }
}

struct Inner {
    core: RefCell<QueryCache>,
    rules: RefCell<Rules>,
    watchers: RefCell<Vec<(u64, Filters, Hook)>>,
    observers: RefCell<Vec<(u64, String, Listener)>>,
    query_fns: RefCell<Vec<(String, QueryFn)>>,
    rebase: RefCell<Option<Rebase>>,
    next: Cell<u64>,
    timer: RefCell<Option<Timer>>,
    client: Client,
    handler: Cell<HandlerId>,
    state_listener: Cell<HandlerId>,
    opts: CacheOptions,
    identity: RefCell<String>,
    /// Bumped by each identity switch: a load begun for another identity is discarded.
    generation: Cell<u64>,
    persistence: Cell<Persistence>,
    store: RefCell<Option<Rc<Store>>>,
    save_timer: RefCell<Option<Timer>>,
    saving: Cell<bool>,
    /// The tab channel and its protocol (`None`: not talking with other tabs).
    tabs: RefCell<Option<(Channel, TabLink)>>,
    /// The end of the wait for another tab's answer ([`TabLink::poll_timeout`]).
    tab_timer: RefCell<Option<Timer>>,
    /// The post of what is queued for the other tabs, at the end of this task.
    post_timer: RefCell<Option<Timer>>,
    ready: RefCell<Vec<Box<dyn FnOnce()>>>,
}

/// The query cache of a client.
#[derive(Clone)]
pub struct Cache {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.client.off(self.handler.get());
        self.client.off_state(self.state_listener.get());
    }
}

impl Cache {
    /// A cache fed by `client`'s events (through the rules) and its reconnects.
    pub fn new(client: &Client, opts: CacheOptions) -> Cache {
        let mut core = QueryCache::new();
        if let Some(gc) = opts
            .gc_time_ms
            .or(opts.persist.as_ref().map(|p| p.max_age_ms))
        {
            core.set_default_gc_time(gc);
        }
        if let Some(retry) = opts.retry {
            core.set_retry(retry);
        }
        if opts.persist.is_some() {
            core.track_changes();
        }
        let persistence = if opts.persist.is_some() {
            Persistence::Loading
        } else {
            Persistence::Off
        };
        let inner = Rc::new(Inner {
            core: RefCell::new(core),
            rules: RefCell::new(Rules::default()),
            watchers: RefCell::new(Vec::new()),
            observers: RefCell::new(Vec::new()),
            query_fns: RefCell::new(Vec::new()),
            rebase: RefCell::new(None),
            next: Cell::new(0),
            timer: RefCell::new(None),
            client: client.bare(),
            handler: Cell::new(0),
            state_listener: Cell::new(0),
            identity: RefCell::new(opts.identity.clone()),
            generation: Cell::new(0),
            opts,
            persistence: Cell::new(persistence),
            store: RefCell::new(None),
            save_timer: RefCell::new(None),
            saving: Cell::new(false),
            tabs: RefCell::new(None),
            tab_timer: RefCell::new(None),
            post_timer: RefCell::new(None),
            ready: RefCell::new(Vec::new()),
        });
        let weak = Rc::downgrade(&inner);
        inner.handler.set(client.on_any_raw(move |d| {
            let Some(inner) = weak.upgrade() else { return };
            let rules = inner.rules.borrow();
            if rules.wants(d.name) {
                let mut core = inner.core.borrow_mut();
                core.apply_event(wall(), &rules, d.name, d.raw_args);
                drop((core, rules));
                pump(&inner);
            }
        }));
        let weak = Rc::downgrade(&inner);
        inner.state_listener.set(client.on_state_raw(move |s| {
            let Some(inner) = weak.upgrade() else { return };
            if s.status == ConnStatus::Open {
                // Not told to other tabs: each tab has its own connection.
                inner.core.borrow_mut().connection_opened(wall(), s.resync);
                pump(&inner);
            }
        }));
        if inner.opts.broadcast {
            open_channel(&inner);
        }
        if inner.opts.persist.is_some() {
            crate::platform::spawn(load(Rc::downgrade(&inner)));
        }
        Cache { inner }
    }

    /// Another user: the cache forgets this one's queries (observed ones fetch again, as the
    /// new identity), and switches to that identity's own store and tab channel. The old
    /// identity's store is left as it was, for when it comes back.
    pub fn switch_identity(&self, identity: &str) {
        let inner = &self.inner;
        if *inner.identity.borrow() == identity {
            return;
        }
        // Nothing more goes to the old store or the old tabs, but what changed before the
        // switch (within the debounce) is still written to the old store.
        let old_store = inner.store.borrow_mut().take();
        if let Some(t) = inner.save_timer.borrow_mut().take() {
            crate::platform::drop_later(t);
        }
        self.close_tabs();
        *inner.identity.borrow_mut() = identity.to_owned();
        inner.generation.set(inner.generation.get() + 1);
        {
            let mut core = inner.core.borrow_mut();
            let unsaved = core.take_changes();
            if let (Some(store), false) = (old_store, unsaved.is_empty()) {
                let ops = ops_of(unsaved, inner.buster());
                crate::platform::spawn(async move {
                    let _ = store.apply(&ops).await;
                });
            }
            core.switch_identity(wall());
        }
        if inner.opts.broadcast {
            open_channel(inner);
        }
        if inner.opts.persist.is_some() {
            inner.persistence.set(Persistence::Loading);
            crate::platform::spawn(load(Rc::downgrade(inner)));
        }
        pump(inner);
    }

    /// Stops talking with other tabs (the client closed): nothing is sent or applied.
    pub fn close_tabs(&self) {
        let inner = &self.inner;
        inner.tabs.borrow_mut().take();
        for timer in [&inner.tab_timer, &inner.post_timer] {
            if let Some(t) = timer.borrow_mut().take() {
                crate::platform::drop_later(t);
            }
        }
    }

    /// Talks with other tabs again (the client reconnects), if `broadcast` is on.
    pub fn open_tabs(&self) {
        if self.inner.opts.broadcast && self.inner.tabs.borrow().is_none() {
            open_channel(&self.inner);
        }
    }

    /// Where the data is kept: off, loading, indexeddb or memory.
    pub fn persistence(&self) -> Persistence {
        self.inner.persistence.get()
    }

    /// Calls `f` once the stored queries are restored (at once when not persisting, or when
    /// already restored or failed).
    pub fn when_ready(&self, f: impl FnOnce() + 'static) {
        if self.inner.persistence.get() == Persistence::Loading {
            self.inner.ready.borrow_mut().push(Box::new(f));
        } else {
            f();
        }
    }

    /// Sets the function that re-applies optimistic layers when server data reaches a
    /// layered query. Without one, the server data simply shows.
    pub fn on_rebase(&self, f: Rebase) {
        *self.inner.rebase.borrow_mut() = Some(f);
    }

    /// Covers `key` with optimistic layers, or uncovers it (the server data shows again).
    pub fn set_layered(&self, key: &Value, layered: bool) {
        self.inner
            .core
            .borrow_mut()
            .set_layered(wall(), key, layered);
        pump(&self.inner);
    }

    /// Writes what the layers made of the server data: shown, never stored or broadcast.
    pub fn set_visible(&self, key: &Value, data: Option<String>) {
        self.inner.core.borrow_mut().set_visible(key, data);
        pump(&self.inner);
    }

    /// The queries `filters` selects (`getQueriesData`, predicates).
    pub fn find(&self, filters: &Filters) -> Vec<Query> {
        let core = self.inner.core.borrow();
        core.find(wall(), filters)
            .iter()
            .filter_map(|h| core.get_by_hash(h).cloned())
            .collect()
    }

    fn id(&self) -> u64 {
        self.inner.next.set(self.inner.next.get() + 1);
        self.inner.next.get()
    }

    /// `setQueryData`: `data` is JSON text.
    pub fn set_data(&self, key: &Value, data: String) {
        self.write(key, data, true);
    }

    /// `setQueryData`; other tabs are told when `tell_tabs` (not for what every tab derives
    /// from its own events).
    fn write(&self, key: &Value, data: String, tell_tabs: bool) {
        if tell_tabs && others_listen(&self.inner) {
            tell_other_tabs(
                &self.inner,
                SyncMessage::Set {
                    key: key.hash(),
                    data: data.clone(),
                },
            );
        }
        self.inner.core.borrow_mut().set_data(wall(), key, data);
        pump(&self.inner);
    }

    /// `setQueryData` with the key as JSON text (see [`QueryCache::set_data_json`]). Other
    /// tabs are told when `tell_tabs` (not for what every tab derives from its own events).
    pub fn set_data_json(
        &self,
        key_text: &str,
        data: String,
        tell_tabs: bool,
    ) -> Result<(), String> {
        let told = (tell_tabs && others_listen(&self.inner)).then(|| data.clone());
        let r = self
            .inner
            .core
            .borrow_mut()
            .set_data_json(wall(), key_text, data);
        if let (Ok(()), Some(data)) = (&r, told) {
            let key = hash_of_plain(key_text).map_or_else(
                || Value::parse(key_text).map(|k| k.hash()).unwrap_or_default(),
                str::to_owned,
            );
            tell_other_tabs(&self.inner, SyncMessage::Set { key, data });
        }
        pump(&self.inner);
        r
    }

    /// The server's data of a query (beneath any optimistic layers), as JSON text.
    pub fn server_data(&self, key: &Value) -> Option<String> {
        self.inner
            .core
            .borrow()
            .get(key)
            .and_then(|q| q.server_data().map(str::to_owned))
    }

    /// `getQueryData`: the data as JSON text.
    pub fn get_data(&self, key: &Value) -> Option<String> {
        self.inner
            .core
            .borrow()
            .get(key)
            .and_then(|q| q.data.clone())
    }

    /// `invalidateQueries`; returns how many queries matched. Other tabs are told when
    /// `tell_tabs`.
    pub fn invalidate(&self, filters: &Filters, refetch: RefetchType, tell_tabs: bool) -> usize {
        if tell_tabs && others_listen(&self.inner) {
            tell_other_tabs(
                &self.inner,
                SyncMessage::Invalidate(filters.clone(), refetch),
            );
        }
        let n = self
            .inner
            .core
            .borrow_mut()
            .invalidate(wall(), filters, refetch);
        pump(&self.inner);
        n
    }

    /// `removeQueries`; returns how many were removed.
    pub fn remove(&self, filters: &Filters) -> usize {
        let n = self.inner.core.borrow_mut().remove(wall(), filters).len();
        pump(&self.inner);
        n
    }

    /// `resetQueries`; returns how many were reset.
    pub fn reset(&self, filters: &Filters) -> usize {
        let n = self.inner.core.borrow_mut().reset(wall(), filters).len();
        pump(&self.inner);
        n
    }

    /// The invalidation hook: `hook(keys)` whenever an invalidation or a patch touches keys
    /// that `filters` matches (a [`QueryKey`] matches by prefix), until the guard drops.
    pub fn watch(
        &self,
        filters: impl Into<Filters>,
        hook: impl Fn(&[QueryKey]) + 'static,
    ) -> Subscription {
        let id = self.watch_raw(filters.into(), hook);
        self.guard("cache watch", id, |c, id| c.unwatch(id))
    }

    /// A guard that runs `off(cache, id)` when dropped (unless the cache is gone).
    fn guard(&self, what: &'static str, id: u64, off: fn(&Cache, u64)) -> Subscription {
        let weak = Rc::downgrade(&self.inner);
        Subscription::new(what, move || {
            if let Some(inner) = weak.upgrade() {
                off(&Cache { inner }, id);
            }
        })
    }

    /// [`watch`](Self::watch), until [`unwatch`](Self::unwatch) with the id returned.
    pub fn watch_raw(&self, filters: Filters, hook: impl Fn(&[Value]) + 'static) -> u64 {
        let id = self.id();
        self.inner
            .watchers
            .borrow_mut()
            .push((id, filters, Rc::new(hook)));
        self.inner.core.borrow_mut().set_watched(true);
        id
    }

    /// Removes a watch hook.
    pub fn unwatch(&self, id: u64) {
        // Dropped after the borrow: a hook may own other guards of this cache.
        let removed = take_entry(&self.inner.watchers, id);
        drop(removed);
        let watched = !self.inner.watchers.borrow().is_empty();
        self.inner.core.borrow_mut().set_watched(watched);
    }

    /// Observes `key` (`useQuery`) until the guard drops: `fetch` runs when data is missing,
    /// older than `stale_time_ms`, or invalidated while observed; `listener` hears every
    /// change, with the data as `T` (`None` before any, or when it does not fit `T`, which
    /// goes to the client's error listeners).
    ///
    /// ```no_run
    /// # fn show(client: wiresync::Client) {
    /// use wiresync::key;
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Order { status: String }
    /// let _orders = client.cache().observe(
    ///     key!["order", "ord_1"],
    ///     30_000,
    ///     || async { Ok(Order { status: "placed".into() }) }, // your fetch
    ///     |order: Option<Order>, query| {
    ///         let _ = (order.map(|o| o.status), query.fetching);
    ///     },
    /// );
    /// # }
    /// ```
    pub fn observe<T, F, Fut>(
        &self,
        key: impl Into<QueryKey>,
        stale_time_ms: u64,
        fetch: F,
        listener: impl Fn(Option<T>, &Query) + 'static,
    ) -> Subscription
    where
        T: serde::Serialize + serde::de::DeserializeOwned + 'static,
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<T, String>> + 'static,
    {
        let key = key.into();
        let query_fn: QueryFn = Rc::new(move || {
            let fut = fetch();
            Box::pin(async move {
                let data = fut.await?;
                super::to_json(&data, "").map_err(|e| e.message)
            })
        });
        let report = self.inner.client.reporter();
        let listener = move |q: &Query| {
            let data = q.data.as_deref().and_then(|d| match decode::<T>(d) {
                Ok(t) => Some(t),
                Err(e) => {
                    report(&e);
                    None
                }
            });
            listener(data, q)
        };
        let id = self.observe_raw(&key, query_fn, stale_time_ms, None, listener);
        self.guard("cache observer", id, |c, id| c.unobserve(id))
    }

    /// The data of `key` as `T` (`getQueryData`): `None` when there is none or it does not
    /// fit `T` (see [`get_data`](Self::get_data) for the JSON text).
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &QueryKey) -> Option<T> {
        decode(&self.get_data(key)?).ok()
    }

    /// Sets the data of `key` (`setQueryData`); other tabs are told.
    pub fn set<T: serde::Serialize>(&self, key: &QueryKey, data: &T) -> Result<(), Error> {
        self.set_data(key, super::to_json(data, "")?);
        Ok(())
    }

    /// Invalidates the queries `keys(&event)` names (prefix match; active ones refetch) on
    /// every `E`, until the guard drops: the typed `invalidateOn`.
    ///
    /// ```no_run
    /// # fn rules(client: wiresync::Client) {
    /// use wiresync::{events::OrderStatusUpdate, key};
    /// let _rule = client
    ///     .cache()
    ///     .invalidate_on::<OrderStatusUpdate>(|u| vec![key!["order", &u.order_id], key!["orders"]]);
    /// # }
    /// ```
    pub fn invalidate_on<E: Listen + 'static>(
        &self,
        keys: impl Fn(&E) -> Vec<QueryKey> + 'static,
    ) -> Subscription {
        self.on_event::<E>("cache invalidate_on rule", move |cache, event| {
            for key in keys(&event) {
                // Every tab hears the event itself: not told to the others.
                cache.invalidate(&key.into(), RefetchType::Active, false);
            }
        })
    }

    /// A typed rule: `rule(cache, event)` on every `E` while the cache lives, until the guard
    /// drops (the client's handler holds the cache weakly).
    fn on_event<E: Listen + 'static>(
        &self,
        what: &'static str,
        rule: impl Fn(&Cache, E) + 'static,
    ) -> Subscription {
        let weak = Rc::downgrade(&self.inner);
        let client = &self.inner.client;
        client
            .on::<E>(move |event| {
                if let Some(inner) = weak.upgrade() {
                    rule(&Cache { inner }, event);
                }
            })
            .of(what)
    }

    /// Patches the data of `key(&event)` on every `E`, until the guard drops: the typed
    /// `patchOn`. `patch` gets the data as `T` (`None` when there is none) and gives the new
    /// data, or `None` to leave it as it is.
    ///
    /// ```no_run
    /// # fn rules(client: wiresync::Client) {
    /// use wiresync::{events::OrderStatusUpdate, key};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Order { status: String }
    /// let _rule = client.cache().patch_on::<OrderStatusUpdate, Order>(
    ///     |u| key!["order", &u.order_id],
    ///     |order, u| order.map(|o| Order { status: u.status.clone(), ..o }),
    /// );
    /// # }
    /// ```
    pub fn patch_on<E, T>(
        &self,
        key: impl Fn(&E) -> QueryKey + 'static,
        patch: impl Fn(Option<T>, &E) -> Option<T> + 'static,
    ) -> Subscription
    where
        E: Listen + 'static,
        T: serde::Serialize + serde::de::DeserializeOwned + 'static,
    {
        self.on_event::<E>("cache patch_on rule", move |cache, event| {
            let key = key(&event);
            let old = match cache.get_data(&key).map(|d| decode::<T>(&d)) {
                None => None,
                Some(Ok(t)) => Some(t),
                // Data that does not fit `T` is left as it is, and told.
                Some(Err(e)) => return cache.inner.client.report_error(&e.with_event(E::NAME)),
            };
            let Some(new) = patch(old, &event) else {
                return;
            };
            match super::to_json(&new, E::NAME) {
                // Every tab hears the event itself: not told to the others.
                Ok(data) => cache.write(&key, data, false),
                Err(e) => cache.inner.client.report_error(&e),
            }
        })
    }

    /// [`observe`](Self::observe) with the data as JSON text: `query_fn` runs when data is
    /// missing or stale and on invalidation while observed; `listener` hears every change.
    /// `gc_time` `None`: the cache's default (5 min, or `maxAgeMs` when persisting). Returns an
    /// id for [`unobserve`](Self::unobserve).
    pub fn observe_raw(
        &self,
        key: &Value,
        query_fn: QueryFn,
        stale_time: u64,
        gc_time: Option<u64>,
        listener: impl Fn(&Query) + 'static,
    ) -> u64 {
        let hash = key.hash();
        {
            let mut fns = self.inner.query_fns.borrow_mut();
            fns.retain(|(h, _)| *h != hash);
            fns.push((hash.clone(), query_fn));
        }
        let core_id = {
            let mut core = self.inner.core.borrow_mut();
            let gc_time = gc_time.unwrap_or_else(|| core.default_gc_time());
            core.observe(wall(), key, stale_time, gc_time)
        };
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
        // Dropped after the borrow: a listener may own other guards of this cache.
        let removed = take_entry(&self.inner.observers, id);
        drop(removed);
        self.inner.core.borrow_mut().unobserve(wall(), id);
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
            CacheOutput::Rebase(hash) => rebase(inner, &hash),
            CacheOutput::Removed(hash) => inner.query_fns.borrow_mut().retain(|(h, _)| *h != hash),
            CacheOutput::Touched(_) if inner.watchers.borrow().is_empty() => {}
            CacheOutput::Touched(hashes) => {
                let keys: Vec<Value> = {
                    let core = inner.core.borrow();
                    hashes
                        .iter()
                        // A removed query is no longer there: its hash is its key as JSON.
                        .filter_map(|h| {
                            core.get_by_hash(h)
                                .map(|q| q.key.clone())
                                .or_else(|| Value::parse(h).ok())
                        })
                        .collect()
                };
                let watchers: Vec<(Filters, Hook)> = inner
                    .watchers
                    .borrow()
                    .iter()
                    .map(|(_, f, h)| (f.clone(), h.clone()))
                    .collect();
                for (f, hook) in watchers {
                    let matched: Vec<Value> = {
                        let core = inner.core.borrow();
                        let t = wall();
                        keys.iter()
                            .filter(|k| core.selects(t, &f, k))
                            .cloned()
                            .collect()
                    };
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
                let token = inner.core.borrow().fetch_token(&hash);
                match f {
                    // Off the browser query functions never run (they would call the browser):
                    // the fetch stays under way.
                    _ if !crate::platform::IN_BROWSER => {}
                    None => inner.core.borrow_mut().fetch_failed(
                        wall(),
                        &hash,
                        token,
                        "no query function".into(),
                    ),
                    Some(f) => {
                        let weak = Rc::downgrade(inner);
                        let fut = f();
                        crate::platform::spawn(async move {
                            let result = fut.await;
                            let Some(inner) = weak.upgrade() else { return };
                            // A fetch superseded meanwhile (reset, another identity) is ignored
                            // by the core: its token is no longer the one under way.
                            match result {
                                Ok(data) => {
                                    inner.core.borrow_mut().fetched(wall(), &hash, token, data)
                                }
                                Err(why) => {
                                    inner
                                        .core
                                        .borrow_mut()
                                        .fetch_failed(wall(), &hash, token, why)
                                }
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
    if inner.core.borrow().has_changes() {
        schedule_save(inner);
    }
    let deadline = inner.core.borrow().poll_timeout();
    if let Some(deadline) = deadline {
        timers::rearm(
            inner,
            |i| &i.timer,
            timers::from_wall(deadline),
            |inner| {
                inner.core.borrow_mut().handle_timeout(wall());
                pump(inner);
            },
        );
    }
}

/// Server data reached a layered query: the layers are re-applied over it (or, with nobody
/// to do that, the server data shows).
fn rebase(inner: &Rc<Inner>, hash: &str) {
    let (key, base) = {
        let core = inner.core.borrow();
        let Some(q) = core.get_by_hash(hash) else {
            return;
        };
        (q.key.clone(), q.server_data().map(str::to_owned))
    };
    let f = inner.rebase.borrow().clone();
    match f {
        Some(f) => f(&key, base.as_deref()),
        None => inner.core.borrow_mut().set_visible(&key, base),
    }
}

impl Inner {
    /// The persisted records' version string.
    fn buster(&self) -> &str {
        self.opts.persist.as_ref().map_or("", |p| p.buster.as_str())
    }

    /// The store's and the tab channel's name: per cache name and identity.
    fn store_name(&self) -> String {
        [
            "wiresync-cache:",
            &self.opts.name,
            ":",
            &self.identity.borrow(),
        ]
        .concat()
    }
}

// ---- tabs -------------------------------------------------------------------------------
//
// The protocol (hello / here, what is queued, the batches) is core::cache_sync::TabLink; here
// are the BroadcastChannel and the two timers it needs: the end of the wait for an answer, and
// one post per task.

fn open_channel(inner: &Rc<Inner>) {
    let weak = Rc::downgrade(inner);
    // Per tab protocol: tabs of another release (after a deploy) never read these messages.
    let name = [&inner.store_name(), "|", crate::core::share::TAB_PROTOCOL].concat();
    let channel = Channel::open(&name, move |text, _| {
        if let Some(inner) = weak.upgrade() {
            from_other_tab(&inner, &text);
        }
    });
    let (link, hello) = TabLink::open(timers::now());
    channel.post(hello);
    *inner.tabs.borrow_mut() = Some((channel, link));
    arm_tab_timer(inner);
}

/// The end of the wait for another tab's answer.
fn arm_tab_timer(inner: &Rc<Inner>) {
    let deadline = inner
        .tabs
        .borrow()
        .as_ref()
        .and_then(|(_, l)| l.poll_timeout());
    if let Some(at) = deadline {
        timers::rearm(
            inner,
            |i| &i.tab_timer,
            at,
            |inner| {
                if let Some((_, link)) = inner.tabs.borrow_mut().as_mut() {
                    link.handle_timeout(timers::now());
                }
            },
        );
    }
}

fn others_listen(inner: &Inner) -> bool {
    inner
        .tabs
        .borrow()
        .as_ref()
        .is_some_and(|(_, l)| l.others_listen())
}

fn tell_other_tabs(inner: &Rc<Inner>, message: SyncMessage) {
    if let Some((_, link)) = inner.tabs.borrow_mut().as_mut() {
        link.tell(&message);
    }
    schedule_post(inner);
}

/// Posts what is queued, as the link batches it, at the end of this task.
fn schedule_post(inner: &Rc<Inner>) {
    timers::rearm(
        inner,
        |i| &i.post_timer,
        timers::now(),
        |inner| {
            if let Some((channel, link)) = inner.tabs.borrow_mut().as_mut() {
                if let Some(batch) = link.take_batch() {
                    channel.post(&batch);
                }
            }
        },
    );
}

/// Another tab said hello, answered, or patched and invalidated: the same here, told to
/// nobody else.
fn from_other_tab(inner: &Rc<Inner>, text: &str) {
    {
        let mut tabs = inner.tabs.borrow_mut();
        let Some((channel, link)) = tabs.as_mut() else {
            return;
        };
        let mut core = inner.core.borrow_mut();
        let answer = link.received(text, |m| match m {
            SyncMessage::Set { key, data } => {
                let _ = core.set_data_json(wall(), &key, data);
            }
            SyncMessage::Invalidate(filters, refetch) => {
                core.invalidate(wall(), &filters, refetch);
            }
        });
        if let Some(answer) = answer {
            channel.post(answer);
        }
    }
    schedule_post(inner); // another tab may be there now: what was queued goes to it
    pump(inner);
}

// ---- persistence ----------------------------------------------------------------------------

/// Opens the store and restores what it holds: records of another `buster`, older than
/// `max_age_ms` or unreadable are deleted, the rest restored with their age.
async fn load(weak: std::rc::Weak<Inner>) {
    let Some((name, persist, generation)) = weak
        .upgrade()
        .and_then(|i| Some((i.store_name(), i.opts.persist.clone()?, i.generation.get())))
    else {
        return;
    };
    let loaded = match Store::open(&name).await {
        Ok(store) => store.load().await.map(|records| (store, records)),
        Err(why) => Err(why),
    };
    let Some(inner) = weak.upgrade() else { return };
    if inner.generation.get() != generation {
        return; // another identity now: its own load restores its cache
    }
    match loaded {
        Ok((store, records)) => {
            let mut stale = Vec::new();
            let now = wall();
            {
                let mut core = inner.core.borrow_mut();
                for record in records {
                    match idb::from_query_record(&record) {
                        Ok((hash, data, at, buster))
                            if restorable(
                                now,
                                (at, &buster, &data),
                                &persist.buster,
                                persist.max_age_ms,
                            ) =>
                        {
                            match Value::parse(&hash) {
                                Ok(key @ Value::Arr(_)) => {
                                    core.restore(now, &key, data, at);
                                }
                                _ => stale.push(Op::Delete(hash)),
                            }
                        }
                        Ok((hash, ..)) => stale.push(Op::Delete(hash)),
                        Err(_) => {
                            if let Some(id) = crate::platform::glue::get(&record, "id").as_string()
                            {
                                stale.push(Op::Delete(id));
                            }
                        }
                    }
                }
            }
            let store = Rc::new(store);
            if !stale.is_empty() {
                let _ = store.apply(&stale).await;
                if inner.generation.get() != generation {
                    return;
                }
            }
            *inner.store.borrow_mut() = Some(store);
            inner.persistence.set(Persistence::IndexedDb);
        }
        Err(why) => {
            inner.persistence.set(Persistence::Memory);
            inner.core.borrow_mut().untrack_changes();
            inner.client.report_error(&Error::new(
                ErrorCode::StorageUnavailable,
                ["the query cache is not persisted: ", &why].concat(),
            ));
        }
    }
    let waiting = std::mem::take(&mut *inner.ready.borrow_mut());
    for f in waiting {
        f();
    }
    pump(&inner);
}

/// Writes the changes `debounce_ms` after the first, one transaction at a time.
fn schedule_save(inner: &Rc<Inner>) {
    let Some(persist) = &inner.opts.persist else {
        return;
    };
    // A save timer already armed stays (rearm keeps the earlier deadline): one save per burst.
    if inner.store.borrow().is_none() || inner.saving.get() {
        return;
    }
    let at = timers::now().saturating_add(persist.debounce_ms);
    timers::rearm(
        inner,
        |i| &i.save_timer,
        at,
        |inner| {
            crate::platform::spawn(save(inner.clone()));
        },
    );
}

/// The store operations for `changes`.
fn ops_of(changes: Vec<Change>, buster: &str) -> Vec<Op> {
    changes
        .into_iter()
        .map(|c| match c {
            Change::Put { hash, data, at } => {
                Op::Put(idb::to_query_record(&hash, &data, at, buster))
            }
            Change::Delete(hash) => Op::Delete(hash),
        })
        .collect()
}

async fn save(inner: Rc<Inner>) {
    let Some(store) = inner.store.borrow().clone() else {
        return;
    };
    let changes = inner.core.borrow_mut().take_changes();
    let ops = ops_of(changes, inner.buster());
    inner.saving.set(true);
    let result = store.apply(&ops).await;
    inner.saving.set(false);
    if let Err(e) = result {
        inner.client.report_error(&match e {
            WriteError::Quota => Error::new(
                ErrorCode::QuotaExceeded,
                "the query cache could not be persisted: storage is full",
            ),
            WriteError::Other(why) => Error::new(
                ErrorCode::StorageUnavailable,
                ["the query cache could not be persisted: ", &why].concat(),
            ),
        });
    }
    if inner.core.borrow().has_changes() {
        schedule_save(&inner);
    }
}
