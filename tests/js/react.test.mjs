// wiresync/react (pkg/react.js) in real headless Chromium with React 18 and React 19, against
// the real socket.io test server. The page app (react-app.mjs) is bundled here with esbuild once
// per version: for 18, `react` and `react-dom` are aliased to the npm aliases react18 and
// react-dom18 (tests/package.json); pkg/react.js is bundled in, and "/index.js" stays external,
// so the page loads the real pkg/ (and its wasm) from the static server. The bundles live in a
// temporary directory next to symlinks to pkg/'s files, served as one site.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { control, launch, root, serveStatic, testServer, until, withWaitFor } from "./harness.mjs";

const VERSIONS = [18, 19];
const T = { timeout: 10_000 };

let sio, site, browser, dir;
let n = 0;
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wiresync-react-"));
  const pkg = join(root, "pkg");
  for (const f of await readdir(pkg)) await symlink(join(pkg, f), join(dir, f));
  await Promise.all(VERSIONS.map((v) => bundle(v)));
  [sio, site, browser] = await Promise.all([testServer("sio"), serveStatic(dir), launch()]);
});

after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** tests/js/react-app.mjs with React `v` → app-<v>.js in the served directory. */
function bundle(v) {
  return esbuild.build({
    entryPoints: [join(root, "tests", "js", "react-app.mjs")],
    outfile: join(dir, `app-${v}.js`),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    absWorkingDir: join(root, "tests"),
    // pkg/react.js imports "react" from outside tests/: find it in tests/node_modules.
    nodePaths: [join(root, "tests", "node_modules")],
    alias: v === 18 ? { react: "react18", "react-dom": "react-dom18" } : {},
    external: ["/index.js"],
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "error",
  });
}

const statusPayload = (orderId, status) => ({ orderId, status, message: "m", timestamp: "2026-11-23T10:00:00Z" });
const emit = (room, event, data) =>
  control(sio.url, `emit?room=${encodeURIComponent(room)}&event=${encodeURIComponent(event)}&data=${encodeURIComponent(JSON.stringify(data))}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const v of VERSIONS) {
  describe(`React ${v}`, () => {
    let page;
    const errors = [];
    const text = (id) => page.evaluate((id) => app.text(id), id);
    const waitText = (id, want, ms) =>
      until(`#${id} to show ${want} (React ${v})`, async () => want.test(await text(id)) && (await text(id)), ms);

    before(async () => {
      page = await browser.newPage();
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      await withWaitFor(page);
      await page.goto(site.url + "/");
      await page.evaluate(async ({ v, sioUrl }) => {
        await import(`/app-${v}.js`);
        await app.init();
        window.opts = (extra = {}) => ({
          url: sioUrl,
          auth: { token: "good" },
          reconnect: { initialDelayMs: 300, maxDelayMs: 600 },
          outbox: false,
          ...extra,
        });
      }, { v, sioUrl: sio.url });
    });

    after(() => page?.close());

    /** No page errors, no console.error/warn from React or wiresync during the test. */
    async function assertQuiet() {
      const logged = await page.evaluate(() => app.consoleErrors.splice(0));
      assert.deepEqual([...errors.splice(0), ...logged], [], "nothing logged or thrown in the page");
    }

    test("the bundle runs this React version", T, async () => {
      const r = await page.evaluate(() => ({ react: app.react, dom: app.reactDom }));
      assert.equal(r.react.split(".")[0], String(v));
      assert.equal(r.dom, r.react);
    });

    test("useClient outside a provider throws a clear error", T, async () => {
      await page.evaluate(() => app.render("ClientProbe", null));
      assert.match(await text("boundary"), /caught: wiresync\/react: no client here.*RealtimeProvider/);
      await page.evaluate(() => app.unmount("ClientProbe"));
      // React reports the caught error (18 also rethrows it to window.onerror in development).
      await page.evaluate(() => app.consoleErrors.splice(0));
      errors.splice(0);
    });

    test("RealtimeProvider create: fallback until made, one client through StrictMode's remount, disposed on unmount", T, async () => {
      const r = await page.evaluate(async () => {
        const made = (window.made = { calls: 0, disposed: 0 });
        const create = async () => {
          made.calls++;
          await app.init();
          const c = app.connect(opts({ outbox: false }));
          const dispose = c.dispose.bind(c);
          c.dispose = () => {
            made.disposed++;
            dispose();
          };
          made.client = c;
          return c;
        };
        app.render("ClientProbe", create, {}, "connecting…");
        const fallback = app.rootText("ClientProbe");
        await waitFor(() => app.text("client") === "has client");
        await new Promise((r) => setTimeout(r, 50)); // past any deferred disposal
        const afterMount = { calls: made.calls, disposed: made.disposed, status: made.client.state.status };
        app.unmount("ClientProbe");
        await waitFor(() => made.disposed === 1);
        let usable = true;
        try {
          made.client.state;
        } catch {
          usable = false;
        }
        return { fallback, afterMount, disposed: made.disposed, usable };
      });
      assert.equal(r.fallback, "connecting…", "the fallback renders until the client is made");
      assert.equal(r.afterMount.calls, 1, "StrictMode mounted twice; create ran once");
      assert.equal(r.afterMount.disposed, 0, "the remount kept the client");
      assert.notEqual(r.afterMount.status, "closed");
      assert.equal(r.disposed, 1, "disposed on unmount");
      assert.equal(r.usable, false, "a disposed client throws on use");
    });

    test("the hooks' options are checked like every other: a typo is named, not ignored", T, async () => {
      await page.evaluate(() => {
        window.typoClient = app.connect(opts());
        app.render("ProfileDisabled", typoClient, { id: "typo", options: { enabeld: false } });
      });
      assert.match(await text("boundary"), /caught: unknown option `enabeld` \(did you mean `enabled`\?\)/);
      await page.evaluate(() => {
        app.unmount("ProfileDisabled");
        typoClient.close();
      });
      await page.evaluate(() => app.consoleErrors.splice(0));
      errors.splice(0);
    });

    test("useEvent: live events reach the latest handler; none after the event changes or unmount", T, async () => {
      const orderId = uniq("ev");
      const room = `order:${orderId}`;
      await page.evaluate(async (orderId) => {
        const c = (window.evClient = app.connect(opts()));
        window.raw = { pings: 0 };
        c.on("note:ping", () => raw.pings++); // counted before the probe mounts: not the hook's
        await waitFor(() => c.state.status === "open");
        await c.subscribe("order", { orderId }).ready;
        app.render("EventProbe", c, { event: "order:status_update", label: "a" });
      }, orderId);
      const subs = await page.evaluate(() => ({ ...evClient.tracked.live }));
      assert.equal(subs.on, 2, "the raw handler and the hook's one subscription (StrictMode's first one removed)");

      await emit(room, "order:status_update", statusPayload(orderId, "preparing"));
      await waitText("event", /^count:1 label:a/);
      const made = await page.evaluate(() => evClient.tracked.made.on);

      // A re-render with a new handler closure: called without subscribing again.
      await page.evaluate(() => app.render("EventProbe", evClient, { event: "order:status_update", label: "b" }));
      await emit(room, "order:status_update", statusPayload(orderId, "delivered"));
      await waitText("event", /^count:2 label:b/);
      let r = await page.evaluate(() => ({ calls: app.log.event.calls, made: evClient.tracked.made.on }));
      assert.deepEqual(r.calls.map((c) => [c.label, c.payload.status]), [["a", "preparing"], ["b", "delivered"]]);
      assert.equal(r.calls[0].payload.orderId, orderId);
      assert.equal(r.made, made, "no new subscription for a new handler");

      // Another event: the old one no longer reaches the handler, the new one does.
      await page.evaluate(() => app.render("EventProbe", evClient, { event: "note:ping", label: "c" }));
      await emit(room, "order:status_update", statusPayload(orderId, "cancelled"));
      await emit(room, "note:ping", { n: 1 });
      await until("the raw ping handler", () => page.evaluate(() => raw.pings === 1));
      await waitText("event", /^count:3 label:c event:note:ping/);
      r = await page.evaluate(() => app.log.event.calls.map((c) => c.payload.status ?? c.payload.n));
      assert.deepEqual(r, ["preparing", "delivered", 1], "the old event was unsubscribed (no \"cancelled\")");

      // Unmounted: the client still gets the event (raw handler), the hook's handler does not.
      await page.evaluate(() => app.unmount("EventProbe"));
      assert.equal(await page.evaluate(() => evClient.tracked.live.on), 1, "only the raw handler is left");
      await emit(room, "note:ping", { n: 2 });
      await until("the raw ping handler", () => page.evaluate(() => raw.pings === 2));
      await sleep(100);
      assert.equal(await page.evaluate(() => app.log.event.calls.length), 3, "no call after unmount");
      await page.evaluate(() => evClient.close());
      await assertQuiet();
    });

    test("useConnectionState: open, then reconnecting after a drop, then open again", T, async () => {
      await page.evaluate(() => {
        const c = (window.stClient = app.connect(opts()));
        window.rawStates = [];
        c.onState((s) => rawStates.push(s.status)); // the client's own view, not the hook's
        app.render("StateProbe", c);
      });
      await waitText("state", /^status:open attempt:0/);
      const before = await page.evaluate(() => ({ ...app.log.state }));
      await sleep(300);
      assert.equal(await page.evaluate(() => app.log.state.renders), before.renders, "no renders while nothing changes");

      await control(sio.url, "drop?forget=1");
      await waitText("state", /^status:(reconnecting|connecting) attempt:1 /);
      await waitText("state", /^status:open attempt:0 recovered:false/);
      const seen = await page.evaluate(() => app.log.state.seen);
      const at = seen.indexOf("open");
      assert.ok(at >= 0 && /reconnecting|connecting/.test(seen.slice(at + 1).join()), `rendered: ${seen.join(" → ")}`);
      assert.equal(seen.at(-1), "open");

      await page.evaluate(() => app.unmount("StateProbe"));
      assert.equal(await page.evaluate(() => stClient.tracked.live.onState), 1, "only the raw listener is left");
      const r = await page.evaluate(() => ({ renders: app.log.state.renders, states: rawStates.length }));
      await control(sio.url, "drop");
      await until("the client reconnected", () =>
        page.evaluate((n) => rawStates.length >= n + 2 && rawStates.at(-1) === "open", r.states));
      assert.equal(await page.evaluate(() => app.log.state.renders), r.renders, "no render after unmount");
      await page.evaluate(() => stClient.close());
      await assertQuiet();
    });

    test("useQueryData: loading, data, patched by setQueryData, refetched on invalidation, quiet after unmount", T, async () => {
      const id = uniq("q");
      await page.evaluate((id) => {
        const c = (window.qClient = app.connect(opts()));
        const q = (window.q = { fetches: 0, gates: [] });
        // Each fetch waits for the test to open its gate.
        window.queryFn = ({ queryKey }) => {
          q.fetches++;
          q.lastKey = queryKey;
          return new Promise((resolve) => q.gates.push(() => resolve({ n: q.fetches })));
        };
        app.render("QueryProbe", c, { id, queryFn });
      }, id);
      const key = ["todo", id];
      await waitText("query", /^status:pending fetching:true .*data:none/);
      await page.evaluate(() => q.gates.shift()());
      await waitText("query", /^status:success fetching:false invalidated:false data:\{"n":1\}$/);
      assert.deepEqual(await page.evaluate(() => q.lastKey), key, "queryFn gets { queryKey }");

      // Re-renders with a new key array and a new queryFn: not observed again, not fetched again.
      const made = await page.evaluate(() => qClient.tracked.made.observe);
      await page.evaluate((id) => {
        for (let i = 0; i < 3; i++) app.render("QueryProbe", qClient, { id, queryFn: (ctx) => queryFn(ctx) });
      }, id);
      let r = await page.evaluate(() => ({ made: qClient.tracked.made.observe, live: qClient.tracked.live.observe, fetches: q.fetches }));
      assert.deepEqual(r, { made, live: 1, fetches: 1 });

      await page.evaluate((key) => qClient.cache.setQueryData(key, (old) => ({ ...old, patched: true })), key);
      await waitText("query", /data:\{"n":1,"patched":true\}$/);

      await page.evaluate((key) => qClient.cache.invalidateQueries({ queryKey: key }), key);
      await waitText("query", /^status:success fetching:true invalidated:true data:\{"n":1,"patched":true\}$/);
      assert.equal(await page.evaluate(() => q.fetches), 2, "invalidation refetched");
      await page.evaluate(() => q.gates.shift()());
      await waitText("query", /^status:success fetching:false invalidated:false data:\{"n":2\}$/);

      // A refetch in flight at unmount, then changes: the component hears none, nothing throws.
      await page.evaluate((key) => qClient.cache.invalidateQueries({ queryKey: key }), key);
      await until("the third fetch", () => page.evaluate(() => q.fetches === 3 && q.gates.length === 1));
      await page.evaluate(() => app.unmount("QueryProbe"));
      assert.equal(await page.evaluate(() => qClient.tracked.live.observe), 0, "unobserved");
      const renders = await page.evaluate(() => app.log.query.renders);
      await page.evaluate(() => q.gates.shift()());
      await until("the in-flight fetch landed in the cache", () =>
        page.evaluate((key) => qClient.cache.getQueryData(key)?.n === 3, key));
      await page.evaluate((key) => {
        qClient.cache.setQueryData(key, { n: 99 });
        return qClient.cache.invalidateQueries({ queryKey: key });
      }, key);
      await sleep(150);
      r = await page.evaluate(() => ({ renders: app.log.query.renders, fetches: q.fetches }));
      assert.deepEqual(r, { renders, fetches: 3 }, "no render and no refetch (not active) after unmount");
      await page.evaluate(() => qClient.close());
      await assertQuiet();
    });

    test("useQuery({ queryKey, enabled: false }) follows the cache without fetching", T, async () => {
      const id = uniq("q");
      const key = ["todo", id];
      await page.evaluate((id) => {
        const c = (window.dClient = app.connect(opts()));
        window.dq = { fetches: 0 };
        app.render("QueryProbe", c, { id, shape: "query", enabled: false, queryFn: () => ({ n: ++dq.fetches }) });
      }, id);
      await waitText("query", /^status:pending fetching:false .*data:none$/);
      await page.evaluate((key) => dClient.cache.setQueryData(key, { set: 1 }), key);
      await waitText("query", /^status:success .*data:\{"set":1\}$/);
      await page.evaluate((key) => dClient.cache.invalidateQueries({ queryKey: key }), key);
      await waitText("query", /invalidated:true data:\{"set":1\}$/);
      let r = await page.evaluate(() => ({ fetches: dq.fetches, observe: dClient.tracked.made.observe, watch: dClient.tracked.live.watch }));
      assert.deepEqual(r, { fetches: 0, observe: 0, watch: 1 });
      await page.evaluate(() => app.unmount("QueryProbe"));
      r = await page.evaluate(() => dClient.tracked.live.watch);
      assert.equal(r, 0, "the watch is removed on unmount");
      await page.evaluate(() => dClient.close());
      await assertQuiet();
    });

    test("passive useQueryData([\"profile\"]) shows another component's fetch, setQueryData, invalidation and a patch rule; never fetches; quiet after unmount", T, async () => {
      const orderId = uniq("profile");
      const room = `order:${orderId}`;
      const PENDING = /^status:pending fetching:false invalidated:false data:none$/;
      const both = async (want) => {
        await waitText("profile-passive", want);
        await waitText("profile-disabled", want);
      };
      const counts = () => page.evaluate(() => ({
        active: pq.active, passive: pq.passive,
        observe: pClient.tracked.live.observe, watch: pClient.tracked.live.watch,
      }));
      await page.evaluate(async (orderId) => {
        // broadcast: false: ["profile"] is one key for every client of this origin's tabs.
        const c = (window.pClient = app.connect(opts({ cache: { broadcast: false } })));
        const pq = (window.pq = { active: 0, passive: 0, gates: [] });
        window.activeFn = () => {
          pq.active++;
          return new Promise((resolve) => pq.gates.push(() => resolve({ name: "Ada" })));
        };
        // A template with no placeholder and no update: the wasm rule sets the payload as data.
        c.patchOn("order:status_update", ["profile"]);
        await waitFor(() => c.state.status === "open");
        await c.subscribe("order", { orderId }).ready;
        // Passive before any data: the key alone, and enabled: false with a queryFn of its own.
        app.render("ProfilePassive", c, { id: "profile-passive" });
        app.render("ProfileDisabled", c, {
          id: "profile-disabled",
          options: { enabled: false, queryFn: () => ({ name: `passive-${++pq.passive}` }) },
        });
      }, orderId);
      await both(PENDING);
      assert.equal(await page.evaluate(() => pClient.tracked.made.observe), 0, "a passive hook never observes");
      assert.deepEqual(await counts(), { active: 0, passive: 0, observe: 0, watch: 2 }, "one watch per passive hook");

      // 1. Another component's active fetch: the passive ones show its result, fetching nothing.
      await page.evaluate(() => app.render("ProfileActive", pClient, { id: "profile-active", options: { queryFn: activeFn } }));
      await waitText("profile-active", /^status:pending fetching:true .*data:none$/);
      await page.evaluate(() => pq.gates.shift()());
      await waitText("profile-active", /^status:success fetching:false invalidated:false data:\{"name":"Ada"\}$/);
      await both(/^status:success fetching:false invalidated:false data:\{"name":"Ada"\}$/);
      assert.deepEqual(await counts(), { active: 1, passive: 0, observe: 1, watch: 2 });

      // 2. With no observer left, the passive ones follow setQueryData and the invalidated flag.
      await page.evaluate(() => app.unmount("ProfileActive"));
      assert.equal(await page.evaluate(() => pClient.tracked.live.observe), 0, "the active one stopped observing");
      await page.evaluate(() => pClient.cache.setQueryData(["profile"], (old) => ({ ...old, role: "admin" })));
      await both(/^status:success fetching:false invalidated:false data:\{"name":"Ada","role":"admin"\}$/);
      const matched = await page.evaluate(() => pClient.cache.invalidateQueries({ queryKey: ["profile"], refetchType: "none" }));
      assert.equal(matched, 1, "the one [\"profile\"] query matched");
      await both(/^status:success fetching:false invalidated:true data:\{"name":"Ada","role":"admin"\}$/);

      // A patch rule from a live event: the payload becomes the data.
      await emit(room, "order:status_update", statusPayload(orderId, "shipped"));
      await both(/^status:success fetching:false invalidated:false data:\{.*"status":"shipped"/);
      assert.deepEqual(JSON.parse((await text("profile-passive")).split(" data:")[1]), statusPayload(orderId, "shipped"));
      assert.deepEqual(await counts(), { active: 1, passive: 0, observe: 0, watch: 2 }, "no fetch by the passive hooks");

      // 3. Unmounted: both watches removed, and later changes render nothing.
      await page.evaluate(() => {
        app.unmount("ProfilePassive");
        app.unmount("ProfileDisabled");
      });
      assert.equal(await page.evaluate(() => pClient.tracked.live.watch), 0, "the watches are removed on unmount");
      const renders = await page.evaluate(() => [app.log["profile-passive"].renders, app.log["profile-disabled"].renders]);
      await page.evaluate(() => {
        pClient.cache.setQueryData(["profile"], { name: "Bob" });
        return pClient.cache.invalidateQueries({ queryKey: ["profile"], refetchType: "none" });
      });
      await emit(room, "order:status_update", statusPayload(orderId, "delivered"));
      await until("the patch rule ran after unmount", () =>
        page.evaluate(() => pClient.cache.getQueryData(["profile"])?.status === "delivered"));
      await sleep(150);
      const r = await page.evaluate(() => ({
        renders: [app.log["profile-passive"].renders, app.log["profile-disabled"].renders],
        text: [app.text("profile-passive"), app.text("profile-disabled")],
      }));
      assert.deepEqual(r, { renders, text: [null, null] }, "no render after unmount");
      assert.deepEqual(await counts(), { active: 1, passive: 0, observe: 0, watch: 0 });
      await page.evaluate(() => pClient.close());
      await assertQuiet();
    });

    // removeQueries and resetQueries call the watch hooks, so a passive hook does not keep
    // showing data that is gone.
    test('passive useQueryData(["profile"]) goes back to pending on removeQueries and resetQueries',
      T, async () => {
        const PENDING = /^status:pending fetching:false invalidated:false data:none$/;
        await page.evaluate(() => {
          const c = (window.rClient = app.connect(opts({ cache: { broadcast: false } })));
          c.cache.setQueryData(["profile"], { name: "Ada" });
          app.render("ProfilePassive", c, { id: "profile-passive" });
        });
        try {
          await waitText("profile-passive", /^status:success .*data:\{"name":"Ada"\}$/);
          assert.equal(await page.evaluate(() => rClient.cache.removeQueries({ queryKey: ["profile"] })), 1);
          await waitText("profile-passive", PENDING, 2000);
          await page.evaluate(() => rClient.cache.setQueryData(["profile"], { name: "Bob" }));
          await waitText("profile-passive", /^status:success .*data:\{"name":"Bob"\}$/);
          assert.equal(await page.evaluate(() => rClient.cache.resetQueries({ queryKey: ["profile"] })), 1);
          await waitText("profile-passive", PENDING, 2000);
        } finally {
          await page.evaluate(() => {
            app.unmount("ProfilePassive");
            rClient.close();
          });
        }
        assert.equal(await page.evaluate(() => rClient.tracked.live.watch), 0);
        await assertQuiet();
      });

    test("useOutboxStatus: pending grows while refused, back to 0 once delivered", T, async () => {
      await control(sio.url, "outbox/reset");
      const name = uniq("react-outbox");
      await page.evaluate((name) => {
        const c = (window.oClient = app.connect(opts({
          auth: { token: "wrong" },
          outbox: { name, retry: { initialDelayMs: 50, maxDelayMs: 200 } },
        })));
        app.render("OutboxProbe", c);
      }, name);
      await waitText("outbox", /^pending:0 inFlight:0 failed:0 /);
      const ids = await page.evaluate(async () => [
        (await oClient.outbox.enqueue("note:add", { text: "x" })).id,
        (await oClient.outbox.enqueue("note:add", { text: "y" })).id,
      ]);
      await waitText("outbox", /^pending:2 inFlight:0 /);
      await sleep(200);
      assert.equal((await control(sio.url, "outbox/stats")).applied.length, 0, "nothing sent while refused");

      await page.evaluate(() => oClient.setAuth({ token: "good" }));
      await waitText("outbox", /^pending:0 inFlight:0 failed:0 /);
      const applied = (await control(sio.url, "outbox/stats")).applied;
      assert.deepEqual(applied.map((a) => [a.id, a.payload.text]), [[ids[0], "x"], [ids[1], "y"]]);
      const seen = await page.evaluate(() => app.log.outbox.seen);
      assert.ok(seen.includes(2) && seen.at(-1) === 0 && seen[0] === 0, `rendered pending: ${seen.join(" → ")}`);

      await page.evaluate(() => app.unmount("OutboxProbe"));
      assert.equal(await page.evaluate(() => oClient.tracked.live.outbox), 0, "onChange listener removed");
      const renders = await page.evaluate(() => app.log.outbox.renders);
      await page.evaluate(async () => {
        await oClient.outbox.enqueue("note:add", { text: "z" });
        await waitFor(() => oClient.outbox.status().pending + oClient.outbox.status().inFlight === 0);
      });
      assert.equal(await page.evaluate(() => app.log.outbox.renders), renders, "no render after unmount");
      await page.evaluate(() => oClient.close());

      // A client without an outbox: undefined, and nothing subscribed.
      await page.evaluate(() => {
        window.noOutbox = app.connect(opts());
        app.render("OutboxProbe", noOutbox);
      });
      assert.equal(await text("outbox"), "no outbox");
      await page.evaluate(() => {
        app.unmount("OutboxProbe");
        noOutbox.close();
      });
      await assertQuiet();
    });
  });
}
