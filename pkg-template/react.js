// wiresync/react: React 18 and 19 hooks over a wiresync `Client`. Plain JavaScript (no JSX,
// no build step); `react` is a peer dependency. Every hook subscribes in an effect (or through
// useSyncExternalStore) and removes what it registered when the component unmounts or its
// inputs change, so a client outlives any number of mounts without collecting handlers.
import {
  Fragment,
  createContext,
  createElement,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";

const ClientContext = createContext(null);
ClientContext.displayName = "WiresyncClient";

/** Layout effects warn during server rendering in React 18; effects are enough there. */
const useIsomorphicLayoutEffect = typeof document !== "undefined" ? useLayoutEffect : useEffect;

/** Keeps `value` in a ref that is current once the render commits (never written in render). */
function useLatest(value) {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * Makes a client available to the hooks below it: `client` (the app owns it), or one that
 * `create()` makes in an effect (in the browser only, so server rendering never loads the
 * wasm) and disposes of on unmount. Until it is made, `fallback` renders. React's StrictMode
 * remount keeps the one client: its disposal waits a task, and a remount cancels it.
 */
export function RealtimeProvider({ client, create, fallback = null, children }) {
  if (!client === !create) {
    throw new Error(
      "wiresync/react: <RealtimeProvider> needs `client` (from connect()) or `create` (a function that makes one), not both",
    );
  }
  const [made, setMade] = useState(null);
  const [failed, setFailed] = useState(null);
  const owned = useRef(null);
  const latestCreate = useLatest(create);
  const creates = !!create;
  useEffect(() => {
    if (!creates) return undefined;
    let slot = owned.current;
    if (slot) clearTimeout(slot.dispose); // a StrictMode remount: the same client
    else {
      slot = owned.current = {};
      slot.client = Promise.resolve().then(() => latestCreate.current());
    }
    let mounted = true;
    slot.client.then((c) => mounted && setMade(() => c), (e) => mounted && setFailed(() => e));
    return () => {
      mounted = false;
      slot.dispose = setTimeout(() => {
        if (owned.current === slot) owned.current = null;
        setMade(null); // hidden, not unmounted (<Activity>): shown again, it makes a new client
        slot.client.then((c) => c.dispose(), () => {});
      });
    };
  }, [creates, latestCreate]);
  if (failed) throw failed; // to the nearest error boundary
  const value = client ?? made;
  return value ? createElement(ClientContext.Provider, { value }, children) : createElement(Fragment, null, fallback);
}

/** The client of the nearest `<RealtimeProvider>`; throws outside of one. */
export function useClient() {
  const client = useContext(ClientContext);
  if (!client) {
    throw new Error(
      "wiresync/react: no client here. Wrap the component in <RealtimeProvider create={…}> or <RealtimeProvider client={…}>.",
    );
  }
  return client;
}

/** Calls the latest `handler(payload, meta)` for every `event`; subscribed while mounted. */
export function useEvent(event, handler) {
  const client = useClient();
  const latest = useLatest(handler);
  useEffect(() => client.on(event, (payload, meta) => latest.current(payload, meta)), [client, event, latest]);
}

/**
 * A store for useSyncExternalStore over a source whose reads return a new object each time:
 * the snapshot only changes when `same` says the value did, so React sees a stable value.
 * `listen(onValue)` subscribes and returns the unsubscribe; `read()` gives the value now.
 */
function snapshotStore(read, listen, same) {
  let snapshot = read();
  const update = (next) => {
    if (same(snapshot, next)) return false;
    snapshot = next;
    return true;
  };
  return {
    getSnapshot: () => snapshot,
    subscribe(onStoreChange) {
      // wiresync may call a listener removed during the same dispatch (it copies its list).
      let live = true;
      const off = listen((next) => {
        if (live && update(next)) onStoreChange();
      });
      // What changed between the render and this subscription.
      if (update(read())) onStoreChange();
      return () => {
        live = false;
        off();
      };
    },
  };
}

const sameError = (a, b) => a === b || (a != null && b != null && a.code === b.code && a.message === b.message);

const sameState = (a, b) =>
  a.status === b.status && a.attempt === b.attempt && a.recovered === b.recovered && a.resync === b.resync &&
  a.url === b.url && a.transport === b.transport && a.shared?.leader === b.shared?.leader &&
  a.shared?.tabs === b.shared?.tabs && sameError(a.error, b.error);

/** The connection state (`{ status, attempt, error, recovered, resync, url, transport, shared }`),
 *  re-rendering on every change of it. */
export function useConnectionState() {
  const client = useClient();
  const store = useMemo(
    () => snapshotStore(() => client.state, (cb) => client.onState(cb), sameState),
    [client],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

const sameOutbox = (a, b) =>
  a === b ||
  (a !== undefined && b !== undefined &&
    a.pending === b.pending && a.inFlight === b.inFlight && a.failed === b.failed &&
    a.processing === b.processing && a.lastError === b.lastError && a.persistence === b.persistence);

/** `client.outbox.status()`, or undefined when the client has no outbox (`outbox: false`). */
function outboxStatus(client) {
  try {
    return client.outbox.status();
  } catch (e) {
    if (e?.code === "INVALID_ARGUMENT") return undefined;
    throw e;
  }
}

/** The outbox counts `{ pending, inFlight, failed, processing, lastError, persistence }`,
 *  re-rendering on every change; undefined when the client was made with `outbox: false`. */
export function useOutboxStatus() {
  const client = useClient();
  const store = useMemo(
    () =>
      snapshotStore(
        () => outboxStatus(client),
        (cb) => (outboxStatus(client) === undefined ? () => {} : client.outbox.onChange(cb)),
        sameOutbox,
      ),
    [client],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

const PENDING = Object.freeze({
  status: "pending",
  data: undefined,
  error: null,
  dataUpdatedAt: 0,
  isStale: true,
  isFetching: false,
  isInvalidated: false,
});

/** Two reads of one key (each read is a new object): equal when nothing visible changed. */
const sameQuery = (a, b) =>
  a === b ||
  (a.status === b.status && a.error === b.error && a.dataUpdatedAt === b.dataUpdatedAt &&
    a.isStale === b.isStale && a.isFetching === b.isFetching && a.isInvalidated === b.isInvalidated &&
    (a.data === b.data || JSON.stringify(a.data) === JSON.stringify(b.data)));

/**
 * The state of `queryKey` in the client's cache, kept current while mounted:
 * `{ status, data, error, dataUpdatedAt, isStale, isFetching, isInvalidated }`.
 * Enabled and with a `queryFn`, it observes the key (fetching when data is missing or stale,
 * and again on invalidation). Disabled or without a `queryFn`, it only follows what is cached
 * (setQueryData, event patches, invalidations) and never fetches.
 */
export function useQueryData(queryKey, options = {}) {
  const client = useClient();
  client[Symbol.for("wiresync.checkOptions")]?.(options, QUERY_OPTIONS);
  const { queryFn, staleTime = 0, gcTime, enabled = true } = options;
  const hash = JSON.stringify(queryKey);
  // The key as of its last textual change: a new array literal per render is the same key.
  const key = useMemo(() => queryKey, [hash]);
  const latestFn = useLatest(queryFn);
  const fetches = enabled && typeof queryFn === "function";
  const store = useMemo(() => {
    const read = () => client.cache.getQueryState(key) ?? PENDING;
    if (!fetches) {
      // Follow the key without becoming an observer (which would fetch).
      return snapshotStore(read, (cb) => client.cache.watch({ queryKey: key, exact: true }, () => cb(read())), sameQuery);
    }
    // The observer's listener hears every change (and once at once), so its last state is the
    // snapshot; reading again would only make a copy.
    let last;
    return snapshotStore(
      () => last ?? read(),
      (cb) =>
        client.cache.observe(
          key,
          { queryFn: () => latestFn.current({ queryKey: key }), staleTime, gcTime },
          (state) => cb((last = state)),
        ),
      (a, b) => a === b,
    );
  }, [client, key, fetches, staleTime, gcTime, latestFn]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The options `useQueryData` and `useQuery` take; any other key is an `INVALID_ARGUMENT`. */
const QUERY_OPTIONS = ["queryKey", "queryFn", "staleTime", "gcTime", "enabled"];

/** TanStack's shape, `useQuery({ queryKey, queryFn, staleTime, gcTime, enabled })`: the same
 *  as `useQueryData(queryKey, options)`. */
export function useQuery(options) {
  return useQueryData(options.queryKey, options);
}
