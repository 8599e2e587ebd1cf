// init() in both entry points, in Chromium: concurrent and repeated calls share one load of the
// wasm, and a load that failed can be tried again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFixtures, stopFixtures } from "./harness.mjs";

let fixtures;
before(async () => (fixtures = await startFixtures()));
after(() => stopFixtures(fixtures));

for (const entry of ["index.js", "metro.js"]) {
  test(`${entry}: init() loads once, however often and however concurrently it is called`, async () => {
    const page = await fixtures.browser.newPage();
    const wasmRequests = [];
    page.on("request", (r) => r.url().endsWith(".wasm") && wasmRequests.push(r.url()));
    await page.goto(fixtures.site.url + "/");
    const r = await page.evaluate(async ({ entry, sioUrl }) => {
      const mod = await import(`/${entry}`);
      const calls = [mod.default(), mod.default(), mod.default()];
      const same = calls[0] === calls[1] && calls[1] === calls[2];
      await Promise.all(calls);
      await mod.default();
      const client = mod.connect({ url: sioUrl, outbox: false });
      const status = client.state.status;
      client.close();
      return { same, status };
    }, { entry, sioUrl: fixtures.sio.url });
    assert.equal(r.same, true, "concurrent calls share one promise");
    assert.equal(r.status, "connecting", "the client works after init");
    assert.equal(wasmRequests.length, entry === "index.js" ? 1 : 0, `wasm requests: ${wasmRequests.join(", ")}`);
    await page.close();
  });
}

test("a failed load rejects, and init() can be called again", async () => {
  const page = await fixtures.browser.newPage();
  await page.goto(fixtures.site.url + "/");
  const r = await page.evaluate(async () => {
    const mod = await import("/index.js");
    let failed;
    try {
      await mod.default("/no-such.wasm");
    } catch (e) {
      failed = String(e);
    }
    await mod.default(); // the default location this time
    const client = mod.connect({ url: "http://127.0.0.1:1", outbox: false });
    const status = client.state.status;
    client.close();
    return { failed, status };
  });
  assert.ok(r.failed, "the bad location rejected");
  assert.equal(r.status, "connecting", "the second init() loaded the wasm");
  await page.close();
});
