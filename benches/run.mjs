#!/usr/bin/env node
// wiresync benchmark: throughput in headless Chromium against the real socket.io 4.8.4 test
// server, and shipped size, both side by side with socket.io-client 4.8.4. See README.md.
//
//   node benches/run.mjs [--n 100000] [--rounds 3] [--timeout 120] [--no-warmup] [--no-ceiling]
//   node benches/run.mjs --profile [--n 100000]     (one instrumented + CPU-profiled run per client)
//   node benches/run.mjs --playwright-page          (comparison: runs in instrumented Playwright pages)
//
// Environment: BENCH_N, BENCH_ROUNDS, BENCH_TIMEOUT (seconds), CHROMIUM (default
// /usr/bin/chromium), BENCH_CHROMIUM_ARGS (extra Chromium flags, space-separated, for
// experiments only). Flags win over the environment.
//
// Progress goes to stderr, the result table to stdout. Exit code 0 on success, 1 on failure.

import fs from "node:fs";
import path from "node:path";
import {
  compressed,
  cpuDelta,
  cpuSnapshot,
  esbuildBundle,
  sum,
  cli,
  BENCH_DIR,
  PKG,
  SIO_DIST,
  TESTS,
  WIRESYNC_FILES,
  packageFile,
  shippedSize,
  requirePkg,
  cleanup,
  fixed,
  installExitHandlers,
  int,
  launchChromium,
  median,
  requireTests,
  startSocketIoServer,
  startStaticServer,
  withTimeout,
  createGate,
} from "./lib.mjs";

// Node packages come from tests/node_modules (playwright-core, socket.io-client; esbuild through lib.mjs).
const SIO_VERSION = requireTests("socket.io-client/package.json").version;
const SIO_SERVER_VERSION = requireTests("socket.io/package.json").version;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function usage(exitCode) {
  const text = `usage: node benches/run.mjs [options]

  --n N           events per run (default 100000; env BENCH_N)
  --rounds R      runs per client, alternating wiresync / socket.io-client (default 3; env BENCH_ROUNDS)
  --timeout S     bound on every single wait, seconds (default 120; env BENCH_TIMEOUT)
  --no-warmup     skip the short unrecorded warm-up run of each client
  --no-ceiling    skip the bare-WebSocket reference runs
  --profile       instead of the rounds: one run per client with onmessage busy-time accounting
                  and a V8 CPU profile of the page (CDP), printed as a breakdown (sizes skipped)
  --busy          like --profile, without the sampler: only the onmessage busy time per message
  --playwright-page  run in ordinary Playwright pages (page.evaluate) instead: for comparison only,
                  Playwright reports every WebSocket frame over CDP and that dominates the cost
  --help`;
  (exitCode ? console.error : console.log)(text);
  process.exit(exitCode);
}

const { parseArgs, positiveInt } = cli(usage);

function parseOptions(argv) {
  const env = process.env;
  const opts = {
    n: env.BENCH_N ?? "100000",
    rounds: env.BENCH_ROUNDS ?? "3",
    timeout: env.BENCH_TIMEOUT ?? "120",
    warmup: true,
    ceiling: true,
    profile: false,
    busy: false,
    playwrightPage: false,
  };
  parseArgs(argv, opts, {
    values: { "--n": "n", "--rounds": "rounds", "--timeout": "timeout" },
    flags: { "--no-warmup": ["warmup", false], "--no-ceiling": ["ceiling", false], "--profile": ["profile", true], "--busy": ["busy", true], "--playwright-page": ["playwrightPage", true] },
  });
  return {
    n: positiveInt("--n / BENCH_N", opts.n),
    rounds: positiveInt("--rounds / BENCH_ROUNDS", opts.rounds),
    timeoutMs: positiveInt("--timeout / BENCH_TIMEOUT", opts.timeout) * 1000,
    warmup: opts.warmup,
    ceiling: opts.ceiling,
    profile: opts.profile || opts.busy,
    sampler: !opts.busy,
    playwrightPage: opts.playwrightPage,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const log = (...a) => console.error("[bench]", ...a);

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

// Cleanup (lib.mjs): everything started here is registered and undone on exit, error or signal;
// output piped into `head` and the like stops quietly (the exit hook still kills the server).
installExitHandlers(log);

// ---------------------------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------------------------

async function measureSizes() {
  const files = WIRESYNC_FILES.map((f) => {
    const buf = fs.readFileSync(path.join(PKG, f));
    return { file: f, ...compressed(buf) };
  });
  const wiresync = sum(files);

  // socket.io-client's { io }, bundled the way an app bundler would.
  const sioBundle = await esbuildBundle('export { io } from "socket.io-client";', TESTS);
  const sio = compressed(sioBundle);

  // For information: the JS half of wiresync after the same esbuild pass (an app's bundler
  // would minify it too); the .wasm is shipped as is.
  const wiresyncMin = (await shippedSize("default")).total;

  return { files, wiresync, sio, wiresyncMin };
}

// ---------------------------------------------------------------------------------------------
// Static server (lib.mjs) for the page, pkg/ and socket.io-client's browser build
// ---------------------------------------------------------------------------------------------

/** Maps a URL path to a file, or null: files inside the known directories only. */
function resolveStatic(urlPath) {
  if (urlPath === "/" || urlPath === "/index.html") return path.join(BENCH_DIR, "index.html");
  if (urlPath === "/page.mjs") return path.join(BENCH_DIR, "page.mjs");
  const m = packageFile(urlPath);
  return m && path.join(m.dir === "pkg" ? PKG : SIO_DIST, m.file);
}

/** The gate (lib.mjs): the page waits there until runOnce releases it (after the CPU times are
 *  read and, with --profile, the profiler runs). */
const gate = createGate();

/** Page results are at most 1 MB (the CPU profile goes over CDP, not through here). */
const startSite = () => startStaticServer(resolveStatic, { resultLimit: 1 << 20, route: gate.route });

function cpuText(cpu) {
  if (!cpu) return "n/a";
  const order = ["renderer", "network", "browser", "server", "gpu", "chromium-other"];
  return order.filter((k) => cpu[k] !== undefined).map((k) => `${k} ${int(cpu[k])} ms`).join(", ");
}

// ---------------------------------------------------------------------------------------------
// Browser runs
// ---------------------------------------------------------------------------------------------

let runSeq = 0;

/**
 * A CDP session on a page target that Playwright does not drive, in the legacy non-flat mode
 * (Target.sendMessageToTarget), so that only the domains we enable (Profiler) are active.
 */
async function attachRaw(cdp, targetId) {
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: false });
  let nextId = 1;
  const waiting = new Map();
  const onMessage = (e) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message);
    const w = msg.id !== undefined && waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(`${w.method}: ${msg.error.message}`));
    else w.resolve(msg.result);
  };
  cdp.on("Target.receivedMessageFromTarget", onMessage);
  return {
    send(method, params = {}) {
      const id = nextId++;
      const p = new Promise((resolve, reject) => waiting.set(id, { resolve, reject, method }));
      cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) });
      return withTimeout(p, 60000, `CDP ${method}`);
    },
    async detach() {
      cdp.off("Target.receivedMessageFromTarget", onMessage);
      await cdp.send("Target.detachFromTarget", { sessionId }).catch(() => {});
    },
  };
}

/**
 * One run in a fresh browser context (cold page, fresh connection).
 *
 * The page is created through the DevTools protocol in a browser context Playwright does not
 * know, so Playwright detaches from it and does not instrument it: a Playwright page has the
 * Network domain on and every WebSocket frame becomes a CDP event sent to Playwright, which
 * caps all clients at the same low rate (see README.md). The page reads its job from the URL
 * and POSTs the result back to the static server. Once connected it waits at /go/<id> (the
 * gate) while the CPU times are read and, with `profile`, a V8 CPU profile is started.
 */
async function runOnce(browser, site, fn, args, timeoutMs, profile = false, serverPid = null, sampler = true) {
  const id = `r${++runSeq}`;
  const cdp = await browser.newBrowserCDPSession();
  let browserContextId = null;
  let raw = null;
  const { arrived, release: released, close } = gate.wait(id);
  try {
    const result = site.expect(id);
    ({ browserContextId } = await cdp.send("Target.createBrowserContext"));
    const query = new URLSearchParams({ run: id, fn, args: JSON.stringify({ ...args, profile }) });
    const { targetId } = await cdp.send("Target.createTarget", { url: `${site.base}/?${query}`, browserContextId });
    // The page is loaded and connected, and waits at the gate: t0 is taken after this.
    const first = await withTimeout(Promise.race([arrived, result]), timeoutMs + 30000, `${fn}: page to connect`);
    if (first?.error) throw new Error(`${fn} run failed in the page: ${first.error}`);
    if (profile && sampler) {
      raw = await attachRaw(cdp, targetId);
      await raw.send("Profiler.enable");
      await raw.send("Profiler.setSamplingInterval", { interval: 200 }); // µs
      await raw.send("Profiler.start");
    }
    const cpuBefore = cpuSnapshot(serverPid);
    released();
    // The page bounds each of its own waits by timeoutMs; this is the backstop.
    const reply = await withTimeout(result, timeoutMs * 2 + 30000, `result of ${fn} run`);
    const cpuAfter = cpuSnapshot(serverPid);
    if (reply.error) throw new Error(`${fn} run failed in the page: ${reply.error}`);
    const r = reply.result;
    // CPU from the gate to the result (the events, plus the result POST): ms per process kind.
    r.cpuMs = cpuDelta(cpuBefore, cpuAfter);
    if (raw) r.profile = (await raw.send("Profiler.stop")).profile;
    return r;
  } finally {
    site.forget(id);
    close();
    if (raw) await raw.detach();
    if (browserContextId) {
      await withTimeout(cdp.send("Target.disposeBrowserContext", { browserContextId }), 10000, "dispose context").catch(
        (e) => log(`dispose context: ${e.message}`),
      );
    }
    await cdp.detach().catch(() => {});
  }
}

/**
 * The same run on an ordinary Playwright page (page.evaluate), for comparison only
 * (--playwright-page): shows what Playwright's per-frame WebSocket instrumentation costs.
 */
async function runOnPlaywrightPage(browser, base, fn, args, timeoutMs) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/`, { timeout: Math.min(timeoutMs, 30000) });
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: Math.min(timeoutMs, 30000) });
    return await withTimeout(
      page.evaluate(([f, a]) => window.bench[f](a), [fn, args]),
      timeoutMs * 3 + 30000,
      `page run ${fn}`,
    );
  } finally {
    await withTimeout(context.close(), 10000, "context close").catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Profile summary (--profile)
// ---------------------------------------------------------------------------------------------

/** Which part of the page a profile node belongs to. */
function bucketOf(frame) {
  const { url, functionName } = frame;
  if (url.startsWith("wasm://") || url.includes("/pkg/wiresync_bg.wasm")) return "wiresync wasm";
  if (url.includes("/pkg/wiresync.js")) return "wiresync glue (wiresync.js)";
  if (url.includes("/pkg/snippets/")) return "wiresync glue (src/platform/glue.js)";
  if (url.includes("/pkg/index.js")) return "wiresync entry (index.js)";
  if (url.includes("/sio/")) return "socket.io-client";
  if (url.includes("/page.mjs")) return "bench page (handler, onmessage wrapper)";
  if (functionName === "(idle)") return "(idle: waiting for frames)";
  if (functionName === "(garbage collector)") return "(garbage collector)";
  if (functionName === "(program)") return "(program: browser/native, outside JS)";
  if (functionName === "(root)") return "(root)";
  return `builtin ${functionName || "(anonymous)"}`;
}

/** Self time per bucket and per function of a V8 CPU profile, in ms. */
function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i + 1] is the time from sample i to the next one: that sample's duration.
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const buckets = new Map();
  const functions = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id).callFrame;
    const bucket = bucketOf(frame);
    totalUs += us;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    const fname = `${frame.functionName || "(anonymous)"}  [${bucket}]`;
    functions.set(fname, (functions.get(fname) ?? 0) + us);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, us / 1000]);
  return { totalMs: totalUs / 1000, buckets: sorted(buckets), functions: sorted(functions) };
}

async function profileRuns({ opts, browser, base, url, list, run }) {
  console.log(
    `profile, ${opts.n.toLocaleString("en-US")} × order:status_update, one run per client with onmessage timing + ` +
      (opts.sampler ? `V8 sampling profiler (throughput below is perturbed by the profiler)` : "no sampler (--busy)"),
  );
  for (const c of list) {
    const r = await run(c, opts.n, true);
    console.log();
    console.log(
      `${c.label}: ${int(r.evPerSec)} ev/s, ${fixed(r.ms, 0)} ms wall; onmessage busy ${fixed(r.busyMs, 0)} ms ` +
        `(${fixed((100 * r.busyMs) / r.ms, 0)}% of wall, ${fixed((1000 * r.busyMs) / Math.max(1, r.busyMessages), 1)} µs/message, ` +
        `${int(r.busyMessages)} messages); last-event lag ${r.lagMs} ms`,
    );
    console.log(`  CPU while the events flowed${opts.sampler ? " (profiler included)" : ""}: ${cpuText(r.cpuMs)}`);
    if (!r.profile) continue;
    const p = summarizeProfile(r.profile);
    console.log(`  profiled ${fixed(p.totalMs, 0)} ms of the page's main thread (the events only), self time by part:`);
    for (const [k, ms] of p.buckets.slice(0, 10)) {
      console.log(`    ${fixed(ms, 0).padStart(7)} ms ${fixed((100 * ms) / p.totalMs, 1).padStart(5)}%  ${k}`);
    }
    console.log(`  top functions (self time):`);
    for (const [k, ms] of p.functions.filter(([k]) => !k.startsWith("(idle)")).slice(0, Number(process.env.BENCH_TOP_FUNCTIONS ?? 12))) {
      console.log(`    ${fixed(ms, 0).padStart(7)} ms ${fixed((100 * ms) / p.totalMs, 1).padStart(5)}%  ${k}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** The clients measured, in the order they run within a round. */
function clients(ceiling) {
  const list = [
    { key: "ws", label: "wiresync (validate on)", fn: "wiresync", args: { validate: true } },
    { key: "sio", label: `socket.io-client ${SIO_VERSION}`, fn: "sio", args: {} },
    { key: "wsoff", label: "wiresync (validate off)", fn: "wiresync", args: { validate: false } },
  ];
  if (ceiling) list.push({ key: "raw", label: "bare WebSocket (ceiling)", fn: "rawws", args: {} });
  return list;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  requirePkg();
  const started = Date.now();

  let sizes = null;
  if (!opts.profile) {
    log("measuring sizes");
    sizes = await measureSizes();
  }

  log("starting socketio-server");
  const server = await startSocketIoServer(opts.timeoutMs);
  const { url } = server;
  const site = await startSite();
  const { base } = site;
  log(`socketio-server on ${url}, page on ${base}`);

  const extraArgs = (process.env.BENCH_CHROMIUM_ARGS ?? "").split(/\s+/).filter(Boolean);
  if (extraArgs.length) log(`extra Chromium flags: ${extraArgs.join(" ")}`);
  const browser = await launchChromium(extraArgs);
  const browserVersion = browser.version();
  log(`chromium ${browserVersion}`);

  const list = clients(opts.ceiling);
  const run = async (c, n, profile = false) => {
    if (server.exited()) throw new Error(`socketio-server died:\n${server.stderr()}`);
    const args = { url, n, timeoutMs: opts.timeoutMs, ...c.args };
    const r = opts.playwrightPage
      ? await runOnPlaywrightPage(browser, base, c.fn, args, opts.timeoutMs)
      : await runOnce(browser, site, c.fn, args, opts.timeoutMs, profile, server.child.pid, opts.sampler);
    if (r.outOfOrder) throw new Error(`${c.label}: ${r.outOfOrder} events out of order or with a wrong seq`);
    if (r.errors.length) throw new Error(`${c.label}: errors during the run: ${r.errors.slice(0, 5).join("; ")}`);
    return r;
  };

  if (opts.warmup) {
    const n = Math.min(opts.n, 5000);
    for (const c of list) {
      const r = await run(c, n);
      log(`warm-up ${c.label.padEnd(26)} ${n} events ${int(r.evPerSec)} ev/s (not counted)`);
    }
  }

  if (opts.profile) {
    await profileRuns({ opts, browser, base, url, list, run });
    await cleanup(log);
    return;
  }

  const results = Object.fromEntries(list.map((c) => [c.key, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    // Each round starts with the next client: whatever runs first in a round (after the last
    // page of the round before) is not always the same one.
    const order = list.map((_, i) => list[(i + round - 1) % list.length]);
    for (const c of order) {
      const r = await run(c, opts.n);
      results[c.key].push(r);
      log(
        `round ${round}/${opts.rounds} ${c.label.padEnd(26)} ${int(r.evPerSec).padStart(9)} ev/s ` +
          `(${fixed(r.ms, 0)} ms, ack ${fixed(r.ackMs, 1)} ms, first event ${fixed(r.firstMs ?? 0, 1)} ms, ` +
          `last-event lag ${r.lagMs} ms; CPU ${cpuText(r.cpuMs)})`,
      );
    }
  }

  await cleanup(log);
  printReport({ opts, sizes, results, list, browserVersion, seconds: (Date.now() - started) / 1000 });
}

function printReport({ opts, sizes, results, list, browserVersion, seconds }) {
  const med = (key, f = (r) => r.evPerSec) => median(results[key].map(f));
  const rendererUs = (r) => (r.cpuMs?.renderer !== undefined ? (r.cpuMs.renderer * 1000) / r.n : NaN);
  const W = 26;
  const line = (label, value) => console.log(`  ${label.padEnd(W)}: ${value}`);
  const byKey = Object.fromEntries(list.map((c) => [c.key, c]));
  const throughputLine = (c, label = c.label) => {
    const rs = results[c.key];
    const cpu = med(c.key, rendererUs);
    line(
      label,
      `${int(med(c.key)).padStart(7)} ev/s   renderer CPU ${Number.isNaN(cpu) ? "n/a" : `${fixed(cpu, 1)} µs/ev`.padStart(10)}   ` +
        `(median of ${rs.length}: ${rs.map((r) => int(r.evPerSec)).join(", ")})`,
    );
  };

  console.log(
    `throughput, ${opts.n.toLocaleString("en-US")} × order:status_update (~200 B), headless Chromium ${browserVersion}, ` +
      `same socket.io ${SIO_SERVER_VERSION} server`,
  );
  throughputLine(byKey.ws, "wiresync (validate on)");
  throughputLine(byKey.wsoff, "wiresync (validate off)");
  throughputLine(byKey.sio, `socket.io-client ${SIO_VERSION}`);
  line("ratio wiresync/sio", `${fixed(med("ws") / med("sio"))}   (validate off: ${fixed(med("wsoff") / med("sio"))})`);
  // Renderer CPU compared within each round (the clients of a round run back to back), so that
  // the machine's drift between rounds cancels out: the median of those per-round ratios.
  const cpuRatio = (key) =>
    median(results[key].map((r, i) => rendererUs(r) / rendererUs(results.sio[i])).filter((x) => !Number.isNaN(x)));
  line("CPU/event wiresync/sio", `${fixed(cpuRatio("ws"))}×   (validate off: ${fixed(cpuRatio("wsoff"))}×; median of the per-round ratios)`);
  if (byKey.raw) throughputLine(byKey.raw, "bare WebSocket (ceiling)");
  console.log(
    [
      `  wiresync runs with its default settings (validate on = catalog payload validation, the default); the`,
      `  validate-off line shows what validation costs. socket.io-client: transports ["websocket"].`,
      `  Rounds alternate ${list.map((c) => c.key).join(" → ")}; each run is a fresh page and connection; time from`,
      `  just before emitWithAck("bench:start") to the n-th event handled. renderer CPU = page process CPU`,
      `  (all its threads) while the events flowed, per event.${byKey.raw ? " ceiling = a bare WebSocket that only" : ""}`,
      ...(byKey.raw ? ["  JSON.parse-s each frame: the cost of Chromium's WebSocket path alone, not a competitor."] : []),
      `  Median last-event lag behind the server's clock: ${list.map((c) => `${c.key} ${int(med(c.key, (r) => r.lagMs))} ms`).join(", ")}`,
      `  (large lag = the server outran the browser; events queued in front of the page).`,
    ].join("\n"),
  );

  console.log();
  const cols = (s) => `${String(s.raw).padStart(8)} ${String(s.gzip).padStart(8)} ${String(s.brotli).padStart(8)}`;
  console.log(`${"size (what an app ships), bytes".padEnd(W + 4)}${"raw".padStart(8)} ${"gzip -9".padStart(8)} ${"brotli".padStart(8)}`);
  line("wiresync wasm+glue+entry", `${cols(sizes.wiresync)}   (${kb(sizes.wiresync.raw)} / ${kb(sizes.wiresync.gzip)} gzip)`);
  for (const f of sizes.files) line(`  ${f.file}`, cols(f));
  line(`socket.io-client {io}`, `${cols(sizes.sio)}   (${kb(sizes.sio.raw)} / ${kb(sizes.sio.gzip)} gzip)`);
  line(
    "ratio wiresync/sio",
    `${fixed(sizes.wiresync.raw / sizes.sio.raw).padStart(8)} ${fixed(sizes.wiresync.gzip / sizes.sio.gzip).padStart(8)} ` +
      `${fixed(sizes.wiresync.brotli / sizes.sio.brotli).padStart(8)}`,
  );
  line("(info) JS minified too", `${cols(sizes.wiresyncMin)}   (wiresync: the wasm + index.js/wiresync.js through esbuild --minify)`);
  console.log(
    [
      `  wiresync: pkg/wiresync_bg.wasm + pkg/wiresync.js + pkg/index.js as built, each compressed on its own`,
      `  (they are served as separate files) and summed. socket.io-client ${SIO_VERSION}: \`export { io } from "socket.io-client"\``,
      `  bundled by esbuild --bundle --minify --format=esm --platform=browser. gzip level 9, brotli quality 11 (node zlib).`,
    ].join("\n"),
  );
  console.log();
  console.log(`total bench time ${fixed(seconds, 1)} s`);
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(`[bench] FAILED: ${e?.stack ?? e}`);
    await cleanup(log);
    process.exit(1);
  },
);
