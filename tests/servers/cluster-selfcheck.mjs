// Self-check for the multi-node fixtures: cluster.mjs (redis-server + two cluster-node.mjs),
// proxy.mjs, driven with the real socket.io-client 4.8.4 in Node. Prints one line per check and
// exits non-zero on the first failure.
//
//   node tests/servers/cluster-selfcheck.mjs
//
// Checks:
//   a1  cross-node recovery after a network drop: client on node A (through a non-sticky
//       WebSocket proxy), 200 events from node B's control API, the proxy cuts the connection
//       after ~50 and now routes to B only: recovered on B, seqs in order, none twice, none lost
//       but (rarely) one or a few to the adapter's restore race (see RACE below)
//   a1q the same, but the client reconnects after the last emit: all 200 exactly once, in order
//   a2  cross-node recovery after node A is SIGKILLed: recovered on B, because cluster-node.mjs
//       saves sessions eagerly (the redis-streams adapter alone persists a session only when the
//       node holding it sees the disconnect, which a killed node never does)
//   a3  cross-node recovery after node A is SIGTERMed (graceful close persists the sessions):
//       recovered on B, seqs as in a1
//   a4  cross-node recovery after a half-open drop (the proxy cuts the client side only, node A
//       keeps its TCP connection and notices by ping timeout): recovered on B from the eagerly
//       saved session; A saves it again when it notices, unclaimed
//   e   auth middleware, echo, default ack, join/leave counts in Redis, /control/sockets, emit
//   b   the Redis ledger applies a clientMessageId once across nodes; drop-acks withholds acks
//   c   polling through the sticky proxy (sid pinned to its node); websocket refused by the
//       proxy keeps the client on polling; allowed again, a new client upgrades
//   d   redis restart while connected: ledger writes and cross-node broadcasts work again
//
// Bounded: every wait has a timeout, the whole run is aborted after RUN_LIMIT_MS, and every child
// process and proxy is stopped at the end.

import assert from "node:assert/strict";
import { sleep, until as waitUntil } from "./common.mjs";
import { createClient } from "redis";
import { io as connectSocketIO } from "socket.io-client";
import { startCluster } from "./cluster.mjs";
import { startProxy } from "./proxy.mjs";

const WAIT_MS = 5000;
const RUN_LIMIT_MS = 55_000;
const EVENTS = 200;
const KILL_AFTER = 50;
/** Engine.IO pingInterval and pingTimeout of the nodes (short, so a4 is quick). */
const PING_MS = 1000;

// ---------------------------------------------------------------------------------------------
// Generic helpers
// ---------------------------------------------------------------------------------------------

/** `until` of common.mjs, waiting WAIT_MS unless told. */
const until = (predicate, what, ms = WAIT_MS) => waitUntil(predicate, what, ms);

/** Resolves with the arguments of the next `event` on `emitter`. */
function next(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${event}`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

const clients = [];
const proxies = [];

/** A socket.io-client socket with quick reconnection; closed at the end of the run. */
function connect(url, { transports = ["websocket"], token = "good", ...opts } = {}) {
  const socket = connectSocketIO(url, {
    transports,
    auth: { token },
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    randomizationFactor: 0,
    timeout: 3000,
    ...opts,
  });
  clients.push(socket);
  return socket;
}

async function proxy(options) {
  const p = await startProxy(options);
  proxies.push(p);
  return p;
}

/** Records the `seq` of every `event` the socket receives. */
function collectSeqs(socket, event) {
  const seqs = [];
  socket.on(event, (payload) => seqs.push(payload.seq));
  return seqs;
}

let failures = 0;
async function check(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ""}`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name} (${Date.now() - started} ms): ${err?.stack ?? err}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/**
 * Client on `nodeA` through a fresh non-sticky WebSocket proxy (targets `targets`), subscribed
 * to `room`; node B emits EVENTS events 5 ms apart; after KILL_AFTER arrive, `interrupt()` runs.
 * Resolves with what the client saw once B finished emitting.
 */
async function crossNodeRun({ cluster, room, targets, interrupt, beforeInterrupt = () => {}, clientOptions = {} }) {
  const [a, b] = cluster.nodes;
  const front = await proxy({ targets, sticky: false });
  const socket = connect(front.url, clientOptions);
  await next(socket, "connect");
  const seqs = collectSeqs(socket, "order:update");
  const ack = await socket.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: room });
  assert.deepEqual(ack, { ok: true, room: `order:${room}` });
  const onA = await a.control("sockets");
  assert.ok(onA.some((s) => s.id === socket.id), "client should start on node A");

  await b.control(`emit?room=order:${room}&event=order:update&count=${EVENTS}&intervalMs=5&payload=${encodeURIComponent(JSON.stringify({ room }))}`);
  await until(() => seqs.length >= KILL_AFTER, `${KILL_AFTER} events before the interruption`);
  const before = seqs.length;
  beforeInterrupt(socket);
  const interruptedAt = Date.now();
  const reconnected = next(socket, "connect", 10_000);
  await interrupt(front);
  await reconnected;
  const reconnectMs = Date.now() - interruptedAt;
  const recovered = socket.recovered;
  const onB = await b.control("sockets");
  await until(async () => (await b.control("stats")).emitting === 0, "node B to finish emitting", 10_000);
  await sleep(300); // late duplicates would show up here
  const statsB = await b.control("stats");
  const id = socket.id;
  socket.close();
  await front.close();
  return { id, seqs: [...seqs], before, interruptedAt, reconnectMs, recovered, onB, statsB };
}

/** Most events a recovery may lose to the adapter's restore race (see RACE below). */
const MAX_RACE_LOSS = 5;

/**
 * RACE: @socket.io/redis-streams-adapter 0.3.1 restoreSession() reads the missed packets with
 * XRANGE, and only after that (several promise hops later, in socket.io's Namespace._add) does
 * the restored socket join its rooms. A broadcast whose local delivery runs in between is in
 * neither: not in the XRANGE result, not delivered live. Under a steady stream of emits this
 * loses about one event in a fraction of cross-node recoveries (widening the window with a delay
 * loses every event emitted during the delay). Asserts what holds anyway: in order, none twice,
 * everything up to the interruption, at most MAX_RACE_LOSS lost after it. Returns the losses.
 */
function assertRecoveredSeqs(seqs, before) {
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `seqs in order and none twice: ${seqs[i - 1]} then ${seqs[i]}`);
  }
  const got = new Set(seqs);
  const lost = range(EVENTS).filter((seq) => !got.has(seq));
  assert.ok(lost.every((seq) => seq > before), `lost seqs ${lost} include some from before the interruption (${before})`);
  assert.ok(lost.length <= MAX_RACE_LOSS, `lost ${lost.length} seqs: ${lost}`);
  return lost;
}

/** "200/200 seqs" or "199/200 seqs, lost [72] to the restore race". */
function describeSeqs(seqs, lost) {
  return `${seqs.length}/${EVENTS} seqs in order, none twice${lost.length ? `, lost [${lost}] to the adapter's restore race` : ""}`;
}

async function checkRecoveryAfterDrop(cluster) {
  const [a, b] = cluster.nodes;
  const run = await crossNodeRun({
    cluster,
    room: "a1",
    targets: [a.url],
    interrupt: async (front) => {
      front.setTargets([b.url]);
      front.dropConnections();
    },
  });
  assert.equal(run.recovered, true, "socket.recovered after reconnecting to node B");
  assert.ok(run.onB.some((s) => s.id === run.id && s.recovered && s.transport === "websocket"));
  assert.equal(run.statsB.recovered, 1);
  const lost = assertRecoveredSeqs(run.seqs, run.before);
  return `recovered on B ${run.reconnectMs} ms after the drop (${run.before} events before it), emits still running; ${describeSeqs(run.seqs, lost)}`;
}

async function checkRecoveryAfterDropQuiet(cluster) {
  const [a, b] = cluster.nodes;
  const run = await crossNodeRun({
    cluster,
    room: "a1q",
    targets: [a.url],
    interrupt: async (front) => {
      front.setTargets([b.url]);
      front.dropConnections();
    },
    // Reconnect only after node B has emitted everything: nothing races the restore.
    clientOptions: { reconnectionDelay: 2000, reconnectionDelayMax: 2000 },
  });
  assert.equal(run.recovered, true, "socket.recovered after reconnecting to node B");
  assert.deepEqual(run.seqs, range(EVENTS), "every seq exactly once, in order");
  return `recovered on B ${run.reconnectMs} ms after the drop, ${EVENTS - run.before} missed events replayed from the stream: ${run.seqs.length}/${EVENTS} seqs exactly once, in order`;
}

async function checkRecoveryAfterKill(cluster) {
  const [a] = cluster.nodes;
  const run = await crossNodeRun({
    cluster,
    room: "a2",
    targets: [a.url, cluster.nodes[1].url],
    interrupt: () => a.kill(),
  });
  // socket.io alone never persists a SIGKILLed node's sessions; cluster-node.mjs saves them
  // eagerly (on connect, on every join/leave, and every few seconds), so node B restores it.
  assert.equal(run.recovered, true, "recovered on node B from the eagerly saved session");
  assert.deepEqual(run.seqs, range(EVENTS), "every seq exactly once, in order");
  const started = Date.now();
  await a.start();
  return `recovered on B ${run.reconnectMs} ms after the kill (sessions saved eagerly); ${run.seqs.length}/${EVENTS} seqs exactly once, in order; node A restarted on its port in ${Date.now() - started} ms`;
}

async function checkRecoveryAfterTerm(cluster) {
  const [a, b] = cluster.nodes;
  let exitCode;
  const run = await crossNodeRun({
    cluster,
    room: "a3",
    targets: [a.url, b.url],
    interrupt: async () => {
      exitCode = await a.terminate();
    },
  });
  assert.equal(exitCode, 0, "node A exits 0 on SIGTERM");
  assert.equal(run.recovered, true, "socket.recovered after node A's graceful close");
  const lost = assertRecoveredSeqs(run.seqs, run.before);
  await a.start();
  return `recovered on B ${run.reconnectMs} ms after SIGTERM (exit 0), ${describeSeqs(run.seqs, lost)}`;
}

async function checkRecoveryAfterHalfOpen(cluster) {
  const [a, b] = cluster.nodes;
  let oldId;
  let oldPid;
  const run = await crossNodeRun({
    cluster,
    room: "a4",
    targets: [a.url],
    interrupt: async (front) => {
      front.setTargets([b.url]);
      front.dropConnections({ keepUpstream: true });
    },
    beforeInterrupt: (socket) => {
      oldId = socket.id;
      oldPid = socket._pid; // socket.io-client's private session id, sent back as auth.pid
    },
  });
  // Saved eagerly, the session is restored on B although node A still holds the connection.
  assert.equal(run.recovered, true, "recovered on B from the eagerly saved session");
  assert.deepEqual(run.seqs, range(EVENTS), "every seq exactly once, in order");
  // Node A notices by ping timeout only, and then persists a session nobody will claim.
  await until(async () => !(await a.control("sockets")).some((s) => s.id === oldId), "node A to drop the half-open connection", 10_000);
  const noticedMs = Date.now() - run.interruptedAt;
  const orphan = await redisCommand(cluster, (r) => r.exists(`sio:session:${oldPid}`));
  assert.equal(orphan, 1, "the session node A persisted late is in Redis, unclaimed");
  return `recovered on B after ${run.reconnectMs} ms (saved eagerly); node A noticed after ${noticedMs} ms (at most pingInterval + pingTimeout = ${PING_MS * 2} ms) and then saved the session again, unclaimed; ${run.seqs.length}/${EVENTS} seqs exactly once, in order`;
}

/** Runs `fn(client)` with a short-lived node-redis client of the cluster's Redis. */
async function redisCommand(cluster, fn) {
  const client = createClient({ url: cluster.redis.url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

async function checkBasics(cluster) {
  const [a, b] = cluster.nodes;
  await a.control("reset");
  const refused = connect(a.url, { token: "nope", reconnection: false });
  const [err] = await next(refused, "connect_error");
  assert.equal(err.message, "invalid token");
  assert.deepEqual(err.data, { code: "AUTH_REJECTED" });

  const ca = connect(a.url, { token: "alice" });
  const cb = connect(b.url, { transports: ["polling"], token: "bob" });
  await Promise.all([next(ca, "connect"), next(cb, "connect")]);
  assert.deepEqual(await ca.timeout(WAIT_MS).emitWithAck("echo", 1, "two", { three: 3 }), 1);
  assert.deepEqual(await cb.timeout(WAIT_MS).emitWithAck("anything:else", {}), { ok: true, node: "b" });
  assert.deepEqual(await ca.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: "e1" }), { ok: true, room: "order:e1" });
  assert.deepEqual(await cb.timeout(WAIT_MS).emitWithAck("subscribe:order", "e1"), { ok: true, room: "order:e1" });
  assert.deepEqual(await cb.timeout(WAIT_MS).emitWithAck("unsubscribe:order", "e1"), { ok: true, room: "order:e1" });
  await cb.timeout(WAIT_MS).emitWithAck("subscribe:news");

  const stats = await a.control("stats");
  assert.deepEqual(stats.joins, { "order:e1": 2, "news:all": 1 });
  assert.deepEqual(stats.leaves, { "order:e1": 1 });
  assert.equal(stats.clients, 1);
  const onB = await b.control("sockets");
  assert.deepEqual(onB.map((s) => ({ ...s, rooms: s.rooms.sort() })), [
    { id: cb.id, rooms: ["news:all", cb.id].sort(), recovered: false, transport: "polling" },
  ]);

  // /control/emit without a room reaches every socket of every node.
  const got = { a: [], b: [] };
  ca.on("hello", (p) => got.a.push(p));
  cb.on("hello", (p) => got.b.push(p));
  const answer = await b.control(`emit?event=hello&count=3&payload=${encodeURIComponent('{"x":1}')}`);
  assert.deepEqual(answer, { ok: true, node: "b", count: 3 });
  await until(() => got.a.length === 3 && got.b.length === 3, "3 hello events on both nodes");
  assert.deepEqual(got.a, [1, 2, 3].map((seq) => ({ x: 1, seq })));
  ca.close();
  cb.close();
  return "auth, echo, default ack, cluster-wide join/leave counts, /control/sockets, emit to all";
}

async function checkLedger(cluster) {
  const [a, b] = cluster.nodes;
  await a.control("reset");
  const ca = connect(a.url);
  const cb = connect(b.url);
  await Promise.all([next(ca, "connect"), next(cb, "connect")]);
  const send = (socket, id, ms = WAIT_MS) =>
    socket.timeout(ms).emitWithAck("outbox:send", { clientMessageId: id, text: "hello" });

  assert.deepEqual(await send(ca, "m-1"), { ok: true, id: "m-1" });
  assert.deepEqual(await send(cb, "m-1"), { ok: true, id: "m-1" });
  let ledger = await b.control("ledger");
  assert.deepEqual(ledger.applied, ["m-1"]);
  assert.deepEqual(ledger.receipts, { "m-1": 2 });
  assert.equal(ledger.duplicates, 1);

  // 20 ids sent to both nodes at the same time: each applied once.
  const ids = range(20).map((i) => `m-race-${i}`);
  await Promise.all(ids.flatMap((id) => [send(ca, id), send(cb, id)]));
  ledger = await a.control("ledger");
  assert.equal(ledger.applied.length, 21);
  assert.deepEqual(new Set(ledger.applied), new Set(["m-1", ...ids]));
  assert.ok(ids.every((id) => ledger.receipts[id] === 2));
  assert.equal(ledger.duplicates, 21);

  // drop-acks: applied but not acked; after disarming, the retry is acked and not re-applied.
  assert.deepEqual(await a.control("drop-acks?rate=1"), { dropRate: 1 });
  await assert.rejects(send(cb, "m-drop", 500), /timed out/);
  assert.deepEqual(await a.control("drop-acks?rate=0"), { dropRate: 0 });
  assert.deepEqual(await send(ca, "m-drop"), { ok: true, id: "m-drop" });
  ledger = await b.control("ledger");
  assert.equal(ledger.applied.filter((id) => id === "m-drop").length, 1);
  assert.equal(ledger.receipts["m-drop"], 2);
  assert.equal(ledger.droppedAcks, 1);
  return `applied ${ledger.applied.length} ids once each over ${Object.values(ledger.receipts).reduce((s, n) => s + n, 0)} receipts on two nodes; 1 dropped ack`;
}

async function checkPolling(cluster) {
  const [a, b] = cluster.nodes;
  const front = await proxy({ targets: [a.url, b.url], sticky: true });

  // Polling only: the session is pinned to node A even after new sessions are routed to B.
  const poller = connect(front.url, { transports: ["polling"] });
  await next(poller, "connect");
  const seqs = collectSeqs(poller, "order:update");
  await poller.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: "c" });
  front.setTargets([b.url, a.url]);
  assert.ok((await a.control("sockets")).some((s) => s.id === poller.id && s.transport === "polling"));
  await b.control("emit?room=order:c&event=order:update&count=5&intervalMs=0");
  await until(() => seqs.length === 5, "5 events over polling");
  assert.deepEqual(seqs, range(5));
  assert.deepEqual(await poller.timeout(WAIT_MS).emitWithAck("echo", { x: 1 }), { x: 1 });
  front.setTargets([a.url, b.url]);
  let stats = front.stats();
  assert.ok(stats.polls > 0 && stats.posts > 0 && stats.sessions >= 1, JSON.stringify(stats));

  // WebSocket refused by the proxy: the client stays on polling.
  front.setWebSocket(false);
  const stuck = connect(front.url, { transports: ["polling", "websocket"] });
  const upgradeError = next(stuck.io, "open").then(() => next(stuck.io.engine, "upgradeError"));
  await next(stuck, "connect");
  await upgradeError;
  await sleep(200);
  assert.equal(stuck.io.engine.transport.name, "polling");
  assert.deepEqual(await stuck.timeout(WAIT_MS).emitWithAck("echo", "still here"), "still here");
  stats = front.stats();
  assert.ok(stats.refusedUpgrades >= 1, JSON.stringify(stats));

  // Allowed again: a new client upgrades (its upgrade request carries the sid: sticky).
  front.setWebSocket(true);
  const upgraded = connect(front.url, { transports: ["polling", "websocket"] });
  const upgrade = next(upgraded.io, "open").then(() => next(upgraded.io.engine, "upgrade"));
  await next(upgraded, "connect");
  await upgrade;
  assert.equal(upgraded.io.engine.transport.name, "websocket");
  const onA = await a.control("sockets");
  assert.ok(onA.some((s) => s.id === upgraded.id && s.transport === "websocket"));
  stats = front.stats();
  assert.ok(stats.upgrades >= 1, JSON.stringify(stats));
  return `proxy stats ${JSON.stringify(stats)}`;
}

async function checkRedisRestart(cluster) {
  const [a, b] = cluster.nodes;
  const socket = connect(a.url);
  await next(socket, "connect");
  let disconnects = 0;
  socket.on("disconnect", () => disconnects++);
  const seqs = collectSeqs(socket, "order:update");
  await socket.timeout(WAIT_MS).emitWithAck("subscribe:order", { orderId: "d" });

  const restartStarted = Date.now();
  await cluster.redis.restart();
  const restartMs = Date.now() - restartStarted;

  // Outbox write: retried (as a client's outbox would) until acked.
  const acked = Date.now();
  let attempts = 0;
  await until(async () => {
    attempts++;
    try {
      return await socket.timeout(300).emitWithAck("outbox:send", { clientMessageId: "m-after-restart" });
    } catch {
      return null;
    }
  }, "an outbox ack after the redis restart", 15_000);
  const ackMs = Date.now() - acked;
  const ledger = await a.control("ledger");
  assert.deepEqual(ledger.applied, ["m-after-restart"], "ledger starts empty after a restart (no persistence)");

  // Cross-node broadcast (B's stream writes reach A's stream reader) works again.
  const broadcast = Date.now();
  await until(async () => {
    await b.control("emit?room=order:d&event=order:update&count=1");
    await sleep(200);
    return seqs.length > 0;
  }, "a broadcast from node B after the redis restart", 15_000);
  const broadcastMs = Date.now() - broadcast;
  assert.ok(a.alive && b.alive, "both nodes survived the restart");
  assert.equal(disconnects, 0, "the Socket.IO connection does not depend on Redis");
  return `redis restarted in ${restartMs} ms; outbox acked ${ackMs} ms later (${attempts} attempts); broadcast B->A arrived after ${broadcastMs} ms; client never disconnected`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

let cluster;
async function cleanup() {
  for (const socket of clients) socket.close();
  await Promise.all(proxies.map((p) => p.close()));
  await cluster?.stop();
}

const limit = setTimeout(async () => {
  console.log(`FAIL cluster-selfcheck did not finish within ${RUN_LIMIT_MS} ms`);
  await cleanup().catch(() => {});
  process.exit(1);
}, RUN_LIMIT_MS);
limit.unref();

const runStarted = Date.now();
try {
  const startedAt = Date.now();
  cluster = await startCluster({
    nodes: 2,
    env: { SIO_PING_INTERVAL: String(PING_MS), SIO_PING_TIMEOUT: String(PING_MS) },
  });
  console.log(`ok   cluster started (${Date.now() - startedAt} ms): redis ${cluster.redis.url}, ${cluster.nodes.map((n) => `${n.name} ${n.url}`).join(", ")}`);
  await check("a1 recovery on node B after a network drop", () => checkRecoveryAfterDrop(cluster));
  await check("a1q same, reconnecting after the last emit", () => checkRecoveryAfterDropQuiet(cluster));
  await check("a2 node A SIGKILLed: recovered on node B", () => checkRecoveryAfterKill(cluster));
  await check("a3 node A SIGTERMed: recovered on node B", () => checkRecoveryAfterTerm(cluster));
  await check("a4 half-open connection to node A: recovered on node B", () => checkRecoveryAfterHalfOpen(cluster));
  await check("e  basics on both nodes", () => checkBasics(cluster));
  await check("b  ledger applies once across nodes", () => checkLedger(cluster));
  await check("c  polling through the sticky proxy, websocket refused/allowed", () => checkPolling(cluster));
  await check("d  redis restart while connected", () => checkRedisRestart(cluster));
} catch (err) {
  // A failed check() has reported itself; anything else (e.g. the cluster not starting) not.
  if (failures === 0) {
    failures++;
    console.log(`FAIL setup: ${err?.stack ?? err}`);
  }
} finally {
  await cleanup();
}
console.log(`${failures === 0 ? "ok  " : "FAIL"} cluster-selfcheck (${Date.now() - runStarted} ms)`);
process.exit(failures === 0 ? 0 : 1);
