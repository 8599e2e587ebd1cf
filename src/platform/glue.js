// wiresync's own browser glue, imported by the wasm (src/platform/glue.rs): the per-frame path,
// where every call between wasm and JS that it saves counts, and strings into wasm memory by
// the browser's own encoder. It translates, it decides nothing.

const encoder = new TextEncoder();

/** Hands a WebSocket's text frames to `text(utf8Length, frame)`, their UTF-8 already written
 *  by the browser's own encoder into a buffer in wasm memory (a JS loop over the characters
 *  costs ~5× as much), and binary frames (ArrayBuffers) to `binary(data)`. The buffer is asked for with
 *  `reserve(bytes)` only when a frame needs more room than it has, or after wasm memory grew
 *  (which detaches the view on it). */
export function onFrames(ws, memory, reserve, text, binary) {
  let view = new Uint8Array(0);
  const frame = (d) => {
    if (typeof d !== "string") return binary(d);
    const room = d.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (room > view.length || view.buffer !== memory.buffer) {
      const size = Math.max(room, 4096);
      const at = reserve(size); // first: it may grow wasm memory, which detaches the old buffer
      view = new Uint8Array(memory.buffer, at, size);
    }
    text(encoder.encodeInto(d, view).written, d);
  };
  // Every frame goes through one queue: a frame that arrives while one is being handled (a
  // handler ran a nested event loop, a test's fake socket fired from send) waits for it, so the
  // buffer and the frame being handled stay that frame's, and order holds even after a call
  // that threw.
  let busy = false;
  const queue = [];
  ws.onmessage = (e) => {
    queue.push(e.data);
    if (busy) return;
    busy = true;
    try {
      while (queue.length) frame(queue.shift());
    } finally {
      busy = false;
    }
  };
}

/** An event's arguments, parsed into an array from where they sit in `frame`: UTF-16 units
 *  `start` to `frame.length - tail`, one JSON value when `single`, else comma-separated ones
 *  (the event name and the recovery offset around them are not parsed again); `undefined`
 *  when they are not JSON. */
export function eventArgs(frame, start, tail, single) {
  try {
    const text = frame.slice(start, frame.length - tail);
    return single ? [JSON.parse(text)] : JSON.parse("[" + text + "]");
  } catch {
    return undefined;
  }
}

const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof Blob !== "undefined" && v instanceof Blob);

/** The binary parts of arguments to send (ArrayBuffer, typed arrays, DataView, Blob, nested in
 *  plain objects and arrays): `undefined` when there are none, else `[copy, parts]`, the copy
 *  with `{ _placeholder: true, num }` where each part was (Socket.IO's binary packets). The
 *  arguments themselves are not changed. */
export function binaryParts(args) {
  const parts = [];
  const path = new Set(); // the objects being walked: a cycle is left for JSON.stringify to report
  const walk = (v) => {
    if (v === null || typeof v !== "object" || path.has(v)) return v;
    if (isBinary(v)) return { _placeholder: true, num: parts.push(v) - 1 };
    if (typeof v.toJSON === "function") return v; // a Date: as JSON.stringify sees it
    path.add(v);
    let copy;
    for (const k of Object.keys(v)) {
      const w = walk(v[k]);
      if (w !== v[k]) (copy ??= Array.isArray(v) ? v.slice() : { ...v })[k] = w;
    }
    path.delete(v);
    return copy ?? v;
  };
  const copy = walk(args);
  return parts.length ? [copy, parts] : undefined;
}

/** The byte size of the largest of `parts` (each is sent as a frame of its own). */
export function largestPart(parts) {
  let n = 0;
  for (const p of parts) n = Math.max(n, p.byteLength ?? p.size ?? 0);
  return n;
}

/** Puts received binary parts (ArrayBuffers) back where their placeholders sit in `args`
 *  (freshly parsed, changed in place). False when a placeholder points past the parts. */
export function fillPlaceholders(args, parts) {
  let ok = true;
  const walk = (v) => {
    for (const k of Object.keys(v)) {
      const w = v[k];
      if (w === null || typeof w !== "object") continue;
      if (w._placeholder === true && Number.isInteger(w.num)) {
        if (w.num >= 0 && w.num < parts.length) v[k] = parts[w.num];
        else ok = false;
      } else walk(w);
    }
  };
  walk(args);
  return ok;
}

/** Sends a binary frame (ArrayBuffer, typed array, DataView or Blob). */
export function sendData(ws, data) {
  try {
    ws.send(data);
  } catch {
    // closing: the close event tells the rest
  }
}

/** Writes `s` as UTF-8 into wasm memory at `ptr` (room for `cap` bytes) with the browser's own
 *  encoder (for long strings, cheaper than wasm-bindgen's copy loop over the characters), and
 *  returns the bytes written, or -1 when all of `s` did not fit. */
export function encodeInto(s, memory, ptr, cap) {
  const r = encoder.encodeInto(s, new Uint8Array(memory.buffer, ptr, cap));
  return r.read === s.length ? r.written : -1;
}

/** Asks for the Web Lock `name`: `acquired()` runs once it is ours, and it stays ours until the
 *  returned `release()`, which also withdraws a request not granted yet (`acquired` is then
 *  never called: its Rust closure is gone by then). `undefined` where Web Locks are missing. */
export function requestLock(name, acquired, steal, lost) {
  const locks = globalThis.navigator?.locks;
  if (typeof locks?.request !== "function") return undefined;
  const abort = new AbortController();
  let released = false;
  let granted = false;
  let release;
  const hold = new Promise((r) => (release = r));
  locks
    .request(name, steal ? { steal } : { signal: abort.signal }, () => {
      if (released) return undefined;
      granted = true;
      acquired();
      return hold; // held while this is pending
    })
    // Withdrawn before it was granted, or taken over (`steal`) by another tab after.
    .catch(() => granted && !released && lost?.());
  return () => {
    released = true;
    abort.abort();
    release();
  };
}

/** An HTTP long-polling request: `GET url`, or `POST url` with `body` (text). `done(status,
 *  text)` once, with status 0 and the reason when it failed. Returns `abort(afterMs)`. */
export function request(url, body, done) {
  const abort = new AbortController();
  const init = { method: body === undefined ? "GET" : "POST", body, cache: "no-store", signal: abort.signal };
  if (body !== undefined) init.headers = { "content-type": "text/plain;charset=UTF-8" };
  fetch(url, init)
    .then((r) => r.text().then((t) => done(r.status, t)))
    .catch((e) => done(0, String(e?.message ?? e)));
  return (ms) => setTimeout(() => abort.abort(), ms);
}

/** The bytes of a binary part as a Uint8Array (a Blob, which cannot be read at once: undefined). */
export function partBytes(part) {
  if (part instanceof ArrayBuffer) return new Uint8Array(part);
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  return undefined;
}
