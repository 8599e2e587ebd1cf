// The durable outbox with real IndexedDB in headless Chromium and the real socket.io test
// server (its outbox ledger applies each clientMessageId once and counts every receipt).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio;
let n = 0;
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => ({ sio, site, browser } = await startFixtures()));
after(() => stopFixtures({ sio, site, browser }));

beforeEach(async () => {
  await control(sio.url, "outbox/reset");
  await control(sio.url, "http/reset");
});

/** A fresh page (own context unless `context` is given) with helpers loaded. */
async function openPage(context) {
  const ctx = context ?? (await browser.newContext());
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page, 8000);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.sioUrl = sioUrl;
    window.make = (outbox, extra = {}) => {
      const log = { errors: [], dropped: [], failed: [], delivered: [] };
      const client = mod.connect({
        url: sioUrl,
        auth: { token: "good" },
        reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
        ackTimeoutMs: 400,
        ...extra,
        outbox: { retry: { initialDelayMs: 50, maxDelayMs: 200 }, ...outbox },
      });
      client.onError((e) => log.errors.push(e.code));
      client.outbox.onDropped((e, why) => log.dropped.push([e.payload?.n, why]));
      client.outbox.onFailed((e) => log.failed.push([e.payload?.n ?? e.url, e.failedReason]));
      client.outbox.onDelivered((e) => log.delivered.push(e.id));
      return { client, log };
    };
    window.drained = (c) => {
      const s = c.outbox.status();
      return s.pending + s.inFlight === 0 && s.persistence !== "loading";
    };
    /** Every record of every wiresync outbox database, as text. */
    window.dumpIdb = async () => {
      const out = [];
      for (const { name } of await indexedDB.databases()) {
        if (!name.startsWith("wiresync-outbox:")) continue;
        const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = rej; });
        for (const store of db.objectStoreNames) {
          const all = await new Promise((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
          out.push(JSON.stringify(all));
        }
        db.close();
      }
      return out.join("\n");
    };
  }, sio.url);
  return page;
}

async function applied() {
  return (await control(sio.url, "outbox/stats")).applied;
}

test("enqueued while refused, delivered once each, in order, when the connection opens", async () => {
  const page = await openPage();
  const name = uniq("order");
  const ids = await page.evaluate(async (name) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    window.c1 = client;
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push((await client.outbox.enqueue("note:add", { n: i })).id);
    return ids;
  }, name);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await applied()).length, 0, "nothing is sent while the connection is refused");
  assert.equal(await page.evaluate(() => c1.outbox.status().pending), 30);
  await page.evaluate(() => c1.setAuth({ token: "good" }));
  await until("drained", () => page.evaluate(() => drained(c1)));
  const got = await applied();
  assert.deepEqual(got.map((a) => a.id), ids, "each id applied once, in enqueue order");
  assert.deepEqual(got.map((a) => a.payload.n), [...Array(30).keys()]);
  await page.context().close();
});

test("dropped acks: retried with the same id, applied once each, order kept", async () => {
  await control(sio.url, "outbox/drop-acks?n=4");
  const page = await openPage();
  const ids = await page.evaluate(async (name) => {
    const { client } = make({ name, window: 4 });
    window.c2 = client;
    const ids = await Promise.all([...Array(12).keys()].map((i) => client.outbox.enqueue("note:add", { n: i }).then((r) => r.id)));
    await waitFor(() => drained(client), 10000);
    return ids;
  }, uniq("acks"));
  const stats = await control(sio.url, "outbox/stats");
  assert.equal(stats.droppedAcks, 4);
  assert.deepEqual(stats.applied.map((a) => a.id), ids);
  assert.ok(stats.duplicates >= 4, `re-sends reached the server: ${stats.duplicates}`);
  assert.ok(Object.values(stats.receipts).every((r) => r >= 1));
  await page.context().close();
});

test("same-tick enqueues share one transaction and all resolve after commit", async () => {
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    const results = await Promise.all([...Array(50).keys()].map((i) => client.outbox.enqueue("note:add", { n: i })));
    const stored = await dumpIdb();
    client.close();
    return { count: results.length, stored: results.filter((x) => stored.includes(x.id)).length };
  }, uniq("group"));
  assert.deepEqual(r, { count: 50, stored: 50 }, "every resolved enqueue is in IndexedDB");
  await page.context().close();
});

test("payloads beyond ASCII are stored, listed and delivered unchanged (the enqueue's string paths)", async () => {
  const page = await openPage();
  const text = "é ü 漢字 😀 \u2028 \"q\" \\ " + "x".repeat(70000); // past the scratch buffer's 64 KiB
  const short = "naïve café 😀";
  const r = await page.evaluate(async ({ name, text, short }) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    window.c9 = client;
    await client.outbox.enqueue("note:add", { n: 0, text });
    await client.outbox.enqueue("note:add", { n: 1, text: short });
    const stored = await dumpIdb();
    return { listed: client.outbox.list().map((e) => e.payload.text), stored: stored.includes(JSON.stringify(JSON.stringify(short)).slice(1, -1)) };
  }, { name: uniq("utf8"), text, short });
  assert.deepEqual(r.listed, [text, short], "list() gives the payloads back as enqueued");
  assert.ok(r.stored, "the record holds the payload's JSON text");
  await page.evaluate(() => c9.setAuth({ token: "good" }));
  await until("drained", () => page.evaluate(() => drained(c9)));
  const got = await applied();
  assert.deepEqual(got.map((a) => a.payload.text), [text, short], "the server received them unchanged");
  await page.context().close();
});

test("auth never reaches IndexedDB; request headers are attached at send time only", async () => {
  const page = await openPage();
  await control(sio.url, "outbox/ack-delay?ms=1500");
  const dump = await page.evaluate(async ({ name, api }) => {
    const { client } = make({ name, requestHeaders: () => ({ Authorization: "Bearer s3cret-request-token" }) }, { auth: { token: "alice" } });
    await client.outbox.enqueue("note:add", { n: 1 });
    const req = await client.outbox.enqueueRequest({ url: api, method: "POST", body: { n: 2 } });
    const dump = (await dumpIdb()) + (client.outbox.list().some((e) => e.id === req.id) ? "" : "");
    await waitFor(() => drained(client));
    client.close();
    return dump;
  }, { name: uniq("secret"), api: `${sio.url}/api/mutations` });
  assert.ok(dump.includes("note:add"), "the entry was stored (in flight, its ack delayed)");
  assert.ok(!dump.includes("alice"), "the socket auth token is not stored");
  assert.ok(!dump.includes("s3cret-request-token"), "the request Authorization is not stored");
  const http = await control(sio.url, "http/stats");
  assert.equal(http.applied[0].authorization, "Bearer s3cret-request-token", "attached when sent");
  assert.equal((await applied())[0].token, "alice");
  await page.context().close();
});

test("HTTP mutations: 5xx and 429 retried with the same Idempotency-Key, 4xx fails for good", async () => {
  await control(sio.url, "http/plan?statuses=500,429,200,404");
  const page = await openPage();
  const r = await page.evaluate(async ({ name, api }) => {
    const { client, log } = make({ name });
    const a = await client.outbox.enqueueRequest({ url: api, method: "POST", headers: { "content-type": "application/json" }, body: { cart: 1 } });
    const b = await client.outbox.enqueueRequest({ url: api, method: "DELETE" });
    await waitFor(() => drained(client) && log.failed.length === 1, 10000);
    client.close();
    return { a: a.id, b: b.id, failed: log.failed, left: client.outbox.failed().map((e) => e.id) };
  }, { name: uniq("http"), api: `${sio.url}/api/cart` });
  const http = await control(sio.url, "http/stats");
  assert.deepEqual(http.applied.map((x) => x.key), [r.a], "applied once after two retries");
  assert.equal(http.keys[r.a], 3);
  assert.equal(http.applied[0].body, '{"cart":1}');
  assert.deepEqual(r.failed.map((f) => f[1]), ["rejected: HTTP 404"]);
  assert.deepEqual(r.left, [r.b], "the failed entry is kept, not dropped");
  await page.context().close();
});

test("a catalog payload of the wrong shape is refused at enqueue, not stored", async () => {
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    let error;
    try {
      await client.outbox.enqueue("chat:send_message", { chatId: "c1" });
    } catch (e) {
      error = { code: e.code, event: e.event, message: e.message };
    }
    const ok = await client.outbox.enqueue("chat:send_message", { chatId: "c1", message: "hi", timestamp: "t" });
    client.close();
    return { error, listed: client.outbox.list().map((e) => e.id), ok: ok.id };
  }, uniq("shape"));
  assert.equal(r.error.code, "PAYLOAD_INVALID");
  assert.equal(r.error.event, "chat:send_message");
  assert.match(r.error.message, /message/);
  assert.deepEqual(r.listed, [r.ok]);
  await page.context().close();
});

test("a negative ack fails the entry; retry() sends it again", async () => {
  await control(sio.url, "outbox/reject?n=1&code=BAD_PAYLOAD");
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const { client, log } = make({ name });
    const { id } = await client.outbox.enqueue("note:add", { n: 7 });
    await waitFor(() => log.failed.length === 1);
    const failed = client.outbox.failed().map((e) => e.id);
    client.outbox.retry(id);
    await waitFor(() => drained(client) && client.outbox.failed().length === 0);
    client.close();
    return { id, failed, reason: log.failed[0][1] };
  }, uniq("reject"));
  assert.deepEqual(r.failed, [r.id]);
  assert.equal(r.reason, "rejected: BAD_PAYLOAD");
  assert.deepEqual((await applied()).map((a) => a.id), [r.id]);
  await page.context().close();
});

test("capacity: drop-oldest reports the dropped entry, reject refuses with OUTBOX_FULL", async () => {
  const page = await openPage();
  const r = await page.evaluate(async ({ a, b }) => {
    const one = make({ name: a, capacity: 3 }, { auth: { token: "wrong" } });
    for (let i = 0; i < 5; i++) await one.client.outbox.enqueue("note:add", { n: i });
    const kept = one.client.outbox.list().map((e) => e.payload.n);
    const two = make({ name: b, capacity: 2, overflow: "reject" }, { auth: { token: "wrong" } });
    await two.client.outbox.enqueue("note:add", { n: 0 });
    await two.client.outbox.enqueue("note:add", { n: 1 });
    let code;
    try {
      await two.client.outbox.enqueue("note:add", { n: 2 });
    } catch (e) {
      code = e.code;
    }
    one.client.close();
    two.client.close();
    return { dropped: one.log.dropped, kept, code, left: two.client.outbox.list().length };
  }, { a: uniq("cap"), b: uniq("cap") });
  assert.deepEqual(r.dropped, [[0, "capacity"], [1, "capacity"]]);
  assert.deepEqual(r.kept, [2, 3, 4]);
  assert.equal(r.code, "OUTBOX_FULL");
  assert.equal(r.left, 2);
  await page.context().close();
});

test("quota exceeded: enqueue rejects with QUOTA_EXCEEDED and stored entries stay intact", async () => {
  const context = await browser.newContext();
  const page = await openPage(context);
  const cdp = await context.newCDPSession(page);
  // A 1 MB quota, in force before the outbox opens its database.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.url, quotaSize: 1024 * 1024 });
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    await client.outbox.enqueue("note:add", { n: 1 });
    let code;
    try {
      await client.outbox.enqueue("note:add", { n: 2, big: "x".repeat(4 * 1024 * 1024) });
    } catch (e) {
      code = e.code;
    }
    await client.outbox.enqueue("note:add", { n: 3 });
    const dump = await dumpIdb();
    client.close();
    return { code, listed: client.outbox.list().map((e) => e.payload.n), dump };
  }, uniq("quota"));
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.url });
  assert.equal(r.code, "QUOTA_EXCEEDED");
  assert.deepEqual(r.listed, [1, 3], "the refused entry is not queued; the others are");
  assert.ok(r.dump.includes('\\"n\\":1') && r.dump.includes('\\"n\\":3'), "stored entries intact");
  assert.ok(!r.dump.includes('\\"n\\":2'), "nothing of the refused entry stored");
  await context.close();
});

test("IndexedDB unavailable: the outbox runs in memory, says so, and still delivers", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true }));
  const page = await openPage(context);
  const r = await page.evaluate(async (name) => {
    const { client, log } = make({ name });
    const { id } = await client.outbox.enqueue("note:add", { n: 1 });
    await waitFor(() => drained(client));
    const s = client.outbox.status();
    client.close();
    return { id, persistence: s.persistence, errors: log.errors };
  }, uniq("mem"));
  assert.equal(r.persistence, "memory");
  assert.ok(r.errors.includes("STORAGE_UNAVAILABLE"), r.errors.join());
  assert.deepEqual((await applied()).map((a) => a.id), [r.id]);
  await context.close();
});

test("switching identity never sends the previous user's entries under the new credentials", async () => {
  const page = await openPage();
  const name = uniq("ident");
  const aliceIds = await page.evaluate(async (name) => {
    const { client } = make({ name, identity: "alice" }, { auth: { token: "wrong" } });
    window.ci = client;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.outbox.enqueue("note:add", { n: i })).id);
    return ids;
  }, name);
  const bobId = await page.evaluate(async () => {
    ci.setAuth({ token: "bob" }, { identity: "bob" });
    const { id } = await ci.outbox.enqueue("note:add", { n: 100 });
    await waitFor(() => drained(ci));
    return id;
  });
  let got = await applied();
  assert.deepEqual(got.map((a) => [a.id, a.token]), [[bobId, "bob"]], "only bob's entry, under bob");
  await page.evaluate(async () => {
    ci.setAuth({ token: "alice" }, { identity: "alice" });
    await waitFor(() => drained(ci) && ci.outbox.status().persistence === "indexeddb" && ci.state.status === "open");
  });
  await until("alice's entries", async () => (await applied()).length === 4);
  got = await applied();
  assert.deepEqual(got.slice(1).map((a) => [a.id, a.token]), aliceIds.map((id) => [id, "alice"]));
  await page.evaluate(() => ci.close());
  await page.context().close();
});

test("outbox listeners follow the client across an identity switch, and an old unsubscribe never removes a newer listener", async () => {
  const page = await openPage();
  const name = uniq("listeners");
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name, identity: "u1" });
    const heard = { before: [], after: [], removed: 0 };
    client.outbox.onChange((s) => heard.before.push(s.pending + s.inFlight));
    const offRemoved = client.outbox.onChange(() => heard.removed++);
    client.outbox.onDelivered((e) => heard.before.push("delivered:" + e.payload.n));
    await waitFor(() => client.state.status === "open" && drained(client));
    client.setAuth({ token: "good" }, { identity: "u2" });
    client.outbox.onChange((s) => heard.after.push(s.persistence));
    offRemoved(); // registered before the switch: removes that one only
    heard.before.length = 0;
    heard.removed = 0;
    await client.outbox.enqueue("note:add", { n: 7 });
    await waitFor(() => drained(client) && heard.before.includes("delivered:7"));
    client.close();
    return heard;
  }, name);
  assert.ok(r.before.includes(1), `the listener from before the switch heard the new identity's entry: ${r.before}`);
  assert.ok(r.before.includes("delivered:7"), "and its delivery");
  assert.equal(r.after.at(-1), "indexeddb", `the new listener heard the new store open and its entry: ${r.after}`);
  assert.equal(r.removed, 0, "the removed one heard nothing");
});

test("an entry enqueued in the same tick as an identity switch is stored under the identity it was made for", async () => {
  const page = await openPage();
  const name = uniq("switch-tick");
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name, identity: "u1" });
    await waitFor(() => client.outbox.status().persistence === "indexeddb");
    client.close(); // nothing is sent: the entry stays stored
    const pending = client.outbox.enqueue("note:add", { n: 1 });
    client.setAuth({ token: "good" }, { identity: "u2" });
    const settled = await Promise.race([
      pending.then((v) => ({ id: v.id }), (e) => ({ error: e.code })),
      new Promise((r) => setTimeout(() => r("never settled"), 3000)),
    ]);
    const dump = await dumpIdb();
    client.close();
    return { settled, dump };
  }, name);
  assert.ok(r.settled.id, JSON.stringify(r.settled));
  const u1 = r.dump.split("\n").find((line) => line.includes(r.settled.id));
  assert.ok(u1, "stored");
});

test("unreadable stored records (another version, hand-edited, truncated) are moved aside and reported, never trap; the queue goes on", async () => {
  const page = await openPage();
  const name = uniq("corrupt");
  const r = await page.evaluate(async (name) => {
    // A database as the outbox would have it, holding one record it cannot read.
    const dbName = `wiresync-outbox:${name}:default`;
    const db = await new Promise((res, rej) => {
      const req = indexedDB.open(dbName, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore("entries", { keyPath: "id" });
        req.result.createObjectStore("quarantine", { autoIncrement: true });
      };
      req.onsuccess = () => res(req.result);
      req.onerror = rej;
    });
    const now = Date.now();
    const record = (id, seq, fields) => ({
      v: 1, id, seq, lane: "default", kind: "event", event: "note:add", payload: '{"n":0}',
      createdAt: now, expiresAt: now + 3600000, attempts: 0, notBefore: 0, state: "pending", ...fields,
    });
    const corrupt = [
      { id: "garbage", v: 99, kind: "telepathy" }, // another version
      record("empty-payload", 1, { payload: "" }), // hand-edited
      record("accented", 2, { payload: "é" }), // first character not ASCII
      record("truncated", 3, { payload: '{"n":' }),
      record("array", 4, { payload: "[1]" }),
      record("no-event", 5, { event: "" }),
      record("seq-text", 6, { seq: "six" }),
      record("no-state", 7, { state: undefined }),
    ];
    await new Promise((res) => {
      const tx = db.transaction("entries", "readwrite");
      for (const r of corrupt) tx.objectStore("entries").put(r);
      tx.objectStore("entries").put(record("planted-ok", 8, {}));
      tx.oncomplete = res;
    });
    db.close();
    const { client, log } = make({ name });
    await waitFor(() => log.errors.filter((e) => e === "STORAGE_CORRUPT").length === corrupt.length);
    const { id } = await client.outbox.enqueue("note:add", { n: 1 });
    await waitFor(() => drained(client));
    const dump = await dumpIdb();
    client.close();
    return { id, errors: log.errors, dump, corrupt: corrupt.map((r) => r.id) };
  }, name);
  assert.deepEqual(r.errors, r.corrupt.map(() => "STORAGE_CORRUPT"), "one report per record, nothing else");
  const [entries, quarantine] = r.dump.split("\n");
  for (const id of r.corrupt) {
    assert.ok(!entries.includes(`"${id}"`), `${id}: removed from the queue`);
    assert.ok(quarantine.includes(`"${id}"`), `${id}: kept aside`);
  }
  assert.deepEqual((await applied()).map((a) => a.id), ["planted-ok", r.id], "the readable ones were delivered, in order");
  await page.context().close();
});

test("remove() and clear() take entries out of storage", async () => {
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const { client } = make({ name }, { auth: { token: "wrong" } });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.outbox.enqueue("note:add", { n: i })).id);
    const removed = client.outbox.remove(ids[0]);
    const missing = client.outbox.remove("no-such-id");
    await new Promise((res) => setTimeout(res, 50));
    const afterRemove = await dumpIdb();
    await client.outbox.clear();
    const afterClear = await dumpIdb();
    client.close();
    return { ids, removed, missing, afterRemove, afterClear, left: client.outbox.list().length };
  }, uniq("clear"));
  assert.equal(r.removed, true);
  assert.equal(r.missing, false);
  assert.ok(!r.afterRemove.includes(r.ids[0]) && r.afterRemove.includes(r.ids[1]));
  assert.ok(!r.afterClear.includes(r.ids[1]) && !r.afterClear.includes(r.ids[2]));
  assert.equal(r.left, 0);
});

test("close() lets go of the flushing role: a new client in the page delivers what the old one queued", async () => {
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const first = make({ name }, { auth: { token: "wrong" } });
    const { id } = await first.client.outbox.enqueue("note:add", { n: 1 });
    first.client.close(); // e.g. a logout, then a login with a new client
    // A generous ack timeout: this is about the handover, not about retries under load.
    const second = make({ name }, { ackTimeoutMs: 3000 });
    await waitFor(() => drained(second.client) && second.log.delivered.length === 1, 15000).catch(async (e) => {
      const locks = await navigator.locks.query();
      throw new Error(`${e.message}: ${JSON.stringify({ status: second.client.outbox.status(), state: second.client.state, log: second.log, locks })}`);
    });
    second.client.close();
    return { id, delivered: second.log.delivered };
  }, uniq("handover"));
  assert.deepEqual(r.delivered, [r.id]);
  assert.deepEqual((await applied()).map((a) => a.id), [r.id]);
  await page.context().close();
});

test("dispose() frees the client: unsubscribes are no-ops, other calls throw, queued entries stay for the next client", async () => {
  const page = await openPage();
  const r = await page.evaluate(async (name) => {
    const first = make({ name }, { auth: { token: "wrong" } });
    const off = first.client.on("order:status_update", () => {});
    const unobserve = first.client.cache.observe(["x"], { queryFn: () => 1 }, () => {});
    const { id } = await first.client.outbox.enqueue("note:add", { n: 1 });
    first.client.dispose();
    first.client.dispose(); // twice is fine
    off();
    unobserve(); // no-ops, no throw
    let threw = false;
    try {
      first.client.emit("note:add", { n: 2 });
    } catch {
      threw = true;
    }
    // A generous ack timeout: this is about the handover, not about retries under load.
    const second = make({ name }, { ackTimeoutMs: 3000 });
    await waitFor(() => drained(second.client) && second.log.delivered.length === 1, 15000).catch(async (e) => {
      const locks = await navigator.locks.query();
      throw new Error(`${e.message}: ${JSON.stringify({ status: second.client.outbox.status(), state: second.client.state, log: second.log, locks })}`);
    });
    second.client.dispose();
    return { id, threw, delivered: second.log.delivered };
  }, uniq("dispose"));
  assert.equal(r.threw, true, "a disposed client refuses calls");
  assert.deepEqual(r.delivered, [r.id], "the entry queued before dispose() was delivered by the next client");
  await page.context().close();
});
