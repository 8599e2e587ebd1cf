// The JavaScript API as an app uses it: the built package (pkg/) loaded in headless Chromium,
// talking to the real socket.io test server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { control, launch, root, serveStatic, testServer, until, withWaitFor } from "./harness.mjs";

let browser, context, page, site, sio;
const pageErrors = [];

before(async () => {
  sio = await testServer("sio");
  site = await serveStatic(join(root, "pkg"));
  browser = await launch();
  context = await browser.newContext();
  page = await context.newPage();
  page.on("pageerror", (e) => {
    pageErrors.push(String(e));
    console.error("page error:", e);
  });
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async ({ sioUrl }) => {
    const mod = await import("/index.js");
    await Promise.all([mod.default(), mod.default()]); // concurrent init shares one load
    await mod.default(); // and is idempotent
    window.wiresync = mod;
    window.sioUrl = sioUrl;
    window.open = async (extra = {}) => {
      const log = { states: [], errors: [] };
      const client = mod.connect({ url: sioUrl, auth: { token: "good" }, reconnect: { initialDelayMs: 100, maxDelayMs: 400 }, ...extra });
      client.onState((s) => log.states.push(s.status));
      client.onError((e) => log.errors.push({ code: e.code, event: e.event, message: e.message, isError: e instanceof Error, name: e.name }));
      return { client, log };
    };
  }, { sioUrl: sio.url });
});

after(async () => {
  await browser?.close();
  site?.close();
  sio?.close();
});

test("on() returns an unsubscribe function; once() fires once; onAny() sees names", async () => {
  const h = await page.evaluate(async () => {
    const { client } = await open();
    const got = { on: 0, once: 0, any: [] };
    const off = client.on("order:status_update", () => got.on++);
    client.once("order:status_update", () => got.once++);
    client.onAny((event) => got.any.push(event));
    await waitFor(() => client.state.status === "open");
    await client.subscribe("order", { orderId: "js1" }).ready;
    window.js1 = { client, got, off };
    return true;
  });
  assert.ok(h);
  const payload = encodeURIComponent(JSON.stringify({ orderId: "js1", status: "a", message: "m", timestamp: "t" }));
  await control(sio.url, `emit?room=order:js1&event=order:status_update&data=${payload}&count=2`);
  await until("two events", () => page.evaluate(() => window.js1.got.any.length === 2));
  await page.evaluate(() => window.js1.off());
  await control(sio.url, `emit?room=order:js1&event=order:status_update&data=${payload}`);
  await until("third event seen by onAny", () => page.evaluate(() => window.js1.got.any.length === 3));
  const got = await page.evaluate(() => { window.js1.client.close(); return window.js1.got; });
  assert.equal(got.on, 2, "unsubscribed handler saw no third event");
  assert.equal(got.once, 1);
  assert.deepEqual(got.any, ["order:status_update", "order:status_update", "order:status_update"]);
});

test("a frame that arrives while a handler runs (a nested onmessage) is handled after it, in order; large frames get room", async () => {
  const r = await page.evaluate(async () => {
    const made = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...a) {
        super(...a);
        made.push(this);
      }
    };
    const { client, log } = await open();
    window.WebSocket = Native;
    await waitFor(() => client.state.status === "open");
    const ws = made[0];
    const frame = (status, message) =>
      new MessageEvent("message", {
        data: `42["order:status_update",${JSON.stringify({ orderId: "n1", status, message, timestamp: "t" })}]`,
      });
    const got = [];
    let seenInside = -1;
    client.on("order:status_update", (p) => {
      got.push(p.status);
      if (p.status === "preparing") {
        // Larger than the socket's buffer so far: it needs more room while this frame is handled.
        ws.onmessage(frame("delivered", "x".repeat(20000)));
        seenInside = got.length;
      }
    });
    ws.onmessage(frame("preparing", "m"));
    ws.onmessage(frame("out_for_delivery", "m"));
    // A frame far larger than any before: the buffer it needs grows wasm memory.
    ws.onmessage(frame("big", "y".repeat(300000)));
    client.close();
    return { got, seenInside, errors: log.errors.map((e) => e.code) };
  });
  assert.equal(r.seenInside, 1, "the nested frame waits until the handler returns");
  assert.deepEqual(r.got, ["preparing", "delivered", "out_for_delivery", "big"], "then it is handled, in arrival order");
  assert.deepEqual(r.errors, []);
});

test("emitWithAck resolves with the ack value and rejects with a typed timeout", async () => {
  const r = await page.evaluate(async () => {
    const { client } = await open();
    const value = await client.emitWithAck("echo", { hello: "js" });
    let error;
    try {
      await client.emitWithAck("slow:no-ack", {}, { timeoutMs: 200 });
    } catch (e) {
      error = { code: e.code, name: e.name, isError: e instanceof Error };
    }
    client.close();
    return { value, error };
  });
  assert.deepEqual(r.value, { hello: "js" });
  assert.deepEqual(r.error, { code: "ACK_TIMEOUT", name: "WiresyncError", isError: true });
});

test("emits made before the connection opens are buffered and flushed in order", async () => {
  await control(sio.url, "reset");
  await page.evaluate(async () => {
    const { client } = await open();
    client.emit("buffered:one", { n: 1 });
    client.emit("buffered:two", { n: 2 }, "extra");
    await waitFor(() => client.state.status === "open");
    window.bufClient = client;
  });
  const stats = await until("server received both", async () => {
    const s = await control(sio.url, "stats");
    return s.received.filter((r) => r.event.startsWith("buffered:")).length === 2 && s;
  });
  const got = stats.received.filter((r) => r.event.startsWith("buffered:"));
  assert.deepEqual(got.map((r) => r.event), ["buffered:one", "buffered:two"]);
  assert.deepEqual(got[1].args, [{ n: 2 }, "extra"]);
  await page.evaluate(() => window.bufClient.close());
});

test("meta.ack answers the server's ack request", async () => {
  await page.evaluate(async () => {
    const { client } = await open();
    client.on("server:question", (q, meta) => meta.ack({ eta: "11:00", q: q.q }));
    await waitFor(() => client.state.status === "open");
    window.askClient = client;
  });
  const { answers } = await control(sio.url, "ask?event=server:question");
  await page.evaluate(() => window.askClient.close());
  assert.ok(answers.some((a) => a && a.eta === "11:00" && a.q === "eta?"), JSON.stringify(answers));
});

test("a throwing handler is reported as HANDLER_ERROR and the next handler still runs", async () => {
  await page.evaluate(async () => {
    const { client, log } = await open();
    window.throwing = { client, log, second: 0 };
    client.on("chat:message", () => { throw new Error("boom"); });
    client.on("chat:message", () => window.throwing.second++);
    await waitFor(() => client.state.status === "open");
    await client.subscribe("chat", { chatId: "js-c" }).ready;
  });
  const msg = { messageId: "m", chatId: "js-c", senderId: "a", senderName: "A", senderType: "agent", text: "hi", timestamp: "t" };
  await control(sio.url, `emit?room=chat:js-c&event=chat:message&data=${encodeURIComponent(JSON.stringify(msg))}`);
  await until("second handler ran", () => page.evaluate(() => window.throwing.second === 1));
  const errors = await page.evaluate(() => { window.throwing.client.close(); return window.throwing.log.errors; });
  assert.deepEqual(errors.map((e) => [e.code, e.event, e.message]), [["HANDLER_ERROR", "chat:message", "boom"]]);
});

test("bad options throw a typed INVALID_ARGUMENT error", async () => {
  const errors = await page.evaluate(() => {
    const out = [];
    for (const opts of [{}, { url: "" }, { url: "ws://x", protocol: "mqtt" }, { url: "ws://x", reconnect: { factor: "2" } }, { url: "ws://x", auth: 5 }]) {
      try {
        wiresync.connect(opts).close();
        out.push("no error");
      } catch (e) {
        out.push(`${e.name}:${e.code}`);
      }
    }
    return out;
  });
  assert.deepEqual(errors, Array(5).fill("WiresyncError:INVALID_ARGUMENT"));
});

test("every options object is checked alike: unknown keys name the nearest option, mistyped values are typed errors", async () => {
  const r = await page.evaluate(async () => {
    const attempt = async (f) => {
      try {
        await f();
        return "no error";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    const url = sioUrl;
    const connects = await Promise.all(
      [
        { url, ackTimeout: 5 },
        { url, reconnect: { initalDelayMs: 1 } },
        { url, ackTimeoutMs: -1 },
        { url, ackTimeoutMs: NaN },
        { url, connectTimeoutMs: "5" },
        { url, outbox: { ttl: 5 } },
        { url, outbox: { retry: { maxDelay: 5 } } },
        { url, cache: { gcTime: 5 } },
        { url, cache: { persist: { maxAge: 5 } } },
        { url, reconnect: null, path: undefined },
      ].map((o) => attempt(() => wiresync.connect(o).close())),
    );
    const { client } = await open({ outbox: { name: "options-" + Math.random() } });
    const calls = await Promise.all([
      attempt(() => client.emitWithAck("echo", {}, { timeout: 5 })),
      attempt(() => client.emitWithAck("echo", {}, { timeoutMs: -5 })),
      attempt(() => client.emitWithAck("echo", {}, "fast")),
      attempt(() => client.subscribe("order", { orderId: "x" }, { ack: "yes" })),
      attempt(() => client.subscribe("order", { orderId: "x" }, { acks: true })),
      attempt(() => client.setAuth({ token: "good" }, { identiy: "u2" })),
      attempt(() => client.outbox.enqueue("chat:send", { text: "a" }, { ttl: 5 })),
      attempt(() => client.outbox.enqueue("chat:send", { text: "a" }, { lane: 3 })),
      attempt(() => client.outbox.enqueue("chat:send", { text: "a" }, { ttlMs: NaN })),
      attempt(() => client.outbox.enqueueRequest({ url: "/x", lanes: "a" })),
      attempt(() => client.outbox.enqueueRequest({ url: "/x", headers: { "X-N": 1 } })),
      attempt(() => client.mutate({ event: "chat:send", payload: { text: "a" }, dedupe: "k" })),
      attempt(() => client.cache.invalidateQueries({ queryKey: ["a"], refetch: "all" })),
      attempt(() => client.cache.removeQueries({ queryKey: ["a"], refetchType: "all" })),
      attempt(() => client.cache.watch({ queryKey: ["a"], predicate: () => true }, () => {})),
      attempt(() => client.cache.observe(["a"], { queryFn: () => 1, staleTime: -1 }, () => {})),
      attempt(() => client.cache.observe(["a"], { queryFn: () => 1, stale: 5 }, () => {})),
      attempt(() => client.cache.observe(["a"], { staleTime: 5 }, () => {})),
    ]);
    const stored = client.outbox.list().length;
    client.close();
    return { connects, calls, stored };
  });
  const expect = [
    /^INVALID_ARGUMENT: unknown option `ackTimeout` \(did you mean `ackTimeoutMs`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `reconnect.initalDelayMs` \(did you mean `reconnect.initialDelayMs`\?\)$/,
    /^INVALID_ARGUMENT: option `ackTimeoutMs` must be a duration in ms ≥ 0 \(Infinity: never\)$/,
    /^INVALID_ARGUMENT: option `ackTimeoutMs` must be a duration/,
    /^INVALID_ARGUMENT: option `connectTimeoutMs` must be a duration/,
    /^INVALID_ARGUMENT: unknown option `outbox.ttl` \(did you mean `outbox.ttlMs`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `outbox.retry.maxDelay` \(did you mean `outbox.retry.maxDelayMs`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `cache.gcTime` \(did you mean `cache.gcTimeMs`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `cache.persist.maxAge` \(did you mean `cache.persist.maxAgeMs`\?\)$/,
    /^no error$/,
  ];
  r.connects.forEach((got, i) => assert.match(got, expect[i]));
  const calls = [
    /^INVALID_ARGUMENT: unknown option `timeout` \(did you mean `timeoutMs`\?\)$/,
    /^INVALID_ARGUMENT: option `timeoutMs` must be a duration/,
    /^INVALID_ARGUMENT: option `options` must be an object$/,
    /^INVALID_ARGUMENT: option `ack` must be a boolean$/,
    /^INVALID_ARGUMENT: unknown option `acks` \(did you mean `ack`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `identiy` \(did you mean `identity`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `ttl` \(did you mean `ttlMs`\?\)$/,
    /^INVALID_ARGUMENT: option `lane` must be a string$/,
    /^INVALID_ARGUMENT: option `ttlMs` must be a duration/,
    /^INVALID_ARGUMENT: unknown option `request.lanes` \(did you mean `request.lane`\?\)$/,
    /^INVALID_ARGUMENT: option `request.headers` must map names to strings$/,
    /^INVALID_ARGUMENT: unknown option `dedupe` \(did you mean `dedupeKey`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `refetch` \(did you mean `refetchType`\?\)$/,
    /^INVALID_ARGUMENT: unknown option `refetchType`$/,
    /^INVALID_ARGUMENT: unknown option `predicate`$/,
    /^INVALID_ARGUMENT: option `staleTime` must be a duration/,
    /^INVALID_ARGUMENT: unknown option `stale` \(did you mean `staleTime`\?\)$/,
    /^INVALID_ARGUMENT: observe needs \{ queryFn \}$/,
  ];
  r.calls.forEach((got, i) => assert.match(got, calls[i]));
  assert.equal(r.stored, 0, "nothing with bad options was queued");
});

test("a client closed or disposed at once leaves nothing behind that throws later (its outbox lock request is withdrawn)", async () => {
  const before = pageErrors.length;
  await page.evaluate(async () => {
    wiresync.connect({ url: sioUrl, outbox: { name: "closed-at-once" } }).close();
    wiresync.connect({ url: sioUrl, outbox: { name: "closed-at-once" } }).dispose();
    // A third one gets the lock the first two withdrew.
    const { client } = await open({ outbox: { name: "closed-at-once" } });
    await waitFor(() => client.outbox.status().persistence === "indexeddb");
    await client.outbox.enqueue("chat:send", { chatId: "c", text: "after", senderId: "s", senderName: "S", clientTimestamp: "t" });
    await waitFor(() => client.outbox.status().pending + client.outbox.status().inFlight === 0);
    client.close();
    await new Promise((r) => setTimeout(r, 200));
  });
  assert.deepEqual(pageErrors.slice(before), []);
});

test("Infinity means never: an ack with timeoutMs Infinity waits past the client's 100 ms default, which times out", async () => {
  const r = await page.evaluate(async () => {
    const { client } = await open({ ackTimeoutMs: 100 });
    let perCall = "pending";
    client.emitWithAck("slow:no-ack", {}, { timeoutMs: Infinity }).catch((e) => (perCall = e.code));
    let byDefault;
    await client.emitWithAck("slow:no-ack", {}).catch((e) => (byDefault = e.code));
    await new Promise((r) => setTimeout(r, 200));
    const perCallThen = perCall; // close() rejects what is pending (CLOSED)
    client.close();
    // And at the client level: the old build rejected at once (Infinity wrapped to the past).
    const endlessClient = (await open({ ackTimeoutMs: Infinity })).client;
    let endless = "pending";
    endlessClient.emitWithAck("slow:no-ack", {}).catch((e) => (endless = e.code));
    await new Promise((r) => setTimeout(r, 200));
    const endlessThen = endless;
    endlessClient.close();
    return { perCall: perCallThen, byDefault, endless: endlessThen };
  });
  assert.deepEqual(r, { perCall: "pending", byDefault: "ACK_TIMEOUT", endless: "pending" });
});

test("offline: no attempts while the browser is offline, an attempt at once when it is back", async () => {
  await page.evaluate(async () => {
    const r = await open({ reconnect: { initialDelayMs: 100, maxDelayMs: 200 } });
    window.off1 = r;
    await waitFor(() => r.client.state.status === "open");
  });
  await context.setOffline(true);
  await control(sio.url, "drop?forget=1");
  await until("offline state", () => page.evaluate(() => window.off1.client.state.status === "offline"));
  const handshakes = (await control(sio.url, "stats")).handshakes.length;
  await new Promise((r) => setTimeout(r, 800));
  assert.equal((await control(sio.url, "stats")).handshakes.length, handshakes, "no attempt while offline");
  await context.setOffline(false);
  await until("open again", () => page.evaluate(() => window.off1.client.state.status === "open"), 3000);
  const states = await page.evaluate(() => { window.off1.client.close(); return window.off1.log.states; });
  const afterOffline = states.slice(states.lastIndexOf("offline"));
  assert.ok(afterOffline.length > 1, states.join(","));
  assert.equal(afterOffline.at(-2), "open", states.join(","));
  assert.equal(afterOffline.at(-1), "closed");
});

for (const [name, fire] of [
  ["visibilitychange", "document.dispatchEvent(new Event('visibilitychange'))"],
  ["pageshow", "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))"],
]) {
  test(`${name}: a waiting reconnect runs at once instead of after its backoff`, async () => {
    await page.evaluate(async () => {
      const r = await open({ reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000, jitter: 0 } });
      window.vis = r;
      await waitFor(() => r.client.state.status === "open");
    });
    await control(sio.url, "drop?forget=1");
    await until("reconnecting", () => page.evaluate(() => window.vis.client.state.status === "reconnecting"));
    const started = Date.now();
    await page.evaluate(fire);
    await until("open again", () => page.evaluate(() => window.vis.client.state.status === "open"), 3000);
    assert.ok(Date.now() - started < 3000, "did not wait for the 10 s backoff");
    await page.evaluate(() => window.vis.client.close());
  });
}

test("unsubscribe() leaves the room on the server and is idempotent", async () => {
  const before = (await control(sio.url, "stats")).leaves["order:js-leave"] ?? 0;
  await page.evaluate(async () => {
    const { client } = await open();
    const room = client.subscribe("order", { orderId: "js-leave" });
    await room.ready;
    room.unsubscribe();
    room.unsubscribe();
    window.leaveClient = client;
  });
  const leaves = await until("the server saw the leave", async () => {
    const n = (await control(sio.url, "stats")).leaves["order:js-leave"] ?? 0;
    return n > before && n;
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await control(sio.url, "stats")).leaves["order:js-leave"], leaves, "one leave only");
  assert.equal(leaves, before + 1);
  await page.evaluate(() => window.leaveClient.close());
});
