// Shared by the bundler tests: each app in tests/bundlers/<app>/ installs the packed npm tarball
// (target/npm/wiresync-*.tgz, from scripts/build.sh), builds with its bundler, and its output is
// served and opened in headless Chromium against the real socket.io test server.
//
// The app contract (same for every app): it reads `?server=&order=&outbox=` from its URL, calls
// `init()`, connects with `auth: { token: "good" }` and outbox `{ name: outbox }`, joins room
// `order` with `{ orderId: order }`, and renders elements with these data-testid values:
//   status    the connection status (`client.state.status`)
//   joined    "yes" once the room subscription's `ready` resolved
//   event     "<orderId> <status>" of the last `order:status_update`
//   enqueued  the id that `client.outbox.enqueue("note:add", { text })` resolved with
//   shared    (Vite and webpack) "1 true" once a `wiresync/shared` client with
//             `shareAcrossTabs` is open, leading its group of one tab
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { control, root, serveStatic, until } from "../js/harness.mjs";

const run = promisify(execFile);

/** The packed tarball; throws a clear error when it is missing. */
export function tarball() {
  const dir = join(root, "target", "npm");
  const found = (() => {
    try {
      return readdirSync(dir).filter((f) => /^wiresync-.*\.tgz$/.test(f));
    } catch {
      return [];
    }
  })();
  if (found.length !== 1) throw new Error(`expected one wiresync-*.tgz in ${dir} (run ./scripts/build.sh)`);
  return join(dir, found[0]);
}

/** Runs a command in `cwd`, returning stdout; on failure the error carries its output. */
export async function sh(cwd, file, args, { env = {}, timeoutMs = 600_000 } = {}) {
  try {
    const { stdout } = await run(file, args, {
      cwd,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    throw new Error(`${file} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

/** Installs the packed tarball into the app (its own dependencies come from its lock file,
 *  installed by scripts/setup.sh); nothing but the tarball is fetched. */
export async function installTarball(appDir) {
  await sh(appDir, "npm", ["install", "--no-save", "--no-audit", "--no-fund", "--offline", tarball()]);
  const pkg = JSON.parse(await readFile(join(appDir, "node_modules", "wiresync", "package.json"), "utf8"));
  if (!(await stat(join(appDir, "node_modules", "wiresync", "wiresync_bg.wasm"))).isFile()) {
    throw new Error("the installed package has no wasm");
  }
  return pkg.version;
}

/** Serves a built app from `dir` on 127.0.0.1 (`/` is index.html). Resolves to { url, close }. */
export const serveDir = (dir) => serveStatic(dir, { index: true });

let n = 0;

/** Opens the built app served at `url` and checks the contract above against the socket.io
 *  test server at `sioUrl`: live event received, durable enqueue delivered to the server.
 *  `extra(page, order)`, if given, checks more once the event arrived.
 *  Returns what it saw: the entry id, the IndexedDB databases, page errors, `extra`'s result. */
export async function checkApp(browser, url, sioUrl, label, extra) {
  const order = `${label}-${process.pid}-${++n}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  // A failed load is reported by its URL (the console only says "404"); browsers ask for a
  // favicon nobody serves.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && problems.push(`${r.status()} ${r.url()}`));
  const text = (id) => page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "", id);
  try {
    const q = new URLSearchParams({ server: sioUrl, order, outbox: order });
    await page.goto(`${url}/?${q}`);
    await until(`${label}: connected and joined`, async () => (await text("status")) === "open" && (await text("joined")) === "yes", 20_000)
      .catch(async (e) => { throw new Error(`${e.message} (status "${await text("status")}"; ${problems.join(" | ")})`); });
    const data = encodeURIComponent(JSON.stringify({ orderId: order, status: "delivered", message: "m", timestamp: "2026-11-23T10:00:00Z" }));
    await control(sioUrl, `emit?room=order:${order}&event=order:status_update&data=${data}`);
    await until(`${label}: the live event`, async () => (await text("event")) === `${order} delivered`, 10_000);
    const extraResult = extra ? await extra(page, order) : undefined;
    const id = await until(`${label}: the durable enqueue`, async () => (await text("enqueued")) || false, 10_000);
    const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    await until(`${label}: the server applied the queued message`, async () =>
      (await control(sioUrl, "outbox/stats")).applied.some((a) => a.id === id), 10_000);
    return { id, databases, problems, extra: extraResult };
  } finally {
    await context.close();
  }
}
