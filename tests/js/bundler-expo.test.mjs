// The packed npm tarball in a real Expo app on web (tests/bundlers/expo/): it installs
// target/npm/wiresync-*.tgz, `expo export --platform web` bundles it with Metro (the app imports
// "wiresync"; its metro.config.js sends that to "wiresync/metro", the wasm inlined as base64),
// and the exported site is opened in headless Chromium against the real socket.io test server:
// a live event arrives and a durable enqueue reaches the server (see tests/bundlers/lib.mjs).
// Expo runs offline: no call to its API, no telemetry. Its logs are kept and shown on failure.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { root, startFixtures, stopFixtures } from "./harness.mjs";
import { checkApp, installTarball, serveDir, sh } from "../bundlers/lib.mjs";

const dir = join(root, "tests", "bundlers", "expo");
const EXPORT_TIMEOUT_MS = 10 * 60_000;

let fixtures;
before(async () => (fixtures = await startFixtures()));
after(() => stopFixtures(fixtures));

test("expo: `expo export --platform web` bundles the packed package with Metro and it works in the browser",
  { timeout: EXPORT_TIMEOUT_MS + 2 * 60_000 }, async () => {
    const version = await installTarball(dir);
    assert.match(version, /^\d+\.\d+\.\d+/);
    await rm(join(dir, "dist"), { recursive: true, force: true });
    const log = await sh(dir, process.execPath, [join(dir, "node_modules", "expo", "bin", "cli"),
      "export", "--platform", "web", "--output-dir", "dist"], {
      timeoutMs: EXPORT_TIMEOUT_MS,
      env: {
        CI: "1", // no prompts, no interactive output
        EXPO_OFFLINE: "1", // no Expo API calls (versions, manifests, account)
        EXPO_NO_TELEMETRY: "1",
        NO_COLOR: "1",
        // Metro's transform cache (by default in the system's temp directory) next to the app's
        // packages: reused between runs, dropped whenever `npm ci` reinstalls them.
        EXPO_METRO_CACHE_OUTPUT_DIR: join(dir, "node_modules", ".cache", "metro"),
      },
    });
    try {
      const files = await readdir(join(dir, "dist"), { recursive: true });
      const bundles = files.filter((f) => f.endsWith(".js"));
      assert.equal(bundles.length, 1, `one web bundle: ${files.join(", ")}`);
      const js = await readFile(join(dir, "dist", bundles[0]), "utf8");
      assert.ok(!js.includes("wiresync_bg.wasm"),
        "Metro bundled wiresync's Metro entry (the wasm inlined), not the default entry that fetches wiresync_bg.wasm");
      const site = await serveDir(join(dir, "dist"));
      try {
        const r = await checkApp(fixtures.browser, site.url, fixtures.sio.url, "expo");
        assert.match(r.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "enqueue resolved with the entry's id");
        assert.deepEqual(r.problems, [], "no page errors");
      } finally {
        site.close();
      }
    } catch (e) {
      e.message += `\nexpo export said:\n${log}`;
      throw e;
    }
  });
