/**
 * wiresync/tanstack: drives an app's own TanStack Query `QueryClient` from a wiresync client's
 * event rules (`client.invalidateOn`, `client.patchOn`) and refetches its active queries after a
 * reconnect that missed events. Imports nothing from TanStack: pass the app's QueryClient.
 *
 * ```ts
 * import { QueryClient } from "@tanstack/query-core";   // or @tanstack/react-query, vue-query, ...
 * import { bindQueryClient } from "wiresync/tanstack";
 *
 * const queryClient = new QueryClient();
 * client.invalidateOn("order:status_update", [["orders"], ["order", "{orderId}"]]);
 * client.patchOn("order:status_update", (p) => ["order", p.orderId], (old: Partial<OrderStatusUpdate> | undefined, p) => ({ ...old, status: p.status }));
 * const unbind = bindQueryClient(client, queryClient);
 * ```
 * @packageDocumentation
 */
import type { Client, QueryKey, Unsubscribe } from "./index.js";

/**
 * What the bridge calls on a QueryClient, and nothing more, so the QueryClient of
 * `@tanstack/query-core` 5 and of every framework adapter (`@tanstack/react-query`, ...) fits.
 */
export interface QueryClientLike {
  /** Called with `{ queryKey }` (plus `refetchType` when set) per key of an "invalidate" rule,
   *  and with `{ type: "active" }` after an unrecovered reconnect. */
  invalidateQueries(filters: {
    queryKey?: QueryKey;
    type?: "all" | "active" | "inactive";
    refetchType?: "active" | "inactive" | "all" | "none";
  }): unknown;
  /** Called with a query key and an updater of the old data per "patch" event. */
  setQueryData(queryKey: QueryKey, updater: (old: any) => any): unknown;
}

/** `bindQueryClient` options; every one has the default shown. */
export interface BindOptions {
  /** Which invalidated queries an "invalidate" rule refetches: `"active"` (observed),
   *  `"inactive"`, `"all"`, or `"none"` (mark stale only). Default: TanStack's default,
   *  `"active"` (the option is not passed). */
  refetchType?: "active" | "inactive" | "all" | "none";
  /** After a reconnect that did not recover the session (`recovered: false`), invalidate the
   *  QueryClient's active queries so they refetch what was missed. Never on the first connect
   *  (the first open seen after binding, unless the client is already open when bound), never
   *  after a recovered reconnect. Default `true`. */
  refetchOnReconnect?: boolean;
}

/**
 * Binds `queryClient` to every event rule of `client`, those registered now and later:
 * - an `invalidateOn` rule: on its event, `queryClient.invalidateQueries({ queryKey })` for
 *   each key filled from the payload;
 * - a `patchOn` rule: on its event, `queryClient.setQueryData(key, old => update ? update(old, payload) : payload)`
 *   (skipped when the key cannot be filled; an updater returning `undefined` sets nothing);
 * - a rule's remover stops it driving the QueryClient as well.
 *
 * The rules keep driving `client.cache` too; an updater runs once for each cache.
 *
 * @returns the unbind function: removes every listener of the bridge. Idempotent.
 */
export declare function bindQueryClient(
  client: Client<any, any>,
  queryClient: QueryClientLike,
  options?: BindOptions,
): Unsubscribe;
