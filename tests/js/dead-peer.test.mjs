// A server that stops answering while its TCP connection stays up (a dead peer: a NAT that
// dropped the mapping, a frozen process). Only the heartbeat can tell; the real socket.io
// server (with short pings, 400 + 300 ms) goes silent on /control/mute.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { control, launch, root, serveStatic, testServer, wiresyncPage } from "./harness.mjs";

const PING_INTERVAL = 400;
const PING_TIMEOUT = 300;
let browser, site, sio, page;

before(async () => {
  sio = await testServer("sio", { SIO_PING_INTERVAL: String(PING_INTERVAL), SIO_PING_TIMEOUT: String(PING_TIMEOUT) });
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
  page = await wiresyncPage(browser, site, 8000);
});

after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
});

test("a silent server is found dead by the heartbeat, the client reconnects, and the outbox resumes", async () => {
  await control(sio.url, "outbox/reset");
  await page.evaluate(async (url) => {
    const client = wiresync.connect({
      url,
      auth: { token: "good" },
      reconnect: { initialDelayMs: 100, maxDelayMs: 200 },
      ackTimeoutMs: 500,
      outbox: { name: "dead-peer-" + Math.random(), retry: { initialDelayMs: 100, maxDelayMs: 200 } },
    });
    const log = { errors: [], states: [] };
    client.onError((e) => log.errors.push({ code: e.code, at: performance.now() }));
    client.onState((s) => log.states.push({ status: s.status, at: performance.now() }));
    window.dead = { client, log };
    await waitFor(() => client.state.status === "open");
    await client.outbox.enqueue("note:add", { n: 1 });
    await waitFor(() => client.outbox.status().pending + client.outbox.status().inFlight === 0);
  }, sio.url);
  const muted = await control(sio.url, "mute?ms=10000");
  assert.equal(muted.muted, 1);
  const r = await page.evaluate(async () => {
    const { client, log } = window.dead;
    const mutedAt = performance.now();
    // Queued while the peer is dead: sent into the silence, then again after the reconnect.
    const ids = [];
    for (const n of [2, 3]) ids.push((await client.outbox.enqueue("note:add", { n })).id);
    await waitFor(() => log.errors.some((e) => e.code === "HEARTBEAT_TIMEOUT"));
    const found = log.errors.find((e) => e.code === "HEARTBEAT_TIMEOUT").at - mutedAt;
    await waitFor(() => client.state.status === "open" && log.states.some((s) => s.at > mutedAt && s.status === "reconnecting"));
    await waitFor(() => client.outbox.status().pending + client.outbox.status().inFlight === 0);
    client.close();
    return { ids, found, errors: log.errors.map((e) => e.code) };
  });
  console.log(`# dead peer found ${Math.round(r.found)} ms after the server went silent (pingInterval + pingTimeout = ${PING_INTERVAL + PING_TIMEOUT} ms)`);
  // The last ping came at most one interval before the silence, so no false alarm comes
  // before pingTimeout (less some scheduling slack); and it is found long before the silent
  // connection is cut at 10 s: the heartbeat found it, not a TCP close.
  assert.ok(r.found >= PING_TIMEOUT - 100, `found after ${r.found} ms`);
  assert.ok(r.found < 5000, `found after ${r.found} ms`);
  assert.ok(r.errors.includes("HEARTBEAT_TIMEOUT"), r.errors.join());
  const applied = (await control(sio.url, "outbox/stats")).applied.map((a) => a.payload.n);
  assert.deepEqual(applied, [1, 2, 3], "each message applied once, in order");
});
