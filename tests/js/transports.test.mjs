// HTTP long-polling and the upgrade, in headless Chromium against the real socket.io 4.8.4 test
// server behind a small Node proxy on 127.0.0.1 (tests/servers/proxy.mjs) that refuses
// WebSocket upgrades, as some corporate proxies do, and later allows them. Also: `transports`
// and `url` checked at connect, and `url` failover between two servers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { control, launch, root, serveStatic, testServer, until, wiresyncPage } from "./harness.mjs";
import { startProxy } from "../servers/proxy.mjs";

let browser, site, sio, proxy, page;

before(async () => {
  sio = await testServer("sio", {});
  proxy = await startProxy({ targets: [sio.url], websocket: false });
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
  page = await wiresyncPage(browser, site, 10_000);
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  site?.close();
  sio?.close();
});

test("behind a proxy that refuses WebSockets: connects by polling; events, acks both ways and the outbox work", async () => {
  await control(sio.url, "outbox/reset");
  await page.evaluate(async (url) => {
    const client = wiresync.connect({
      url,
      transports: ["polling", "websocket"],
      auth: { token: "good" },
      outbox: { name: "polling-" + Math.random() },
    });
    const log = { events: [], errors: [], transports: [] };
    client.onError((e) => log.errors.push(e.code));
    client.onState((s) => log.transports.push(s.transport));
    client.on("order:status_update", (u) => log.events.push(u.status));
    client.on("server:question", (q, meta) => meta.ack({ over: client.state.transport, q: q.q }));
    window.t1 = { client, log };
    await waitFor(() => client.state.status === "open");
    await client.subscribe("order", { orderId: "poll1" }).ready;
  }, proxy.url);
  // The upgrade was tried and refused; the session stays on polling.
  await until("the refused upgrade", () => proxy.stats().refusedUpgrades >= 1);
  const payload = (status) => encodeURIComponent(JSON.stringify({ orderId: "poll1", status, message: "m", timestamp: "t" }));
  for (const s of ["a", "b", "c"]) await control(sio.url, `emit?room=order:poll1&event=order:status_update&data=${payload(s)}`);
  await until("three events", () => page.evaluate(() => window.t1.log.events.length === 3));
  const { answers } = await control(sio.url, "ask?event=server:question");
  const r = await page.evaluate(async () => {
    const { client, log } = window.t1;
    const echoed = await client.emitWithAck("echo", { n: 7 });
    for (let n = 1; n <= 20; n++) await client.outbox.enqueue("note:add", { n });
    await waitFor(() => client.outbox.status().pending + client.outbox.status().inFlight === 0);
    const state = client.state;
    client.close();
    return { echoed, state: { status: state.status, transport: state.transport, url: state.url }, log };
  });
  assert.deepEqual(r.state, { status: "open", transport: "polling", url: proxy.url });
  assert.deepEqual(r.log.events, ["a", "b", "c"], "in order, once each");
  assert.deepEqual(r.echoed, { n: 7 });
  assert.ok(answers.some((a) => a?.over === "polling" && a.q === "eta?"), JSON.stringify(answers));
  const applied = (await control(sio.url, "outbox/stats")).applied.map((a) => a.payload.n);
  assert.deepEqual(applied, Array.from({ length: 20 }, (_, i) => i + 1), "each applied once, in order");
  assert.ok(!r.log.transports.includes("websocket"), "never on a WebSocket");
  assert.deepEqual(r.log.errors, [], "a refused upgrade is not an error");
  const stats = proxy.stats();
  assert.ok(stats.polls > 0 && stats.posts > 0, JSON.stringify(stats));
});

test("binary over polling, both ways: the server's Buffers arrive with their bytes, binary emits and acks reach it, a Blob is refused", async () => {
  await control(sio.url, "reset");
  await page.evaluate(async (url) => {
    const client = wiresync.connect({ url, transports: ["polling"], auth: { token: "good" }, catalog: false });
    const t = { client, files: [], errors: [] };
    client.on("file:nested", (p) => t.files.push(p));
    client.on("server:file-question", (q, meta) => meta.ack({ answer: new Uint8Array([9, 8]), to: q.q }));
    client.onError((e) => t.errors.push(e.code));
    window.tb = t;
    await waitFor(() => client.state.status === "open");
  }, proxy.url);
  await control(sio.url, "binary?event=file:nested&shape=nested");
  await control(sio.url, "binary?event=file:nested&shape=nested");
  await until("two binary events", () => page.evaluate(() => window.tb.files.length === 2));
  const asked = await control(sio.url, "ask?event=server:file-question");
  const r = await page.evaluate(async () => {
    const { client, files, errors } = window.tb;
    const bytes = (b) => [...new Uint8Array(b)];
    const echoed = await client.emitWithAck("echo", { file: new Uint8Array([5, 6, 7]), note: "hi" });
    client.emit("upload:file", { data: new Uint8Array([10, 11]).buffer, blob: new Blob([new Uint8Array([1])]) });
    client.emit("upload:file", { data: new Uint8Array([12]).buffer });
    await waitFor(() => errors.length > 0);
    const started = performance.now();
    const refused = await client.emitWithAck("echo", new Blob([new Uint8Array([1])]), { timeoutMs: 5000 })
      .then(() => "resolved", (e) => e.code);
    const out = {
      files: files.map((p) => [bytes(p.image), bytes(p.parts[0]), bytes(p.parts[1].deep)]),
      echoed: { note: echoed.note, bytes: bytes(echoed.file) },
      transport: client.state.transport,
      errors,
      refused,
      refusedFast: performance.now() - started < 2000,
    };
    return out;
  });
  assert.deepEqual(r.files, [[[1, 2, 3], [4, 5], [6]], [[1, 2, 3], [4, 5], [6]]], "each event with its own bytes");
  assert.deepEqual(r.echoed, { note: "hi", bytes: [5, 6, 7] });
  assert.deepEqual(asked.answers, [{ answer: { type: "Buffer", data: [9, 8] }, to: "eta?" }]);
  assert.equal(r.transport, "polling");
  assert.deepEqual(r.errors, ["INVALID_ARGUMENT"], "the event with a Blob is refused, and said so");
  assert.equal(r.refused, "INVALID_ARGUMENT", "emitWithAck with a Blob rejects");
  assert.ok(r.refusedFast, "at once, not at its timeout");
  const got = await until("the upload after the refused one", async () => {
    const uploads = (await control(sio.url, "stats")).received.filter((m) => m.event === "upload:file");
    return uploads.length > 0 && uploads;
  });
  assert.deepEqual(got.map((m) => m.args[0].data), [{ type: "Buffer", data: [12] }], "only the one without a Blob");
  await page.evaluate(() => window.tb.client.close());
});

test("once the proxy allows upgrades, a new connection starts on polling and upgrades to WebSocket", async () => {
  proxy.setWebSocket(true);
  const r = await page.evaluate(async (url) => {
    const client = wiresync.connect({ url, transports: ["polling", "websocket"], auth: { token: "good" } });
    const seen = [];
    client.onState((s) => seen.push(s.transport));
    const got = [];
    client.on("order:status_update", (u) => got.push(u.status));
    await waitFor(() => client.state.transport === "websocket");
    await client.subscribe("order", { orderId: "up1" }).ready;
    window.t2 = { client, got, seen };
    return { seen };
  }, proxy.url);
  assert.equal(r.seen.find((t) => t !== null), "polling", "opened by polling first");
  const payload = encodeURIComponent(JSON.stringify({ orderId: "up1", status: "s", message: "m", timestamp: "t" }));
  await control(sio.url, `emit?room=order:up1&event=order:status_update&data=${payload}&count=5`);
  await until("five events over the WebSocket", () => page.evaluate(() => window.t2.got.length === 5));
  const echoed = await page.evaluate(async () => {
    const e = await window.t2.client.emitWithAck("echo", "after upgrade");
    window.t2.client.close();
    return e;
  });
  assert.equal(echoed, "after upgrade");
  assert.ok(proxy.stats().upgrades >= 1);
});

test('["websocket", "polling"]: a refused WebSocket gives way to polling in the same attempt', async () => {
  proxy.setWebSocket(false);
  const r = await page.evaluate(async (url) => {
    const client = wiresync.connect({ url, transports: ["websocket", "polling"], auth: { token: "good" } });
    const errors = [];
    client.onError((e) => errors.push(e.code));
    await waitFor(() => client.state.status === "open");
    const s = client.state;
    const echoed = await client.emitWithAck("echo", 1);
    client.close();
    return { transport: s.transport, attempt: s.attempt, echoed, errors };
  }, proxy.url);
  assert.deepEqual(r, { transport: "polling", attempt: 0, echoed: 1, errors: [] });
});

test("url and transports are checked at connect: typed INVALID_ARGUMENT", async () => {
  const codes = await page.evaluate(() => {
    const attempt = (o) => {
      try {
        wiresync.connect(o).close();
        return "ok";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    return [
      attempt({ url: [] }),
      attempt({ url: ["http://127.0.0.1:1", "127.0.0.1:2"] }),
      attempt({ url: "not a url" }),
      attempt({ url: () => "ftp://x" }),
      attempt({ url: () => { throw new Error("nope"); } }),
      attempt({ url: "http://127.0.0.1:1", transports: [] }),
      attempt({ url: "http://127.0.0.1:1", transports: ["polling", "polling"] }),
      attempt({ url: "http://127.0.0.1:1", transports: ["xhr"] }),
      attempt({ url: "http://127.0.0.1:1", protocol: "json", transports: ["polling"] }),
      attempt({ url: "http://127.0.0.1:1", transport: ["polling"] }),
    ];
  });
  for (const c of codes) assert.match(c, /^INVALID_ARGUMENT: /, c);
  assert.match(codes[1], /"127\.0\.0\.1:2"/);
  assert.match(codes[4], /nope/);
  assert.match(codes[9], /transports/, "the unknown key names the nearest option");
});

test("url failover: a dead first URL gives way to the next, and the state says which", async () => {
  const dead = "http://127.0.0.1:9"; // discard port: nothing listens
  const r = await page.evaluate(async ({ dead, live }) => {
    const calls = [];
    const list = wiresync.connect({ url: [dead, live], auth: { token: "good" }, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    await waitFor(() => list.state.status === "open");
    const viaList = list.state.url;
    list.close();
    const fn = wiresync.connect({
      url: (previous) => { calls.push(previous ?? null); return previous === undefined ? dead : live; },
      auth: { token: "good" },
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    });
    await waitFor(() => fn.state.status === "open");
    const viaFn = fn.state.url;
    fn.close();
    return { viaList, viaFn, calls };
  }, { dead, live: sio.url });
  assert.equal(r.viaList, sio.url);
  assert.equal(r.viaFn, sio.url);
  assert.deepEqual(r.calls, [null, dead]);
});
