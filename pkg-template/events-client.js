// wiresync's real-time client over the wasm exports: events, state, errors, emits, acks,
// rooms. The base of the full client (client.js, which adds the outbox and the cache), and the
// whole API of wiresync/events. A thin layer: it turns handler ids into unsubscribe functions
// and hands payloads to handlers with a `meta` object. Everything else happens in Rust.

/** Raw clients that `dispose()` freed: their unsubscribe functions become no-ops. */
const disposed = new WeakSet();
export const live = (raw) => !disposed.has(raw);

/** A page or a worker: where the wasm is fetched and sockets and IndexedDB exist. */
const inBrowser = () => typeof window !== "undefined" || typeof WorkerGlobalScope !== "undefined";

/** A `WiresyncError` shaped as the wasm's are, for the two errors raised before the wasm is
 *  there to make them. */
function wasmlessError(code, message) {
  const e = new Error(message);
  e.name = "WiresyncError";
  e.code = code;
  return e;
}

/** `init()` on a server (Next.js prerendering, Node). */
const notInBrowser = () =>
  wasmlessError(
    "NOT_IN_BROWSER",
    "init() with no input runs in a browser only; on a server, create the client in an effect, " +
      "or with <RealtimeProvider create={…}> from wiresync/react",
  );

/** Throws `NOT_INITIALIZED` unless `init` (a `loader`'s) has loaded the wasm. */
function requireLoaded(init) {
  if (!init.loaded) throw wasmlessError("NOT_INITIALIZED", "call (and await) init() before connect()");
}

/**
 * An idempotent loader around wasm-bindgen's `init`: concurrent and repeated calls share one
 * load; a failed load may be retried. `fallback()` gives the input when none is passed.
 * Outside a browser, a call with no input rejects at once with `NOT_IN_BROWSER` (it would
 * fetch a relative URL there, which fails or hangs a server build).
 */
export function loader(initWasm, fallback) {
  let loading;
  const init = (input) => {
    if (!loading && input === undefined && !inBrowser()) return Promise.reject(notInBrowser());
    if (!loading) {
      const given = input === undefined ? fallback?.() : input;
      const arg = given === undefined || (given && typeof given === "object" && "module_or_path" in given)
        ? given
        : { module_or_path: given };
      loading = initWasm(arg).then(() => {
        init.loaded = true;
      }, (e) => {
        loading = undefined;
        throw e;
      });
    }
    return loading;
  };
  init.loaded = false;
  return init;
}

function meta(raw, args, ackId) {
  return ackId === undefined ? { args } : { args, ack: (...values) => raw.ack(ackId, values) };
}

/** Splits `connect`'s `schemas`: the Standard Schema validators (zod, valibot, arktype: an
 *  object or a function with `~standard`) run here, by direction then event (`validators`,
 *  none with `validate: false`); the options go to the wasm with each of them as `true` (the
 *  JSON Schema that accepts anything: declared, so the catalog's type is set aside), where
 *  the JSON Schemas are compiled and checked. */
function splitSchemas(options) {
  const s = options?.schemas;
  if (!s || typeof s !== "object") return { forWasm: options };
  const pick = (map) => {
    const found = new Map();
    if (!map || typeof map !== "object") return [map, found];
    let copy;
    for (const [event, schema] of Object.entries(map)) {
      const isValue = typeof schema === "object" || typeof schema === "function";
      if (isValue && schema?.["~standard"]) {
        found.set(event, schema["~standard"]);
        (copy ??= { ...map })[event] = true;
      }
    }
    return [copy ?? map, found];
  };
  const [listen, l] = pick(s.listen);
  const [emit, e] = pick(s.emit);
  if (!l.size && !e.size) return { forWasm: options };
  const validators = options.validate === false ? undefined : { listen: l, emit: e };
  return { forWasm: { ...options, schemas: { ...s, listen, emit } }, validators };
}

/** `connect()` of an entry: the wasm's client (`rawConnect`, once `init` has loaded it) in
 *  `Client`, with the Standard Schema validators split off for it. */
export function connectWith(init, rawConnect, Client, options) {
  requireLoaded(init);
  const { forWasm, validators } = splitSchemas(options);
  return new Client(rawConnect(forWasm), validators);
}

/** Runs a Standard Schema validator: `{ value }` or `{ issues }`. */
function runStandard(std, value) {
  const result = std.validate(value);
  if (typeof result?.then === "function") {
    return { issues: [{ message: "this validator is asynchronous; an event's schema must check synchronously" }] };
  }
  return result;
}

/** What a delivery's Standard Schema check gave, per delivery (its `args` array), so that
 *  several handlers of one event run the validator once. */
const checked = new WeakMap();
const DROPPED = Symbol("dropped");

/** A real-time connection. Create it with `connect(options)`. */
export class EventClient {
  #raw;
  #std;

  /** @param raw the wasm `RawClient`; @param validators the Standard Schema validators of
   *  `connect`'s `schemas` (`connectWith`) */
  constructor(raw, validators) {
    this.#raw = raw;
    this.#std = validators;
  }

  /** The payload a handler of `event` gets: the first argument, or what its Standard Schema
   *  made of it; `DROPPED` (reported as `PAYLOAD_INVALID`) when that schema refused it. */
  #incoming(event, args) {
    const std = this.#std?.listen.get(event);
    if (!std) return args[0];
    let r = checked.get(args);
    if (!r) {
      r = runStandard(std, args[0]);
      checked.set(args, r);
      if (r.issues) this.#invalid(event, r.issues, true);
    }
    return r.issues ? DROPPED : r.value;
  }

  #invalid(event, issues, report) {
    const issue = issues[0] ?? {};
    const path = JSON.stringify(Array.from(issue.path ?? [], (p) => (typeof p === "object" ? p.key : p)));
    return this.#raw.payloadInvalid(event, path, String(issue.message ?? "invalid"), report);
  }

  /** For the outbox and `emit`: `payload` as `event`'s Standard Schema makes it (throws its
   *  `PAYLOAD_INVALID`); as it is when no Standard Schema is declared for `event`. */
  [Symbol.for("wiresync.outgoing")](event, payload) {
    const std = this.#std?.emit.get(event);
    if (!std) return payload;
    const r = runStandard(std, payload);
    if (r.issues) throw this.#invalid(event, r.issues, false);
    return r.value;
  }

  #handler(event, handler) {
    const raw = this.#raw;
    return (args, ackId) => {
      const payload = this.#incoming(event, args);
      if (payload !== DROPPED) handler(payload, meta(raw, args, ackId));
    };
  }

  /** Calls `handler(payload, meta)` for every `event`. Returns the unsubscribe function. */
  on(event, handler) {
    const raw = this.#raw;
    const id = raw.on(event, this.#handler(event, handler));
    return () => live(raw) && raw.off(id);
  }

  /** Like `on`, for the next `event` only. Returns the unsubscribe function. */
  once(event, handler) {
    const raw = this.#raw;
    if (!this.#std?.listen.get(event)) {
      const id = raw.once(event, this.#handler(event, handler));
      return () => live(raw) && raw.off(id);
    }
    // With a Standard Schema: the first payload it accepts (one it refuses leaves this armed,
    // as a JSON Schema's refusal does).
    let done = false;
    const off = () => {
      done = true;
      return live(raw) && raw.off(id);
    };
    const id = raw.on(event, this.#handler(event, (payload, meta) => {
      if (done) return;
      off();
      handler(payload, meta);
    }));
    return off;
  }

  /** Calls `handler(event, payload, meta)` for every event. Returns the unsubscribe function. */
  onAny(handler) {
    const raw = this.#raw;
    const id = raw.onAny((event, args, ackId) => {
      const payload = this.#incoming(event, args);
      if (payload !== DROPPED) handler(event, payload, meta(raw, args, ackId));
    });
    return () => live(raw) && raw.off(id);
  }

  /** Calls `listener(state)` on every state change. Returns the unsubscribe function. */
  onState(listener) {
    const id = this.#raw.onState(listener);
    const raw = this.#raw;
    return () => live(raw) && raw.offState(id);
  }

  /** Calls `listener(error)` with every `WiresyncError`. Returns the unsubscribe function. */
  onError(listener) {
    const id = this.#raw.onError(listener);
    const raw = this.#raw;
    return () => live(raw) && raw.offError(id);
  }

  /** `{ status, attempt, error, recovered }` now. */
  get state() {
    return this.#raw.state();
  }

  /** Sends now if open, else buffers in memory until the next connect. */
  emit(event, ...args) {
    if (this.#std && args.length) args[0] = this[Symbol.for("wiresync.outgoing")](event, args[0]);
    this.#raw.emit(event, args);
  }

  /** Resolves with the server's ack value; rejects with `ACK_TIMEOUT` after `timeoutMs`. */
  emitWithAck(event, payload, options) {
    try {
      if (this.#std && payload !== undefined) payload = this[Symbol.for("wiresync.outgoing")](event, payload);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#raw.emitWithAck(event, payload === undefined ? [] : [payload], options);
  }

  /** Joins a room (`subscribe:<channel>` with `params`); re-joined after unrecovered reconnects. */
  subscribe(channel, params, options) {
    const raw = this.#raw;
    const { id, ready } = raw.subscribe(channel, params, options);
    let done = false;
    return {
      ready,
      unsubscribe() {
        if (!done) {
          done = true;
          if (live(raw)) raw.unsubscribe(id);
        }
      },
    };
  }

  /** New credentials (object or function); reconnects with them at once. Pass
   *  `{ identity }` when the user changes: the outbox then uses that identity's own store. */
  setAuth(auth, options) {
    this.#raw.setAuth(auth, options);
  }

  /** For wiresync/react and wiresync/tanstack (a symbol, not API): checks an options object
   *  read in JS against its `known` keys, as every other option is checked (in Rust). */
  [Symbol.for("wiresync.checkOptions")](options, known) {
    this.#raw.checkOptions?.(options, known.join(","));
  }

  /** Drops the connection and connects again now (also after `close()`). */
  reconnect() {
    this.#raw.reconnect();
  }

  /** Closes for good: never reconnects until `reconnect()`. */
  close() {
    this.#raw.close();
  }

  /** Closes and frees the client (its wasm memory, timers, listeners, cache and tab link), for
   *  apps that make and drop clients (a logout, a test). Queued outbox entries stay stored.
   *  Unsubscribe functions still work (as no-ops); any other call afterwards throws. */
  dispose() {
    const raw = this.#raw;
    if (!live(raw)) return;
    raw.close();
    disposed.add(raw);
    raw.free();
  }
}
