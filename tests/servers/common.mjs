// Helpers shared by the wiresync test servers (socketio-server.mjs and json-server.mjs).
//
// Both servers expose the same style of control API: plain GET requests under /control/...,
// JSON responses, `Access-Control-Allow-Origin: *` so a page served from another origin
// (the Playwright test page) can drive them with fetch().

/** Host every test server binds to. Never expose these fixtures beyond loopback. */
export const HOST = "127.0.0.1";

/** Tokens the auth check accepts; anything else is refused with AUTH_REJECTED. */
export const VALID_TOKENS = new Set(["good", "alice", "bob"]);

/** Upper bound on stats.received so a chatty test cannot grow the server without limit. */
export const MAX_RECEIVED = 10_000;

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

/** Pushes to a bounded list, dropping the oldest entries beyond MAX_RECEIVED. */
export function pushBounded(list, entry) {
  list.push(entry);
  if (list.length > MAX_RECEIVED) list.splice(0, list.length - MAX_RECEIVED);
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
