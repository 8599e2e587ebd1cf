// The packed npm tarball in real Vite and webpack 5 builds: each app (tests/bundlers/<app>/)
// installs target/npm/wiresync-*.tgz, builds with nothing but its bundler's defaults, and its
// output is opened in headless Chromium against the real socket.io test server: a live event
// arrives and a durable enqueue reaches the server (see tests/bundlers/lib.mjs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { root, startFixtures, stopFixtures, until } from "./harness.mjs";
import { checkApp, installTarball, serveDir, sh } from "../bundlers/lib.mjs";

let fixtures;
before(async () => (fixtures = await startFixtures()));
after(() => stopFixtures(fixtures));

const apps = {
  vite: { build: ["node_modules/.bin/vite", ["build", "--logLevel", "warn"]] },
  webpack: { build: ["node_modules/.bin/webpack", ["--no-stats"]], html: true },
};

for (const [name, app] of Object.entries(apps)) {
  test(`${name}: the packed package builds with no plugin and works in the browser`, async () => {
    const dir = join(root, "tests", "bundlers", name);
    const version = await installTarball(dir);
    await copyFile(join(root, "tests", "bundlers", "app.js"), join(dir, "src", "app.js"));
    await sh(dir, ...app.build);
    if (app.html) await copyFile(join(dir, "index.html"), join(dir, "dist", "index.html"));
    const emitted = await readdir(join(dir, "dist"), { recursive: true });
    assert.ok(emitted.some((f) => f.endsWith(".wasm")), `${name} emitted the wasm as an asset: ${emitted.join(", ")}`);
    const site = await serveDir(join(dir, "dist"));
    try {
      const sharedEntry = (page) => until(`${name}: the wiresync/shared client`, () =>
        page.evaluate(() => document.querySelector('[data-testid="shared"]').textContent === "1 true"), 20_000);
      const r = await checkApp(fixtures.browser, site.url, fixtures.sio.url, name, sharedEntry);
      assert.match(r.id, /^[0-9a-f-]{36}$/, "enqueue resolved with the entry's id");
      assert.ok(emitted.filter((f) => f.endsWith(".wasm")).length >= 2, `both wasms emitted: ${emitted.join(", ")}`);
      assert.deepEqual(r.problems, [], "no page errors");
      assert.match(version, /^\d+\.\d+\.\d+/);
    } finally {
      site.close();
    }
  });
}

test("vite: the dev server (dependency pre-bundling included) serves a working app", async () => {
  const dir = join(root, "tests", "bundlers", "vite");
  await installTarball(dir);
  await copyFile(join(root, "tests", "bundlers", "app.js"), join(dir, "src", "app.js"));
  const child = spawn(join(dir, "node_modules", ".bin", "vite"), ["--host", "127.0.0.1", "--port", "0", "--force"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  try {
    // eslint-disable-next-line no-control-regex
    const port = await until("the vite dev server", () => /http:\/\/127\.0\.0\.1:(\d+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ""))?.[1], 20_000);
    const r = await checkApp(fixtures.browser, `http://127.0.0.1:${port}`, fixtures.sio.url, "vite-dev");
    assert.match(r.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(r.problems, [], "no page errors");
  } catch (e) {
    throw new Error(`${e.message}\nvite said:\n${output}`);
  } finally {
    child.kill();
  }
});
