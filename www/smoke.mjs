// Smoke check of the demo: starts www/server.mjs on a free port, drives the page in headless
// Chromium and exits 0 when everything worked (non-zero with a message otherwise).
//
//   node www/smoke.mjs            (needs pkg/ built: ./scripts/build.sh)
//
// Walk-through: connected; the order's status changes live through a patched query and the
// cache inspector lists its key as patched (and ["orders"] as invalidated); a chat message shows
// at once and is confirmed; "Take server down": reconnecting with an attempt count; two messages
// sent while down show at once as queued and wait in the outbox; "Bring server up": connected
// (session recovered), the outbox drains to 0 ("Delivering 1 of 2"...), the messages are
// confirmed in order (on the page and on the server); a message the server refuses lands in
// failed and Retry delivers it. Then, in a second page with reconnect.maxAttempts=2: the
// browser going offline shows "offline"; the server down long enough shows "failed", and Retry
// connects again once it is up. No payload/decode errors on the way.
// Screenshot: <os.tmpdir()>/wiresync-demo.png (SMOKE_SCREENSHOT overrides). Every wait is bounded.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WWW = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(WWW, "..");
const require = createRequire(path.join(ROOT, "tests", "package.json"));
const { chromium } = require("playwright-core");

const SCREENSHOT = process.env.SMOKE_SCREENSHOT || path.join(os.tmpdir(), "wiresync-demo.png");
const WAIT_MS = 15_000;

const step = (msg) => console.log(`[smoke] ${msg}`);

let server;
let browser;
let serverOutput = "";
const pageErrors = [];

async function main() {
  const url = await startServer();
  step(`server at ${url}`);

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  // A context of its own, so that a second tab of it can share its connection (7c).
  const page = await openPage(url, await browser.newContext({ viewport: { width: 1200, height: 860 } }));
  const { waitFor, text, count, check } = helpers(page);

  // 1. Connected.
  await view(page, "connected");
  check((await text("status")) === "Connected", `banner says "${await text("status")}", not "Connected"`);

  // 2. The order, from the cache, changes live through the patch rules.
  await waitFor("the order from /api/orders/ord_1001", () => $("order-status")?.dataset.status);
  const before = await page.evaluate(() => ({
    status: $("order-status").dataset.status,
    patched: Number(document.querySelector('[data-key="[\\"order\\",\\"ord_1001\\"]"] td:nth-child(6)')?.textContent ?? 0),
  }));
  await waitFor(`a status change (from "${before.status}")`, (s) => $("order-status").dataset.status !== s, before.status);
  const after = await page.evaluate(() => $("order-status").dataset.status);
  step(`order: ${before.status} -> ${after} | ${await text("order-location")} | ETA ${await text("order-eta")}`);
  await waitFor('the inspector listing ["order","ord_1001"] as patched', (n) => {
    const row = document.querySelector('[data-key="[\\"order\\",\\"ord_1001\\"]"]');
    return row?.dataset.last === "patched" && Number(row.children[5].textContent) > n;
  }, before.patched);
  await waitFor('the inspector listing ["orders"] as invalidated (refetched)', () =>
    Number(document.querySelector('[data-key="[\\"orders\\"]"]')?.children[6].textContent) > 0);
  await waitFor("the orders list showing the live status", () =>
    document.querySelector('[data-testid="orders"] tbody tr .pill')?.textContent === $("order-status").textContent);
  const keys = await page.evaluate(() => [...document.querySelectorAll('[data-testid="inspector"] tbody tr')].map((tr) => tr.dataset.key));
  for (const k of ['["chat","chat_1"]', '["leaderboard","daily"]', '["order","ord_1001","location"]', '["orders"]']) {
    check(keys.includes(k), `the inspector does not list ${k}: ${keys.join(" ")}`);
  }
  await waitFor("the leaderboard", () => document.querySelectorAll('[data-testid="leaderboard"] tbody tr').length >= 3);

  // 3. A chat message: shows at once, confirmed on the ack, answered.
  const agentBefore = await count('[data-testid="chat-log"] .msg.agent');
  await send(page, "Hello, where is my order?");
  await waitFor("the message shown at once", () => mine().some((m) => m.text === "Hello, where is my order?"), undefined, 1000);
  await waitFor("the message confirmed", () => mine().find((m) => m.text === "Hello, where is my order?")?.state === "confirmed");
  await waitFor("the agent's reply", (n) => document.querySelectorAll('[data-testid="chat-log"] .msg.agent').length > n, agentBefore);
  await waitFor("the outbox empty", () => $("outbox-pending").textContent === "0" && $("outbox-inflight").textContent === "0");

  // 4. Server down: reconnecting, with the attempt count.
  await page.locator('[data-testid="server-toggle"]').click();
  await waitFor("the toggle to say the server is down", () => $("server-toggle").dataset.down === "true");
  await view(page, "reconnecting");
  await waitFor("a second reconnect attempt", () => /attempt [2-9]/.test($("status").textContent));
  step(`banner: ${await text("status")} | ${await text("last-error")}`);

  // 5. Two messages while down: shown at once as queued, pending in the outbox, in order.
  await send(page, "First, while down");
  await send(page, "Second, while down");
  await waitFor("both shown at once as pending", () =>
    mine().filter((m) => m.state === "pending").map((m) => m.text).join("|") === "First, while down|Second, while down", undefined, 1000);
  await waitFor("the outbox showing 2 pending", () => $("outbox-pending").textContent === "2");
  const queued = await page.evaluate(() => [...document.querySelectorAll('[data-testid="outbox-list"] .entry')].map((e) => e.textContent));
  check(queued.length === 2 && /pending.*First, while down/.test(queued[0]) && /pending.*Second, while down/.test(queued[1]),
    `outbox list: ${JSON.stringify(queued)}`);
  check(/waiting for the connection/.test(await text("outbox-progress")), `outbox progress: "${await text("outbox-progress")}"`);
  await page.evaluate(() => {
    // Every text the progress line shows from now on.
    window.__progress = [];
    new MutationObserver(() => window.__progress.push($("outbox-progress").textContent))
      .observe($("outbox-progress"), { childList: true, characterData: true, subtree: true });
  });

  // 6. Server up: connected again (recovered), the outbox drains, confirmed in order.
  await page.locator('[data-testid="server-toggle"]').click();
  await view(page, "connected");
  await waitFor("the recovered badge", () => !$("recovered").hidden);
  await waitFor("the outbox drained to 0", () =>
    $("outbox-pending").textContent === "0" && $("outbox-inflight").textContent === "0" && $("outbox-failed").textContent === "0");
  await waitFor("both confirmed, in order", () =>
    mine().map((m) => `${m.text}:${m.state}`).join("|") ===
      "Hello, where is my order?:confirmed|First, while down:confirmed|Second, while down:confirmed");
  const progress = await page.evaluate(() => window.__progress);
  check(progress.some((p) => p.startsWith("Delivering 1 of 2")) && progress.some((p) => p.startsWith("Delivering 2 of 2")) &&
    progress.at(-1).startsWith("Delivered 2 of 2"), `outbox progress went ${JSON.stringify([...new Set(progress)])}`);
  const server = await (await fetch(new URL("/api/chats/chat_1/messages", url))).json();
  const serverOrder = server.filter((m) => m.senderType === "user").map((m) => m.text).join("|");
  check(serverOrder === "Hello, where is my order?|First, while down|Second, while down", `the server stored: ${serverOrder}`);
  step("outbox drained, messages delivered in order");

  // 7. A refused message: failed (rolled back, with Retry), then delivered by Retry.
  await send(page, "This one will fail once");
  await waitFor("the refused message in failed", () => $("outbox-failed").textContent === "1");
  check(/refused by the demo server/.test(await text("outbox-list")), `outbox list: ${await text("outbox-list")}`);
  check((await page.evaluate(() => mine().at(-1))).state === "failed", "the refused message is not shown as failed in the chat");
  await page.locator('[data-testid="outbox-retry"]').click();
  await waitFor("the retried message confirmed", () =>
    $("outbox-failed").textContent === "0" && mine().at(-1)?.text === "This one will fail once" && mine().at(-1).state === "confirmed");
  await waitFor("the agent's answers to every message", () =>
    document.querySelectorAll('[data-testid="chat-log"] .msg.agent').length >= 5 && $("typing").hidden);

  // 7b. A photo: sent as binary through the outbox, shown at once, confirmed, stored by the
  // server with the same bytes (an image attachment of the echoed chat:message).
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  await page.locator('[data-testid="chat-image"]').setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: png });
  await waitFor("the photo shown at once", () => mine().at(-1)?.text === "Photo: dot.png" && mine().at(-1).image, undefined, 1000);
  await waitFor("the photo confirmed", () => mine().at(-1)?.state === "confirmed" && mine().at(-1).image.startsWith("data:image/png;base64,"));
  const photo = (await (await fetch(new URL("/api/chats/chat_1/messages", url))).json()).filter((m) => m.senderType === "user").at(-1);
  check(photo?.attachments?.[0]?.url === `data:image/png;base64,${png.toString("base64")}`, `the server stored ${JSON.stringify(photo?.attachments)}`);
  step("photo delivered as binary, same bytes");

  await noErrors(page);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  step(`screenshot: ${SCREENSHOT}`);

  // 7c. A second tab of the demo shares the first one's connection (shareAcrossTabs).
  const tab2 = await openPage(url, page.context());
  await view(tab2, "connected");
  const tabsOf = (p) => p.evaluate(() => [$("tabs").dataset.tabs, $("tabs").dataset.leader]);
  await waitFor("two tabs sharing one connection", () => $("tabs").dataset.tabs === "2");
  check(String(await tabsOf(tab2)) === "2,false", `second tab: ${await tabsOf(tab2)}`);
  check(String(await tabsOf(page)) === "2,true", `first tab: ${await tabsOf(page)}`);
  step(`two tabs: "${await text("tabs")}" | "${await helpers(tab2).text("tabs")}"`);
  await tab2.close();
  await waitFor("one tab again after the second closed", () => $("tabs").dataset.tabs === "1");

  // 8. A second page (its own storage) that gives up after 2 attempts: offline, failed, Retry.
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page2 = await openPage(`${url}?maxAttempts=2`, context);
  const two = helpers(page2);
  await view(page2, "connected");
  await context.setOffline(true);
  await view(page2, "offline");
  check(/Offline/.test(await two.text("status")), `banner says "${await two.text("status")}"`);
  await context.setOffline(false);
  await view(page2, "connected");
  await fetch(new URL("/demo/down", url), { method: "POST" });
  await view(page2, "failed");
  step(`banner: ${await two.text("status")} | ${await two.text("last-error")}`);
  check(/RECONNECT_FAILED.*after 2 attempts/.test(await two.text("last-error")), `banner error "${await two.text("last-error")}"`);
  check(await page2.locator('[data-testid="retry"]').isVisible(), "no Retry button on the failed banner");
  await fetch(new URL("/demo/up", url), { method: "POST" });
  await page2.waitForTimeout(1500);
  await view(page2, "failed"); // no automatic attempt after giving up
  await page2.locator('[data-testid="retry"]').click();
  await view(page2, "connected");
  await noErrors(page2);
}

/** Opens the demo in a page (of `context`, or the browser's default one). */
async function openPage(url, context = browser) {
  const page = await context.newPage({ viewport: { width: 1200, height: 860 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(url, { waitUntil: "load" });
  // In-page helpers for the wait conditions below.
  await page.evaluate(() => {
    window.$ = (id) => document.querySelector(`[data-testid="${id}"]`);
    window.mine = () => [...document.querySelectorAll('[data-testid="chat-log"] .msg.mine')]
      .map((m) => ({ text: m.querySelector(".text").textContent, state: m.dataset.state, image: m.querySelector("img")?.src }));
  });
  return page;
}

function helpers(page) {
  const text = (id) => page.locator(`[data-testid="${id}"]`).innerText();
  const count = (selector) => page.locator(selector).count();
  const check = (ok, message) => {
    if (!ok) throw new Error(message);
  };
  const waitFor = async (what, fn, arg, ms = WAIT_MS) => {
    try {
      await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
    } catch {
      const status = await text("status").catch(() => "?");
      const err = await text("last-error").catch(() => "");
      throw new Error(`timed out after ${ms} ms waiting for ${what} (banner "${status}"${err ? `, error "${err}"` : ""})`);
    }
    step(`ok: ${what}`);
  };
  return { text, count, check, waitFor };
}

/** Waits until the banner shows `want` (connected, reconnecting, offline, failed...). */
const view = (page, want) =>
  helpers(page).waitFor(`banner ${want}`, (w) => document.querySelector('[data-testid="banner"]')?.dataset.view === w, want);

async function send(page, message) {
  await page.locator('[data-testid="chat-input"]').fill(message);
  await page.locator('[data-testid="chat-send"]').click();
}

async function noErrors(page) {
  const errors = await page.locator('[data-testid="errors"]').innerText();
  if (/PAYLOAD_INVALID|DECODE_ERROR|HANDLER_ERROR|PANIC|STORAGE/.test(errors)) {
    throw new Error(`the page reported errors:\n${errors}`);
  }
  // Expected while the server is down: refused WebSockets, and the API's 503s to the queries'
  // fetches and retries.
  const unexpected = pageErrors.filter((e) =>
    !/WebSocket connection .* failed|ERR_CONNECTION|ERR_INTERNET_DISCONNECTED|status of 503 \(Service Unavailable\)/.test(e));
  if (unexpected.length) throw new Error(`page errors:\n${unexpected.join("\n")}`);
}

/** Starts www/server.mjs on a free port; resolves with its URL once it prints it. */
function startServer() {
  server = spawn(process.execPath, [path.join(WWW, "server.mjs")], {
    env: { ...process.env, DEMO_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${WAIT_MS} ms:\n${serverOutput}`)), WAIT_MS);
    const onData = (chunk) => {
      serverOutput += chunk;
      const m = /wiresync demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serverOutput);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${serverOutput}`));
    });
    server.once("error", reject);
  });
}

async function cleanup() {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill("SIGTERM");
    const killer = setTimeout(() => server.kill("SIGKILL"), 3000);
    await new Promise((r) => server.once("exit", r));
    clearTimeout(killer);
  }
}

const hardLimit = setTimeout(() => {
  console.error("[smoke] FAIL: took longer than 120 s");
  server?.kill("SIGKILL");
  process.exit(1);
}, 120_000);

try {
  await main();
  await cleanup();
  clearTimeout(hardLimit);
  step("PASS");
  process.exit(0);
} catch (e) {
  console.error(`[smoke] FAIL: ${e.message}`);
  if (pageErrors.length) console.error(`[smoke] page errors:\n${pageErrors.join("\n")}`);
  if (serverOutput) console.error(`[smoke] server output:\n${serverOutput.trimEnd()}`);
  await cleanup();
  clearTimeout(hardLimit);
  process.exit(1);
}
