/**
 * wiresync: typed real-time events over Socket.IO v4 or a plain JSON protocol.
 * @packageDocumentation
 */
import type { CatalogEmitEvents, CatalogListenEvents } from "./catalog.js";
import type { EmitOf, ListenOf, SchemasOption } from "./schemas.js";
export type * from "./catalog.js";
export type * from "./schemas.js";

/** Loads the wasm. Idempotent; concurrent calls share one load. Outside a browser (a server
 *  render, Node), a call with no input rejects at once with `NOT_IN_BROWSER`. */
export default function init(
  input?: { module_or_path?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL | Response | BufferSource,
): Promise<void>;

/** An event map: event name → payload type (an interface or a type alias). */
export type EventMap = { [event: string]: unknown };

/** Server → client events when no map is given: the catalog, plus any other name. */
export type DefaultListenEvents = CatalogListenEvents & { [event: string]: unknown };
/** Client → server events when no map is given: the catalog, plus any other name. */
export type DefaultEmitEvents = CatalogEmitEvents & { [event: string]: unknown };

/** Error codes. A server's own `data.code` on a refused connect is passed through as is. */
export type ErrorCode =
  | "AUTH_REJECTED" | "AUTH_FAILED" | "ACK_TIMEOUT" | "DECODE_ERROR" | "PAYLOAD_INVALID"
  | "FRAME_TOO_LARGE" | "UNKNOWN_ACK" | "EVENT_BEFORE_CONNECT" | "HEARTBEAT_TIMEOUT"
  | "CONNECT_TIMEOUT" | "TRANSPORT_ERROR" | "SERVER_DISCONNECT" | "UNSUPPORTED_BINARY"
  | "INVALID_ARGUMENT" | "CLOSED" | "RECONNECT_FAILED" | "HANDLER_ERROR" | "NOT_IN_BROWSER" | "NOT_INITIALIZED"
  | (string & {});

/** Every error wiresync reports or throws: a real `Error` with a stable `code`. */
export interface WiresyncError extends Error {
  /** Always `"WiresyncError"`. */
  name: "WiresyncError";
  /** What went wrong, stable across versions (see `ErrorCode`). */
  code: ErrorCode;
  /** The event concerned, when there is one. */
  event?: string;
}

/** Connection status. */
export type Status = "idle" | "connecting" | "open" | "reconnecting" | "offline" | "closed";

/** Connection state. */
export interface ConnectionState {
  /** Where the connection is: idle, connecting, open, reconnecting, offline (the browser is), closed. */
  status: Status;
  /** Reconnect attempts since the last successful connect. */
  attempt: number;
  /** The last error; null once connected. */
  error: WiresyncError | null;
  /** The last connect resumed the session (Socket.IO recovery): nothing was missed or re-joined. */
  recovered: boolean;
  /** Open again after an earlier open without resuming that session: events sent meanwhile were
   *  missed, so the cache refetches its active queries (and `wiresync/tanstack` invalidates an
   *  app's). False on a first connect, on a recovered one, and while not open. */
  resync: boolean;
  /** With `shareAcrossTabs`: whether this tab holds the group's connection (`leader`) and how
   *  many tabs share it (`tabs`, this one included). `null` for a connection of its own. */
  shared: { leader: boolean; tabs: number } | null;
  /** The server URL of the current (or last) attempt, as given in `url`. */
  url: string;
  /** The transport under way: `"websocket"`, `"polling"` (HTTP long-polling), or `null` while
   *  there is none. Changes from `"polling"` to `"websocket"` when the session is upgraded. */
  transport: Transport | null;
}

/** An Engine.IO transport, as socket.io-client names them. */
export type Transport = "websocket" | "polling";

/** An auth payload: sent in the CONNECT packet (`socket.handshake.auth`), never stored. */
export type AuthPayload = Record<string, unknown>;

/** `connect()` options; every one but `url` has the default shown. Every options object of
 *  the API is checked the same way: a key that is not an option, or a value of the wrong type,
 *  throws `INVALID_ARGUMENT` naming it (and the nearest known name); `undefined` and `null`
 *  mean the default. Durations (`…Ms`, `staleTime`, `gcTime`) are ms ≥ 0; `Infinity` means never. */
export interface ConnectOptions {
  /** Server URL (`http`, `https`, `ws` or `wss`); `http(s)` is mapped to `ws(s)`. Required.
   *  - A list: failover. After a failed attempt or a lost connection the next attempt goes to
   *    the next URL, in turn; the session is offered for recovery there (Socket.IO's
   *    `pid`/`offset`, which a cluster's Redis streams adapter restores on any node).
   *  - A function: called with `undefined` for the first URL, then with the last URL after
   *    each failure or loss; returns the next one.
   *  An empty list or a URL that is not one throws `INVALID_ARGUMENT` here; a bad answer of
   *  the function later fails that attempt with `INVALID_ARGUMENT` (retried with backoff). */
  url: string | readonly string[] | ((previous: string | undefined) => string);
  /** The transports, with socket.io-client's meaning (as with its `tryAllTransports: true`):
   *  the first is opened first; a transport that cannot open (or hangs past
   *  `connectTimeoutMs`) gives way to the next in the same attempt; `"websocket"` after
   *  `"polling"` is an upgrade of the polling session, and a failed upgrade stays on polling.
   *  `["polling", "websocket"]` (socket.io-client's default) connects where a proxy refuses
   *  WebSockets; `["websocket", "polling"]` tries the WebSocket first. Polling needs sticky
   *  sessions on a cluster and CORS on another origin. Socket.IO only. Default
   *  `["websocket"]`. */
  transports?: readonly Transport[];
  /** Wire protocol. Default `"socket.io"`. */
  protocol?: "socket.io" | "json";
  /** Socket.IO path. Default `"/socket.io/"`. */
  path?: string;
  /** Socket.IO namespace. Default `"/"`. */
  namespace?: string;
  /** Auth object, or a function (maybe async) called before every (re)connect. Default none. */
  auth?: AuthPayload | (() => AuthPayload | undefined | Promise<AuthPayload | undefined>);
  /** Reconnect backoff. */
  reconnect?: {
    /** First delay, ms. Default 1000. */
    initialDelayMs?: number;
    /** Largest delay, ms. Default 16000. */
    maxDelayMs?: number;
    /** Growth per attempt. Default 2. */
    factor?: number;
    /** Randomization 0..1 (delay × (1 ± jitter)). Default 0.5. */
    jitter?: number;
    /** Give up after this many attempts. Default Infinity. */
    maxAttempts?: number;
  };
  /** Default timeout of `emitWithAck` and of room subscriptions, ms. Default 10000. */
  ackTimeoutMs?: number;
  /** Time allowed to open the socket and be accepted, ms. Default 20000. */
  connectTimeoutMs?: number;
  /** Largest frame accepted or sent, bytes. Default 1048576. */
  maxFrameBytes?: number;
  /** JSON protocol: the client pings this often, ms (0 = never). Default 25000. */
  pingIntervalMs?: number;
  /** JSON protocol: no frame for pingInterval + this = dead. Default 20000. */
  pingTimeoutMs?: number;
  /** Validate payloads, both directions, against `schemas` and the built-in catalog. Off:
   *  nothing is checked (Standard Schema validators do not run either). Default true. */
  validate?: boolean;
  /** Check the built-in catalog's events (`order:status_update`, …) against the catalog's
   *  types, where `schemas` does not declare them. Default true. */
  catalog?: boolean;
  /** The app's own event schemas: `{ listen: { event: schema }, emit: { event: schema } }`,
   *  each a JSON Schema (the subset in the README, checked in Rust) or a Standard Schema
   *  validator (zod, valibot, arktype; run in JS). A schema for a catalog event replaces the
   *  catalog's. The payload types are inferred from them. Default none. */
  schemas?: SchemasOption;
  /** The durable outbox, or `false` to disable it. */
  outbox?: false | OutboxOptions;
  /** The query cache: persistence, tabs, gc. */
  cache?: CacheOptions;
  /** One connection for every tab of this origin that connects to the same `url` and
   *  `namespace` with the same identity (the outbox's): one tab (the leader, elected with Web
   *  Locks) holds the WebSocket, the others talk to it over a BroadcastChannel, and another
   *  takes over, recovering the session, when it closes. Only in `wiresync/shared` (other
   *  entries refuse it with `INVALID_ARGUMENT`). Default false (see the README, "One
   *  connection for every tab"). */
  shareAcrossTabs?: boolean;
}

/** Outbox options; every one has the default shown. */
export interface OutboxOptions {
  /** Clients with the same name share entries (across tabs and reloads). Default `"default"`. */
  name?: string;
  /** Whose entries: each identity has its own store. Default `"default"`. */
  identity?: string;
  /** Entries held (pending + in flight). Default 100. */
  capacity?: number;
  /** When full: drop the oldest pending entry (reported) or reject. Default `"drop-oldest"`. */
  overflow?: "drop-oldest" | "reject";
  /** Time to live from enqueue, ms. Default 86400000 (24 h). */
  ttlMs?: number;
  /** Failed attempts before an entry moves to failed. Default 3. */
  maxRetries?: number;
  /** Entries of one lane in flight at once. Default 16 (HTTP requests: 1). */
  window?: number;
  /** Delay between attempts of an entry. */
  retry?: {
    /** Default 1000. */
    initialDelayMs?: number;
    /** Default 30000. */
    maxDelayMs?: number;
  };
  /** The payload field that carries the entry id. Default `"clientMessageId"`. */
  idField?: string;
  /** Headers added to replayed requests at send time (e.g. Authorization); never stored. */
  requestHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
}

/** Outbox counts. */
export interface OutboxStatus {
  /** Entries waiting to be sent (or to be retried). */
  pending: number;
  /** Entries sent and waiting for the server's ack. */
  inFlight: number;
  /** Entries that gave up (`maxRetries`, TTL, a rejection); kept until `retry` or `remove`. */
  failed: number;
  /** Sending now (connected, this tab flushes, work to do). */
  processing: boolean;
  /** The last delivery error, or null. */
  lastError: string | null;
  /** Where entries are kept; `"memory"` when IndexedDB is unavailable (lost on reload). */
  persistence: "loading" | "indexeddb" | "memory";
}

/** A queued entry as `list()` shows it. */
export interface OutboxEntry {
  /** The client message id (a UUID), sent with the message (`idField`) or as `Idempotency-Key`. */
  id: string;
  /** Enqueue order. */
  seq: number;
  /** Entries are delivered in order within a lane. */
  lane: string;
  /** A socket event or an HTTP request. */
  kind: "event" | "request";
  /** The event name (`kind: "event"`). */
  event?: string;
  /** The event payload, the id field included (`kind: "event"`). */
  payload?: unknown;
  /** The request URL (`kind: "request"`). */
  url?: string;
  /** The request method (`kind: "request"`). */
  method?: string;
  /** The stored request headers (auth is added at send time, never stored). */
  headers?: [string, string][];
  /** The request body (`kind: "request"`). */
  body?: string;
  /** Its `dedupeKey`, if given. */
  dedupeKey?: string;
  /** When it was enqueued, epoch ms. */
  createdAt: number;
  /** When its TTL ends, epoch ms. */
  expiresAt: number;
  /** Send attempts so far. */
  attempts: number;
  /** No new attempt before this time, epoch ms (the retry backoff). */
  notBefore: number;
  /** The stored record's format version. */
  v: number;
  /** Waiting, sent and waiting for the ack, or given up. */
  state: "pending" | "inflight" | "failed";
  /** Why it failed (`state: "failed"`). */
  failedReason?: string;
  /** The last attempt's error. */
  lastError?: string;
}

/** The durable outbox: written to IndexedDB before `enqueue` resolves, delivered at least
 *  once, in order per lane, removed only on the server's ack. */
export declare class Outbox<E extends object = DefaultEmitEvents> {
  private constructor();
  /** Queues `payload` for `event`; resolves with `{ id }` once stored. Rejects with
   *  `OUTBOX_FULL` (policy reject), `QUOTA_EXCEEDED` or `PAYLOAD_INVALID`. */
  enqueue<K extends keyof E & string>(event: K, payload: E[K], options?: EnqueueOptions): Promise<{ id: string }>;
  /** Queues an HTTP mutation, replayed with fetch and an `Idempotency-Key` header. */
  enqueueRequest(request: OutboxRequest): Promise<{ id: string }>;
  /** The counts now. Throws `INVALID_ARGUMENT` when the client was made with `outbox: false`. */
  status(): OutboxStatus;
  /** `cb(status)` on every change (also when another tab changed the store). */
  onChange(cb: (status: OutboxStatus) => void): Unsubscribe;
  /** `cb(entry)` when the server acked an entry and it was removed. */
  onDelivered(cb: (entry: OutboxEntry) => void): Unsubscribe;
  /** `cb(entry)` when an entry moved to failed (`entry.failedReason`). */
  onFailed(cb: (entry: OutboxEntry) => void): Unsubscribe;
  /** `cb(entry, reason)` when an entry was dropped: `"capacity"` (drop-oldest) or `"replaced"` (dedupeKey). */
  onDropped(cb: (entry: OutboxEntry, reason: "capacity" | "replaced") => void): Unsubscribe;
  /** Every entry, in delivery order. */
  list(): OutboxEntry[];
  /** The failed entries. */
  failed(): OutboxEntry[];
  /** Moves a failed entry back to pending (attempts reset). Returns whether it was found. */
  retry(id: string): boolean;
  /** Removes an entry whatever its state. Returns whether it was found. */
  remove(id: string): boolean;
  /** Removes every entry (call on logout, or switch identity with `setAuth`). */
  clear(): Promise<void>;
  /** Sends what can be sent now, ignoring retry delays. */
  flush(): void;
}

/** What a handler gets besides the payload. */
export interface EventMeta {
  /** All arguments (the payload is `args[0]`). */
  args: unknown[];
  /** Present when the server asked for an ack: call it to answer. */
  ack?: (...values: unknown[]) => void;
}

/** A joined room. */
export interface RoomSubscription {
  /** Resolves with the server's ack of the first join. */
  ready: Promise<unknown>;
  /** Leaves the room. Idempotent. */
  unsubscribe(): void;
}

/** A function that removes what registered it. */
export type Unsubscribe = () => void;

/** A query key: a JSON array (TanStack's matching: array prefix, object subset). */
export type QueryKey = readonly unknown[];

/** Query filters, as TanStack's `QueryFilters`. */
export interface QueryFilters {
  /** Also required: `predicate(query)` must return true (runs in JS over what the other
   *  filters selected, so narrow with `queryKey` for speed). Default none. */
  predicate?: (query: CachedQuery) => boolean;
  /** Match by prefix/subset (or exactly with `exact`). Default: every query. */
  queryKey?: QueryKey;
  /** Compare the whole key (by its stable hash). Default false. */
  exact?: boolean;
  /** Active (observed) / inactive / all. Default "all". */
  type?: "all" | "active" | "inactive";
  /** Only stale (true) or fresh (false) queries. */
  stale?: boolean;
}

/** A query's state. */
export interface QueryState<T = unknown> {
  /** No data yet, data, or the last fetch failed (the data, if any, is kept). */
  status: "pending" | "success" | "error";
  /** The data (what optimistic layers made of it while mutations are pending). */
  data: T | undefined;
  /** Why the last fetch failed, or null. */
  error: string | null;
  /** When the server data was set, epoch ms (0: never). */
  dataUpdatedAt: number;
  /** Invalidated, without data, or older than the observers' shortest `staleTime`. */
  isStale: boolean;
  /** A `queryFn` runs now. */
  isFetching: boolean;
  /** Invalidated since its data was set. */
  isInvalidated: boolean;
}

/** A cached query as `findAll` and `predicate` see it. */
export interface CachedQuery<T = unknown> {
  /** Its key. */
  queryKey: QueryKey;
  /** TanStack's `hashKey(queryKey)`: JSON with object keys sorted. */
  queryHash: string;
  /** Its state now. */
  state: QueryState<T>;
}

/** The `cache` option of `connect`. */
export interface CacheOptions {
  /** Names the IndexedDB store and the tab channel. Default "default". */
  name?: string;
  /** Whose cache: each identity has its own store and channel. Default: `outbox.identity`. */
  identity?: string;
  /** Persist to IndexedDB (`true` = the defaults). Only the server data of each query is
   *  stored, one record per query, written `debounceMs` after a change. Default off. */
  persist?: boolean | {
    /** Stored queries older than this are dropped on load, ms. Default 86400000 (24 h). */
    maxAgeMs?: number;
    /** A version string: a store written with another one is dropped on load. Default "". */
    buster?: string;
    /** Wait after a change before writing, ms (changes meanwhile share one transaction). Default 100. */
    debounceMs?: number;
  };
  /** Retries of a failed fetch while the query is observed, after min(1000 · 2^(n-1), 30000) ms
   *  (the query stays `isFetching` meanwhile). Default 3. */
  retry?: number;
  /** Tell other tabs of the same origin (BroadcastChannel) about patches and invalidations. Default true. */
  broadcast?: boolean;
  /** How long a query that was never observed stays cached, ms. Default 300000, or
   *  `persist.maxAgeMs` when persisting. Also the default `gcTime` of observers. A query gc
   *  collects is also deleted from storage. */
  gcTimeMs?: number;
}

/** Options of one outbox entry. */
export interface EnqueueOptions {
  /** An unsent entry with the same key is replaced in place (reported as "replaced"). Default none. */
  dedupeKey?: string;
  /** Entries are delivered in order per lane. Default "default". */
  lane?: string;
  /** Moved to failed when not delivered within this time, ms. Default `outbox.ttlMs`. */
  ttlMs?: number;
}

/** An HTTP request replayed by the outbox with `fetch` and an `Idempotency-Key`. */
export interface OutboxRequest {
  url: string;
  /** Default "POST". */
  method?: string;
  headers?: Record<string, string>;
  /** A string, or an object sent as JSON. */
  body?: string | object;
  /** Entries are delivered in order per lane. Default "default". */
  lane?: string;
}

/** An optimistic update: applied at once as a layer over the server data of `key`, lifted
 *  when the server acks the outbox entry, rolled back when the entry fails. */
export interface Optimistic<P = any, T = any> {
  /** The query it changes: a key, a template filled from the payload, or a function of it. */
  key: QueryKey | ((payload: P) => QueryKey | undefined);
  /** The new data from the old (`undefined` when nothing is cached). */
  update: (old: T | undefined, payload: P) => T;
  /** When server data for the key arrives while the layer is pending: re-apply the layer over it
   *  ("client-wins"), drop the layer ("server-wins"), keep whichever is newer by timestamp
   *  ("newest-wins", see `timestampOf`), or call `merge`. Default "client-wins". */
  strategy?: "client-wins" | "server-wins" | "newest-wins" | "merge";
  /** For "merge": the data to show from the server's and this layer's last result. */
  merge?: (server: T | undefined, optimistic: T) => T;
  /** For "newest-wins": the server data's time in epoch ms; the layer's time is when it was made.
   *  Default: `data.updatedAt ?? data.timestamp` (a number or a date string); none = server wins. */
  timestampOf?: (server: T | undefined) => number | undefined;
}

/** The query cache of a client (`client.cache`): keys are JSON arrays, matched as TanStack does. */
export declare class Cache {
  private constructor();
  /** Resolves once persisted queries are restored (at once without `persist`). */
  readonly ready: Promise<void>;
  /** Where the data is kept: "off" (no `persist`), "loading", "indexeddb", or "memory" when
   *  IndexedDB failed (a `STORAGE_UNAVAILABLE` error says why). */
  readonly persistence: "off" | "loading" | "indexeddb" | "memory";
  /** The queries `filters` selects. */
  findAll<T = unknown>(filters?: QueryFilters): CachedQuery<T>[];
  /** `[queryKey, data]` of every query `filters` selects (TanStack's `getQueriesData`). */
  getQueriesData<T = unknown>(filters?: QueryFilters): [QueryKey, T | undefined][];
  /** Sets a query's data; `dataOrUpdater` may be a function of the old data. */
  setQueryData<T>(queryKey: QueryKey, dataOrUpdater: T | ((old: T | undefined) => T | undefined)): T | undefined;
  /** A query's data, or `undefined`. */
  getQueryData<T = unknown>(queryKey: QueryKey): T | undefined;
  /** A query's state, or `undefined` when it is not cached. */
  getQueryState<T = unknown>(queryKey: QueryKey): QueryState<T> | undefined;
  /** Marks matching queries stale and refetches per `refetchType` (default "active").
   *  Resolves with the number of queries matched. Costs what it matches (an index), not the cache size. */
  invalidateQueries(filters?: QueryFilters & { refetchType?: "active" | "inactive" | "all" | "none" }): Promise<number>;
  /** Forgets the matching queries (and their stored records). Returns how many. */
  removeQueries(filters?: QueryFilters): number;
  /** Back to no data; observed ones fetch again. Resolves with how many matched. */
  resetQueries(filters?: QueryFilters): Promise<number>;
  /** Runs `queryFn` when data is missing or stale and when the key is invalidated while observed;
   *  concurrent fetches of a key are shared. `staleTime` default 0; `gcTime` default the cache's
   *  `gcTimeMs` (300000 ms, or `persist.maxAgeMs` when persisting)
   *  (how long the query stays cached once nobody observes it). */
  observe<T>(queryKey: QueryKey, options: { queryFn: () => T | Promise<T>; staleTime?: number; gcTime?: number }, listener: (state: QueryState<T>) => void): Unsubscribe;
  /** The invalidation hook: `hook(keys)` when an invalidation, a patch or new server data (a
   *  fetch, a restore) touches matching keys, from this tab or another. */
  watch(filters: Omit<QueryFilters, "predicate">, hook: (keys: QueryKey[]) => void): Unsubscribe;
}

/** A real-time connection, typed by the events it listens to (`L`) and emits (`E`). */
export declare class Client<L extends object = DefaultListenEvents, E extends object = DefaultEmitEvents> {
  private constructor();
  /** Calls `handler(payload, meta)` for every `event`. */
  on<K extends keyof L & string>(event: K, handler: (payload: L[K], meta: EventMeta) => void): Unsubscribe;
  /** Like `on`, for the next `event` only. */
  once<K extends keyof L & string>(event: K, handler: (payload: L[K], meta: EventMeta) => void): Unsubscribe;
  /** Calls `handler(event, payload, meta)` for every event. */
  onAny(handler: <K extends keyof L & string>(event: K, payload: L[K], meta: EventMeta) => void): Unsubscribe;
  /** Calls `listener` on every state change. */
  onState(listener: (state: ConnectionState) => void): Unsubscribe;
  /** Calls `listener` with every error. */
  onError(listener: (error: WiresyncError) => void): Unsubscribe;
  /** The state now. */
  readonly state: ConnectionState;
  /** Sends now if open, else buffers in memory (lost on reload) until the next connect. */
  emit<K extends keyof E & string>(event: K, payload: E[K], ...more: unknown[]): void;
  /** Resolves with the server's ack value; rejects with a `WiresyncError` (`ACK_TIMEOUT`, ...). */
  emitWithAck<K extends keyof E & string, R = unknown>(event: K, payload: E[K], options?: { timeoutMs?: number }): Promise<R>;
  /** Joins a room: sends `subscribe:<channel>` with `params`; re-joined after every unrecovered reconnect. */
  subscribe(channel: string, params?: unknown, options?: { ack?: boolean }): RoomSubscription;
  /** The durable outbox. */
  readonly outbox: Outbox<E>;
  /** The query cache. */
  readonly cache: Cache;
  /** `event` invalidates query keys: templates filled from the payload (`[["order", "{orderId}"]]`,
   *  no JS per event) or `payload => keys`. Returns the remover. */
  invalidateOn<K extends keyof L & string>(event: K, keys: QueryKey[] | ((payload: L[K]) => QueryKey[])): Unsubscribe;
  /** `event` patches one query: `key` is a template or `payload => key`; `update(old, payload)`
   *  gives the new data (without it, the payload becomes the data). Returns the remover. */
  patchOn<K extends keyof L & string, T = unknown>(event: K, key: QueryKey | ((payload: L[K]) => QueryKey), update?: (old: T | undefined, payload: L[K]) => T): Unsubscribe;
  /** Every `event` queued through `mutate` (or found in the outbox after a reload) applies
   *  `optimistic` to the cache at once. Register at start-up so layers come back after a reload.
   *  Returns the remover. */
  optimisticOn<K extends keyof E & string, T = any>(event: K, optimistic: Optimistic<E[K], T>): Unsubscribe;
  /** A durable mutation: queued in the outbox (`event` + `payload`, or an HTTP `request`) with
   *  its optimistic update applied at once, offline too (`optimistic`, or the one from
   *  `optimisticOn(event)`). Resolves with `{ id }` once stored; rejects (and rolls back) with
   *  `OUTBOX_FULL`, `QUOTA_EXCEEDED` or `PAYLOAD_INVALID`. */
  mutate<K extends keyof E & string, T = any>(
    mutation:
      | ({ event: K; payload: E[K]; request?: undefined; optimistic?: Optimistic<E[K], T> } & EnqueueOptions)
      | { request: OutboxRequest; event?: undefined; payload?: unknown; optimistic?: Optimistic<any, T> },
  ): Promise<{ id: string }>;
  /** The optimistic layers pending over `queryKey`, oldest first. */
  pendingMutations(queryKey: QueryKey): { id: string; payload: unknown; at: number }[];
  /** For bridges such as `wiresync/tanstack`: calls `listener(rule)` for every event rule, now
   *  and as rules are added; a returned function runs when that rule is removed. */
  eachRule(listener: (rule: EventRule) => void | (() => void)): Unsubscribe;
  /** New credentials; reconnects with them at once. `{ identity }` switches the outbox and the
   *  cache to that identity's own stores: no entry is sent under another user's credentials, and
   *  the previous user's queries are dropped from memory (observed ones fetch again). */
  setAuth(auth: ConnectOptions["auth"], options?: { identity?: string }): void;
  /** Drops the connection and connects again now. */
  reconnect(): void;
  /** Closes for good (until `reconnect()`): the connection, and the cache's link to other tabs
   *  (its data stays readable; the outbox keeps its entries for the next connect). */
  close(): void;
  /** Closes and frees the client (wasm memory, timers, listeners, cache, tab link), for apps
   *  that make and drop clients (a logout, tests). Queued outbox entries stay stored for the
   *  next client. Unsubscribe functions still work (as no-ops); any other call then throws. */
  dispose(): void;
}

/** An event rule as `eachRule` reports it, with templates already turned into functions. */
export type EventRule =
  | { event: string; kind: "invalidate"; keys(payload: any): QueryKey[] }
  | { event: string; kind: "patch"; key(payload: any): QueryKey | undefined; update?: (old: any, payload: any) => unknown };

/** Creates a client and starts connecting. `await init()` first. With `schemas`, the event
 *  types are inferred from them (and the catalog's, unless `catalog: false`). */
export declare function connect<const O extends ConnectOptions & { schemas: SchemasOption }>(
  options: O,
): Client<ListenOf<O>, EmitOf<O>>;
/** Creates a client and starts connecting. `await init()` first. Event maps `L` (server →
 *  client) and `E` (client → server) type the events; by default the catalog's and any name. */
export declare function connect<L extends object = DefaultListenEvents, E extends object = DefaultEmitEvents>(
  options: ConnectOptions,
): Client<L, E>;
