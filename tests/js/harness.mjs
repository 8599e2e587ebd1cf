// Shared by the JS tests: a static server for pkg/ and a test page, the real test servers
// (reused from scripts/test.sh via WIRESYNC_SIO_URL / WIRESYNC_JSON_URL, else started here),
// and headless Chromium through playwright-core.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const types = {
  ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html",
  ".json": "application/json", ".css": "text/css", ".ico": "image/x-icon", ".png": "image/png",
  ".svg": "image/svg+xml", ".ttf": "font/ttf",
};

/** Serves `dir` on 127.0.0.1. `/` is a blank page, or with `{ index: true }` (a built app)
 *  every directory serves its index.html. Resolves to { url, close }. */
export function serveStatic(dir, { index = false } = {}) {
  const server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path.endsWith("/")) {
      if (!index) {
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>wiresync test</title>");
        return;
      }
      path += "index.html";
    }
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}

/** The socket.io test server's URL: the one scripts/test.sh started, or a new child process
 *  (always a new one with `env`, its settings, e.g. `{ SIO_PING_INTERVAL: "300" }`). */
export async function testServer(kind = "sio", env) {
  const shared = kind === "sio" ? "WIRESYNC_SIO_URL" : "WIRESYNC_JSON_URL";
  if (process.env[shared] && !env) return { url: process.env[shared], close() {} };
  const script = join(root, "tests", "servers", kind === "sio" ? "socketio-server.mjs" : "json-server.mjs");
  const child = spawn(process.execPath, [script], { env: { ...process.env, SIO_PORT: "0", JSON_PORT: "0", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("test server did not start")), 10_000);
    child.stdout.on("data", (d) => {
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(String(d));
      if (m) { clearTimeout(timer); resolve(`http://${m[1]}`); }
    });
  });
  return { url, close: () => child.kill() };
}

/** GET a control endpoint of a test server and parse the JSON answer. */
export async function control(base, pathAndQuery) {
  const res = await fetch(`${base}/control/${pathAndQuery}`);
  return res.json();
}

export async function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Polls `fn` until it returns truthy; fails after `ms`. */
export async function until(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Gives the page (now and after every reload) `waitFor(fn, ms = defaultMs)`: resolves once
 *  `fn()` is truthy, polling every 20 ms; rejects with "timeout" after `ms`. Call before goto. */
export function withWaitFor(page, defaultMs = 5000) {
  return page.addInitScript((defaultMs) => {
    window.waitFor = (fn, ms = defaultMs) =>
      new Promise((resolve, reject) => {
        const end = Date.now() + ms;
        const tick = () => (fn() ? resolve(true) : Date.now() > end ? reject(new Error("timeout")) : setTimeout(tick, 20));
        tick();
      });
  }, defaultMs);
}

/** A new page of `browser` on `site` (pkg/ served) with `waitFor` (default `waitMs`), page errors
 *  logged, and the default entry loaded and initialised as `window.wiresync`. */
export async function wiresyncPage(browser, site, waitMs = 5000) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page, waitMs);
  await page.goto(site.url + "/");
  await page.evaluate(async () => {
    const mod = await import("/index.js");
    await mod.default();
    window.wiresync = mod;
  });
  return page;
}

/** What a browser test file needs: the socket.io test server, pkg/ served, Chromium. */
export async function startFixtures() {
  const sio = await testServer("sio");
  const site = await serveStatic(join(root, "pkg"));
  const browser = await launch();
  return { sio, site, browser };
}

/** Closes what `startFixtures` started. */
export async function stopFixtures({ sio, site, browser }) {
  await browser?.close();
  site?.close();
  sio?.close();
}
