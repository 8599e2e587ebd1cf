//! The outbox driver: owns the core [`outbox`](crate::core::outbox) state machine and carries
//! out its outputs. Writes go to IndexedDB in one transaction per tick (group commit) and an
//! `enqueue` completes only once its write is committed; events are sent through the client
//! with an ack, the entry id injected into the payload; requests are replayed with `fetch`
//! and an `Idempotency-Key`. One tab flushes (Web Lock); the others enqueue into the same
//! database and hear of changes through a BroadcastChannel.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::reply::{self, Reply};
use super::{Client, LocalFuture, Persistence, Subscription};
use crate::core::connection::Status as ConnStatus;
use crate::core::error::{Error, ErrorCode};
use crate::core::handlers::{HandlerId, Registry};
use crate::core::json::{self, Kind};
use crate::core::outbox::{
    self as core, Entry, Message, NewEntry, OutboxConfig, OutboxOutput, Outcome,
};
use crate::core::text::int;
use crate::events::Emit;
use crate::platform::glue;
use crate::platform::idb::{self, Op, Store, WriteError};
use crate::platform::tabs::{Channel, Leadership};
use crate::platform::timers::{self, Timer};

/// Produces the headers added to a replayed request at send time.
pub type HeaderSource = Rc<dyn Fn() -> LocalFuture<Vec<(String, String)>>>;

/// Outbox options. Every field has its default beside it.
#[derive(Clone)]
pub struct OutboxOptions {
    /// The outbox's name: clients with the same name (in any tab, after any reload) share
    /// its entries. Default `"default"`.
    pub name: String,
    /// Whose entries these are: each identity has its own store, and switching identity
    /// (`set_identity`) never sends one identity's entries under another's credentials.
    /// Default `"default"`.
    pub identity: String,
    /// Capacity, overflow, TTL, retries, window, retry backoff.
    pub config: OutboxConfig,
    /// The payload field that carries the entry id. Default `"clientMessageId"`.
    pub id_field: String,
    /// Headers added to replayed requests at send time (e.g. `Authorization`); never stored.
    pub request_headers: Option<HeaderSource>,
}

impl std::fmt::Debug for OutboxOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxOptions")
            .field("name", &self.name)
            .field("identity", &self.identity)
            .field("config", &self.config)
            .field("id_field", &self.id_field)
            .field("request_headers", &self.request_headers.is_some())
            .finish()
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            name: "default".into(),
            identity: "default".into(),
            config: OutboxConfig::default(),
            id_field: "clientMessageId".into(),
            request_headers: None,
        }
    }
}

/// The id of an outbox entry (a UUID): what its payload carries in `id_field`;
/// [`Outbox::retry`] and [`Outbox::remove`] take it as `id.as_ref()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryId(pub String);

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EntryId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Options of one entry ([`Outbox::enqueue_in`]). Every field defaults to `None`.
#[derive(Debug, Clone, Default)]
pub struct EntryOptions {
    /// Entries are delivered in order per lane. Default: lane `"default"`.
    pub lane: Option<String>,
    /// An unsent entry with the same key is replaced in place (told as dropped,
    /// `"replaced"`). Default: none.
    pub dedupe_key: Option<String>,
    /// Moved to failed when not delivered within this time, ms. Default: the outbox's
    /// `config.ttl_ms` (24 h).
    pub ttl_ms: Option<u64>,
}

/// What outbox listeners hear.
#[derive(Debug)]
pub enum OutboxEvent<'a> {
    /// The counts changed (or where entries are kept did).
    Change(&'a core::Status, Persistence),
    /// An entry was delivered (acknowledged) and removed.
    Delivered(&'a Entry),
    /// An entry moved to failed.
    Failed(&'a Entry),
    /// An entry was dropped: `"capacity"` or `"replaced"`.
    Dropped(&'a Entry, &'static str),
}

type Listener = Rc<dyn Fn(&OutboxEvent)>;
type Waiter = Box<dyn FnOnce(Result<(), Error>)>;

struct Inner {
    core: RefCell<core::Outbox>,
    client: Client,
    opts: OutboxOptions,
    store: RefCell<Option<Rc<Store>>>,
    persistence: Rc<Cell<Persistence>>,
    queue: RefCell<Vec<(Op, Option<String>)>>,
    waiters: RefCell<Vec<(String, Waiter)>>,
    commit_scheduled: Cell<bool>,
    /// The entry being enqueued (its id) and its payload as the JS string the caller made, for
    /// its record: `pump` takes it, so the payload is not decoded out of wasm memory again.
    fresh: RefCell<Option<(String, JsValue)>>,
    /// The binary parts of entries whose payload has placeholders, by entry id: stored in
    /// their records, sent after their packets.
    parts: RefCell<Vec<(String, Array)>>,
    unsaved: RefCell<Vec<String>>,
    /// Ids whose deletion is queued or being committed: storage still holds them, but a reload
    /// must not bring them back (they were delivered, dropped or removed here).
    deleting: RefCell<Vec<String>>,
    timer: RefCell<Option<Timer>>,
    leader: RefCell<Option<Leadership>>,
    channel: RefCell<Option<Channel>>,
    /// Shared with the outbox of the next identity (see [`Outbox::with_identity`]).
    listeners: Rc<RefCell<Registry<Listener>>>,
    connected: Cell<bool>,
    state_listener: Cell<HandlerId>,
    /// Reads of storage asked for before sending (when the store opens, on gaining the lock),
    /// and the last one done: entries stored by an earlier page or the previous flushing tab
    /// go out before any enqueued since, so nothing is sent until `read` catches up.
    reads_wanted: Cell<u32>,
    reads_done: Cell<u32>,
    /// A read of storage is under way; another was asked for meanwhile.
    reloading: Cell<bool>,
    reload_again: Cell<bool>,
}

/// A durable outbox bound to a client.
#[derive(Clone)]
pub struct Outbox {
    inner: Rc<Inner>,
}

use crate::platform::timers::wall_now as wall;

impl Outbox {
    /// Opens the outbox `opts.name` for `opts.identity` and starts delivering through `client`.
    ///
    /// [`Client::outbox`] opens one for the client (with [`Options::outbox`]); this opens
    /// another, e.g. of another name.
    ///
    /// [`Options::outbox`]: crate::Options::outbox
    ///
    /// ```no_run
    /// use wiresync::{Client, Options, Outbox, OutboxOptions};
    /// let client = Client::connect(Options::new("https://api.example.com"));
    /// let notes = Outbox::open(&client, OutboxOptions { name: "notes".into(), ..Default::default() });
    /// notes.enqueue_json("note:add", r#"{"text":"hi"}"#, None, None, None, Box::new(|stored| {
    ///     // Ok(id) once the entry is in IndexedDB
    /// }));
    /// ```
    pub fn open(client: &Client, opts: OutboxOptions) -> Outbox {
        Outbox::open_with(client, opts, Rc::default())
    }

    /// The outbox of `identity` (this one if it is already that identity's): the entries of
    /// another user are never sent under this one's credentials. This one's store closes
    /// first; its listeners (and their ids) carry over, and hear the new counts once the new
    /// store is open.
    pub fn with_identity(self, identity: &str) -> Outbox {
        if self.inner.opts.identity == identity {
            return self;
        }
        let (client, listeners) = (self.inner.client.clone(), self.inner.listeners.clone());
        let opts = OutboxOptions {
            identity: identity.to_owned(),
            ..self.inner.opts.clone()
        };
        // A clone someone kept stops flushing: its entries are not for the new credentials.
        if let Some(l) = self.inner.leader.borrow_mut().take() {
            crate::platform::drop_later(l);
        }
        drop(self);
        Outbox::open_with(&client, opts, listeners)
    }

    fn open_with(
        client: &Client,
        opts: OutboxOptions,
        listeners: Rc<RefCell<Registry<Listener>>>,
    ) -> Outbox {
        let seed = (crate::platform::random() * u64::MAX as f64) as u64;
        let inner = Rc::new(Inner {
            core: RefCell::new(core::Outbox::new(opts.config.clone(), seed)),
            client: client.bare(),
            opts,
            store: RefCell::new(None),
            persistence: Rc::new(Cell::new(Persistence::Loading)),
            queue: RefCell::new(Vec::new()),
            waiters: RefCell::new(Vec::new()),
            commit_scheduled: Cell::new(false),
            fresh: RefCell::new(None),
            parts: RefCell::new(Vec::new()),
            unsaved: RefCell::new(Vec::new()),
            deleting: RefCell::new(Vec::new()),
            timer: RefCell::new(None),
            leader: RefCell::new(None),
            channel: RefCell::new(None),
            listeners,
            connected: Cell::new(false),
            state_listener: Cell::new(0),
            reads_wanted: Cell::new(0),
            reads_done: Cell::new(0),
            reloading: Cell::new(false),
            reload_again: Cell::new(false),
        });
        let key = inner.db_name();
        let weak = Rc::downgrade(&inner);
        let id = client.on_state_raw(move |s| {
            if let Some(inner) = weak.upgrade() {
                inner.connection_state(s.status == ConnStatus::Open);
            }
        });
        inner.state_listener.set(id);
        let weak = Rc::downgrade(&inner);
        *inner.channel.borrow_mut() = Some(Channel::open(&key, move |_, _| {
            if let Some(inner) = weak.upgrade() {
                Inner::reload(&inner);
            }
        }));
        let weak = Rc::downgrade(&inner);
        crate::platform::spawn(async move {
            let Some(name) = weak.upgrade().map(|i| i.db_name()) else {
                return;
            };
            let opened = Store::open(&name).await;
            let Some(inner) = weak.upgrade() else { return };
            match opened {
                Ok(store) => {
                    *inner.store.borrow_mut() = Some(Rc::new(store));
                    inner.persistence.set(Persistence::IndexedDb);
                    inner.reads_wanted.set(inner.reads_wanted.get() + 1);
                    Inner::reload(&inner);
                }
                Err(why) => {
                    inner.persistence.set(Persistence::Memory);
                    inner.reads_done.set(inner.reads_wanted.get()); // nothing to read
                    inner.client.report_error(&Error::new(
                        ErrorCode::StorageUnavailable,
                        [
                            "the outbox runs in memory (entries are lost on reload): ",
                            &why,
                        ]
                        .concat(),
                    ));
                    // Ready no longer waits for storage (whatever order the lock came in).
                    inner.update_ready();
                }
            }
            // `persistence` changed: listeners hear it even if nothing else did.
            let status = inner.core.borrow().status();
            inner.emit(&OutboxEvent::Change(&status, inner.persistence.get()));
            Inner::schedule_commit(&inner);
            Inner::pump(&inner);
        });
        let outbox = Outbox { inner };
        outbox.lead();
        let inner = &outbox.inner;
        inner.connection_state(client.state().status == ConnStatus::Open);
        outbox
    }

    /// Asks for the flushing role (the Web Lock of this outbox), if not asked already.
    fn lead(&self) {
        if self.inner.leader.borrow().is_some() {
            return;
        }
        let weak = Rc::downgrade(&self.inner);
        let leadership = Leadership::request(&self.inner.db_name(), move || {
            if let Some(inner) = weak.upgrade() {
                // The previous flushing tab may have sent or stored entries: read first.
                inner.reads_wanted.set(inner.reads_wanted.get() + 1);
                Inner::reload(&inner);
            }
        });
        *self.inner.leader.borrow_mut() = Some(leadership);
    }

    /// The client closed: this tab stops flushing and lets go of the lock, so another client or
    /// tab can flush the entries. They stay stored.
    pub fn suspend(&self) {
        if let Some(l) = self.inner.leader.borrow_mut().take() {
            crate::platform::drop_later(l);
        }
        self.inner.update_ready();
    }

    /// The client connects again: it asks for the flushing role again.
    pub fn resume(&self) {
        self.lead();
        self.inner.update_ready();
    }

    /// Queues a typed client → server event. The reply is the entry's id once the entry is
    /// committed to IndexedDB (at once in memory mode), or the error (`OUTBOX_FULL`,
    /// `QUOTA_EXCEEDED`, `PAYLOAD_INVALID`). It is then sent in order, at least once, with
    /// the id in its payload's `id_field`, until the server acks it.
    ///
    /// ```no_run
    /// # async fn send(client: wiresync::Client) -> Result<(), wiresync::Error> {
    /// use wiresync::events::NotificationRead;
    /// let id = client
    ///     .outbox()
    ///     .enqueue(&NotificationRead { notification_id: "n_1".into() })
    ///     .await?;
    /// # let _ = id; Ok(()) }
    /// ```
    pub fn enqueue<E: Emit>(&self, payload: &E) -> Reply<EntryId> {
        self.enqueue_in(payload, EntryOptions::default())
    }

    /// [`enqueue`](Self::enqueue) with a lane, a dedupe key or a TTL of its own.
    pub fn enqueue_in<E: Emit>(&self, payload: &E, options: EntryOptions) -> Reply<EntryId> {
        let payload = match super::to_json(payload, E::NAME) {
            Ok(p) => p,
            Err(e) => return Reply::ready(Err(e)),
        };
        let (reply, answer) = reply::reply();
        let done = Box::new(move |r: Result<String, Error>| answer.send(r.map(EntryId)));
        let EntryOptions {
            lane,
            dedupe_key,
            ttl_ms,
        } = options;
        self.enqueue_json(E::NAME, &payload, lane, dedupe_key, ttl_ms, done);
        reply
    }

    /// Queues `payload` (a JSON object) for `event`. `done` runs once the entry is committed to
    /// storage (at once in memory mode) with its id, or with the error (`OUTBOX_FULL`,
    /// `QUOTA_EXCEEDED`, `PAYLOAD_INVALID`).
    pub fn enqueue_json(
        &self,
        event: &str,
        payload: &str,
        lane: Option<String>,
        dedupe_key: Option<String>,
        ttl_ms: Option<u64>,
        done: Box<dyn FnOnce(Result<String, Error>)>,
    ) {
        self.enqueue_with((event, payload, None, None), lane, dedupe_key, ttl_ms, done)
    }

    /// [`Outbox::enqueue_json`] of `(event, payload, payload_js, parts)`: with the payload also as
    /// the JS string it came as (the bindings have it), which its record then holds, and the
    /// binary parts its placeholders stand for (stored with it, sent after its packet).
    pub(crate) fn enqueue_with(
        &self,
        (event, payload, payload_js, parts): (&str, &str, Option<JsValue>, Option<Array>),
        lane: Option<String>,
        dedupe_key: Option<String>,
        ttl_ms: Option<u64>,
        done: Box<dyn FnOnce(Result<String, Error>)>,
    ) {
        if json::validate(payload) != Ok(Kind::Object) {
            return done(Err(Error::new(
                ErrorCode::PayloadInvalid,
                "an outbox payload must be a JSON object",
            )
            .with_event(event)));
        }
        if parts.is_some() && !self.inner.client.speaks_socketio() {
            return done(Err(crate::core::connection::binary_needs_socketio(event)));
        }
        // Placeholders are not the data: a binary payload is not checked against a schema.
        if parts.is_none() {
            if let Err(e) = self.inner.client.check_payload(event, payload) {
                return done(Err(e));
            }
        }
        let message = Message::Event {
            name: event.to_owned(),
            payload: payload.to_owned(),
        };
        let id = crate::platform::tabs::uuid();
        *self.inner.fresh.borrow_mut() = payload_js.map(|js| (id.clone(), js));
        let done: Box<dyn FnOnce(Result<String, Error>)> = match parts {
            None => done,
            Some(parts) => {
                self.inner.parts.borrow_mut().push((id.clone(), parts));
                let weak = Rc::downgrade(&self.inner);
                let kept = id.clone();
                Box::new(move |r| {
                    if let (Err(_), Some(inner)) = (&r, weak.upgrade()) {
                        inner.forget_parts(&kept); // refused: never stored or sent
                    }
                    done(r)
                })
            }
        };
        self.add(
            NewEntry {
                id,
                message,
                lane,
                dedupe_key,
                ttl_ms,
            },
            done,
        );
        self.inner.fresh.take(); // when the entry was refused
    }

    /// Queues an HTTP request, replayed with `fetch` and an `Idempotency-Key` header.
    pub fn enqueue_request(
        &self,
        url: &str,
        method: &str,
        headers: Vec<(String, String)>,
        body: Option<String>,
        lane: Option<String>,
        done: Box<dyn FnOnce(Result<String, Error>)>,
    ) {
        let message = Message::Request {
            url: url.to_owned(),
            method: method.to_ascii_uppercase(),
            headers,
            body,
        };
        self.add(
            NewEntry {
                id: crate::platform::tabs::uuid(),
                message,
                lane,
                dedupe_key: None,
                ttl_ms: None,
            },
            done,
        );
    }

    fn add(&self, new: NewEntry, done: Box<dyn FnOnce(Result<String, Error>)>) {
        // Off the browser nothing is stored or sent (records are JS objects): `CLOSED`.
        if let Err(e) = super::off_browser() {
            return done(Err(e));
        }
        let id = new.id.clone();
        let result = self.inner.core.borrow_mut().enqueue(wall(), new);
        match result {
            Err(e) => done(Err(e)),
            Ok(()) => {
                let ret = id.clone();
                self.inner
                    .waiters
                    .borrow_mut()
                    .push((id, Box::new(move |r| done(r.map(|()| ret)))));
                Inner::pump(&self.inner);
            }
        }
    }

    /// The counts and where entries are kept.
    pub fn status(&self) -> (core::Status, Persistence) {
        (
            self.inner.core.borrow().status(),
            self.inner.persistence.get(),
        )
    }

    /// Every entry, in order (failed ones included).
    pub fn entries(&self) -> Vec<Entry> {
        self.inner.core.borrow().entries().iter().cloned().collect()
    }

    /// The binary parts (ArrayBuffers, typed arrays, Blobs) that entry `id`'s placeholders
    /// stand for, if it has any.
    pub fn parts_of(&self, id: &str) -> Option<Array> {
        self.inner.parts_of(id)
    }

    /// Listens to changes and delivered / failed / dropped entries, until the guard drops.
    pub fn on(&self, listener: impl Fn(&OutboxEvent) + 'static) -> Subscription {
        let id = self.on_raw(listener);
        let listeners = Rc::downgrade(&self.inner.listeners);
        Subscription::new("outbox", move || {
            if let Some(l) = listeners.upgrade() {
                crate::core::handlers::unregister(&l, id);
            }
        })
    }

    /// Listens to changes and delivered / failed / dropped entries, until [`off`](Self::off).
    pub fn on_raw(&self, listener: impl Fn(&OutboxEvent) + 'static) -> HandlerId {
        self.inner.listeners.borrow_mut().on("", Rc::new(listener))
    }

    /// Stops listening.
    pub fn off(&self, id: HandlerId) {
        crate::core::handlers::unregister(&self.inner.listeners, id);
    }

    /// Moves a failed entry back to pending. Returns whether it was found.
    pub fn retry(&self, id: &str) -> bool {
        let found = self.inner.core.borrow_mut().retry(wall(), id);
        Inner::pump(&self.inner);
        found
    }

    /// Removes an entry. Returns whether it was found.
    pub fn remove(&self, id: &str) -> bool {
        let found = self.inner.core.borrow_mut().remove(wall(), id);
        Inner::pump(&self.inner);
        found
    }

    /// Removes every entry (e.g. on logout); the reply comes once storage is cleared.
    pub fn clear(&self) -> Reply<()> {
        let (reply, answer) = reply::reply();
        self.clear_then(Box::new(move |r| answer.send(r)));
        reply
    }

    /// Removes every entry (e.g. on logout); `done` runs once storage is cleared.
    pub fn clear_then(&self, done: Box<dyn FnOnce(Result<(), Error>)>) {
        self.inner.core.borrow_mut().clear(wall());
        // A marker waiter: completes with the commit that carries the deletes.
        self.inner.waiters.borrow_mut().push((String::new(), done));
        Inner::pump(&self.inner);
    }

    /// Sends what can be sent now, ignoring retry delays.
    pub fn flush(&self) {
        self.inner.core.borrow_mut().flush(wall());
        Inner::pump(&self.inner);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.client.off_state(self.state_listener.get());
        // Enqueues still waiting for their store (it was opening when the outbox went, say on
        // an identity switch) settle: they were not stored.
        for (_, w) in self.waiters.take() {
            w(Err(Error::new(
                ErrorCode::Closed,
                "the outbox closed (identity switch or dispose) before the entry was stored",
            )));
        }
    }
}

impl Inner {
    fn db_name(&self) -> String {
        [
            "wiresync-outbox:",
            &self.opts.name,
            ":",
            &self.opts.identity,
        ]
        .concat()
    }

    fn leader(&self) -> bool {
        self.leader.borrow().as_ref().is_some_and(Leadership::held)
    }

    fn connection_state(self: &Rc<Self>, open: bool) {
        let was = self.connected.replace(open);
        if was && !open {
            self.core.borrow_mut().connection_lost(wall());
        }
        self.update_ready();
    }

    fn update_ready(self: &Rc<Self>) {
        let ready = self.connected.get()
            && self.leader()
            && self.persistence.get() != Persistence::Loading
            && self.reads_done.get() >= self.reads_wanted.get();
        self.core.borrow_mut().set_ready(wall(), ready);
        Inner::pump(self);
    }

    fn emit(&self, event: &OutboxEvent) {
        let listeners = self.listeners.borrow_mut().take_for("");
        for l in listeners {
            l(event);
        }
    }

    /// Re-reads storage (after open, on gaining the lock, when another tab wrote).
    fn reload(inner: &Rc<Inner>) {
        // One read at a time: two at once would both report (and move aside) the same
        // unreadable records. One asked for meanwhile runs after, and sees what changed.
        if inner.reloading.replace(true) {
            inner.reload_again.set(true);
            return;
        }
        let read = inner.reads_wanted.get();
        let finish = move |inner: &Rc<Inner>| {
            inner.reads_done.set(inner.reads_done.get().max(read));
            inner.reloading.set(false);
            inner.update_ready();
            if inner.reload_again.replace(false) {
                Inner::reload(inner);
            }
        };
        let Some(store) = inner.store.borrow().clone() else {
            // Nothing to read (yet): the store's opening asks for a read of its own.
            return finish(inner);
        };
        let weak = Rc::downgrade(inner);
        crate::platform::spawn(async move {
            let records = store.load().await;
            let Some(inner) = weak.upgrade() else { return };
            match records {
                Ok(records) => Inner::take_stored(&inner, &store, records).await,
                // Done all the same: sending waits for no read that cannot be.
                Err(why) => inner
                    .client
                    .report_error(&Error::new(ErrorCode::StorageUnavailable, why)),
            }
            finish(&inner);
        });
    }

    /// Loads the records read back into the core; unreadable ones are reported and moved aside.
    async fn take_stored(inner: &Rc<Inner>, store: &Store, records: Vec<JsValue>) {
        let mut entries = Vec::with_capacity(records.len());
        let mut bad = Vec::new();
        for r in records {
            match idb::from_record(&r) {
                Ok(e) => {
                    if let Some(parts) = idb::record_parts(&r) {
                        inner.forget_parts(&e.id);
                        inner.parts.borrow_mut().push((e.id.clone(), parts));
                    }
                    entries.push(e)
                }
                Err(why) => {
                    let id = glue::get(&r, "id").as_string();
                    inner.client.report_error(&Error::new(
                        ErrorCode::StorageCorrupt,
                        [
                            "a stored outbox record was unreadable (",
                            &why,
                            ") and was moved aside",
                        ]
                        .concat(),
                    ));
                    bad.push((r, id));
                }
            }
        }
        if !bad.is_empty() {
            if let Err(why) = store.quarantine(&bad).await {
                inner
                    .client
                    .report_error(&Error::new(ErrorCode::StorageCorrupt, why));
            }
        }
        // Entries whose deletion has not committed yet stay gone: storage is behind here.
        core::drop_deleting(&mut entries, &inner.deleting.borrow());
        let unsaved = inner.unsaved.borrow().clone();
        inner.core.borrow_mut().load(wall(), entries, &unsaved);
        // Entries storage no longer holds (another tab delivered or cleared them) are gone
        // without a Delete here: so are their parts.
        let core = inner.core.borrow();
        let live = core.entries();
        inner
            .parts
            .borrow_mut()
            .retain(|(id, _)| live.iter().any(|e| e.id == *id));
    }

    fn parts_of(&self, id: &str) -> Option<Array> {
        let parts = self.parts.borrow();
        parts.iter().find(|(i, _)| i == id).map(|(_, p)| p.clone())
    }

    fn forget_parts(&self, id: &str) {
        self.parts.borrow_mut().retain(|(i, _)| i != id);
    }

    fn pump(inner: &Rc<Inner>) {
        loop {
            let out = inner.core.borrow_mut().poll();
            let Some(out) = out else { break };
            match out {
                OutboxOutput::Write(e) => {
                    inner.unsaved.borrow_mut().push(e.id.clone());
                    let payload = {
                        let mut fresh = inner.fresh.borrow_mut();
                        let ours = fresh.as_ref().is_some_and(|(id, _)| *id == e.id);
                        ours.then(|| fresh.take()).flatten().map(|(_, p)| p)
                    };
                    let record = idb::to_record(&e, payload, inner.parts_of(&e.id).as_ref());
                    inner.queue.borrow_mut().push((Op::Put(record), Some(e.id)));
                }
                OutboxOutput::Delete(id) => {
                    inner.forget_parts(&id);
                    inner.deleting.borrow_mut().push(id.clone());
                    inner.queue.borrow_mut().push((Op::Delete(id), None));
                }
                OutboxOutput::Send(e) => Inner::send(inner, e),
                OutboxOutput::Delivered(e) => inner.emit(&OutboxEvent::Delivered(&e)),
                OutboxOutput::Failed(e) => inner.emit(&OutboxEvent::Failed(&e)),
                OutboxOutput::Dropped { entry, reason } => {
                    inner.emit(&OutboxEvent::Dropped(&entry, reason))
                }
                OutboxOutput::Changed(s) => {
                    inner.emit(&OutboxEvent::Change(&s, inner.persistence.get()))
                }
            }
        }
        if !inner.queue.borrow().is_empty() || !inner.waiters.borrow().is_empty() {
            Inner::schedule_commit(inner);
        }
        Inner::arm_timer(inner);
    }

    fn arm_timer(inner: &Rc<Inner>) {
        let deadline = inner.core.borrow().poll_timeout();
        if let Some(deadline) = deadline {
            timers::rearm(
                inner,
                |i| &i.timer,
                timers::from_wall(deadline),
                |inner| {
                    inner.core.borrow_mut().handle_timeout(wall());
                    Inner::pump(inner);
                },
            );
        }
    }

    /// Commits the queued writes in one transaction at the end of this tick. One commit runs
    /// at a time: whatever is queued meanwhile (acks arriving one per frame, more enqueues)
    /// goes into the next transaction together, instead of one transaction each.
    fn schedule_commit(inner: &Rc<Inner>) {
        if inner.commit_scheduled.replace(true) {
            return;
        }
        // Held, not weak: writes accepted just before the outbox is dropped (an identity
        // switch in the same tick) are still stored, and their enqueues resolve.
        let inner = inner.clone();
        crate::platform::spawn(async move {
            // Let every enqueue of this tick join the same transaction.
            let _ = JsFuture::from(Promise::resolve(&JsValue::UNDEFINED)).await;
            if inner.persistence.get() == Persistence::Loading {
                inner.commit_scheduled.set(false);
                return; // the open task commits once it knows where entries go
            }
            let batch: Vec<(Op, Option<String>)> = std::mem::take(&mut *inner.queue.borrow_mut());
            let mut ops = Vec::with_capacity(batch.len());
            let mut ids = Vec::with_capacity(batch.len());
            let mut deleted = Vec::new();
            for (op, id) in batch {
                if let Op::Delete(d) = &op {
                    deleted.push(d.clone());
                }
                ops.push(op);
                ids.extend(id);
            }
            let waiters: Vec<(String, Waiter)> = std::mem::take(&mut *inner.waiters.borrow_mut());
            let store = inner.store.borrow().clone();
            let result = match (&store, inner.persistence.get()) {
                (Some(store), Persistence::IndexedDb) if !ops.is_empty() => store.apply(&ops).await,
                _ => Ok(()),
            };
            let saved: Vec<&str> = ids.iter().map(String::as_str).collect();
            core::forget_saved(&mut inner.unsaved.borrow_mut(), &saved);
            // Committed, or (on failure) dropped: either way no longer pending.
            let deleted: Vec<&str> = deleted.iter().map(String::as_str).collect();
            core::forget_saved(&mut inner.deleting.borrow_mut(), &deleted);
            match result {
                Ok(()) => {
                    for (_, w) in waiters {
                        w(Ok(()));
                    }
                    if !ops.is_empty() {
                        if let Some(c) = inner.channel.borrow().as_ref() {
                            c.post("changed");
                        }
                    }
                }
                Err(e) => {
                    let err = match e {
                        WriteError::Quota => Error::new(
                            ErrorCode::QuotaExceeded,
                            "storage quota exceeded: the entry was not queued; stored entries are intact",
                        ),
                        WriteError::Other(why) => Error::new(ErrorCode::StorageUnavailable, why),
                    };
                    // The enqueues that were not stored are withdrawn (all with one pump), so
                    // they are never sent without the durability their callers were promised.
                    let withdrawn: Vec<&str> = waiters
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .filter(|id| !id.is_empty())
                        .collect();
                    inner.core.borrow_mut().withdraw(wall(), &withdrawn);
                    for (_, w) in waiters {
                        w(Err(err.clone()));
                    }
                    inner
                        .queue
                        .borrow_mut()
                        .retain(|(op, _)| !matches!(op, Op::Delete(_)));
                    // The queued deletions are dropped with the failed batch's: storage keeps
                    // those entries, and a reload may bring them back, as before.
                    inner.deleting.borrow_mut().clear();
                    inner.client.report_error(&err);
                }
            }
            inner.commit_scheduled.set(false);
            Inner::pump(&inner); // schedules the next commit if more was queued meanwhile
        });
    }

    fn send(inner: &Rc<Inner>, e: Entry) {
        match &e.message {
            Message::Event { name, payload } => {
                let Some(with_id) = core::inject_id(payload, &inner.opts.id_field, &e.id) else {
                    let why = "the payload is not a JSON object".to_owned();
                    inner
                        .core
                        .borrow_mut()
                        .settle(wall(), &e.id, e.sends, Outcome::Reject(why));
                    return;
                };
                let weak = Rc::downgrade(inner);
                let (id, sends) = (e.id.clone(), e.sends);
                let parts = inner.parts_of(&e.id);
                let sent = inner.client.emit_with_ack_json(
                    name,
                    &["[", &with_id, "]"].concat(),
                    None,
                    Box::new(move |result| {
                        let Some(inner) = weak.upgrade() else { return };
                        let outcome = match result {
                            Ok(args) => ack_outcome(&Array::from(&args).get(0)),
                            Err(e) => Outcome::Retry(e.code.as_str().to_owned()),
                        };
                        inner.core.borrow_mut().settle(wall(), &id, sends, outcome);
                        Inner::pump(&inner);
                    }),
                    parts.as_ref(),
                );
                if let Err(err) = sent {
                    inner.core.borrow_mut().settle(
                        wall(),
                        &e.id,
                        e.sends,
                        Outcome::Reject(err.text()),
                    );
                }
            }
            Message::Request { .. } => {
                let weak = Rc::downgrade(inner);
                let extra = inner.opts.request_headers.clone();
                crate::platform::spawn(async move {
                    let headers = match extra {
                        Some(f) => f().await,
                        None => Vec::new(),
                    };
                    let outcome = replay(&e, headers).await;
                    if let Some(inner) = weak.upgrade() {
                        inner
                            .core
                            .borrow_mut()
                            .settle(wall(), &e.id, e.sends, outcome);
                        Inner::pump(&inner);
                    }
                });
            }
        }
    }
}

/// An ack `{ ok: false, error }` is a refusal; anything else counts as delivered.
fn ack_outcome(first: &JsValue) -> Outcome {
    if first.is_object() && glue::get(first, "ok") == JsValue::FALSE {
        let why = glue::get(first, "error")
            .as_string()
            .unwrap_or_else(|| "refused".into());
        Outcome::Reject(why)
    } else {
        Outcome::Delivered
    }
}

/// Replays a stored request: 2xx delivered; 408, 429, 5xx and network errors retried; other
/// statuses refused for good.
async fn replay(e: &Entry, extra_headers: Vec<(String, String)>) -> Outcome {
    let Message::Request {
        url,
        method,
        headers,
        body,
    } = &e.message
    else {
        return Outcome::Reject("not a request".into());
    };
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let h = match web_sys::Headers::new() {
        Ok(h) => h,
        Err(_) => return Outcome::Retry("cannot build headers".into()),
    };
    for (k, v) in headers.iter().chain(extra_headers.iter()) {
        let _ = h.set(k, v);
    }
    let _ = h.set("Idempotency-Key", &e.id);
    init.set_headers(&h);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    let Some(window) = web_sys::window() else {
        return Outcome::Retry("no window".into());
    };
    let request = match web_sys::Request::new_with_str_and_init(url, &init) {
        Ok(r) => r,
        Err(_) => return Outcome::Reject(["invalid request to ", url].concat()),
    };
    match JsFuture::from(window.fetch_with_request(&request)).await {
        Err(_) => Outcome::Retry("network error".into()),
        Ok(resp) => {
            let status = resp
                .dyn_ref::<web_sys::Response>()
                .map_or(0, |r| r.status());
            match status {
                200..=299 => Outcome::Delivered,
                408 | 429 | 500..=599 => Outcome::Retry(["HTTP ", &int(status.into())].concat()),
                _ => Outcome::Reject(["HTTP ", &int(status.into())].concat()),
            }
        }
    }
}
