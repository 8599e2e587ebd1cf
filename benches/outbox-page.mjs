// The outbox bench page (outbox.html), driven by benches/outbox.mjs through its URL:
// /?run=<id>&fn=<job>&args=<JSON> runs one job and POSTs { result } or { error } to
// /result/<id>. Nothing is driven over the DevTools protocol while a job runs.
//
// Jobs:
//   enqueue   {client, mode, n, url, name, timeoutMs}: n durable enqueues of ~1 KB records, all
//             started in the same tick and awaited together (mode "concurrent", Promise.all) or
//             each awaited before the next (mode "sequential"); then the records are counted in
//             IndexedDB. client: wiresync | idbkeyval | workbox (page) | workbox-sw (service worker)
//   drainWiresync {url, n, name, timeoutMs}: n entries queued while the server refuses the
//             auth, then setAuth({token: "good"}) and the time until pending 0 and in flight 0
//   drainSio  {url, n, timeoutMs}: socket.io-client in its at-least-once mode (retries), n emits
//             made while disconnected, then connect() and the time until all are acked
//   cleanup   {timeoutMs}: deletes every IndexedDB database of this origin and unregisters the
//             service workers (run after each job, in a new page once the job's page is closed)

const WIRESYNC_URL = "/pkg/index.js";
const SIO_URL = "/sio/socket.io.esm.min.js";
const IDB_KEYVAL_URL = "/vendor/idb-keyval.js";
const WORKBOX_URL = "/vendor/workbox-background-sync.js";
const SW_URL = "/outbox-sw.mjs";

/** Rejects after `ms` with a message naming `what`, so that no wait can hang the bench. */
function withTimeout(promise, ms, what, detail = () => "") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}${detail()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `fn` every `everyMs` until it returns true; rejects after `ms`. */
function waitFor(what, fn, ms, everyMs = 10, detail = () => "") {
  return withTimeout(
    new Promise((resolve, reject) => {
      const tick = () => {
        try {
          if (fn()) return resolve();
        } catch (e) {
          return reject(e);
        }
        setTimeout(tick, everyMs);
      };
      tick();
    }),
    ms,
    what,
    detail,
  );
}

/**
 * n note records of ~1 KB of JSON each (pseudo-random text, so storage compression does not
 * flatter anyone), the same for every client.
 */
export function makePayloads(n) {
  let x = 0x2545f491;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,";
  const text = (len) => {
    let s = "";
    for (let i = 0; i < len; i++) s += alphabet[rnd() % alphabet.length];
    return s;
  };
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      n: i,
      noteId: `note-${i}`,
      title: text(40),
      body: text(880),
      tags: ["bench", "outbox"],
      createdAt: 1767225600000 + i,
    };
  }
  return out;
}

/** Records in `storeName` of database `dbName` (through `indexName` = `key` when given). */
async function idbCount(dbName, storeName, indexName, key) {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(dbName);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`opening ${dbName} was blocked`));
  });
  try {
    const store = db.transaction(storeName).objectStore(storeName);
    const source = indexName ? store.index(indexName) : store;
    return await new Promise((resolve, reject) => {
      const req = key === undefined ? source.count() : source.count(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/**
 * Calls `call(i)` for i < n and awaits them: "concurrent" starts all n in this tick and awaits
 * them together (Promise.all), "sequential" awaits each before starting the next. Returns ms.
 */
async function timeCalls(n, mode, call, timeoutMs, what) {
  let done = 0;
  const t0 = performance.now();
  if (mode === "concurrent") {
    const calls = new Array(n);
    for (let i = 0; i < n; i++) calls[i] = call(i).then((v) => (done++, v));
    await withTimeout(Promise.all(calls), timeoutMs, what, () => ` (${done} of ${n} done)`);
  } else if (mode === "sequential") {
    const loop = (async () => {
      for (let i = 0; i < n; i++) {
        await call(i);
        done++;
      }
    })();
    await withTimeout(loop, timeoutMs, what, () => ` (${done} of ${n} done)`);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  return performance.now() - t0;
}

const rate = (n, ms) => (n / ms) * 1000;

// ---------------------------------------------------------------------------------------------
// Durable enqueues
// ---------------------------------------------------------------------------------------------

async function loadWiresync(timeoutMs) {
  const mod = await import(WIRESYNC_URL);
  await withTimeout(mod.default(), timeoutMs, "wiresync init()");
  return mod;
}

/** wiresync: client.outbox.enqueue, with a refused auth so that nothing is sent meanwhile. */
async function enqueueWiresync({ url, n, mode, name, timeoutMs }) {
  const mod = await loadWiresync(timeoutMs);
  const client = mod.connect({ url, auth: { token: "wrong" }, outbox: { name, capacity: 100000 } });
  const errors = [];
  client.onError((e) => errors.push(e.code));
  try {
    await waitFor("wiresync outbox storage to open", () => client.outbox.status().persistence !== "loading", timeoutMs);
    const persistence = client.outbox.status().persistence;
    if (persistence !== "indexeddb") throw new Error(`the outbox runs in ${persistence}, not IndexedDB`);
    const payloads = makePayloads(n);
    const ms = await timeCalls(n, mode, (i) => client.outbox.enqueue("note:add", payloads[i]), timeoutMs, "wiresync enqueue");
    const status = client.outbox.status();
    const stored = await idbCount(`wiresync-outbox:${name}:default`, "entries");
    return {
      n,
      ms,
      perSec: rate(n, ms),
      stored,
      queued: status.pending,
      sent: status.inFlight,
      connection: client.state.status,
      errors: errors.filter((c) => c !== "AUTH_REJECTED"),
    };
  } finally {
    client.close();
  }
}

/** idb-keyval 6.3.0: set(key, value), one readwrite transaction per call. */
async function enqueueIdbKeyval({ n, mode, timeoutMs }) {
  const { set, del } = await import(IDB_KEYVAL_URL);
  // Opens (creates) its database first, as for the other clients.
  await withTimeout(set("warm-up", 0).then(() => del("warm-up")), timeoutMs, "idb-keyval open");
  const payloads = makePayloads(n);
  const ms = await timeCalls(n, mode, (i) => set(`note:${i}`, payloads[i]), timeoutMs, "idb-keyval set");
  const stored = await idbCount("keyval-store", "keyval");
  return { n, ms, perSec: rate(n, ms), stored, errors: [] };
}

/**
 * workbox-background-sync 7.4.1 in the page: Queue reads `self.registration` (a service worker
 * global), so the page gets an empty one, i.e. a browser without the Background Sync API: no
 * sync registration per push. The queue's onSync is a no-op so nothing is replayed meanwhile.
 */
async function enqueueWorkboxPage({ url, n, mode, name, timeoutMs }) {
  if (self.registration === undefined) self.registration = {};
  const { Queue } = await import(WORKBOX_URL);
  const queue = new Queue(name, { onSync: async () => {} });
  await withTimeout(queue.size(), timeoutMs, "workbox open"); // opens its database
  const payloads = makePayloads(n);
  const target = `${url}/api/notes`;
  const push = (i) =>
    queue.pushRequest({
      request: new Request(target, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payloads[i]),
      }),
    });
  const ms = await timeCalls(n, mode, push, timeoutMs, "workbox pushRequest");
  const stored = await idbCount("workbox-background-sync", "requests", "queueName", name);
  return { n, ms, perSec: rate(n, ms), stored, errors: [] };
}

/** workbox-background-sync in its real home, a service worker (outbox-sw.mjs runs the loop). */
async function enqueueWorkboxSw({ url, n, mode, name, timeoutMs }) {
  const reg = await withTimeout(
    navigator.serviceWorker.register(SW_URL, { type: "module", scope: "/" }),
    timeoutMs,
    "service worker registration",
  );
  try {
    await withTimeout(navigator.serviceWorker.ready, timeoutMs, "service worker activation");
    const worker = reg.active;
    if (!worker) throw new Error("no active service worker");
    const channel = new MessageChannel();
    const reply = new Promise((resolve) => (channel.port1.onmessage = (e) => resolve(e.data)));
    const payloads = makePayloads(n);
    worker.postMessage({ job: { url, n, mode, name, timeoutMs }, payloads }, [channel.port2]);
    const r = await withTimeout(reply, timeoutMs + 5000, "service worker result");
    if (r.error) throw new Error(`in the service worker: ${r.error}`);
    const stored = await idbCount("workbox-background-sync", "requests", "queueName", name);
    return { ...r.result, stored, errors: [] };
  } finally {
    await reg.unregister().catch(() => {});
  }
}

async function enqueue(args) {
  switch (args.client) {
    case "wiresync":
      return enqueueWiresync(args);
    case "idbkeyval":
      return enqueueIdbKeyval(args);
    case "workbox":
      return enqueueWorkboxPage(args);
    case "workbox-sw":
      return enqueueWorkboxSw(args);
    default:
      throw new Error(`unknown client ${args.client}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Drain after reconnect
// ---------------------------------------------------------------------------------------------

/**
 * wiresync: n entries enqueued (same tick) while the server refuses the auth, then
 * setAuth({token: "good"}); done when the outbox shows pending 0 and in flight 0.
 */
async function drainWiresync({ url, n, name, timeoutMs }) {
  const mod = await loadWiresync(timeoutMs);
  const client = mod.connect({ url, auth: { token: "wrong" }, outbox: { name, capacity: 20000 } });
  const errors = [];
  client.onError((e) => errors.push(e.code));
  try {
    await waitFor("wiresync outbox storage to open", () => client.outbox.status().persistence !== "loading", timeoutMs);
    const persistence = client.outbox.status().persistence;
    if (persistence !== "indexeddb") throw new Error(`the outbox runs in ${persistence}, not IndexedDB`);
    const payloads = makePayloads(n);
    const te = performance.now();
    const ids = (
      await withTimeout(
        Promise.all(payloads.map((p) => client.outbox.enqueue("note:add", p))),
        timeoutMs,
        `wiresync: enqueue ${n}`,
      )
    ).map((r) => r.id);
    const enqueueMs = performance.now() - te;
    const before = client.outbox.status();
    if (before.pending !== n) throw new Error(`expected ${n} pending before reconnect, got ${JSON.stringify(before)}`);
    const stateBefore = client.state.status;

    let tOpen = null;
    let t0 = 0;
    client.onState((s) => {
      if (s.status === "open" && tOpen === null) tOpen = performance.now() - t0;
    });
    const t0Wall = Date.now();
    t0 = performance.now();
    client.setAuth({ token: "good" });
    await waitFor(
      `wiresync: drain ${n}`,
      () => {
        const s = client.outbox.status();
        return s.pending === 0 && s.inFlight === 0;
      },
      timeoutMs,
      10,
      () => ` (status ${JSON.stringify(client.outbox.status())}, connection ${client.state.status})`,
    );
    const doneMs = performance.now() - t0;
    const doneWall = Date.now();
    const after = client.outbox.status();
    return {
      n,
      ids,
      enqueueMs,
      stateBefore,
      t0Wall,
      doneWall,
      doneMs,
      openMs: tOpen,
      failed: after.failed,
      lastError: after.lastError,
      errors: errors.filter((c) => c !== "AUTH_REJECTED"),
    };
  } finally {
    client.close();
  }
}

/**
 * socket.io-client 4.8.4 in its at-least-once mode: retries + ackTimeout, created with
 * autoConnect false, n emits queued while disconnected, then connect(). Each emit gets a
 * callback only to see, in the page, when the last ack has come back (with `retries` the
 * client asks for an ack of every emit anyway).
 */
async function drainSio({ url, n, timeoutMs }) {
  const { io } = await import(SIO_URL);
  const socket = io(url, {
    transports: ["websocket"],
    auth: { token: "good" },
    retries: 3,
    ackTimeout: 10000,
    autoConnect: false,
  });
  const errors = [];
  socket.on("connect_error", (e) => errors.push(`connect_error: ${e.message}`));
  try {
    const payloads = makePayloads(n).map((p) => ({ clientMessageId: crypto.randomUUID(), ...p }));
    let acked = 0;
    let refused = 0;
    let resolveDone;
    const done = new Promise((resolve) => (resolveDone = resolve));
    const te = performance.now();
    for (const p of payloads) {
      socket.emit("note:add", p, (err, reply) => {
        if (err || reply?.ok !== true) refused++;
        if (++acked === n) resolveDone();
      });
    }
    const enqueueMs = performance.now() - te;
    let tOpen = null;
    let t0 = 0;
    socket.on("connect", () => {
      if (tOpen === null) tOpen = performance.now() - t0;
    });
    const t0Wall = Date.now();
    t0 = performance.now();
    socket.connect();
    await withTimeout(done, timeoutMs, `socket.io-client: drain ${n}`, () => ` (${acked} acked, errors ${errors.slice(0, 3)})`);
    const doneMs = performance.now() - t0;
    const doneWall = Date.now();
    return {
      n,
      ids: payloads.map((p) => p.clientMessageId),
      enqueueMs,
      t0Wall,
      doneWall,
      doneMs,
      openMs: tOpen,
      failed: refused,
      errors,
    };
  } finally {
    socket.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------------------------

async function cleanup({ timeoutMs }) {
  const deleted = [];
  for (const { name } of await indexedDB.databases()) {
    await withTimeout(
      new Promise((resolve, reject) => {
        const req = indexedDB.deleteDatabase(name);
        req.onsuccess = resolve;
        req.onerror = () => reject(req.error);
        // onblocked: a closing page still holds it; the delete completes once it lets go.
      }),
      timeoutMs,
      `deleting IndexedDB database ${name}`,
    );
    deleted.push(name);
  }
  let unregistered = 0;
  for (const reg of await navigator.serviceWorker.getRegistrations()) {
    if (await reg.unregister()) unregistered++;
  }
  return { deleted, unregistered };
}

window.bench = { enqueue, drainWiresync, drainSio, cleanup };
window.benchReady = true;

const query = new URLSearchParams(location.search);
if (query.has("run")) {
  const id = query.get("run");
  const post = (body) => fetch(`/result/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(body) });
  (async () => {
    try {
      const fn = window.bench[query.get("fn")];
      if (!fn) throw new Error(`unknown job ${query.get("fn")}`);
      await post({ result: await fn(JSON.parse(query.get("args") ?? "{}")) });
    } catch (e) {
      await post({ error: String(e?.stack ?? e) });
    }
  })();
}
