// wiresync/tanstack: the real @tanstack/query-core 5 QueryClient, bundled for the browser with
// esbuild, driven by real events from the real socket.io test server, in Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { build } from "esbuild";
import { control, root, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio, page;

/** @tanstack/query-core as one browser ES module, resolved through its package exports. */
async function bundleQueryCore() {
  const out = await build({
    stdin: { contents: 'export * from "@tanstack/query-core";', resolveDir: join(root, "tests"), loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    define: { "process.env.NODE_ENV": '"development"' },
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

before(async () => {
  ({ sio, site, browser } = await startFixtures());
  const queryCore = await bundleQueryCore();
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.route("**/query-core.js", (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: queryCore }));
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.tanstack = await import("/tanstack.js");
    window.qcore = await import("/query-core.js");
    window.make = () =>
      mod.connect({ url: sioUrl, auth: { token: "good" }, reconnect: { initialDelayMs: 100, maxDelayMs: 300 }, outbox: false });
    /** An active query: a subscribed QueryObserver that counts its queryFn calls in `t[counter]`. */
    window.observe = (qc, queryKey, t, counter) => {
      t[counter] = 0;
      const observer = new qcore.QueryObserver(qc, { queryKey, queryFn: async () => ({ n: ++t[counter] }), staleTime: 600000 });
      return observer.subscribe(() => {});
    };
  }, sio.url);
});

after(() => stopFixtures({ sio, site, browser }));

const status = (orderId, s) =>
  encodeURIComponent(JSON.stringify({ orderId, status: s, message: "m", timestamp: "2026-11-23T10:00:00Z" }));
const emitStatus = (orderId, s) => control(sio.url, `emit?room=order:${orderId}&event=order:status_update&data=${status(orderId, s)}`);
const settle = () => new Promise((r) => setTimeout(r, 300));

test("bindQueryClient's options are checked like every other: a typo is named", async () => {
  const r = await page.evaluate(() => {
    const c = make();
    const qc = new qcore.QueryClient();
    const out = [];
    for (const options of [{ refetchTyp: "all" }, { refetchOnReconnect: false }]) {
      try {
        tanstack.bindQueryClient(c, qc, options)();
        out.push("ok");
      } catch (e) {
        out.push(`${e.code}: ${e.message}`);
      }
    }
    c.close();
    return out;
  });
  assert.deepEqual(r, ["INVALID_ARGUMENT: unknown option `refetchTyp` (did you mean `refetchType`?)", "ok"]);
});

test("rules patch and invalidate the QueryClient; only its active observer refetches", async () => {
  await page.evaluate(async () => {
    const c = make();
    const qc = new qcore.QueryClient();
    const t = { c, qc, archivedFetches: 0 };
    window.t1 = t;
    // One rule before binding, two after: both kinds reach the bridge.
    c.patchOn("order:status_update", ["order-status", "{orderId}"]);
    t.unbind = tanstack.bindQueryClient(c, qc);
    c.patchOn("order:status_update", (p) => ["order", p.orderId], (old, p) => ({ ...old, status: p.status }));
    c.invalidateOn("order:status_update", [["orders"]]);
    qc.setQueryData(["order", "tq1"], { id: "tq1", total: 30, status: "new" });
    // Cached with a queryFn, but unobserved: an invalidation marks it without refetching.
    await qc.fetchQuery({ queryKey: ["orders", "archived"], queryFn: async () => ["old", ++t.archivedFetches] });
    observe(qc, ["orders", "open"], t, "fetches");
    await waitFor(() => t.fetches === 1);
    await waitFor(() => c.state.status === "open");
    await c.subscribe("order", { orderId: "tq1" }).ready;
  });
  await emitStatus("tq1", "out_for_delivery");
  await until("the active observer refetches", () => page.evaluate(() => t1.fetches === 2));
  await settle();
  const r = await page.evaluate(() => ({
    patched: t1.qc.getQueryData(["order-status", "tq1"]),
    updated: t1.qc.getQueryData(["order", "tq1"]),
    archived: t1.qc.getQueryState(["orders", "archived"]),
    archivedFetches: t1.archivedFetches,
    open: t1.qc.getQueryData(["orders", "open"]),
    fetches: t1.fetches,
  }));
  await page.evaluate(() => { t1.unbind(); t1.c.close(); });
  assert.deepEqual(r.patched, { orderId: "tq1", status: "out_for_delivery", message: "m", timestamp: "2026-11-23T10:00:00Z" },
    "the template rule set the payload as the QueryClient's data");
  assert.deepEqual(r.updated, { id: "tq1", total: 30, status: "out_for_delivery" }, "the updater patched the QueryClient's old data");
  assert.equal(r.archived.isInvalidated, true, "the inactive query is invalidated");
  assert.deepEqual(r.archived.data, ["old", 1], "but keeps its data");
  assert.equal(r.archivedFetches, 1, "and is not refetched");
  assert.deepEqual(r.open, { n: 2 }, "the active observer refetched");
  assert.equal(r.fetches, 2, "exactly once");
});

test("a removed rule stops driving the QueryClient; after unbind nothing does", async () => {
  await page.evaluate(async () => {
    const c = make();
    const qc = new qcore.QueryClient();
    const t = { c, qc, events: 0 };
    window.t2 = t;
    t.unbind = tanstack.bindQueryClient(c, qc);
    t.removeInvalidate = c.invalidateOn("order:status_update", [["orders"]]);
    c.patchOn("order:status_update", ["order-status", "{orderId}"]);
    c.on("order:status_update", () => t.events++);
    observe(qc, ["orders", "open"], t, "fetches");
    await waitFor(() => t.fetches === 1 && c.state.status === "open");
    await c.subscribe("order", { orderId: "tq2" }).ready;
  });
  const patched = () => page.evaluate(() => t2.qc.getQueryData(["order-status", "tq2"])?.status);

  await emitStatus("tq2", "preparing");
  await until("the invalidate rule refetches", () => page.evaluate(() => t2.fetches === 2));
  assert.equal(await patched(), "preparing", "both rules drive the QueryClient");

  await page.evaluate(() => t2.removeInvalidate());
  await emitStatus("tq2", "out_for_delivery");
  await until("the patch rule still runs", async () => (await patched()) === "out_for_delivery");
  await settle();
  assert.equal(await page.evaluate(() => t2.fetches), 2, "the removed rule no longer refetches");
  assert.equal(await page.evaluate(() => t2.qc.getQueryState(["orders", "open"]).isInvalidated), false,
    "nor marks the query invalidated");

  await page.evaluate(() => {
    t2.unbind();
    t2.unbind(); // idempotent
    t2.c.invalidateOn("order:status_update", [["orders"]]);
    t2.c.patchOn("order:status_update", ["late", "{orderId}"]);
  });
  await emitStatus("tq2", "delivered");
  await until("the third event", () => page.evaluate(() => t2.events === 3));
  await settle();
  const r = await page.evaluate(() => ({
    patched: t2.qc.getQueryData(["order-status", "tq2"]).status,
    late: t2.qc.getQueryData(["late", "tq2"]),
    fetches: t2.fetches,
    ownCache: t2.c.cache.getQueryData(["order-status", "tq2"])?.status,
  }));
  await page.evaluate(() => t2.c.close());
  assert.equal(r.ownCache, "delivered", "the rule still drives the client's own cache");
  assert.equal(r.patched, "out_for_delivery", "but no longer the unbound QueryClient");
  assert.equal(r.late, undefined, "nor does a rule added after unbind");
  assert.equal(r.fetches, 2, "and nothing refetches");
});

test("active queries refetch after an unrecovered reconnect, not after the first connect or a recovered one", async () => {
  await page.evaluate(async () => {
    const c = make();
    const qc = new qcore.QueryClient();
    const quiet = new qcore.QueryClient();
    const t = { c, qc, posts: 0 };
    window.t3 = t;
    // Bound before the first connect, which must not count as a reconnect.
    t.unbind = tanstack.bindQueryClient(c, qc);
    t.unbindQuiet = tanstack.bindQueryClient(c, quiet, { refetchOnReconnect: false });
    observe(qc, ["feed"], t, "fetches");
    observe(quiet, ["feed"], t, "quietFetches");
    c.on("feed:new_post", () => t.posts++);
    await waitFor(() => c.state.status === "open" && t.fetches === 1 && t.quietFetches === 1);
    await c.subscribe("feed", { feedId: "tq-feed" }).ready;
  });
  await settle();
  assert.equal(await page.evaluate(() => t3.fetches), 1, "the first connect refetches nothing");

  // Recovery resumes from the last event's offset, so one event arrives before the drop.
  const post = { postId: "p1", userId: "u", userName: "U", content: "hi", timestamp: "2026-11-23T10:00:00Z" };
  await control(sio.url, `emit?room=feed:tq-feed&event=feed:new_post&data=${encodeURIComponent(JSON.stringify(post))}`);
  await until("a post", () => page.evaluate(() => t3.posts === 1));
  await control(sio.url, "drop");
  await until("recovered", () => page.evaluate(() => t3.c.state.status === "open" && t3.c.state.recovered));
  await settle();
  assert.equal(await page.evaluate(() => t3.fetches), 1, "nothing missed: no refetch");

  await control(sio.url, "drop?forget=1");
  await until("refetch after the unrecovered reconnect", () => page.evaluate(() => t3.fetches === 2));
  await settle();
  const r = await page.evaluate(() => ({ recovered: t3.c.state.recovered, fetches: t3.fetches, quiet: t3.quietFetches }));
  await page.evaluate(() => { t3.unbind(); t3.unbindQuiet(); t3.c.close(); });
  assert.equal(r.recovered, false);
  assert.equal(r.fetches, 2, "one refetch per unrecovered reconnect");
  assert.equal(r.quiet, 1, "refetchOnReconnect: false leaves the queries alone");
});
