// wiresync for Metro (Expo web): the same API as "wiresync", with the wasm inlined, so
// `init()` needs no URL and nothing relies on `import.meta.url` or on loading `.wasm` files.
export * from "./index.js";
export { default } from "./index.js";
