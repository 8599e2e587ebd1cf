// Self-check for the test servers: starts socketio-server.mjs and json-server.mjs as child
// processes on free ports, drives them with socket.io-client / ws / fetch and their control APIs
// (including the outbox and /api/ fixtures of socketio-server.mjs), and exits non-zero on the
// first failure.
//
//   node tests/servers/selfcheck.mjs
//
// Every wait is bounded; the children are always terminated at the end.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { sleep, until as waitUntil } from "./common.mjs";
import { io as connectSocketIO } from "socket.io-client";
import WebSocket from "ws";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const WAIT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Generic helpers
// ---------------------------------------------------------------------------------------------

/** Rejects with `what` when `promise` does not settle within `ms`. */
function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the arguments of the next `event` on `emitter` (socket.io or Node emitter). */
function next(emitter, event, ms = WAIT_MS) {
  return within(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), event, ms);
}

/**
 * socket.io-client hands the connection-state-recovery offset to listeners as an extra last
 * argument (it does not strip it). Asserts it is there and returns the other arguments.
 */
function withoutOffset(args) {
  assert.equal(typeof args.at(-1), "string", `expected a recovery offset last in ${JSON.stringify(args)}`);
  return args.slice(0, -1);
}

/** `until` of common.mjs, waiting WAIT_MS unless told. */
const until = (predicate, what, ms = WAIT_MS) => waitUntil(predicate, what, ms);

const children = [];

/** Starts a server script with PORT=0 in `portVar` and resolves with the port it printed. */
async function startServer(script, portVar, extraEnv = {}) {
  const child = spawn(process.execPath, [HERE + script], {
    env: { ...process.env, [portVar]: "0", ...extraEnv },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let output = "";
  const port = await within(
    new Promise((resolve, reject) => {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => {
        output += chunk;
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`${script} exited early with ${code}`)));
    }),
    `${script} to start`,
    10_000,
  );
  child.stdout.resume();
  return port;
}

async function stopChildren() {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      try {
        const [code] = await within(once(child, "exit"), "child exit", 3000);
        if (code !== 0) console.error(`child ${child.pid} exited with ${code}`);
      } catch {
        child.kill("SIGKILL");
      }
    }),
  );
}

/** GETs a control endpoint and returns its JSON body (asserting HTTP 200 and the CORS header). */
async function control(port, path) {
  const res = await within(fetch(`http://127.0.0.1:${port}${path}`), `GET ${path}`);
  const body = await res.json();
  assert.equal(res.status, 200, `${path} -> ${res.status} ${JSON.stringify(body)}`);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  return body;
}

let passed = 0;
async function check(name, fn) {
  await fn();
  passed++;
  console.log(`ok ${passed} - ${name}`);
}

// ---------------------------------------------------------------------------------------------
// Socket.IO server
// ---------------------------------------------------------------------------------------------

async function checkSocketIO(port) {
  const url = `http://127.0.0.1:${port}`;
  const sockets = [];
  const connect = (nsp, opts) => {
    const socket = connectSocketIO(url + nsp, {
      transports: ["websocket"],
      // Reconnect quickly, but slowly enough for "emitted while down" checks to run first.
      reconnectionDelay: 400,
      reconnectionDelayMax: 400,
      randomizationFactor: 0,
      ...opts,
    });
    sockets.push(socket);
    return socket;
  };
  const ctl = (path) => control(port, path);

  try {
    await ctl("/control/reset");

    await check("socket.io: bad token gets connect_error AUTH_REJECTED", async () => {
      const bad = connect("/", { auth: { token: "nope" }, reconnection: false });
      const [err] = await next(bad, "connect_error");
      assert.equal(err.message, "invalid token");
      assert.deepEqual(err.data, { code: "AUTH_REJECTED" });
      bad.close();
    });

    const socket = connect("/", { auth: { token: "good" } });
    await next(socket, "connect");

    await check("socket.io: tokens recorded in order", async () => {
      const stats = await ctl("/control/stats");
      assert.deepEqual(stats.tokens, ["nope", "good"]);
      assert.equal(stats.connections, 1);
    });

    await check("socket.io: subscribe acks and room emit arrives", async () => {
      const reply = await socket.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: "123" });
      assert.deepEqual(reply, { ok: true, room: "order:123" });
      const arrived = next(socket, "order:status_update");
      const data = { orderId: "123", status: "cooking" };
      const sent = await ctl(
        `/control/emit?event=order:status_update&room=order:123&data=${encodeURIComponent(JSON.stringify(data))}`,
      );
      assert.deepEqual(sent, { sent: 1 });
      assert.deepEqual(withoutOffset(await arrived), [data]);
      // Not in the room: nothing arrives from another room.
      const stats = await ctl("/control/stats");
      assert.equal(stats.joins["order:123"], 1);
    });

    await check("socket.io: emit count and multiple args", async () => {
      const got = [];
      socket.on("multi", (...args) => got.push(args));
      await ctl(`/control/emit?event=multi&count=3&args=${encodeURIComponent('[1,"two",{"three":3}]')}`);
      await until(() => got.length === 3, "3 multi events");
      assert.deepEqual(withoutOffset(got[0]), [1, "two", { three: 3 }]);
      socket.off("multi");
    });

    await check("socket.io: echo / order:ack-me acks, slow:no-ack times out", async () => {
      assert.deepEqual(await socket.timeout(WAIT_MS).emitWithAck("echo", { x: [1, 2] }), { x: [1, 2] });
      assert.deepEqual(await socket.timeout(WAIT_MS).emitWithAck("order:ack-me", { orderId: "o1" }), {
        ok: true,
        orderId: "o1",
      });
      await assert.rejects(socket.timeout(300).emitWithAck("slow:no-ack", {}), /timed out/);
    });

    await check("socket.io: other events are recorded in stats.received", async () => {
      socket.emit("chat:message", { text: "hi" }, 2);
      const stats = await until(async () => {
        const s = await ctl("/control/stats");
        return s.received.some((r) => r.event === "chat:message") && s;
      }, "chat:message recorded");
      const entry = stats.received.find((r) => r.event === "chat:message");
      assert.deepEqual(entry, { nsp: "/", event: "chat:message", args: [{ text: "hi" }, 2], ack: false });
    });

    await check("socket.io: /control/ask collects client acks", async () => {
      socket.on("server:question", (q, callback) => callback({ eta: "10:30", q }));
      const { answers } = await ctl("/control/ask?event=server:question");
      assert.deepEqual(answers, [{ eta: "10:30", q: { q: "eta?" } }]);
    });

    await check("socket.io: /control/binary sends a binary attachment", async () => {
      const arrived = next(socket, "bin");
      assert.deepEqual(await ctl("/control/binary?event=bin"), { sent: 1 });
      const [payload] = withoutOffset(await arrived);
      assert.deepEqual([...new Uint8Array(payload)], [1, 2, 3]);
    });

    await check("socket.io: /control/raw injects a text frame", async () => {
      const arrived = next(socket, "raw:event");
      const frame = '42["raw:event",{"a":1}]';
      assert.deepEqual(await ctl(`/control/raw?frame=${encodeURIComponent(frame)}`), { sent: 1 });
      assert.deepEqual(await arrived, [{ a: 1 }]);
    });

    for (const how of ["close", "terminate"]) {
      await check(`socket.io: /control/drop?how=${how} is recovered with missed events`, async () => {
        const sid = socket.id;
        const { recovered: before } = await ctl("/control/stats");
        const disconnected = next(socket, "disconnect");
        const reconnected = next(socket, "connect");
        let emittedWhileDown = false;
        const missed = next(socket, "order:missed").then((args) => {
          assert.ok(emittedWhileDown, "missed event came before it was emitted?");
          return args;
        });
        assert.deepEqual(await ctl(`/control/drop?how=${how}`), { dropped: 1, connections: 1 });
        const [reason] = await disconnected;
        assert.equal(reason, "transport close");
        // The client waits 400 ms before reconnecting: emit while it is away.
        await ctl(`/control/emit?event=order:missed&room=order:123&data=${encodeURIComponent('{"n":1}')}`);
        emittedWhileDown = !socket.connected;
        assert.ok(emittedWhileDown, "client reconnected before the missed event was emitted");
        await reconnected;
        assert.equal(socket.recovered, true);
        assert.equal(socket.id, sid);
        assert.deepEqual(withoutOffset(await missed), [{ n: 1 }]);
        const stats = await ctl("/control/stats");
        assert.equal(stats.recovered, before + 1);
        assert.equal(stats.tokens.at(-1), "good");
        assert.equal(stats.handshakes.at(-1).recovered, true);
      });
    }

    await check("socket.io: /control/drop?forget=1 is not recovered", async () => {
      const sid = socket.id;
      const reconnected = next(socket, "connect");
      assert.equal((await ctl("/control/drop?forget=1")).dropped, 1);
      await reconnected;
      assert.equal(socket.recovered, false);
      assert.notEqual(socket.id, sid);
      // The rooms went with the session: an emit to order:123 reaches nobody.
      let leaked = false;
      socket.once("order:gone", () => (leaked = true));
      await ctl("/control/emit?event=order:gone&room=order:123");
      await sleep(200);
      assert.equal(leaked, false);
    });

    await check("socket.io: unsubscribe leaves the room", async () => {
      await socket.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: "9" });
      const reply = await socket.timeout(WAIT_MS).emitWithAck("unsubscribe:order", { orderId: "9" });
      assert.deepEqual(reply, { ok: true, room: "order:9" });
      const stats = await ctl("/control/stats");
      assert.equal(stats.leaves["order:9"], 1);
    });

    await check("socket.io: bench:start streams n events then bench:done", async () => {
      const n = 5000;
      let count = 0;
      let lastSeq = -1;
      let inOrder = true;
      const onUpdate = (payload) => {
        count++;
        if (payload.seq !== lastSeq + 1) inOrder = false;
        lastSeq = payload.seq;
      };
      socket.on("order:status_update", onUpdate);
      const done = next(socket, "bench:done", 15_000);
      assert.deepEqual(await socket.timeout(WAIT_MS).emitWithAck("bench:start", { n }), { started: true });
      assert.deepEqual(withoutOffset(await done), [{ n }]);
      socket.off("order:status_update", onUpdate);
      assert.equal(count, n);
      assert.ok(inOrder, "bench events out of order");
    });

    await check("socket.io: /admin namespace uses the same middleware and handlers", async () => {
      const bad = connect("/admin", { auth: { token: "x" }, reconnection: false });
      const [err] = await next(bad, "connect_error");
      assert.deepEqual(err.data, { code: "AUTH_REJECTED" });
      bad.close();
      const admin = connect("/admin", { auth: { token: "alice" } });
      await next(admin, "connect");
      const reply = await admin.timeout(WAIT_MS).emitWithAck("subscribe:audit", {});
      assert.deepEqual(reply, { ok: true, room: "audit:all" });
      const stats = await ctl("/control/stats");
      assert.equal(stats.namespaces["/admin"].joins["audit:all"], 1);
      assert.equal(stats.namespaces["/admin"].connections, 1);
      admin.close();
    });

    await check("socket.io: /control/stop refuses connections for ms", async () => {
      const started = Date.now();
      const refused = next(socket.io, "reconnect_error");
      const reconnected = next(socket, "connect", 8000);
      const { stopped, dropped } = await ctl("/control/stop?ms=1500");
      assert.equal(stopped, true);
      assert.equal(dropped, 1);
      await refused; // at least one reconnect attempt was turned away
      assert.equal((await ctl("/control/stats")).refusing, true);
      await reconnected;
      assert.ok(Date.now() - started >= 1400, "reconnected before the stop window ended");
    });

    await check("socket.io: /control/kick is a server-side disconnect", async () => {
      const disconnected = next(socket, "disconnect");
      assert.deepEqual(await ctl("/control/kick"), { kicked: 1 });
      assert.deepEqual(await disconnected, ["io server disconnect", undefined]);
    });

    await check("socket.io: /control/reset clears stats", async () => {
      await ctl("/control/reset");
      const stats = await ctl("/control/stats");
      assert.deepEqual(
        [stats.joins, stats.leaves, stats.received, stats.tokens, stats.recovered],
        [{}, {}, [], [], 0],
      );
    });
  } finally {
    for (const s of sockets) s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Socket.IO server: durable outbox fixtures (clientMessageId ledger, /api/ mutations)
// ---------------------------------------------------------------------------------------------

async function checkOutbox(port) {
  const url = `http://127.0.0.1:${port}`;
  const ctl = (path) => control(port, path);
  const socket = connectSocketIO(url, { transports: ["websocket"], auth: { token: "alice" } });
  const send = (event, payload, ms = WAIT_MS) => socket.timeout(ms).emitWithAck(event, payload);

  try {
    await next(socket, "connect");
    await ctl("/control/reset");
    assert.deepEqual(await ctl("/control/outbox/reset"), { reset: true });

    await check("outbox: a re-sent clientMessageId is applied once, receipts count both", async () => {
      const payload = { clientMessageId: "m1", chatId: "c1", message: "hi" };
      assert.deepEqual(await send("chat:send_message", payload), { ok: true, id: "m1" });
      assert.deepEqual(await send("chat:send_message", payload), { ok: true, id: "m1" });
      const stats = await ctl("/control/outbox/stats");
      assert.equal(stats.applied.length, 1);
      const { at, ...entry } = stats.applied[0];
      assert.deepEqual(entry, { id: "m1", event: "chat:send_message", payload, token: "alice" });
      assert.equal(typeof at, "number");
      assert.deepEqual(stats.receipts, { m1: 2 });
      assert.equal(stats.duplicates, 1);
      assert.equal(stats.droppedAcks, 0);
      // Outbox messages are not "other events".
      assert.deepEqual((await ctl("/control/stats")).received, []);
    });

    await check("outbox: any event name works, echo with a clientMessageId is an outbox message", async () => {
      assert.deepEqual(await send("echo", { clientMessageId: "m2", x: 1 }), { ok: true, id: "m2" });
      assert.deepEqual(await send("echo", { x: 1 }), { x: 1 }); // plain echo unchanged
      assert.deepEqual(await send("order:ack-me", { orderId: "o1" }), { ok: true, orderId: "o1" });
      // A non-string id or a non-object first argument is not an outbox message.
      assert.deepEqual(await send("echo", { clientMessageId: 7 }), { clientMessageId: 7 });
      const stats = await ctl("/control/outbox/stats");
      assert.deepEqual(stats.applied.map((a) => [a.id, a.event]), [["m1", "chat:send_message"], ["m2", "echo"]]);
    });

    await check("outbox: drop-acks applies but withholds the ack; the retry is acked, not re-applied", async () => {
      assert.deepEqual(await ctl("/control/outbox/drop-acks?n=1"), { dropAcks: 1 });
      const payload = { clientMessageId: "m3", n: 3 };
      await assert.rejects(send("outbox:bench", payload, 300), /timed out/);
      let stats = await ctl("/control/outbox/stats");
      assert.equal(stats.applied.at(-1).id, "m3");
      assert.equal(stats.droppedAcks, 1);
      assert.equal(stats.armed.dropAcks, 0);
      assert.deepEqual(await send("outbox:bench", payload), { ok: true, id: "m3" });
      stats = await ctl("/control/outbox/stats");
      assert.equal(stats.applied.filter((a) => a.id === "m3").length, 1);
      assert.equal(stats.receipts.m3, 2);
      assert.equal(stats.duplicates, 2);
    });

    await check("outbox: ack-delay delays the ack", async () => {
      assert.deepEqual(await ctl("/control/outbox/ack-delay?ms=300"), { ackDelayMs: 300 });
      const started = Date.now();
      assert.deepEqual(await send("chat:send_message", { clientMessageId: "m4" }), { ok: true, id: "m4" });
      assert.ok(Date.now() - started >= 280, "ack came before the delay");
      await ctl("/control/outbox/ack-delay?ms=0");
    });

    await check("outbox: reject acks { ok: false, error } and does not apply", async () => {
      assert.deepEqual(await ctl("/control/outbox/reject?n=1&code=BAD_PAYLOAD"), {
        reject: { n: 1, code: "BAD_PAYLOAD" },
      });
      assert.deepEqual(await send("chat:send_message", { clientMessageId: "m5" }), {
        ok: false,
        error: "BAD_PAYLOAD",
      });
      assert.deepEqual(await send("chat:send_message", { clientMessageId: "m6" }), { ok: true, id: "m6" });
      const stats = await ctl("/control/outbox/stats");
      assert.ok(!stats.applied.some((a) => a.id === "m5"), "rejected message was applied");
      assert.equal(stats.receipts.m5, 1);
      assert.deepEqual(
        stats.rejected.map(({ id, event, error }) => ({ id, event, error })),
        [{ id: "m5", event: "chat:send_message", error: "BAD_PAYLOAD" }],
      );
    });

    await check("outbox: fire-and-forget messages are applied in order", async () => {
      await ctl("/control/outbox/reset");
      const ids = Array.from({ length: 200 }, (_, i) => `seq-${i}`);
      for (const id of ids) socket.emit("chat:send_message", { clientMessageId: id });
      const stats = await until(async () => {
        const s = await ctl("/control/outbox/stats");
        return s.applied.length === ids.length && s;
      }, "200 outbox messages applied");
      assert.deepEqual(stats.applied.map((a) => a.id), ids);
      assert.equal(stats.duplicates, 0);
    });

    await check("outbox: /control/outbox/reset clears everything and disarms", async () => {
      await ctl("/control/outbox/drop-acks?n=5");
      await ctl("/control/outbox/reject?n=5&code=X");
      await ctl("/control/outbox/ack-delay?ms=1000");
      await ctl("/control/outbox/reset");
      assert.deepEqual(await ctl("/control/outbox/stats"), {
        applied: [],
        receipts: {},
        duplicates: 0,
        droppedAcks: 0,
        rejected: [],
        armed: { dropAcks: 0, reject: { n: 0, code: "REJECTED" }, ackDelayMs: 0 },
      });
      assert.deepEqual(await send("chat:send_message", { clientMessageId: "m1" }, 500), { ok: true, id: "m1" });
      await ctl("/control/outbox/reset");
    });

    await check("outbox: bad control parameters answer 400", async () => {
      const res = await fetch(`${url}/control/outbox/drop-acks?n=-1`);
      assert.equal(res.status, 400);
      await res.body?.cancel();
    });
  } finally {
    socket.close();
  }

  // ----- HTTP mutations under /api/ -----

  const api = (path, { key, method = "POST", body, headers = {} } = {}) =>
    within(
      fetch(`${url}${path}`, {
        method,
        body,
        headers: {
          "content-type": "application/json",
          ...(key === undefined ? {} : { "idempotency-key": key }),
          ...headers,
        },
      }),
      `${method} ${path}`,
    );
  const json = async (res) => ({ status: res.status, body: await res.json() });

  assert.deepEqual(await ctl("/control/http/reset"), { reset: true });

  await check("http: CORS preflight for /api/", async () => {
    const res = await within(
      fetch(`${url}/api/orders`, {
        method: "OPTIONS",
        headers: {
          origin: "http://127.0.0.1:1",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,idempotency-key",
        },
      }),
      "preflight",
    );
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET,POST,PUT,PATCH,DELETE,OPTIONS");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type, idempotency-key, authorization");
    assert.equal(res.headers.get("access-control-max-age"), "600");
    assert.equal((await ctl("/control/http/stats")).received, 0, "preflight counted as a request");
  });

  await check("http: planned 500 then 200 with the same key applies once", async () => {
    assert.deepEqual(await ctl("/control/http/plan?statuses=500,200"), { planned: [500, 200] });
    const body = JSON.stringify({ orderId: "o1", qty: 2 });
    const opts = { key: "k1", body, headers: { authorization: "Bearer alice" } };
    const first = await api("/api/orders", opts);
    assert.equal(first.headers.get("access-control-allow-origin"), "*");
    assert.equal(first.headers.get("connection"), "close");
    assert.deepEqual(await json(first), { status: 500, body: { ok: false } });
    assert.deepEqual(await json(await api("/api/orders", opts)), { status: 200, body: { ok: true, key: "k1" } });
    const stats = await ctl("/control/http/stats");
    assert.equal(stats.received, 2);
    assert.deepEqual(stats.keys, { k1: 2 });
    assert.equal(stats.applied.length, 1);
    const { at, ...entry } = stats.applied[0];
    assert.deepEqual(entry, { key: "k1", method: "POST", path: "/api/orders", body, authorization: "Bearer alice" });
    assert.equal(typeof at, "number");
    assert.deepEqual(stats.requests.map((r) => r.status), [500, 200]);
    assert.deepEqual(stats.planned, []);
  });

  await check("http: a duplicate key answers duplicate:true and is not applied again", async () => {
    const res = await api("/api/orders", { key: "k1", body: "{}" });
    assert.deepEqual(await json(res), { status: 200, body: { ok: true, duplicate: true, key: "k1" } });
    const stats = await ctl("/control/http/stats");
    assert.equal(stats.applied.length, 1);
    assert.deepEqual(stats.keys, { k1: 3 });
  });

  await check("http: planned status 0 destroys the socket, fetch rejects", async () => {
    await ctl("/control/http/plan?statuses=0");
    await assert.rejects(api("/api/orders/o2", { key: "k2", method: "PUT", body: "{}" }), TypeError);
    let stats = await ctl("/control/http/stats");
    assert.equal(stats.received, 4);
    assert.equal(stats.applied.length, 1);
    assert.equal(stats.requests.at(-1).status, 0);
    // The retry (no planned status left) succeeds.
    const res = await api("/api/orders/o2", { key: "k2", method: "PUT", body: "{}" });
    assert.deepEqual(await json(res), { status: 200, body: { ok: true, key: "k2" } });
    stats = await ctl("/control/http/stats");
    assert.deepEqual(stats.applied.map((a) => [a.key, a.method, a.path]), [
      ["k1", "POST", "/api/orders"],
      ["k2", "PUT", "/api/orders/o2"],
    ]);
  });

  await check("http: 429:2 sends Retry-After; DELETE without key and body is applied", async () => {
    await ctl("/control/http/plan?statuses=429:2");
    const res = await api("/api/x", { key: "k3" });
    assert.equal(res.headers.get("retry-after"), "2");
    assert.deepEqual(await json(res), { status: 429, body: { ok: false } });
    const del = await api("/api/orders/o2", { method: "DELETE" });
    assert.deepEqual(await json(del), { status: 200, body: { ok: true, key: null } });
    const stats = await ctl("/control/http/stats");
    assert.deepEqual(stats.applied.at(-1).body, "");
    assert.equal(stats.applied.at(-1).key, null);
  });

  await check("http: bad plan answers 400; /control/http/reset clears", async () => {
    const res = await fetch(`${url}/control/http/plan?statuses=500,abc`);
    assert.equal(res.status, 400);
    await res.body?.cancel();
    await ctl("/control/http/plan?statuses=503");
    await ctl("/control/http/reset");
    assert.deepEqual(await ctl("/control/http/stats"), { received: 0, applied: [], keys: {}, requests: [], planned: [] });
  });
}

// ---------------------------------------------------------------------------------------------
// JSON server
// ---------------------------------------------------------------------------------------------

/** A ws client that queues parsed frames so checks can await the next matching one. */
class JsonClient {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.frames = [];
    this.waiters = [];
    this.ws.on("message", (data, isBinary) => {
      const frame = isBinary ? { binary: [...data] } : { text: data.toString() };
      try {
        frame.json = JSON.parse(frame.text);
      } catch {}
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w());
    });
  }

  open() {
    return within(once(this.ws, "open"), "ws open");
  }

  send(frame) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Resolves with (and removes) the first queued frame for which `match(frame)` is true. */
  take(match, what, ms = WAIT_MS) {
    const tryTake = () => {
      const i = this.frames.findIndex(match);
      if (i < 0) return null;
      return this.frames.splice(i, 1)[0];
    };
    return within(
      new Promise((resolve) => {
        const found = tryTake();
        if (found) return resolve(found);
        this.waiters.push(() => {
          const f = tryTake();
          if (f) resolve(f);
          return Boolean(f);
        });
      }),
      what,
      ms,
    );
  }

  /** Next JSON frame whose fields include all of `fields` (shallow). */
  takeJson(fields, ms) {
    return this.take(
      (f) => f.json && Object.entries(fields).every(([k, v]) => f.json[k] === v),
      JSON.stringify(fields),
      ms,
    ).then((f) => f.json);
  }

  close() {
    this.ws.terminate();
  }
}

async function checkJson(port) {
  const url = `ws://127.0.0.1:${port}/anything`;
  const ctl = (path) => control(port, path);
  const clients = [];
  const open = async () => {
    const c = new JsonClient(url);
    clients.push(c);
    await c.open();
    return c;
  };

  try {
    await ctl("/control/reset");
    const c = await open();

    await check("json: events before connected are ignored", async () => {
      c.send({ event: "echo", data: 1, id: 1 });
      await until(async () => (await ctl("/control/stats")).ignored === 1, "ignored === 1");
    });

    await check("json: bad token refused, socket stays open, then accepted", async () => {
      c.send({ type: "connect", auth: { token: "nope" } });
      assert.deepEqual(await c.takeJson({ type: "connect_error" }), {
        type: "connect_error",
        message: "invalid token",
        data: { code: "AUTH_REJECTED" },
      });
      c.send({ type: "connect", auth: { token: "bob" } });
      const connected = await c.takeJson({ type: "connected" });
      assert.equal(typeof connected.sid, "string");
      const stats = await ctl("/control/stats");
      assert.deepEqual(stats.tokens, ["nope", "bob"]);
      assert.equal(stats.connections, 1);
    });

    await check("json: ping is answered with pong", async () => {
      c.send({ type: "ping" });
      await c.takeJson({ type: "pong" });
    });

    await check("json: subscribe acks and room emit arrives", async () => {
      c.send({ event: "subscribe:order", data: { orderId: "123" }, id: 7 });
      assert.deepEqual(await c.takeJson({ ack: 7 }), { ack: 7, data: { ok: true, room: "order:123" } });
      const data = encodeURIComponent(JSON.stringify({ orderId: "123" }));
      assert.deepEqual(await ctl(`/control/emit?event=order:status_update&room=order:123&data=${data}&count=2`), {
        sent: 2,
      });
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(await c.takeJson({ event: "order:status_update" }), {
          event: "order:status_update",
          data: { orderId: "123" },
        });
      }
      assert.equal((await ctl("/control/stats")).joins["order:123"], 1);
    });

    await check("json: echo ack, other events recorded", async () => {
      c.send({ event: "echo", data: { x: 1 }, id: 8 });
      assert.deepEqual(await c.takeJson({ ack: 8 }), { ack: 8, data: { x: 1 } });
      c.send({ event: "chat:message", data: { text: "hi" } });
      await until(
        async () => (await ctl("/control/stats")).received.some((r) => r.event === "chat:message"),
        "chat:message recorded",
      );
    });

    await check("json: /control/ask collects client acks", async () => {
      const answered = c.takeJson({ event: "server:question" }).then((q) => {
        c.send({ ack: q.id, data: { eta: "10:30" } });
      });
      const { answers } = await ctl("/control/ask");
      await answered;
      assert.deepEqual(answers, [{ eta: "10:30" }]);
    });

    await check("json: /control/raw sends the exact text and a binary frame", async () => {
      assert.deepEqual(await ctl(`/control/raw?frame=${encodeURIComponent("{not json")}`), { sent: 1 });
      await c.take((f) => f.text === "{not json", "raw text frame");
      await ctl("/control/raw?binary=1");
      const bin = await c.take((f) => f.binary, "raw binary frame");
      assert.deepEqual(bin.binary, [1, 2, 3]);
    });

    await check("json: bench:start streams n events then bench:done", async () => {
      const n = 5000;
      c.send({ event: "bench:start", data: { n }, id: 9 });
      assert.deepEqual(await c.takeJson({ ack: 9 }), { ack: 9, data: { started: true } });
      await c.takeJson({ event: "bench:done" }, 15_000);
      const updates = c.frames.filter((f) => f.json?.event === "order:status_update");
      assert.equal(updates.length, n);
      assert.ok(updates.every((f, i) => f.json.data.seq === i), "bench events out of order");
      c.frames = [];
    });

    await check("json: /control/kick sends disconnect then closes with 1000", async () => {
      const closed = next(c.ws, "close");
      assert.deepEqual(await ctl("/control/kick"), { kicked: 1 });
      await c.takeJson({ type: "disconnect" });
      const [code] = await closed;
      assert.equal(code, 1000);
    });

    await check("json: /control/drop terminates (1006)", async () => {
      const d = await open();
      const closed = next(d.ws, "close");
      assert.deepEqual(await ctl("/control/drop"), { dropped: 1 });
      const [code] = await closed;
      assert.equal(code, 1006);
    });

    await check("json: /control/stop refuses upgrades for ms", async () => {
      await ctl("/control/stop?ms=800");
      const refused = new JsonClient(url);
      clients.push(refused);
      await within(once(refused.ws, "error"), "refused upgrade");
      await sleep(900);
      await open();
    });
  } finally {
    for (const c of clients) c.close();
  }
}

// ---------------------------------------------------------------------------------------------

try {
  const [sioPort, jsonPort] = await Promise.all([
    startServer("socketio-server.mjs", "SIO_PORT"),
    startServer("json-server.mjs", "JSON_PORT"),
  ]);
  await checkSocketIO(sioPort);
  await checkOutbox(sioPort);
  await checkJson(jsonPort);
  console.log(`selfcheck passed (${passed} checks)`);
  process.exitCode = 0;
} catch (err) {
  console.error(`not ok - ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stopChildren();
  // Leftover client timers must not keep the process alive.
  setTimeout(() => process.exit(), 100).unref();
}
