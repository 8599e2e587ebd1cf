// The outbox across page lifecycles, as a user lives them: a reload in the middle of a flush,
// and two tabs of which the flushing one is closed. Real Chromium, real IndexedDB, real
// socket.io server; the server's ledger applies each clientMessageId once and counts receipts.
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until } from "./harness.mjs";

let browser, site, sio;

before(async () => ({ sio, site, browser } = await startFixtures()));
after(() => stopFixtures({ sio, site, browser }));

beforeEach(async () => {
  await control(sio.url, "outbox/reset");
});

/** Loads the package in `page` and connects a client with the shared outbox `name`. */
async function start(page, name, token = "good") {
  await page.goto(site.url + "/");
  await page.evaluate(
    async ({ sioUrl, name, token }) => {
      const mod = await import("/index.js");
      await mod.default();
      window.client = mod.connect({
        url: sioUrl,
        auth: { token },
        reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
        ackTimeoutMs: 3000,
        outbox: { name, capacity: 1000, window: 4, maxRetries: 20, retry: { initialDelayMs: 50, maxDelayMs: 200 } },
      });
      window.enqueueMany = async (tag, count) => {
        const ids = [];
        for (let i = 0; i < count; i++) ids.push((await client.outbox.enqueue("note:add", { tag, i })).id);
        return ids;
      };
    },
    { sioUrl: sio.url, name, token },
  );
}

/** `until`, but a timeout reports what each page's client and the server were doing. */
async function untilOr(what, fn, ms, pages) {
  try {
    await until(what, fn, ms);
  } catch (e) {
    const views = [];
    for (const p of pages) {
      views.push(await p.evaluate(() => ({ state: client.state, outbox: client.outbox.status(),
        states: client.outbox.list().map((x) => x.state + ":" + x.attempts).join(" ") })).catch((err) => String(err)));
    }
    const stats = await control(sio.url, "outbox/stats");
    throw new Error(`${e.message}; applied ${stats.applied.length}; pages ${JSON.stringify(views)}`);
  }
}

function checkLedger(stats, expectedIds) {
  const appliedIds = stats.applied.map((a) => a.id);
  assert.equal(new Set(appliedIds).size, appliedIds.length, "no id applied twice");
  assert.deepEqual([...appliedIds].sort(), [...expectedIds].sort(), "every message applied");
}

test("a reload in the middle of a flush loses nothing, applies nothing twice, keeps the order", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const name = `reload-${process.pid}`;
  // Enqueue while the server refuses us, so all 40 are queued before any is sent.
  await start(page, name, "wrong");
  const ids = await page.evaluate(() => enqueueMany("r", 40));
  // Slow acks so the flush is still under way when the page goes away.
  await control(sio.url, "outbox/ack-delay?ms=150");
  await page.evaluate(() => client.setAuth({ token: "good" }));
  await until("part of the flush", async () => (await control(sio.url, "outbox/stats")).applied.length >= 8, 8000);
  const midway = (await control(sio.url, "outbox/stats")).applied.length;
  assert.ok(midway < 40, `the reload comes mid-flush (${midway} applied)`);

  await page.reload();
  await control(sio.url, "outbox/ack-delay?ms=0");
  await start(page, name);
  await untilOr("all 40 applied", async () => (await control(sio.url, "outbox/stats")).applied.length === 40, 15000, [page]);
  await until("the outbox drained", () => page.evaluate(() => {
    const s = client.outbox.status();
    return s.pending + s.inFlight === 0;
  }), 5000);
  const stats = await control(sio.url, "outbox/stats");
  checkLedger(stats, ids);
  assert.deepEqual(stats.applied.map((a) => a.id), ids, "applied in enqueue order");
  await context.close();
});

test("two tabs: one flushes; when it closes the other takes over; nothing lost or applied twice", async () => {
  const context = await browser.newContext(); // one profile: shared IndexedDB, locks, channels
  const name = `tabs-${process.pid}`;
  const [a, b] = [await context.newPage(), await context.newPage()];
  await start(a, name, "wrong");
  await start(b, name, "wrong");
  const idsA = await a.evaluate(() => enqueueMany("a", 20));
  const idsB = await b.evaluate(() => enqueueMany("b", 20));
  // Both tabs see all 40 entries (B's writes reach A through the BroadcastChannel, and back).
  await until("both tabs list 40", async () =>
    (await a.evaluate(() => client.outbox.list().length)) === 40 && (await b.evaluate(() => client.outbox.list().length)) === 40, 5000);

  await control(sio.url, "outbox/ack-delay?ms=150");
  await a.evaluate(() => client.setAuth({ token: "good" }));
  await b.evaluate(() => client.setAuth({ token: "good" }));
  await until("part of the flush", async () => (await control(sio.url, "outbox/stats")).applied.length >= 6, 8000);
  const tokensBefore = (await control(sio.url, "outbox/stats")).applied.length;
  assert.ok(tokensBefore < 40, "the flushing tab is closed mid-flush");

  // Close whichever tab holds the lock (the first to get it: tab A, which asked first).
  const leader = (await a.evaluate(() => client.outbox.status().processing)) ? a : b;
  const other = leader === a ? b : a;
  await leader.close();
  await control(sio.url, "outbox/ack-delay?ms=0");
  await untilOr("all 40 applied", async () => (await control(sio.url, "outbox/stats")).applied.length === 40, 15000, [other]);
  await until("the other tab drained", () => other.evaluate(() => {
    const s = client.outbox.status();
    return s.pending + s.inFlight === 0;
  }), 5000);
  checkLedger(await control(sio.url, "outbox/stats"), [...idsA, ...idsB]);
  await context.close();
});
