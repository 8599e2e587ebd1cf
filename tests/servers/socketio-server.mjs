// Socket.IO 4.8.4 test server for wiresync, with an HTTP control API on the same port.
//
//   node tests/servers/socketio-server.mjs
//
// Environment:
//   SIO_PORT           port to listen on (default 39201; 0 picks a free port, printed on start)
//   SIO_PING_INTERVAL  Engine.IO pingInterval in ms (default 25000)
//   SIO_PING_TIMEOUT   Engine.IO pingTimeout in ms (default 20000)
//
// Prints `socketio-server listening on 127.0.0.1:PORT` once it accepts connections and exits 0
// on SIGTERM/SIGINT.
//
// Socket.IO side (namespaces "/" and "/admin", identical behaviour):
//   - auth middleware: handshake.auth.token must be good | alice | bob, otherwise CONNECT_ERROR
//     `{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}`
//   - connectionStateRecovery { maxDisconnectionDuration: 30000, skipMiddlewares: true }
//   - outbox messages: ANY event whose first argument is an object with a string
//     `clientMessageId` is handled by the outbox ledger (common.mjs createOutboxLedger): applied
//     once per id, every receipt counted, acked { ok: true, id } unless a drop/reject is armed.
//     This takes precedence over the handlers below, which only see events without that id.
//   - events: subscribe:<channel>, unsubscribe:<channel>, echo, order:ack-me, slow:no-ack,
//     bench:start; every other event is recorded in stats.received
//
// HTTP mutations: every request under /api/ (any method, CORS preflight answered) goes to the
// idempotency-key ledger (common.mjs createHttpMutations).
//
// Control API (GET, JSON, CORS *); see the `routes` table below for parameters:
//   /control/emit /control/drop /control/kick /control/raw /control/binary /control/ask
//   /control/stats /control/reset /control/stop /control/mute
//   /control/outbox/stats /control/outbox/reset /control/outbox/drop-acks
//   /control/outbox/ack-delay /control/outbox/reject
//   /control/http/plan /control/http/stats /control/http/reset
//
// Every response of the control API and /api/ carries `Connection: close`: no request ever
// rides on a reused keep-alive connection, so when /api/ destroys a socket (planned status 0)
// the browser reports a network error instead of silently re-sending the request (Chromium
// retries requests whose reused connection closed before any response byte).

import http from "node:http";
import { Server } from "socket.io";
import {
  HOST,
  authError,
  BadRequest,
  benchPayload,
  bump,
  controlHandler,
  createHttpMutations,
  createOutboxLedger,
  envInt,
  exitOnSignals,
  intParam,
  jsonParam,
  outboxMessageId,
  parseSubscription,
  pushBounded,
  roomFor,
  runBench,
} from "./common.mjs";

const PORT = envInt("SIO_PORT", 39201);
const PING_INTERVAL = envInt("SIO_PING_INTERVAL", 25000);
const PING_TIMEOUT = envInt("SIO_PING_TIMEOUT", 20000);

/** Namespaces served; both get the same middleware and handlers. */
const NAMESPACE_NAMES = ["/", "/admin"];

// ---------------------------------------------------------------------------------------------
// Test-visible state
// ---------------------------------------------------------------------------------------------

/** Counters and logs returned by /control/stats and cleared by /control/reset. */
const stats = {
  /** room -> number of subscribe:<channel> joins, all namespaces together */
  joins: {},
  /** room -> number of unsubscribe:<channel> leaves, all namespaces together */
  leaves: {},
  /** per namespace: { joins, leaves } (same counts, split by namespace) */
  perNamespace: Object.fromEntries(NAMESPACE_NAMES.map((n) => [n, { joins: {}, leaves: {} }])),
  /** events without a dedicated handler: { nsp, event, args, ack } (at most MAX_RECEIVED) */
  received: [],
  /** handshake.auth.token of every CONNECT the server saw, in order (null when absent) */
  tokens: [],
  /** every handshake: { nsp, auth, recovered } in the same order as tokens */
  handshakes: [],
  /** number of connections that were restored by connection state recovery */
  recovered: 0,
};

function resetStats() {
  stats.joins = {};
  stats.leaves = {};
  for (const name of NAMESPACE_NAMES) stats.perNamespace[name] = { joins: {}, leaves: {} };
  stats.received = [];
  stats.tokens = [];
  stats.handshakes = [];
  stats.recovered = 0;
}

function recordHandshake(nspName, auth, recovered) {
  stats.tokens.push(auth?.token ?? null);
  stats.handshakes.push({ nsp: nspName, auth: auth ?? {}, recovered });
}

/** Outbox messages (clientMessageId) received over Socket.IO; /control/outbox/... */
const outbox = createOutboxLedger();

/** HTTP mutations under /api/ (Idempotency-Key); /control/http/... */
const httpMutations = createHttpMutations();

/** While Date.now() < refuseUntil (set by /control/stop) new Engine.IO handshakes are refused. */
let refuseUntil = 0;
const refusing = () => Date.now() < refuseUntil;

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

// The control listener must be registered on the http server BEFORE socket.io attaches:
// engine.io takes over the existing "request" listeners and only forwards requests that are not
// under its own path (/socket.io/) to them, so the two never collide.
const control = controlHandler({ ...buildRoutes(), ...outbox.routes, ...httpMutations.routes });
const httpServer = http.createServer((req, res) => {
  // See the header comment: never keep a control or /api/ connection alive.
  res.setHeader("Connection", "close");
  const pathname = new URL(req.url ?? "/", `http://${HOST}`).pathname;
  if (pathname === "/api" || pathname.startsWith("/api/")) {
    httpMutations.handle(req, res).catch((err) => {
      console.error(`/api request ${req.method} ${pathname} failed:`, err);
      if (!res.headersSent && !req.socket.destroyed) {
        res.writeHead(500, { "Access-Control-Allow-Origin": "*" });
        res.end();
      }
    });
    return;
  }
  control(req, res);
});

const io = new Server(httpServer, {
  path: "/socket.io/",
  transports: ["polling", "websocket"],
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  connectionStateRecovery: { maxDisconnectionDuration: 30000, skipMiddlewares: true },
  // Only matters for the polling transport from a page on another origin.
  cors: { origin: "*" },
  // /control/stop: refuse new handshakes (polling GET answers 403, a WebSocket upgrade gets an
  // HTTP 400 and its TCP socket is destroyed, which a browser reports as close code 1006).
  allowRequest: (_req, callback) =>
    refusing() ? callback("server stopped", false) : callback(null, true),
});

const namespaces = NAMESPACE_NAMES.map((name) => io.of(name));
for (const nsp of namespaces) setUpNamespace(nsp);

function setUpNamespace(nsp) {
  // Auth middleware. With skipMiddlewares, a recovered session does not pass here; its
  // handshake is recorded in the "connection" handler instead.
  nsp.use((socket, next) => {
    const auth = socket.handshake.auth;
    recordHandshake(nsp.name, auth, false);
    next(authError(auth) ?? undefined);
  });

  nsp.on("connection", (socket) => {
    if (socket.recovered) {
      stats.recovered++;
      recordHandshake(nsp.name, socket.handshake.auth, true);
    }
    // One dispatcher for every event; no socket.on() handlers, so nothing runs twice.
    socket.onAny((event, ...args) => handleEvent(socket, event, args));
  });
}

/** Handles one client event. `args` still holds the ack callback last when one was asked for. */
function handleEvent(socket, event, args) {
  const ack = typeof args.at(-1) === "function" ? args.pop() : null;

  const id = outboxMessageId(args);
  if (id !== null) {
    const { reply, delayMs } = outbox.receive({
      id,
      event,
      payload: args[0],
      token: socket.handshake.auth?.token,
    });
    if (reply !== null && ack !== null) {
      // A late ack for a socket that has gone is dropped by socket.io, as in production.
      if (delayMs > 0) setTimeout(() => ack(reply), delayMs);
      else ack(reply);
    }
    return;
  }

  const subscription = parseSubscription(event);
  if (subscription) {
    const [action, channel] = subscription;
    const room = roomFor(channel, args[0]);
    const perNsp = stats.perNamespace[socket.nsp.name];
    if (action === "subscribe") {
      socket.join(room);
      bump(stats.joins, room);
      bump(perNsp.joins, room);
    } else {
      socket.leave(room);
      bump(stats.leaves, room);
      bump(perNsp.leaves, room);
    }
    ack?.({ ok: true, room });
    return;
  }

  switch (event) {
    case "echo":
      // Acks with every argument it received (normally just the one payload).
      ack?.(...args);
      return;
    case "order:ack-me":
      ack?.({ ok: true, orderId: args[0]?.orderId });
      return;
    case "slow:no-ack":
      // Deliberately never acknowledged: the client's ack timeout must fire.
      return;
    case "bench:start":
      startBench(socket, args[0], ack);
      return;
    default:
      pushBounded(stats.received, { nsp: socket.nsp.name, event, args, ack: ack !== null });
  }
}

/**
 * bench:start {n}: acks {started:true}, then sends n order:status_update events to this socket
 * only, then bench:done {n}. With connection state recovery on, every emit also goes through the
 * adapter's packet store (and carries an offset), exactly as in production.
 */
function startBench(socket, params, ack) {
  const n = Number(params?.n);
  if (!Number.isInteger(n) || n < 0) {
    ack?.({ started: false, error: "n must be a non-negative integer" });
    return;
  }
  ack?.({ started: true });
  runBench(
    n,
    (seq, clock) => socket.emit("order:status_update", benchPayload(seq, clock)),
    () => socket.connected,
  ).then((sent) => {
    if (sent === n && socket.connected) socket.emit("bench:done", { n });
  });
}

// ---------------------------------------------------------------------------------------------
// Control API helpers
// ---------------------------------------------------------------------------------------------

/** The namespace named by ?nsp= (default "/"). */
function namespaceParam(params) {
  const name = params.get("nsp") ?? "/";
  if (!NAMESPACE_NAMES.includes(name)) {
    throw new BadRequest(`unknown namespace "${name}" (known: ${NAMESPACE_NAMES.join(", ")})`);
  }
  return io.of(name);
}

/** Connected Socket.IO sockets of the namespaces in `list` (default: all namespaces). */
function socketsOf(list = namespaces) {
  return list.flatMap((nsp) => [...nsp.sockets.values()]);
}

/** Engine.IO connections (one per client connection, shared by its namespaces). */
function engineConnections() {
  return Object.values(io.engine.clients);
}

/**
 * Removes the persisted session of `socket` from its namespace adapter so that a reconnect with
 * its pid/offset is NOT recovered (the server then creates a new socket with a new sid, runs the
 * middleware, and `socket.recovered` is false on both sides).
 *
 * socket.io-adapter's SessionAwareAdapter (used automatically when connectionStateRecovery is
 * set) stores a disconnected session with `persistSession()` into `this.sessions`, a Map keyed
 * by the private session id `socket.pid`; `restoreSession(pid, offset)` returns null when the
 * pid is not in that Map. Socket#_onclose calls persistSession() before emitting "disconnect",
 * so deleting in a "disconnect" listener always runs after the session has been stored.
 */
function forgetSession(socket) {
  const sessions = socket.nsp.adapter.sessions;
  if (!(sessions instanceof Map)) {
    throw new Error("adapter has no sessions Map: socket.io-adapter internals changed");
  }
  sessions.delete(socket.pid);
}

/**
 * Closes every client connection without a Socket.IO DISCONNECT, the way a network failure
 * would, so that the client reconnects on its own.
 *
 *   how = "close" (default): engine.io `conn.close(true)`: the server closes the WebSocket with
 *         a close frame (no status code: the browser sees 1005) and the socket's disconnect
 *         reason is "forced close". Packets still waiting in engine.io's write buffer are
 *         discarded (they stay in the recovery store and are replayed on recovery).
 *   how = "terminate": destroys the TCP connection under the WebSocket (the browser sees 1006);
 *         disconnect reason "transport close". Polling connections fall back to "close".
 *
 * Both reasons are in socket.io's RECOVERABLE_DISCONNECT_REASONS, so the session is persisted
 * and a reconnect within maxDisconnectionDuration is recovered, unless `forget` is set.
 */
function dropAll({ forget = false, how = "close" } = {}) {
  const sockets = socketsOf();
  if (forget) {
    for (const socket of sockets) socket.once("disconnect", () => forgetSession(socket));
  }
  const connections = engineConnections();
  for (const conn of connections) {
    if (how === "terminate" && conn.transport.name === "websocket") {
      conn.transport.socket.terminate();
    } else {
      conn.close(true);
    }
  }
  return { dropped: sockets.length, connections: connections.length };
}

function dropOptions(params) {
  const how = params.get("how") ?? "close";
  if (how !== "close" && how !== "terminate") {
    throw new BadRequest('how must be "close" or "terminate"');
  }
  return { forget: params.get("forget") === "1", how };
}

// ---------------------------------------------------------------------------------------------
// Control API routes
// ---------------------------------------------------------------------------------------------

function buildRoutes() {
  return {
    // /control/emit?event=E[&data=<JSON>|&args=<JSON array>][&room=R][&count=N][&nsp=/]
    //   Emits E to room R of the namespace (every socket of it without room), N times
    //   (default 1). `data` is one argument; `args` spreads several; neither: no argument.
    //   The emits are broadcasts, so they are stored for connection state recovery.
    "/control/emit": (params) => {
      const event = params.get("event");
      if (!event) throw new BadRequest("event is required");
      const nsp = namespaceParam(params);
      const args = emitArgs(params);
      const count = intParam(params, "count", 1);
      const room = params.get("room");
      for (let i = 0; i < count; i++) {
        (room ? nsp.to(room) : nsp).emit(event, ...args);
      }
      return { sent: count };
    },

    // /control/drop[?forget=1][&how=close|terminate]
    //   Drops every connection; recoverable unless forget=1. See dropAll().
    "/control/drop": (params) => dropAll(dropOptions(params)),

    // /control/mute[?ms=10000]
    //   Every current connection goes silent without closing, as a dead peer behind a live
    //   TCP connection would: no pings, no packets out, nothing read in, and the server does not
    //   time it out. After `ms` they are terminated (the test's cleanup). New connections work.
    "/control/mute": (params) => {
      const connections = engineConnections();
      for (const conn of connections) {
        clearTimeout(conn.pingIntervalTimer);
        clearTimeout(conn.pingTimeoutTimer);
        conn.schedulePing = () => {};
        conn.resetPingTimeout = () => {};
        conn.sendPacket = () => {};
        if (conn.transport.name === "websocket") conn.transport.socket._socket.pause();
      }
      setTimeout(() => {
        for (const conn of connections) {
          if (conn.transport.name === "websocket") conn.transport.socket.terminate();
          else conn.close(true);
        }
      }, intParam(params, "ms", 10_000)).unref();
      return { muted: connections.length };
    },

    // /control/kick[?nsp=/admin]
    //   socket.disconnect(true) for every socket (of one namespace if nsp is given): a server
    //   side disconnect ("io server disconnect" on the client, which does not reconnect).
    "/control/kick": (params) => {
      const sockets = params.has("nsp") ? socketsOf([namespaceParam(params)]) : socketsOf();
      for (const socket of sockets) socket.disconnect(true);
      return { kicked: sockets.length };
    },

    // /control/raw?frame=<text>  |  /control/raw?binary=1
    //   Writes the exact text frame (or a 3-byte binary frame 01 02 03) to every client's raw
    //   WebSocket, bypassing engine.io and socket.io encoders. Polling clients are skipped.
    "/control/raw": (params) => {
      const frame = params.get("frame");
      const binary = params.get("binary") === "1";
      if (frame === null && !binary) throw new BadRequest("frame or binary=1 is required");
      let sent = 0;
      for (const conn of engineConnections()) {
        if (conn.transport.name !== "websocket") continue;
        // engine.io's WebSocket transport keeps the `ws` WebSocket in `.socket`.
        const ws = conn.transport.socket;
        if (binary) ws.send(Buffer.from([1, 2, 3]), { binary: true });
        else ws.send(frame, { binary: false });
        sent++;
      }
      return { sent };
    },

    // /control/binary?event=E[&shape=nested][&nsp=/]
    //   socket.emit(E, Buffer.from([1, 2, 3])) to every socket: a BINARY_EVENT with one
    //   attachment, `451-["E",{"_placeholder":true,"num":0},"<offset>"]` + one binary frame.
    //   shape=nested: socket.emit(E, { id: "f1", image: <1,2,3>, parts: [<4,5>, { deep: <6> }] },
    //   "second") (three attachments, placeholders nested in objects and arrays, two arguments).
    "/control/binary": (params) => {
      const event = params.get("event");
      if (!event) throw new BadRequest("event is required");
      const sockets = socketsOf([namespaceParam(params)]);
      const nested = params.get("shape") === "nested";
      for (const socket of sockets) {
        if (nested) {
          const payload = { id: "f1", image: Buffer.from([1, 2, 3]), parts: [Buffer.from([4, 5]), { deep: Buffer.from([6]) }] };
          socket.emit(event, payload, "second");
        } else socket.emit(event, Buffer.from([1, 2, 3]));
      }
      return { sent: sockets.length };
    },

    // /control/ask?event=server:question[&data=<JSON>][&timeout=3000][&nsp=/]
    //   For every socket: socket.timeout(ms).emitWithAck(event, data) (default data
    //   {q:"eta?"}). Answers with the first value each client acked, or {error:"timeout"}.
    "/control/ask": async (params) => {
      const event = params.get("event") ?? "server:question";
      const data = jsonParam(params, "data", { q: "eta?" });
      const timeout = intParam(params, "timeout", 3000);
      const sockets = socketsOf([namespaceParam(params)]);
      const answers = await Promise.all(
        sockets.map((socket) =>
          socket
            .timeout(timeout)
            .emitWithAck(event, data)
            .catch(() => ({ error: "timeout" })),
        ),
      );
      return { answers };
    },

    // /control/stats
    "/control/stats": () => ({
      connections: socketsOf().length,
      namespaces: Object.fromEntries(
        namespaces.map((nsp) => [
          nsp.name,
          { connections: nsp.sockets.size, ...stats.perNamespace[nsp.name] },
        ]),
      ),
      engineConnections: io.engine.clientsCount,
      joins: stats.joins,
      leaves: stats.leaves,
      received: stats.received,
      tokens: stats.tokens,
      handshakes: stats.handshakes,
      recovered: stats.recovered,
      refusing: refusing(),
    }),

    // /control/reset: clears joins, leaves, received, tokens, handshakes, recovered.
    "/control/reset": () => {
      resetStats();
      return { reset: true };
    },

    // /control/stop?ms=N[&forget=1][&how=close|terminate]
    //   Drops every connection (like /control/drop) and refuses new handshakes for N ms
    //   (default 5000). Answers immediately. The control API stays available meanwhile.
    "/control/stop": (params) => {
      const ms = intParam(params, "ms", 5000);
      refuseUntil = Date.now() + ms;
      const { dropped } = dropAll(dropOptions(params));
      return { stopped: true, ms, dropped };
    },
  };
}

/** Arguments for /control/emit: `args` (JSON array), else `data` (one value), else none. */
function emitArgs(params) {
  const args = jsonParam(params, "args");
  if (args !== undefined) {
    if (!Array.isArray(args)) throw new BadRequest("args must be a JSON array");
    return args;
  }
  const data = jsonParam(params, "data");
  return data === undefined ? [] : [data];
}

// ---------------------------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------------------------

httpServer.listen(PORT, HOST, () => {
  console.log(`socketio-server listening on ${HOST}:${httpServer.address().port}`);
});

exitOnSignals("socketio-server", () => io.close());
