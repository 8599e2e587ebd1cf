//! One user's session: a [`Client`] with its [`Outbox`] and its [`Cache`], and what spans them:
//! opening them together, an identity switch, reconnecting and closing. The JS API holds one;
//! a Rust app that wants all three may too.

#[cfg(feature = "cache")]
use super::cache::{Cache, CacheOptions};
#[cfg(feature = "outbox")]
use super::outbox::{Outbox, OutboxOptions};
use super::{Auth, Client, Options};

/// What a session opens with.
#[derive(Debug)]
pub struct SessionOptions {
    /// The connection.
    pub connect: Options,
    /// The outbox; `None` for none.
    #[cfg(feature = "outbox")]
    pub outbox: Option<OutboxOptions>,
    /// The cache. Without an identity of its own it takes the outbox's.
    #[cfg(feature = "cache")]
    pub cache: CacheOptions,
}

/// A client, its outbox and its cache. The outbox and the cache are the client's own
/// ([`Client::outbox`], [`Client::cache`]): its `close` and `reconnect` take them along.
#[derive(Debug)]
pub struct Session {
    /// The connection.
    pub client: Client,
    /// The query cache.
    #[cfg(feature = "cache")]
    pub cache: Cache,
}

impl Session {
    /// Connects and opens the outbox and the cache.
    pub fn open(opts: SessionOptions) -> Session {
        #[cfg(all(feature = "cache", feature = "outbox"))]
        let opts = {
            let mut opts = opts;
            cache_identity(&mut opts.cache, opts.outbox.as_ref());
            opts
        };
        #[cfg(feature = "outbox")]
        let opts = {
            let mut opts = opts;
            if let (Some(share), Some(o)) = (opts.connect.share.as_mut(), &opts.outbox) {
                // Tabs of one identity share a connection (and an outbox).
                *share = o.identity.clone();
            }
            opts
        };
        let client = Client::connect(opts.connect);
        #[cfg(feature = "outbox")]
        {
            client.parts.outbox.borrow_mut().1 = opts.outbox.map(|o| Outbox::open(&client, o));
        }
        #[cfg(feature = "cache")]
        let cache = Cache::new(&client, opts.cache);
        #[cfg(feature = "cache")]
        {
            client.parts.cache.borrow_mut().1 = Some(cache.clone());
        }
        Session {
            #[cfg(feature = "cache")]
            cache,
            client,
        }
    }

    /// The outbox (a handle), or `None` when the session has none.
    #[cfg(feature = "outbox")]
    pub fn outbox(&self) -> Option<Outbox> {
        self.client.parts.outbox.borrow().1.clone()
    }

    /// New credentials, and with `identity` another user: the cache and the outbox switch to
    /// that identity's own stores first (no entry is sent under another user's credentials),
    /// then the client reconnects with `auth`.
    pub fn set_auth(&self, auth: Auth, identity: Option<&str>) {
        let mut regrouped = false;
        if let Some(identity) = identity {
            regrouped = self.client.switch_identity(identity);
            #[cfg(feature = "cache")]
            self.cache.switch_identity(identity);
            #[cfg(feature = "outbox")]
            {
                // Not borrowed while switching: a listener it calls may use the outbox.
                let slot = &self.client.parts.outbox;
                let old = slot.borrow_mut().1.take();
                let new = old.map(|o| o.with_identity(identity));
                slot.borrow_mut().1 = new;
            }
            #[cfg(not(any(feature = "cache", feature = "outbox")))]
            let _ = identity;
        }
        if regrouped {
            self.client.keep_auth(auth);
        } else {
            self.client.set_auth(auth);
        }
    }

    /// Reconnects now: the cache talks with other tabs again, the outbox asks for the flushing
    /// role again ([`Client::reconnect`]).
    pub fn reconnect(&self) {
        self.client.reconnect();
    }

    /// Closes for good: the connection, the cache's link to other tabs (its data stays
    /// readable) and the outbox's flushing role (its entries stay stored for whoever flushes)
    /// ([`Client::close`]).
    pub fn close(&self) {
        self.client.close();
    }
}

/// A cache without an identity of its own takes the outbox's.
#[cfg(all(feature = "cache", feature = "outbox"))]
pub(crate) fn cache_identity(cache: &mut CacheOptions, outbox: Option<&OutboxOptions>) {
    if let (true, Some(o)) = (cache.identity.is_empty(), outbox) {
        cache.identity = o.identity.clone();
    }
}
