// wiresync/events: the real-time client alone, with a smaller wasm (no outbox, no cache).
import type { Client, ConnectOptions, DefaultEmitEvents, DefaultListenEvents, EmitOf, ListenOf, SchemasOption } from "./index.js";

export type * from "./index.js";

/** Loads the wasm (`wiresync_events_bg.wasm` next to this module by default). Idempotent.
 *  Outside a browser, a call with no input rejects at once with `NOT_IN_BROWSER`. */
export default function init(
  input?: { module_or_path?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL | Response | BufferSource,
): Promise<void>;

/** The real-time client of `wiresync`, without its outbox, cache, event rules and mutations. */
export type EventClient<L extends object = DefaultListenEvents, E extends object = DefaultEmitEvents> = Pick<
  Client<L, E>,
  "on" | "once" | "onAny" | "onState" | "onError" | "state" | "emit" | "emitWithAck" | "subscribe" | "setAuth" | "reconnect" | "close" | "dispose"
>;

/** Creates a client and starts connecting. `await init()` first. `outbox` and `cache` are
 *  refused (`INVALID_ARGUMENT`): they live in the full `wiresync` entry; `shareAcrossTabs` in
 *  `wiresync/shared`. */
export declare function connect<const O extends Omit<ConnectOptions, "outbox" | "cache" | "shareAcrossTabs"> & { schemas: SchemasOption }>(
  options: O,
): EventClient<ListenOf<O>, EmitOf<O>>;
export declare function connect<L extends object = DefaultListenEvents, E extends object = DefaultEmitEvents>(
  options: Omit<ConnectOptions, "outbox" | "cache" | "shareAcrossTabs">,
): EventClient<L, E>;
