// wiresync/tanstack: drives an app's own TanStack QueryClient from a wiresync client's event
// rules. No import of @tanstack packages: the app passes its QueryClient (query-core, or any
// framework adapter's, which is the same class), so nothing of TanStack is bundled twice.

/**
 * Binds `queryClient` to `client`'s event rules (`client.invalidateOn`, `client.patchOn`), those
 * registered now and later: an "invalidate" rule calls `queryClient.invalidateQueries({ queryKey })`
 * for each key, a "patch" rule calls `queryClient.setQueryData(key, old => update ? update(old, payload) : payload)`.
 * After a reconnect that did not recover the session, active queries are invalidated (and so
 * refetched); after a recovered one nothing is, since no event was missed.
 *
 * @param {import("./index.js").Client} client the wiresync client
 * @param {import("./tanstack.js").QueryClientLike} queryClient the app's QueryClient
 * @param {import("./tanstack.js").BindOptions} [options]
 * @returns {() => void} the unbind function (idempotent)
 */
export function bindQueryClient(client, queryClient, options = {}) {
  client[Symbol.for("wiresync.checkOptions")]?.(options, ["refetchType", "refetchOnReconnect"]);
  const { refetchType, refetchOnReconnect = true } = options;
  /** @param {import("./index.js").QueryKey} queryKey */
  const invalidate = (queryKey) =>
    queryClient.invalidateQueries(refetchType === undefined ? { queryKey } : { queryKey, refetchType });

  const stopRules = client.eachRule((rule) => {
    if (rule.kind === "invalidate") {
      return client.on(rule.event, (payload) => {
        for (const queryKey of rule.keys(payload) ?? []) invalidate(queryKey);
      });
    }
    if (rule.kind === "patch") {
      const { key, update } = rule;
      return client.on(rule.event, (payload) => {
        const queryKey = key(payload);
        if (queryKey == null) return;
        queryClient.setQueryData(queryKey, (old) => (update ? update(old, payload) : payload));
      });
    }
    return undefined;
  });

  // Invalidate when the client opens again without resuming its session (`state.resync`, which
  // the core decides: never on a first connect, nor on a recovered one), once per such open.
  let last = client.state.status;
  const stopState = refetchOnReconnect
    ? client.onState((state) => {
        const opened = state.status === "open" && last !== "open";
        last = state.status;
        if (opened && state.resync) queryClient.invalidateQueries({ type: "active" });
      })
    : undefined;

  let bound = true;
  return () => {
    if (!bound) return;
    bound = false;
    stopRules();
    stopState?.();
  };
}
