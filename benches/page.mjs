// The bench page's code: one function per client, called by benches/run.mjs through
// page.evaluate() in a fresh browser context (so every run starts from a cold page).
//
// Every run: connect, wait until open, register a handler on order:status_update, take t0,
// emitWithAck("bench:start", {n}), and stop the clock when the handler has seen the n-th event.
// The handler does what a real one minimally does: reads a field of the payload (seq, also
// used to check that the events arrive complete and in order) and counts.
//
// In the URL-driven mode (below) the run also calls `gate()` once connected, just before t0.
//
// Each function resolves with
//   { ms, n, evPerSec, ackMs, firstMs, lagMs, outOfOrder, errors, note }
// where ms/ackMs/firstMs are measured from t0, and lagMs is how late the n-th event was handled
// compared with the server's clock when it built that event's batch (payload.timestamp; same
// machine, same clock, 1 ms resolution). A small lag means the client kept up with the server;
// a large one means events queued up in front of the client.

const SIO_CLIENT_URL = "/sio/socket.io.esm.min.js";
const WIRESYNC_URL = "/pkg/index.js";

/** Rejects after `ms` with a message naming `what`, so that no wait can hang the bench. */
function withTimeout(promise, ms, what, detail = () => "") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}${detail()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Profiling aid (run.mjs --profile): wraps every WebSocket onmessage handler the clients install
 * (wiresync's wasm glue and engine.io-client both assign ws.onmessage) to sum the time the page
 * spends handling messages. busy / wall-time near 1 means the page's main thread is the
 * bottleneck; well below 1 means it waits for frames (server or browser network side).
 */
const busy = { ms: 0, messages: 0, installed: false };
function instrumentOnMessage() {
  if (busy.installed) return;
  busy.installed = true;
  const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
  Object.defineProperty(WebSocket.prototype, "onmessage", {
    configurable: true,
    enumerable: desc.enumerable,
    get() {
      return desc.get.call(this);
    },
    set(fn) {
      if (typeof fn !== "function") return desc.set.call(this, fn);
      desc.set.call(this, function (e) {
        const t = performance.now();
        try {
          return fn.call(this, e);
        } finally {
          busy.ms += performance.now() - t;
          busy.messages++;
        }
      });
    },
  });
}

/** Counter + completion promise shared by the three clients. */
function counter(n) {
  const c = {
    count: 0,
    outOfOrder: 0,
    tFirst: null,
    tLast: null,
    lagMs: null,
    resolve: null,
    done: null,
  };
  c.done = new Promise((resolve) => (c.resolve = resolve));
  if (n === 0) c.resolve();
  c.onEvent = (payload) => {
    const now = performance.now();
    if (c.count === 0) c.tFirst = now;
    if (payload.seq !== c.count) c.outOfOrder++;
    c.count++;
    if (c.count === n) {
      c.tLast = now;
      c.lagMs = Date.now() - Date.parse(payload.timestamp);
      c.resolve();
    }
  };
  return c;
}

function result(n, t0, tAck, c, errors, note) {
  const ms = (n === 0 ? tAck : c.tLast) - t0;
  return {
    busyMs: busy.installed ? busy.ms : null,
    busyMessages: busy.installed ? busy.messages : null,
    n,
    ms,
    evPerSec: n === 0 ? 0 : (n / ms) * 1000,
    ackMs: tAck - t0,
    firstMs: c.tFirst === null ? null : c.tFirst - t0,
    lagMs: c.lagMs,
    outOfOrder: c.outOfOrder,
    errors,
    note,
  };
}

/** wiresync through its public JS API (pkg/index.js), validate on (default) or off. */
async function wiresync({ url, n, timeoutMs, profile, validate, gate }) {
  if (profile) instrumentOnMessage();
  const mod = await import(WIRESYNC_URL);
  await withTimeout(mod.default(), timeoutMs, "wiresync init()");
  const options = { url, auth: { token: "good" } };
  if (validate === false) options.validate = false;
  const client = mod.connect(options);
  const errors = [];
  client.onError((e) => errors.push(`${e.code}: ${e.message}`));
  const errs = () => (errors.length ? ` (errors: ${errors.slice(0, 5).join("; ")})` : "");
  try {
    await withTimeout(
      new Promise((resolve) => {
        client.onState((s) => s.status === "open" && resolve());
        if (client.state.status === "open") resolve();
      }),
      timeoutMs,
      "wiresync connection open",
      errs,
    );
    const c = counter(n);
    client.on("order:status_update", c.onEvent);

    if (gate) await gate();
    busy.ms = 0;
    busy.messages = 0;
    const t0 = performance.now();
    const ack = await client.emitWithAck("bench:start", { n }, { timeoutMs });
    const tAck = performance.now();
    if (!ack?.started) throw new Error(`bench:start refused: ${JSON.stringify(ack)}`);
    await withTimeout(c.done, timeoutMs, `wiresync: ${n} events`, () => ` (got ${c.count})${errs()}`);
    return result(n, t0, tAck, c, errors, `validate ${validate === false ? "off" : "on"}`);
  } finally {
    client.close();
  }
}

/** socket.io-client 4.8.4 (its ESM browser build), websocket transport only. */
async function sio({ url, n, timeoutMs, profile, gate }) {
  if (profile) instrumentOnMessage();
  const { io } = await import(SIO_CLIENT_URL);
  const socket = io(url, { transports: ["websocket"], auth: { token: "good" } });
  const errors = [];
  socket.on("connect_error", (e) => errors.push(`connect_error: ${e.message}`));
  const errs = () => (errors.length ? ` (errors: ${errors.slice(0, 5).join("; ")})` : "");
  try {
    await withTimeout(
      new Promise((resolve) => {
        socket.on("connect", resolve);
        if (socket.connected) resolve();
      }),
      timeoutMs,
      "socket.io-client connect",
      errs,
    );
    const c = counter(n);
    // With connection state recovery the server appends an offset argument; ignored here.
    socket.on("order:status_update", c.onEvent);

    if (gate) await gate();
    busy.ms = 0;
    busy.messages = 0;
    const t0 = performance.now();
    const ack = await socket.timeout(timeoutMs).emitWithAck("bench:start", { n });
    const tAck = performance.now();
    if (!ack?.started) throw new Error(`bench:start refused: ${JSON.stringify(ack)}`);
    await withTimeout(c.done, timeoutMs, `socket.io-client: ${n} events`, () => ` (got ${c.count})${errs()}`);
    return result(n, t0, tAck, c, errors, "transports: [websocket]");
  } finally {
    socket.disconnect();
  }
}

/**
 * Reference ceiling: a bare WebSocket speaking just enough Engine.IO/Socket.IO to start the
 * bench, then JSON.parse-ing each frame's packet (no event-name dispatch, no library). What it
 * measures is mostly the server and the browser's network stack, i.e. what no client can beat.
 */
async function rawws({ url, n, timeoutMs, profile, gate }) {
  if (profile) instrumentOnMessage();
  const wsUrl = url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
  const ws = new WebSocket(wsUrl);
  const errors = [];
  const c = counter(n);
  let t0 = 0;
  let tAck = null;
  let onOpen;
  const opened = new Promise((resolve) => (onOpen = resolve));
  let onAck;
  const acked = new Promise((resolve) => (onAck = resolve));
  const PREFIX = '42["order:status_update",';
  ws.onerror = () => errors.push("websocket error");
  ws.onmessage = (e) => {
    const data = e.data;
    if (data.startsWith(PREFIX)) {
      // 42["order:status_update",{...},"offset"]
      const args = JSON.parse(data.slice(2));
      c.onEvent(args[1]);
      return;
    }
    if (data === "2") return ws.send("3"); // Engine.IO ping -> pong
    if (data.startsWith("0")) return ws.send('40{"token":"good"}'); // EIO open -> SIO CONNECT
    if (data.startsWith("40")) return onOpen(); // SIO CONNECT ok
    if (data.startsWith("44")) return errors.push(`connect error ${data}`);
    if (data.startsWith("431")) return onAck(JSON.parse(data.slice(3))[0]); // ack id 1
  };
  const errs = () => (errors.length ? ` (errors: ${errors.join("; ")})` : "");
  try {
    await withTimeout(opened, timeoutMs, "raw websocket connect", errs);
    if (gate) await gate();
    busy.ms = 0;
    busy.messages = 0;
    t0 = performance.now();
    ws.send(`421["bench:start",${JSON.stringify({ n })}]`);
    const ack = await withTimeout(acked, timeoutMs, "raw websocket bench:start ack", errs);
    tAck = performance.now();
    if (!ack?.started) throw new Error(`bench:start refused: ${JSON.stringify(ack)}`);
    await withTimeout(c.done, timeoutMs, `raw websocket: ${n} events`, () => ` (got ${c.count})${errs()}`);
    return result(n, t0, tAck, c, errors, "bare WebSocket + JSON.parse");
  } finally {
    ws.close();
  }
}

window.bench = { wiresync, sio, rawws };
window.benchReady = true;

/**
 * URL-driven mode, the one run.mjs uses for the measured runs: /?run=<id>&fn=<client>&args=<JSON>
 * runs one client and POSTs { result } or { error } to /result/<id>. Nothing is driven over the
 * DevTools protocol while it runs (Playwright's pages report every WebSocket frame to Playwright
 * over CDP, which costs more than the clients themselves; see README.md).
 */
const query = new URLSearchParams(location.search);
if (query.has("run")) {
  const id = query.get("run");
  const post = (body) =>
    fetch(`/result/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(body) });
  (async () => {
    try {
      const fn = window.bench[query.get("fn")];
      if (!fn) throw new Error(`unknown client ${query.get("fn")}`);
      const args = JSON.parse(query.get("args") ?? "{}");
      // Called once connected, just before t0: run.mjs reads the processes' CPU times (and,
      // when profiling, starts the CPU profiler) and only then answers.
      const gate = async () => {
        const res = await fetch(`/go/${encodeURIComponent(id)}`);
        if (!res.ok) throw new Error(`gate: HTTP ${res.status}`);
      };
      await post({ result: await fn({ ...args, gate }) });
    } catch (e) {
      await post({ error: String(e?.stack ?? e) });
    }
  })();
}
