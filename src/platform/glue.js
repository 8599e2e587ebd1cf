// wiresync's own browser glue, imported by the wasm (src/platform/glue.rs). It holds only the
// per-frame path, where every call between wasm and JS that it saves counts: it translates, it
// decides nothing.

/** Hands a WebSocket's text frames to `text(utf8Length, frame)`, their UTF-8 already written
 *  by the browser's own encoder into the `reserve(bytes)` wasm memory gives for it (a JS loop
 *  over the characters costs ~5× as much), and binary frames to `binary(byteLength)`. */
export function onFrames(ws, memory, reserve, text, binary) {
  const encoder = new TextEncoder();
  ws.onmessage = (e) => {
    const d = e.data;
    if (typeof d !== "string") return binary(d.byteLength);
    const room = d.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    const at = reserve(room);
    text(encoder.encodeInto(d, new Uint8Array(memory.buffer, at, room)).written, d);
  };
}

/** The JSON array that fills `frame` from UTF-16 offset `start` on, without its first element
 *  (the event name) and, with `dropLast`, its last (the recovery offset); `undefined` when it
 *  is not a JSON array. */
export function eventArgs(frame, start, dropLast) {
  let a;
  try {
    a = JSON.parse(frame.slice(start));
  } catch {
    return undefined;
  }
  if (!Array.isArray(a)) return undefined;
  if (dropLast) a.pop();
  a.shift();
  return a;
}
