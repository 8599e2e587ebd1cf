// One node of a Socket.IO 4.8.4 cluster on Redis for wiresync's multi-node tests, with an HTTP
// control API on the same port. Normally started by cluster.mjs (startCluster), one child
// process per node, all sharing one redis-server:
//
//   REDIS_URL=redis://127.0.0.1:6379 NODE_NAME=a NODE_PORT=0 node tests/servers/cluster-node.mjs
//
// Environment:
//   NODE_PORT              port to listen on (default 0 = a free port, printed on start)
//   NODE_NAME              name of this node, e.g. "a" or "b" (default "a"); reported by acks,
//                          /control/emit and /control/stats
//   REDIS_URL              Redis to use (default redis://127.0.0.1:6379)
//   SIO_MAX_DISCONNECTION  connectionStateRecovery.maxDisconnectionDuration in ms (default 30000)
//   SIO_PING_INTERVAL      Engine.IO pingInterval in ms (default 25000)
//   SIO_PING_TIMEOUT       Engine.IO pingTimeout in ms (default 20000)
//   CLUSTER_WATCH_STDIN    "1": exit when stdin closes (cluster.mjs sets it, so a node never
//                          outlives the process that started it, even when that one is SIGKILLed)
//
// Prints `cluster-node <name> listening on 127.0.0.1:PORT` once it accepts connections. Exits 0
// on SIGTERM/SIGINT after a graceful close (see "Shutdown" below); tests use SIGKILL to crash it.
//
// Socket.IO side (namespace "/" only), the same behaviour as socketio-server.mjs where it
// overlaps:
//   - adapter: @socket.io/redis-streams-adapter (broadcasts go through the Redis stream
//     "socket.io", so /control/emit on one node reaches clients of every node, and a client that
//     reconnects to another node with {pid, offset} can be recovered there: see "Recovery").
//   - auth middleware: handshake.auth.token must be good | alice | bob, otherwise CONNECT_ERROR
//     `{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}`
//   - connectionStateRecovery { maxDisconnectionDuration: SIO_MAX_DISCONNECTION,
//     skipMiddlewares: true }; CORS origin *; transports polling + websocket
//   - outbox messages: ANY event whose first argument is an object with a string
//     `clientMessageId` goes to the Redis ledger (cluster-wide, one Lua script per receipt):
//     receipts[id] += 1, and the id is appended to the applied list unless it was applied before
//     (on any node). Then acked { ok: true, id }, unless the ack is dropped: with probability
//     `ctl:dropRate` (/control/drop-acks), decided per receipt, the ack callback is simply not
//     called (the message IS applied). When the Redis write fails (Redis down) nothing is acked,
//     so the client retries. Takes precedence over the handlers below.
//   - subscribe:<channel> [params]: joins roomFor(channel, params) (common.mjs), counts the join
//     in Redis, acks { ok: true, room }; unsubscribe:<channel> leaves and counts the leave.
//   - echo: acks with every argument it received.
//   - any other event with an ack callback: acked { ok: true, node: NODE_NAME }; without one it
//     is ignored.
//
// Control API (GET, JSON, CORS *, every response `Connection: close`):
//   /control/emit?room=R&event=E&count=N&intervalMs=M&payload=<json object>
//       Emits N events (default 1) `io.to(R).emit(E, { ...payload, seq: i })` for i = 1..N, M ms
//       apart (default 0 = as fast as possible, yielding with setImmediate every 50). Without
//       room: to every socket. Through the adapter, so clients of every node get them. Answers
//       at once { ok: true, node, count }; the run goes on in the background (several may run).
//   /control/stats
//       { node, clients, recovered, recoveredTotal, joins: {room: n}, leaves: {room: n},
//         emitting }: clients = sockets connected to THIS node, recovered = those of them with
//       socket.recovered, recoveredTotal = recovered connections since start or reset,
//       emitting = /control/emit runs in progress on this node; joins/leaves are cluster-wide
//       (Redis).
//   /control/ledger
//       { applied: [ids in applied order], receipts: {id: n}, duplicates, extraReceipts,
//         droppedAcks, dropRate } from Redis: duplicates = number of ids received more than
//       once; extraReceipts = receipts beyond the first, summed over ids (what
//       socketio-server.mjs calls `duplicates`); droppedAcks = acks withheld, all nodes.
//   /control/reset        clears joins, leaves, the ledger and ctl:dropRate in Redis (cluster
//                         wide) and this node's recoveredTotal.
//   /control/drop-acks?rate=0.2   sets ctl:dropRate (0..1, cluster-wide); rate=0 disarms.
//   /control/sockets      [{ id, rooms, recovered, transport }] of the sockets on this node
//                         (transport: socket.conn.transport.name, "polling" or "websocket").
//   /control/drop[?how=close|terminate]
//                         closes every client connection of this node without a DISCONNECT
//                         packet, as a network failure would (like socketio-server.mjs); the
//                         sessions are persisted to Redis, so a reconnect to ANY node within
//                         SIO_MAX_DISCONNECTION is recovered.
// Control routes that read Redis answer 500 while Redis is down.
//
// Redis keys (all cluster-wide): stats:joins, stats:leaves (hashes room -> n), ledger:receipts
// (hash id -> n), ledger:applied (set), ledger:appliedOrder (list, last MAX_APPLIED ids),
// ledger:droppedAcks (counter), ctl:dropRate (string); the adapter's stream "socket.io" and its
// sessions "sio:session:<pid>".
//
// Recovery across nodes (read from @socket.io/redis-streams-adapter 0.3.1 and socket.io 4.8.4):
//   a session is written to Redis (SET sio:session:<pid>, PX maxDisconnectionDuration) by the
//   node holding the socket, at the moment it sees the connection close (Socket#_onclose ->
//   adapter.persistSession). Any node can then restore it (GETDEL + XRANGE from the offset).
//   A node that is SIGKILLed never persists its sessions, so its clients are NOT recoverable
//   anywhere; a node closed gracefully (SIGTERM here, or /control/drop) persists them.
//
// Shutdown (SIGTERM/SIGINT): io.close() closes every connection with the recoverable reason
// "server shutting down" (the sessions are persisted), then a PING on the same Redis connection
// makes sure those SETs reached Redis before the process exits.
//
// Redis outages: node-redis reconnects by itself. Errors are logged once per outage; the adapter
// client queues commands while offline (broadcasts are delayed, not lost, unless in flight when
// the connection broke), the ledger/stats client fails fast (disableOfflineQueue) so no handler
// hangs. Unhandled rejections are logged, not fatal: the adapter fires some Redis commands
// (persistSession's SET, PUBLISH) without handling their errors.

import http from "node:http";
import { createClient } from "redis";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Server } from "socket.io";
import {
  HOST,
  MAX_APPLIED,
  authError,
  BadRequest,
  controlHandler,
  envInt,
  exitOnSignals,
  intParam,
  jsonParam,
  outboxMessageId,
  parseSubscription,
  roomFor,
} from "./common.mjs";

const PORT = envInt("NODE_PORT", 0);
const NAME = process.env.NODE_NAME || "a";
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const MAX_DISCONNECTION = envInt("SIO_MAX_DISCONNECTION", 30000);
/** Sessions are persisted again this often (see persist). */
const PERSIST_EVERY_MS = Math.max(100, Math.min(5000, Math.floor(MAX_DISCONNECTION / 3)));
const PING_INTERVAL = envInt("SIO_PING_INTERVAL", 25000);
const PING_TIMEOUT = envInt("SIO_PING_TIMEOUT", 20000);
const LOG = `cluster-node ${NAME}`;

/** Upper bounds for one /control/emit run. */
const MAX_EMIT_COUNT = 100_000;
const MAX_EMIT_INTERVAL_MS = 60_000;
/** Emits per burst of an intervalMs=0 run before yielding with setImmediate. */
const EMIT_BATCH = 50;

const KEYS = {
  joins: "stats:joins",
  leaves: "stats:leaves",
  receipts: "ledger:receipts",
  applied: "ledger:applied",
  appliedOrder: "ledger:appliedOrder",
  droppedAcks: "ledger:droppedAcks",
  dropRate: "ctl:dropRate",
};

/**
 * One receipt of an outbox message, atomically: count it, apply it unless already applied,
 * trim the applied list, and read the current drop rate.
 * KEYS: receipts, applied, appliedOrder, dropRate. ARGV: id, MAX_APPLIED.
 * Returns [receipts of this id, 1 if applied now else 0, dropRate or false].
 */
const LEDGER_SCRIPT = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local added = redis.call('SADD', KEYS[2], ARGV[1])
if added == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[1])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
end
return { n, added, redis.call('GET', KEYS[4]) }
`;

// ---------------------------------------------------------------------------------------------
// Process safety nets
// ---------------------------------------------------------------------------------------------

process.on("unhandledRejection", (reason) => {
  console.error(`${LOG}: unhandled rejection (ignored):`, reason?.message ?? reason);
});

if (process.env.CLUSTER_WATCH_STDIN === "1") {
  // The parent holds the other end of our stdin pipe; EOF means it is gone.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

/** Logs the first error of an outage and the reconnection that ends it. */
function watchRedis(client, label) {
  let down = false;
  client.on("error", (err) => {
    if (down) return;
    down = true;
    console.error(`${LOG}: redis ${label} error: ${err?.message || err?.code || err}`);
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    console.error(`${LOG}: redis ${label} reconnected`);
  });
  return client;
}

/** Adapter client (and, duplicated by the adapter, its stream reader and pub/sub clients). */
const redis = watchRedis(createClient({ url: REDIS_URL }), "adapter");
await redis.connect();
/** Ledger, counters and control reads: fails fast while Redis is down instead of queueing. */
const store = watchRedis(redis.duplicate({ disableOfflineQueue: true }), "store");
await store.connect();

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

let recoveredTotal = 0;
let emitting = 0;
/** Session restores under way on this node, by the time each began (see holdDuringRestores). */
const restoring = [];
let closing = false;

// Registered BEFORE socket.io attaches: engine.io forwards requests outside /socket.io/ to the
// listeners it found (see socketio-server.mjs).
const control = controlHandler(buildRoutes());
const httpServer = http.createServer((req, res) => {
  res.setHeader("Connection", "close");
  control(req, res);
});

const io = new Server(httpServer, {
  path: "/socket.io/",
  transports: ["polling", "websocket"],
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  connectionStateRecovery: { maxDisconnectionDuration: MAX_DISCONNECTION, skipMiddlewares: true },
  cors: { origin: "*" },
  adapter: createAdapter(redis),
});

io.use((socket, next) => next(authError(socket.handshake.auth) ?? undefined));

persistEagerly();
holdDuringRestores();

io.on("connection", (socket) => {
  if (socket.recovered) {
    recoveredTotal++;
    restoring.shift();
  }
  persist(socket);
  socket.onAny((event, ...args) => {
    handleEvent(socket, event, args).catch((err) => {
      console.error(`${LOG}: event ${event} failed:`, err?.message ?? err);
    });
  });
});

/** Handles one client event. `args` still holds the ack callback last when one was asked for. */
async function handleEvent(socket, event, args) {
  const ack = typeof args.at(-1) === "function" ? args.pop() : null;

  const id = outboxMessageId(args);
  if (id !== null) {
    await receiveOutbox(id, ack);
    return;
  }

  const subscription = parseSubscription(event);
  if (subscription) {
    const [action, channel] = subscription;
    const room = roomFor(channel, args[0]);
    if (action === "subscribe") socket.join(room);
    else socket.leave(room);
    persist(socket);
    await countRoom(action === "subscribe" ? KEYS.joins : KEYS.leaves, room);
    ack?.({ ok: true, room });
    return;
  }

  if (event === "echo") {
    ack?.(...args);
    return;
  }
  ack?.({ ok: true, node: NAME });
}

/**
 * Crash recovery: socket.io persists a session only when its node sees the connection close,
 * which a SIGKILLed node never does. So every session is persisted as it starts, whenever its
 * rooms change, and again every PERSIST_EVERY_MS (its key expires after
 * maxDisconnectionDuration): the other node can then restore the session of a node that died.
 * (What README "Running on a cluster" tells a server to do.)
 */
function persist(socket) {
  if (!socket.connected || closing) return;
  socket.nsp.adapter.persistSession({ sid: socket.id, pid: socket.pid, rooms: [...socket.rooms], data: socket.data });
}
function persistEagerly() {
  const timer = setInterval(() => io.of("/").sockets.forEach(persist), PERSIST_EVERY_MS);
  timer.unref();
}

/**
 * @socket.io/redis-streams-adapter 0.3.1 reads the missed packets (XRANGE) a few promise steps
 * before the restored socket re-joins its rooms: a broadcast this node sends in between reaches
 * neither (see the cluster selfcheck, a1). This node's own /control/emit runs wait while it
 * restores a session, so the tests see what the client does, not that server-side race.
 */
function holdDuringRestores() {
  const adapter = io.of("/").adapter;
  const restore = adapter.restoreSession.bind(adapter);
  const forget = (began) => restoring.includes(began) && restoring.splice(restoring.indexOf(began), 1);
  adapter.restoreSession = async (pid, offset) => {
    const began = Symbol("restore");
    restoring.push(began);
    // A restore whose socket never connects (refused later) holds emits for 2 s at most.
    setTimeout(() => forget(began), 2000).unref();
    try {
      const session = await restore(pid, offset);
      if (!session) forget(began);
      return session;
    } catch (err) {
      forget(began);
      throw err;
    }
  };
}

/** Counts a join or leave cluster-wide; a Redis failure is logged, the subscription stands. */
async function countRoom(key, room) {
  try {
    await store.hIncrBy(key, room, 1);
  } catch (err) {
    console.error(`${LOG}: could not count ${key} ${room}: ${err?.message ?? err}`);
  }
}

/** Runs the ledger script for one receipt; acks unless the write failed or the ack is dropped. */
async function receiveOutbox(id, ack) {
  let result;
  try {
    result = await store.eval(LEDGER_SCRIPT, {
      keys: [KEYS.receipts, KEYS.applied, KEYS.appliedOrder, KEYS.dropRate],
      arguments: [id, String(MAX_APPLIED)],
    });
  } catch (err) {
    // Not applied (or not known to be): no ack, so the client sends it again.
    console.error(`${LOG}: ledger write for ${id} failed, not acked: ${err?.message ?? err}`);
    return;
  }
  const dropRate = Number(result[2]) || 0;
  if (dropRate > 0 && Math.random() < dropRate) {
    store.incr(KEYS.droppedAcks).catch(() => {});
    return;
  }
  ack?.({ ok: true, id });
}

// ---------------------------------------------------------------------------------------------
// Control API
// ---------------------------------------------------------------------------------------------

/** Sockets connected to this node. */
function localSockets() {
  return [...io.of("/").sockets.values()];
}

/** Parses ?payload= (a JSON object, default {}). */
function payloadParam(params) {
  const payload = jsonParam(params, "payload", {});
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new BadRequest("payload must be a JSON object");
  }
  return payload;
}

/** Parses ?rate= as a number in 0..1. */
function rateParam(params) {
  const rate = Number(params.get("rate") ?? "0");
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new BadRequest("rate must be a number between 0 and 1");
  }
  return rate;
}

/**
 * Emits `{ ...payload, seq }` for seq = 1..count to `room` (everyone when null), `intervalMs`
 * apart, or in bursts of EMIT_BATCH when it is 0. Stops when the server closes.
 */
function runEmit({ room, event, count, intervalMs, payload }) {
  const target = room ? io.to(room) : io;
  let seq = 0;
  emitting++;
  const done = () => emitting--;
  const emitOne = () => target.emit(event, { ...payload, seq: ++seq });
  const step = () => {
    if (closing) return done();
    if (restoring.length > 0) return void setTimeout(step, 1);
    if (intervalMs > 0) {
      emitOne();
      if (seq >= count) return done();
      setTimeout(step, intervalMs);
      return;
    }
    const end = Math.min(count, seq + EMIT_BATCH);
    while (seq < end) emitOne();
    if (seq >= count) return done();
    setImmediate(step);
  };
  if (count === 0) return done();
  step();
}

/** Numbers in a Redis hash reply. */
function numbers(hash) {
  return Object.fromEntries(Object.entries(hash ?? {}).map(([k, v]) => [k, Number(v)]));
}

function buildRoutes() {
  return {
    "/control/emit": (params) => {
      const event = params.get("event");
      if (!event) throw new BadRequest("event is required");
      const count = intParam(params, "count", 1);
      const intervalMs = intParam(params, "intervalMs", 0);
      if (count > MAX_EMIT_COUNT) throw new BadRequest(`count must be at most ${MAX_EMIT_COUNT}`);
      if (intervalMs > MAX_EMIT_INTERVAL_MS) {
        throw new BadRequest(`intervalMs must be at most ${MAX_EMIT_INTERVAL_MS}`);
      }
      const payload = payloadParam(params);
      runEmit({ room: params.get("room"), event, count, intervalMs, payload });
      return { ok: true, node: NAME, count };
    },

    "/control/stats": async () => {
      const sockets = localSockets();
      const [joins, leaves] = await Promise.all([store.hGetAll(KEYS.joins), store.hGetAll(KEYS.leaves)]);
      return {
        node: NAME,
        clients: sockets.length,
        recovered: sockets.filter((s) => s.recovered).length,
        recoveredTotal,
        joins: numbers(joins),
        leaves: numbers(leaves),
        emitting,
      };
    },

    "/control/ledger": async () => {
      const [applied, rawReceipts, droppedAcks, dropRate] = await Promise.all([
        store.lRange(KEYS.appliedOrder, 0, -1),
        store.hGetAll(KEYS.receipts),
        store.get(KEYS.droppedAcks),
        store.get(KEYS.dropRate),
      ]);
      const receipts = numbers(rawReceipts);
      const counts = Object.values(receipts);
      return {
        applied,
        receipts,
        duplicates: counts.filter((n) => n > 1).length,
        extraReceipts: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        droppedAcks: Number(droppedAcks ?? 0),
        dropRate: Number(dropRate ?? 0),
      };
    },

    "/control/reset": async () => {
      await store.del(Object.values(KEYS));
      recoveredTotal = 0;
      return { reset: true, node: NAME };
    },

    "/control/drop-acks": async (params) => {
      const rate = rateParam(params);
      await store.set(KEYS.dropRate, String(rate));
      return { dropRate: rate };
    },

    "/control/sockets": () =>
      localSockets().map((s) => ({
        id: s.id,
        rooms: [...s.rooms],
        recovered: s.recovered,
        transport: s.conn.transport.name,
      })),

    "/control/drop": (params) => {
      const how = params.get("how") ?? "close";
      if (how !== "close" && how !== "terminate") {
        throw new BadRequest('how must be "close" or "terminate"');
      }
      const connections = Object.values(io.engine.clients);
      for (const conn of connections) {
        if (how === "terminate" && conn.transport.name === "websocket") conn.transport.socket.terminate();
        else conn.close(true);
      }
      return { node: NAME, dropped: connections.length };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------------------------

httpServer.listen(PORT, HOST, () => {
  console.log(`cluster-node ${NAME} listening on ${HOST}:${httpServer.address().port}`);
});

exitOnSignals(LOG, async () => {
  closing = true;
  await io.close();
  // Same connection as the adapter's persistSession SETs: when PING answers, they are done.
  await Promise.race([redis.ping(), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => {});
  store.destroy();
  redis.destroy();
});
