// The least webpack 5 needs for any npm package: an entry and an output. wiresync's wasm is found
// through `new URL("wiresync_bg.wasm", import.meta.url)`, which webpack emits as an asset by itself.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  entry: "./src/main.js",
  output: { path: fileURLToPath(new URL("./dist", import.meta.url)), filename: "main.js", clean: true },
};
