// The query cache driven by real events from the real socket.io test server, in Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio, page;

before(async () => {
  ({ sio, site, browser } = await startFixtures());
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.make = (extra = {}) =>
      mod.connect({ url: sioUrl, auth: { token: "good" }, reconnect: { initialDelayMs: 100, maxDelayMs: 300 }, outbox: false, ...extra });
  }, sio.url);
});

after(() => stopFixtures({ sio, site, browser }));

const status = (orderId, s) =>
  encodeURIComponent(JSON.stringify({ orderId, status: s, message: "m", timestamp: "2026-11-23T10:00:00Z" }));

test("an event patches one key and invalidates another; only the active observer refetches", async () => {
  await page.evaluate(async () => {
    const c = make();
    const t = { fetches: 0, touched: [], c };
    window.t1 = t;
    c.patchOn("order:status_update", ["order-status", "{orderId}"]);
    c.patchOn("order:status_update", (p) => ["order", p.orderId], (old, p) => ({ ...old, status: p.status }));
    c.invalidateOn("order:status_update", [["orders"]]);
    c.cache.setQueryData(["order", "k1"], { id: "k1", total: 30, status: "new" });
    c.cache.setQueryData(["orders", "archived"], ["old"]);
    c.cache.watch({ queryKey: ["orders"] }, (keys) => t.touched.push(...keys.map((k) => JSON.stringify(k))));
    c.cache.observe(["orders", "open"], { queryFn: async () => ({ n: ++t.fetches }), staleTime: 60000 }, () => {});
    await waitFor(() => t.fetches === 1);
    await waitFor(() => c.state.status === "open");
    await c.subscribe("order", { orderId: "k1" }).ready;
  });
  await control(sio.url, `emit?room=order:k1&event=order:status_update&data=${status("k1", "out_for_delivery")}`);
  await until("refetch", () => page.evaluate(() => t1.fetches === 2));
  const r = await page.evaluate(() => ({
    patched: t1.c.cache.getQueryData(["order-status", "k1"]),
    updated: t1.c.cache.getQueryData(["order", "k1"]),
    archived: t1.c.cache.getQueryState(["orders", "archived"]),
    open: t1.c.cache.getQueryData(["orders", "open"]),
    touched: t1.touched,
    fetches: t1.fetches,
  }));
  await page.evaluate(() => t1.c.close());
  assert.equal(r.patched.status, "out_for_delivery", "the template rule set the payload as data");
  assert.deepEqual(r.updated, { id: "k1", total: 30, status: "out_for_delivery" }, "the updater patched the old data");
  assert.equal(r.archived.isInvalidated, true, "the inactive query is marked stale");
  assert.deepEqual(r.archived.data, ["old"], "but not refetched");
  assert.deepEqual(r.open, { n: 2 }, "the active observer refetched");
  assert.ok(r.touched.includes('["orders","archived"]') && r.touched.includes('["orders","open"]'), r.touched.join(" "));
});

test("active queries refetch after an unrecovered reconnect, not after a recovered one", async () => {
  await page.evaluate(async () => {
    const c = make();
    const t = { fetches: 0, c };
    window.t2 = t;
    c.cache.observe(["feed"], { queryFn: () => ({ n: ++t.fetches }), staleTime: 600000 }, () => {});
    c.on("feed:new_post", () => (t.posts = (t.posts ?? 0) + 1));
    await waitFor(() => c.state.status === "open" && t.fetches === 1);
    await c.subscribe("feed", { feedId: "f1" }).ready;
  });
  // Recovery resumes from the last event's offset, so one event arrives before the drop.
  const post = { postId: "p1", userId: "u", userName: "U", content: "hi", timestamp: "t" };
  await control(sio.url, `emit?room=feed:f1&event=feed:new_post&data=${encodeURIComponent(JSON.stringify(post))}`);
  await until("a post", () => page.evaluate(() => t2.posts === 1));
  await control(sio.url, "drop");
  await until("recovered", () => page.evaluate(() => t2.c.state.status === "open" && t2.c.state.recovered));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await page.evaluate(() => t2.fetches), 1, "nothing missed: no refetch");
  await control(sio.url, "drop?forget=1");
  await until("refetch after the unrecovered reconnect", () => page.evaluate(() => t2.fetches === 2));
  assert.equal(await page.evaluate(() => t2.c.state.recovered), false);
  await page.evaluate(() => t2.c.close());
});

test("bad keys and filters are typed errors (a promise-returning call rejects); a null queryKey selects nothing", async () => {
  const r = await page.evaluate(async () => {
    const c = make();
    c.cache.setQueryData(["kept"], 1);
    const out = [];
    for (const f of [
      () => c.cache.setQueryData("not-an-array", 1),
      () => c.cache.invalidateQueries({ type: "sometimes" }),
      () => c.cache.removeQueries({ queryKey: null }),
      () => c.cache.findAll({ queryKey: null }),
    ]) {
      try {
        await f();
        out.push("no error");
      } catch (e) {
        out.push(e.code);
      }
    }
    const kept = c.cache.getQueryData(["kept"]);
    c.close();
    return { out, kept };
  });
  assert.deepEqual(r.out, ["INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
  assert.equal(r.kept, 1, "removeQueries({ queryKey: null }) removed nothing");
});

test("a predicate with refetchType: the predicate selects, refetchType acts", async () => {
  const r = await page.evaluate(async () => {
    const c = make();
    for (const n of [1, 2, 3]) c.cache.setQueryData(["p", n], n);
    const matched = await c.cache.invalidateQueries({ queryKey: ["p"], predicate: (q) => q.queryKey[1] > 1, refetchType: "none" });
    const invalidated = c.cache.findAll({ queryKey: ["p"] }).filter((q) => q.state.isInvalidated).map((q) => q.queryKey[1]);
    c.close();
    return { matched, invalidated: invalidated.sort() };
  });
  assert.deepEqual(r, { matched: 2, invalidated: [2, 3] });
});

test("a key template fills the same in the native rule and for bridges: fields and indexes, nothing else", async () => {
  await page.evaluate(async () => {
    const c = make();
    const templates = [["t", "a", "{items.0.id}"], ["t", "b", "{items.length}"], ["t", "c", "{n}"], ["t", "d", { x: "{meta.x}" }]];
    const bridged = [];
    c.eachRule((rule) => { window.fillRule = rule; });
    c.invalidateOn("fill:test", templates);
    for (const k of [["t", "a", 7], ["t", "b", 1], ["t", "c", null], ["t", "d", { x: true }]]) c.cache.setQueryData(k, 0);
    await waitFor(() => c.state.status === "open");
    window.fill = { c, bridged };
  });
  const payload = { items: [{ id: 7 }], n: null, meta: { x: true } };
  await control(sio.url, `emit?event=fill:test&data=${encodeURIComponent(JSON.stringify(payload))}`);
  await until("the native rule ran", () => page.evaluate(() => fill.c.cache.getQueryState(["t", "a", 7]).isInvalidated));
  const r = await page.evaluate((payload) => {
    const invalidated = fill.c.cache.findAll({ queryKey: ["t"] }).filter((q) => q.state.isInvalidated).map((q) => q.queryKey);
    const bridged = fillRule.keys(payload);
    fill.c.close();
    return { invalidated, bridged };
  }, payload);
  const expected = [["t", "a", 7], ["t", "c", null], ["t", "d", { x: true }]];
  assert.deepEqual(r.bridged, expected, "what a bridge gets");
  assert.deepEqual(r.invalidated.sort(), expected.sort(), "what the native rule did");
});

test("Infinity means never: gcTimeMs and gcTime Infinity keep unobserved queries, 0 collects them", async () => {
  const r = await page.evaluate(async () => {
    const endless = make({ cache: { gcTimeMs: Infinity } });
    const prompt = make({ cache: { gcTimeMs: 0 } });
    for (const c of [endless, prompt]) c.cache.setQueryData(["gc", "set"], 1);
    const off = prompt.cache.observe(["gc", "observed"], { queryFn: () => 2, gcTime: Infinity }, () => {});
    await waitFor(() => prompt.cache.getQueryData(["gc", "observed"]) === 2);
    off();
    await new Promise((r) => setTimeout(r, 100));
    const out = {
      endless: endless.cache.getQueryData(["gc", "set"]),
      prompt: prompt.cache.getQueryData(["gc", "set"]),
      observed: prompt.cache.getQueryData(["gc", "observed"]),
    };
    endless.close();
    prompt.close();
    return out;
  });
  assert.deepEqual(r, { endless: 1, prompt: undefined, observed: 2 });
});

test("a throwing observer, watch hook or state listener is reported as HANDLER_ERROR", async () => {
  const r = await page.evaluate(async () => {
    const c = make();
    const errors = [];
    c.onError((e) => errors.push(e.code + ": " + e.message));
    c.onState(() => {
      throw new Error("state boom");
    });
    c.cache.watch({ queryKey: ["x"] }, () => {
      throw new Error("hook boom");
    });
    c.cache.observe(["x"], { queryFn: () => 2 }, () => {
      throw new Error("observer boom");
    });
    c.cache.setQueryData(["x"], 2);
    await waitFor(() => c.state.status === "open");
    const data = c.cache.getQueryData(["x"]);
    c.close();
    return { errors, data };
  });
  const has = (what) => r.errors.some((e) => e.startsWith("HANDLER_ERROR") && e.includes(what));
  assert.ok(has("state boom") && has("hook boom") && has("observer boom"), r.errors.join("\n"));
  assert.equal(r.data, 2, "the cache went on");
});

test("an observed query whose fetch failed is fetched again when the connection opens", async () => {
  const r = await page.evaluate(async () => {
    const c = make({ auth: { token: "wrong" }, cache: { retry: 0 } }); // no retry: the open refetches
    c.onError(() => {}); // the refusals are expected
    let calls = 0;
    const states = [];
    c.cache.observe(["profile"], {
      queryFn: async () => {
        if (++calls === 1) throw new Error("server unreachable");
        return { name: "Ann" };
      },
    }, (s) => states.push(s.status));
    await waitFor(() => states.includes("error"));
    c.setAuth({ token: "good" });
    await waitFor(() => c.cache.getQueryData(["profile"]) !== undefined);
    const out = { calls, data: c.cache.getQueryData(["profile"]), recovered: c.state.recovered };
    c.close();
    return out;
  });
  assert.equal(r.calls, 2);
  assert.deepEqual(r.data, { name: "Ann" });
});

test("isStale follows staleTime on the cache's clock", async () => {
  const r = await page.evaluate(async () => {
    const c = make();
    c.cache.setQueryData(["rates"], { eur: 1 });
    const states = [];
    const stop = c.cache.observe(["rates"], { queryFn: () => ({ eur: 2 }), staleTime: 60_000 }, (s) => states.push(s));
    const fresh = c.cache.getQueryState(["rates"]).isStale;
    stop();
    c.cache.observe(["rates"], { queryFn: () => ({ eur: 3 }), staleTime: 50 }, () => {});
    await new Promise((res) => setTimeout(res, 120));
    const stale = c.cache.getQueryState(["rates"]).isStale;
    c.close();
    return { fresh, stale };
  });
  assert.deepEqual(r, { fresh: false, stale: true });
});

test("a failed fetch of an observed query is retried with backoff before it errs", async () => {
  const r = await page.evaluate(async () => {
    const c = make();
    let calls = 0;
    const statuses = [];
    c.cache.observe(["quote"], {
      queryFn: async () => {
        if (++calls <= 2) throw new Error(`blip ${calls}`);
        return { price: 10 };
      },
    }, (s) => statuses.push(`${s.status}${s.isFetching ? "+fetching" : ""}`));
    await waitFor(() => c.cache.getQueryData(["quote"]) !== undefined, 8000); // retries after 1 s, 2 s
    const failing = make({ cache: { retry: 1 } });
    let failingCalls = 0;
    failing.cache.observe(["quote"], { queryFn: async () => { failingCalls++; throw new Error("down"); } }, () => {});
    await waitFor(() => failing.cache.getQueryState(["quote"]).status === "error", 5000);
    const out = { calls, statuses, failingCalls, error: failing.cache.getQueryState(["quote"]).error };
    c.close();
    failing.close();
    return out;
  });
  assert.equal(r.calls, 3, "two failures, then success");
  assert.ok(!r.statuses.includes("error") && !r.statuses.includes("error+fetching"), `no error while retrying: ${r.statuses}`);
  assert.equal(r.statuses.at(-1), "success");
  assert.equal(r.failingCalls, 2, "retry: 1 tries once more, then errs");
  assert.match(r.error, /down/);
});
