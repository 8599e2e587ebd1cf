// The query cache across reloads (real IndexedDB) and across tabs (real BroadcastChannel), in
// headless Chromium with the real socket.io test server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio;
let n = 0;
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => ({ sio, site, browser } = await startFixtures()));
after(() => stopFixtures({ sio, site, browser }));

/** Loads the package in `page` and defines `make(cache)` and `waitFor`. */
async function prepare(page) {
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.make = (cache) =>
      mod.connect({ url: sioUrl, auth: { token: "good" }, reconnect: { initialDelayMs: 100, maxDelayMs: 300 }, outbox: false, cache });
    /** Resolves with the records once `ok(records)` holds (polled; bounded by waitFor). */
    window.recordsWhen = async (name, ok) => {
      let last;
      await waitFor(() => {
        records(name).then((r) => (last = r));
        return last && ok(last);
      });
      return last;
    };
    /** Counts IndexedDB writes (put) made by anything on the page from now on. */
    window.puts = 0;
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      window.puts++;
      return put.apply(this, args);
    };
    /** The records of a cache's database. */
    window.records = async (name) => {
      // Looked up first: opening a database that does not exist would create it empty.
      if (!(await indexedDB.databases()).some((d) => d.name === `wiresync-cache:${name}:`)) return [];
      const db = await new Promise((res, rej) => { const r = indexedDB.open(`wiresync-cache:${name}:`); r.onsuccess = () => res(r.result); r.onerror = rej; });
      const all = await new Promise((res) => { const r = db.transaction("entries").objectStore("entries").getAll(); r.onsuccess = () => res(r.result); });
      db.close();
      return all;
    };
  }, sio.url);
}

async function newPage(context) {
  const page = await context.newPage();
  await prepare(page);
  return page;
}

test("persisted queries come back after a reload with their age; one change writes one record", async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  const name = uniq("persist");
  const before = await page.evaluate(async (name) => {
    const c = make({ name, persist: { debounceMs: 20 } });
    await c.cache.ready;
    c.cache.setQueryData(["order", { id: "1" }], { status: "new", total: 30 });
    c.cache.setQueryData(["order", { id: "2" }], { status: "paid" });
    c.cache.setQueryData(["wallet"], { balance: 5 });
    const first = await recordsWhen(name, (r) => r.length === 3);
    const putsBefore = puts;
    c.cache.setQueryData(["order", { id: "1" }], (old) => ({ ...old, status: "shipped" }));
    c.cache.removeQueries({ queryKey: ["wallet"] });
    const second = await recordsWhen(name, (r) => r.length === 2 && r.some((x) => x.data.includes("shipped")));
    const changedPuts = puts - putsBefore;
    const at = c.cache.getQueryState(["order", { id: "2" }]).dataUpdatedAt;
    c.close();
    return { first, second, at, changedPuts, persistence: c.cache.persistence };
  }, name);
  assert.equal(before.persistence, "indexeddb");
  assert.equal(before.first.length, 3, JSON.stringify(before.first));
  const byId = (list) => Object.fromEntries(list.map((r) => [r.id, r]));
  const [a, b] = [byId(before.first), byId(before.second)];
  assert.deepEqual(Object.keys(b).sort(), ['["order",{"id":"1"}]', '["order",{"id":"2"}]'], "the removed query's record is gone");
  assert.equal(b['["order",{"id":"2"}]'].at, a['["order",{"id":"2"}]'].at);
  assert.equal(before.changedPuts, 1, "one changed query, one record written (the removal is a delete)");
  assert.ok(b['["order",{"id":"1"}]'].at >= a['["order",{"id":"1"}]'].at);
  assert.ok(!JSON.stringify(before.second).includes("good"), "no auth in the cache store");

  await page.reload();
  await prepare(page);
  const after = await page.evaluate(async (name) => {
    const c = make({ name, persist: { debounceMs: 10 } });
    const early = c.cache.persistence;
    await c.cache.ready;
    await new Promise((r) => setTimeout(r, 100)); // a save would have happened by now
    const r = {
      putsAfterRestore: puts,
      early,
      one: c.cache.getQueryData(["order", { id: "1" }]),
      two: c.cache.getQueryState(["order", { id: "2" }]),
      wallet: c.cache.getQueryData(["wallet"]),
      all: c.cache.getQueriesData({ queryKey: ["order"] }).length,
    };
    c.close();
    return r;
  }, name);
  assert.equal(after.early, "loading");
  assert.deepEqual(after.one, { status: "shipped", total: 30 });
  assert.deepEqual(after.two.data, { status: "paid" });
  assert.equal(after.two.dataUpdatedAt, before.at, "restored with the age it had");
  assert.equal(after.wallet, undefined);
  assert.equal(after.putsAfterRestore, 0, "restoring writes nothing back");
  assert.equal(after.all, 2);
  await context.close();
});

test("maxAgeMs and buster drop what they should on load", async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  const name = uniq("expire");
  await page.evaluate(async (name) => {
    const c = make({ name, persist: { debounceMs: 10, buster: "v1" } });
    await c.cache.ready;
    c.cache.setQueryData(["old"], 1);
    await recordsWhen(name, (r) => r.length === 1);
    await new Promise((r) => setTimeout(r, 700)); // ["old"] ages
    c.cache.setQueryData(["new"], 2);
    await recordsWhen(name, (r) => r.length === 2);
    c.close();
  }, name);
  const r = await page.evaluate(async (name) => {
    const load = async (persist) => {
      const c = make({ name, persist });
      await c.cache.ready;
      const got = [c.cache.getQueryData(["old"]), c.cache.getQueryData(["new"])];
      c.close();
      return got;
    };
    const young = await load({ buster: "v1", maxAgeMs: 500 });
    const left = (await records(name)).map((x) => x.id);
    const busted = await load({ buster: "v2" });
    return { young, left, busted, finally: (await records(name)).length };
  }, name);
  assert.deepEqual(r.young, [undefined, 2], "the entry older than maxAgeMs is dropped, the young one kept");
  assert.deepEqual(r.left, ['["new"]'], "and deleted from the store");
  assert.deepEqual(r.busted, [undefined, undefined], "another buster drops everything");
  assert.equal(r.finally, 0);
  await context.close();
});

test("a second tab sees invalidations and patches; its active observer refetches", async () => {
  const context = await browser.newContext();
  const [one, two] = [await newPage(context), await newPage(context)];
  const name = uniq("tabs");
  await two.evaluate(async (name) => {
    const c = make({ name });
    const t = { fetches: 0, touched: [], c };
    window.t = t;
    c.cache.setQueryData(["orders", "archived"], ["a"]);
    c.cache.observe(["orders", "open"], { queryFn: async () => ({ n: ++t.fetches }), staleTime: 600000 }, () => {});
    c.cache.watch({ queryKey: ["orders"] }, (keys) => t.touched.push(...keys.map((k) => JSON.stringify(k))));
    await waitFor(() => t.fetches === 1);
  }, name);
  await one.evaluate(async (name) => {
    const c = make({ name });
    window.c = c;
    await c.cache.invalidateQueries({ queryKey: ["orders"] });
    c.cache.setQueryData(["order", "9"], { status: "delivered" });
    // A client with broadcasting off stays to itself.
    const quiet = make({ name, broadcast: false });
    quiet.cache.setQueryData(["order", "10"], { status: "lost" });
    quiet.close();
  }, name);
  await until("the other tab refetched", () => two.evaluate(() => t.fetches === 2));
  await until("the patch arrived", () => two.evaluate(() => t.c.cache.getQueryData(["order", "9"]) !== undefined));
  const r = await two.evaluate(() => ({
    archived: t.c.cache.getQueryState(["orders", "archived"]),
    patched: t.c.cache.getQueryData(["order", "9"]),
    quiet: t.c.cache.getQueryData(["order", "10"]),
    touched: t.touched,
  }));
  assert.equal(r.archived.isInvalidated, true, "the inactive query is invalidated in the other tab");
  assert.deepEqual(r.archived.data, ["a"], "and not refetched");
  assert.deepEqual(r.patched, { status: "delivered" });
  assert.equal(r.quiet, undefined);
  assert.ok(r.touched.includes('["orders","open"]'), r.touched.join(" "));
  await context.close();
});

test("predicate filters, getQueriesData and gc of unobserved queries", async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  const r = await page.evaluate(async () => {
    const c = make({ gcTimeMs: 200 });
    for (const id of ["1", "2", "3"]) c.cache.setQueryData(["order", id], { id, total: Number(id) * 10 });
    const big = c.cache.getQueriesData({ queryKey: ["order"], predicate: (q) => q.state.data.total >= 20 });
    const n = await c.cache.invalidateQueries({ predicate: (q) => q.queryKey[1] === "2" });
    const invalidated = ["1", "2", "3"].map((id) => c.cache.getQueryState(["order", id]).isInvalidated);
    const removed = c.cache.removeQueries({ queryKey: ["order"], predicate: (q) => q.queryKey[1] !== "1" });
    const left = c.cache.getQueriesData({}).map(([k]) => k[1]);
    let fetches = 0;
    const stop = c.cache.observe(["profile"], { queryFn: () => ({ n: ++fetches }), gcTime: 200 }, () => {});
    await waitFor(() => fetches === 1);
    stop();
    await new Promise((res) => setTimeout(res, 450));
    const gone = [c.cache.getQueryState(["profile"]), c.cache.getQueryData(["order", "1"])];
    c.close();
    return { big, n, invalidated, removed, left, gone };
  });
  assert.deepEqual(r.big.map(([k]) => k[1]).sort(), ["2", "3"]);
  assert.equal(r.n, 1);
  assert.deepEqual(r.invalidated, [false, true, false]);
  assert.equal(r.removed, 2);
  assert.deepEqual(r.left, ["1"]);
  assert.deepEqual(r.gone, [undefined, undefined], "inactive queries are collected after gcTime");
  await context.close();
});

test("bad cache options are typed errors", async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  const codes = await page.evaluate(() =>
    [{ persist: "yes" }, { persist: { maxAgeMs: -1 } }, { broadcast: 1 }, "on"].map((cache) => {
      try {
        make(cache).close();
        return "no error";
      } catch (e) {
        return e.code;
      }
    }));
  assert.deepEqual(codes, ["INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
  await context.close();
});

test("another identity gets its own cache: the first user's queries are neither shown nor lost", async () => {
  const context = await browser.newContext();
  const page = await newPage(context);
  const name = uniq("identity");
  const r = await page.evaluate(async (name) => {
    const c = make({ name, identity: "ann", persist: { debounceMs: 10 } });
    await c.cache.ready;
    c.cache.setQueryData(["wallet"], { balance: 100 });
    let fetches = 0;
    c.cache.observe(["profile"], { queryFn: () => ({ user: c.who, n: ++fetches }) }, () => {});
    c.who = "ann";
    await waitFor(() => fetches === 1);
    c.who = "bob"; // switched at once: ann's unsaved wallet still goes to ann's store
    c.setAuth({ token: "good" }, { identity: "bob" });
    const right = { wallet: c.cache.getQueryData(["wallet"]) };
    await c.cache.ready;
    await waitFor(() => fetches >= 2); // the reconnect with bob's auth may refetch once more
    right.profile = c.cache.getQueryData(["profile"]);
    c.cache.setQueryData(["wallet"], { balance: 7 });
    c.close();
    const back = make({ name, identity: "ann", persist: true });
    await back.cache.ready;
    right.annAgain = back.cache.getQueryData(["wallet"]);
    back.close();
    return right;
  }, name);
  assert.equal(r.wallet, undefined, "bob does not see ann's wallet");
  assert.equal(r.profile.user, "bob", "the observed query fetched again, as bob");
  assert.deepEqual(r.annAgain, { balance: 100 }, "ann's stored cache is intact");
  await context.close();
});
