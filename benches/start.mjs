// Start-up, side by side: how long wiresync takes from its first import to an open connection
// (import, init(): fetch + streaming compile + instantiate, connect → "open"), against
// socket.io-client 4.8.4 (its ESM browser build: import, io() → "connect"), against the same local socket.io 4.8.4
// server, in headless Chromium. Each run is a cold page in a fresh browser context (nothing
// cached: the static server says no-store), the clients alternating. Reads pkg/ as built.
//
//   node benches/start.mjs [--rounds 10] [--timeout 30]
//
// Prints medians (and min–max) per phase, and the goal line: init() ≤ 10 ms on this machine.
import path from "node:path";
import {
  BENCH_DIR,
  PKG,
  SIO_DIST,
  cli,
  entryBundle,
  fixed,
  installExitHandlers,
  launchChromium,
  median,
  packageFile,
  requirePkg,
  runPage,
  startSocketIoServer,
  startStaticServer,
} from "./lib.mjs";

const log = (...a) => console.error("[start]", ...a);
const { parseArgs, positiveInt } = cli((code) => {
  console.error("usage: node benches/start.mjs [--rounds R (default 10)] [--timeout S (default 30)]");
  process.exit(code);
});
const raw = { rounds: "10", timeout: "30" };
parseArgs(process.argv.slice(2), raw, { values: { "--rounds": "rounds", "--timeout": "timeout" }, flags: {} });
const rounds = positiveInt("--rounds", raw.rounds);
const timeoutMs = positiveInt("--timeout", raw.timeout) * 1000;
requirePkg();
installExitHandlers(log);

// The default entry as an app's bundler ships it: one minified file (size.mjs measures the same).
const bundle = await entryBundle("default");
const server = await startSocketIoServer(timeoutMs);
const site = await startStaticServer((urlPath) => {
  if (urlPath === "/pkg/wiresync.bundle.js") return { body: bundle, type: "text/javascript; charset=utf-8" };
  if (urlPath === "/" || urlPath === "/start.html") return path.join(BENCH_DIR, "start.html");
  if (urlPath === "/start-page.mjs") return path.join(BENCH_DIR, "start-page.mjs");
  const m = packageFile(urlPath);
  return m && path.join(m.dir === "pkg" ? PKG : SIO_DIST, m.file);
});
const browser = await launchChromium();
log(`socketio-server on ${server.url}, page on ${site.base}, chromium ${browser.version()}`);

const runs = { wiresync: [], sio: [] };
let seq = 0;
for (let r = 0; r < rounds + 1; r++) {
  for (const fn of r % 2 ? ["sio", "wiresync"] : ["wiresync", "sio"]) {
    const id = `s${++seq}`;
    const args = JSON.stringify({ url: server.url, timeoutMs });
    const url = `${site.base}/?run=${id}&fn=${fn}&args=${encodeURIComponent(args)}`;
    const result = await runPage(browser, site, { id, url, timeoutMs: timeoutMs + 10000, context: "incognito", what: `${fn} start` });
    if (r > 0) runs[fn].push(result); // round 0 warms the browser and the server up
    log(`round ${r}${r ? "" : " (warm-up)"} ${fn}: ${Object.entries(result).map(([k, v]) => `${k} ${fixed(v, 1)}`).join(", ")}`);
  }
}

const stat = (list, key) => {
  const v = list.map((x) => x[key]);
  return `${fixed(median(v), 1).padStart(7)} ms  (${fixed(Math.min(...v), 1)}–${fixed(Math.max(...v), 1)})`;
};
console.log(`start-up, ${rounds} cold pages each (fresh context, nothing cached), median (min–max):`);
const rows = [
  ["wiresync: import the JS (one bundled file)", runs.wiresync, "importMs"],
  ["wiresync: init() = fetch + compile + instantiate", runs.wiresync, "initMs"],
  ["wiresync:   the wasm's fetch (resource timing)", runs.wiresync, "fetchMs"],
  ["wiresync:   init() start → the wasm's last byte", runs.wiresync, "untilFetchedMs"],
  ["wiresync:   the wasm's last byte → init() resolved", runs.wiresync, "afterFetchMs"],
  ["wiresync:   compiling the wasm alone (apart)", runs.wiresync, "compileMs"],
  ["wiresync:   instantiate + start alone (apart)", runs.wiresync, "instantiateMs"],
  ["wiresync:   compile + instantiate (the two above)", runs.wiresync, "readyMs"],
  ["wiresync: connect() → open", runs.wiresync, "connectMs"],
  ["wiresync: first import → open", runs.wiresync, "totalMs"],
  ["socket.io-client: import the JS", runs.sio, "importMs"],
  ["socket.io-client: io() → connect", runs.sio, "connectMs"],
  ["socket.io-client: first import → connect", runs.sio, "totalMs"],
];
for (const [label, list, key] of rows) console.log(`  ${label.padEnd(50)}${stat(list, key)}`);
const init = median(runs.wiresync.map((x) => x.initMs));
const ready = median(runs.wiresync.map((x) => x.readyMs));
const ratio = median(runs.wiresync.map((x) => x.totalMs)) / median(runs.sio.map((x) => x.totalMs));
console.log(`\n  goal: init ≤ 10 ms: compile + instantiate ${fixed(ready, 1)} ms (${ready <= 10 ? "met" : "not met"}); ` +
  `init() with the fetch from the local server ${fixed(init, 1)} ms (${init <= 10 ? "met" : "not met"})`);
console.log(`  first import → open, wiresync / socket.io-client: ${fixed(ratio, 2)}×`);
await browser.close();
process.exit(0);
