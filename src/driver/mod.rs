//! Where the core meets the browser (quinn's `ConnectionDriver`): the driver owns the core
//! state machine and the platform objects, feeds platform inputs to the core (frames, timer
//! fires, online/visibility) and carries out the core's outputs (open, send, close, arm the
//! timer, call handlers). No decision is taken here.
//!
//! Re-entrancy: handlers may call back into the client (emit, close, ...). No `RefCell` borrow
//! is held while user code runs, and objects whose closures may be running (the socket, the
//! timer) are dropped after the current callback returns.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use wasm_bindgen::JsValue;

use crate::core::connection::{Attachments, Config, Connection, Output, State, SubId};
use crate::core::error::{Error, ErrorCode};
use crate::core::handlers::{unregister, HandlerId, Registry};
use crate::core::json;
use crate::core::schema::Schemas;
use crate::events::{self, Emit, Listen, Room};
use crate::platform::drop_later;
pub use reply::Reply;

#[cfg(feature = "cache")]
pub mod cache;
#[cfg(feature = "outbox")]
pub mod outbox;
pub mod reply;
pub mod session;
#[cfg(feature = "share")]
mod share;
#[cfg(not(feature = "share"))]
#[path = "share_off.rs"]
mod share;

/// Where the outbox keeps its entries, or the cache its data: what JS sees as `persistence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Memory only, as asked (the cache without `persist`).
    Off,
    /// IndexedDB is being opened and read; not ready yet.
    Loading,
    /// In IndexedDB: what is kept survives reloads.
    IndexedDb,
    /// IndexedDB was wanted but is missing or failed: memory only, lost on reload.
    Memory,
}

impl Persistence {
    /// `"off"`, `"loading"`, `"indexeddb"` or `"memory"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::Off => "off",
            Persistence::Loading => "loading",
            Persistence::IndexedDb => "indexeddb",
            Persistence::Memory => "memory",
        }
    }
}
use crate::platform::lifecycle::{self, Lifecycle, PageEvent};
use crate::platform::timers::{self, now, Timer};
use crate::platform::websocket::{Socket, SocketEvent};

/// A boxed local future.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Where the CONNECT auth payload comes from. It is asked for on every (re)connect and never
/// stored anywhere but in memory.
#[derive(Clone, Default)]
pub enum Auth {
    /// No auth payload.
    #[default]
    None,
    /// A fixed JSON object.
    Json(String),
    /// Called before every connect attempt; resolves to a JSON object (or `None`).
    Provider(Rc<dyn Fn() -> LocalFuture<Result<Option<String>, String>>>),
}

impl std::fmt::Debug for Auth {
    /// Never shows the credentials: only where they come from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Json(_) => "Auth::Json(..)",
            Auth::Provider(_) => "Auth::Provider(..)",
        })
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("Options");
        f.field("config", &self.config)
            .field("auth", &self.auth)
            .field("listen", &self.listen)
            .field("emit", &self.emit)
            .field("share", &self.share)
            .field("next_url", &self.next_url.is_some());
        #[cfg(feature = "outbox")]
        f.field("outbox", &self.outbox);
        #[cfg(feature = "cache")]
        f.field("cache", &self.cache);
        f.finish()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Gives the URL of the next attempt from the last one's ([`Options::next_url`]), or why it
/// cannot.
pub type NextUrl = Rc<dyn Fn(&str) -> Result<String, String>>;

/// Client options beyond the core [`Config`].
#[derive(Clone)]
pub struct Options {
    /// Connection settings.
    pub config: Config,
    /// Auth payload source. Default none.
    pub auth: Auth,
    /// The types that check incoming payloads. Default: the catalog's
    /// ([`events::listen_schema`]). Add the app's own with [`Schemas::declare`] (a type that
    /// implements [`Schema`](crate::core::schema::Schema), or one compiled from JSON Schema by
    /// [`compile`](crate::core::json_schema::compile)); empty checks nothing.
    pub listen: Schemas,
    /// The types that check outgoing payloads (`emit`, acks, the outbox). Default: the
    /// catalog's ([`events::emit_schema`]).
    pub emit: Schemas,
    /// `Some(identity)`: share one connection with the other tabs of this origin that connect
    /// to the same URL and namespace with the same identity (`shareAcrossTabs`; needs the
    /// cargo feature `share`, without which it is ignored). Default `None`: a connection of
    /// its own.
    pub share: Option<String>,
    /// Gives the URL of every attempt after a failed one or a lost connection, from the URL
    /// of the last (failover; `url` as a function in JavaScript). Needs `config.ask_url`.
    /// Default `None`: `config.failover` is taken in turn.
    pub next_url: Option<NextUrl>,
    /// What [`Client::outbox`] opens the outbox with. Default `None`: the defaults of
    /// [`OutboxOptions`](outbox::OutboxOptions).
    #[cfg(feature = "outbox")]
    pub outbox: Option<outbox::OutboxOptions>,
    /// What [`Client::cache`] makes the cache with. Default `None`: the defaults of
    /// [`CacheOptions`](cache::CacheOptions). Without an identity of its own it takes the
    /// outbox's.
    #[cfg(feature = "cache")]
    pub cache: Option<cache::CacheOptions>,
}

impl Options {
    /// Defaults for a server URL.
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            config: Config::new(url),
            auth: Auth::None,
            listen: Schemas::with_preset(Some(events::listen_schema)),
            emit: Schemas::with_preset(Some(events::emit_schema)),
            share: None,
            next_url: None,
            #[cfg(feature = "outbox")]
            outbox: None,
            #[cfg(feature = "cache")]
            cache: None,
        }
    }

    /// Validates nothing, in either direction (`validate: false` in JavaScript).
    pub fn without_validation(mut self) -> Options {
        self.listen = Schemas::default();
        self.emit = Schemas::default();
        self
    }
}

impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("name", &self.name)
            .field("ack", &self.ack)
            .finish_non_exhaustive()
    }
}

/// An incoming event as handlers see it: the arguments already parsed by `JSON.parse`.
pub struct Delivery<'a> {
    /// Event name.
    pub name: &'a str,
    /// Arguments (name and recovery offset removed).
    pub args: &'a js_sys::Array,
    /// Set when the server asked for an ack: answer with [`Client::ack_json`].
    pub ack: Option<u64>,
    /// The arguments as raw JSON text (an array), for Rust-side consumers such as cache rules.
    pub raw_args: &'a str,
    inner: &'a Rc<Inner>,
}

impl Delivery<'_> {
    /// Reports an error about this delivery to the client's error listeners.
    pub fn report(&self, e: &Error) {
        report(self.inner, e);
    }
}

type Handler = Rc<dyn Fn(&Delivery)>;
type StateListener = Rc<dyn Fn(&State)>;
type ErrorListener = Rc<dyn Fn(&Error)>;
/// Completes an ack or a room join: the ack's arguments as a JS array, or the error.
pub type AckWaiter = Box<dyn FnOnce(Result<JsValue, Error>)>;

struct Inner {
    core: RefCell<Connection>,
    socket: RefCell<Option<Socket>>,
    /// The JS string of the text frame being handled (see `Incoming::in_frame`).
    frame: RefCell<Option<js_sys::JsString>>,
    generation: Cell<u64>,
    timer: RefCell<Option<Timer>>,
    lifecycle: RefCell<Option<Lifecycle>>,
    handlers: RefCell<Registry<Handler>>,
    states: RefCell<Registry<StateListener>>,
    errors: RefCell<Registry<ErrorListener>>,
    acks: RefCell<Vec<(u64, AckWaiter)>>,
    rooms: RefCell<Vec<(SubId, AckWaiter)>>,
    auth: RefCell<Auth>,
    emit_schemas: Schemas,
    /// Binary frames received for the packet that announced them, in order.
    attach_in: RefCell<Vec<JsValue>>,
    /// Binary parts to send after their packet's frame, by token (the core's `Attachments`).
    attach_out: RefCell<Vec<(u64, js_sys::Array)>>,
    /// Events whose dropped payload was told to the console (once each, see [`report`]).
    warned: RefCell<Vec<String>>,
    /// The group this client shares its connection with (`Options::share`), while in one.
    #[cfg(feature = "share")]
    share: RefCell<Option<share::Share>>,
    /// The identity of that group, kept while closed (a `reconnect` joins it again).
    share_identity: RefCell<Option<String>>,
    #[cfg(feature = "share")]
    share_timer: RefCell<Option<Timer>>,
    /// Requests that went through the group (a follower's acks, every shared room join), by
    /// this tab's ids.
    requests: RefCell<Vec<(u64, AckWaiter)>>,
    /// HTTP long-polling requests in flight: the core's id, and `abort()`.
    fetches: RefCell<Vec<(u64, js_sys::Function)>>,
    /// The upgrade probe (a second WebSocket), and its tag while it is one.
    probe: RefCell<Option<Socket>>,
    probe_tag: Cell<u64>,
    /// The tag of the probe that became the transport (its events then go to the core as the
    /// transport's, while `generation` is the one it was opened in).
    upgraded: Cell<(u64, u64)>,
    next_url: Option<NextUrl>,
}

/// The real-time client: one connection, typed subscriptions, rooms, acks, and (on first use)
/// its [`outbox`](Client::outbox) and [`cache`](Client::cache).
///
/// Cloning is cheap: another handle to the same connection (two `Rc`s). The connection lives
/// until [`Client::close`], or until every handle (and the outbox and cache handles taken from
/// it) is dropped, which stops it silently: keep one, e.g. in your framework's context.
///
/// `Client` is `!Send` and `!Sync`: it lives on the page's one thread, as the browser's
/// WebSocket and IndexedDB do. Frameworks that want `Send` context values take it in a local
/// store (Leptos: `StoredValue::new_local`; see the README's Rust section).
///
/// Off the browser (any target but `wasm32`, e.g. the server half of an SSR app) the client
/// compiles and is inert: it never connects (its state stays `idle`, `closed` after
/// [`close`](Self::close)); event handlers and rules never run, and query functions are never
/// called; listeners hear only local changes (`close`, an observer's first state); sends and
/// typed data answer `CLOSED` at once, and a room's `ready` too; what waits on storage (e.g.
/// [`Outbox::clear`]) never completes; the outbox and the cache store nothing; nothing panics.
///
/// A closure you give the outbox or the cache (a listener, a query function) that holds a
/// `Client` keeps the connection alive as long as it is kept (a forgotten guard: for good).
/// Give it a clone only where that is meant, or call [`close`](Self::close).
///
/// [`Outbox::clear`]: outbox::Outbox::clear
///
/// ```
/// use wiresync::{Client, Options, Status};
/// let client = Client::connect(Options::new("http://127.0.0.1:3000"));
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(client.state().status, Status::Idle); // on the host: inert
/// let again = client.clone(); // the same connection
/// # drop(again);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
    parts: Rc<Parts>,
}

/// The client's outbox and cache ([`Client::outbox`], [`Client::cache`], or a
/// [`Session`](session::Session)'s), once opened, and the options to open them with. Held by
/// the app's handles only: the outbox and the cache hold the connection ([`Client::bare`]),
/// never these, so dropping the handles frees all of it.
#[derive(Default)]
struct Parts {
    #[cfg(feature = "outbox")]
    outbox: RefCell<(Option<outbox::OutboxOptions>, Option<outbox::Outbox>)>,
    #[cfg(feature = "cache")]
    cache: RefCell<(Option<cache::CacheOptions>, Option<cache::Cache>)>,
}

impl Parts {
    /// The connection closes for good (`running` false): the cache stops talking with other
    /// tabs (its data stays readable) and the outbox lets go of the flushing role (its entries
    /// stay stored for whoever flushes). It opens again (`true`): both take them up again.
    /// Neither is borrowed while it runs.
    fn set_running(&self, running: bool) {
        #[cfg(feature = "cache")]
        {
            let cache = self.cache.borrow().1.clone();
            match cache {
                Some(c) if running => c.open_tabs(),
                Some(c) => c.close_tabs(),
                None => {}
            }
        }
        #[cfg(feature = "outbox")]
        {
            let outbox = self.outbox.borrow().1.clone();
            match outbox {
                Some(o) if running => o.resume(),
                Some(o) => o.suspend(),
                None => {}
            }
        }
        #[cfg(not(any(feature = "cache", feature = "outbox")))]
        let _ = running;
    }
}

/// Two handles are equal when they are the same connection (what Yew's `ContextProvider`
/// compares).
impl PartialEq for Client {
    fn eq(&self, other: &Client) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Client {
    /// Creates the client and starts connecting at once.
    pub fn connect(options: Options) -> Client {
        let seed = (crate::platform::random() * u64::MAX as f64) as u64;
        let mut config = options.config;
        // Payloads are checked as their frames are split (one pass over each).
        config.schemas = options.listen;
        let inner = Rc::new(Inner {
            core: RefCell::new(Connection::new(config, seed)),
            socket: RefCell::new(None),
            frame: RefCell::new(None),
            generation: Cell::new(0),
            timer: RefCell::new(None),
            lifecycle: RefCell::new(None),
            handlers: RefCell::new(Registry::default()),
            states: RefCell::new(Registry::default()),
            errors: RefCell::new(Registry::default()),
            acks: RefCell::new(Vec::new()),
            rooms: RefCell::new(Vec::new()),
            auth: RefCell::new(options.auth),
            emit_schemas: options.emit,
            attach_in: RefCell::new(Vec::new()),
            attach_out: RefCell::new(Vec::new()),
            warned: RefCell::new(Vec::new()),
            #[cfg(feature = "share")]
            share: RefCell::new(None),
            share_identity: RefCell::new(options.share.clone().filter(|_| share::ENABLED)),
            #[cfg(feature = "share")]
            share_timer: RefCell::new(None),
            requests: RefCell::new(Vec::new()),
            fetches: RefCell::new(Vec::new()),
            probe: RefCell::new(None),
            probe_tag: Cell::new(0),
            upgraded: Cell::new((0, 0)),
            next_url: options.next_url.clone(),
        });
        let weak = Rc::downgrade(&inner);
        *inner.lifecycle.borrow_mut() = Some(Lifecycle::listen(move |ev| {
            if let Some(inner) = weak.upgrade() {
                let t = now();
                match ev {
                    PageEvent::Online(on) => inner.core.borrow_mut().set_online(t, on),
                    PageEvent::Visible => inner.core.borrow_mut().page_visible(t),
                }
                pump(&inner);
            }
        }));
        match &options.share {
            // Off the browser the client never connects (the glue is inert: `platform`).
            _ if !crate::platform::IN_BROWSER => {}
            Some(identity) if share::ENABLED => share::start(&inner, identity),
            _ => {
                let mut core = inner.core.borrow_mut();
                let t = now();
                core.set_online(t, lifecycle::is_online());
                core.connect(t);
            }
        }
        pump(&inner);
        Client {
            inner,
            parts: Rc::new(Parts {
                #[cfg(feature = "outbox")]
                outbox: RefCell::new((options.outbox, None)),
                #[cfg(feature = "cache")]
                cache: RefCell::new((options.cache, None)),
            }),
        }
    }

    /// Another handle to the connection without the app's outbox and cache: what the outbox
    /// and the cache hold (so that they never keep themselves alive).
    #[cfg(any(feature = "outbox", feature = "cache"))]
    pub(crate) fn bare(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            parts: Rc::default(),
        }
    }

    /// The client's durable outbox, opened on the first call with [`Options::outbox`] (later
    /// calls give the same one). Call it at start-up: entries stored by an earlier page are
    /// sent once it is open.
    #[cfg(feature = "outbox")]
    pub fn outbox(&self) -> outbox::Outbox {
        let opened = self.parts.outbox.borrow().1.clone();
        if let Some(o) = opened {
            return o;
        }
        let opts = self.parts.outbox.borrow().0.clone().unwrap_or_default();
        let o = outbox::Outbox::open(self, opts);
        if self.state().status == crate::core::connection::Status::Closed {
            o.suspend(); // no flushing role while closed: `reconnect` resumes it
        }
        self.parts.outbox.borrow_mut().1 = Some(o.clone());
        o
    }

    /// The client's query cache, made on the first call with [`Options::cache`] (later calls
    /// give the same one): its rules and reconnects follow this client's events.
    #[cfg(feature = "cache")]
    pub fn cache(&self) -> cache::Cache {
        let made = self.parts.cache.borrow().1.clone();
        if let Some(c) = made {
            return c;
        }
        #[allow(unused_mut)]
        let mut opts = self.parts.cache.borrow().0.clone().unwrap_or_default();
        #[cfg(feature = "outbox")]
        {
            let outbox = self.parts.outbox.borrow().0.clone().unwrap_or_default();
            session::cache_identity(&mut opts, Some(&outbox));
        }
        let c = cache::Cache::new(self, opts);
        if self.state().status == crate::core::connection::Status::Closed {
            c.close_tabs(); // no tab link while closed: `reconnect` opens it
        }
        self.parts.cache.borrow_mut().1 = Some(c.clone());
        c
    }

    /// The current connection state.
    pub fn state(&self) -> State {
        share::state(&self.inner).unwrap_or_else(|| self.inner.core.borrow().state())
    }

    /// Registers a raw handler for `name` (arguments as a JS array).
    pub fn on_raw(&self, name: &str, handler: impl Fn(&Delivery) + 'static) -> HandlerId {
        self.inner.handlers.borrow_mut().on(name, Rc::new(handler))
    }

    /// Like [`on_raw`](Self::on_raw), removed after the first event.
    pub fn once_raw(&self, name: &str, handler: impl Fn(&Delivery) + 'static) -> HandlerId {
        self.inner
            .handlers
            .borrow_mut()
            .once(name, Rc::new(handler))
    }

    /// A handler for every event.
    pub fn on_any_raw(&self, handler: impl Fn(&Delivery) + 'static) -> HandlerId {
        self.inner.handlers.borrow_mut().on_any(Rc::new(handler))
    }

    /// Removes an event handler. Idempotent.
    pub fn off(&self, id: HandlerId) {
        // Never a panic, even when called from a Drop during dispatch.
        unregister(&self.inner.handlers, id);
    }

    /// A typed handler for catalog event `E`; unsubscribes when the guard is dropped.
    /// A payload that does not deserialize into `E` goes to the error listeners instead.
    ///
    /// ```no_run
    /// # use wiresync::{Client, Options};
    /// # use wiresync::events::OrderStatusUpdate;
    /// let client = Client::connect(Options::new("http://127.0.0.1:3000"));
    /// let _sub = client.on::<OrderStatusUpdate>(|update| {
    ///     web_sys::console::log_1(&update.status.into());
    /// });
    /// ```
    pub fn on<E: Listen + 'static>(&self, handler: impl Fn(E) + 'static) -> Subscription {
        let id = self.on_raw(E::NAME, move |d| {
            match serde_wasm_bindgen::from_value::<E>(d.args.get(0)) {
                Ok(payload) => handler(payload),
                Err(e) => d.report(
                    &Error::new(ErrorCode::PayloadInvalid, e.to_string()).with_event(E::NAME),
                ),
            }
        });
        self.guard("event", id, |inner, id| {
            unregister(&inner.handlers, id);
        })
    }

    /// A guard that runs `off(inner, id)` when dropped (unless the client is gone).
    fn guard(&self, what: &'static str, id: u64, off: fn(&Rc<Inner>, u64)) -> Subscription {
        let weak = Rc::downgrade(&self.inner);
        Subscription::new(what, move || {
            if let Some(inner) = weak.upgrade() {
                off(&inner, id);
            }
        })
    }

    /// Listens to state changes.
    pub fn on_state_raw(&self, listener: impl Fn(&State) + 'static) -> HandlerId {
        self.inner.states.borrow_mut().on("", Rc::new(listener))
    }

    /// Stops listening to state changes.
    pub fn off_state(&self, id: HandlerId) {
        // Never a panic, even when called from a Drop during dispatch.
        unregister(&self.inner.states, id);
    }

    /// Listens to state changes; stops when the guard is dropped.
    pub fn on_state(&self, listener: impl Fn(&State) + 'static) -> Subscription {
        let id = self.on_state_raw(listener);
        self.guard("state", id, |inner, id| {
            unregister(&inner.states, id);
        })
    }

    /// Reports an error to the error listeners (used by the outbox).
    pub fn report_error(&self, e: &Error) {
        report(&self.inner, e);
    }

    /// Reports errors to this client's error listeners without keeping the client alive (for
    /// closures the client itself holds).
    pub fn reporter(&self) -> impl Fn(&Error) + 'static {
        let weak = Rc::downgrade(&self.inner);
        move |e| {
            if let Some(inner) = weak.upgrade() {
                report(&inner, e);
            }
        }
    }

    /// Listens to errors.
    pub fn on_error_raw(&self, listener: impl Fn(&Error) + 'static) -> HandlerId {
        self.inner.errors.borrow_mut().on("", Rc::new(listener))
    }

    /// Stops listening to errors.
    pub fn off_error(&self, id: HandlerId) {
        // Never a panic, even when called from a Drop during dispatch.
        unregister(&self.inner.errors, id);
    }

    /// Listens to errors; stops when the guard is dropped.
    pub fn on_error(&self, listener: impl Fn(&Error) + 'static) -> Subscription {
        let id = self.on_error_raw(listener);
        self.guard("error", id, |inner, id| {
            unregister(&inner.errors, id);
        })
    }

    fn check_outgoing(&self, name: &str, args: &str) -> Result<(), Error> {
        match json::array_elements(args)
            .ok()
            .and_then(|a| a.first().copied())
        {
            Some(first) => self.check_payload(name, first),
            None => Ok(()),
        }
    }

    /// Whether binary payloads can be sent: the Socket.IO protocol has binary packets.
    pub fn speaks_socketio(&self) -> bool {
        matches!(
            self.inner.core.borrow().config().protocol,
            crate::core::protocol::Protocol::SocketIo { .. }
        )
    }

    /// Checks a payload (raw JSON) for a client → server event against its schema, if any.
    pub fn check_payload(&self, name: &str, payload: &str) -> Result<(), Error> {
        self.inner
            .emit_schemas
            .validate(name, payload)
            .map_err(|why| Error::new(ErrorCode::PayloadInvalid, why).with_event(name))
    }

    /// Emits an event; `args` is a JSON array of its arguments. Sent now if connected, else
    /// buffered in memory (lost on reload: use the outbox for what must survive). With `parts`
    /// (binary data: ArrayBuffers, typed arrays, Blobs), `args` holds their placeholders
    /// (`{"_placeholder":true,"num":i}`) and the event goes as a Socket.IO binary event.
    pub fn emit_json(
        &self,
        name: &str,
        args: &str,
        parts: Option<&js_sys::Array>,
    ) -> Result<(), Error> {
        let r = self.emit_any(name, args, parts, None);
        pump(&self.inner);
        r.map(drop)
    }

    /// Emits, with an ack when `ack` is `Some(timeout)`; binary `parts` as in `emit_json`.
    /// The caller pumps.
    fn emit_any(
        &self,
        name: &str,
        args: &str,
        parts: Option<&js_sys::Array>,
        ack: Option<Option<u64>>,
    ) -> Result<Option<u64>, Error> {
        let t = now();
        if share::following(&self.inner) {
            // The placeholders are not the data: binary payloads are not checked here.
            if parts.is_none() {
                self.check_outgoing(name, args)?;
            }
            return Ok(Some(share::emit(&self.inner, name, args, ack, parts)));
        }
        let r = match parts {
            None => {
                self.check_outgoing(name, args)?;
                let mut core = self.inner.core.borrow_mut();
                match ack {
                    None => core.emit(t, name, args).map(|()| None),
                    Some(timeout) => core.emit_with_ack(t, name, args, timeout).map(Some),
                }
            }
            // The placeholders are not the data: binary payloads are not checked here.
            Some(parts) => {
                let bin = keep_parts(&self.inner, parts);
                let r = self
                    .inner
                    .core
                    .borrow_mut()
                    .emit_attached(t, name, args, bin, ack);
                if r.is_err() {
                    take_parts(&self.inner, bin.token);
                }
                r
            }
        };
        r
    }

    /// Emits a typed client → server event (sent now if connected, else buffered in memory:
    /// use the [`outbox`](Self::outbox) for what must survive a reload).
    pub fn emit<E: Emit>(&self, payload: &E) -> Result<(), Error> {
        let args = to_json_array(payload, E::NAME)?;
        self.emit_json(E::NAME, &args, None)
    }

    /// Emits a typed event and asks for an ack: the reply is the ack's first argument as `R`
    /// (`serde::de::IgnoredAny` to take any answer, `()` for none or `null`), or the error (`ACK_TIMEOUT` after `Config::ack_timeout_ms`,
    /// `PAYLOAD_INVALID` when the payload or the answer does not fit).
    ///
    /// ```no_run
    /// # async fn send(client: wiresync::Client) -> Result<(), wiresync::Error> {
    /// use wiresync::events::ChatSendMessage;
    /// #[derive(serde::Deserialize)]
    /// struct Receipt { id: String }
    /// let message = ChatSendMessage {
    ///     chat_id: "chat_1".into(),
    ///     message: "hi".into(),
    ///     timestamp: "2026-12-03T12:00:00Z".into(),
    /// };
    /// let receipt: Receipt = client.emit_with_ack(&message).await?;
    /// # let _ = receipt.id; Ok(()) }
    /// ```
    pub fn emit_with_ack<E: Emit, R: serde::de::DeserializeOwned + 'static>(
        &self,
        payload: &E,
    ) -> Reply<R> {
        let args = match to_json_array(payload, E::NAME) {
            Ok(args) => args,
            Err(e) => return Reply::ready(Err(e)),
        };
        let (reply, answer) = reply::reply();
        let done: AckWaiter = Box::new(move |r| {
            answer.send(r.and_then(|args| first_arg::<R>(&args, E::NAME)));
        });
        match self.emit_with_ack_json(E::NAME, &args, None, done, None) {
            Ok(()) => reply,
            Err(e) => Reply::ready(Err(e)),
        }
    }

    /// Joins room `params` (`subscribe:<R::CHANNEL>` with them), re-joined after every
    /// reconnect that did not recover the session; the guard leaves it when dropped. An error
    /// here is a bad parameter; the server's answer comes through [`Membership::ready`]. Off
    /// the browser the membership is inert: `ready` answers `CLOSED`.
    ///
    /// ```no_run
    /// # async fn join(client: wiresync::Client) -> Result<(), wiresync::Error> {
    /// use wiresync::events::OrderRoom;
    /// let mut room = client.subscribe(&OrderRoom { order_id: "ord_1".into() })?;
    /// room.ready().await?; // the server acked the join
    /// # Ok(()) }
    /// ```
    pub fn subscribe<R: Room>(&self, params: &R) -> Result<Membership, Error> {
        if let Err(closed) = off_browser() {
            // Server rendering: a component that joins a room renders there too.
            return Ok(Membership {
                ready: Some(Reply::ready(Err(closed))),
                leave: Subscription::new("room", || {}),
            });
        }
        let params = to_json(params, R::CHANNEL)?;
        let (ready, answer) = reply::reply();
        let done: AckWaiter = Box::new(move |r| answer.send(r.map(drop)));
        let id = self.subscribe_json(R::CHANNEL, Some(&params), R::ACK, done)?;
        Ok(Membership {
            ready: Some(ready),
            leave: self.guard("room", id, leave),
        })
    }

    /// Emits and asks for an ack; `done` gets the ack's arguments or the error
    /// (`ACK_TIMEOUT` after `timeout_ms`, default `ack_timeout_ms`).
    pub fn emit_with_ack_json(
        &self,
        name: &str,
        args: &str,
        timeout_ms: Option<u64>,
        done: AckWaiter,
        parts: Option<&js_sys::Array>,
    ) -> Result<(), Error> {
        // The waiter is in place before any output of this call is carried out.
        let list = if share::following(&self.inner) {
            &self.inner.requests
        } else {
            &self.inner.acks
        };
        let r = self
            .emit_any(name, args, parts, Some(timeout_ms))
            .map(|id| {
                list.borrow_mut().push((id.unwrap_or(0), done));
            });
        pump(&self.inner);
        r
    }

    /// Answers a server event that asked for an ack; `args` is a JSON array (with placeholders
    /// for binary `parts`, as in `emit_json`).
    pub fn ack_json(
        &self,
        id: u64,
        args: &str,
        parts: Option<&js_sys::Array>,
    ) -> Result<(), Error> {
        if share::sharing(&self.inner) {
            // Through the group, which answers each of the server's requests once.
            crate::core::connection::check_ack_args(args)?;
            share::answer(&self.inner, id, args, parts);
            return Ok(());
        }
        let bin = parts.map(|p| keep_parts(&self.inner, p));
        let r = self
            .inner
            .core
            .borrow_mut()
            .ack_attached(now(), id, args, bin);
        pump(&self.inner);
        r
    }

    /// Joins a room (`subscribe:<channel>` with `params`), re-joined after every reconnect that
    /// did not recover the session. `ready` completes on the server's ack (or at once without
    /// `ack`).
    pub fn subscribe_json(
        &self,
        channel: &str,
        params: Option<&str>,
        ack: bool,
        ready: AckWaiter,
    ) -> Result<SubId, Error> {
        if share::sharing(&self.inner) {
            crate::core::connection::check_params(channel, params)?;
            let room = crate::core::share::Room::new(channel, params, ack);
            return Ok(share::join(&self.inner, room, ready));
        }
        let id = self
            .inner
            .core
            .borrow_mut()
            .subscribe(now(), channel, params, ack)?;
        self.inner.rooms.borrow_mut().push((id, ready));
        pump(&self.inner);
        Ok(id)
    }

    /// Leaves a room.
    pub fn unsubscribe(&self, id: SubId) {
        leave(&self.inner, id);
    }

    /// Replaces the auth source and reconnects with it at once.
    pub fn set_auth(&self, auth: Auth) {
        if !share::following(&self.inner) {
            *self.inner.auth.borrow_mut() = auth;
            return self.reconnect();
        }
        *self.inner.auth.borrow_mut() = auth.clone();
        // The leader connects with what this tab's auth gives now.
        match auth {
            Auth::None => share::reconnect(&self.inner, Some(None)),
            Auth::Json(a) => share::reconnect(&self.inner, Some(Some(a))),
            Auth::Provider(f) => {
                let weak = Rc::downgrade(&self.inner);
                let fut = f();
                crate::platform::spawn(async move {
                    let result = fut.await;
                    let Some(inner) = weak.upgrade() else { return };
                    match result {
                        Ok(a) => share::reconnect(&inner, Some(a)),
                        Err(why) => report(&inner, &Error::new(ErrorCode::AuthFailed, why)),
                    }
                });
            }
        }
    }

    /// Another user (`setAuth(auth, { identity })`): with `shareAcrossTabs`, this tab leaves
    /// its group and joins (or forms) that identity's, so a connection is never shared across
    /// identities.
    /// Returns whether it did: the new group then connects with the auth given to
    /// [`keep_auth`](Self::keep_auth) (not `set_auth`, which would reconnect that group).
    pub fn switch_identity(&self, identity: &str) -> bool {
        let mut kept = self.inner.share_identity.borrow_mut();
        if kept.as_deref().is_some_and(|k| k != identity) {
            *kept = Some(identity.into());
            drop(kept);
            share::regroup(&self.inner, identity);
            return true;
        }
        false
    }

    /// Replaces the auth source for the next connect, without reconnecting.
    pub fn keep_auth(&self, auth: Auth) {
        *self.inner.auth.borrow_mut() = auth;
    }

    /// Drops the connection and connects again now (also after `close`).
    pub fn reconnect(&self) {
        if !crate::platform::IN_BROWSER {
            return; // never connects there (see `Client`)
        }
        self.parts.set_running(true);
        if share::sharing(&self.inner) {
            return share::reconnect(&self.inner, None);
        }
        let identity = self.inner.share_identity.borrow().clone();
        match identity {
            // Closed: the group is joined again.
            Some(identity) => share::regroup(&self.inner, &identity),
            None => self.inner.core.borrow_mut().reconnect(now()),
        }
        pump(&self.inner);
    }

    /// Closes for good: no reconnect until [`reconnect`](Self::reconnect). A tab that shares
    /// its connection leaves the group; the connection stays for the other tabs.
    pub fn close(&self) {
        self.parts.set_running(false);
        share::leave_group(&self.inner);
        self.inner.core.borrow_mut().close(now());
        pump(&self.inner);
    }
}

/// Leaves room `id` (the body of [`Client::unsubscribe`] and of a [`Membership`]'s drop).
fn leave(inner: &Rc<Inner>, id: SubId) {
    if share::sharing(inner) {
        take(&inner.requests, id);
        return share::leave(inner, id);
    }
    take(&inner.rooms, id);
    inner.core.borrow_mut().unsubscribe(now(), id);
    pump(inner);
}

/// The first of an ack's arguments (a JS array) as `R`.
fn first_arg<R: serde::de::DeserializeOwned>(args: &JsValue, name: &str) -> Result<R, Error> {
    let first = js_sys::Reflect::get_u32(args, 0).unwrap_or(JsValue::UNDEFINED);
    from_js(first, name)
}

/// A JS value as `T` (serde), or `PAYLOAD_INVALID` (about event `name`, if not empty).
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, name: &str) -> Result<T, Error> {
    off_browser()?;
    serde_wasm_bindgen::from_value(v).map_err(|e| invalid(e.to_string(), name))
}

/// `payload` as JSON text (serde to a JS value, then `JSON.stringify`).
pub(crate) fn to_json<T: serde::Serialize>(payload: &T, name: &str) -> Result<String, Error> {
    stringify(&to_js(payload, name)?, name)
}

fn to_json_array<T: serde::Serialize>(payload: &T, name: &str) -> Result<String, Error> {
    stringify(&js_sys::Array::of1(&to_js(payload, name)?), name)
}

/// `payload` as the JS value `JSON.stringify` turns into its JSON: maps as plain objects (an ES
/// `Map` would stringify as `{}`), `None` and `()` as `null` (not `undefined`).
fn to_js<T: serde::Serialize>(payload: &T, name: &str) -> Result<JsValue, Error> {
    off_browser()?;
    payload
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| invalid(e.to_string(), name))
}

/// Off the browser no data is made or read (serde goes through JS values): `CLOSED`, as for
/// a client that never connects, which is what the client is there (see [`Client`]).
pub(crate) fn off_browser() -> Result<(), Error> {
    if crate::platform::IN_BROWSER {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Closed,
            "off the browser (not wasm32): nothing is sent or read",
        ))
    }
}

/// `PAYLOAD_INVALID`, about event `name` if it is not empty.
fn invalid(why: String, name: &str) -> Error {
    let e = Error::new(ErrorCode::PayloadInvalid, why);
    if name.is_empty() {
        e
    } else {
        e.with_event(name)
    }
}

fn stringify(value: &JsValue, name: &str) -> Result<String, Error> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| invalid("payload is not JSON-serializable".into(), name))
}

/// A registration that ends when dropped: an event handler, a state or error listener, a
/// room, an outbox listener, a cache watch, observer or rule. Keep it as long as you want the
/// registration (`let _sub = ...`, a struct field, your framework's cleanup), or call
/// [`forget`](Self::forget) to keep it for the client's life.
#[must_use = "keep the guard (`let _sub = ...`) or call `.forget()`: `let _ = ...` drops it, \
              which unsubscribes at once"]
pub struct Subscription {
    what: &'static str,
    off: Option<Box<dyn FnOnce()>>,
}

impl Subscription {
    /// A guard that runs `off` when dropped.
    pub(crate) fn new(what: &'static str, off: impl FnOnce() + 'static) -> Subscription {
        Subscription {
            what,
            off: Some(Box::new(off)),
        }
    }

    /// Keeps the registration for the client's lifetime.
    pub fn forget(mut self) {
        self.off = None;
    }

    /// The same guard, told as `what` (in `Debug`).
    #[cfg(feature = "cache")]
    pub(crate) fn of(mut self, what: &'static str) -> Subscription {
        self.what = what;
        self
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("of", &self.what)
            .field("active", &self.off.is_some())
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Never a panic, even when dropped from a handler during dispatch, or by a handler
        // being removed (`off` removes it first, then drops it: `unregister`).
        if let Some(off) = self.off.take() {
            off();
        }
    }
}

/// A room joined by [`Client::subscribe`]: left when dropped (`#[must_use]`, as a
/// [`Subscription`]).
#[must_use = "keep the guard (`let _room = ...`): `let _ = ...` drops it, which leaves the room \
              at once"]
#[derive(Debug)]
pub struct Membership {
    ready: Option<Reply<()>>,
    leave: Subscription,
}

impl Membership {
    /// The server's answer to the join: `Ok` once joined (for a room without `ACK`, once the
    /// join is sent), or its error (`ACK_TIMEOUT` when the answer does not come in time, even
    /// if a later re-join succeeds). The first call gets it; a later one answers
    /// `INVALID_ARGUMENT`.
    pub fn ready(&mut self) -> Reply<()> {
        self.ready.take().unwrap_or_else(|| {
            Reply::ready(Err(Error::new(
                ErrorCode::InvalidArgument,
                "ready() was taken already",
            )))
        })
    }

    /// Stays in the room for the client's lifetime.
    pub fn forget(self) {
        self.leave.forget();
    }
}

/// Tells the error listeners; with none, the console. A dropped payload is told there once
/// per event name, with how to fix it (the rest of that event's drops would only repeat it).
fn report(inner: &Rc<Inner>, e: &Error) {
    let listeners = inner.errors.borrow_mut().take_for("");
    if listeners.is_empty() {
        let mut text = ["wiresync: ", &e.text()].concat();
        if let (ErrorCode::PayloadInvalid, Some(ev)) = (&e.code, &e.event) {
            let mut warned = inner.warned.borrow_mut();
            if warned.contains(ev) {
                return;
            }
            warned.push(ev.clone());
            let own = inner
                .core
                .try_borrow()
                .is_ok_and(|c| c.config().schemas.declares(ev));
            text += if own {
                ". Dropped: it does not fit the schema given in connect({ schemas }). Fix one"
            } else {
                ". Dropped by the built-in catalog. Declare it in connect({ schemas }), or \
                 connect({ catalog: false })"
            };
            text += ", or handle it in client.onError. Later drops of this event are not logged.";
        }
        crate::platform::warn(&text);
    }
    for l in listeners {
        l(e);
    }
}

/// Drains the core's outputs and carries each out, then re-arms the timer.
fn pump(inner: &Rc<Inner>) {
    loop {
        let out = inner.core.borrow_mut().poll();
        let Some(out) = out else { break };
        carry_out(inner, out);
    }
    let deadline = inner.core.borrow().poll_timeout();
    if let Some(deadline) = deadline {
        timers::rearm(
            inner,
            |i| &i.timer,
            deadline,
            |inner| {
                inner.core.borrow_mut().handle_timeout(now());
                pump(inner);
            },
        );
    }
}

fn socket_event(inner: &Rc<Inner>, ev: SocketEvent) {
    let t = now();
    let mut frame = None;
    {
        let mut core = inner.core.borrow_mut();
        match ev {
            SocketEvent::Open => core.transport_open(t),
            SocketEvent::Text(s, js) => {
                // (Binary frames left from a packet never delivered are let go by the next
                // delivery that takes parts, `received_parts`.)
                core.handle_frame(t, s);
                frame = Some(js);
            }
            SocketEvent::Binary(data) => {
                if core.handle_binary(t, data.byte_length() as usize) {
                    inner.attach_in.borrow_mut().push(data.into());
                }
            }
            SocketEvent::Closed(code, reason) => {
                inner.attach_in.borrow_mut().clear();
                core.transport_closed(t, code, &reason)
            }
        }
    }
    // Every output of this frame is drained by this pump (a handler cannot start another
    // socket callback synchronously), so `in_frame` positions always refer to `frame`.
    *inner.frame.borrow_mut() = frame;
    pump(inner);
    inner.frame.borrow_mut().take();
}

/// What the upgrade probe reports, before it is the transport.
fn probe_event(inner: &Rc<Inner>, ev: SocketEvent) {
    let t = now();
    {
        let mut core = inner.core.borrow_mut();
        match ev {
            SocketEvent::Open => core.probe_open(t),
            SocketEvent::Text(s, _) => core.probe_frame(t, s),
            SocketEvent::Binary(_) => core.probe_frame(t, ""),
            SocketEvent::Closed(..) => core.probe_closed(t),
        }
    }
    pump(inner);
}

/// Abandons the polling requests in flight, after a grace that lets a last POST (the CLOSE
/// packet) reach the server before the GET it would otherwise see cut.
fn abort_fetches(inner: &Inner) {
    for (_, abort) in inner.fetches.take() {
        let _ = abort.call1(&JsValue::NULL, &500.into());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        abort_fetches(self);
    }
}

fn take_fetch(inner: &Inner, id: u64) -> Option<js_sys::Function> {
    let mut list = inner.fetches.borrow_mut();
    let at = list.iter().position(|(k, _)| *k == id)?;
    Some(list.remove(at).1)
}

/// A number unique in this page, for telling sockets apart.
fn id_counter() -> u64 {
    thread_local!(static NEXT: Cell<u64> = const { Cell::new(0) });
    NEXT.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

fn carry_out(inner: &Rc<Inner>, out: Output) {
    match out {
        Output::OpenTransport(url) => {
            let generation = inner.generation.get() + 1;
            inner.generation.set(generation);
            if let Some(old) = inner.socket.borrow_mut().take() {
                drop_later(old);
            }
            let weak = Rc::downgrade(inner);
            let sink = move |ev: SocketEvent<'_>| {
                if let Some(inner) = weak.upgrade().filter(|i| i.generation.get() == generation) {
                    socket_event(&inner, ev);
                }
            };
            match Socket::open(&url, sink) {
                Ok(s) => *inner.socket.borrow_mut() = Some(s),
                Err(why) => inner.core.borrow_mut().transport_closed(now(), 1006, &why),
            }
        }
        Output::CloseTransport => {
            inner.generation.set(inner.generation.get() + 1);
            if let Some(old) = inner.socket.borrow_mut().take() {
                drop_later(old);
            }
            abort_fetches(inner);
        }
        Output::Send(frame) => {
            if let Some(s) = inner.socket.borrow().as_ref() {
                s.send(&frame);
            }
        }
        Output::SendAttachments(token) => {
            let parts = take_parts(inner, token);
            if let (Some(s), Some(parts)) = (inner.socket.borrow().as_ref(), parts) {
                for part in parts.iter() {
                    s.send_data(&part);
                }
            }
        }
        Output::AttachmentBytes(token) => {
            let bytes = peek_parts(inner, token).and_then(|parts| {
                parts
                    .iter()
                    .map(|part| {
                        let b = crate::platform::glue::part_bytes(&part);
                        let b = wasm_bindgen::JsCast::dyn_into::<js_sys::Uint8Array>(b).ok()?;
                        Some(b.to_vec())
                    })
                    .collect::<Option<Vec<_>>>()
            });
            let used = inner.core.borrow_mut().attachment_bytes(token, bytes);
            if used {
                take_parts(inner, token);
            }
        }
        Output::SendBinary(bytes) => {
            if let Some(s) = inner.socket.borrow().as_ref() {
                s.send_data(&js_sys::Uint8Array::from(&bytes[..]).into());
            }
        }
        Output::Attachment(bytes) => {
            let data = js_sys::Uint8Array::from(&bytes[..]).buffer();
            inner.attach_in.borrow_mut().push(data.into());
        }
        Output::NeedUrl => {
            let last = inner.core.borrow().state().url;
            let url = inner
                .next_url
                .as_ref()
                .map_or(Ok(last.clone()), |f| f(&last));
            let url = url.as_deref().map_err(String::as_str);
            inner.core.borrow_mut().provide_url(now(), url);
        }
        Output::Fetch { id, url, body } => {
            let weak = Rc::downgrade(inner);
            let done = wasm_bindgen::closure::Closure::once_into_js(
                move |status: u16, text: js_sys::JsString| {
                    let Some(inner) = weak.upgrade() else { return };
                    if take_fetch(&inner, id).is_none() {
                        return;
                    }
                    let body = String::from(&text);
                    inner.core.borrow_mut().fetch_done(now(), id, status, &body);
                    // Events' arguments are parsed from the body's JS string, as they are
                    // from a WebSocket frame's (`Incoming::in_frame`, made relative to it).
                    *inner.frame.borrow_mut() = Some(text);
                    pump(&inner);
                    inner.frame.borrow_mut().take();
                },
            );
            let abort = crate::platform::glue::request(&url, body, &done);
            // A last POST (id 0) is let run: nobody waits for its answer.
            if id != 0 {
                inner.fetches.borrow_mut().push((id, abort));
            }
        }
        Output::OpenProbe(url) => {
            let tag = id_counter();
            inner.probe_tag.set(tag);
            let generation = inner.generation.get();
            let weak = Rc::downgrade(inner);
            let sink = move |ev: SocketEvent<'_>| {
                let Some(inner) = weak.upgrade() else { return };
                if inner.probe_tag.get() == tag {
                    probe_event(&inner, ev);
                } else if inner.upgraded.get() == (tag, generation)
                    && inner.generation.get() == generation
                {
                    socket_event(&inner, ev);
                }
            };
            match Socket::open(&url, sink) {
                Ok(s) => *inner.probe.borrow_mut() = Some(s),
                Err(_) => inner.core.borrow_mut().probe_closed(now()),
            }
        }
        Output::SendProbe(frame) => {
            if let Some(s) = inner.probe.borrow().as_ref() {
                s.send(&frame);
            }
        }
        Output::CloseProbe => {
            inner.probe_tag.set(0);
            if let Some(old) = inner.probe.borrow_mut().take() {
                drop_later(old);
            }
        }
        Output::UpgradeProbe => {
            let tag = inner.probe_tag.replace(0);
            inner.upgraded.set((tag, inner.generation.get()));
            let probe = inner.probe.borrow_mut().take();
            if let Some(old) = std::mem::replace(&mut *inner.socket.borrow_mut(), probe) {
                drop_later(old);
            }
        }
        Output::DropAttachments(token) => {
            take_parts(inner, token);
        }
        Output::NeedAuth => {
            if let Some(once) = share::auth_once(inner) {
                return inner.core.borrow_mut().provide_auth(now(), once.as_deref());
            }
            let auth = inner.auth.borrow().clone();
            match auth {
                Auth::None => inner.core.borrow_mut().provide_auth(now(), None),
                Auth::Json(a) => inner.core.borrow_mut().provide_auth(now(), Some(&a)),
                Auth::Provider(f) => {
                    let generation = inner.generation.get();
                    let weak = Rc::downgrade(inner);
                    let fut = f();
                    crate::platform::spawn(async move {
                        let result = fut.await;
                        let Some(inner) =
                            weak.upgrade().filter(|i| i.generation.get() == generation)
                        else {
                            return;
                        };
                        match result {
                            Ok(a) => inner.core.borrow_mut().provide_auth(now(), a.as_deref()),
                            Err(why) => inner.core.borrow_mut().auth_failed(now(), &why),
                        }
                        pump(&inner);
                    });
                }
            }
        }
        Output::State(s) => {
            if share::sharing(inner) {
                share::state_changed(inner);
            } else {
                tell_state(inner, &s);
            }
        }
        Output::Event(ev) => {
            if !share::event(inner, &ev) {
                deliver(inner, ev);
            }
        }
        Output::Ack {
            id,
            result,
            attachments,
        } => {
            let parts = received_parts(inner, attachments);
            if share::acked(inner, id, &result, &parts) {
                return;
            }
            let waiter = take(&inner.acks, id);
            if let Some(w) = waiter {
                w(result
                    .and_then(parse_args)
                    .and_then(|args| with_parts(args, parts)));
            }
        }
        Output::Subscribed { id, result } => {
            if share::subscribed(inner, id, &result) {
                return;
            }
            let waiter = take(&inner.rooms, id);
            match (waiter, result) {
                (Some(w), r) => w(r.and_then(parse_args)),
                (None, Err(e)) => report(inner, &e),
                (None, Ok(_)) => {}
            }
        }
        Output::Error(e) => report(inner, &e),
    }
}

fn tell_state(inner: &Rc<Inner>, s: &State) {
    let listeners = inner.states.borrow_mut().take_for("");
    for l in listeners {
        l(s);
    }
}

/// Completes a request that went through the group (`Inner::requests`).
#[cfg(feature = "share")]
fn complete(
    inner: &Rc<Inner>,
    req: u64,
    result: Result<String, Error>,
    parts: Option<js_sys::Array>,
) {
    if let Some(w) = take(&inner.requests, req) {
        w(result
            .and_then(parse_args)
            .and_then(|args| with_parts(args, parts)));
    }
}

/// Keeps binary parts to send after their packet; the core's name for them.
fn keep_parts(inner: &Inner, parts: &js_sys::Array) -> Attachments {
    let mut out = inner.attach_out.borrow_mut();
    // Tokens are never 0 and never reused while their parts wait.
    let token = out.iter().map(|(t, _)| *t).max().unwrap_or(0) + 1;
    out.push((token, parts.clone()));
    Attachments {
        count: parts.length(),
        token,
        largest: crate::platform::glue::largest_part(parts) as u64,
    }
}

fn peek_parts(inner: &Inner, token: u64) -> Option<js_sys::Array> {
    let out = inner.attach_out.borrow();
    out.iter()
        .find(|(t, _)| *t == token)
        .map(|(_, p)| p.clone())
}

fn take_parts(inner: &Inner, token: u64) -> Option<js_sys::Array> {
    let mut out = inner.attach_out.borrow_mut();
    let at = out.iter().position(|(t, _)| *t == token)?;
    Some(out.remove(at).1)
}

/// The `n` binary frames that the packet being delivered announced: the last `n` kept, in
/// order (any before them belonged to a packet never delivered, and go). `None` for a
/// text-only packet.
fn received_parts(inner: &Inner, n: u32) -> Option<js_sys::Array> {
    if n == 0 {
        return None;
    }
    let mut kept = inner.attach_in.borrow_mut();
    let from = kept.len().saturating_sub(n as usize);
    let parts = kept.drain(from..).collect();
    kept.clear();
    Some(parts)
}

/// Puts the binary parts back where their placeholders are.
fn with_parts(args: JsValue, parts: Option<js_sys::Array>) -> Result<JsValue, Error> {
    match parts {
        Some(parts) if !crate::platform::glue::fill_placeholders(&args, &parts) => Err(Error::new(
            ErrorCode::DecodeError,
            "a binary placeholder points past the attachments that came",
        )),
        _ => Ok(args),
    }
}

/// Removes and returns the waiter for `id`.
fn take(list: &RefCell<Vec<(u64, AckWaiter)>>, id: u64) -> Option<AckWaiter> {
    let mut list = list.borrow_mut();
    let at = list.iter().position(|(k, _)| *k == id)?;
    Some(list.remove(at).1)
}

fn parse_args(args: String) -> Result<JsValue, Error> {
    js_sys::JSON::parse(&args)
        .map_err(|_| Error::new(ErrorCode::DecodeError, "ack arguments are not JSON"))
}

fn deliver(inner: &Rc<Inner>, ev: crate::core::protocol::Incoming) {
    let parts = received_parts(inner, ev.attachments);
    if !inner.handlers.borrow().wants(&ev.name) {
        return;
    }
    // Socket.IO events were checked as their frame was split (the core's `Config::schemas`); the
    // JSON protocol's are checked here. Only a mismatch runs the check that says where.
    // A binary event's placeholders are not its data: not checked against a schema.
    if ev.payload_ok != Some(true) && parts.is_none() {
        let first = ev.first_arg().unwrap_or("null");
        let checked = inner
            .core
            .borrow()
            .config()
            .schemas
            .validate(&ev.name, first);
        if let Err(why) = checked {
            return report(
                inner,
                &Error::new(ErrorCode::PayloadInvalid, why).with_event(ev.name),
            );
        }
    }
    // Parsed by the browser's JSON.parse from the JS string the frame came as, not copied back
    // out of wasm memory.
    let parsed = match (ev.in_frame, inner.frame.borrow().as_ref()) {
        (Some(at), Some(frame)) => {
            let args = crate::platform::glue::event_args(
                frame,
                at.start_utf16 as u32,
                at.tail_utf16 as u32,
                at.single,
            );
            // eventArgs gives an array or undefined.
            (!args.is_undefined()).then(|| wasm_bindgen::JsCast::unchecked_into(args))
        }
        _ => js_sys::JSON::parse(&ev.args).ok().map(Into::into),
    };
    let args: js_sys::Array = match parsed {
        Some(v) => v,
        None => {
            return report(
                inner,
                &Error::new(ErrorCode::DecodeError, "arguments are not JSON").with_event(ev.name),
            )
        }
    };
    if let Some(parts) = parts {
        if let Err(e) = with_parts(args.clone().into(), Some(parts)) {
            return report(inner, &e.with_event(ev.name));
        }
    }
    let handlers = inner.handlers.borrow_mut().take_for(&ev.name);
    let d = Delivery {
        name: &ev.name,
        args: &args,
        ack: ev.ack,
        raw_args: &ev.args,
        inner,
    };
    for h in &handlers {
        h(&d);
    }
}
