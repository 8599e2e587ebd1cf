// Service worker of the outbox bench (module worker, registered by outbox-page.mjs): runs the
// workbox-background-sync Queue where Workbox runs it, with the real `self.registration` (so
// every pushRequest also registers a Background Sync, as in production). The page posts
// { job: {n, mode, name, url, timeoutMs}, payloads } with a MessagePort; the reply is
// { result: {n, ms, perSec} } or { error }.
import { Queue } from "/vendor/workbox-background-sync.js";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function run({ job: { url, n, mode, name, timeoutMs }, payloads }) {
  // onSync is a no-op: nothing is replayed while the bench runs.
  const queue = new Queue(name, { onSync: async () => {} });
  await withTimeout(queue.size(), timeoutMs, "workbox open"); // opens its database
  const target = `${url}/api/notes`;
  const push = (i) =>
    queue.pushRequest({
      request: new Request(target, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payloads[i]),
      }),
    });
  const t0 = performance.now();
  if (mode === "concurrent") {
    const calls = new Array(n);
    for (let i = 0; i < n; i++) calls[i] = push(i);
    await withTimeout(Promise.all(calls), timeoutMs, "workbox pushRequest");
  } else {
    await withTimeout(
      (async () => {
        for (let i = 0; i < n; i++) await push(i);
      })(),
      timeoutMs,
      "workbox pushRequest",
    );
  }
  const ms = performance.now() - t0;
  return { n, ms, perSec: (n / ms) * 1000, sync: "sync" in self.registration };
}

self.addEventListener("message", (event) => {
  const port = event.ports[0];
  event.waitUntil(
    run(event.data).then(
      (result) => port.postMessage({ result }),
      (e) => port.postMessage({ error: String(e?.stack ?? e) }),
    ),
  );
});
