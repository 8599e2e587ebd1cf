#!/usr/bin/env node
// URL failover between the nodes of a Socket.IO cluster: the gap in events when the node a
// wiresync client is on is SIGKILLed, over repeated trials. See README.md, "URL failover".
//
//   node benches/failover.mjs [--trials 20] [--count 400] [--pkg DIR]
//
// Setup: tests/servers/cluster.mjs with 2 nodes (socket.io 4.8.4 + @socket.io/redis-streams-adapter
// on one redis-server, all on 127.0.0.1). One headless Chromium page runs a wiresync client:
//   connect({ url: [a.url, b.url], auth: { token: "good" }, catalog: false,
//             reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } })
// (WebSocket transport, the default; factor 2 and jitter 0.5 as defaulted), subscribed with
// `subscribe("order", { orderId: "f1" })` (room "order:f1"). It records every event
// [run, seq, Date.now(), state.status] and every state change, with one counter over both.
//
// Trial k: the node the client is on (state.url) is X, the other Y. Y emits `order:status_update`
// `{ orderId: "f1", status: "tick", run: k, seq }` to the room every 10 ms, --count events
// (/control/emit; through the adapter, so X's clients get them as well). After 20 events have
// arrived, X is SIGKILLed (t_kill = Date.now() just before the signal). The gap is t_kill → the
// first event the page handles after it noticed the loss (its first state change away from
// "open" after t_kill; events that were already on their way from X are not counted). Then X
// is started again on the same port and, once it listens and Y's run is over, the run's seqs
// are checked: missed (never received), repeated (received twice or more), out of order. The
// next trial kills Y, which the client moved to: the URL list is taken in turn.
//
// Same machine, so the page's and this process's Date.now() are one clock (1 ms).
// Progress to stderr, the report to stdout; exit 0 when every trial completed, 1 otherwise.
// Every wait is bounded; the cluster and the browser are stopped on exit, error or signal.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  cleanup,
  cli,
  fixed,
  installExitHandlers,
  launchChromium,
  median,
  onCleanup,
  packageDir,
  packageFile,
  sleep,
  startStaticServer,
  withTimeout,
  boundRun,
} from "./lib.mjs";
import { startCluster } from "../tests/servers/cluster.mjs";

/** Which cluster-node.mjs ran (it is test code that changes): a hash, and whether it persists
 *  sessions as they start (without that a SIGKILLed node's sessions are not recoverable). */
const NODE_SCRIPT = new URL("../tests/servers/cluster-node.mjs", import.meta.url);
const nodeSource = fs.readFileSync(NODE_SCRIPT, "utf8");
const NODE_SCRIPT_ID = `cluster-node.mjs sha256 ${crypto.createHash("sha256").update(nodeSource).digest("hex").slice(0, 12)}, ` +
  `${/persistEagerly|persistSession\(\{/.test(nodeSource) ? "persists sessions eagerly" : "persists sessions only on a close it sees"}`;

const log = (...a) => console.error("[failover]", ...a);

function usage(code) {
  (code ? console.error : console.log)(`usage: node benches/failover.mjs [options]

  --trials T       kills of the active node (default 20)
  --count C        events per trial, 10 ms apart (default 400, i.e. ~4.5 s; at least 100)
  --pkg DIR        the wiresync package to measure (default $WIRESYNC_PKG, else pkg/)
  --max-seconds S  bound on the whole run, seconds (default 480)
  --help`);
  process.exit(code);
}

const { parseArgs, positiveInt } = cli(usage);
const raw = { trials: "20", count: "400", pkg: "", maxSeconds: "480" };
parseArgs(process.argv.slice(2), raw, {
  values: { "--trials": "trials", "--count": "count", "--pkg": "pkg", "--max-seconds": "maxSeconds" },
  flags: {},
});
const trials = positiveInt("--trials", raw.trials);
const count = positiveInt("--count", raw.count);
if (count < 100) usage(1);
const maxSeconds = positiveInt("--max-seconds", raw.maxSeconds);
const PKG_DIR = packageDir(raw.pkg);

/** The reconnect backoff the client is given (reported with the numbers). */
const RECONNECT = { initialDelayMs: 100, maxDelayMs: 1000 };
const INTERVAL_MS = 10;
/** Events received from the run before the kill. */
const BEFORE_KILL = 20;
const ROOM = "order:f1";

installExitHandlers(log);
boundRun(maxSeconds, log);

const PAGE = `<!doctype html><meta charset="utf-8"><title>wiresync failover bench</title>`;

async function main() {
  const started = Date.now();
  log(`package ${PKG_DIR}; ${NODE_SCRIPT_ID}`);
  const cluster = await startCluster({ nodes: 2 });
  onCleanup(() => cluster.stop());
  const [a, b] = cluster.nodes;
  log(`redis ${cluster.redis.url}, node a ${a.url}, node b ${b.url}`);
  const site = await startStaticServer((urlPath) => {
    if (urlPath === "/") return { body: PAGE, type: "text/html; charset=utf-8" };
    const m = packageFile(urlPath);
    return m && m.dir === "pkg" ? path.join(PKG_DIR, m.file) : null;
  });
  const browser = await launchChromium();
  const version = browser.version();
  log(`Chromium ${version}; ${trials} trials, ${count} events per trial every ${INTERVAL_MS} ms`);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (e) => log(`page error: ${e.message}`));
  await page.goto(site.base + "/");

  await withTimeout(
    page.evaluate(
      async ({ urls, reconnect, room }) => {
        const mod = await import("/pkg/index.js");
        await mod.default();
        // i: one counter over events and state changes, for their order within a millisecond.
        const rec = { events: [], states: [], errors: [], i: 0 };
        window.rec = rec;
        const client = mod.connect({ url: urls, auth: { token: "good" }, catalog: false, reconnect });
        window.client = client;
        client.onState((s) => rec.states.push({ i: rec.i++, t: Date.now(), status: s.status, url: s.url, recovered: s.recovered, transport: s.transport, attempt: s.attempt, error: s.error?.code ?? null }));
        client.onError((e) => rec.errors.push({ t: Date.now(), code: e.code, message: e.message }));
        // The status at each event: replayed events can come before the "open" state change.
        client.on("order:status_update", (p) => rec.events.push([p.run, p.seq, Date.now(), client.state.status, rec.i++]));
        await new Promise((resolve) => {
          client.onState((s) => s.status === "open" && resolve());
          if (client.state.status === "open") resolve();
        });
        const ack = await client.subscribe("order", { orderId: "f1" }).ready;
        if (ack?.room !== room) throw new Error(`subscribe acked ${JSON.stringify(ack)}`);
      },
      { urls: [a.url, b.url], reconnect: RECONNECT, room: ROOM },
    ),
    30000,
    "client open and subscribed",
  );

  const nodeOf = (url) => cluster.nodes.find((x) => x.url === url);
  const state = () => page.evaluate(() => window.client.state);
  const waitPage = (fn, arg, ms, what) =>
    withTimeout(page.waitForFunction(fn, arg, { polling: 5, timeout: ms }), ms + 1000, what);

  const rows = [];
  for (let k = 1; k <= trials; k++) {
    const s = await state();
    if (s.status !== "open") throw new Error(`trial ${k}: client not open (${JSON.stringify(s)})`);
    const on = nodeOf(s.url);
    const other = cluster.nodes.find((x) => x !== on);
    if (!on || !on.alive || !other.alive) throw new Error(`trial ${k}: client on ${s.url}, nodes alive a ${a.alive} b ${b.alive}`);
    const payload = encodeURIComponent(JSON.stringify({ orderId: "f1", status: "tick", run: k }));
    const emitted = await withTimeout(other.control(`emit?room=${ROOM}&event=order:status_update&count=${count}&intervalMs=${INTERVAL_MS}&payload=${payload}`), 10000, "control/emit");
    if (!emitted?.ok) throw new Error(`trial ${k}: emit refused ${JSON.stringify(emitted)}`);
    await waitPage(({ k, n }) => window.rec.events.filter((e) => e[0] === k).length >= n, { k, n: BEFORE_KILL }, 10000, `trial ${k}: first ${BEFORE_KILL} events`);

    const tKill = Date.now();
    await withTimeout(on.kill(), 10000, `kill ${on.name}`);
    const tExited = Date.now();
    const row = { k, killed: on.name, to: other.name, tKill, exitedMs: tExited - tKill };
    try {
      // The page noticed the loss, came back, and got an event of this run afterwards.
      await waitPage(
        ({ k, tKill }) => {
          const loss = window.rec.states.find((x) => x.t >= tKill && x.status !== "open");
          return loss !== undefined && window.rec.events.some((e) => e[0] === k && e[4] > loss.i);
        },
        { k, tKill },
        count * INTERVAL_MS + 5000,
        `trial ${k}: an event after the kill`,
      );
      // And the state change to open (it may come after the first events: see firstStatus).
      await waitPage(
        ({ tKill }) => {
          const loss = window.rec.states.find((x) => x.t >= tKill && x.status !== "open");
          return window.rec.states.some((x) => x.i > loss.i && x.status === "open");
        },
        { tKill },
        10000,
        `trial ${k}: open again`,
      ).catch((e) => (row.openFailure = e.message));
      const seen = await page.evaluate(
        ({ k, tKill }) => {
          const states = window.rec.states.filter((x) => x.t >= tKill);
          const loss = states.find((x) => x.status !== "open");
          const open = states.find((x) => x.i > loss.i && x.status === "open");
          const first = window.rec.events.find((e) => e[0] === k && e[4] > loss.i);
          const beforeOpen = window.rec.events.filter((e) => e[0] === k && e[4] > loss.i && e[3] !== "open").length;
          return { loss, open, first, beforeOpen, states, errors: window.rec.errors.filter((e) => e.t >= tKill) };
        },
        { k, tKill },
      );
      row.gapMs = seen.first[2] - tKill;
      row.noticedMs = seen.loss.t - tKill;
      row.openMs = seen.open ? seen.open.t - tKill : null;
      row.recovered = seen.open?.recovered ?? null;
      row.urlAfter = seen.open?.url ?? null;
      row.urlAfterName = row.urlAfter ? (nodeOf(row.urlAfter)?.name ?? row.urlAfter) : null;
      row.transport = seen.open?.transport ?? null;
      row.firstSeq = seen.first[1];
      row.firstStatus = seen.first[3];
      row.beforeOpen = seen.beforeOpen;
      row.states = seen.states.map((x) => `${x.t - tKill}:${x.status}#${x.attempt}@${nodeOf(x.url)?.name ?? x.url}${x.recovered ? "+recovered" : ""}${x.error ? `(${x.error})` : ""}`);
      row.errors = seen.errors.map((e) => e.code);
    } catch (e) {
      row.failure = e.message;
    }
    // The server's view: sockets on the node the client moved to, and how many were recovered.
    row.serverStats = await withTimeout(other.control("stats"), 10000, "control/stats").catch((e) => ({ error: e.message }));

    // Start the killed node again and let the run end (every event of it emitted).
    const tStart = Date.now();
    await withTimeout(on.start(), 20000, `restart ${on.name}`);
    row.restartMs = Date.now() - tStart;
    const deadline = Date.now() + count * INTERVAL_MS * 2 + 10000;
    for (;;) {
      const st = await withTimeout(other.control("stats"), 10000, "control/stats");
      if (st.emitting === 0) break;
      if (Date.now() > deadline) throw new Error(`trial ${k}: node ${other.name} still emitting`);
      await sleep(50);
    }
    await sleep(300); // the last events on their way
    const seqs = await page.evaluate((k) => window.rec.events.filter((e) => e[0] === k).map((e) => e[1]), k);
    const distinct = new Set(seqs);
    row.received = seqs.length;
    row.missed = [...Array(count).keys()].map((i) => i + 1).filter((q) => !distinct.has(q));
    row.repeated = seqs.length - distinct.size;
    row.outOfOrder = seqs.filter((q, i) => i > 0 && q <= seqs[i - 1]).length;
    rows.push(row);
    log(
      `trial ${k}/${trials}: killed ${row.killed} → ${row.urlAfterName ?? "?"}` +
        (row.failure
          ? ` FAILED: ${row.failure}`
          : ` gap ${row.gapMs} ms (noticed ${row.noticedMs} ms, open ${row.openMs} ms, recovered ${row.recovered}, ${row.transport}; first event seq ${row.firstSeq} while ${row.firstStatus}, ${row.beforeOpen} events before "open")`) +
        `; received ${row.received}/${count}, missed ${row.missed.length}${row.missed.length ? ` (seq ${rangeText(row.missed)})` : ""}, repeated ${row.repeated}, out of order ${row.outOfOrder}` +
        (row.openFailure ? `; ${row.openFailure}` : "") +
        `; restart ${row.restartMs} ms; server ${other.name}: ${row.serverStats.clients} client(s), ${row.serverStats.recovered} recovered; states ${row.states?.join(" ")}` +
        (row.errors?.length ? `; errors ${row.errors.join(",")}` : ""),
    );
  }

  await withTimeout(context.close(), 10000, "context close").catch(() => {});
  await cleanup(log);
  report(rows, version, (Date.now() - started) / 1000);
  return rows.every((r) => !r.failure);
}

/** "3-7, 12" for [3,4,5,6,7,12]. */
function rangeText(list) {
  const parts = [];
  for (let i = 0; i < list.length; i++) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j;
  }
  return parts.join(", ");
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function report(rows, version, seconds) {
  const ok = rows.filter((r) => !r.failure);
  const stats = (f) => {
    const v = ok.map(f).filter((x) => x !== null && x !== undefined).sort((x, y) => x - y);
    return v.length ? `${median(v)} / ${percentile(v, 0.9)} / ${v.at(-1)} ms` : "n/a";
  };
  const missed = rows.reduce((s, r) => s + r.missed.length, 0);
  const repeated = rows.reduce((s, r) => s + r.repeated, 0);
  const outOfOrder = rows.reduce((s, r) => s + r.outOfOrder, 0);
  console.log(
    `\nURL failover, 2 cluster nodes (socket.io 4.8.4 + Redis streams adapter), ${rows.length} SIGKILLs of the node the client is on;` +
      `\nwiresync url: [a, b], reconnect ${JSON.stringify(RECONNECT)} (factor 2, jitter 0.5: the defaults), WebSocket;` +
      `\nevents every ${INTERVAL_MS} ms from the other node; Chromium ${version}; 127.0.0.1; ${NODE_SCRIPT_ID}\n`,
  );
  console.log("| | median / p90 / max |");
  console.log("|---|---:|");
  console.log(`| **gap: kill → first event received after it** | **${stats((r) => r.gapMs)}** |`);
  console.log(`| kill → the page noticed the loss | ${stats((r) => r.noticedMs)} |`);
  console.log(`| kill → open again on the other node | ${stats((r) => r.openMs)} |`);
  console.log(`| restart of the killed node (not in the gap) | ${stats((r) => r.restartMs)} |`);
  console.log();
  console.log(`trials completed: ${ok.length}/${rows.length}${rows.length - ok.length ? ` (failed: ${rows.filter((r) => r.failure).map((r) => `#${r.k} ${r.failure}`).join("; ")})` : ""}`);
  console.log(`open again on the other node (state.url): ${ok.filter((r) => r.urlAfterName === r.to).length}/${ok.length}`);
  console.log(`state.recovered === true after the failover: ${ok.filter((r) => r.recovered === true).length}/${ok.length}`);
  const early = ok.filter((r) => r.firstStatus !== "open");
  console.log(
    `first event after the loss handled before the "open" state change: ${early.length}/${ok.length}` +
      (early.length ? ` (status then: ${[...new Set(early.map((r) => r.firstStatus))].join(", ")}; events before "open" per trial: median ${median(ok.map((r) => r.beforeOpen))}, max ${Math.max(...ok.map((r) => r.beforeOpen))}; first event → "open" median ${median(early.map((r) => r.openMs - r.gapMs))} ms)` : ""),
  );
  console.log(
    `seqs over the whole run (${rows.length} runs × ${count}): missed ${missed}, repeated ${repeated}, out of order ${outOfOrder}` +
      (missed ? `; missed per trial ${rows.map((r) => r.missed.length).join(", ")}` : ""),
  );
  console.log(`gaps, ms, in trial order: ${rows.map((r) => r.gapMs ?? "–").join(", ")}`);
  console.log(`\ntotal ${fixed(seconds, 0)} s`);
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  async (e) => {
    log(`FAILED: ${e?.stack ?? e}`);
    await cleanup(log);
    process.exit(1);
  },
);
