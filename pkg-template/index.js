// wiresync: the default entry point, for Vite, webpack 5, Rollup, esbuild and plain ES modules
// in the browser. The wasm is `wiresync_bg.wasm` next to this file, found with
// `new URL("wiresync_bg.wasm", import.meta.url)`, which bundlers turn into an asset URL.
// Metro (Expo web) and bundlers without that: import "wiresync/metro" (the wasm inlined).
import initWasm, { connect as rawConnect } from "./wiresync.js";
import { Client, connectWith, loader } from "./client.js";

export { Cache, Client, Outbox } from "./client.js";

/**
 * Loads the wasm. Idempotent: concurrent and repeated calls share one load.
 * @param {{ module_or_path?: unknown } | URL | string | Response | BufferSource | WebAssembly.Module} [input]
 *   where the wasm comes from; by default `wiresync_bg.wasm` next to this file.
 */
const init = loader(initWasm);
export default init;

/** Creates a client and starts connecting. Call (and await) `init()` first (else
 *  `NOT_INITIALIZED`). */
export function connect(options) {
  return connectWith(init, rawConnect, Client, options);
}
