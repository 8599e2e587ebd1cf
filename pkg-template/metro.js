// wiresync for Metro (Expo web) and any bundler that neither supports
// `new URL("x.wasm", import.meta.url)` nor loads `.wasm` files: the wasm is inlined (base64)
// in wasm_inline.js, and the glue used here has no `import.meta`. Same API as "wiresync".
import initWasm, { connect as rawConnect } from "./wiresync_inline.js";
import wasmBytes from "./wasm_inline.js";
import { Client, connectWith, loader } from "./client.js";

export { Cache, Client, Outbox } from "./client.js";

/**
 * Loads the wasm, by default from the bytes inlined in this package (or from `input`, as in
 * "wiresync"). Idempotent: concurrent and repeated calls share one load.
 */
const init = loader(initWasm, () => ({ module_or_path: wasmBytes() }));
export default init;

/** Creates a client and starts connecting. Call (and await) `init()` first (else
 *  `NOT_INITIALIZED`). */
export function connect(options) {
  return connectWith(init, rawConnect, Client, options);
}
