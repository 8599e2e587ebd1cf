#!/usr/bin/env node
// wiresync outbox benchmark, side by side with the anchors (see README.md, "Outbox"):
//   1. durable enqueues/s in headless Chromium: wiresync client.outbox.enqueue vs idb-keyval
//      set vs workbox-background-sync Queue.pushRequest, all calls in one tick (Promise.all)
//      and one at a time (each awaited);
//   2. drain of 10,000 queued messages after reconnect: wiresync vs socket.io-client 4.8.4 in
//      its at-least-once mode (retries), against the socket.io test server's outbox ledger,
//      with exactly-once and order checked from the server's stats.
//
//   node benches/outbox.mjs [--n 2000] [--rounds 3] [--drain-n 10000] [--drain-rounds 2]
//                           [--timeout 120] [--no-enqueue] [--no-drain] [--no-workbox-page]
//                           [--ack-delay MS] [--incognito]
//
// Environment: OUTBOX_N, OUTBOX_ROUNDS, OUTBOX_DRAIN_N, OUTBOX_DRAIN_ROUNDS, BENCH_TIMEOUT
// (seconds), CHROMIUM (default /usr/bin/chromium). Flags win over the environment.
// Progress goes to stderr, the result table to stdout. Exit code 0 on success, 1 on failure.

import path from "node:path";
import {
  cli,
  BENCH_DIR,
  PKG,
  SIO_DIST,
  TESTS,
  packageFile,
  requirePkg,
  cleanup,
  control,
  fixed,
  installExitHandlers,
  int,
  launchChromium,
  median,
  requireTests,
  runPage,
  startSocketIoServer,
  startStaticServer,
  withTimeout,
} from "./lib.mjs";

const log = (...a) => console.error("[outbox]", ...a);
const esbuild = requireTests("esbuild");
const version = (name) => requireTests(`${name}/package.json`).version;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function usage(exitCode) {
  const text = `usage: node benches/outbox.mjs [options]

  --n N              records per enqueue run (default 2000; env OUTBOX_N)
  --rounds R         enqueue runs per client and mode (default 3; env OUTBOX_ROUNDS)
  --drain-n N        messages queued before the reconnect (default 10000; env OUTBOX_DRAIN_N)
  --drain-rounds R   drain runs per client (default 2; env OUTBOX_DRAIN_ROUNDS)
  --timeout S        bound on every single wait, seconds (default 120; env BENCH_TIMEOUT)
  --no-enqueue       skip part 1 (enqueues/s)
  --no-drain         skip part 2 (drain after reconnect)
  --no-workbox-page  skip the extra Workbox-in-the-page rows (the service-worker rows stay)
  --ack-delay MS     the server holds every outbox ack MS ms (a stand-in for network latency;
                     default 0; with retries socket.io-client then needs n × MS ms at least)
  --incognito        run every page in a fresh off-the-record context (IndexedDB in memory:
                     not durable; for comparison only)
  --help`;
  (exitCode ? console.error : console.log)(text);
  process.exit(exitCode);
}

const { parseArgs, positiveInt } = cli(usage);

function parseOptions(argv) {
  const env = process.env;
  const o = {
    n: env.OUTBOX_N ?? "2000",
    rounds: env.OUTBOX_ROUNDS ?? "3",
    drainN: env.OUTBOX_DRAIN_N ?? "10000",
    drainRounds: env.OUTBOX_DRAIN_ROUNDS ?? "2",
    timeout: env.BENCH_TIMEOUT ?? "120",
    enqueue: true,
    drain: true,
    workboxPage: true,
    ackDelay: "0",
    incognito: false,
  };
  parseArgs(argv, o, {
    values: { "--n": "n", "--rounds": "rounds", "--drain-n": "drainN", "--drain-rounds": "drainRounds", "--timeout": "timeout", "--ack-delay": "ackDelay" },
    flags: { "--no-enqueue": ["enqueue", false], "--no-drain": ["drain", false], "--no-workbox-page": ["workboxPage", false], "--incognito": ["incognito", true] },
  });
  const drainN = positiveInt("--drain-n / OUTBOX_DRAIN_N", o.drainN);
  if (drainN > 19000) {
    // The server's ledger keeps the last 20,000 applied messages; the wiresync outbox holds 20,000.
    console.error("--drain-n must be at most 19000 (the test server's ledger and the outbox capacity)");
    usage(1);
  }
  const n = positiveInt("--n / OUTBOX_N", o.n);
  if (n > 100000) {
    console.error("--n must be at most 100000 (the outbox capacity used for the enqueue runs)");
    usage(1);
  }
  const ackDelay = Number(o.ackDelay);
  if (!Number.isInteger(ackDelay) || ackDelay < 0) {
    console.error(`--ack-delay must be a non-negative integer, got ${JSON.stringify(o.ackDelay)}`);
    usage(1);
  }
  return {
    n,
    rounds: positiveInt("--rounds / OUTBOX_ROUNDS", o.rounds),
    drainN,
    drainRounds: positiveInt("--drain-rounds / OUTBOX_DRAIN_ROUNDS", o.drainRounds),
    timeoutMs: positiveInt("--timeout / BENCH_TIMEOUT", o.timeout) * 1000,
    enqueue: o.enqueue,
    drain: o.drain,
    workboxPage: o.workboxPage,
    ackDelay,
    incognito: o.incognito,
  };
}

// ---------------------------------------------------------------------------------------------
// Page assets
// ---------------------------------------------------------------------------------------------

/** idb-keyval and workbox-background-sync bundled for the browser (esbuild, as an app would). */
async function vendorBundles() {
  const bundle = async (contents) => {
    const out = await esbuild.build({
      stdin: { contents, resolveDir: TESTS, sourcefile: "outbox-bench-entry.js", loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      // What an app's production build ships: without it Workbox runs its development
      // assertions and logs every push to the console.
      define: { "process.env.NODE_ENV": '"production"' },
      write: false,
      logLevel: "silent",
    });
    return out.outputFiles[0].text;
  };
  return {
    "/vendor/idb-keyval.js": await bundle('export { set, del, keys } from "idb-keyval";'),
    "/vendor/workbox-background-sync.js": await bundle('export { Queue } from "workbox-background-sync";'),
  };
}

function resolver(vendor) {
  return (urlPath) => {
    if (urlPath === "/" || urlPath === "/outbox.html") return path.join(BENCH_DIR, "outbox.html");
    if (urlPath === "/outbox-page.mjs" || urlPath === "/outbox-sw.mjs") return path.join(BENCH_DIR, urlPath.slice(1));
    if (vendor[urlPath]) return { body: vendor[urlPath], type: "text/javascript; charset=utf-8" };
    const m = packageFile(urlPath);
    return m && path.join(m.dir === "pkg" ? PKG : SIO_DIST, m.file);
  };
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

const RUN_TAG = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let runSeq = 0;

/**
 * Runs `fn(args)` in a new page, then deletes every IndexedDB database of the origin (and any
 * service worker) from a second page once the first is closed.
 */
async function job(ctx, fn, args, what) {
  const id = `${RUN_TAG}-${++runSeq}`;
  const query = (f, a) => `${ctx.site.base}/?${new URLSearchParams({ run: id, fn: f, args: JSON.stringify(a) })}`;
  const context = ctx.opts.incognito ? "incognito" : "default";
  try {
    return await runPage(ctx.browser, ctx.site, {
      id,
      url: query(fn, args),
      timeoutMs: ctx.opts.timeoutMs * 2 + 30000, // the page bounds each of its own waits
      context,
      what,
    });
  } finally {
    if (context === "default") {
      const cid = `${id}-cleanup`;
      const url = `${ctx.site.base}/?${new URLSearchParams({ run: cid, fn: "cleanup", args: JSON.stringify({ timeoutMs: 30000 }) })}`;
      const r = await runPage(ctx.browser, ctx.site, { id: cid, url, timeoutMs: 40000, what: "cleanup" }).catch((e) => {
        log(`cleanup after ${what}: ${e.message}`);
        return null;
      });
      if (r) ctx.deleted += r.deleted.length;
    }
  }
}

const ENQUEUE_CLIENTS = (workboxPage) => [
  { key: "wiresync", label: "wiresync outbox.enqueue" },
  { key: "idbkeyval", label: `idb-keyval ${version("idb-keyval")} set` },
  { key: "workbox-sw", label: `Workbox ${version("workbox-background-sync")} (service worker)` },
  ...(workboxPage ? [{ key: "workbox", label: `Workbox ${version("workbox-background-sync")} (page, no Sync)` }] : []),
];
const MODES = ["concurrent", "sequential"];

async function enqueueRuns(ctx) {
  const { opts } = ctx;
  const clients = ENQUEUE_CLIENTS(opts.workboxPage);
  const results = {};
  for (const c of clients) for (const m of MODES) results[`${c.key}/${m}`] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const mode of MODES) {
      for (const c of clients) {
        const name = `bench-${RUN_TAG}-${runSeq + 1}`;
        const r = await job(
          ctx,
          "enqueue",
          { client: c.key, mode, n: opts.n, url: ctx.server.url, name, timeoutMs: opts.timeoutMs },
          `${c.key} ${mode} enqueue`,
        );
        if (r.stored !== opts.n) throw new Error(`${c.label} ${mode}: ${r.stored} records stored, expected ${opts.n}`);
        if (c.key === "wiresync" && (r.queued !== opts.n || r.sent !== 0)) {
          throw new Error(`wiresync ${mode}: status shows ${r.queued} pending and ${r.sent} in flight, expected ${opts.n} and 0`);
        }
        if (r.errors.length) throw new Error(`${c.label} ${mode}: errors ${r.errors.slice(0, 5).join(", ")}`);
        results[`${c.key}/${mode}`].push(r);
        log(
          `round ${round}/${opts.rounds} ${`${c.label}, ${mode}`.padEnd(46)} ${int(r.perSec).padStart(7)} records/s ` +
            `(${fixed(r.ms, 0)} ms, ${r.stored} stored${c.key === "wiresync" ? `, connection ${r.connection}` : ""})`,
        );
      }
    }
  }
  return { clients, results };
}

/** Checks the server's ledger against the ids the client sent, in order. */
function verifyLedger(stats, ids, t0Wall) {
  const applied = stats.applied;
  const n = ids.length;
  let misplaced = 0;
  let wrongPayload = 0;
  for (let i = 0; i < applied.length; i++) {
    if (applied[i].id !== ids[i]) misplaced++;
    if (applied[i].payload?.n !== i) wrongPayload++;
  }
  const uniqueIds = new Set(applied.map((a) => a.id)).size;
  const uniqueN = new Set(applied.map((a) => a.payload?.n)).size;
  const lastAt = applied.length ? applied[applied.length - 1].at : null;
  return {
    applied: applied.length,
    exactlyOnce: applied.length === n && uniqueIds === n && uniqueN === n,
    inOrder: applied.length === n && misplaced === 0 && wrongPayload === 0,
    misplaced,
    duplicates: stats.duplicates,
    rejected: stats.rejected.length,
    serverMs: lastAt === null ? null : lastAt - t0Wall,
    firstMs: applied.length ? applied[0].at - t0Wall : null,
  };
}

async function drainRuns(ctx) {
  const { opts, server } = ctx;
  const clients = [
    { key: "wiresync", label: "wiresync outbox (window 16)", fn: "drainWiresync" },
    { key: "sio", label: `socket.io-client ${version("socket.io-client")} (retries)`, fn: "drainSio" },
  ];
  const results = { wiresync: [], sio: [] };
  for (let round = 1; round <= opts.drainRounds; round++) {
    for (const c of clients) {
      await control(server.url, "outbox/reset");
      if (opts.ackDelay) await control(server.url, `outbox/ack-delay?ms=${opts.ackDelay}`);
      const name = `drain-${RUN_TAG}-${runSeq + 1}`;
      const r = await job(ctx, c.fn, { url: server.url, n: opts.drainN, name, timeoutMs: opts.timeoutMs }, `${c.key} drain`);
      // The server's stats carry every applied payload (~10 MB for 10,000): read once, afterwards.
      const stats = await control(server.url, "outbox/stats", opts.timeoutMs);
      const v = verifyLedger(stats, r.ids, r.t0Wall);
      delete r.ids;
      Object.assign(r, v);
      r.perSec = (opts.drainN / r.serverMs) * 1000;
      results[c.key].push(r);
      log(
        `drain round ${round}/${opts.drainRounds} ${c.label.padEnd(40)} ${int(r.perSec).padStart(7)} msg/s ` +
          `(server applied all ${r.serverMs} ms after the reconnect call, client saw all acked at ${fixed(r.doneMs, 0)} ms, ` +
          `connected at ${fixed(r.openMs ?? NaN, 0)} ms, first applied at ${r.firstMs} ms; queued in ${fixed(r.enqueueMs, 0)} ms; ` +
          `applied ${r.applied}, exactly once ${r.exactlyOnce}, in order ${r.inOrder}, duplicate receipts ${r.duplicates}` +
          `${r.failed ? `, FAILED ${r.failed}` : ""}${r.errors.length ? `, errors ${r.errors.slice(0, 3).join(", ")}` : ""})`,
      );
      if (!r.exactlyOnce || !r.inOrder || r.failed || r.rejected) {
        throw new Error(
          `${c.label}: the server's ledger does not add up: applied ${r.applied} of ${opts.drainN}, ` +
            `${r.misplaced} out of place, exactly once ${r.exactlyOnce}, in order ${r.inOrder}, ` +
            `${r.failed} failed in the client, ${r.rejected} rejected`,
        );
      }
    }
  }
  return { clients, results };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function report({ opts, enq, drain, browserVersion, seconds, deleted }) {
  const W = 44;
  const where = opts.incognito
    ? "off-the-record contexts (IndexedDB in memory: --incognito, not durable)"
    : "default profile on disk (IndexedDB default durability)";
  console.log(`outbox bench, headless Chromium ${browserVersion}, ${where}`);
  if (enq) {
    const { clients, results } = enq;
    const med = (key, mode) => median(results[`${key}/${mode}`].map((r) => r.perSec));
    const runs = (key, mode) => results[`${key}/${mode}`].map((r) => int(r.perSec)).join(", ");
    console.log();
    console.log(
      `1. durable enqueues, ${int(opts.n)} records of ~1 KB each, records/s (median of ${opts.rounds}; the runs in brackets)`,
    );
    console.log(`  ${"".padEnd(W)}${"all in one tick (Promise.all)".padEnd(34)}each awaited in turn`);
    for (const c of clients) {
      const cell = (mode) => `${int(med(c.key, mode)).padStart(7)} (${runs(c.key, mode)})`;
      console.log(`  ${c.label.padEnd(W)}${cell("concurrent").padEnd(34)}${cell("sequential")}`);
    }
    const ratio = (a, b, mode) => fixed(med(a, mode) / med(b, mode));
    const ratioLine = (label, other) =>
      console.log(`  ${label.padEnd(W)}${`${ratio("wiresync", other, "concurrent")}×`.padStart(7).padEnd(34)}${`${ratio("wiresync", other, "sequential")}×`.padStart(7)}`);
    ratioLine("ratio wiresync / idb-keyval", "idbkeyval");
    ratioLine("ratio wiresync / Workbox (service worker)", "workbox-sw");
    if (clients.some((c) => c.key === "workbox")) ratioLine("ratio wiresync / Workbox (page, no Sync)", "workbox");
    const goal = med("wiresync", "concurrent") / med("idbkeyval", "sequential");
    console.log(
      `  ${"goal: wiresync one tick / idb-keyval per put".padEnd(W)}${`${fixed(goal, 1)}×`.padStart(7)}   ` +
        `(goal ≥ 5×: ${goal >= 5 ? "met" : "NOT met"}; per-put anchor = idb-keyval, each awaited)`,
    );
    console.log(
      [
        `  Each run: a new page; the client's database opened first (not timed); the clock covers the n calls until`,
        `  the last promise resolved (i.e. committed), then the records are counted in IndexedDB (all runs: ${int(opts.n)}).`,
        `  wiresync connects with a refused auth (nothing is sent meanwhile); outbox capacity 100,000.`,
        `  Workbox: new Queue(name, {onSync: no-op}).pushRequest({request: new Request(url, {method: "POST", body})});`,
        `  in the service worker every push also registers a Background Sync; in the page there is no Sync API.`,
      ].join("\n"),
    );
  }
  if (drain) {
    const { clients, results } = drain;
    const med = (key, f = (r) => r.perSec) => median(results[key].map(f));
    console.log();
    console.log(
      `2. drain after reconnect, ${int(opts.drainN)} messages of ~1 KB queued while offline, messages/s (median of ${opts.drainRounds})` +
        (opts.ackDelay ? `, every ack held ${opts.ackDelay} ms by the server (--ack-delay)` : ""),
    );
    for (const c of clients) {
      const rs = results[c.key];
      const ok = rs.every((r) => r.exactlyOnce && r.inOrder && !r.failed);
      const sum = (f) => rs.reduce((a, r) => a + f(r), 0);
      console.log(
        `  ${c.label.padEnd(W)}${int(med(c.key)).padStart(7)} msg/s  (${rs.map((r) => int(r.perSec)).join(", ")}); ` +
          `all applied after ${int(med(c.key, (r) => r.serverMs))} ms, acked after ${int(med(c.key, (r) => r.doneMs))} ms`,
      );
      console.log(
        `  ${"".padEnd(W)}queued beforehand in ${int(med(c.key, (r) => r.enqueueMs))} ms ` +
          `(${c.key === "wiresync" ? "IndexedDB, all in one tick" : "memory, emit() while disconnected"})`,
      );
      console.log(
        `  ${"".padEnd(W)}server ledger: ${ok ? "each message applied exactly once, in order" : "NOT exactly once and in order"} ` +
          `(${rs.length} run${rs.length === 1 ? "" : "s"}: applied ${[...new Set(rs.map((r) => int(r.applied)))].join("/")} each, ` +
          `${sum((r) => r.misplaced)} out of place, ${sum((r) => r.duplicates)} duplicate receipts, ${sum((r) => r.failed)} failed)`,
      );
    }
    const ratio = med("wiresync") / med("sio");
    console.log(`  ${"ratio wiresync / socket.io-client".padEnd(W)}${`${fixed(ratio, 1)}×`.padStart(7)}        (goal ≥ 10×: ${ratio >= 10 ? "met" : "NOT met"})`);
    console.log(
      [
        `  Clock: from the reconnect call (wiresync setAuth({token: "good"}) after connecting with a refused token;`,
        `  socket.io-client connect() after emits made with autoConnect false) to the server applying the last message`,
        `  (its ledger's timestamp; same machine clock). "acked" = the page saw the last ack (wiresync: status pending 0,`,
        `  in flight 0). socket.io-client: io(url, {transports: ["websocket"], retries: 3, ackTimeout: 10000}), one`,
        `  message in flight at a time. wiresync: default outbox settings (window 16), capacity 20,000. The ledger is`,
        `  reset before each run; ids and order are checked against what the client queued.`,
      ].join("\n"),
    );
  }
  console.log();
  console.log(`total bench time ${fixed(seconds, 1)} s${deleted ? `; ${deleted} IndexedDB databases created and deleted` : ""}`);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  requirePkg();
  installExitHandlers(log);
  const started = Date.now();
  log("bundling idb-keyval and workbox-background-sync");
  const vendor = await vendorBundles();
  log("starting socketio-server");
  const server = await startSocketIoServer(opts.timeoutMs);
  const site = await startStaticServer(resolver(vendor));
  log(`socketio-server on ${server.url}, pages on ${site.base}`);
  const browser = await launchChromium();
  const browserVersion = browser.version();
  log(`chromium ${browserVersion}`);
  const ctx = { opts, server, site, browser, deleted: 0 };

  const enq = opts.enqueue ? await enqueueRuns(ctx) : null;
  const drain = opts.drain ? await drainRuns(ctx) : null;
  if (server.exited()) throw new Error(`socketio-server died:\n${server.stderr()}`);

  await cleanup(log);
  report({ opts, enq, drain, browserVersion, seconds: (Date.now() - started) / 1000, deleted: ctx.deleted });
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(`[outbox] FAILED: ${e?.stack ?? e}`);
    await withTimeout(cleanup(log), 20000, "cleanup").catch(() => {});
    process.exit(1);
  },
);
