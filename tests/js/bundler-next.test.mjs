// The packed npm tarball in a real Next.js 16 App Router app (tests/bundlers/next/), built with
// Turbopack and with webpack, served by `next start` on 127.0.0.1 and opened in Chromium
// against the real socket.io test server: the page is prerendered (the server never loads the
// wasm), then in the browser a live event reaches a client component, a TanStack useQuery is
// patched through bindQueryClient, and an outbox enqueue is applied by the server. Offline:
// no fonts, telemetry off.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { control, root, startFixtures, stopFixtures, until } from "./harness.mjs";
import { checkApp, installTarball, sh } from "../bundlers/lib.mjs";

const dir = join(root, "tests", "bundlers", "next");
const env = { NEXT_TELEMETRY_DISABLED: "1" };
let fixtures;

before(async () => {
  fixtures = await startFixtures();
  await installTarball(dir);
});
after(() => stopFixtures(fixtures));

/** A port free on 127.0.0.1 now. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

for (const [name, flags] of [["turbopack", []], ["webpack", ["--webpack"]]]) {
  test(`Next.js 16 (${name}): next build prerenders, next start serves a working app`, async () => {
    await rm(join(dir, ".next"), { recursive: true, force: true });
    const built = await sh(dir, join(dir, "node_modules", ".bin", "next"), ["build", ...flags], { env, timeoutMs: 300_000 });
    assert.match(built, /prerendered as static content/);
    // Prerendered: the fallback, never a client (create runs in the browser only).
    const html = await readFile(join(dir, ".next", "server", "app", "index.html"), "utf8");
    assert.match(html, /data-testid="status">loading</);

    const port = await freePort();
    const child = spawn(join(dir, "node_modules", ".bin", "next"), ["start", "-H", "127.0.0.1", "-p", String(port)], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    try {
      await until("next start", () => /Ready/.test(output), 30_000);
      const page = `http://127.0.0.1:${port}`;
      const r = await checkApp(fixtures.browser, page, fixtures.sio.url, `next-${name}`, async (p, order) => {
        // The same event patched the query through the bridge.
        await until(`next-${name}: the patched query`, async () =>
          (await p.evaluate(() => document.querySelector('[data-testid="patched"]')?.textContent)) === "delivered", 10_000);
        return order;
      });
      assert.match(r.id, /^[0-9a-f-]{36}$/, "enqueue resolved with the entry's id");
      assert.deepEqual(r.problems, [], "no page errors");
      assert.ok(r.extra, "the useQuery was patched");
      assert.doesNotMatch(output, /Failed to parse URL|NOT_IN_BROWSER|Error/, "the server logged no error");
      assert.ok((await control(fixtures.sio.url, "outbox/stats")).applied.some((a) => a.id === r.id));
    } catch (e) {
      throw new Error(`${e.message}\nnext said:\n${output}`);
    } finally {
      child.kill();
    }
  });
}
