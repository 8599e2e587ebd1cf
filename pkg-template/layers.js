// Optimistic layers: each outbox entry with an optimistic update is a layer over the server's
// data of one query key. The wasm cache keeps the server data beneath the layers and asks for
// them to be re-applied when server data arrives (`cacheOnRebase`); this file holds the update
// functions, which are JavaScript, and keeps the layers equal to the outbox's live entries.

const STRATEGIES = ["client-wins", "server-wins", "newest-wins", "merge"];

/** Epoch ms of server data for `newest-wins`: `updatedAt` or `timestamp` (ms or ISO text). */
function defaultTimestampOf(data) {
  const t = data?.updatedAt ?? data?.timestamp;
  const ms = typeof t === "number" ? t : typeof t === "string" ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Checks and completes an optimistic spec `{ key, update, strategy, merge, timestampOf }`. */
export function optimisticSpec(spec, where) {
  const fail = (what) => {
    const e = new TypeError(`${where}: ${what}`);
    e.code = "INVALID_ARGUMENT";
    throw e;
  };
  if (!spec || typeof spec !== "object") fail("`optimistic` must be an object");
  if (!Array.isArray(spec.key) && typeof spec.key !== "function") fail("`optimistic.key` must be a query key or a function of the payload");
  if (typeof spec.update !== "function") fail("`optimistic.update` must be a function (old, payload) => new");
  const strategy = spec.strategy ?? "client-wins";
  if (!STRATEGIES.includes(strategy)) fail(`\`optimistic.strategy\` must be one of ${STRATEGIES.join(", ")}`);
  if (strategy === "merge" && typeof spec.merge !== "function") fail("strategy \"merge\" needs `optimistic.merge(server, optimistic)`");
  return { ...spec, strategy, timestampOf: spec.timestampOf ?? defaultTimestampOf };
}

export class Layers {
  #raw;
  #fillKey;
  #onError;
  /** hash → { key, layers: [{ id, spec, payload, at, result }] } */
  #byKey = new Map();
  /** event name → optimistic spec registered with `optimisticOn` */
  rules = new Map();
  /** ids of layers a strategy dropped while their entries are still queued: not re-added */
  dropped = new Set();

  constructor(raw, fillKey, onError) {
    this.#raw = raw;
    this.#fillKey = fillKey;
    this.#onError = onError;
    raw.cacheOnRebase((key, server, hash) => {
      const entry = this.#byKey.get(hash);
      if (entry) this.#render(entry, server, true);
    });
  }

  /** The query key a spec gives for a payload, or undefined. */
  keyOf(spec, payload) {
    return Array.isArray(spec.key) ? this.#fillKey(spec.key, payload) : spec.key(payload);
  }

  /** Adds a layer; `id` may change later with `rename`. Returns false without a key. */
  add(id, spec, payload, at = Date.now()) {
    const key = this.keyOf(spec, payload);
    if (!Array.isArray(key)) return false;
    const hash = this.#raw.queryHash(key); // the cache's own hash of it
    let entry = this.#byKey.get(hash);
    if (!entry) {
      entry = { key, hash, layers: [] };
      this.#byKey.set(hash, entry);
    }
    // Always: the cache may have lost the key meanwhile (removeQueries, another identity).
    this.#raw.cacheSetLayered(key, true);
    entry.layers.push({ id, spec, payload, at });
    this.#render(entry, this.#raw.cacheServerData(key), false);
    return true;
  }

  rename(from, to) {
    for (const entry of this.#byKey.values()) for (const l of entry.layers) if (l.id === from) l.id = to;
  }

  has(id) {
    for (const entry of this.#byKey.values()) if (entry.layers.some((l) => l.id === id)) return true;
    return false;
  }

  /** Removes the layers whose ids `keep` refuses; what remains is re-applied. */
  retain(keep) {
    for (const id of this.dropped) if (!keep(id)) this.dropped.delete(id);
    for (const entry of [...this.#byKey.values()]) {
      const before = entry.layers.length;
      entry.layers = entry.layers.filter((l) => keep(l.id));
      if (entry.layers.length !== before) this.#render(entry, this.#raw.cacheServerData(entry.key), false);
    }
  }

  /** Pending layers over `key`, oldest first: `[{ id, payload, at }]`. */
  list(key) {
    return (this.#byKey.get(this.#raw.queryHash(key))?.layers ?? []).map(({ id, payload, at }) => ({ id, payload, at }));
  }

  /** Writes the layers over `server`; when server data just arrived, each layer's strategy
   *  decides whether it stays. No layers left: the server data shows again. */
  #render(entry, server, fromServer) {
    if (fromServer) {
      entry.layers = entry.layers.filter((l) => {
        let stays = true;
        if (l.spec.strategy === "server-wins") stays = false;
        else if (l.spec.strategy === "newest-wins") {
          const serverAt = l.spec.timestampOf(server);
          stays = serverAt !== undefined && l.at > serverAt;
        }
        if (!stays && typeof l.id === "string") this.dropped.add(l.id);
        return stays;
      });
    }
    if (entry.layers.length === 0) {
      this.#byKey.delete(entry.hash);
      this.#raw.cacheSetLayered(entry.key, false);
      return;
    }
    let data = server;
    for (const l of entry.layers) {
      try {
        data = fromServer && l.spec.strategy === "merge" && l.result !== undefined
          ? l.spec.merge(data, l.result)
          : l.spec.update(data, l.payload);
        l.result = data;
      } catch (e) {
        this.#onError(e);
      }
    }
    this.#raw.cacheSetVisible(entry.key, data);
  }
}
