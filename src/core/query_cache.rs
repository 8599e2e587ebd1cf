//! The query cache, sans-IO: data by query key, staleness, observers, invalidation with
//! TanStack's filters, garbage collection. Fetching is the driver's business: the cache says
//! when to fetch ([`CacheOutput::Fetch`]) and is told how it went.
//!
//! Data stays raw JSON text; time is milliseconds passed in. Lookups by filter go through the
//! [`KeyIndex`], so they cost what they match.
//!
//! ```
//! use wiresync::core::query_cache::{CacheOutput, Filters, QueryCache, RefetchType};
//! use wiresync::core::query_key::Value;
//!
//! let mut cache = QueryCache::new();
//! let key = Value::parse(r#"["order", "1"]"#).unwrap();
//! cache.observe(0, &key, 30_000, 300_000); // no data yet: the cache asks for a fetch
//! assert_eq!(cache.poll(), Some(CacheOutput::Fetch(key.hash())));
//! let token = cache.fetch_token(&key.hash());
//! cache.fetched(10, &key.hash(), token, r#"{"status":"new"}"#.into());
//!
//! // An event invalidates every ["order", ...] query: the observed one is fetched again.
//! let orders = Filters { query_key: Some(Value::parse(r#"["order"]"#).unwrap()), ..Filters::default() };
//! assert_eq!(cache.invalidate(20, &orders, RefetchType::Active), 1);
//! assert!(std::iter::from_fn(|| cache.poll()).any(|o| o == CacheOutput::Fetch(key.hash())));
//! ```

use std::collections::{BTreeMap, VecDeque};

use super::invalidation::Rules;
use super::query_index::KeyIndex;
use super::query_key::{hash_of_plain, partial_match, Value};

/// Which queries a filter selects by activity (TanStack's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryType {
    /// Every query. The default.
    #[default]
    All,
    /// Queries with observers.
    Active,
    /// Queries without observers.
    Inactive,
}

/// What to refetch after an invalidation (TanStack's `refetchType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefetchType {
    /// Matched queries with observers. The default.
    #[default]
    Active,
    /// Matched queries without observers.
    Inactive,
    /// Every matched query.
    All,
    /// None: only mark them invalidated.
    None,
}

/// Query filters (TanStack's `QueryFilters`, less `predicate`, which the JS glue applies).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Key to match; `None` = every query.
    pub query_key: Option<Value>,
    /// Match the key exactly (by hash) instead of by prefix/subset.
    pub exact: bool,
    /// Active / inactive / all.
    pub kind: QueryType,
    /// Only stale (`Some(true)`) or fresh (`Some(false)`) queries.
    pub stale: Option<bool>,
}

impl From<Value> for Filters {
    /// The queries whose key starts with `key` (prefix on arrays, subset on objects).
    fn from(key: Value) -> Filters {
        Filters {
            query_key: Some(key),
            ..Filters::default()
        }
    }
}

/// Where a query's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryStatus {
    /// No data yet.
    Pending,
    /// Data present.
    Success,
    /// The last fetch failed, with the reason.
    Error(String),
}

/// One cached query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Its key.
    pub key: Value,
    /// `hashKey(key)`.
    pub hash: String,
    /// Raw JSON data, if any.
    pub data: Option<String>,
    /// When `data` was set, ms (0 = never).
    pub data_updated_at: u64,
    /// Pending, success or error.
    pub status: QueryStatus,
    /// Marked by an invalidation: stale whatever its age.
    pub invalidated: bool,
    /// Whether a fetch is under way.
    pub fetching: bool,
    observers: Vec<(u64, u64, u64)>, // observer id, stale time, gc time
    gc_at: Option<u64>,
    /// Counts fetches started: only the answer to the latest one counts.
    fetches: u32,
    /// Failed attempts of the fetch under way (retried while observed, up to the cache's
    /// `retry`).
    failures: u32,
    /// `Some(server data)` while optimistic layers cover this query: `data` is then what the
    /// layers made of it, and writes from the server land here instead.
    base: Option<Option<String>>,
}

impl Query {
    /// The server's data: `data`, or what lies beneath the optimistic layers.
    pub fn server_data(&self) -> Option<&str> {
        match &self.base {
            Some(base) => base.as_deref(),
            None => self.data.as_deref(),
        }
    }

    /// Whether optimistic layers cover it.
    pub fn is_layered(&self) -> bool {
        self.base.is_some()
    }

    /// Whether garbage collection may take it (when its `gc_at` comes).
    fn collectable(&self) -> bool {
        !self.is_active() && !self.fetching && !self.is_layered()
    }

    /// Whether it has observers.
    pub fn is_active(&self) -> bool {
        !self.observers.is_empty()
    }

    /// TanStack's `isStale`: invalidated, no data, or older than the shortest observer stale
    /// time (0 without observers).
    pub fn is_stale(&self, now: u64) -> bool {
        let stale_time = self.observers.iter().map(|o| o.1).min().unwrap_or(0);
        self.invalidated
            || self.data.is_none()
            || now.saturating_sub(self.data_updated_at) >= stale_time
    }
}

/// What the driver must do or report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutput {
    /// Run the query function of this query (by hash) and report with `fetched`/`fetch_failed`.
    Fetch(String),
    /// These queries' data or state changed: tell their observers.
    Updated(String),
    /// An invalidation or a patch touched these keys (hashes): call the matching watch hooks.
    Touched(Vec<String>),
    /// Garbage-collected (no observers for `gc_time`).
    Removed(String),
    /// Server data reached a layered query (by hash): recompute the layers over
    /// [`Query::server_data`] and write the result with [`QueryCache::set_visible`].
    Rebase(String),
}

/// A change to write to storage (see [`QueryCache::take_changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Store this query's server data: its hash (which is also its key as JSON), the data and
    /// when it was set.
    Put {
        /// `hashKey(key)`: canonical JSON of the key.
        hash: String,
        /// Raw JSON data.
        data: String,
        /// `dataUpdatedAt`, ms.
        at: u64,
    },
    /// Forget the stored record of this hash.
    Delete(String),
}

/// Garbage-collection time of queries that were never observed (TanStack's default).
pub const DEFAULT_GC_TIME: u64 = 300_000;

/// Identifies an observer.
pub type ObserverId = u64;

/// The queries by slot (what the index holds: a matched query is one array access away) and by
/// hash (for lookups by key).
#[derive(Debug, Default)]
struct Queries {
    slots: Vec<Option<Query>>,
    free: Vec<u32>,
    by_hash: BTreeMap<String, u32>,
}

impl Queries {
    fn len(&self) -> usize {
        self.by_hash.len()
    }

    fn id(&self, hash: &str) -> Option<u32> {
        self.by_hash.get(hash).copied()
    }

    fn contains_key(&self, hash: &str) -> bool {
        self.by_hash.contains_key(hash)
    }

    fn get(&self, hash: &str) -> Option<&Query> {
        self.id(hash).and_then(|i| self.by_id(i))
    }

    fn get_mut(&mut self, hash: &str) -> Option<&mut Query> {
        let i = self.id(hash)?;
        self.by_id_mut(i)
    }

    fn by_id(&self, id: u32) -> Option<&Query> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    fn by_id_mut(&mut self, id: u32) -> Option<&mut Query> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Stores a new query; returns its slot.
    fn insert(&mut self, q: Query) -> u32 {
        let hash = q.hash.clone();
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(q);
                id
            }
            None => {
                self.slots.push(Some(q));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_hash.insert(hash, id);
        id
    }

    fn remove(&mut self, hash: &str) -> Option<(u32, Query)> {
        let id = self.by_hash.remove(hash)?;
        let q = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        Some((id, q))
    }

    fn values(&self) -> impl Iterator<Item = &Query> {
        self.slots.iter().flatten()
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_hash.values().copied()
    }
}

/// The query cache.
#[derive(Debug, Default)]
pub struct QueryCache {
    queries: Queries,
    index: KeyIndex<u32>,
    next_observer: ObserverId,
    /// Observer → the hash of its query (few: one per mounted component).
    observed: Vec<(ObserverId, String)>,
    out: VecDeque<CacheOutput>,
    /// No later than the earliest `gc_at` (may be earlier: a timer that fires early finds
    /// nothing due and recomputes it), so no operation scans the whole cache.
    next_gc: Option<u64>,
    /// gc time of queries that were never observed; [`DEFAULT_GC_TIME`] unless set.
    default_gc: Option<u64>,
    /// Track changes for storage (hashes whose server data changed since the last take).
    tracking: bool,
    /// Hashes whose server data changed (the value is unused: the same map type as `by_hash`
    /// shares its code in the wasm).
    dirty: BTreeMap<String, u32>,
    /// Whether anyone hears [`CacheOutput::Touched`] (watch hooks); without, none is made.
    watched: bool,
    /// Retries of a failed fetch; [`DEFAULT_RETRY`] unless set.
    retry: Option<u32>,
    /// Failed fetches waiting for their retry: when, and which query.
    retries: Vec<(u64, String)>,
}

/// Retries of a failed fetch while its query is observed (TanStack's default).
pub const DEFAULT_RETRY: u32 = 3;

/// The wait before retry number `n` (1-based): TanStack's `min(1000 · 2^(n-1), 30000)` ms.
pub fn retry_delay(n: u32) -> u64 {
    (1000u64 << n.saturating_sub(1).min(5)).min(30_000)
}

/// Whether a query stored at `at` (epoch ms) with `buster` and `data` may be restored at `now`
/// by a cache whose persistence has `want_buster` and `max_age_ms`: written with the same
/// buster, not too old, and JSON (a record edited or truncated is dropped like a stale one).
pub fn restorable(
    now: u64,
    (at, buster, data): (u64, &str, &str),
    want_buster: &str,
    max_age_ms: u64,
) -> bool {
    buster == want_buster
        && now.saturating_sub(at) <= max_age_ms
        && super::json::validate(data).is_ok()
}

/// The type and staleness tests of `filters` for one query.
fn passes(q: &Query, now: u64, filters: &Filters) -> bool {
    let kind_ok = match filters.kind {
        QueryType::All => true,
        QueryType::Active => q.is_active(),
        QueryType::Inactive => !q.is_active(),
    };
    kind_ok && filters.stale.is_none_or(|s| q.is_stale(now) == s)
}

impl QueryCache {
    /// An empty cache.
    pub fn new() -> QueryCache {
        QueryCache::default()
    }

    /// The next output.
    pub fn poll(&mut self) -> Option<CacheOutput> {
        self.out.pop_front()
    }

    /// When the next garbage collection is due.
    pub fn poll_timeout(&self) -> Option<u64> {
        let retry = self.retries.iter().map(|r| r.0).min();
        match (self.next_gc, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Retries of a failed fetch while observed (default [`DEFAULT_RETRY`]; 0 = none).
    pub fn set_retry(&mut self, retry: u32) {
        self.retry = Some(retry);
    }

    /// The gc time of queries that were never observed (default [`DEFAULT_GC_TIME`]).
    pub fn set_default_gc_time(&mut self, ms: u64) {
        self.default_gc = Some(ms);
    }

    /// The gc time of queries that were never observed (and of observers that give none).
    pub fn default_gc_time(&self) -> u64 {
        self.default_gc()
    }

    fn default_gc(&self) -> u64 {
        self.default_gc.unwrap_or(DEFAULT_GC_TIME)
    }

    /// Whether watch hooks exist: without any, no [`CacheOutput::Touched`] is produced.
    pub fn set_watched(&mut self, watched: bool) {
        self.watched = watched;
    }

    /// Tells observers of `hash` (only queries with observers have any).
    fn updated(&mut self, hash: &str) {
        if self.queries.get(hash).is_some_and(Query::is_active) {
            self.out.push_back(CacheOutput::Updated(hash.to_owned()));
        }
    }

    fn touched(&mut self, hashes: Vec<String>) {
        if self.watched && !hashes.is_empty() {
            self.out.push_back(CacheOutput::Touched(hashes));
        }
    }

    /// Starts recording which queries' server data changed, for [`take_changes`](Self::take_changes).
    pub fn track_changes(&mut self) {
        self.tracking = true;
    }

    fn changed(&mut self, hash: &str) {
        if self.tracking {
            self.dirty.insert(hash.to_owned(), 0);
        }
    }

    /// Whether changes wait to be taken.
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// What changed since the last call, one record per query however often it changed:
    /// a `Put` of the server data, or a `Delete` for a query gone or without data.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.dirty)
            .into_keys()
            .map(|hash| {
                match self
                    .queries
                    .get(&hash)
                    .and_then(|q| q.server_data().map(|d| (d, q.data_updated_at)))
                {
                    Some((data, at)) => Change::Put {
                        data: data.to_owned(),
                        hash,
                        at,
                    },
                    None => Change::Delete(hash),
                }
            })
            .collect()
    }

    /// Puts back a stored query: its data with its old `dataUpdatedAt`. A query that has data
    /// or was changed (set, removed, reset) since tracking began keeps what it has. A restore is
    /// no change: nothing is written back. Returns whether it was restored.
    pub fn restore(&mut self, now: u64, key: &Value, data: String, at: u64) -> bool {
        let hash = key.hash();
        if self.dirty.contains_key(&hash)
            || self.get(key).is_some_and(|q| q.server_data().is_some())
        {
            return false;
        }
        self.entry(key);
        self.write(now, &hash, data, at);
        self.dirty.remove(&hash);
        true
    }

    /// Stops tracking changes (storage failed: nothing will take them).
    pub fn untrack_changes(&mut self) {
        self.tracking = false;
        self.dirty.clear();
    }

    /// The token of the fetch under way for `hash`: pass it back to
    /// [`fetched`](Self::fetched) / [`fetch_failed`](Self::fetch_failed), so that the answer to
    /// a fetch superseded meanwhile (a reset, another user) counts for nothing.
    pub fn fetch_token(&self, hash: &str) -> u32 {
        self.queries.get(hash).map_or(0, |q| q.fetches)
    }

    fn gc_later(&mut self, at: u64) {
        self.next_gc = Some(self.next_gc.map_or(at, |g| g.min(at)));
    }

    /// Number of cached queries.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.queries.len() == 0
    }

    /// A query by key.
    pub fn get(&self, key: &Value) -> Option<&Query> {
        self.queries.get(&key.hash())
    }

    /// A query by hash.
    pub fn get_by_hash(&self, hash: &str) -> Option<&Query> {
        self.queries.get(hash)
    }

    fn entry(&mut self, key: &Value) -> &mut Query {
        let hash = key.hash();
        let id = match self.queries.id(&hash) {
            Some(id) => id,
            None => {
                let id = self.queries.insert(Query {
                    key: key.clone(),
                    hash,
                    data: None,
                    data_updated_at: 0,
                    status: QueryStatus::Pending,
                    invalidated: false,
                    fetching: false,
                    observers: Vec::new(),
                    gc_at: None,
                    fetches: 0,
                    failures: 0,
                    base: None,
                });
                self.index.insert(key, id);
                id
            }
        };
        self.queries
            .by_id_mut(id)
            .expect("a query just found or stored")
    }

    /// `setQueryData`: stores `data` (raw JSON) as fresh success data.
    pub fn set_data(&mut self, now: u64, key: &Value, data: String) {
        let hash = self.entry(key).hash.clone();
        self.store(now, &hash, data);
    }

    /// `setQueryData` with the key as JSON text (what the JS glue has): a key already cached
    /// and written in hash form is found without parsing it. `Err` if the key is not an array.
    pub fn set_data_json(&mut self, now: u64, key_text: &str, data: String) -> Result<(), String> {
        if let Some(hash) = hash_of_plain(key_text).filter(|h| self.queries.contains_key(h)) {
            self.store(now, hash, data);
            return Ok(());
        }
        match Value::parse(key_text) {
            Ok(key @ Value::Arr(_)) => {
                self.set_data(now, &key, data);
                Ok(())
            }
            _ => Err("a query key must be a JSON array".into()),
        }
    }

    fn store(&mut self, now: u64, hash: &str, data: String) {
        self.write(now, hash, data, now);
    }

    /// Server data arrives (a patch, a fetch, a restore): to `data`, or beneath the layers.
    fn write(&mut self, now: u64, hash: &str, data: String, at: u64) -> bool {
        let gc = self.default_gc();
        let Some(q) = self.queries.get_mut(hash) else {
            return false;
        };
        q.data_updated_at = at;
        q.status = QueryStatus::Success;
        q.invalidated = false;
        let collect = !q.is_active() && q.gc_at.is_none();
        if collect {
            q.gc_at = Some(now.saturating_add(gc));
        }
        if let Some(base) = &mut q.base {
            *base = Some(data);
            self.out.push_back(CacheOutput::Rebase(hash.to_owned()));
        } else {
            q.data = Some(data);
            if q.is_active() {
                self.out.push_back(CacheOutput::Updated(hash.to_owned()));
            }
        }
        if collect {
            self.gc_later(now.saturating_add(gc));
        }
        self.changed(hash);
        if self.watched {
            self.touched(vec![hash.to_owned()]);
        }
        true
    }

    /// Covers `key` with optimistic layers (`true`): from now on server data goes beneath them
    /// and [`CacheOutput::Rebase`] asks for the layers to be re-applied. `false` uncovers it:
    /// the server data becomes the data again.
    pub fn set_layered(&mut self, now: u64, key: &Value, layered: bool) {
        if !layered && self.get(key).is_none() {
            return; // gone (removed meanwhile): nothing to uncover
        }
        let gc = self.default_gc();
        let hash = self.entry(key).hash.clone();
        let Some(q) = self.queries.get_mut(&hash) else {
            return;
        };
        match (layered, q.base.take()) {
            (true, None) => q.base = Some(q.data.clone()),
            (true, Some(base)) => q.base = Some(base),
            (false, None) => {}
            (false, Some(base)) => {
                if base.is_none() && q.data.is_some() {
                    q.status = QueryStatus::Pending;
                }
                q.data = base;
                // Collectable again: by its old deadline, or from now if it never had one.
                let at = *q.gc_at.get_or_insert(now.saturating_add(gc));
                if q.collectable() {
                    self.gc_later(at);
                }
                self.updated(&hash);
                self.touched(vec![hash]);
            }
        }
    }

    /// Writes what the layers made of the server data (a layered query's visible data).
    /// Not server data: not stored, not the base.
    pub fn set_visible(&mut self, key: &Value, data: Option<String>) {
        let hash = self.entry(key).hash.clone();
        let Some(q) = self.queries.get_mut(&hash) else {
            return;
        };
        if q.data.is_none() && data.is_some() {
            q.status = QueryStatus::Success;
        }
        q.data = data;
        self.updated(&hash);
        self.touched(vec![hash]);
    }

    /// The hashes of the queries `filters` selects.
    pub fn find(&self, now: u64, filters: &Filters) -> Vec<String> {
        self.find_ids(now, filters)
            .into_iter()
            .filter_map(|i| self.queries.by_id(i).map(|q| q.hash.clone()))
            .collect()
    }

    /// The slots of the queries `filters` selects.
    fn find_ids(&self, now: u64, filters: &Filters) -> Vec<u32> {
        let candidates: Vec<u32> = match (&filters.query_key, filters.exact) {
            (Some(k), true) => self.index.exact(k),
            (Some(k), false) => self.index.matching(k),
            (None, _) => self.queries.ids().collect(),
        };
        candidates
            .into_iter()
            .filter(|&i| {
                self.queries
                    .by_id(i)
                    .is_some_and(|q| passes(q, now, filters))
            })
            .collect()
    }

    /// An incoming event under the event `rules`: the keys they fill from its payload (the
    /// first of `args`, a JSON array) get the payload as data, or are invalidated (active
    /// ones refetch). Other tabs are not told: each receives the event itself.
    pub fn apply_event(&mut self, now: u64, rules: &Rules, name: &str, args: &str) {
        if !rules.wants(name) {
            return;
        }
        let payload = match Value::parse(args) {
            Ok(Value::Arr(items)) => items.into_iter().next(),
            _ => None,
        }
        .unwrap_or(Value::Null);
        let (invalidate, set) = rules.apply(name, &payload);
        let text = payload.hash();
        for key in set {
            self.set_data(now, &key, text.clone());
        }
        for key in invalidate {
            let filters = Filters {
                query_key: Some(key),
                ..Filters::default()
            };
            self.invalidate(now, &filters, RefetchType::Active);
        }
    }

    /// The connection opened. After an unrecovered reconnect (`resync`: events were missed),
    /// every active query refetches, TanStack's refetch-on-reconnect; otherwise only the active
    /// ones whose last fetch failed (the server was unreachable, say) try again.
    pub fn connection_opened(&mut self, now: u64, resync: bool) {
        let active = Filters {
            kind: QueryType::Active,
            ..Filters::default()
        };
        if resync {
            self.invalidate(now, &active, RefetchType::Active);
            return;
        }
        let failed: Vec<Value> = self
            .find_ids(now, &active)
            .into_iter()
            .filter_map(|i| self.queries.by_id(i))
            .filter(|q| matches!(q.status, QueryStatus::Error(_)))
            .map(|q| q.key.clone())
            .collect();
        for key in failed {
            let exact = Filters {
                query_key: Some(key),
                exact: true,
                ..Filters::default()
            };
            self.invalidate(now, &exact, RefetchType::Active);
        }
    }

    /// Another user: their queries are forgotten (inactive ones removed, active ones reset, so
    /// their observers fetch again as the new identity), and so are the changes not yet
    /// saved (take them first for the old identity's store). Nothing of it is saved.
    pub fn switch_identity(&mut self, now: u64) {
        let kind = |kind| Filters {
            kind,
            ..Filters::default()
        };
        self.remove(now, &kind(QueryType::Inactive));
        self.reset(now, &kind(QueryType::Active));
        let _ = self.take_changes();
    }

    /// Whether `filters` select the query of `key`, by the rule of [`QueryCache::find`]: the
    /// key (prefix/subset, or exact), the type and staleness. For the watch hooks, which hear
    /// of queries one by one; a query no longer cached (removed) counts as inactive and stale.
    pub fn selects(&self, now: u64, filters: &Filters, key: &Value) -> bool {
        let key_ok = match &filters.query_key {
            None => true,
            Some(fk) if filters.exact => fk.hash() == key.hash(),
            Some(fk) => partial_match(key, fk),
        };
        key_ok
            && match self.get(key) {
                Some(q) => passes(q, now, filters),
                None => {
                    filters.kind != QueryType::Active && filters.stale.is_none_or(|stale| stale)
                }
            }
    }

    /// `invalidateQueries`: marks the matches stale, tells watch hooks, and fetches those that
    /// `refetch` selects (deduplicated with fetches under way). Returns how many matched.
    pub fn invalidate(&mut self, now: u64, filters: &Filters, refetch: RefetchType) -> usize {
        let matched = self.find_ids(now, filters);
        let mut touched = Vec::new();
        for &i in &matched {
            let Some(q) = self.queries.by_id_mut(i) else {
                continue;
            };
            q.invalidated = true;
            let active = q.is_active();
            let wanted = match refetch {
                RefetchType::All => true,
                RefetchType::Active => active,
                RefetchType::Inactive => !active,
                RefetchType::None => false,
            };
            if active || wanted || self.watched {
                let hash = q.hash.clone();
                if active {
                    self.out.push_back(CacheOutput::Updated(hash.clone()));
                }
                if wanted && !q.fetching {
                    q.fetching = true;
                    q.fetches = q.fetches.wrapping_add(1);
                    self.out.push_back(CacheOutput::Fetch(hash.clone()));
                }
                if self.watched {
                    touched.push(hash);
                }
            }
        }
        self.touched(touched);
        matched.len()
    }

    /// `removeQueries`: forgets the matches.
    pub fn remove(&mut self, now: u64, filters: &Filters) -> Vec<String> {
        let matched = self.find(now, filters);
        for h in &matched {
            if let Some((id, q)) = self.queries.remove(h) {
                self.index.remove(&q.key, &id);
                self.out.push_back(CacheOutput::Removed(h.clone()));
                self.changed(h);
            }
        }
        if self.watched {
            self.touched(matched.clone());
        }
        matched
    }

    /// `resetQueries`: back to no data; active ones fetch again.
    pub fn reset(&mut self, now: u64, filters: &Filters) -> Vec<String> {
        let matched = self.find(now, filters);
        for h in &matched {
            let Some(q) = self.queries.get_mut(h) else {
                continue;
            };
            // Optimistic layers stay, now over no server data; a fetch under way counts for
            // nothing (its answer may belong to what was reset).
            let layered = q.is_layered();
            if layered {
                q.base = Some(None);
            } else {
                q.data = None;
            }
            q.fetching = false;
            q.data_updated_at = 0;
            q.status = QueryStatus::Pending;
            q.invalidated = false;
            let active = q.is_active();
            self.out.push_back(CacheOutput::Updated(h.clone()));
            if layered {
                self.out.push_back(CacheOutput::Rebase(h.clone()));
            }
            if self.tracking {
                self.dirty.insert(h.clone(), 0);
            }
            if active {
                self.start_fetch(h);
            }
        }
        if self.watched {
            self.touched(matched.clone());
        }
        matched
    }

    fn start_fetch(&mut self, hash: &str) {
        if let Some(q) = self.queries.get_mut(hash) {
            if !q.fetching {
                q.fetching = true;
                q.fetches = q.fetches.wrapping_add(1);
                self.out.push_back(CacheOutput::Fetch(hash.to_owned()));
            }
        }
    }

    /// An observer of `key` appears: it fetches when data is missing or stale (deduplicated).
    pub fn observe(&mut self, now: u64, key: &Value, stale_time: u64, gc_time: u64) -> ObserverId {
        self.next_observer += 1;
        let id = self.next_observer;
        let q = self.entry(key);
        q.observers.push((id, stale_time, gc_time));
        q.gc_at = None;
        let (hash, stale) = (q.hash.clone(), q.is_stale(now));
        self.observed.push((id, hash.clone()));
        if stale {
            self.start_fetch(&hash);
        }
        id
    }

    /// An observer goes away; a query left without observers is collected after its `gc_time`.
    pub fn unobserve(&mut self, now: u64, id: ObserverId) {
        let Some(at) = self.observed.iter().position(|o| o.0 == id) else {
            return;
        };
        let (_, hash) = self.observed.swap_remove(at);
        let Some(q) = self.queries.get_mut(&hash) else {
            return;
        };
        if let Some(at) = q.observers.iter().position(|o| o.0 == id) {
            let (_, _, gc_time) = q.observers.remove(at);
            if q.observers.is_empty() {
                q.gc_at = Some(now.saturating_add(gc_time));
                self.gc_later(now.saturating_add(gc_time));
            }
        }
    }

    /// The fetch with this [token](Self::fetch_token) settles: `None` if it is not the one
    /// under way (superseded), else the query, no longer fetching, collectable again if due.
    fn settle_fetch(&mut self, hash: &str, token: u32) -> Option<&mut Query> {
        let q = self.queries.get_mut(hash)?;
        if !q.fetching || q.fetches != token {
            return None;
        }
        q.fetching = false;
        let due = q.gc_at.filter(|_| q.collectable());
        if let Some(at) = due {
            self.gc_later(at);
        }
        self.queries.get_mut(hash)
    }

    /// A fetch succeeded (ignored when superseded, see [`fetch_token`](Self::fetch_token)).
    pub fn fetched(&mut self, now: u64, hash: &str, token: u32, data: String) {
        if let Some(q) = self.settle_fetch(hash, token) {
            q.failures = 0;
            self.write(now, hash, data, now);
        }
    }

    /// A fetch failed (ignored when superseded). An observed query tries again after
    /// [`retry_delay`], up to `retry` times, still fetching meanwhile; then it is in error, its
    /// data (if any) kept.
    pub fn fetch_failed(&mut self, now: u64, hash: &str, token: u32, reason: String) {
        let retry = self.retry.unwrap_or(DEFAULT_RETRY);
        let Some(q) = self.queries.get_mut(hash) else {
            return;
        };
        if q.fetching && q.fetches == token && q.is_active() && q.failures < retry {
            q.failures += 1;
            let at = now.saturating_add(retry_delay(q.failures));
            self.retries.push((at, hash.to_owned()));
            return;
        }
        if let Some(q) = self.settle_fetch(hash, token) {
            q.failures = 0;
            q.status = QueryStatus::Error(reason);
            self.out.push_back(CacheOutput::Updated(hash.to_owned()));
        }
    }

    /// Starts the retries that are due (a query no longer fetching was reset or settled
    /// meanwhile; one no longer observed gives up, in error).
    fn retry_due(&mut self, now: u64) {
        if self.retries.is_empty() {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = self.retries.drain(..).partition(|r| r.0 <= now);
        self.retries = later;
        for (_, hash) in due {
            let Some(q) = self.queries.get_mut(&hash) else {
                continue;
            };
            if !q.fetching {
                continue;
            }
            if q.is_active() {
                q.fetches = q.fetches.wrapping_add(1);
                self.out.push_back(CacheOutput::Fetch(hash));
            } else {
                let token = q.fetches;
                q.failures = 0;
                if let Some(q) = self.settle_fetch(&hash, token) {
                    q.status = QueryStatus::Error("no longer observed".into());
                }
            }
        }
    }

    /// Retries that are due, and garbage collection of queries without observers past their
    /// `gc_time`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.retry_due(now);
        let due: Vec<String> = self
            .queries
            .values()
            .filter(|q| q.gc_at.is_some_and(|t| now >= t) && q.collectable())
            .map(|q| q.hash.clone())
            .collect();
        for h in due {
            if let Some((id, q)) = self.queries.remove(&h) {
                self.index.remove(&q.key, &id);
                self.changed(&h);
                self.out.push_back(CacheOutput::Removed(h));
            }
        }
        // Only what may be collected: a layered or fetching query past its deadline would
        // otherwise make the timer fire again at once (settling or uncovering re-arms it).
        self.next_gc = self
            .queries
            .values()
            .filter(|q| q.collectable())
            .filter_map(|q| q.gc_at)
            .min();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Value {
        Value::parse(raw).unwrap()
    }

    fn drain(c: &mut QueryCache) -> Vec<CacheOutput> {
        std::iter::from_fn(|| c.poll()).collect()
    }

    fn fetches(out: &[CacheOutput]) -> Vec<String> {
        out.iter()
            .filter_map(|o| {
                if let CacheOutput::Fetch(h) = o {
                    Some(h.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    fn filters(key: &str) -> Filters {
        Filters {
            query_key: Some(v(key)),
            ..Filters::default()
        }
    }

    #[test]
    fn set_and_get_data_by_key_whatever_the_object_key_order() {
        let mut c = QueryCache::new();
        c.set_data(
            10,
            &v(r#"["order", {"id": "1", "v": 2}]"#),
            r#"{"status":"new"}"#.into(),
        );
        let q = c.get(&v(r#"["order", {"v": 2, "id": "1"}]"#)).unwrap();
        assert_eq!(q.data.as_deref(), Some(r#"{"status":"new"}"#));
        assert_eq!((q.data_updated_at, &q.status), (10, &QueryStatus::Success));
    }

    #[test]
    fn an_active_observer_refetches_on_invalidation_an_inactive_one_does_not() {
        let mut c = QueryCache::new();
        let active = v(r#"["order", "1"]"#);
        let inactive = v(r#"["order", "2"]"#);
        c.set_data(0, &inactive, "{}".into());
        c.observe(0, &active, 60_000, 300_000);
        assert_eq!(
            fetches(&drain(&mut c)),
            [active.hash()],
            "no data: the observer fetches"
        );
        c.fetched(
            5,
            &active.hash(),
            c.fetch_token(&active.hash()),
            r#"{"s":1}"#.into(),
        );
        drain(&mut c);
        c.set_watched(true);
        let matched = c.find(10, &filters(r#"["order"]"#));
        assert_eq!(matched.len(), 2);
        assert_eq!(
            c.invalidate(10, &filters(r#"["order"]"#), RefetchType::Active),
            2
        );
        let out = drain(&mut c);
        assert_eq!(
            fetches(&out),
            [active.hash()],
            "only the active query refetches"
        );
        assert!(
            out.contains(&CacheOutput::Touched(matched.clone())),
            "watch hooks hear of both"
        );
        assert!(c.get(&inactive).unwrap().invalidated);
        // A second invalidation while the fetch is under way does not start another.
        c.invalidate(11, &filters(r#"["order", "1"]"#), RefetchType::All);
        assert!(
            fetches(&drain(&mut c)).is_empty(),
            "deduplicated with the fetch under way"
        );
    }

    #[test]
    fn refetch_types_and_query_types_select_as_tanstack_does() {
        let mut c = QueryCache::new();
        for k in [r#"["a", 1]"#, r#"["a", 2]"#] {
            c.set_data(0, &v(k), "1".into());
        }
        c.observe(0, &v(r#"["a", 1]"#), 1_000_000, 1000);
        drain(&mut c);
        c.invalidate(1, &filters(r#"["a"]"#), RefetchType::Inactive);
        assert_eq!(fetches(&drain(&mut c)), [v(r#"["a", 2]"#).hash()]);
        let active_only = Filters {
            kind: QueryType::Active,
            ..filters(r#"["a"]"#)
        };
        assert_eq!(c.find(1, &active_only), [v(r#"["a", 1]"#).hash()]);
        let exact = Filters {
            exact: true,
            ..filters(r#"["a"]"#)
        };
        assert!(c.find(1, &exact).is_empty(), "exact needs the whole key");
        c.invalidate(1, &filters(r#"["a"]"#), RefetchType::None);
        assert!(fetches(&drain(&mut c)).is_empty());
    }

    #[test]
    fn staleness_follows_the_observer_stale_time() {
        let mut c = QueryCache::new();
        let k = v(r#"["feed"]"#);
        c.observe(0, &k, 1000, 5000);
        c.fetched(0, &k.hash(), c.fetch_token(&k.hash()), "[]".into());
        drain(&mut c);
        let stale = Filters {
            stale: Some(true),
            ..Filters::default()
        };
        assert!(c.find(999, &stale).is_empty());
        assert_eq!(c.find(1000, &stale), [k.hash()]);
        // A second observer of fresh data does not fetch.
        c.observe(500, &k, 1000, 5000);
        assert!(fetches(&drain(&mut c)).is_empty());
    }

    #[test]
    fn events_apply_their_rules_to_the_cache() {
        use crate::core::invalidation::{Action, Rules, Template};
        let mut rules = Rules::default();
        let t = |raw: &str| Template::parse(raw).unwrap();
        rules.add("order:update", Action::SetData(t(r#"["order","{id}"]"#)));
        rules.add("order:update", Action::Invalidate(vec![t(r#"["orders"]"#)]));
        let mut c = QueryCache::new();
        let list = v(r#"["orders","open"]"#);
        c.observe(0, &list, 60_000, 5000);
        c.fetched(0, &list.hash(), c.fetch_token(&list.hash()), "[]".into());
        drain(&mut c);
        c.apply_event(
            10,
            &rules,
            "order:update",
            r#"[{"id":7,"s":"ready"},"extra"]"#,
        );
        let set = c.get(&v(r#"["order",7]"#)).unwrap();
        assert_eq!(set.data.as_deref(), Some(r#"{"id":7,"s":"ready"}"#));
        assert_eq!(
            fetches(&drain(&mut c)),
            [list.hash()],
            "the active list refetches"
        );
        c.apply_event(20, &rules, "other", r#"[{"id":8}]"#);
        c.apply_event(20, &rules, "order:update", "not json");
        assert!(c.get(&v(r#"["order",8]"#)).is_none());
        assert!(
            c.get(&v("[\"order\",null]")).is_none(),
            "a payload lacking the field fills no key"
        );
    }

    #[test]
    fn an_open_after_missed_events_refetches_the_active_queries_else_only_failed_ones() {
        let mut c = QueryCache::new();
        let (ok, failed, idle) = (v(r#"["ok"]"#), v(r#"["failed"]"#), v(r#"["idle"]"#));
        for k in [&ok, &failed] {
            c.observe(0, k, 60_000, 5000);
        }
        c.fetched(0, &ok.hash(), c.fetch_token(&ok.hash()), "1".into());
        c.set_retry(0);
        c.fetch_failed(
            0,
            &failed.hash(),
            c.fetch_token(&failed.hash()),
            "down".into(),
        );
        c.set_data(0, &idle, "1".into());
        drain(&mut c);
        c.connection_opened(10, false);
        assert_eq!(
            fetches(&drain(&mut c)),
            [failed.hash()],
            "recovered or first: the failed one"
        );
        c.fetched(
            10,
            &failed.hash(),
            c.fetch_token(&failed.hash()),
            "2".into(),
        );
        drain(&mut c);
        c.connection_opened(20, true);
        let mut got = fetches(&drain(&mut c));
        got.sort();
        assert_eq!(
            got,
            [failed.hash(), ok.hash()],
            "missed events: every active one"
        );
    }

    #[test]
    fn another_identity_forgets_the_queries_and_their_unsaved_changes() {
        let mut c = QueryCache::new();
        let (seen, kept) = (v(r#"["seen"]"#), v(r#"["kept"]"#));
        c.observe(0, &seen, 60_000, 5000);
        c.fetched(0, &seen.hash(), c.fetch_token(&seen.hash()), "1".into());
        c.set_data(0, &kept, "2".into());
        c.track_changes();
        c.set_data(1, &kept, "3".into());
        drain(&mut c);
        c.switch_identity(5);
        assert!(c.get(&kept).is_none(), "inactive: removed");
        assert_eq!(
            c.get(&seen).map(|q| q.data.clone()),
            Some(None),
            "active: reset"
        );
        assert_eq!(fetches(&drain(&mut c)), [seen.hash()], "and fetched again");
        assert!(
            !c.has_changes(),
            "nothing of the old user is saved under the new one"
        );
    }

    #[test]
    fn stored_queries_are_restored_only_when_fresh_of_this_buster_and_json() {
        assert!(restorable(1000, (900, "v1", "[1]"), "v1", 100));
        assert!(!restorable(1000, (899, "v1", "[1]"), "v1", 100), "too old");
        assert!(
            !restorable(1000, (900, "v0", "[1]"), "v1", 100),
            "another buster"
        );
        assert!(!restorable(1000, (900, "v1", "[1"), "v1", 100), "truncated");
        assert!(
            restorable(0, (u64::MAX, "", "null"), "", 0),
            "from the future: not old"
        );
    }

    #[test]
    fn watch_hooks_select_by_the_rule_of_find() {
        let mut c = QueryCache::new();
        let active = v(r#"["feed","a"]"#);
        let idle = v(r#"["feed","b"]"#);
        c.observe(0, &active, 1000, 5000);
        c.fetched(
            0,
            &active.hash(),
            c.fetch_token(&active.hash()),
            "[]".into(),
        );
        c.set_data(0, &idle, "[]".into());
        drain(&mut c);
        let f = |kind, stale| Filters {
            query_key: Some(v(r#"["feed"]"#)),
            kind,
            stale,
            ..Filters::default()
        };
        for (filters, now) in [
            (f(QueryType::All, None), 0),
            (f(QueryType::Active, None), 0),
            (f(QueryType::Inactive, None), 0),
            (f(QueryType::All, Some(true)), 500),
            (f(QueryType::All, Some(true)), 1500),
            (f(QueryType::All, Some(false)), 500),
        ] {
            let found = c.find(now, &filters);
            for k in [&active, &idle] {
                assert_eq!(
                    c.selects(now, &filters, k),
                    found.contains(&k.hash()),
                    "{filters:?} at {now}: {k:?}"
                );
            }
        }
        let gone = v(r#"["feed","gone"]"#);
        assert!(c.selects(0, &f(QueryType::Inactive, Some(true)), &gone));
        assert!(!c.selects(0, &f(QueryType::Active, None), &gone));
        assert!(!c.selects(0, &f(QueryType::All, None), &v(r#"["other"]"#)));
    }

    #[test]
    fn queries_without_observers_are_collected_after_gc_time() {
        let mut c = QueryCache::new();
        let k = v(r#"["cart"]"#);
        let id = c.observe(0, &k, 0, 5000);
        c.fetched(1, &k.hash(), c.fetch_token(&k.hash()), "{}".into());
        c.unobserve(100, id);
        assert_eq!(c.poll_timeout(), Some(5100));
        c.handle_timeout(5099);
        assert_eq!(c.len(), 1);
        c.handle_timeout(5100);
        assert!(c.is_empty());
        assert!(drain(&mut c).contains(&CacheOutput::Removed(k.hash())));
        assert!(
            c.find(5100, &filters(r#"["cart"]"#)).is_empty(),
            "gone from the index too"
        );
    }

    #[test]
    fn set_data_by_key_text_agrees_with_set_data_by_value() {
        let mut c = QueryCache::new();
        c.set_data_json(1, r#"["orders","42"]"#, "1".into())
            .unwrap();
        c.set_data_json(2, r#"["orders", "42"]"#, "2".into())
            .unwrap(); // not plain: parsed
        c.set_data_json(3, r#"["orders","42"]"#, "3".into())
            .unwrap(); // plain and known
        c.set_data_json(4, r#"["o",{"b":1,"a":2}]"#, "4".into())
            .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c.get(&v(r#"["orders","42"]"#)).unwrap().data.as_deref(),
            Some("3")
        );
        assert_eq!(
            c.get(&v(r#"["o",{"a":2,"b":1}]"#)).unwrap().data.as_deref(),
            Some("4")
        );
        assert!(c
            .set_data_json(5, r#"{"not":"an array"}"#, "5".into())
            .is_err());
        assert_eq!(
            c.find(5, &filters(r#"["orders"]"#)).len(),
            1,
            "indexed once"
        );
    }

    #[test]
    fn remove_and_reset() {
        let mut c = QueryCache::new();
        c.set_data(0, &v(r#"["x", 1]"#), "1".into());
        let id = c.observe(0, &v(r#"["x", 2]"#), 0, 0);
        let h = v(r#"["x", 2]"#).hash();
        c.fetched(0, &h, c.fetch_token(&h), "2".into());
        drain(&mut c);
        c.reset(1, &filters(r#"["x"]"#));
        assert_eq!(
            fetches(&drain(&mut c)),
            [v(r#"["x", 2]"#).hash()],
            "the active one fetches again"
        );
        assert!(c.get(&v(r#"["x", 1]"#)).unwrap().data.is_none());
        c.remove(2, &filters(r#"["x", 1]"#));
        assert_eq!(c.len(), 1);
        c.unobserve(3, id);
    }

    #[test]
    fn changes_are_one_record_per_query_and_deletes_for_what_went() {
        let mut c = QueryCache::new();
        c.track_changes();
        let (a, b) = (v(r#"["cart", "a"]"#), v(r#"["cart", "b"]"#));
        c.set_data(1, &a, "1".into());
        c.set_data(2, &a, "2".into());
        c.set_data(3, &b, "3".into());
        assert!(c.has_changes());
        let changes = c.take_changes();
        assert_eq!(
            changes,
            [
                Change::Put {
                    hash: a.hash(),
                    data: "2".into(),
                    at: 2
                },
                Change::Put {
                    hash: b.hash(),
                    data: "3".into(),
                    at: 3
                }
            ]
        );
        assert!(!c.has_changes() && c.take_changes().is_empty());
        c.invalidate(4, &filters(r#"["cart"]"#), RefetchType::None);
        assert!(!c.has_changes(), "an invalidation changes no stored data");
        c.remove(5, &filters(r#"["cart", "a"]"#));
        c.handle_timeout(3 + DEFAULT_GC_TIME);
        assert_eq!(
            c.take_changes(),
            [Change::Delete(a.hash()), Change::Delete(b.hash())]
        );
    }

    #[test]
    fn restore_keeps_the_stored_age_and_never_overwrites_newer_data() {
        let mut c = QueryCache::new();
        c.track_changes();
        let (old, fresh) = (v(r#"["feed"]"#), v(r#"["wallet"]"#));
        c.set_data(100, &fresh, r#"{"balance":2}"#.into());
        assert!(c.restore(100, &old, "[1]".into(), 40));
        assert!(!c.restore(100, &fresh, r#"{"balance":1}"#.into(), 40));
        let q = c.get(&old).unwrap();
        assert_eq!((q.data.as_deref(), q.data_updated_at), (Some("[1]"), 40));
        assert!(q.is_stale(100), "restored data is as old as it was");
        assert_eq!(
            c.get(&fresh).unwrap().data.as_deref(),
            Some(r#"{"balance":2}"#)
        );
    }

    #[test]
    fn server_data_lands_beneath_optimistic_layers() {
        let mut c = QueryCache::new();
        c.track_changes();
        let k = v(r#"["cart"]"#);
        c.set_data(1, &k, "[1]".into());
        c.set_layered(0, &k, true);
        c.set_visible(&k, Some("[1,2]".into()));
        drain(&mut c);
        c.set_data(5, &k, "[1,3]".into());
        let q = c.get(&k).unwrap();
        assert_eq!(
            (q.data.as_deref(), q.server_data()),
            (Some("[1,2]"), Some("[1,3]"))
        );
        assert!(drain(&mut c).contains(&CacheOutput::Rebase(k.hash())));
        assert_eq!(
            c.take_changes(),
            [Change::Put {
                hash: k.hash(),
                data: "[1,3]".into(),
                at: 5
            }],
            "the server data is stored, never the layers"
        );
        c.handle_timeout(10 + DEFAULT_GC_TIME);
        assert!(c.get(&k).is_some(), "layered queries are not collected");
        c.set_layered(30, &k, false);
        assert_eq!(c.get(&k).unwrap().data.as_deref(), Some("[1,3]"));
        c.set_data(20, &k, "[9]".into());
        assert_eq!(c.get(&k).unwrap().data.as_deref(), Some("[9]"));
    }

    #[test]
    fn a_layer_over_no_data_goes_back_to_pending_when_lifted() {
        let mut c = QueryCache::new();
        let k = v(r#"["draft"]"#);
        c.set_layered(0, &k, true);
        c.set_visible(&k, Some("1".into()));
        assert_eq!(c.get(&k).unwrap().status, QueryStatus::Success);
        c.set_layered(30, &k, false);
        let q = c.get(&k).unwrap();
        assert_eq!(
            (q.data.as_deref(), &q.status),
            (None, &QueryStatus::Pending)
        );
    }

    #[test]
    fn nothing_is_made_for_hooks_or_observers_that_do_not_exist() {
        let mut c = QueryCache::new();
        let inactive = v(r#"["feed", "1"]"#);
        c.set_data(0, &inactive, "{}".into());
        c.invalidate(1, &filters(r#"["feed"]"#), RefetchType::Active);
        assert!(drain(&mut c).is_empty(), "no watch hooks and no observers");
        c.set_watched(true);
        c.invalidate(2, &filters(r#"["feed"]"#), RefetchType::None);
        assert_eq!(
            drain(&mut c),
            [CacheOutput::Touched(vec![inactive.hash()])],
            "Touched for the hooks, no Updated: nobody observes it"
        );
    }

    #[test]
    fn the_answer_to_a_superseded_fetch_counts_for_nothing() {
        let mut c = QueryCache::new();
        let k = v(r#"["me"]"#);
        let h = k.hash();
        c.observe(0, &k, 0, 1000);
        let first = c.fetch_token(&h);
        c.reset(1, &filters(r#"["me"]"#));
        assert_eq!(
            fetches(&drain(&mut c)),
            [h.clone(), h.clone()],
            "the reset starts a new fetch"
        );
        let second = c.fetch_token(&h);
        assert_ne!(first, second);
        c.fetched(2, &h, first, r#""ann""#.into());
        assert_eq!(c.get(&k).unwrap().data, None, "the old answer is ignored");
        assert!(c.get(&k).unwrap().fetching);
        c.fetch_failed(3, &h, first, "late".into());
        assert_eq!(c.get(&k).unwrap().status, QueryStatus::Pending);
        c.fetched(3, &h, second, r#""bob""#.into());
        assert_eq!(c.get(&k).unwrap().data.as_deref(), Some(r#""bob""#));
    }

    #[test]
    fn server_data_during_a_fetch_keeps_it_deduplicated() {
        let mut c = QueryCache::new();
        let k = v(r#"["feed"]"#);
        c.observe(0, &k, 0, 1000);
        drain(&mut c);
        c.set_data(1, &k, "[1]".into()); // a patch while the fetch is under way
        assert!(c.get(&k).unwrap().fetching, "still fetching");
        c.invalidate(2, &filters(r#"["feed"]"#), RefetchType::Active);
        assert!(fetches(&drain(&mut c)).is_empty(), "no second fetch");
    }

    #[test]
    fn gc_waits_for_layers_without_spinning_and_resumes_after() {
        let mut c = QueryCache::new();
        let k = v(r#"["cart"]"#);
        c.set_data(0, &k, "[]".into());
        c.set_layered(0, &k, true);
        c.handle_timeout(DEFAULT_GC_TIME + 10);
        assert!(c.get(&k).is_some(), "layered: kept");
        assert_eq!(c.poll_timeout(), None, "and no timer due in the past");
        c.set_layered(DEFAULT_GC_TIME + 20, &k, false);
        assert_eq!(c.poll_timeout(), Some(DEFAULT_GC_TIME), "collectable again");
        c.handle_timeout(DEFAULT_GC_TIME + 30);
        assert!(c.get(&k).is_none());
        // A layer over a key that never had data: collected once uncovered.
        let d = v(r#"["draft"]"#);
        c.set_layered(100, &d, true);
        c.set_visible(&d, Some("1".into()));
        c.set_layered(200, &d, false);
        c.handle_timeout(200 + DEFAULT_GC_TIME);
        assert!(c.get(&d).is_none());
    }

    #[test]
    fn restore_writes_nothing_back_and_never_undoes_a_change() {
        let mut c = QueryCache::new();
        c.track_changes();
        let (kept, gone) = (v(r#"["a"]"#), v(r#"["session"]"#));
        c.set_data(0, &gone, "1".into());
        c.remove(1, &filters(r#"["session"]"#)); // a logout while the store still loads
        assert!(c.restore(2, &kept, "1".into(), 0));
        assert!(
            !c.restore(2, &gone, "1".into(), 0),
            "removed since: not restored"
        );
        assert_eq!(
            c.take_changes(),
            [Change::Delete(gone.hash())],
            "only the removal is written"
        );
    }

    #[test]
    fn a_failed_fetch_is_retried_with_backoff_while_observed_then_errs() {
        let mut c = QueryCache::new();
        let k = v(r#"["rates"]"#);
        let h = k.hash();
        c.observe(0, &k, 0, 1000);
        drain(&mut c);
        let mut now = 0;
        for (n, wait) in [(1, 1000), (2, 2000), (3, 4000)] {
            c.fetch_failed(now, &h, c.fetch_token(&h), format!("down {n}"));
            let q = c.get(&k).unwrap();
            assert!(
                q.fetching && q.status == QueryStatus::Pending,
                "retry {n} pending"
            );
            assert_eq!(
                c.poll_timeout(),
                Some(now + wait),
                "retry {n} after {wait} ms"
            );
            c.handle_timeout(now + wait - 1);
            assert!(fetches(&drain(&mut c)).is_empty(), "not before its time");
            now += wait;
            c.handle_timeout(now);
            assert_eq!(
                fetches(&drain(&mut c)),
                std::slice::from_ref(&h),
                "retry {n}"
            );
        }
        c.fetch_failed(now, &h, c.fetch_token(&h), "down 4".into());
        let q = c.get(&k).unwrap();
        assert_eq!(
            q.status,
            QueryStatus::Error("down 4".into()),
            "after 3 retries: error"
        );
        assert!(!q.fetching);
        // Success resets the count; an unobserved query is not retried.
        c.invalidate(now, &filters(r#"["rates"]"#), RefetchType::Active);
        c.fetched(now, &h, c.fetch_token(&h), "1".into());
        c.invalidate(now, &filters(r#"["rates"]"#), RefetchType::Active);
        c.fetch_failed(now, &h, c.fetch_token(&h), "blip".into());
        assert!(c.get(&k).unwrap().fetching, "a new failure: retried again");
        let other = v(r#"["unobserved"]"#);
        c.set_data(now, &other, "1".into());
        c.invalidate(now, &filters(r#"["unobserved"]"#), RefetchType::All);
        let t = c.fetch_token(&other.hash());
        c.fetch_failed(now, &other.hash(), t, "down".into());
        assert!(matches!(
            c.get(&other).unwrap().status,
            QueryStatus::Error(_)
        ));
    }
}
