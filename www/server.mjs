// wiresync demo server: serves the demo page and the built package, a small JSON API the page's
// query cache fetches from, and a real Socket.IO 4.8.4 server that simulates order tracking, a
// support chat and a leaderboard.
//
//   ./scripts/demo.sh            (sets up, builds pkg/, then runs this)
//   node www/server.mjs          (when pkg/ is already built)
//
// Environment:
//   DEMO_PORT   port on 127.0.0.1 (default 8080; 0 picks a free one). A busy port is an error.
//
// HTTP:
//   GET  /  /index.html  /app.js  /panels.js  /style.css   the demo page (from www/)
//   GET  /pkg/<file>                              the built package (from pkg/)
//   GET  /api/orders                              the orders list (the live one and two old ones)
//   GET  /api/orders/:id                          one order: status, message, ETA
//   GET  /api/orders/:id/location                 where its courier is (an order:location_update)
//   GET  /api/leaderboard?period=daily            the board (a leaderboard:update)
//   GET  /api/chats/:id/messages                  the chat so far (chat:message payloads)
//        (the API answers after ~150 ms, and 503 while the server is "down")
//   POST /demo/down   drops every connection (recoverably) and refuses new ones until /demo/up
//   POST /demo/up     accepts connections again
//   GET  /demo/state  {down, connections}
//
// Socket.IO (path /socket.io/, namespace "/"):
//   - auth: any non-empty string handshake.auth.token; otherwise CONNECT_ERROR
//     {message:"invalid token", data:{code:"AUTH_REJECTED"}}
//   - connectionStateRecovery (2 minutes): a client back within that time gets what it missed
//   - subscribe:order {orderId} (ack {ok:true, room}) joins room "order:<orderId>", which then
//     gets order:status_update (~3 s), order:location_update (~1 s) and order:eta_update (~3 s);
//     unsubscribe:order {orderId} leaves it
//   - subscribe:chat {chatId} joins room "chat:<chatId>" (unsubscribe:chat leaves it)
//   - chat:send_message {chatId, message, timestamp, clientMessageId} with an ack (the outbox's
//     contract): each clientMessageId is applied once; the message is stored, echoed to the
//     chat room as a chat:message (senderType "user", the client's timestamp), then acked
//     {ok:true}. The agent answers each message in turn: chat:typing true, ~1.2 s later a
//     chat:message from "Sam (support)", chat:typing false when nothing is left to answer.
//     A message containing "fail" is refused the first time ({ok:false, error}) and accepted
//     when sent again (the outbox's Retry). A photo comes as binary (`image: { name, type,
//     data: Buffer }`) and is echoed as an image attachment (a data: URL).
//   - leaderboard:update to everyone every ~5 s (and to each new connection at once)

import http from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WWW = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(WWW, "..");
const PKG = path.join(ROOT, "pkg");
const HOST = "127.0.0.1";

// socket.io comes from the test fixtures' node_modules (installed by ./scripts/setup.sh).
const require = createRequire(path.join(ROOT, "tests", "package.json"));
let Server;
try {
  ({ Server } = require("socket.io"));
} catch {
  fail("socket.io is not installed in tests/node_modules: run ./scripts/setup.sh first");
}

const PORT = parsePort(process.env.DEMO_PORT);

/** How long a disconnected session can be recovered, ms. */
const RECOVERY_MS = 2 * 60_000;
/** A simulated order keeps running this long after its room was last non-empty, ms. */
const ORDER_LINGER_MS = RECOVERY_MS;
/** At most this many orders are simulated at once (each subscribe may create one). */
const MAX_ORDERS = 100;

function fail(message) {
  console.error(`wiresync demo: ${message}`);
  process.exit(1);
}

function parsePort(raw) {
  if (raw === undefined || raw === "") return 8080;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`DEMO_PORT must be a port number (0-65535), not "${raw}"`);
  }
  return port;
}

const now = () => new Date().toISOString();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the JSON API takes to answer, ms. */
const API_LATENCY_MS = 150;

// ---------------------------------------------------------------------------------------------
// HTTP: static files and the demo controls
// ---------------------------------------------------------------------------------------------

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** The page's own files: URL path -> file in www/. Nothing else of www/ is served. */
const PAGE_FILES = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/panels.js": "panels.js",
  "/style.css": "style.css",
};

/** Set by POST /demo/down, cleared by POST /demo/up. */
let down = false;

function send(res, status, type, body) {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

const sendJson = (res, status, value) =>
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
const sendText = (res, status, text) => send(res, status, "text/plain; charset=utf-8", text);

async function sendFile(res, file) {
  let body;
  try {
    body = await readFile(file);
  } catch (e) {
    if (e.code === "ENOENT" || e.code === "EISDIR") {
      const hint = file.startsWith(PKG + path.sep) ? " (build the package: ./scripts/build.sh)" : "";
      return sendText(res, 404, `not found${hint}\n`);
    }
    throw e;
  }
  send(res, 200, TYPES[path.extname(file)] ?? "application/octet-stream", body);
}

/** The file under pkg/ for a /pkg/... URL path, or null when it would leave pkg/. */
function pkgFile(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.slice("/pkg/".length));
  } catch {
    return null;
  }
  const file = path.resolve(PKG, rel);
  return file.startsWith(PKG + path.sep) ? file : null;
}

// Registered before socket.io attaches: engine.io forwards every request outside /socket.io/
// to the listeners that were already there.
const httpServer = http.createServer(async (req, res) => {
  try {
    const { pathname } = new URL(req.url ?? "/", `http://${HOST}`);
    if (pathname === "/demo/down" || pathname === "/demo/up") {
      if (req.method !== "POST") return sendJson(res, 405, { error: "use POST" });
      req.resume();
      return sendJson(res, 200, pathname === "/demo/down" ? takeDown() : bringUp());
    }
    if (pathname === "/demo/state") {
      return sendJson(res, 200, { down, connections: io.of("/").sockets.size });
    }
    if (pathname.startsWith("/api/")) {
      if (req.method !== "GET") return sendJson(res, 405, { error: "use GET" });
      await sleep(API_LATENCY_MS); // long enough to see "fetching" in the cache inspector
      if (down) return sendJson(res, 503, { error: "server down (demo)" });
      const [status, body] = api(pathname, new URL(req.url ?? "/", `http://${HOST}`).searchParams);
      return sendJson(res, status, body);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "method not allowed\n");
    if (pathname === "/favicon.ico") {
      res.writeHead(204);
      return res.end();
    }
    if (Object.hasOwn(PAGE_FILES, pathname)) return await sendFile(res, path.join(WWW, PAGE_FILES[pathname]));
    if (pathname.startsWith("/pkg/")) {
      const file = pkgFile(pathname);
      return file ? await sendFile(res, file) : sendText(res, 404, "not found\n");
    }
    sendText(res, 404, "not found\n");
  } catch (e) {
    console.error("wiresync demo: request failed:", e);
    if (!res.headersSent) sendText(res, 500, "internal error\n");
    else res.destroy();
  }
});

/**
 * Drops every connection the way a network failure would (engine.io close without a Socket.IO
 * DISCONNECT: reason "forced close", which socket.io persists for recovery), and refuses new
 * handshakes until bringUp().
 */
function takeDown() {
  down = true;
  const connections = Object.values(io.engine.clients);
  for (const conn of connections) conn.close(true);
  console.log(`wiresync demo: server down (${connections.length} connection(s) dropped)`);
  return { down: true, dropped: connections.length };
}

function bringUp() {
  down = false;
  console.log("wiresync demo: server up");
  return { down: false };
}

// ---------------------------------------------------------------------------------------------
// JSON API: what the page's queryFns fetch (events then keep the cached copies current)
// ---------------------------------------------------------------------------------------------

/** [status, body] for GET `pathname`. */
function api(pathname, query) {
  const parts = pathname.split("/").slice(2).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return "";
    }
  });
  const [what, id, sub, more] = parts;
  if (what === "orders" && parts.length === 1) return [200, orderList()];
  if (what === "orders" && validId(id) && more === undefined) {
    const order = orders.get(id) ?? startOrder(id);
    if (!order) return [503, { error: "too many orders" }];
    if (sub === undefined) return [200, order.snapshot()];
    if (sub === "location") return [200, order.locationPayload()];
  }
  if (what === "leaderboard" && parts.length === 1) {
    const period = query.get("period") ?? "daily";
    return period === "daily" ? [200, leaderboard.snapshot()] : [404, { error: `no ${period} board` }];
  }
  if (what === "chats" && validId(id) && sub === "messages" && more === undefined) {
    return [200, chat.get(id).messages];
  }
  return [404, { error: "not found" }];
}

const validId = (id) => typeof id === "string" && id !== "" && id.length <= 64;

// ---------------------------------------------------------------------------------------------
// Socket.IO
// ---------------------------------------------------------------------------------------------

const io = new Server(httpServer, {
  path: "/socket.io/",
  serveClient: false,
  connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_MS, skipMiddlewares: true },
  // While "down", every new Engine.IO handshake (the WebSocket upgrade included) is refused.
  allowRequest: (_req, callback) => (down ? callback("server down (demo)", false) : callback(null, true)),
});

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (typeof token === "string" && token.length > 0) return next();
  const err = new Error("invalid token");
  err.data = { code: "AUTH_REJECTED" };
  next(err);
});

io.on("connection", (socket) => {
  console.log(`wiresync demo: ${socket.id} connected${socket.recovered ? " (recovered)" : ""}`);
  socket.on("disconnect", (reason) => console.log(`wiresync demo: ${socket.id} disconnected (${reason})`));

  // A fresh page gets the board at once instead of after up to 5 s.
  if (!socket.recovered) socket.emit("leaderboard:update", leaderboard.snapshot());

  socket.on("subscribe:order", (params, ack) => {
    const orderId = params?.orderId;
    if (!validId(orderId)) {
      return reply(ack, { ok: false, error: "orderId must be a non-empty string" });
    }
    const order = orders.get(orderId) ?? startOrder(orderId);
    if (!order) return reply(ack, { ok: false, error: "too many orders" });
    const room = `order:${orderId}`;
    socket.join(room);
    reply(ack, { ok: true, room });
    // The current state right away, to this socket only.
    socket.emit("order:status_update", order.statusPayload());
    socket.emit("order:eta_update", order.etaPayload());
    socket.emit("order:location_update", order.locationPayload());
  });

  socket.on("unsubscribe:order", (params, ack) => {
    const room = `order:${params?.orderId}`;
    socket.leave(room);
    reply(ack, { ok: true, room });
  });

  socket.on("subscribe:chat", (params, ack) => {
    if (!validId(params?.chatId)) return reply(ack, { ok: false, error: "chatId must be a non-empty string" });
    const room = `chat:${params.chatId}`;
    socket.join(room);
    reply(ack, { ok: true, room });
  });

  socket.on("unsubscribe:chat", (params, ack) => {
    const room = `chat:${params?.chatId}`;
    socket.leave(room);
    reply(ack, { ok: true, room });
  });

  socket.on("chat:send_message", (payload, ack) => chat.receive(payload).then((result) => reply(ack, result)));
  socket.on("chat:typing", () => {});
  socket.on("chat:read", () => {});
});

function reply(ack, value) {
  if (typeof ack === "function") ack(value);
}

// ---------------------------------------------------------------------------------------------
// Simulated orders
// ---------------------------------------------------------------------------------------------

const STATUSES = [
  { status: "confirmed", message: "The restaurant has confirmed your order." },
  { status: "preparing", message: "Your food is being prepared." },
  { status: "out_for_delivery", message: "Your courier is on the way." },
  { status: "delivered", message: "Delivered. Enjoy your meal!" },
];

// Courier route: restaurant -> customer (a short trip across central Lisbon).
const FROM = { latitude: 38.7139, longitude: -9.1394 };
const TO = { latitude: 38.7369, longitude: -9.1427 };
const TRIP_TICKS = 3; // location ticks (~1 s each) from pickup to the door while out_for_delivery
const PARTNER = { name: "Rui", phone: "+351 900 000 000", vehicle: "Scooter" };
const ITEMS = "2× Bifana, 1× Pastel de nata";
const TOTAL = "€11.40";

/** Older orders, for the list. */
const HISTORY = [
  { orderId: "ord_0998", items: "1× Francesinha", total: "€14.90", status: "delivered", placedAt: daysAgo(1) },
  { orderId: "ord_0977", items: "3× Pastel de nata", total: "€4.50", status: "delivered", placedAt: daysAgo(6) },
];

function daysAgo(n) {
  return new Date(Date.now() - n * 86_400_000).toISOString();
}

/** GET /api/orders: the simulated orders, newest first, then the old ones. */
function orderList() {
  const live = [...orders.values()].reverse().map((o) => ({
    orderId: o.orderId,
    items: ITEMS,
    total: TOTAL,
    status: STATUSES[o.step].status,
    placedAt: new Date(o.placedAt).toISOString(),
  }));
  return [...live, ...HISTORY];
}

/** orderId -> simulation */
const orders = new Map();

function startOrder(orderId) {
  if (orders.size >= MAX_ORDERS) return null;
  const room = `order:${orderId}`;
  const order = {
    orderId,
    step: 0, // index in STATUSES
    trip: 0, // 0..TRIP_TICKS while out_for_delivery
    delay: 0,
    lastSeen: Date.now(),
    placedAt: Date.now(),
    eta: Date.now() + 9 * 60_000,
    position() {
      const t = Math.min(1, this.step < 2 ? 0 : this.step > 2 ? 1 : this.trip / TRIP_TICKS);
      const wobble = this.step === 2 && t < 1 ? (Math.random() - 0.5) * 0.0004 : 0;
      return {
        latitude: round(FROM.latitude + (TO.latitude - FROM.latitude) * t + wobble),
        longitude: round(FROM.longitude + (TO.longitude - FROM.longitude) * t + wobble),
      };
    },
    /** GET /api/orders/:id */
    snapshot() {
      const s = STATUSES[this.step];
      return {
        orderId,
        items: ITEMS,
        total: TOTAL,
        status: s.status,
        message: s.message,
        estimatedArrival: this.step < 3 ? new Date(this.eta).toISOString() : null,
        delayMinutes: this.delay,
        updatedAt: now(),
      };
    },
    statusPayload() {
      const s = STATUSES[this.step];
      return {
        orderId,
        status: s.status,
        message: s.message,
        timestamp: now(),
        estimatedDelivery: this.step < 3 ? new Date(this.eta).toISOString() : null,
      };
    },
    locationPayload() {
      const p = this.position();
      const metres = Math.round(distance(p, TO));
      return {
        orderId,
        location: { ...p, address: this.step === 3 ? "Avenida da República 12" : null },
        distanceToDestination: metres,
        deliveryPartner: this.step >= 2 ? PARTNER : null,
        timestamp: now(),
      };
    },
    etaPayload() {
      return {
        orderId,
        estimatedArrival: new Date(this.eta).toISOString(),
        delayMinutes: this.delay,
        timestamp: now(),
      };
    },
  };
  orders.set(orderId, order);

  let ticks = 0;
  order.timer = setInterval(() => {
    // Keep running while someone is (or may come back to be, through recovery) in the room,
    // so a recovered client gets the updates it missed.
    if ((io.of("/").adapter.rooms.get(room)?.size ?? 0) > 0) order.lastSeen = Date.now();
    else if (Date.now() - order.lastSeen > ORDER_LINGER_MS) {
      clearInterval(order.timer);
      orders.delete(orderId);
      return;
    }
    ticks++;
    const to = io.to(room);
    if (order.step === 2) order.trip = Math.min(TRIP_TICKS, order.trip + 1);
    to.emit("order:location_update", order.locationPayload());
    if (ticks % 3 === 0) {
      order.step = (order.step + 1) % STATUSES.length;
      if (order.step === 0) {
        // Next order of the loop.
        order.trip = 0;
        order.delay = 0;
        order.placedAt = Date.now();
        order.eta = Date.now() + 9 * 60_000;
      } else if (order.step === 2) {
        order.trip = 0;
      }
      // Now and then the kitchen or the traffic adds a minute.
      if (order.step !== 3 && Math.random() < 0.3) {
        order.delay += 1;
        order.eta += 60_000;
      }
      to.emit("order:status_update", order.statusPayload());
      if (order.step !== 3) to.emit("order:eta_update", order.etaPayload());
    }
  }, 1000);
  return order;
}

const round = (x) => Math.round(x * 1e6) / 1e6;

/** Metres between two points (equirectangular; fine at city scale). */
function distance(a, b) {
  const rad = Math.PI / 180;
  const x = (b.longitude - a.longitude) * rad * Math.cos(((a.latitude + b.latitude) / 2) * rad);
  const y = (b.latitude - a.latitude) * rad;
  return Math.hypot(x, y) * 6_371_000;
}

// ---------------------------------------------------------------------------------------------
// Support chat
// ---------------------------------------------------------------------------------------------

const AGENT = { userId: "agent_1", userName: "Sam (support)" };
const USER = { userId: "user_1", userName: "You" };
/** Per chat, at most this many messages are kept; at most MAX_CHATS chats. */
const CHAT_HISTORY = 100;
const MAX_CHATS = 100;
/** How long the agent "types" each answer, ms. */
const ANSWER_MS = 1200;
/** How long storing one sent message takes, ms (one at a time per chat, so a queue that
 *  drains after a reconnect shows its progress). */
const STORE_MS = 250;
/** Largest photo stored (the client sends up to 512 KB; socket.io's own limit is 1 MB). */
const MAX_IMAGE_BYTES = 512 * 1024;
let messageSeq = 0;

const chat = {
  /** chatId -> { chatId, messages, applied and refused (sets of clientMessageId), queue (texts
   *  to answer), answering, stored (the promise of the last message stored) } */
  chats: new Map(),

  get(chatId) {
    let c = this.chats.get(chatId);
    if (!c) {
      if (this.chats.size >= MAX_CHATS) this.chats.delete(this.chats.keys().next().value);
      c = { chatId, messages: [], applied: new Set(), refused: new Set(), queue: [], answering: false, stored: Promise.resolve() };
      c.messages.push(this.message(c, AGENT, "Hi! I'm Sam from support. Ask me anything about order ord_1001."));
      this.chats.set(chatId, c);
    }
    return c;
  },

  message(c, who, text, timestamp = now(), messageId = `msg_${Date.now().toString(36)}_${++messageSeq}`) {
    return {
      messageId,
      chatId: c.chatId,
      senderId: who.userId,
      senderName: who.userName,
      senderType: who === AGENT ? "agent" : "user",
      text,
      timestamp,
    };
  },

  /** chat:send_message: resolves with the ack once the message is stored. Messages of one chat
   *  are stored one at a time, in the order they arrive. */
  receive(payload) {
    const chatId = validId(payload?.chatId) ? payload.chatId : null;
    if (!chatId) return Promise.resolve({ ok: false, error: "chatId must be a non-empty string" });
    const c = this.get(chatId);
    const result = c.stored.then(() => sleep(STORE_MS)).then(() => this.apply(c, payload));
    c.stored = result;
    return result;
  },

  /** Stores one message and returns the ack. Each clientMessageId is applied once; a resend of
   *  an applied one (its ack was lost) is acked and echoed again (clients dedupe by messageId). */
  apply(c, payload) {
    const chatId = c.chatId;
    const text = typeof payload?.message === "string" ? payload.message.trim().slice(0, 500) : "";
    if (!text) return { ok: false, error: "the message is empty" };
    const id = typeof payload.clientMessageId === "string" ? payload.clientMessageId.slice(0, 64) : null;
    const messageId = id ? `msg_user_${id}` : undefined;
    if (id && c.applied.has(id)) {
      const stored = c.messages.find((m) => m.messageId === messageId);
      if (stored) io.to(`chat:${chatId}`).emit("chat:message", stored);
      return { ok: true, duplicate: true };
    }
    if (id && /fail/i.test(text) && !c.refused.has(id)) {
      c.refused.add(id);
      return { ok: false, error: 'refused by the demo server: a message with "fail" in it is refused once (Retry sends it again)' };
    }
    if (id) {
      c.applied.add(id);
      c.refused.delete(id);
      if (c.applied.size > 10 * CHAT_HISTORY) c.applied.delete(c.applied.values().next().value);
    }
    const timestamp = typeof payload.timestamp === "string" && !Number.isNaN(Date.parse(payload.timestamp)) ? payload.timestamp : now();
    const stored = this.message(c, USER, text, timestamp, messageId);
    // A photo arrives as binary (a Buffer); it goes back to the chat as a data: URL attachment.
    const image = payload.image;
    if (Buffer.isBuffer(image?.data) && image.data.length <= MAX_IMAGE_BYTES) {
      const type = /^image\/[\w.+-]+$/.test(image.type ?? "") ? image.type : "application/octet-stream";
      const name = typeof image.name === "string" ? image.name.slice(0, 100) : "photo";
      stored.attachments = [{ type: "image", url: `data:${type};base64,${image.data.toString("base64")}`, name }];
    }
    this.push(c, stored);
    // Sent through the chat's room: a broadcast is kept in the recovery store, so a client that
    // drops in the meantime and comes back recovered still gets it.
    io.to(`chat:${chatId}`).emit("chat:message", stored);
    c.queue.push(text);
    this.answerNext(c);
    return { ok: true };
  },

  push(c, message) {
    c.messages.push(message);
    if (c.messages.length > CHAT_HISTORY) c.messages.splice(0, c.messages.length - CHAT_HISTORY);
  },

  /** The agent answers queued messages one at a time, typing while there is something left. */
  answerNext(c) {
    if (c.answering) return;
    const room = io.to(`chat:${c.chatId}`);
    const typing = (isTyping) => ({ chatId: c.chatId, ...AGENT, isTyping, timestamp: now() });
    if (c.queue.length === 0) {
      room.emit("chat:typing", typing(false));
      return;
    }
    c.answering = true;
    room.emit("chat:typing", typing(true));
    setTimeout(() => {
      c.answering = false;
      const reply = this.message(c, AGENT, answer(c.queue.shift()));
      this.push(c, reply);
      io.to(`chat:${c.chatId}`).emit("chat:message", reply);
      this.answerNext(c);
    }, ANSWER_MS);
  },
};

function answer(text) {
  const t = text.toLowerCase();
  if (/\b(where|late|eta|when|long)\b/.test(t)) {
    return "Your courier is on the way; the tracking card above shows live position and ETA.";
  }
  if (/\b(cancel|refund)\b/.test(t)) {
    return "I can help with that. Once the order is delivered I'll issue a refund if anything is wrong.";
  }
  if (/\b(hi|hello|hey)\b/.test(t)) return "Hi! I'm Sam from support. How can I help with order ord_1001?";
  if (/\b(thanks|thank you|thx)\b/.test(t)) return "You're welcome! Anything else?";
  return `Got it: "${text.length > 80 ? `${text.slice(0, 77)}...` : text}". Let me check that for you.`;
}

// ---------------------------------------------------------------------------------------------
// Leaderboard
// ---------------------------------------------------------------------------------------------

const leaderboard = {
  players: [
    { userId: "u_ada", fullName: "Ada Lovelace", coins: 1840, achievements: 12 },
    { userId: "u_alan", fullName: "Alan Turing", coins: 1795, achievements: 11 },
    { userId: "u_grace", fullName: "Grace Hopper", coins: 1710, achievements: 10 },
    { userId: "u_linus", fullName: "Linus Torvalds", coins: 1630, achievements: 9 },
    { userId: "u_margaret", fullName: "Margaret Hamilton", coins: 1585, achievements: 9 },
  ],
  tick() {
    for (const p of this.players) {
      const gain = Math.floor(Math.random() * 60);
      p.coins += gain;
      if (gain > 50) p.achievements += 1;
    }
  },
  snapshot() {
    const tier = (coins) => (coins >= 2000 ? "diamond" : coins >= 1800 ? "gold" : coins >= 1650 ? "silver" : "bronze");
    const entries = [...this.players]
      .sort((a, b) => b.coins - a.coins)
      .map((p, i) => ({ rank: i + 1, ...p, tier: tier(p.coins) }));
    return { period: "daily", entries, timestamp: now() };
  },
};

const boardTimer = setInterval(() => {
  leaderboard.tick();
  io.emit("leaderboard:update", leaderboard.snapshot());
}, 5000);

// ---------------------------------------------------------------------------------------------
// Start / stop
// ---------------------------------------------------------------------------------------------

httpServer.on("error", (e) => {
  if (e.code === "EADDRINUSE") {
    fail(`port ${PORT} on ${HOST} is already in use; stop whatever uses it or pick another port, e.g. DEMO_PORT=8081`);
  }
  fail(`cannot listen on ${HOST}:${PORT}: ${e.message}`);
});

httpServer.listen(PORT, HOST, () => {
  console.log(`wiresync demo: http://${HOST}:${httpServer.address().port}/`);
});

function shutdown() {
  clearInterval(boardTimer);
  for (const order of orders.values()) clearInterval(order.timer);
  io.close();
  httpServer.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
