/**
 * wiresync/react: React 18 and 19 hooks over a wiresync {@link Client}.
 *
 * ```js
 * import init, { connect } from "wiresync";
 * import { RealtimeProvider, useEvent, useConnectionState, useQueryData } from "wiresync/react";
 *
 * const create = async () => { await init(); return connect({ url: "https://api.example.com" }); };
 * root.render(createElement(RealtimeProvider, { create, fallback: "Connecting…" }, createElement(App)));
 * ```
 *
 * Every hook removes what it registered on the client when its component unmounts (or when
 * the inputs it subscribed with change), so one client serves any number of mounts.
 * @packageDocumentation
 */
import type { ReactElement, ReactNode } from "react";
import type {
  Client, ConnectionState, DefaultEmitEvents, DefaultListenEvents, EventMeta, OutboxStatus, QueryKey, QueryState,
} from "./index.js";

/** Props of {@link RealtimeProvider}: `client` or `create`, one of them. */
export type RealtimeProviderProps =
  | {
      /** A client the app made and owns (the provider never closes it). */
      client: Client<any, any>;
      create?: undefined;
      fallback?: undefined;
      /** What the provider wraps. Default none. */
      children?: ReactNode;
    }
  | {
      client?: undefined;
      /** Makes the client, in an effect (the browser only): typically
       *  `async () => { await init(); return connect(options); }`. Called once per mount
       *  (StrictMode's remount included); the client is disposed of on unmount. A rejection
       *  is thrown to the nearest error boundary. */
      create: () => Client<any, any> | Promise<Client<any, any>>;
      /** Rendered until the client is made (and on the server). Default `null`. */
      fallback?: ReactNode;
      /** What the provider wraps. Default none. */
      children?: ReactNode;
    };

/**
 * Puts a client in a React context for {@link useClient} and every hook of this module:
 * `client` (the app owns its lifetime), or the one `create()` makes on the client side only
 * (Next.js, server rendering), disposed of on unmount, with `fallback` shown until then.
 */
export declare function RealtimeProvider(props: RealtimeProviderProps): ReactElement;

/**
 * The client of the nearest {@link RealtimeProvider}.
 * @typeParam L - the events it listens to (as in `connect<L, E>()`); default the catalog's.
 * @typeParam E - the events it emits; default the catalog's.
 * @throws Error when the component is not inside a `<RealtimeProvider>`.
 */
export declare function useClient<L extends object = DefaultListenEvents, E extends object = DefaultEmitEvents>(): Client<L, E>;

/**
 * Calls `handler(payload, meta)` for every `event` while the component is mounted.
 * The latest `handler` of each render is called, without subscribing again; the subscription
 * is replaced when `event` changes and removed on unmount.
 * @param event - the event name; catalog events type their payload.
 * @param handler - called with the payload (the first argument) and {@link EventMeta}.
 */
export declare function useEvent<K extends keyof DefaultListenEvents & string>(
  event: K,
  handler: (payload: DefaultListenEvents[K], meta: EventMeta) => void,
): void;
/**
 * `useEvent` against an app's own event map: `useEvent<Listen, "chat:message">("chat:message", …)`.
 * @typeParam L - the event map of the client (as in `connect<L, E>()`).
 * @typeParam K - the event name.
 */
export declare function useEvent<L extends object, K extends keyof L & string>(
  event: K,
  handler: (payload: L[K], meta: EventMeta) => void,
): void;

/**
 * The connection state `{ status, attempt, error, recovered }`, re-rendering on every change
 * (through `useSyncExternalStore` over `client.onState`). The object stays the same between
 * changes, so it can be a dependency of other hooks.
 */
export declare function useConnectionState(): ConnectionState;

/**
 * The outbox counts `{ pending, inFlight, failed, processing, lastError, persistence }`,
 * re-rendering on every change (through `useSyncExternalStore` over `client.outbox.onChange`).
 * @returns `undefined` when the client was created with `outbox: false`.
 */
export declare function useOutboxStatus(): OutboxStatus | undefined;

/** What a query function gets. */
export interface QueryFunctionContext {
  /** The key being fetched. */
  queryKey: QueryKey;
}

/** Options of {@link useQueryData}. */
export interface UseQueryDataOptions<T> {
  /**
   * Fetches the data (may be async); its result must be JSON. The latest function of each
   * render is used, without subscribing again. Default none: without it, the hook only follows
   * what is cached (`setQueryData`, `patchOn` rules, invalidations) and never fetches.
   */
  queryFn?: (context: QueryFunctionContext) => T | Promise<T>;
  /** How long fetched data stays fresh, ms (no refetch on mount while fresh). Default 0. */
  staleTime?: number;
  /** How long the query is kept once no component observes it, ms. Default: the cache's `gcTimeMs` (300000, or `persist.maxAgeMs` when persisting). */
  gcTime?: number;
  /**
   * `false`: do not observe or fetch; only follow what is cached for the key (as without a
   * `queryFn`). Default true.
   */
  enabled?: boolean;
}

/**
 * The state of `queryKey` in the client's cache, kept current while mounted:
 * `{ status, data, error, dataUpdatedAt, isStale, isFetching, isInvalidated }`
 * (`{ status: "pending", data: undefined, … }` until the cache has something).
 *
 * Enabled and with a `queryFn`, the component observes the key: `queryFn` runs when the data is
 * missing or stale and again when the key is invalidated (`invalidateQueries`, `invalidateOn`
 * rules, an unrecovered reconnect). It subscribes again only when the key's JSON text changes
 * (a new array literal on each render is the same key), or `staleTime`, `gcTime` or `enabled`
 * change; it stops observing on unmount.
 * @typeParam T - the data's type.
 * @param queryKey - a JSON array, matched as TanStack Query does.
 * @param options - {@link UseQueryDataOptions}; every one optional.
 */
export declare function useQueryData<T = unknown>(queryKey: QueryKey, options?: UseQueryDataOptions<T>): QueryState<T>;

/** Options of {@link useQuery}: {@link UseQueryDataOptions} plus the key. */
export interface UseQueryOptions<T> extends UseQueryDataOptions<T> {
  /** The query key. Required. */
  queryKey: QueryKey;
}

/**
 * TanStack Query's call shape: `useQuery({ queryKey, queryFn, staleTime, gcTime, enabled })`
 * is `useQueryData(queryKey, { queryFn, staleTime, gcTime, enabled })`.
 * @typeParam T - the data's type.
 */
export declare function useQuery<T = unknown>(options: UseQueryOptions<T>): QueryState<T>;
