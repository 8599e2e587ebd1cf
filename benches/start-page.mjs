// The start bench page (start.html), driven by benches/start.mjs through its URL:
// /?run=<id>&fn=<client>&args=<JSON> runs one cold start and POSTs { result } or { error } to
// /result/<id>. Times are performance.now() milliseconds from just before the client's first
// import, so each phase includes fetching its files from the local static server.
//
//   wiresync: import of the default entry as an app's bundler ships it (index.js and its
//             modules in one esbuild-minified file, served from pkg/ so that the wasm next to it
//             is found) → init() (fetch, streaming compile, instantiate: the
//             wasm-bindgen glue uses WebAssembly.instantiateStreaming for a Response served as
//             application/wasm) → connect() → the first state "open".
//             Also, afterwards and apart: WebAssembly.compile of the same bytes (compile alone)
//             and the glue's initSync with that module (instantiate + start alone).
//   sio:      import(socket.io.esm.min.js) → io(url, { transports: ["websocket"] }) → "connect".

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function wiresync({ url, timeoutMs }) {
  const t0 = performance.now();
  const mod = await import("/pkg/wiresync.bundle.js");
  const imported = performance.now();
  await mod.default();
  const initDone = performance.now();
  const client = mod.connect({ url, auth: { token: "good" }, outbox: false });
  await withTimeout(
    new Promise((resolve) => {
      const off = client.onState((s) => s.status === "open" && (off(), resolve()));
    }),
    timeoutMs,
    "wiresync open",
  );
  const open = performance.now();
  client.close();
  const fetched = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/wiresync_bg.wasm"));
  // Compile alone, from bytes already fetched (no network, no streaming). A custom section
  // appended makes them new bytes, so V8 cannot hand back the module init() compiled.
  const wasm = new Uint8Array(await (await fetch("/pkg/wiresync_bg.wasm")).arrayBuffer());
  const bytes = new Uint8Array(wasm.length + 4);
  bytes.set(wasm);
  bytes.set([0, 2, 1, 120], wasm.length); // custom section, 2 bytes: the name "x"
  const c0 = performance.now();
  const compiled = await WebAssembly.compile(bytes);
  const compileMs = performance.now() - c0;
  // Instantiate alone (with the glue's start): a second instance of the glue module (a query
  // string makes it a new module) given the module just compiled.
  const glue = await import("/pkg/wiresync.js?instantiate");
  const i0 = performance.now();
  glue.initSync({ module: compiled });
  const instantiateMs = performance.now() - i0;
  const fetchMs = fetched ? fetched.responseEnd - fetched.startTime : NaN;
  // init() split at the wasm's last byte: before it, the fetch (and compiling what streamed in);
  // after it, the rest of the compile, instantiate, start and the promise chain back.
  const untilFetchedMs = fetched ? fetched.responseEnd - imported : NaN;
  const afterFetchMs = fetched ? initDone - fetched.responseEnd : NaN;
  return {
    importMs: imported - t0,
    initMs: initDone - imported,
    fetchMs,
    untilFetchedMs,
    afterFetchMs,
    compileMs,
    instantiateMs,
    readyMs: compileMs + instantiateMs,
    connectMs: open - initDone,
    totalMs: open - t0,
  };
}

async function sio({ url, timeoutMs }) {
  const t0 = performance.now();
  const { io } = await import("/sio/socket.io.esm.min.js");
  const imported = performance.now();
  const socket = io(url, { transports: ["websocket"], auth: { token: "good" } });
  await withTimeout(new Promise((resolve) => socket.once("connect", resolve)), timeoutMs, "socket.io-client connect");
  const open = performance.now();
  socket.disconnect();
  return { importMs: imported - t0, initMs: 0, connectMs: open - imported, totalMs: open - t0 };
}

const query = new URLSearchParams(location.search);
const id = query.get("run");
if (id) {
  const post = (body) => fetch(`/result/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(body) });
  const fn = { wiresync, sio }[query.get("fn")];
  try {
    if (!fn) throw new Error(`unknown client ${query.get("fn")}`);
    await post({ result: await fn(JSON.parse(query.get("args") ?? "{}")) });
  } catch (e) {
    await post({ error: String(e?.stack ?? e) });
  }
}
