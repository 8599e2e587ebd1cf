// shareAcrossTabs, measured in one run: server connections and main-thread CPU per event per
// tab with 1, 3 and 5 tabs, shared against unshared; and the handover gap (the leader tab
// closed → events flowing again) over repeated trials.
//
//   node benches/share.mjs [--n 5000] [--rounds 3] [--trials 20]
//
// CPU: each tab is a page of one browser context (so the tabs of a group can share); the
// server (tests/servers/socketio-server.mjs) broadcasts n `order:status_update` events (~200 B,
// catalog-validated) to every socket of the namespace; each tab counts them. CPU is read from
// /proc (Linux) for Chromium's processes by kind and for the server, from just before the burst
// until every tab has seen n events; per event per tab = the renderer total / n / tabs (CPU
// time, not the wall time of tasks, which two cores shared by five tabs would inflate). In
// shared mode the leader's part includes relaying every event to the others.
//
// Handover gap: 3 shared tabs; the server emits one event every 10 ms; the leader tab is
// closed; the gap is the longest time without an event at a remaining tab in the 5 s after the
// close (events of the gap arrive afterwards, replayed by the recovered session).
import {
  HOST,
  cpuDelta,
  cpuSnapshot,
  PKG,
  cli,
  control,
  fixed,
  installExitHandlers,
  launchChromium,
  median,
  packageFile,
  requirePkg,
  sleep,
  startSocketIoServer,
  startStaticServer,
  withTimeout,
} from "./lib.mjs";
import path from "node:path";

const log = (...a) => console.error("[share]", ...a);
const { parseArgs, positiveInt } = cli((code) => {
  console.error("usage: node benches/share.mjs [--n N (default 5000)] [--rounds R (default 3)] [--trials T (default 20)]");
  process.exit(code);
});
const raw = { n: "5000", rounds: "3", trials: "20" };
parseArgs(process.argv.slice(2), raw, { values: { "--n": "n", "--rounds": "rounds", "--trials": "trials" }, flags: {} });
const n = positiveInt("--n", raw.n);
const rounds = positiveInt("--rounds", raw.rounds);
const trials = positiveInt("--trials", raw.trials);
requirePkg();
installExitHandlers(log);

const server = await startSocketIoServer(30000);
const site = await startStaticServer((urlPath) => {
  if (urlPath === "/") return { body: Buffer.from("<!doctype html><title>share bench</title>"), type: "text/html; charset=utf-8" };
  const m = packageFile(urlPath);
  return m && m.dir === "pkg" ? path.join(PKG, m.file) : null;
});
const browser = await launchChromium();
log(`chromium ${browser.version()}; ${n} events × ${rounds} rounds per configuration; ${trials} handover trials`);

let groupSeq = 0;

/** Opens `count` tabs in a fresh context, each with a client (shared or not) counting events. */
async function openTabs(count, shared) {
  const context = await browser.newContext();
  const identity = `bench-${process.pid}-${++groupSeq}`;
  const tabs = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(site.base + "/");
    await page.evaluate(async ({ url, shared, identity }) => {
      const mod = await import("/pkg/shared.js");
      await mod.default();
      window.got = 0;
      window.arrivals = [];
      window.client = mod.connect({ url, auth: { token: "good" }, shareAcrossTabs: shared, outbox: { identity }, cache: { persist: false } });
      client.on("order:status_update", (p) => {
        window.got++;
        if (window.recording) window.arrivals.push([p.seq, Date.now()]);
      });
    }, { url: server.url, shared, identity });
    tabs.push(page);
  }
  for (const page of tabs) {
    await withTimeout(page.waitForFunction(({ count, shared }) => client.state.status === "open" && (!shared || client.state.shared?.tabs === count), { count, shared }, { polling: 50 }), 30000, "tabs open");
  }
  return { context, tabs };
}

/** One burst of n events to every socket: Chromium's CPU per event per tab, in µs, by kind
 *  (renderer: the tabs' own processes; network: the browser's network service). */
async function burst(tabs) {
  for (const t of tabs) await t.evaluate(() => (window.got = 0));
  const before = cpuSnapshot(server.child.pid);
  const payload = { orderId: "ord_1", status: "out_for_delivery", message: "Your order is on its way to you now", timestamp: "2026-11-23T10:00:00.000Z", seq: 1 };
  await control(server.url, `emit?event=order:status_update&count=${n}&data=${encodeURIComponent(JSON.stringify(payload))}`);
  for (const t of tabs) {
    await withTimeout(t.waitForFunction((n) => window.got >= n, n, { polling: 20 }), 60000, "every event in every tab");
  }
  const ms = cpuDelta(before, cpuSnapshot(server.child.pid));
  const per = (kind) => ((ms[kind] ?? 0) * 1000) / n / tabs.length;
  return { renderer: per("renderer"), network: per("network"), server: per("server") };
}

// ---- CPU per event per tab, and connections ---------------------------------------------
const rows = [];
for (const count of [1, 3, 5]) {
  for (const shared of [false, true]) {
    await control(server.url, "reset");
    const { context, tabs } = await openTabs(count, shared);
    const connections = (await control(server.url, "stats")).connections;
    await burst(tabs); // warm-up, not recorded
    const runs = [];
    for (let r = 0; r < rounds; r++) runs.push(await burst(tabs));
    const mid = (kind) => median(runs.map((x) => x[kind]));
    rows.push({ count, shared, connections, renderer: mid("renderer"), network: mid("network"), server: mid("server") });
    log(`${count} tab(s) ${shared ? "shared  " : "unshared"}: ${connections} connection(s); µs/event/tab renderer ${runs.map((x) => fixed(x.renderer)).join(", ")}; network ${runs.map((x) => fixed(x.network)).join(", ")}`);
    await context.close();
  }
}

// ---- handover gap -------------------------------------------------------------------------
const gaps = [];
let seq = 0;
for (let t = 0; t < trials; t++) {
  const { context, tabs } = await openTabs(3, true);
  let leader;
  for (const p of tabs) if (await p.evaluate(() => client.state.shared.leader)) leader = p;
  const rest = tabs.filter((p) => p !== leader);
  for (const p of rest) await p.evaluate(() => ((window.recording = true), (window.arrivals = [])));
  let emitting = true;
  const emitter = (async () => {
    while (emitting) {
      await control(server.url, `emit?event=order:status_update&data=${encodeURIComponent(JSON.stringify({ orderId: "ord_1", status: "packed", message: "m", timestamp: "2026-11-23T10:00:00.000Z", seq: seq++ }))}`);
      await sleep(10);
    }
  })();
  await sleep(300);
  const closedAt = Date.now();
  await leader.close();
  await sleep(5000);
  emitting = false;
  await emitter;
  let worst = 0;
  for (const p of rest) {
    const arrivals = (await p.evaluate(() => window.arrivals)).map(([, at]) => at).filter((at) => at >= closedAt - 50 && at <= closedAt + 5000);
    let prev = closedAt;
    let gap = 0;
    for (const at of arrivals) {
      if (at >= prev) gap = Math.max(gap, at - prev);
      prev = Math.max(prev, at);
    }
    worst = Math.max(worst, gap);
  }
  gaps.push(worst);
  log(`handover ${t + 1}/${trials}: ${worst} ms without events`);
  await context.close();
}

// ---- report -----------------------------------------------------------------------------------
const byKey = (count, shared) => rows.find((r) => r.count === count && r.shared === shared);
console.log(`\nshareAcrossTabs (${n} events, median of ${rounds} rounds; Chromium ${browser.version()}; ${HOST})\n`);
console.log("Chromium CPU per event per tab (µs), from /proc: renderer = the tabs' processes (main thread and");
console.log("the rest), network = the browser's network service. Server: socket.io's CPU per event per tab.\n");
console.log("| tabs | connections | renderer unshared | renderer shared | shared/unshared | network unshared | network shared | server unshared | server shared |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const count of [1, 3, 5]) {
  const u = byKey(count, false);
  const s = byKey(count, true);
  console.log(`| ${count} | ${u.connections} → ${s.connections} | ${fixed(u.renderer)} | ${fixed(s.renderer)} | ${fixed(s.renderer / u.renderer)}× | ${fixed(u.network)} | ${fixed(s.network)} | ${fixed(u.server)} | ${fixed(s.server)} |`);
}
const sorted = [...gaps].sort((a, b) => a - b);
console.log(`\nhandover gap over ${trials} trials (leader tab closed → events again, longest silence at a remaining tab, events every 10 ms):`);
console.log(`median ${median(gaps)} ms, p90 ${sorted[Math.floor(sorted.length * 0.9)] ?? sorted.at(-1)} ms, max ${sorted.at(-1)} ms`);
process.exit(0);
