// Smoke check of the demo: starts www/server.mjs on a free port, drives the page in headless
// Chromium and exits 0 when everything worked (non-zero with a message otherwise).
//
//   node www/smoke.mjs            (needs pkg/ built: ./scripts/build.sh)
//
// Checks: connected; a live order status; a chat reply from the agent; "Take server down"
// shows reconnecting; "Bring server up" connects again (recovered); no payload/decode errors.
// Screenshot: /tmp/wiresync-demo.png (SMOKE_SCREENSHOT overrides). Every wait is bounded.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WWW = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(WWW, "..");
const require = createRequire(path.join(ROOT, "tests", "package.json"));
const { chromium } = require("playwright-core");

const SCREENSHOT = process.env.SMOKE_SCREENSHOT || "/tmp/wiresync-demo.png";
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
  const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(WAIT_MS);

  await page.goto(url, { waitUntil: "load" });

  const text = (id) => page.locator(`[data-testid="${id}"]`).innerText();
  const waitFor = async (what, fn, arg) => {
    try {
      await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 });
    } catch {
      const status = await text("status").catch(() => "?");
      const err = await text("last-error").catch(() => "");
      throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what} (status "${status}"${err ? `, error "${err}"` : ""})`);
    }
    step(`ok: ${what}`);
  };
  const statusIs = (want) =>
    waitFor(`status ${want}`, (w) => document.querySelector('[data-testid="banner"]')?.dataset.status === w, want);

  await statusIs("open");
  if ((await text("status")) !== "connected") throw new Error(`banner says "${await text("status")}", not "connected"`);

  await waitFor("a live order status", () =>
    ["confirmed", "preparing", "out_for_delivery", "delivered"].includes(
      document.querySelector('[data-testid="order-status"]')?.dataset.status));
  await waitFor("an order location", () => /\d+\.\d+, -?\d+\.\d+/.test(document.querySelector('[data-testid="order-location"]')?.textContent ?? ""));
  await waitFor("the leaderboard", () => document.querySelectorAll('[data-testid="leaderboard"] tbody tr').length >= 3);
  step(`order: ${await text("order-status")} | ${await text("order-location")} | ETA ${await text("order-eta")}`);

  await page.locator('[data-testid="chat-input"]').fill("Hello, where is my order?");
  await page.locator('[data-testid="chat-send"]').click();
  await waitFor("the agent's chat reply", () => document.querySelector('[data-testid="chat-log"] .msg.agent') !== null);
  step(`reply: ${await page.locator('[data-testid="chat-log"] .msg.agent .text').first().innerText()}`);

  await page.locator('[data-testid="down"]').click();
  await statusIs("reconnecting");
  step(`banner: ${await text("status")} ${await text("last-error")}`);
  // Leave it down long enough for at least one refused attempt.
  await waitFor("a refused reconnect attempt", () => /attempt [2-9]/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""));

  await page.locator('[data-testid="up"]').click();
  await statusIs("open");
  await waitFor("the recovered badge", () => !document.querySelector('[data-testid="recovered"]').hidden);

  // Updates keep coming after the reconnect.
  await page.evaluate(() => { window.__smokeFirst = document.querySelector('[data-testid="event-log"] li'); });
  await waitFor("new events after the reconnect", () => {
    const first = document.querySelector('[data-testid="event-log"] li');
    return first !== null && first !== window.__smokeFirst;
  });

  // Let the chat show a second exchange for the screenshot.
  await page.locator('[data-testid="chat-input"]').fill("Thanks!");
  await page.locator('[data-testid="chat-send"]').click();
  await waitFor("a second agent reply", () => document.querySelectorAll('[data-testid="chat-log"] .msg.agent').length >= 2);

  const errors = await text("errors");
  if (/PAYLOAD_INVALID|DECODE_ERROR|HANDLER_ERROR|PANIC/.test(errors)) {
    throw new Error(`the page reported errors:\n${errors}`);
  }
  const unexpected = pageErrors.filter((e) => !/WebSocket connection .* failed|ERR_CONNECTION/.test(e));
  if (unexpected.length) throw new Error(`page errors:\n${unexpected.join("\n")}`);

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  step(`screenshot: ${SCREENSHOT}`);
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
