#!/usr/bin/env node
// HTTP long-polling throughput, side by side: wiresync and socket.io-client 4.8.4, both with
// `transports: ["polling"]`, in headless Chromium against the same real socket.io 4.8.4 test
// server; the same two over WebSocket as a reference row. See README.md, "HTTP long-polling".
//
//   node benches/polling.mjs [--n 20000] [--rounds 5] [--pkg DIR] [--no-websocket] [--no-warmup]
//
// Per run: a fresh page (a browser context Playwright does not instrument, as run.mjs), connect
// with the transport under test, check that the session really is on it, wait at the gate while
// the CPU times are read, then `bench:start {n}`: the server acks and emits n
// `order:status_update` events (~200 B) to that socket as fast as it can (batches of 500). The
// clock stops when the handler has seen the n-th. CPU from /proc: the page's renderer process,
// Chromium's network service and browser process, and the server, each per event.
// Rounds alternate the order of the four runs; the ratios wiresync/socket.io-client of CPU are
// the medians of the per-round ratios.
//
// Environment: WIRESYNC_PKG (the package to measure; default pkg/), BENCH_TIMEOUT (seconds),
// CHROMIUM. Flags win. Progress to stderr, the table to stdout; exit 0 on success, 1 on failure.

import path from "node:path";
import {
  SIO_DIST,
  cleanup,
  cli,
  cpuDelta,
  cpuSnapshot,
  fixed,
  installExitHandlers,
  int,
  launchChromium,
  median,
  packageDir,
  packageFile,
  requireTests,
  startSocketIoServer,
  startStaticServer,
  withTimeout,
  createGate,
  boundRun,
} from "./lib.mjs";

const SIO_VERSION = requireTests("socket.io-client/package.json").version;
const SIO_SERVER_VERSION = requireTests("socket.io/package.json").version;
const log = (...a) => console.error("[polling]", ...a);

function usage(code) {
  (code ? console.error : console.log)(`usage: node benches/polling.mjs [options]

  --n N            events per run (default 20000, at most 200000)
  --rounds R       measured runs per client and transport (default 5)
  --pkg DIR        the wiresync package to measure (default $WIRESYNC_PKG, else pkg/)
  --timeout S      bound on every single wait, seconds (default 60; env BENCH_TIMEOUT)
  --max-seconds S  bound on the whole run, seconds (default 600)
  --no-websocket   skip the WebSocket reference rows
  --no-warmup      skip the unrecorded 2,000-event warm-up run of each client
  --help`);
  process.exit(code);
}

const { parseArgs, positiveInt } = cli(usage);
const raw = { n: "20000", rounds: "5", pkg: "", timeout: process.env.BENCH_TIMEOUT ?? "60", maxSeconds: "600", websocket: true, warmup: true };
parseArgs(process.argv.slice(2), raw, {
  values: { "--n": "n", "--rounds": "rounds", "--pkg": "pkg", "--timeout": "timeout", "--max-seconds": "maxSeconds" },
  flags: { "--no-websocket": ["websocket", false], "--no-warmup": ["warmup", false] },
});
const n = positiveInt("--n", raw.n);
if (n > 200000) usage(1);
const rounds = positiveInt("--rounds", raw.rounds);
const timeoutMs = positiveInt("--timeout", raw.timeout) * 1000;
const maxSeconds = positiveInt("--max-seconds", raw.maxSeconds);
const PKG_DIR = packageDir(raw.pkg);

installExitHandlers(log);
// The whole run is bounded: past --max-seconds everything is cleaned up and the bench fails.
boundRun(maxSeconds, log);

// ---------------------------------------------------------------------------------------------
// The page (served from memory as /bench.mjs): reads its job from the URL, POSTs the result.
// ---------------------------------------------------------------------------------------------

/** Runs in the page. Kept as a function so that node checks its syntax; served as its source. */
async function pageMain() {
  const q = new URLSearchParams(location.search);
  const id = q.get("run");
  const post = (body) => fetch(`/result/${id}`, { method: "POST", body: JSON.stringify(body) });
  const withTimeout = (promise, ms, what, detail = () => "") => {
    let timer;
    const t = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}${detail()}`)), ms)));
    return Promise.race([promise, t]).finally(() => clearTimeout(timer));
  };
  const gate = async () => {
    const res = await fetch(`/go/${id}`);
    if (!res.ok) throw new Error(`gate: HTTP ${res.status}`);
  };

  /** Counts events, checks seq, resolves at the n-th. */
  const counter = (n) => {
    const c = { count: 0, outOfOrder: 0, tLast: null, lagMs: null };
    c.done = new Promise((r) => (c.resolve = r));
    c.onEvent = (payload) => {
      if (payload.seq !== c.count) c.outOfOrder++;
      c.count++;
      if (c.count === n) {
        c.tLast = performance.now();
        c.lagMs = Date.now() - Date.parse(payload.timestamp);
        c.resolve();
      }
    };
    return c;
  };

  /** The Engine.IO requests (polls and posts) that completed while the events flowed, from
   *  resource timing: [responseEnd] of each /socket.io/ fetch or XHR. */
  const ends = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name.includes("/socket.io/")) ends.push(e.responseEnd);
  }).observe({ type: "resource" });

  async function measure({ n, timeoutMs }, transportNow, startAndAck, c, errs) {
    await gate();
    const t0 = performance.now();
    const ack = await startAndAck();
    const tAck = performance.now();
    if (!ack?.started) throw new Error(`bench:start refused: ${JSON.stringify(ack)}`);
    await withTimeout(c.done, timeoutMs, `${n} events`, () => ` (got ${c.count})${errs()}`);
    const transportAtEnd = transportNow();
    // Resource entries are delivered to the observer a little later.
    await new Promise((r) => setTimeout(r, 50));
    const requests = ends.filter((t) => t >= t0 && t <= c.tLast).length;
    const ms = c.tLast - t0;
    return { n, ms, evPerSec: (n / ms) * 1000, ackMs: tAck - t0, lagMs: c.lagMs, outOfOrder: c.outOfOrder, requests, transportAtEnd };
  }

  async function wiresync(args) {
    const { url, transport, timeoutMs } = args;
    const mod = await import("/pkg/index.js");
    await withTimeout(mod.default(), timeoutMs, "wiresync init()");
    const client = mod.connect({ url, auth: { token: "good" }, transports: [transport] });
    const errors = [];
    const seen = new Set();
    client.onError((e) => errors.push(`${e.code}: ${e.message}`));
    client.onState((s) => s.transport && seen.add(s.transport));
    const errs = () => (errors.length ? ` (errors: ${errors.slice(0, 5).join("; ")})` : "");
    try {
      await withTimeout(
        new Promise((resolve) => {
          client.onState((s) => s.status === "open" && resolve());
          if (client.state.status === "open") resolve();
        }),
        timeoutMs,
        "wiresync open",
        errs,
      );
      const transportAtOpen = client.state.transport;
      const c = counter(args.n);
      client.on("order:status_update", c.onEvent);
      const r = await measure(args, () => client.state.transport, () => client.emitWithAck("bench:start", { n: args.n }, { timeoutMs }), c, errs);
      return { ...r, transportAtOpen, transportsSeen: [...seen], errors };
    } finally {
      client.close();
    }
  }

  async function sio(args) {
    const { url, transport, timeoutMs } = args;
    const { io } = await import("/sio/socket.io.esm.min.js");
    const socket = io(url, { transports: [transport], auth: { token: "good" } });
    const errors = [];
    const seen = new Set();
    socket.on("connect_error", (e) => errors.push(`connect_error: ${e.message}`));
    const errs = () => (errors.length ? ` (errors: ${errors.slice(0, 5).join("; ")})` : "");
    const transportNow = () => socket.io.engine?.transport?.name ?? null;
    try {
      await withTimeout(
        new Promise((resolve) => {
          socket.on("connect", resolve);
          if (socket.connected) resolve();
        }),
        timeoutMs,
        "socket.io-client connect",
        errs,
      );
      const transportAtOpen = transportNow();
      seen.add(transportAtOpen);
      socket.io.engine.on("upgrade", (t) => seen.add(t.name));
      const c = counter(args.n);
      socket.on("order:status_update", c.onEvent);
      const r = await measure(args, transportNow, () => socket.timeout(timeoutMs).emitWithAck("bench:start", { n: args.n }), c, errs);
      return { ...r, transportAtOpen, transportsSeen: [...seen], errors };
    } finally {
      socket.disconnect();
    }
  }

  try {
    const fn = { wiresync, sio }[q.get("fn")];
    if (!fn) throw new Error(`unknown client ${q.get("fn")}`);
    await post({ result: await fn(JSON.parse(q.get("args"))) });
  } catch (e) {
    await post({ error: String(e?.stack ?? e) });
  }
}

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>wiresync polling bench</title>
<script type="module" src="/bench.mjs"></script>`;
const PAGE_JS = `(${pageMain.toString()})();\n`;

// ---------------------------------------------------------------------------------------------
// Static server with the gate (GET /go/<id>, as run.mjs)
// ---------------------------------------------------------------------------------------------

const gate = createGate();

function resolveStatic(urlPath) {
  if (urlPath === "/") return { body: PAGE_HTML, type: "text/html; charset=utf-8" };
  if (urlPath === "/bench.mjs") return { body: PAGE_JS, type: "text/javascript; charset=utf-8" };
  const m = packageFile(urlPath);
  return m && path.join(m.dir === "pkg" ? PKG_DIR : SIO_DIST, m.file);
}

let runSeq = 0;

/** One run in a fresh browser context that Playwright does not instrument (see run.mjs). */
async function runOnce(browser, site, fn, args, serverPid) {
  const id = `p${++runSeq}`;
  const cdp = await browser.newBrowserCDPSession();
  let browserContextId = null;
  const { arrived, release: released, close } = gate.wait(id);
  try {
    const result = site.expect(id);
    ({ browserContextId } = await cdp.send("Target.createBrowserContext"));
    const query = new URLSearchParams({ run: id, fn, args: JSON.stringify(args) });
    await cdp.send("Target.createTarget", { url: `${site.base}/?${query}`, browserContextId });
    const first = await withTimeout(Promise.race([arrived, result]), timeoutMs + 30000, `${fn}: page to connect`);
    if (first?.error) throw new Error(`${fn} failed in the page: ${first.error}`);
    const before = cpuSnapshot(serverPid);
    released();
    const reply = await withTimeout(result, timeoutMs * 2 + 30000, `result of ${fn}`);
    const after = cpuSnapshot(serverPid);
    if (reply.error) throw new Error(`${fn} failed in the page: ${reply.error}`);
    return { ...reply.result, cpuMs: cpuDelta(before, after) };
  } finally {
    site.forget(id);
    close();
    if (browserContextId) {
      await withTimeout(cdp.send("Target.disposeBrowserContext", { browserContextId }), 10000, "dispose context").catch((e) =>
        log(`dispose context: ${e.message}`),
      );
    }
    await cdp.detach().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const transports = raw.websocket ? ["polling", "websocket"] : ["polling"];
const CLIENTS = transports.flatMap((transport) => [
  { key: `ws-${transport}`, client: "wiresync", fn: "wiresync", transport },
  { key: `sio-${transport}`, client: `socket.io-client ${SIO_VERSION}`, fn: "sio", transport },
]);

const perEvent = (r, kind) => (r.cpuMs?.[kind] !== undefined ? (r.cpuMs[kind] * 1000) / r.n : NaN);

async function main() {
  const started = Date.now();
  log(`package ${PKG_DIR}`);
  const server = await startSocketIoServer(timeoutMs);
  const site = await startStaticServer(resolveStatic, { resultLimit: 1 << 20, route: gate.route });
  const browser = await launchChromium();
  log(`socket.io ${SIO_SERVER_VERSION} server on ${server.url}, page on ${site.base}, Chromium ${browser.version()}`);

  const run = async (c, count) => {
    if (server.exited()) throw new Error(`socketio-server died:\n${server.stderr()}`);
    const r = await runOnce(browser, site, c.fn, { url: server.url, n: count, timeoutMs, transport: c.transport }, server.child.pid);
    // Checks: the session was on the transport under test from open to the last event, and
    // every event came once, in order.
    if (r.transportAtOpen !== c.transport || r.transportAtEnd !== c.transport || r.transportsSeen.some((t) => t !== c.transport)) {
      throw new Error(`${c.key}: not on ${c.transport} (at open ${r.transportAtOpen}, at the end ${r.transportAtEnd}, seen ${r.transportsSeen.join(",")})`);
    }
    if (c.transport === "polling" && r.requests === 0) throw new Error(`${c.key}: no Engine.IO HTTP request seen while the events flowed`);
    if (c.transport === "websocket" && r.requests !== 0) throw new Error(`${c.key}: ${r.requests} Engine.IO HTTP requests on a WebSocket run`);
    if (r.outOfOrder) throw new Error(`${c.key}: ${r.outOfOrder} events out of order or with a wrong seq`);
    if (r.errors.length) throw new Error(`${c.key}: errors during the run: ${r.errors.slice(0, 5).join("; ")}`);
    return r;
  };

  if (raw.warmup) {
    for (const c of CLIENTS) {
      const r = await run(c, Math.min(n, 2000));
      log(`warm-up ${c.key.padEnd(14)} ${int(r.evPerSec)} ev/s (not counted)`);
    }
  }

  const results = Object.fromEntries(CLIENTS.map((c) => [c.key, []]));
  for (let round = 1; round <= rounds; round++) {
    const order = CLIENTS.map((_, i) => CLIENTS[(i + round - 1) % CLIENTS.length]);
    for (const c of order) {
      const r = await run(c, n);
      results[c.key].push(r);
      const cpu = ["renderer", "network", "browser", "server"].map((k) => `${k} ${fixed(perEvent(r, k), 1)}`).join(", ");
      log(
        `round ${round}/${rounds} ${c.key.padEnd(14)} ${int(r.evPerSec).padStart(7)} ev/s (${fixed(r.ms, 0)} ms, ack ${fixed(r.ackMs, 1)} ms, ` +
          `lag ${r.lagMs} ms, ${int(r.requests)} requests, on ${r.transportAtEnd}); CPU µs/ev: ${cpu}`,
      );
    }
  }
  const version = browser.version();
  await cleanup(log);
  report(results, version, (Date.now() - started) / 1000);
}

function report(results, version, seconds) {
  const med = (key, f) => median(results[key].map(f));
  const kinds = ["renderer", "network", "browser", "server"];
  /** Median over rounds of wiresync/sio for one measure (clients of a round run back to back). */
  const roundRatio = (transport, f) =>
    median(results[`ws-${transport}`].map((r, i) => f(r) / f(results[`sio-${transport}`][i])).filter((x) => Number.isFinite(x)));
  console.log(
    `\n${int(n)} × order:status_update (~200 B) per run, median of ${rounds} rounds; Chromium ${version}, socket.io ${SIO_SERVER_VERSION} server, 127.0.0.1\n`,
  );
  console.log("| transport | client | events/s | renderer CPU µs/ev | network service µs/ev | browser µs/ev | server µs/ev | HTTP requests per run |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  for (const transport of transports) {
    for (const c of CLIENTS.filter((x) => x.transport === transport)) {
      const cpu = kinds.map((k) => fixed(med(c.key, (r) => perEvent(r, k)), 1));
      const perReq = transport === "polling" ? int(med(c.key, (r) => r.requests)) : "–";
      console.log(`| ${transport} | ${c.client} | ${int(med(c.key, (r) => r.evPerSec))} | ${cpu.join(" | ")} | ${perReq} |`);
    }
    const evRatio = med(`ws-${transport}`, (r) => r.evPerSec) / med(`sio-${transport}`, (r) => r.evPerSec);
    const cpuRatios = kinds.map((k) => `${fixed(roundRatio(transport, (r) => perEvent(r, k)))}×`);
    const reqRatio = transport === "polling" ? `${fixed(roundRatio(transport, (r) => r.requests))}×` : "–";
    console.log(`| ${transport} | **wiresync / socket.io-client** | **${fixed(evRatio)}×** | **${cpuRatios[0]}** | ${cpuRatios.slice(1).join(" | ")} | ${reqRatio} |`);
  }
  console.log(
    [
      "",
      "events/s: n / (time from just before bench:start to the n-th event at the handler). CPU: /proc, from the",
      "gate (connected, before bench:start) to the result, per event: renderer = the page's process (all threads),",
      "network service and browser = Chromium's, server = the socket.io server. Ratios of CPU (and of requests) are",
      "medians of the per-round ratios; the events/s ratio is the ratio of the medians. HTTP requests: the",
      "Engine.IO polls and posts that completed between bench:start and the n-th event (resource timing).",
      "",
      "runs (events/s):",
      ...CLIENTS.map((c) => `  ${c.key.padEnd(14)} ${results[c.key].map((r) => int(r.evPerSec)).join(", ")}`),
      "runs (renderer µs/ev):",
      ...CLIENTS.map((c) => `  ${c.key.padEnd(14)} ${results[c.key].map((r) => fixed(perEvent(r, "renderer"), 1)).join(", ")}`),
      "",
      `total ${fixed(seconds, 0)} s`,
    ].join("\n"),
  );
}

main().then(
  () => process.exit(0),
  async (e) => {
    log(`FAILED: ${e?.stack ?? e}`);
    await cleanup(log);
    process.exit(1);
  },
);
