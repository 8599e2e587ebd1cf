#!/usr/bin/env node
// Long runs (a bench, not a test): does anything grow? In headless Chromium against the real
// socket.io test server, with the built package (pkg/):
//   listeners  N × on/off and subscribe/unsubscribe (default 10,000)
//   reconnect  R × reconnect (alternately the client's reconnect() and a drop by the server,
//              recovered), each with an event received and an outbox message delivered (1,000)
//   cache      N × setQueryData / invalidateQueries / removeQueries on fresh keys (10,000)
// Each phase runs a tenth of its cycles first (warm-up), then measures wasm memory and the
// renderer's heap (after a forced GC, from a heap snapshot: JS and native objects, compiled code
// left out) before and after the full run, and prints the growth. Goal: less than 64 KB after
// warm-up. Bounded: every phase has a count and a time limit.
//
//   node benches/long-run.mjs [--cycles 10000] [--reconnects 1000] [--timeout 600]
//
// Needs ./scripts/build.sh (pkg/) and the test dependencies (tests/node_modules).
import { join } from "node:path";
import { parseArgs } from "node:util";
import { control, launch, root, serveStatic, testServer, withWaitFor } from "../tests/js/harness.mjs";

const { values: args } = parseArgs({
  options: {
    cycles: { type: "string", default: "10000" },
    reconnects: { type: "string", default: "1000" },
    timeout: { type: "string", default: "600" },
  },
});
const CYCLES = Number(args.cycles);
const RECONNECTS = Number(args.reconnects);
const GOAL = 64 * 1024;
const log = (...a) => console.error("[long-run]", ...a);

const sio = await testServer("sio");
const site = await serveStatic(join(root, "pkg"));
const browser = await launch();
const deadline = setTimeout(() => {
  log(`over the time limit (${args.timeout} s)`);
  process.exit(1);
}, Number(args.timeout) * 1000);

try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => log("page error:", e));
  await withWaitFor(page, 20_000);
  await page.goto(site.url + "/");
  const cdp = await page.context().newCDPSession(page);
  await page.evaluate(async (url) => {
    const mod = await import("/index.js");
    await mod.default();
    // The wasm's memory: the one WebAssembly.Memory among the module's exports.
    const exports = await (await import("/wiresync.js")).default();
    window.wasmMemory = Object.values(exports).find((v) => v instanceof WebAssembly.Memory);
    const client = mod.connect({
      url,
      auth: { token: "good" },
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      outbox: { name: "long-run-" + Math.random(), retry: { initialDelayMs: 10, maxDelayMs: 50 } },
    });
    window.client = client;
    await waitFor(() => client.state.status === "open");
    const drained = () => {
      const s = client.outbox.status();
      return s.pending + s.inFlight === 0;
    };
    let events = 0;
    let opens = 0;
    client.on("order:status_update", () => events++);
    client.onState((st) => st.status === "open" && opens++);
    const errors = [];
    client.onError((e) => errors.push(e.code + ": " + e.message));
    window.phases = {
      async listeners(n) {
        for (let i = 0; i < n; i++) {
          const off = client.on("long:run", () => {});
          const offAny = client.onAny(() => {});
          const offState = client.onState(() => {});
          off();
          offAny();
          offState();
          const room = client.subscribe("order", { orderId: "lr" + (i % 50) }, { ack: false });
          room.unsubscribe();
          if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0)); // let frames go out
        }
      },
      async reconnect(n, serverUrl) {
        const status = encodeURIComponent(JSON.stringify({ orderId: "lr", status: "s", message: "m", timestamp: "t" }));
        for (let i = 0; i < n; i++) {
          const opened = opens;
          // Alternately the client's reconnect() (a new session) and a drop by the server (the
          // session recovered).
          if (i % 2) client.reconnect();
          else await fetch(`${serverUrl}/control/drop`).then((r) => r.text());
          await waitFor(() => opens > opened);
          const seen = events;
          // The answer is read: a fetch whose body is left unread keeps its loader alive.
          await fetch(`${serverUrl}/control/emit?event=order:status_update&data=${status}`).then((r) => r.text());
          await client.outbox.enqueue("note:add", { n: i });
          await waitFor(() => events > seen && drained()).catch(() => {
            throw new Error(`reconnect cycle ${i}: events ${events} (before ${seen}), outbox ${JSON.stringify(client.outbox.status())}, state ${JSON.stringify(client.state)}, errors ${errors.slice(-5).join(" | ")}`);
          });
        }
      },
      async cache(n) {
        const c = client.cache;
        for (let i = 0; i < n; i++) {
          const key = ["long", "run", i];
          c.setQueryData(key, { i, text: "x".repeat(64) });
          await c.invalidateQueries({ queryKey: key });
          c.removeQueries({ queryKey: key, exact: true });
        }
      },
    };
  }, sio.url);

  // The renderer's heap after a GC, from a heap snapshot: every object, JS and native (a
  // WebSocket, a fetch), but not what measuring or the engine adds and is no leak: compiled
  // code (JS and wasm, tiered up as loops get hot), DevTools' own record of each request (the
  // bench's fetches to the control server), and the resource timing buffer (capped).
  const notApp = /^(blink::NetworkResourcesData|PerformanceResourceTiming|system \/ CppGCManaged \(WasmNativeModule\))/;
  const heapObjects = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const chunks = [];
    const onChunk = (e) => chunks.push(e.chunk);
    cdp.on("HeapProfiler.addHeapSnapshotChunk", onChunk);
    await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    cdp.off("HeapProfiler.addHeapSnapshotChunk", onChunk);
    const snap = JSON.parse(chunks.join(""));
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [type, name, size, width] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)).concat(fields.length);
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      if (types[snap.nodes[i + type]] === "code" || notApp.test(snap.strings[snap.nodes[i + name]])) continue;
      total += snap.nodes[i + size];
    }
    return total;
  };
  const measure = async () => ({
    heap: await heapObjects(),
    wasm: await page.evaluate(() => wasmMemory.buffer.byteLength),
  });
  const rows = [];
  for (const [phase, n, extra] of [
    ["listeners", CYCLES],
    ["reconnect", RECONNECTS, sio.url],
    ["cache", CYCLES],
  ]) {
    await control(sio.url, "outbox/reset");
    log(`${phase}: warm-up ${Math.ceil(n / 10)}`);
    await page.evaluate(([p, k, e]) => phases[p](k, e), [phase, Math.ceil(n / 10), extra]);
    const before = await measure();
    const t0 = Date.now();
    log(`${phase}: ${n} cycles`);
    await page.evaluate(([p, k, e]) => phases[p](k, e), [phase, n, extra]);
    const ms = Date.now() - t0;
    const after = await measure();
    rows.push({ phase, n, ms, wasm: after.wasm - before.wasm, heap: after.heap - before.heap, wasmTotal: after.wasm });
  }
  await page.evaluate(() => client.close());

  const kb = (b) => (b / 1024).toFixed(1).padStart(8);
  console.log("phase        cycles    time s   wasm growth KB   heap growth KB   wasm total KB   goal < 64 KB");
  for (const r of rows) {
    const met = r.wasm < GOAL && r.heap < GOAL ? "met" : "NOT met";
    console.log(
      `${r.phase.padEnd(12)} ${String(r.n).padStart(6)} ${(r.ms / 1000).toFixed(1).padStart(9)} ${kb(r.wasm).padStart(16)} ${kb(r.heap).padStart(16)} ${kb(r.wasmTotal).padStart(15)}   ${met}`,
    );
  }
} finally {
  clearTimeout(deadline);
  await browser.close();
  site.close();
  sio.close();
}
