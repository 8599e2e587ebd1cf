// Optimistic mutations over the durable outbox, in headless Chromium with real IndexedDB and the
// real socket.io test server (whose ledger acks each clientMessageId, or rejects on demand).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio;
let n = 0;
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => ({ sio, site, browser } = await startFixtures()));
after(() => stopFixtures({ sio, site, browser }));
beforeEach(() => control(sio.url, "outbox/reset"));

async function prepare(page) {
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page, 8000);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    /** A client whose connection is refused until `setAuth({ token: "good" })`. */
    window.make = (name, extra = {}) => {
      const client = mod.connect({
        url: sioUrl,
        auth: { token: "wrong" },
        reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
        ackTimeoutMs: 1000,
        outbox: { name, retry: { initialDelayMs: 50, maxDelayMs: 100 } },
        ...extra,
      });
      client.onError(() => {}); // the refusals are expected
      return client;
    };
    window.addLine = { key: ["cart"], update: (old, p) => [...(old ?? []), p.item] };
  }, sio.url);
}

async function newPage() {
  const page = await (await browser.newContext()).newPage();
  await prepare(page);
  return page;
}

test("an optimistic update shows at once offline, server data lands beneath it, the ack lifts it", async () => {
  const page = await newPage();
  const r = await page.evaluate(async (name) => {
    const c = make(name);
    c.cache.setQueryData(["cart"], ["a"]);
    const pending = c.mutate({ event: "cart:add_line", payload: { item: "x" }, optimistic: addLine });
    const atOnce = c.cache.getQueryData(["cart"]);
    const { id } = await pending;
    c.cache.setQueryData(["cart"], (old) => [...old, "b"]); // a server patch: `old` is the server's data
    const rebased = c.cache.getQueryData(["cart"]);
    const layers = c.pendingMutations(["cart"]).map((l) => l.id);
    c.setAuth({ token: "good" });
    await waitFor(() => c.pendingMutations(["cart"]).length === 0);
    const afterAck = c.cache.getQueryData(["cart"]);
    c.close();
    return { id, atOnce, rebased, layers, afterAck };
  }, uniq("ack"));
  assert.deepEqual(r.atOnce, ["a", "x"], "applied before the enqueue even resolved");
  assert.deepEqual(r.rebased, ["a", "b", "x"], "client-wins: the layer is re-applied over the new server data");
  assert.deepEqual(r.layers, [r.id], "the layer is the outbox entry");
  assert.deepEqual(r.afterAck, ["a", "b"], "acked: the server data shows");
  const stats = await control(sio.url, "outbox/stats");
  assert.deepEqual(stats.applied.map((a) => a.payload.item), ["x"]);
  await page.context().close();
});

test("a rejected mutation rolls back by itself", async () => {
  await control(sio.url, "outbox/reject?n=1&code=OUT_OF_STOCK");
  const page = await newPage();
  const r = await page.evaluate(async (name) => {
    const c = make(name);
    c.cache.setQueryData(["cart"], ["a"]);
    const failed = [];
    c.outbox.onFailed((e) => failed.push(e.failedReason));
    await c.mutate({ event: "cart:add_line", payload: { item: "x" }, optimistic: addLine });
    const before = c.cache.getQueryData(["cart"]);
    c.setAuth({ token: "good" });
    await waitFor(() => failed.length === 1);
    const r = { before, failed, after: c.cache.getQueryData(["cart"]), layers: c.pendingMutations(["cart"]).length };
    c.close();
    return r;
  }, uniq("reject"));
  assert.deepEqual(r.before, ["a", "x"]);
  assert.deepEqual(r.failed, ["rejected: OUT_OF_STOCK"]);
  assert.deepEqual(r.after, ["a"], "rolled back");
  assert.equal(r.layers, 0);
  await page.context().close();
});

test("strategies: server-wins drops the layer, newest-wins compares timestamps, merge merges", async () => {
  const page = await newPage();
  const r = await page.evaluate(async (name) => {
    const c = make(name);
    const out = {};
    const rename = (strategy, extra = {}) => ({
      key: ["profile", strategy],
      update: (old, p) => ({ ...old, name: p.name, updatedAt: Date.now() }),
      strategy,
      ...extra,
    });
    for (const s of ["server-wins", "newest-wins", "merge"]) c.cache.setQueryData(["profile", s], { name: "Ann", bio: "old", updatedAt: 1 });

    await c.mutate({ event: "profile:rename", payload: { name: "Bea" }, optimistic: rename("server-wins") });
    c.cache.setQueryData(["profile", "server-wins"], { name: "Ann", bio: "new", updatedAt: 2 });
    out.serverWins = [c.cache.getQueryData(["profile", "server-wins"]).name, c.pendingMutations(["profile", "server-wins"]).length];

    await c.mutate({ event: "profile:rename", payload: { name: "Bea" }, optimistic: rename("newest-wins") });
    c.cache.setQueryData(["profile", "newest-wins"], { name: "Ann", bio: "older", updatedAt: 5 });
    out.olderServer = c.cache.getQueryData(["profile", "newest-wins"]);
    c.cache.setQueryData(["profile", "newest-wins"], { name: "Cy", bio: "newer", updatedAt: Date.now() + 60000 });
    out.newerServer = [c.cache.getQueryData(["profile", "newest-wins"]).name, c.pendingMutations(["profile", "newest-wins"]).length];

    const merge = (server, mine) => ({ ...server, name: mine.name });
    await c.mutate({ event: "profile:rename", payload: { name: "Bea" }, optimistic: rename("merge", { merge }) });
    c.cache.setQueryData(["profile", "merge"], { name: "Ann", bio: "merged", updatedAt: 3 });
    out.merged = c.cache.getQueryData(["profile", "merge"]);
    c.close();
    return out;
  }, uniq("strategies"));
  assert.deepEqual(r.serverWins, ["Ann", 0], "server-wins: the server data replaces the layer");
  assert.equal(r.olderServer.name, "Bea", "newest-wins: an older server write stays beneath");
  assert.equal(r.olderServer.bio, "older");
  assert.deepEqual(r.newerServer, ["Cy", 0], "newest-wins: a newer server write drops the layer");
  assert.deepEqual([r.merged.name, r.merged.bio], ["Bea", "merged"], "merge(server, optimistic)");
  await page.context().close();
});

test("pending layers are restored with the outbox after a reload, then lifted on delivery", async () => {
  const page = await newPage();
  const name = uniq("reload");
  const before = await page.evaluate(async (name) => {
    const c = make(name, { cache: { name, persist: { debounceMs: 10 } } });
    c.optimisticOn("cart:add_line", addLine);
    await c.cache.ready;
    c.cache.setQueryData(["cart"], ["a"]);
    await c.mutate({ event: "cart:add_line", payload: { item: "x" } });
    await c.mutate({ event: "cart:add_line", payload: { item: "y" } });
    // The cache's server data (["a"]) reaches IndexedDB after its debounce.
    const stored = async () => {
      // Found by listing: opening a name that does not exist yet would create it empty.
      const found = (await indexedDB.databases()).find((d) => d.name.startsWith(`wiresync-cache:${name}:`));
      if (!found) return 0;
      const db = await new Promise((res, rej) => { const r = indexedDB.open(found.name); r.onsuccess = () => res(r.result); r.onerror = rej; });
      const n = await new Promise((res) => { const r = db.transaction("entries").objectStore("entries").count(); r.onsuccess = () => res(r.result); });
      db.close();
      return n;
    };
    for (let i = 0; i < 100 && (await stored()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const before = { data: c.cache.getQueryData(["cart"]), layers: c.pendingMutations(["cart"]).length };
    c.close();
    return before;
  }, name);
  assert.deepEqual(before, { data: ["a", "x", "y"], layers: 2 }, "one layer per mutation");
  await page.reload();
  await prepare(page);
  const r = await page.evaluate(async (name) => {
    const c = make(name, { cache: { name, persist: true } });
    c.optimisticOn("cart:add_line", addLine);
    await c.cache.ready;
    await waitFor(() => c.pendingMutations(["cart"]).length === 2);
    const restored = c.cache.getQueryData(["cart"]);
    c.setAuth({ token: "good" });
    await waitFor(() => c.pendingMutations(["cart"]).length === 0);
    const delivered = c.cache.getQueryData(["cart"]);
    c.close();
    return { restored, delivered };
  }, name);
  assert.deepEqual(r.restored, ["a", "x", "y"], "the persisted server data with both layers, in order");
  assert.deepEqual(r.delivered, ["a"]);
  const stats = await control(sio.url, "outbox/stats");
  assert.deepEqual(stats.applied.map((a) => a.payload.item), ["x", "y"]);
  await page.context().close();
});

test("a mutation that cannot be queued is rolled back and rejects", async () => {
  const page = await newPage();
  const r = await page.evaluate(async (name) => {
    const c = make(name, { outbox: { name, capacity: 1, overflow: "reject" } });
    c.cache.setQueryData(["cart"], []);
    await c.mutate({ event: "cart:add_line", payload: { item: "x" }, optimistic: addLine });
    let code;
    try {
      await c.mutate({ event: "cart:add_line", payload: { item: "y" }, optimistic: addLine });
    } catch (e) {
      code = e.code;
    }
    let bad;
    try {
      await c.mutate({ event: "cart:add_line", payload: {}, optimistic: { key: ["cart"] } });
    } catch (e) {
      bad = e.code;
    }
    const r = { code, bad, data: c.cache.getQueryData(["cart"]) };
    c.close();
    return r;
  }, uniq("full"));
  assert.equal(r.code, "OUTBOX_FULL");
  assert.equal(r.bad, "INVALID_ARGUMENT");
  assert.deepEqual(r.data, ["x"], "only the queued mutation shows");
  await page.context().close();
});

test("a layer a strategy dropped does not come back while its entry is still queued", async () => {
  const page = await newPage();
  const r = await page.evaluate(async (name) => {
    const c = make(name);
    c.optimisticOn("profile:rename", {
      key: ["profile"],
      update: (old, p) => ({ ...old, name: p.name }),
      strategy: "server-wins",
    });
    c.cache.setQueryData(["profile"], { name: "Ann" });
    await c.mutate({ event: "profile:rename", payload: { name: "Bea" } });
    const optimistic = c.cache.getQueryData(["profile"]).name;
    c.cache.setQueryData(["profile"], { name: "Cy" }); // the server's word: the layer goes
    await c.mutate({ event: "note:add", payload: { n: 1 } }); // the outbox changes: layers are reconciled
    const r = { optimistic, after: c.cache.getQueryData(["profile"]).name, layers: c.pendingMutations(["profile"]).length, queued: c.outbox.list().length };
    c.close();
    return r;
  }, uniq("dropped"));
  assert.equal(r.optimistic, "Bea");
  assert.equal(r.queued, 2, "the rename is still queued");
  assert.deepEqual([r.after, r.layers], ["Cy", 0], "and its dropped layer stays dropped");
  await page.context().close();
});
