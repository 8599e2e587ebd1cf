// Plain JSON-over-WebSocket test server for wiresync, with an HTTP control API on the same port.
//
//   node tests/servers/json-server.mjs
//
// Environment:
//   JSON_PORT           port to listen on (default 39202; 0 picks a free port, printed on start)
//   JSON_PING_INTERVAL  ms between server {"type":"ping"} frames to connected clients
//                       (default 25000; 0 disables server pings)
//
// Prints `json-server listening on 127.0.0.1:PORT` once it accepts connections and exits 0 on
// SIGTERM/SIGINT. WebSocket connections are accepted on any path.
//
// Protocol: every frame is one JSON object.
//   client -> server  {"type":"connect","auth":{...}}    first frame; "auth" omitted when none
//   server -> client  {"type":"connected","sid":"..."}   accepted
//   server -> client  {"type":"connect_error","message":"invalid token",
//                      "data":{"code":"AUTH_REJECTED"}}  refused; the socket stays open and the
//                                                        client may send another connect
//   both              {"event":"name","data":<any>,"id":7}   an event; "id" asks for an ack
//   both              {"ack":7,"data":<any>}                 the ack of event 7
//   both              {"type":"ping"} / {"type":"pong"}      heartbeat: a ping is answered by a pong
//   server -> client  {"type":"disconnect"}                  the server ends the session
// Events that arrive before "connected" are ignored (counted in stats.ignored). A client that
// sends {"type":"disconnect"} itself ends its session (rooms left; the socket stays open).
// Unparseable or binary frames from a client are counted in stats.malformed and dropped.
//
// Events: subscribe:<channel>, unsubscribe:<channel>, echo, order:ack-me, slow:no-ack,
// bench:start (same semantics as socketio-server.mjs); others are recorded in stats.received.
//
// Control API (GET, JSON, CORS *); see the `routes` table below for parameters:
//   /control/emit /control/drop /control/kick /control/raw /control/ask /control/stats
//   /control/reset /control/stop

import http from "node:http";
import { randomBytes } from "node:crypto";
import { WebSocketServer, WebSocket } from "ws";
import {
  HOST,
  VALID_TOKENS,
  BadRequest,
  benchPayload,
  bump,
  controlHandler,
  envInt,
  exitOnSignals,
  intParam,
  jsonParam,
  parseSubscription,
  pushBounded,
  roomFor,
  runBench,
} from "./common.mjs";

const PORT = envInt("JSON_PORT", 39202);
const PING_INTERVAL = envInt("JSON_PING_INTERVAL", 25000);

// ---------------------------------------------------------------------------------------------
// Test-visible state
// ---------------------------------------------------------------------------------------------

/** Counters and logs returned by /control/stats and cleared by /control/reset. */
const stats = {
  joins: {}, // room -> number of subscribe:<channel> joins
  leaves: {}, // room -> number of unsubscribe:<channel> leaves
  received: [], // events without a dedicated handler: { event, data, id } (bounded)
  tokens: [], // auth.token of every connect frame, in order (null when absent)
  handshakes: [], // every connect frame's auth object, in order ({} when absent)
  pings: 0, // {"type":"ping"} frames received (each answered with a pong)
  pongs: 0, // {"type":"pong"} frames received (answers to server pings)
  ignored: 0, // event/ack frames received before "connected"
  malformed: 0, // frames that are binary, not JSON, not an object, or of no known shape
  clientDisconnects: 0, // {"type":"disconnect"} frames received from clients
};

function resetStats() {
  stats.joins = {};
  stats.leaves = {};
  stats.received = [];
  stats.tokens = [];
  stats.handshakes = [];
  stats.pings = 0;
  stats.pongs = 0;
  stats.ignored = 0;
  stats.malformed = 0;
  stats.clientDisconnects = 0;
}

/**
 * One WebSocket connection.
 *   sid        session id once a connect frame was accepted, otherwise null
 *   rooms      rooms joined via subscribe:<channel>
 *   pending    ack id -> resolve function, for /control/ask
 */
class Client {
  constructor(ws) {
    this.ws = ws;
    this.sid = null;
    this.rooms = new Set();
    this.pending = new Map();
    this.nextAckId = 0;
  }

  get connected() {
    return this.sid !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one JSON frame if the socket is still open. */
  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }
}

/** Every open WebSocket (connected or not yet). */
const clients = new Set();
/** room name -> clients in it */
const rooms = new Map();

function join(client, room) {
  client.rooms.add(room);
  if (!rooms.has(room)) rooms.set(room, new Set());
  rooms.get(room).add(client);
}

function leave(client, room) {
  client.rooms.delete(room);
  const members = rooms.get(room);
  members?.delete(client);
  if (members?.size === 0) rooms.delete(room);
}

const connectedClients = () => [...clients].filter((c) => c.connected);

/** While Date.now() < refuseUntil (set by /control/stop) WebSocket upgrades are refused. */
let refuseUntil = 0;
const refusing = () => Date.now() < refuseUntil;

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

const httpServer = http.createServer(controlHandler(buildRoutes()));
const wss = new WebSocketServer({ noServer: true });

httpServer.on("upgrade", (req, socket, head) => {
  if (refusing()) {
    // /control/stop: drop the TCP connection; the browser reports close code 1006.
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

wss.on("connection", (ws) => {
  const client = new Client(ws);
  clients.add(client);
  ws.on("message", (data, isBinary) => onFrame(client, data, isBinary));
  ws.on("error", () => {}); // a client vanishing mid-frame is normal in these tests
  ws.on("close", () => {
    clients.delete(client);
    endSession(client);
  });
});

/** Forgets the session of `client`: leaves its rooms and fails its pending asks. */
function endSession(client) {
  client.sid = null;
  for (const room of [...client.rooms]) leave(client, room);
  for (const resolve of client.pending.values()) resolve({ error: "disconnected" });
  client.pending.clear();
}

// Server-side heartbeat: connected clients must answer {"type":"ping"} with {"type":"pong"}.
// Missing pongs are only counted (stats.pongs), never punished.
const pingTimer =
  PING_INTERVAL > 0
    ? setInterval(() => {
        for (const client of connectedClients()) client.send({ type: "ping" });
      }, PING_INTERVAL)
    : null;

// ---------------------------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------------------------

function onFrame(client, data, isBinary) {
  let frame;
  try {
    frame = isBinary ? null : JSON.parse(data.toString());
  } catch {
    frame = null;
  }
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
    stats.malformed++;
    return;
  }

  switch (frame.type) {
    case "ping":
      stats.pings++;
      client.send({ type: "pong" });
      return;
    case "pong":
      stats.pongs++;
      return;
    case "connect":
      onConnect(client, frame.auth);
      return;
    case "disconnect":
      // Not part of the protocol table (server -> client only), but a client saying goodbye
      // is accepted: the session ends, the socket stays open until the client closes it.
      stats.clientDisconnects++;
      endSession(client);
      return;
  }

  if (!client.connected) {
    stats.ignored++;
    return;
  }

  if (typeof frame.ack === "number") {
    // The client's answer to a server event that asked for an ack (/control/ask).
    const resolve = client.pending.get(frame.ack);
    client.pending.delete(frame.ack);
    resolve?.(frame.data);
    return;
  }

  if (typeof frame.event === "string") {
    onEvent(client, frame.event, frame.data, frame.id);
    return;
  }

  stats.malformed++;
}

function onConnect(client, auth) {
  stats.tokens.push(auth?.token ?? null);
  stats.handshakes.push(auth ?? {});
  if (!VALID_TOKENS.has(auth?.token)) {
    client.sid = null;
    client.send({
      type: "connect_error",
      message: "invalid token",
      data: { code: "AUTH_REJECTED" },
    });
    return;
  }
  // A second accepted connect on the same socket keeps its session id.
  client.sid ??= randomBytes(12).toString("base64url");
  client.send({ type: "connected", sid: client.sid });
}

function onEvent(client, event, data, id) {
  const wantsAck = id !== undefined && id !== null;
  const ack = (value) => {
    if (wantsAck) client.send({ ack: id, data: value });
  };

  const subscription = parseSubscription(event);
  if (subscription) {
    const [action, channel] = subscription;
    const room = roomFor(channel, data);
    if (action === "subscribe") {
      join(client, room);
      bump(stats.joins, room);
    } else {
      leave(client, room);
      bump(stats.leaves, room);
    }
    ack({ ok: true, room });
    return;
  }

  switch (event) {
    case "echo":
      ack(data);
      return;
    case "order:ack-me":
      ack({ ok: true, orderId: data?.orderId });
      return;
    case "slow:no-ack":
      // Deliberately never acknowledged: the client's ack timeout must fire.
      return;
    case "bench:start":
      startBench(client, data, ack);
      return;
    default:
      pushBounded(stats.received, { event, data, id: wantsAck ? id : undefined });
  }
}

/** bench:start {n}: ack {started:true}, n order:status_update events, then bench:done {n}. */
function startBench(client, params, ack) {
  const n = Number(params?.n);
  if (!Number.isInteger(n) || n < 0) {
    ack({ started: false, error: "n must be a non-negative integer" });
    return;
  }
  ack({ started: true });
  runBench(
    n,
    (seq, clock) => client.send({ event: "order:status_update", data: benchPayload(seq, clock) }),
    () => client.connected,
  ).then((sent) => {
    if (sent === n) client.send({ event: "bench:done", data: { n } });
  });
}

// ---------------------------------------------------------------------------------------------
// Control API routes
// ---------------------------------------------------------------------------------------------

function buildRoutes() {
  return {
    // /control/emit?event=E[&data=<JSON>][&room=R][&count=N]
    //   Sends {"event":E,"data":...} N times (default 1) to the connected clients in room R, or
    //   to every connected client without room. "data" is left out when not given.
    "/control/emit": (params) => {
      const event = params.get("event");
      if (!event) throw new BadRequest("event is required");
      const data = jsonParam(params, "data");
      const count = intParam(params, "count", 1);
      const room = params.get("room");
      const targets = room
        ? [...(rooms.get(room) ?? [])].filter((c) => c.connected)
        : connectedClients();
      const text = JSON.stringify(data === undefined ? { event } : { event, data });
      for (let i = 0; i < count; i++) {
        for (const client of targets) client.ws.send(text);
      }
      return { sent: count };
    },

    // /control/drop: terminates every WebSocket (TCP destroyed, no close frame: 1006).
    "/control/drop": () => ({ dropped: terminateAll() }),

    // /control/kick: sends {"type":"disconnect"} to every socket, then closes it with 1000.
    "/control/kick": () => {
      const all = [...clients];
      for (const client of all) {
        client.send({ type: "disconnect" });
        client.ws.close(1000, "kicked");
      }
      return { kicked: all.length };
    },

    // /control/raw?frame=<text>  |  /control/raw?binary=1
    //   Sends the exact text (or a 3-byte binary frame 01 02 03) to every open socket.
    "/control/raw": (params) => {
      const frame = params.get("frame");
      const binary = params.get("binary") === "1";
      if (frame === null && !binary) throw new BadRequest("frame or binary=1 is required");
      const all = [...clients].filter((c) => c.ws.readyState === WebSocket.OPEN);
      for (const client of all) {
        if (binary) client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
        else client.ws.send(frame, { binary: false });
      }
      return { sent: all.length };
    },

    // /control/ask?event=server:question[&data=<JSON>][&timeout=3000]
    //   Sends {"event":E,"data":...,"id":k} to every connected client and waits for
    //   {"ack":k,"data":...}. Answers with each client's data, or {error:"timeout"}.
    "/control/ask": async (params) => {
      const event = params.get("event") ?? "server:question";
      const data = jsonParam(params, "data", { q: "eta?" });
      const timeout = intParam(params, "timeout", 3000);
      const answers = await Promise.all(connectedClients().map((c) => ask(c, event, data, timeout)));
      return { answers };
    },

    // /control/stats
    "/control/stats": () => ({
      connections: connectedClients().length,
      sockets: clients.size,
      rooms: Object.fromEntries([...rooms].map(([room, members]) => [room, members.size])),
      ...stats,
      refusing: refusing(),
    }),

    // /control/reset: clears every counter and log in stats.
    "/control/reset": () => {
      resetStats();
      return { reset: true };
    },

    // /control/stop?ms=N: terminates every socket and refuses WebSocket upgrades for N ms
    //   (default 5000). Answers immediately; the control API stays available meanwhile.
    "/control/stop": (params) => {
      const ms = intParam(params, "ms", 5000);
      refuseUntil = Date.now() + ms;
      return { stopped: true, ms, dropped: terminateAll() };
    },
  };
}

function terminateAll() {
  const all = [...clients];
  for (const client of all) client.ws.terminate();
  return all.length;
}

function ask(client, event, data, timeout) {
  return new Promise((resolve) => {
    const id = client.nextAckId++;
    const timer = setTimeout(() => {
      client.pending.delete(id);
      resolve({ error: "timeout" });
    }, timeout);
    client.pending.set(id, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
    client.send({ event, data, id });
  });
}

// ---------------------------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------------------------

httpServer.listen(PORT, HOST, () => {
  console.log(`json-server listening on ${HOST}:${httpServer.address().port}`);
});

exitOnSignals("json-server", async () => {
  if (pingTimer) clearInterval(pingTimer);
  terminateAll();
  await new Promise((resolve) => wss.close(() => httpServer.close(() => resolve())));
});
