// shareAcrossTabs: one connection for the tabs of a group, in headless Chromium (real Web Locks,
// BroadcastChannel, IndexedDB) against a socket.io server of its own (its stats count this
// file's connections only).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { control, serveStatic, launch, testServer, until, withWaitFor, root } from "./harness.mjs";
import { join } from "node:path";

let browser, site, sio;
let n = 0;
/** A group of its own per test: the namespace is shared, so the outbox identity differs. */
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => {
  // Short heartbeats: a frozen tab's socket is timed out by the server within seconds.
  sio = await testServer("sio", { SIO_PING_INTERVAL: "1000", SIO_PING_TIMEOUT: "1500" });
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
});

const stats = () => control(sio.url, "stats");

/** A tab of `context` with the package loaded and `open(identity, extra)` defined: a shared
 *  client whose events, states and errors are logged in `window.log`. */
async function tab(context, entry = "/index.js") {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page, 15_000);
  await page.goto(site.url + "/");
  await page.evaluate(async ({ sioUrl, entry }) => {
    const mod = await import(entry);
    await mod.default();
    window.log = { events: [], states: [], errors: [] };
    window.open = (identity, extra = {}) => {
      const c = mod.connect({
        url: sioUrl,
        auth: { token: "good" },
        catalog: false,
        shareAcrossTabs: true,
        reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
        outbox: { identity },
        ...extra,
      });
      c.onAny((event, payload, meta) => window.log.events.push({ event, payload, ack: meta.ack !== undefined }));
      c.onState((s) => window.log.states.push(s));
      c.onError((e) => window.log.errors.push({ code: e.code, message: e.message }));
      window.client = c;
      return c.state;
    };
    window.subs = {};
    window.join = (room) => (window.subs[room] = client.subscribe("order", { orderId: room })).ready;
    window.seen = (event) => window.log.events.filter((e) => e.event === event).map((e) => e.payload);
  }, { sioUrl: sio.url, entry });
  return page;
}

/** Opens `count` tabs of one group, one after the other; resolves once every tab sees the
 *  group's connection open and `count` tabs in it. */
async function group(context, identity, count) {
  const tabs = [];
  for (let i = 0; i < count; i++) {
    const page = await tab(context);
    await page.evaluate((id) => window.open(id), identity);
    tabs.push(page);
  }
  for (const page of tabs) {
    await page.evaluate((count) => waitFor(() => client.state.status === "open" && client.state.shared?.tabs === count), count);
  }
  return tabs;
}

const leaderOf = async (tabs) => {
  for (const page of tabs) if (await page.evaluate(() => client.state.shared.leader)) return page;
  return undefined;
};

test("three tabs share one connection; each gets the room events it joined, and only those; rooms joined once", async () => {
  await control(sio.url, "reset");
  const context = await browser.newContext();
  const id = uniq("rooms");
  const [a, b, c] = await group(context, id, 3);
  assert.equal((await stats()).connections, 1, "one connection for three tabs");
  const leaders = await Promise.all([a, b, c].map((p) => p.evaluate(() => client.state.shared.leader)));
  assert.deepEqual(leaders.filter(Boolean).length, 1, "one leader");

  const ra = `r${id}a`, rb = `r${id}b`;
  await a.evaluate((r) => join(r), ra);
  await b.evaluate((r) => join(r), rb);
  await c.evaluate((r) => join(r), ra);
  let s = await stats();
  assert.equal(s.joins[`order:${ra}`], 1, "joined once for two tabs");
  assert.equal(s.joins[`order:${rb}`], 1);

  const emit = (room, data) => control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify(data))}`);
  await emit(ra, { orderId: ra, status: "packed" });
  await emit(rb, { orderId: rb, status: "late" });
  await control(sio.url, `emit?event=notice&data=${encodeURIComponent(JSON.stringify({ text: "to all" }))}`);
  for (const p of [a, b, c]) await p.evaluate(() => waitFor(() => seen("notice").length === 1));
  const got = await Promise.all([a, b, c].map((p) => p.evaluate(() => seen("order:status_update").map((x) => x.orderId))));
  assert.deepEqual(got, [[ra], [rb], [ra]], "each tab gets its rooms' events only");

  // The last tab of a room to leave leaves it: c unsubscribes (a still holds it), then a closes.
  await c.evaluate((r) => subs[r].unsubscribe(), ra);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await stats()).leaves[`order:${ra}`], undefined, "still held by another tab");
  await a.evaluate(() => client.close());
  await until("the room left", async () => (await stats()).leaves[`order:${ra}`] === 1, 8000);
  s = await stats();
  assert.equal(s.connections, 1, "the connection stays for the other tabs");
  assert.equal(s.joins[`order:${ra}`], 1);
  await b.evaluate(() => waitFor(() => client.state.shared.tabs === 2));
  await context.close();
});
