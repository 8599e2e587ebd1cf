// wiresync's JavaScript API over the wasm exports, shared by the entry points (index.js for
// bundlers that handle `new URL("x.wasm", import.meta.url)`, metro.js for those that do not):
// the real-time client of events-client.js plus the durable outbox, the query cache, event
// rules and optimistic mutations. A thin layer: everything else happens in Rust.
import { EventClient, live } from "./events-client.js";
import { Layers, optimisticSpec } from "./layers.js";

export { connectWith, loader } from "./events-client.js";

/** The durable outbox of a client: `client.outbox`. */
export class Outbox {
  #raw;
  #outgoing;

  /** @param raw the wasm `RawClient`; @param outgoing checks a payload against a Standard
   *  Schema, if its event has one (`EventClient`'s) */
  constructor(raw, outgoing) {
    this.#raw = raw;
    this.#outgoing = outgoing;
  }

  /** Queues `payload` (an object) for `event`; resolves with `{ id }` once it is stored. */
  enqueue(event, payload, options) {
    try {
      payload = this.#outgoing(event, payload);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#raw.outboxEnqueue(event, payload, options);
  }

  /** Queues an HTTP request `{ url, method, headers, body, lane }`; resolves with `{ id }`. */
  enqueueRequest(request) {
    return this.#raw.outboxEnqueueRequest(request);
  }

  /** `{ pending, inFlight, failed, processing, lastError, persistence }`. */
  status() {
    return this.#raw.outboxStatus();
  }

  #listen(want, cb) {
    const id = this.#raw.outboxOn((type, data, reason) => {
      if (type === want) cb(data, reason);
    });
    const raw = this.#raw;
    return () => live(raw) && raw.outboxOff(id);
  }

  /** Calls `cb(status)` on every change. Returns the unsubscribe function. */
  onChange(cb) {
    return this.#listen("change", cb);
  }

  /** Calls `cb(entry)` when an entry is acknowledged and removed. */
  onDelivered(cb) {
    return this.#listen("delivered", cb);
  }

  /** Calls `cb(entry)` when an entry moves to failed (`entry.failedReason`). */
  onFailed(cb) {
    return this.#listen("failed", cb);
  }

  /** Calls `cb(entry, reason)` when an entry is dropped (`"capacity"` or `"replaced"`). */
  onDropped(cb) {
    return this.#listen("dropped", cb);
  }

  /** Every entry, in delivery order. */
  list() {
    return this.#raw.outboxList();
  }

  /** The failed entries. */
  failed() {
    return this.#raw.outboxFailed();
  }

  /** Moves a failed entry back to pending. */
  retry(id) {
    return this.#raw.outboxRetry(id);
  }

  /** Removes an entry. */
  remove(id) {
    return this.#raw.outboxRemove(id);
  }

  /** Removes every entry (e.g. on logout); resolves once storage is cleared. */
  clear() {
    return this.#raw.outboxClear();
  }

  /** Sends what can be sent now, ignoring retry delays. */
  flush() {
    this.#raw.outboxFlush();
  }
}

/** The query cache of a client: `client.cache`. Keys are JSON arrays, matched as TanStack does. */
export class Cache {
  #raw;

  /** @param raw the wasm `RawClient` */
  constructor(raw) {
    this.#raw = raw;
  }

  /** Sets a query's data; `dataOrUpdater` may be a function of the old data. */
  setQueryData(queryKey, dataOrUpdater) {
    // An updater gets the server's data: what optimistic layers show over it is not the server's.
    const data = typeof dataOrUpdater === "function" ? dataOrUpdater(this.#raw.cacheServerData(queryKey)) : dataOrUpdater;
    if (data !== undefined) this.#raw.cacheSet(queryKey, data);
    return data;
  }

  /** A query's data, or `undefined`. */
  getQueryData(queryKey) {
    return this.#raw.cacheGet(queryKey);
  }

  /** `{ status, data, error, dataUpdatedAt, isStale, isFetching, isInvalidated }`, or `undefined`. */
  getQueryState(queryKey) {
    return this.#raw.cacheState(queryKey);
  }

  /** Marks matching queries stale and refetches per `refetchType` (default "active").
   *  Resolves with the number of queries matched. */
  invalidateQueries(filters = {}) {
    return this.#settle(() => this.#each(filters, (f) => this.#raw.cacheInvalidate(f)));
  }

  /** Forgets matching queries. Returns how many. */
  removeQueries(filters = {}) {
    return this.#each(filters, (f) => this.#raw.cacheRemove(f));
  }

  /** Back to no data; observed ones fetch again. */
  resetQueries(filters = {}) {
    return this.#settle(() => this.#each(filters, (f) => this.#raw.cacheReset(f)));
  }

  /** `f()` as a promise: bad filters reject it, as TanStack's do, instead of throwing. */
  #settle(f) {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The queries `filters` selects: `[{ queryKey, queryHash, state }]`. */
  findAll(filters = {}) {
    const { predicate, ...rest } = filters ?? {};
    const found = this.#raw.cacheFind(rest);
    return typeof predicate === "function" ? found.filter((q) => predicate(q)) : found;
  }

  /** `[queryKey, data]` of every query `filters` selects (TanStack's `getQueriesData`). */
  getQueriesData(filters = {}) {
    return this.findAll(filters).map((q) => [q.queryKey, q.state.data]);
  }

  /** Resolves once persisted queries are restored (at once when `cache.persist` is off). */
  get ready() {
    return this.#raw.cacheReady();
  }

  /** Where the cache keeps data: "off", "loading", "indexeddb" or "memory" (IndexedDB failed). */
  get persistence() {
    return this.#raw.cachePersistence();
  }

  /** Runs `op` once with `filters`, or, with a `predicate`, once per query it accepts (by
   *  exact key). Returns the number of queries matched. */
  #each(filters, op) {
    if (typeof filters?.predicate !== "function") return op(filters ?? {});
    const { predicate, queryKey, exact, ...rest } = filters;
    const { refetchType, ...selection } = filters; // what selects, without what is done
    let n = 0;
    for (const q of this.findAll(selection)) n += op({ ...rest, queryKey: q.queryKey, exact: true });
    return n;
  }

  /** Observes `queryKey`: runs `queryFn` when data is missing or stale, and again when the key
   *  is invalidated while observed. `listener(state)` on every change. Returns the unsubscribe. */
  observe(queryKey, options, listener) {
    const raw = this.#raw;
    const id = raw.cacheObserve(queryKey, options, listener);
    return () => live(raw) && raw.cacheUnobserve(id);
  }

  /** The invalidation hook: `hook(keys)` whenever an invalidation or a patch touches keys that
   *  `filters` match. Returns the unsubscribe function. */
  watch(filters, hook) {
    const raw = this.#raw;
    const id = raw.cacheWatch(filters, hook);
    return () => live(raw) && raw.cacheUnwatch(id);
  }
}

/** A key template (`["order", "{orderId}"]`) or a function of the payload. */
function isTemplates(x) {
  return Array.isArray(x);
}

/** A real-time connection with the durable outbox and the query cache. Create it with
 *  `connect(options)`. */
export class Client extends EventClient {
  #raw;
  #rules = [];
  #ruleListeners = new Set();
  #layers;
  #watchingOutbox = false;
  /** `mutate` calls between their layer and their stored id: entries then in the outbox may be
   *  theirs, so `#reconcile` adds no layers until they know their ids. */
  #mutating = 0;

  /** @param raw the wasm `RawClient`; @param validators as `EventClient`'s */
  constructor(raw, validators) {
    super(raw, validators);
    this.#raw = raw;
    /** The durable outbox (throws `INVALID_ARGUMENT` on use when `outbox: false`). */
    this.outbox = new Outbox(raw, (event, payload) => this[Symbol.for("wiresync.outgoing")](event, payload));
    /** The query cache. */
    this.cache = new Cache(raw);
    this.#layers = new Layers(raw, (t, payload) => raw.fillKey(t, payload), (e) => console.error("wiresync: an optimistic update threw", e));
  }

  /** Every `event` queued through `mutate` (or restored from storage after a reload) applies
   *  `optimistic.update` to `optimistic.key` at once, as a layer over the server data, until
   *  the server acks it or it fails. Returns the remover (layers already applied stay until
   *  their entries settle). */
  optimisticOn(event, optimistic) {
    const spec = optimisticSpec(optimistic, "optimisticOn");
    this.#layers.rules.set(event, spec);
    this.#watchOutbox();
    this.#reconcile();
    return () => {
      if (this.#layers.rules.get(event) === spec) this.#layers.rules.delete(event);
    };
  }

  /** Queues a durable mutation (`event` + `payload`, or `request`) and applies its optimistic
   *  update at once, offline too: `optimistic` here, or the one `optimisticOn(event)` set.
   *  The layer goes when the server acks; it is rolled back when the entry fails or cannot be
   *  queued. Resolves with `{ id }` once stored. */
  async mutate({ event, payload, request, optimistic, ...options }) {
    const spec = optimistic ? optimisticSpec(optimistic, "mutate") : this.#layers.rules.get(event);
    const placeholder = Symbol("not yet stored");
    let layered = false;
    this.#mutating++;
    try {
      layered = spec ? this.#layers.add(placeholder, spec, payload ?? request?.body) : false;
      if (layered) this.#watchOutbox();
      // Options beside a request are checked as part of it (`lane` is one; a typo is named).
      const { id } = request
        ? await this.outbox.enqueueRequest(Object.keys(options).length ? { ...request, ...options } : request)
        : await this.outbox.enqueue(event, payload, options);
      if (layered) this.#layers.rename(placeholder, id);
      return { id };
    } catch (e) {
      this.#layers.retain((id) => id !== placeholder); // rolled back (also if `add` threw midway)
      throw e;
    } finally {
      this.#mutating--;
      if (layered || this.#layers.rules.size) this.#reconcile();
    }
  }

  /** The optimistic layers pending over `queryKey`, oldest first: `[{ id, payload, at }]`. */
  pendingMutations(queryKey) {
    return this.#layers.list(queryKey);
  }

  #watchOutbox() {
    if (this.#watchingOutbox) return;
    this.#watchingOutbox = true;
    this.outbox.onChange(() => this.#reconcile());
  }

  /** Layers = the live outbox entries: delivered, failed or removed ones lose their layer
   *  (a failure is the rollback); entries restored after a reload get theirs back. */
  #reconcile() {
    let entries;
    try {
      entries = this.outbox.list();
    } catch {
      return; // no outbox
    }
    const live = new Map(entries.filter((e) => e.state !== "failed").map((e) => [e.id, e]));
    this.#layers.retain((id) => typeof id !== "string" || live.has(id));
    if (this.#mutating > 0) return;
    for (const e of live.values()) {
      const spec = e.kind === "event" ? this.#layers.rules.get(e.event) : undefined;
      if (spec && !this.#layers.has(e.id) && !this.#layers.dropped.has(e.id)) {
        this.#layers.add(e.id, spec, e.payload, e.createdAt);
      }
    }
  }

  /** `event` invalidates query keys: key templates (`[["orders"], ["order", "{orderId}"]]`,
   *  filled from the payload, no JS runs per event) or `payload => keys`. Returns the remover. */
  invalidateOn(event, keys) {
    const raw = this.#raw;
    const keysOf = isTemplates(keys)
      ? (payload) => keys.map((t) => raw.fillKey(t, payload)).filter((k) => k !== undefined)
      : (payload) => keys(payload) ?? [];
    let remove;
    if (isTemplates(keys)) {
      const id = raw.ruleInvalidate(event, keys);
      remove = () => live(raw) && raw.ruleRemove(id);
    } else {
      // Local: every tab receives the event itself, so no tab is told of this.
      remove = this.on(event, (payload) => {
        for (const queryKey of keysOf(payload)) raw.cacheInvalidate({ queryKey }, true);
      });
    }
    return this.#addRule({ event, kind: "invalidate", keys: keysOf }, remove);
  }

  /** `event` patches one query: `key` is a template or `payload => key`; `update(old, payload)`
   *  gives the new data (without `update`, the payload becomes the data). Returns the remover. */
  patchOn(event, key, update) {
    const raw = this.#raw;
    const keyOf = isTemplates(key) ? (payload) => raw.fillKey(key, payload) : key;
    let remove;
    if (isTemplates(key) && !update) {
      const id = raw.ruleSetData(event, key);
      remove = () => live(raw) && raw.ruleRemove(id);
    } else {
      remove = this.on(event, (payload) => {
        const queryKey = keyOf(payload);
        if (!queryKey) return;
        const data = update ? update(raw.cacheServerData(queryKey), payload) : payload;
        if (data !== undefined) raw.cacheSet(queryKey, data, true); // local, as above
      });
    }
    return this.#addRule({ event, kind: "patch", key: keyOf, update }, remove);
  }

  #addRule(rule, remove) {
    const entry = { rule, cleanups: [] };
    this.#rules.push(entry);
    for (const listener of this.#ruleListeners) addCleanup(entry, listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      remove();
      this.#rules.splice(this.#rules.indexOf(entry), 1);
      for (const c of entry.cleanups) c();
    };
  }

  /** For bridges (`wiresync/tanstack`): calls `listener(rule)` for every event rule, now and
   *  when added. A rule is `{ event, kind: "invalidate", keys(payload) }` or
   *  `{ event, kind: "patch", key(payload), update? }`; `listener` may return a cleanup, called
   *  when the rule is removed. Returns the unsubscribe function (which runs the cleanups). */
  eachRule(listener) {
    this.#ruleListeners.add(listener);
    for (const entry of this.#rules) addCleanup(entry, listener);
    return () => {
      if (!this.#ruleListeners.delete(listener)) return;
      for (const entry of this.#rules) {
        entry.cleanups = entry.cleanups.filter((c) => (c.listener === listener ? (c(), false) : true));
      }
    };
  }

}

/** Runs a rule listener for one rule; a listener that throws is reported, never breaks rules. */
function addCleanup(entry, listener) {
  let cleanup;
  try {
    cleanup = listener(entry.rule);
  } catch (e) {
    console.error("wiresync: a rule listener threw", e);
  }
  if (typeof cleanup !== "function") return;
  const c = () => cleanup();
  c.listener = listener;
  entry.cleanups.push(c);
}
