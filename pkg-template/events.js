// wiresync/events: the real-time client alone (events, state, errors, emits, acks, rooms), with
// its own smaller wasm (built without the outbox and the cache), for apps that need no more.
// The wasm is `wiresync_events_bg.wasm` next to this file (`new URL(..., import.meta.url)`, as
// in "wiresync"). Same `init()` and `connect()`; `connect()` refuses `outbox` and `cache`.
import initWasm, { connect as rawConnect } from "./wiresync_events.js";
import { EventClient, connectWith, loader } from "./events-client.js";

export { EventClient } from "./events-client.js";

/**
 * Loads the wasm. Idempotent: concurrent and repeated calls share one load.
 * @param {{ module_or_path?: unknown } | URL | string | Response | BufferSource | WebAssembly.Module} [input]
 *   where the wasm comes from; by default `wiresync_events_bg.wasm` next to this file.
 */
const init = loader(initWasm);
export default init;

/** Creates a client and starts connecting. Call (and await) `init()` first (else
 *  `NOT_INITIALIZED`). */
export function connect(options) {
  return connectWith(init, rawConnect, EventClient, options);
}
