// Main-thread cost per event, side by side, without the network: in one headless Chromium page,
// each client connects to the local socket.io 4.8.4 server (so it is open, in its real state),
// then the same n `order:status_update` frames (~220 B, with the recovery offset) are handed
// straight to the `onmessage` handler of its WebSocket, in a loop, and the time until its
// handler has seen all n is divided by n. socket.io-client hands decoded packets on in a
// microtask, so the clock runs until its handler has seen the n-th (also for wiresync).
//
// This is the part of the per-event cost a client controls: Chromium's own WebSocket path
// (network service, IPC, MessageEvent.data), which benches/run.mjs's renderer CPU includes and
// which dominates it on 2 cores, is left out. "bare" is JSON.parse of each frame's payload.
//
//   node benches/event-cost.mjs [--n 50000] [--rounds 7] [--compare DIR]
//
// --compare DIR: also measures the package built in DIR (another checkout's pkg/) in the same
// page, alternating with the others, for a before/after taken in one run.
import path from "node:path";
import fs from "node:fs";
import {
  PKG,
  SIO_DIST,
  cli,
  fixed,
  installExitHandlers,
  launchChromium,
  median,
  packageFile,
  requirePkg,
  startSocketIoServer,
  startStaticServer,
} from "./lib.mjs";

const log = (...a) => console.error("[event-cost]", ...a);
const { parseArgs, positiveInt } = cli((code) => {
  console.error("usage: node benches/event-cost.mjs [--n N (default 50000)] [--rounds R (default 7)] [--compare DIR]");
  process.exit(code);
});
const raw = { n: "50000", rounds: "7", compare: "" };
parseArgs(process.argv.slice(2), raw, { values: { "--n": "n", "--rounds": "rounds", "--compare": "compare" }, flags: {} });
const compare = raw.compare && path.resolve(raw.compare);
if (compare && !fs.existsSync(path.join(compare, "index.js"))) throw new Error(`--compare ${compare}: no index.js there`);
const n = positiveInt("--n", raw.n);
const rounds = positiveInt("--rounds", raw.rounds);
requirePkg();
installExitHandlers(log);

// Every WebSocket the page makes is kept, so the bench can reach each client's socket.
const PAGE = `<!doctype html><meta charset="utf-8"><title>wiresync event cost</title><script>
const made = [];
window.WebSocket = class extends WebSocket { constructor(...a) { super(...a); made.push(this); } };
window.made = made;
</script>`;
const server = await startSocketIoServer(30000);
const site = await startStaticServer((urlPath) => {
  if (urlPath === "/") return { body: Buffer.from(PAGE), type: "text/html; charset=utf-8" };
  if (compare && urlPath.startsWith("/compare/")) {
    const m = packageFile(`/pkg/${urlPath.slice("/compare/".length)}`);
    return m && path.join(compare, m.file);
  }
  const m = packageFile(urlPath);
  return m && path.join(m.dir === "pkg" ? PKG : SIO_DIST, m.file);
});
const browser = await launchChromium();
const page = await browser.newPage();
await page.goto(site.base + "/");
log(`chromium ${browser.version()}, ${n} frames × ${rounds} rounds per client`);

const result = await page.evaluate(
  async ({ url, n, rounds, compare }) => {
    const frames = Array.from(
      { length: n },
      (_, i) =>
        `42["order:status_update",{"orderId":"ord_${i}","status":"out_for_delivery","message":"Your order is on its way to you now",` +
        `"timestamp":"2026-11-23T10:00:00.000Z","estimatedDelivery":"2026-11-23T10:30:00.000Z","seq":${i}},"off-${i}"]`,
    );
    const clients = [];
    const opened = (client) =>
      new Promise((resolve) => {
        const off = client.onState((s) => s.status === "open" && (off(), resolve()));
      });
    for (const [dir, name] of compare ? [["/pkg", "wiresync"], ["/compare", "compared"]] : [["/pkg", "wiresync"]]) {
      const mod = await import(`${dir}/index.js`);
      await mod.default();
      for (const validate of [true, false]) {
        const before = made.length;
        const client = mod.connect({ url, auth: { token: "good" }, validate, outbox: false });
        await opened(client);
        const seen = { count: 0 };
        client.on("order:status_update", (p) => (seen.count += p.seq >= 0 ? 1 : 0));
        client.onError((e) => (seen.error ??= `${e.code}: ${e.message}`));
        clients.push({ label: `${name} (validate ${validate ? "on" : "off"})`, ws: made[before], seen });
      }
    }
    const { io } = await import("/sio/socket.io.esm.min.js");
    const before = made.length;
    const socket = io(url, { transports: ["websocket"], auth: { token: "good" } });
    await new Promise((resolve) => socket.once("connect", resolve));
    const sioSeen = { count: 0 };
    socket.on("order:status_update", (p) => (sioSeen.count += p.seq >= 0 ? 1 : 0));
    clients.push({ label: "socket.io-client 4.8.4", ws: made[before], seen: sioSeen });
    const bareSeen = { count: 0 };
    const bare = { onmessage: (e) => (bareSeen.count += JSON.parse(e.data.slice(2))[1].seq >= 0 ? 1 : 0) };
    clients.push({ label: "bare JSON.parse", ws: bare, seen: bareSeen });

    const times = Object.fromEntries(clients.map((c) => [c.label, []]));
    for (let r = 0; r < rounds + 1; r++) {
      for (const c of r % 2 ? [...clients].reverse() : clients) {
        const events = frames.map((data) => new MessageEvent("message", { data }));
        const c0 = c.seen.count;
        const t = performance.now();
        for (const e of events) c.ws.onmessage(e);
        while (c.seen.count - c0 < n && performance.now() - t < 30000) await new Promise((resolve) => setTimeout(resolve, 0));
        const us = ((performance.now() - t) * 1000) / n;
        if (c.seen.count - c0 !== n) throw new Error(`${c.label}: ${c.seen.count - c0} of ${n} events (${c.seen.error ?? "no error"})`);
        if (r > 0) times[c.label].push(us); // round 0 warms the JIT and the wasm tiers up
      }
    }
    socket.disconnect();
    return times;
  },
  { url: server.url, n, rounds, compare: !!compare },
);
await browser.close();

const sio = median(result["socket.io-client 4.8.4"]);
console.log(`main-thread µs per event, ${n} frames into each client's onmessage, median of ${rounds} (min–max):`);
for (const [label, list] of Object.entries(result)) {
  const m = median(list);
  const ratio = /^(wiresync|compared)/.test(label) ? `   ${fixed(m / sio, 2)}× socket.io-client` : "";
  console.log(`  ${label.padEnd(30)}${fixed(m, 2).padStart(7)} µs  (${fixed(Math.min(...list), 2)}–${fixed(Math.max(...list), 2)})${ratio}`);
}
if (compare) console.log(`  compared = the package in ${compare}`);
console.log(`  goal: wiresync (validate on) ≤ 1.0× socket.io-client`);
process.exit(0);
