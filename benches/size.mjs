// What an app ships, side by side: wiresync (the wasm + its JS, bundled and minified by esbuild as
// an app's bundler would) against the stack it replaces, socket.io-client + @tanstack/query-core +
// idb bundled together (ANCHORS.md: esbuild --bundle --minify --format=esm --platform=browser).
// Reads pkg/ (./scripts/build.sh first). Prints raw / gzip -9 / brotli bytes and the ratios.
//
//   node benches/size.mjs
import fs from "node:fs";
import path from "node:path";
import { PKG, TESTS, compressed, esbuildBundle, fixed, shippedSize, sum } from "./lib.mjs";

if (!fs.existsSync(path.join(PKG, "wiresync_bg.wasm"))) {
  console.error("size: no pkg/wiresync_bg.wasm; run ./scripts/build.sh first");
  process.exit(1);
}
const shipped = await shippedSize("default");
const { wasm } = shipped;
const rows = [{ label: "wiresync (events, outbox, cache): wasm + JS", js: shipped.js, total: shipped.total }];
const events = await shippedSize("events");
const measure = async (label, entry, extra = []) => {
  const js = compressed(await esbuildBundle(entry, PKG, ["react"])); // React is the app's own
  rows.push({ label, js, total: sum([js, ...extra]) });
};
await measure("  + wiresync/react and wiresync/tanstack", 'export { default, connect } from "./index.js"; export * from "./react.js"; export * from "./tanstack.js";', [wasm]);
const metro = compressed(await esbuildBundle('export { default, connect } from "./metro.js";', PKG));
rows.push({ label: "wiresync/metro (Expo web: wasm inlined in base64)", js: metro, total: metro });
rows.push({ label: "wiresync/events (events only): wasm + JS", js: events.js, total: events.total });
const shared = await shippedSize("shared");
rows.push({ label: "wiresync/shared (+ shareAcrossTabs): wasm + JS", js: shared.js, total: shared.total });
const stack = compressed(
  await esbuildBundle('export { io } from "socket.io-client"; export { QueryClient } from "@tanstack/query-core"; export { openDB } from "idb";', TESTS),
);
rows.push({ label: "socket.io-client + query-core + idb, one bundle", js: stack, total: stack });
const sio = compressed(await esbuildBundle('export { io } from "socket.io-client";', TESTS));
rows.push({ label: "socket.io-client alone", js: sio, total: sio });

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const W = 52;
console.log(`${"what an app ships".padEnd(W)}${"raw".padStart(10)}${"gzip -9".padStart(10)}${"brotli".padStart(10)}`);
for (const r of rows) {
  console.log(`${r.label.padEnd(W)}${kb(r.total.raw).padStart(10)}${kb(r.total.gzip).padStart(10)}${kb(r.total.brotli).padStart(10)}`);
}
const ours = rows[0].total;
console.log(`${"  of which wasm".padEnd(W)}${kb(wasm.raw).padStart(10)}${kb(wasm.gzip).padStart(10)}${kb(wasm.brotli).padStart(10)}`);
console.log(`${"  of which wasm (wiresync/events)".padEnd(W)}${kb(events.wasm.raw).padStart(10)}${kb(events.wasm.gzip).padStart(10)}${kb(events.wasm.brotli).padStart(10)}`);
console.log(
  `\nwiresync / stack: ${fixed(ours.raw / stack.raw)}× raw, ${fixed(ours.gzip / stack.gzip)}× gzip, ` +
    `${fixed(ours.brotli / stack.brotli)}× brotli (goal: below 1×)`,
);
console.log(
  `wiresync/events / socket.io-client: ${fixed(events.total.raw / sio.raw)}× raw, ${fixed(events.total.gzip / sio.gzip)}× gzip, ` +
    `${fixed(events.total.brotli / sio.brotli)}× brotli`,
);
