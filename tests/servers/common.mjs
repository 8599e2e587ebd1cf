// Helpers shared by the wiresync test servers (socketio-server.mjs and json-server.mjs).
//
// Both servers expose the same style of control API: plain GET requests under /control/...,
// JSON responses, `Access-Control-Allow-Origin: *` so a page served from another origin
// (the Playwright test page) can drive them with fetch().

/** Host every test server binds to. Never expose these fixtures beyond loopback. */
export const HOST = "127.0.0.1";

/** Tokens the auth check accepts; anything else is refused with AUTH_REJECTED. */
export const VALID_TOKENS = new Set(["good", "alice", "bob"]);

/** The test servers' auth rule: `null` when `auth.token` is a valid token, else the error their
 *  middleware refuses the CONNECT with (`{"message":"invalid token","data":{"code":"AUTH_REJECTED"}}`). */
export function authError(auth) {
  if (VALID_TOKENS.has(auth?.token)) return null;
  const err = new Error("invalid token");
  err.data = { code: "AUTH_REJECTED" };
  return err;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 25 ms until it returns a truthy value (the selfchecks' wait). */
export async function until(predicate, what, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(25);
  }
}

/** Upper bound on stats.received so a chatty test cannot grow the server without limit. */
export const MAX_RECEIVED = 10_000;

/** Upper bound on the outbox and HTTP `applied` lists (deduplication itself is not bounded). */
export const MAX_APPLIED = 20_000;

/** Events per batch in bench:start before yielding to the event loop with setImmediate. */
export const BENCH_BATCH = 500;

/** Reads an integer from the environment, falling back to `fallback` when unset or invalid. */
export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : fallback;
}

/** Writes a JSON response with the CORS header the browser tests need. */
export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "no-store",
  });
  res.end(text);
}

/** Error type for a bad control request; turned into a 400 response by handleControl(). */
export class BadRequest extends Error {}

/**
 * Parses a query parameter holding URL-encoded JSON. Returns `fallback` when the parameter is
 * absent and throws BadRequest when it is not valid JSON.
 */
export function jsonParam(params, name, fallback = undefined) {
  const raw = params.get(name);
  if (raw === null) return fallback;
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadRequest(`query parameter "${name}" is not valid JSON`);
  }
}

/** Parses a non-negative integer query parameter (e.g. count, ms). */
export function intParam(params, name, fallback) {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new BadRequest(`query parameter "${name}" must be a non-negative integer`);
  }
  return value;
}

/**
 * Builds the HTTP request listener for the control API.
 *
 * `routes` maps a path such as "/control/stats" to `(params: URLSearchParams) => body`
 * (sync or async). Unknown paths answer 404, a BadRequest 400, anything else thrown 500.
 */
export function controlHandler(routes) {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    if (req.method === "OPTIONS") {
      // Not needed for simple GETs, but harmless and keeps odd clients happy.
      res.writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": "*",
      });
      res.end();
      return;
    }
    const route = routes[url.pathname];
    if (!route) {
      sendJson(res, 404, { error: `no such endpoint: ${url.pathname}` });
      return;
    }
    try {
      sendJson(res, 200, await route(url.searchParams));
    } catch (err) {
      if (err instanceof BadRequest) {
        sendJson(res, 400, { error: err.message });
      } else {
        console.error(`control ${url.pathname} failed:`, err);
        sendJson(res, 500, { error: String(err?.message ?? err) });
      }
    }
  };
}

/**
 * Room for `subscribe:<channel>` / `unsubscribe:<channel>`:
 * `<channel>:<first string-or-number value of params>`, or `<channel>:all` when there is none.
 *
 *   roomFor("order", { orderId: "123" }) === "order:123"
 *   roomFor("order", undefined)          === "order:all"
 *   roomFor("order", "42")               === "order:42"   (a bare scalar is used as is)
 */
export function roomFor(channel, params) {
  let key;
  if (typeof params === "string" || typeof params === "number") {
    key = params;
  } else if (params !== null && typeof params === "object" && !Array.isArray(params)) {
    key = Object.values(params).find((v) => typeof v === "string" || typeof v === "number");
  }
  return `${channel}:${key ?? "all"}`;
}

/** Splits "subscribe:order" into ["subscribe", "order"]; returns null for other events. */
export function parseSubscription(event) {
  const match = /^(subscribe|unsubscribe):(.+)$/.exec(event);
  return match ? [match[1], match[2]] : null;
}

/**
 * Payload of one benchmark `order:status_update` event (~200 bytes of JSON).
 * `now` is passed in so a batch computes its timestamps once.
 */
export function benchPayload(seq, now) {
  return {
    orderId: `ord_${seq}`,
    status: "out_for_delivery",
    message: "Your order is on its way to you now",
    timestamp: now.timestamp,
    estimatedDelivery: now.estimatedDelivery,
    seq,
  };
}

/** Timestamps shared by one batch of bench events. */
export function benchClock() {
  const now = Date.now();
  return {
    timestamp: new Date(now).toISOString(),
    estimatedDelivery: new Date(now + 30 * 60 * 1000).toISOString(),
  };
}

/**
 * Calls `emitOne(seq, clock)` for seq = 0..n-1 in batches of BENCH_BATCH, yielding to the
 * event loop between batches (so pings, control requests and other sockets keep being served).
 * Stops early when `isAlive()` turns false. Resolves with the number of events emitted.
 */
export function runBench(n, emitOne, isAlive) {
  return new Promise((resolve) => {
    let seq = 0;
    const batch = () => {
      if (!isAlive()) return resolve(seq);
      const clock = benchClock();
      const end = Math.min(n, seq + BENCH_BATCH);
      for (; seq < end; seq++) emitOne(seq, clock);
      if (seq >= n) return resolve(seq);
      setImmediate(batch);
    };
    batch();
  });
}

/** Pushes to a bounded list, dropping the oldest entries beyond `max` (default MAX_RECEIVED). */
export function pushBounded(list, entry, max = MAX_RECEIVED) {
  list.push(entry);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Increments counter[key]. */
export function bump(counter, key) {
  counter[key] = (counter[key] ?? 0) + 1;
}

/**
 * Installs SIGTERM/SIGINT handlers that run `close()` and exit 0 (or exit 1 if closing hangs
 * for more than two seconds).
 */
export function exitOnSignals(name, close) {
  let closing = false;
  const onSignal = (signal) => {
    if (closing) return;
    closing = true;
    console.log(`${name}: ${signal}, shutting down`);
    setTimeout(() => process.exit(1), 2000).unref();
    Promise.resolve()
      .then(close)
      .then(
        () => process.exit(0),
        (err) => {
          console.error(`${name}: error while closing`, err);
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

// ---------------------------------------------------------------------------------------------
// Durable outbox fixtures: deduplicating receivers for client message ids (socket events) and
// idempotency keys (HTTP mutations), with knobs to drop, delay or reject acknowledgements.
// ---------------------------------------------------------------------------------------------

/**
 * The `clientMessageId` of an outbox message: the first event argument is a plain object with a
 * string field `clientMessageId`. Returns null for every other event.
 */
export function outboxMessageId(args) {
  const first = args[0];
  if (first === null || typeof first !== "object" || Array.isArray(first)) return null;
  return typeof first.clientMessageId === "string" ? first.clientMessageId : null;
}

/** Sum over every id (or key) of its receipts beyond the first. */
function extraReceipts(receipts) {
  let n = 0;
  for (const count of Object.values(receipts)) n += Math.max(0, count - 1);
  return n;
}

/**
 * Ledger of outbox messages received over a socket (protocol independent).
 *
 *   receive({ id, event, payload, token }) -> { reply, delayMs }
 *
 * Every receipt is counted in receipts[id]. Then, in this order:
 *   1. a rejection is armed (/control/outbox/reject): the message is NOT applied and the reply
 *      is { ok: false, error: code };
 *   2. otherwise the message is applied unless its id already was (each id is applied once,
 *      appended to `applied` as { id, event, payload, token, at });
 *   3. an ack drop is armed (/control/outbox/drop-acks): reply is null (send no ack) and
 *      droppedAcks grows; otherwise the reply is { ok: true, id }.
 * `delayMs` is the armed ack delay (/control/outbox/ack-delay); the caller sends the reply (if
 * the client asked for an ack) after that many ms, at once when it is 0.
 */
export function createOutboxLedger() {
  let state;
  const reset = () => {
    state = {
      applied: [],
      appliedIds: new Set(),
      receipts: {},
      rejected: [],
      droppedAcks: 0,
      dropAcks: 0,
      reject: { n: 0, code: "REJECTED" },
      ackDelayMs: 0,
    };
  };
  reset();

  const receive = ({ id, event, payload, token }) => {
    const at = Date.now();
    bump(state.receipts, id);
    let reply;
    if (state.reject.n > 0) {
      state.reject.n--;
      pushBounded(state.rejected, { id, event, error: state.reject.code, at }, MAX_APPLIED);
      reply = { ok: false, error: state.reject.code };
    } else {
      if (!state.appliedIds.has(id)) {
        state.appliedIds.add(id);
        pushBounded(state.applied, { id, event, payload, token: token ?? null, at }, MAX_APPLIED);
      }
      if (state.dropAcks > 0) {
        state.dropAcks--;
        state.droppedAcks++;
        reply = null;
      } else {
        reply = { ok: true, id };
      }
    }
    return { reply, delayMs: state.ackDelayMs };
  };

  const routes = {
    // /control/outbox/stats
    //   { applied, receipts, duplicates, droppedAcks, rejected, armed }
    //   applied: [{ id, event, payload, token, at }] in order, each id once (last MAX_APPLIED)
    //   receipts: { id: times received } (rejected and re-sent receipts included)
    //   duplicates: receipts beyond the first, summed over ids
    //   droppedAcks: acks withheld by drop-acks so far
    //   rejected: [{ id, event, error, at }] messages answered { ok: false } by reject
    //   armed: { dropAcks, reject: { n, code }, ackDelayMs } still pending
    "/control/outbox/stats": () => ({
      applied: state.applied,
      receipts: state.receipts,
      duplicates: extraReceipts(state.receipts),
      droppedAcks: state.droppedAcks,
      rejected: state.rejected,
      armed: { dropAcks: state.dropAcks, reject: { ...state.reject }, ackDelayMs: state.ackDelayMs },
    }),

    // /control/outbox/reset: clears the ledger and disarms drop-acks, reject and ack-delay.
    "/control/outbox/reset": () => {
      reset();
      return { reset: true };
    },

    // /control/outbox/drop-acks?n=N (default 1; replaces any count still armed; 0 disarms)
    //   The next N outbox messages are applied (or counted as re-received) but not acked.
    "/control/outbox/drop-acks": (params) => {
      state.dropAcks = intParam(params, "n", 1);
      return { dropAcks: state.dropAcks };
    },

    // /control/outbox/ack-delay?ms=M (default 0 = at once): every later outbox ack waits M ms.
    "/control/outbox/ack-delay": (params) => {
      state.ackDelayMs = intParam(params, "ms", 0);
      return { ackDelayMs: state.ackDelayMs };
    },

    // /control/outbox/reject?n=N&code=C (defaults 1, "REJECTED"; replaces any armed rejection)
    //   The next N outbox messages are acked { ok: false, error: C } and not applied.
    "/control/outbox/reject": (params) => {
      state.reject = { n: intParam(params, "n", 1), code: params.get("code") || "REJECTED" };
      return { reject: { ...state.reject } };
    },
  };

  return { receive, routes };
}

/** Largest HTTP mutation body accepted (bigger ones answer 413 and are not applied). */
const MAX_API_BODY = 1024 * 1024;

const API_ALLOWED_HEADERS = ["content-type", "idempotency-key", "authorization"];

/** Reads a request body as UTF-8 text; resolves null when it is larger than `max` bytes. */
function readBody(req, max) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > max) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

/** Parses one /control/http/plan entry: "503" or "429:2" (status, Retry-After seconds). */
function parsePlannedStatus(text) {
  const match = /^(\d{1,3})(?::(\d+))?$/.exec(text.trim());
  const status = match ? Number(match[1]) : NaN;
  if (!match || !(status === 0 || (status >= 200 && status <= 599))) {
    throw new BadRequest(`bad status "${text}": use 0 (network error) or 200..599, optionally :retryAfterSeconds`);
  }
  return { status, retryAfter: match[2] === undefined ? null : Number(match[2]) };
}

/**
 * Receiver of the client's replayed HTTP mutations (`enqueueRequest`), deduplicating on the
 * Idempotency-Key header.
 *
 *   handle(req, res)  for every request under /api/ (any method; OPTIONS is the CORS preflight)
 *   routes            /control/http/plan, /control/http/stats, /control/http/reset
 *
 * A request takes the next planned status (FIFO), 200 when none is planned:
 *   0     the socket is destroyed without an answer (a network error for fetch);
 *   2xx   applied unless its key already was: { key, method, path, body, authorization, at }
 *         appended to `applied`; answers { ok: true, key }, or { ok: true, duplicate: true, key }
 *         for an already-applied key (with the planned status, 200 by default);
 *   other answers that status with { ok: false }; nothing applied.
 * Requests without an Idempotency-Key are never deduplicated (key null).
 */
export function createHttpMutations() {
  let state;
  const reset = () => {
    state = { received: 0, applied: [], appliedKeys: new Set(), keys: {}, requests: [], plan: [] };
  };
  reset();

  const cors = (extra = {}) => ({
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Retry-After",
    "Cache-Control": "no-store",
    ...extra,
  });

  const answer = (res, status, body, extraHeaders = {}) => {
    if (status === 204 || status === 304) {
      // No body allowed.
      res.writeHead(status, cors(extraHeaders));
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, cors({
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      ...extraHeaders,
    }));
    res.end(text);
  };

  const handle = async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    if (req.method === "OPTIONS") {
      // Headers the page asks for beyond the usual ones are allowed too, so a test with a custom
      // header fails on the server's answer, not on CORS.
      const asked = (req.headers["access-control-request-headers"] ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h && !API_ALLOWED_HEADERS.includes(h));
      res.writeHead(204, cors({
        "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
        "Access-Control-Allow-Headers": [...API_ALLOWED_HEADERS, ...asked].join(", "),
        "Access-Control-Max-Age": "600",
      }));
      res.end();
      return;
    }

    const body = await readBody(req, MAX_API_BODY);
    const key = req.headers["idempotency-key"] ?? null;
    const authorization = req.headers.authorization ?? null;
    const planned = state.plan.shift() ?? { status: 200, retryAfter: null };
    const { status } = planned;
    state.received++;
    if (key !== null) bump(state.keys, key);
    const record = { key, method: req.method, path: url.pathname, status, at: Date.now() };
    pushBounded(state.requests, record, MAX_APPLIED);

    if (status === 0) {
      req.socket.destroy();
      return;
    }
    if (body === null) {
      record.status = 413;
      answer(res, 413, { ok: false, error: "body too large" });
      return;
    }
    const headers = planned.retryAfter === null ? {} : { "Retry-After": String(planned.retryAfter) };
    if (status < 200 || status > 299) {
      answer(res, status, { ok: false }, headers);
      return;
    }
    if (key !== null && state.appliedKeys.has(key)) {
      answer(res, status, { ok: true, duplicate: true, key }, headers);
      return;
    }
    if (key !== null) state.appliedKeys.add(key);
    pushBounded(
      state.applied,
      { key, method: req.method, path: url.pathname, body, authorization, at: record.at },
      MAX_APPLIED,
    );
    answer(res, status, { ok: true, key }, headers);
  };

  const routes = {
    // /control/http/plan?statuses=500,429,0,200
    //   Appends the statuses to the FIFO the next /api/ requests take (0 = destroy the socket;
    //   "429:2" also sends Retry-After: 2). Answers { planned: [remaining statuses] }.
    "/control/http/plan": (params) => {
      const raw = params.get("statuses");
      if (!raw) throw new BadRequest("statuses is required, e.g. statuses=500,429,0,200");
      const entries = raw.split(",").map(parsePlannedStatus);
      state.plan.push(...entries);
      return { planned: state.plan.map((p) => p.status) };
    },

    // /control/http/stats
    //   { received, applied, keys, requests, planned }
    //   received: /api/ requests answered or dropped (preflights not counted)
    //   applied: [{ key, method, path, body, authorization, at }] in order
    //   keys: { idempotencyKey: requests received with it }
    //   requests: [{ key, method, path, status, at }] every request with the status it got
    //   planned: statuses still queued
    "/control/http/stats": () => ({
      received: state.received,
      applied: state.applied,
      keys: state.keys,
      requests: state.requests,
      planned: state.plan.map((p) => p.status),
    }),

    // /control/http/reset: clears everything above, including the planned statuses.
    "/control/http/reset": () => {
      reset();
      return { reset: true };
    },
  };

  return { handle, routes };
}
