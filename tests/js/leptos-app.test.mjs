// The Leptos example app (examples/leptos-app: wiresync's Rust API in a Leptos 0.8 CSR app, no
// JS API) in headless Chromium against a socket.io 4.8.4 test server of its own (so its stats
// hold this app's traffic only). scripts/test.sh builds the app for wasm32 and runs the
// wasm-bindgen CLI on it into target/examples/leptos-app-js/ (with examples/leptos-app/index.html);
// this file serves that directory and reads the app's DOM (data-testid) and the server's stats.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { control, launch, root, serveStatic, testServer, until } from "./harness.mjs";

const app = join(root, "target", "examples", "leptos-app-js");
const built = ["index.html", "leptos_app.js", "leptos_app_bg.wasm"];
// A debug build's wasm is large; its first load and connect get more time than pkg/'s.
const WAIT = 20_000;
const T = { timeout: 60_000 };

let sio, site, browser, page;
const pageErrors = [];

before(async () => {
  const missing = built.filter((f) => !existsSync(join(app, f)));
  if (missing.length > 0) {
    throw new Error(
      `the Leptos app is not built: ${missing.join(", ")} missing in ${app}. ` +
        "Build it as scripts/test.sh does (cargo build --target wasm32-unknown-unknown " +
        "--manifest-path examples/leptos-app/Cargo.toml, then wasm-bindgen --target web, then copy index.html).",
    );
  }
  [sio, site, browser] = await Promise.all([
    testServer("sio", {}), // its own server: exact counts in /control/stats and outbox/stats
    serveStatic(app, { index: true }),
    launch(),
  ]);
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
  await page.goto(`${site.url}/?server=${encodeURIComponent(sio.url)}`);
});

after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
});

/** The text of the element with data-testid `id` ("" while it is not there). */
const text = (id) => page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "", id);

/** Waits until `text(id)` passes `ok` (a string to equal, or a predicate); says what it saw. */
async function see(id, ok, ms = WAIT) {
  const pass = typeof ok === "function" ? ok : (t) => t === ok;
  let last;
  try {
    return await until(`${id}`, async () => pass((last = await text(id))) && last, ms);
  } catch {
    const init = await page.evaluate(() => document.body.dataset.initError ?? "");
    throw new Error(`[data-testid=${id}] is ${JSON.stringify(last)}, expected ${typeof ok === "function" ? ok : JSON.stringify(ok)}` +
      `${init ? `; init failed: ${init}` : ""}; page errors: ${JSON.stringify(pageErrors)}; last error shown: ${JSON.stringify(await text("last-error"))}`);
  }
}

const update = (orderId, status) => ({ orderId, status, message: `now ${status}`, timestamp: "2026-12-03T12:00:00Z" });
const emit = (room, data) =>
  control(sio.url, `emit?room=${encodeURIComponent(room)}&event=order:status_update&data=${encodeURIComponent(JSON.stringify(data))}`);

test("connects: the status shown is the client's on_state, and becomes open", T, async () => {
  await see("status", "open");
  const { handshakes } = await control(sio.url, "stats");
  assert.deepEqual(handshakes.map((h) => h.auth.token), ["good"], "one connection, with the app's auth");
});

test("joins room order:ord_1 (Membership::ready says joined; the server saw one subscribe:order with orderId ord_1)", T, async () => {
  await see("room", "joined");
  const { joins } = await control(sio.url, "stats");
  assert.deepEqual(joins, { "order:ord_1": 1 });
});

test("the cache's observed queries were fetched once each before any event", T, async () => {
  await see("cached-status", "placed");
  await see("orders", "ord_1");
  assert.equal(await text("order-fetches"), "1");
  assert.equal(await text("orders-fetches"), "1");
});

test("server emits to the room show live (typed on::<OrderStatusUpdate>), patch the cached order and refetch the invalidated list", T, async () => {
  await see("room", "joined");
  await see("orders-fetches", "1");
  // An update to another room never reaches this page: the count below counts ord_1's only.
  await emit("order:ord_2", update("ord_2", "wrong_room"));
  await emit("order:ord_1", update("ord_1", "out_for_delivery"));
  await see("live-status", "ord_1: out_for_delivery");
  await see("live-count", "1");
  // patch_on::<OrderStatusUpdate, Order>: the cached order changed without a fetch...
  await see("cached-status", "out_for_delivery");
  assert.equal(await text("order-fetches"), "1", "patched, not refetched");
  // ...and invalidate_on::<OrderStatusUpdate>(["orders"]) refetched the observed list.
  await see("orders-fetches", "2");

  await emit("order:ord_1", update("ord_1", "delivered"));
  await see("live-count", "2");
  assert.equal(await text("live-status"), "ord_1: delivered");
  await see("cached-status", "delivered");
  await see("orders-fetches", "3");
  await see("orders", "ord_1");
  assert.equal(await text("order-fetches"), "1");
});

test("Send enqueues a chat:send_message through the outbox: the entry id is shown, the server applies it once with that id, the ack is heard", T, async () => {
  await see("status", "open");
  assert.equal(await text("entry-id"), "", "nothing sent yet");
  await page.click('[data-testid="send"]');
  const id = await see("entry-id", (t) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t));
  const stats = await until("the server applies the message", async () => {
    const s = await control(sio.url, "outbox/stats");
    return s.applied.length > 0 && s;
  }, WAIT);
  assert.equal(stats.applied.length, 1, JSON.stringify(stats.applied));
  const [applied] = stats.applied;
  assert.equal(applied.id, id, "the id the UI shows is the clientMessageId the server got");
  assert.equal(applied.event, "chat:send_message");
  assert.equal(applied.payload.chatId, "chat_1");
  assert.equal(applied.payload.message, "hello #1");
  assert.match(applied.payload.timestamp, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(stats.receipts, { [id]: 1 }, "sent once");
  // The outbox listener heard the ack (Delivered) and the counts went back to zero.
  await see("delivered", id);
  await see("outbox-counts", "pending 0, in flight 0, failed 0");
});

test("a component's guards live as long as it does: mounted, the tracker joins order:ord_9 and hears updates; unmounted, the room is left and its handler gone", T, async () => {
  await see("room", "joined");
  const toggle = '[data-testid="toggle-tracker"]';
  const trackerShown = () => page.evaluate(() => document.querySelector('[data-testid="tracker"]') !== null);
  assert.equal(await trackerShown(), false, "not mounted at first");
  await page.click(toggle);
  await see("tracker", "joined");
  assert.equal((await control(sio.url, "stats")).joins["order:ord_9"], 1);
  const before = Number(await text("live-count"));
  await emit("order:ord_9", update("ord_9", "preparing"));
  await see("tracker-heard", "1");
  await see("live-count", String(before + 1));

  await page.click(toggle); // unmounts the tracker: its owner drops its StoredValues
  await until("the tracker unmounted", async () => !(await trackerShown()), WAIT);
  const { leaves } = await until("the server sees the leave", async () => {
    const s = await control(sio.url, "stats");
    return s.leaves["order:ord_9"] && s;
  }, WAIT);
  assert.deepEqual(leaves, { "order:ord_9": 1 });
  // ord_9's updates no longer come; ord_1's still do, and the tracker's handler no longer hears them.
  await emit("order:ord_9", update("ord_9", "after_leave"));
  await emit("order:ord_1", update("ord_1", "ready_again"));
  await see("live-status", "ord_1: ready_again");
  assert.equal(await text("live-count"), String(before + 2), "ord_9's update after the leave did not come");
  assert.equal(await text("tracker-heard"), "1", "the unmounted tracker's handler was removed");

  await page.click(toggle); // mounted again: joins again
  await see("tracker", "joined");
  assert.equal((await control(sio.url, "stats")).joins["order:ord_9"], 2);
});

test("no page error and no error reported to the client's on_error", T, async () => {
  assert.deepEqual(pageErrors, []);
  assert.equal(await text("last-error"), "");
});
