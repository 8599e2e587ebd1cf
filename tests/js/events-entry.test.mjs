// wiresync/events, the events-only entry with its own smaller wasm, as an app uses it: loaded
// from the built package (pkg/) in headless Chromium against the real socket.io test server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let fixtures, page;
before(async () => {
  fixtures = await startFixtures();
  page = await fixtures.browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page);
  const wasm = [];
  page.on("request", (r) => r.url().endsWith(".wasm") && wasm.push(r.url().split("/").pop()));
  await page.goto(fixtures.site.url + "/");
  await page.evaluate(async () => {
    window.events = await import("/events.js");
    await window.events.default();
  });
  assert.deepEqual(wasm, ["wiresync_events_bg.wasm"], "it loads its own wasm, not the full one");
});
after(() => stopFixtures(fixtures));

test("events, rooms, acks and state work; the outbox and the cache are not there", async () => {
  await page.evaluate(async (url) => {
    const client = window.events.connect({ url, auth: { token: "good" } });
    const got = [];
    const errors = [];
    client.on("order:status_update", (p) => got.push(p.status));
    client.onError((e) => errors.push(e.code));
    await waitFor(() => client.state.status === "open");
    await client.subscribe("order", { orderId: "ev1" }).ready;
    window.ev = { client, got, errors, ack: await client.emitWithAck("echo", { n: 1 }) };
  }, fixtures.sio.url);
  const payload = encodeURIComponent(JSON.stringify({ orderId: "ev1", status: "preparing", message: "m", timestamp: "t" }));
  await control(fixtures.sio.url, `emit?room=order:ev1&event=order:status_update&data=${payload}`);
  await until("the room event", () => page.evaluate(() => window.ev.got.length === 1));
  const r = await page.evaluate(() => {
    const { client, got, errors, ack } = window.ev;
    const members = ["outbox", "cache", "invalidateOn", "patchOn", "mutate"].filter((k) => k in client);
    client.close();
    return { got, errors, ack, members, status: client.state.status };
  });
  assert.deepEqual(r.got, ["preparing"]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.ack, { n: 1 }, "the server acked with what it got");
  assert.deepEqual(r.members, [], "no outbox, cache or rules on the events-only client");
  assert.equal(r.status, "closed");
});

test("asking wiresync/events for an outbox or a cache is a typed error that says where they are", async () => {
  const r = await page.evaluate((url) => {
    const attempt = (extra) => {
      try {
        window.events.connect({ url, ...extra }).close();
        return "connected";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    return {
      outbox: attempt({ outbox: { name: "x" } }),
      cache: attempt({ cache: { persist: true } }),
      off: attempt({ outbox: false }),
    };
  }, fixtures.sio.url);
  assert.match(r.outbox, /^INVALID_ARGUMENT: .*`outbox`.*import "wiresync"/);
  assert.match(r.cache, /^INVALID_ARGUMENT: .*`cache`.*import "wiresync"/);
  assert.equal(r.off, "connected", "outbox: false asks for nothing");
});
