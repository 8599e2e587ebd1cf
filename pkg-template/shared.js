// wiresync/shared: everything "wiresync" has, plus one connection for every tab of an app
// (`connect({ shareAcrossTabs: true })`), with its own wasm built with the `share` feature, so
// that apps that do not share do not ship it. The wasm is `wiresync_shared_bg.wasm` next to
// this file (`new URL(..., import.meta.url)`, as in "wiresync").
import initWasm, { connect as rawConnect } from "./wiresync_shared.js";
import { Client, connectWith, loader } from "./client.js";

export { Cache, Client, Outbox } from "./client.js";

/**
 * Loads the wasm. Idempotent: concurrent and repeated calls share one load.
 * @param {{ module_or_path?: unknown } | URL | string | Response | BufferSource | WebAssembly.Module} [input]
 *   where the wasm comes from; by default `wiresync_shared_bg.wasm` next to this file.
 */
const init = loader(initWasm);
export default init;

/** Creates a client and starts connecting. Call (and await) `init()` first (else
 *  `NOT_INITIALIZED`). */
export function connect(options) {
  return connectWith(init, rawConnect, Client, options);
}
