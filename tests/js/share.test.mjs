// shareAcrossTabs (the wiresync/shared entry): one connection for the tabs of a group, in headless Chromium (real Web Locks,
// BroadcastChannel, IndexedDB) against a socket.io server of its own (its stats count this
// file's connections only).
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { control, serveStatic, launch, testServer, until, withWaitFor, root } from "./harness.mjs";
import { join } from "node:path";

let browser, site, sio;
let n = 0;
/** A group of its own per test: the namespace is shared, so the outbox identity differs. */
const uniq = (what) => `${what}-${process.pid}-${++n}`;

before(async () => {
  // Short heartbeats: a frozen tab's socket is timed out by the server within seconds.
  sio = await testServer("sio", { SIO_PING_INTERVAL: "1000", SIO_PING_TIMEOUT: "1500" });
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
});

const stats = () => control(sio.url, "stats");

/** A browser context for one test, closed after it whatever happens (its tabs' connections
 *  would count in the next test's stats). */
const contexts = [];
async function newContext() {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

/** A tab of `context` with the package loaded and `open(identity, extra)` defined: a shared
 *  client whose events, states and errors are logged in `window.log`. */
async function tab(context, entry = "/shared.js", base = site.url) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page, 15_000);
  await prepare(page, entry, base);
  return page;
}

/** Loads `base` and the package in `page` (again after a reload). */
async function prepare(page, entry = "/shared.js", base = site.url) {
  await page.goto(base + "/");
  await page.evaluate(async ({ sioUrl, entry }) => {
    const mod = await import(entry);
    await mod.default();
    window.log = { events: [], states: [], errors: [] };
    window.open = (identity, extra = {}) => {
      const c = mod.connect({
        url: sioUrl,
        auth: { token: "good" },
        catalog: false,
        shareAcrossTabs: true,
        reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
        outbox: { identity },
        ...extra,
      });
      c.onAny((event, payload, meta) => window.log.events.push({ event, payload, ack: meta.ack !== undefined }));
      c.onState((s) => window.log.states.push(s));
      c.onError((e) => window.log.errors.push({ code: e.code, message: e.message }));
      window.client = c;
      return c.state;
    };
    window.subs = {};
    window.join = (room) => (window.subs[room] = client.subscribe("order", { orderId: room })).ready;
    window.seen = (event) => window.log.events.filter((e) => e.event === event).map((e) => e.payload);
  }, { sioUrl: sio.url, entry });
}

/** Opens `count` tabs of one group, one after the other; resolves once every tab sees the
 *  group's connection open and `count` tabs in it. */
async function group(context, identity, count) {
  const tabs = [];
  for (let i = 0; i < count; i++) {
    const page = await tab(context);
    await page.evaluate((id) => window.open(id), identity);
    tabs.push(page);
  }
  for (const page of tabs) {
    await page.evaluate((count) => waitFor(() => client.state.status === "open" && client.state.shared?.tabs === count), count);
  }
  return tabs;
}

const leaderOf = async (tabs) => {
  for (const page of tabs) if (await page.evaluate(() => client.state.shared.leader)) return page;
  return undefined;
};

test("three tabs share one connection; each gets the room events it joined, and only those; rooms joined once", async () => {
  await control(sio.url, "reset");
  const context = await newContext();
  const id = uniq("rooms");
  const [a, b, c] = await group(context, id, 3);
  assert.equal((await stats()).connections, 1, "one connection for three tabs");
  const leaders = await Promise.all([a, b, c].map((p) => p.evaluate(() => client.state.shared.leader)));
  assert.deepEqual(leaders.filter(Boolean).length, 1, "one leader");

  const ra = `r${id}a`, rb = `r${id}b`;
  await a.evaluate((r) => join(r), ra);
  await b.evaluate((r) => join(r), rb);
  await c.evaluate((r) => join(r), ra);
  let s = await stats();
  assert.equal(s.joins[`order:${ra}`], 1, "joined once for two tabs");
  assert.equal(s.joins[`order:${rb}`], 1);

  const emit = (room, data) => control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify(data))}`);
  await emit(ra, { orderId: ra, status: "packed" });
  await emit(rb, { orderId: rb, status: "late" });
  await control(sio.url, `emit?event=notice&data=${encodeURIComponent(JSON.stringify({ text: "to all" }))}`);
  for (const p of [a, b, c]) await p.evaluate(() => waitFor(() => seen("notice").length === 1));
  const got = await Promise.all([a, b, c].map((p) => p.evaluate(() => seen("order:status_update").map((x) => x.orderId))));
  assert.deepEqual(got, [[ra], [rb], [ra]], "each tab gets its rooms' events only");

  // The last tab of a room to leave leaves it: c unsubscribes (a still holds it), then a closes.
  await c.evaluate((r) => subs[r].unsubscribe(), ra);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await stats()).leaves[`order:${ra}`], undefined, "still held by another tab");
  await a.evaluate(() => client.close());
  await until("the room left", async () => (await stats()).leaves[`order:${ra}`] === 1, 8000);
  s = await stats();
  assert.equal(s.connections, 1, "the connection stays for the other tabs");
  assert.equal(s.joins[`order:${ra}`], 1);
  await b.evaluate(() => waitFor(() => client.state.shared.tabs === 2));
});

test("a follower's emitWithAck resolves with the server's value, times out in that tab; a server's ack request is answered once", async () => {
  await control(sio.url, "reset");
  const context = await newContext();
  const tabs = await group(context, uniq("acks"), 2);
  const leader = await leaderOf(tabs);
  const follower = tabs.find((t) => t !== leader);
  const echoed = await follower.evaluate(() => client.emitWithAck("echo", { n: 42 }));
  assert.deepEqual(echoed, { n: 42 });
  const timedOut = await follower.evaluate(async () => {
    const t0 = performance.now();
    try {
      await client.emitWithAck("slow:no-ack", { n: 1 }, { timeoutMs: 300 });
      return "resolved";
    } catch (e) {
      return { code: e.code, ms: performance.now() - t0 };
    }
  });
  assert.equal(timedOut.code, "ACK_TIMEOUT");
  assert.ok(timedOut.ms >= 290 && timedOut.ms < 5000, `${timedOut.ms} ms`);
  // Both tabs answer the server's question; the server gets one answer (the first).
  for (const [i, t] of tabs.entries()) {
    await t.evaluate((i) => client.on("server:question", (q, meta) => meta.ack({ from: i })), i);
  }
  const { answers } = await control(sio.url, "ask?event=server:question");
  assert.equal(answers.length, 1, "one connection asked");
  assert.ok([0, 1].includes(answers[0]?.from), JSON.stringify(answers));
  // A plain emit from the follower reaches the server.
  await follower.evaluate(() => client.emit("note:added", { text: "from a follower" }));
  await until("the follower's emit", async () => (await stats()).received.some((r) => r.event === "note:added"));
  // Binary events reach every tab with their bytes; a follower cannot send binary.
  for (const t of tabs) {
    await t.evaluate(() => client.on("file:ready", (data, meta) => (window.file = [...new Uint8Array(meta.args[0].image ?? data)])));
  }
  await control(sio.url, "binary?event=file:ready&shape=nested");
  for (const t of tabs) assert.deepEqual(await t.evaluate(() => waitFor(() => window.file).then(() => window.file)), [1, 2, 3]);
  // A follower's binary emit goes through the leader, and its binary ack comes back.
  const echoedBytes = await follower.evaluate(async () => [...new Uint8Array(await client.emitWithAck("echo", new Uint8Array([7, 8, 9])))]);
  assert.deepEqual(echoedBytes, [7, 8, 9]);
  // New credentials from a follower: the leader reconnects the group with them.
  await follower.evaluate(() => client.setAuth({ token: "alice" }));
  await until("a connect with the follower's token", async () => (await stats()).tokens.at(-1) === "alice");
  await leader.evaluate(() => waitFor(() => client.state.status === "open"));
  // A follower's close leaves the group; the connection stays.
  await follower.evaluate(() => client.close());
  await leader.evaluate(() => waitFor(() => client.state.shared.tabs === 1));
  assert.equal(await follower.evaluate(() => client.state.status), "closed");
  assert.equal((await stats()).connections, 1);
});

test("the leader tab closes while the server emits 200 events: every other tab gets all 200 once, in order, recovered, no room joined again", async () => {
  await control(sio.url, "reset");
  const context = await newContext();
  const id = uniq("handover");
  const tabs = await group(context, id, 3);
  const room = `h${id}`;
  for (const t of tabs) await t.evaluate((r) => join(r), room);
  assert.equal((await stats()).joins[`order:${room}`], 1);
  const leader = await leaderOf(tabs);
  const rest = tabs.filter((t) => t !== leader);
  for (let seq = 0; seq < 200; seq++) {
    if (seq === 60) leader.close(); // not awaited: the server keeps emitting meanwhile
    await control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify({ orderId: room, seq }))}`);
    await new Promise((r) => setTimeout(r, 3));
  }
  for (const t of rest) {
    const seqs = await t.evaluate(() => waitFor(() => seen("order:status_update").length >= 200, 20_000).then(() => seen("order:status_update").map((p) => p.seq)));
    assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i), "all 200, once, in order");
  }
  for (const t of rest) {
    const s = await t.evaluate(() => client.state);
    assert.equal(s.status, "open");
    assert.equal(s.recovered, true, "the next leader recovered the session");
    assert.equal(s.shared.tabs, 2);
  }
  const s = await stats();
  assert.equal(s.joins[`order:${room}`], 1, "no room joined again");
  assert.equal(s.recovered, 1);
  assert.equal(s.connections, 1);
});

test("a leader that stops running is taken over: the other tabs connect again within seconds, and it follows once it runs again", async () => {
  // A frozen tab runs no task. Chromium's CDP Page.setWebLifecycleState "frozen" does not freeze
  // a visible headless page (its timers keep running: measured with Chromium 156), so the
  // leader's main thread is blocked instead, which the other tabs see the same way.
  await control(sio.url, "reset");
  const context = await newContext();
  const id = uniq("frozen");
  const tabs = await group(context, id, 3);
  const room = `f${id}`;
  for (const t of tabs) await t.evaluate((r) => join(r), room);
  const leader = await leaderOf(tabs);
  const rest = tabs.filter((t) => t !== leader);
  const hangMs = 9000;
  const stopped = leader.evaluate((ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
  }, hangMs);
  const stoppedAt = Date.now();
  await until("another tab leads, open", async () => {
    for (const t of rest) {
      if (await t.evaluate(() => client.state.shared.leader && client.state.status === "open")) return true;
    }
    return false;
  }, 20_000);
  const tookOverMs = Date.now() - stoppedAt;
  for (let seq = 0; seq < 5; seq++) {
    await control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify({ orderId: room, seq }))}`);
  }
  for (const t of rest) await t.evaluate(() => waitFor(() => seen("order:status_update").length === 5));
  let s = await stats();
  // The stopped tab's socket may still live on the server (socket.io#4880): a new session.
  assert.equal(s.joins[`order:${room}`], 2, "joined once more, by the new leader");
  assert.equal(s.recovered, 0);
  for (const t of rest) assert.equal(await t.evaluate(() => client.state.resync), true, "queries refetched");
  await stopped;
  await leader.evaluate(() => waitFor(() => client.state.shared.leader === false && client.state.shared.tabs === 3, 10_000));
  await until("one connection again", async () => (await stats()).connections === 1, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  for (const t of rest) {
    assert.deepEqual(await t.evaluate(() => seen("order:status_update").map((p) => p.seq)), [0, 1, 2, 3, 4], "each event once");
  }
  // The stopped tab missed what came while it was stopped: never twice, and it refetches.
  const thawed = await leader.evaluate(() => [seen("order:status_update").map((p) => p.seq), client.state.resync]);
  assert.ok(thawed[0].every((seq, i) => i === 0 || seq > thawed[0][i - 1]), JSON.stringify(thawed));
  assert.equal(thawed[1], true);
  console.log(`# a stopped leader was taken over in ${tookOverMs} ms`);
  assert.ok(tookOverMs < hangMs, `${tookOverMs} ms`);
});

test("two identities in two tabs: two connections, no cross-delivery; switching identity moves a tab to the other group", async () => {
  await control(sio.url, "reset");
  const context = await newContext();
  const alice = await tab(context);
  const bob = await tab(context);
  const ids = { alice: uniq("alice"), bob: uniq("bob") };
  await alice.evaluate((id) => open(id, { auth: { token: "alice" } }), ids.alice);
  await bob.evaluate((id) => open(id, { auth: { token: "bob" } }), ids.bob);
  for (const t of [alice, bob]) await t.evaluate(() => waitFor(() => client.state.status === "open"));
  let s = await stats();
  assert.equal(s.connections, 2);
  assert.deepEqual([...s.tokens].sort(), ["alice", "bob"]);
  const room = `a${ids.alice}`;
  await alice.evaluate((r) => join(r), room);
  await control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify({ orderId: room }))}`);
  await control(sio.url, `emit?event=notice&data=${encodeURIComponent(JSON.stringify({ text: "all" }))}`);
  for (const t of [alice, bob]) await t.evaluate(() => waitFor(() => seen("notice").length === 1));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await alice.evaluate(() => [seen("order:status_update").length, seen("notice").length]), [1, 1]);
  assert.deepEqual(await bob.evaluate(() => [seen("order:status_update").length, seen("notice").length]), [0, 1]);
  // Bob's tab signs in as alice: it leaves bob's group (closing that connection) for alice's.
  await bob.evaluate((id) => client.setAuth({ token: "alice" }, { identity: id }), ids.alice);
  await bob.evaluate(() => waitFor(() => client.state.shared?.tabs === 2 && client.state.status === "open"));
  await until("bob's connection closed", async () => (await stats()).connections === 1);
});

test("a follower enqueues while the server is unreachable, the leader tab closes, the page reloads: delivered once", async () => {
  await control(sio.url, "reset");
  await control(sio.url, "outbox/reset");
  const context = await newContext();
  const id = uniq("outbox");
  const [first, second] = await group(context, id, 2);
  const leader = await leaderOf([first, second]);
  const follower = leader === first ? second : first;
  await control(sio.url, "stop?ms=600000");
  await follower.evaluate(() => waitFor(() => client.state.status !== "open"));
  const stored = await follower.evaluate(() => client.outbox.enqueue("chat:send_message", { chatId: "c1", message: "offline" }));
  await leader.close();
  await prepare(follower);
  await follower.evaluate((id) => open(id), id);
  await control(sio.url, "stop?ms=0");
  await follower.evaluate(() => waitFor(() => client.state.status === "open" && client.outbox.status().pending === 0, 15_000));
  const ledger = await control(sio.url, "outbox/stats");
  assert.deepEqual(ledger.applied.map((a) => [a.id, a.payload.message]), [[stored.id, "offline"]], "applied once");
  assert.equal(ledger.receipts[stored.id], 1, "sent once");
  assert.equal(ledger.duplicates, 0);
  assert.equal((await stats()).connections, 1);
});

/** The "previous release": this source built with another tab protocol version (a plain debug
 *  build, `WIRESYNC_TAB_PROTOCOL=0`), served beside the current pkg/ from one origin, as old
 *  and new tabs of one app are after a deploy. */
async function previousRelease() {
  const { execFileSync } = await import("node:child_process");
  const { cpSync, mkdirSync, rmSync, symlinkSync } = await import("node:fs");
  const target = join(root, "target", "skew");
  execFileSync("cargo", ["build", "--target", "wasm32-unknown-unknown", "--lib", "--quiet", "--features", "share,js"], {
    cwd: root,
    env: { ...process.env, CARGO_TARGET_DIR: target, WIRESYNC_TAB_PROTOCOL: "0" },
    stdio: "inherit",
    timeout: 600_000,
  });
  const dir = join(root, "target", "skew-site");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync("wasm-bindgen", ["--target", "web", "--out-dir", join(dir, "previous"), "--out-name", "wiresync",
    join(target, "wasm32-unknown-unknown", "debug", "wiresync.wasm")], { stdio: "inherit" });
  // Served as "previous/shared.js", importing this build's glue.
  cpSync(join(dir, "previous", "wiresync.js"), join(dir, "previous", "wiresync_shared.js"));
  cpSync(join(root, "pkg-template"), join(dir, "previous"), { recursive: true, filter: (f) => !f.endsWith(".d.ts") });
  symlinkSync(join(root, "pkg"), join(dir, "current"));
  return serveStatic(dir);
}

test("tabs of two releases (tab protocols 1 and 0) form two groups, both working; a message no build reads is a DECODE_ERROR, not a trap", async () => {
  const skew = await previousRelease();
  try {
    await control(sio.url, "reset");
    const context = await newContext();
    const id = uniq("skew");
    const current = await tab(context, "/current/shared.js", skew.url);
    const previous = await tab(context, "/previous/shared.js", skew.url);
    for (const t of [current, previous]) await t.evaluate((id) => open(id), id);
    for (const t of [current, previous]) {
      await t.evaluate(() => waitFor(() => client.state.status === "open" && client.state.shared.leader && client.state.shared.tabs === 1));
    }
    assert.equal((await stats()).connections, 2, "one connection per release");
    const room = `v${id}`;
    for (const t of [current, previous]) await t.evaluate((r) => join(r), room);
    await control(sio.url, `emit?event=order:status_update&room=order:${room}&data=${encodeURIComponent(JSON.stringify({ orderId: room, seq: 1 }))}`);
    for (const t of [current, previous]) {
      await t.evaluate(() => waitFor(() => seen("order:status_update").length === 1));
      assert.deepEqual(await t.evaluate(() => client.emitWithAck("echo", { ok: 1 })), { ok: 1 });
    }
    // Garbage on the current release's group channel: reported, ignored, nothing breaks.
    const name = `wiresync-share:1|${sio.url}|/|${id}`;
    await current.evaluate((name) => {
      const ch = new BroadcastChannel(name);
      ch.postMessage('["event","x",[],"e"]');
      ch.postMessage("not json at all");
      ch.postMessage('["from-the-future",1,2,3]');
      ch.close();
    }, name);
    const errors = await current.evaluate(() => waitFor(() => log.errors.length >= 3).then(() => log.errors));
    assert.deepEqual(errors.map((e) => e.code), ["DECODE_ERROR", "DECODE_ERROR", "DECODE_ERROR"]);
    assert.deepEqual(await current.evaluate(() => client.emitWithAck("echo", { still: "works" })), { still: "works" });
  } finally {
    skew.close();
  }
});

test("shareAcrossTabs is refused where it is not: wiresync and wiresync/events say to import wiresync/shared; a non-boolean is INVALID_ARGUMENT", async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(site.url + "/");
  const r = await page.evaluate(async (url) => {
    const tryConnect = async (entry, extra) => {
      const mod = await import(entry);
      await mod.default();
      try {
        mod.connect({ url, ...extra }).dispose();
        return "accepted";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    return {
      full: await tryConnect("/index.js", { shareAcrossTabs: true }),
      events: await tryConnect("/events.js", { shareAcrossTabs: true }),
      notBool: await tryConnect("/shared.js", { shareAcrossTabs: "yes" }),
      off: await tryConnect("/index.js", { shareAcrossTabs: false }),
    };
  }, sio.url);
  assert.match(r.full, /^INVALID_ARGUMENT: .*`shareAcrossTabs`.*import "wiresync\/shared"/);
  assert.match(r.events, /^INVALID_ARGUMENT: .*`shareAcrossTabs`.*import "wiresync\/shared"/);
  assert.match(r.notBool, /^INVALID_ARGUMENT: option `shareAcrossTabs` must be a boolean/);
  assert.equal(r.off, "accepted");
});

test("a tab's first calls, made before any tab leads, wait for the leader: an emitWithAck right after connect resolves", async () => {
  const context = await newContext();
  const page = await tab(context);
  const r = await page.evaluate(async (id) => {
    const state = open(id);
    const echoed = await client.emitWithAck("echo", { first: true });
    return { before: state.shared, echoed, after: client.state.shared };
  }, uniq("first"));
  assert.deepEqual(r.before, { leader: false, tabs: 1 }, "not leading yet at connect");
  assert.deepEqual(r.echoed, { first: true });
  assert.deepEqual(r.after, { leader: true, tabs: 1 });
});
