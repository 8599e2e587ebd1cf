// The outbox's stored record, built in one call from wasm (src/platform/idb.rs `to_record`,
// which owns the format and its version; `from_record` reads it back). Setting its fields one
// by one from wasm took a call per field.

/** An outbox entry's record. `kind` "event": `a` is the event name, `b` the payload (JSON
 *  text) and `d` its binary parts (ArrayBuffers, typed arrays, Blobs: IndexedDB stores them as
 *  they are), if any; "request": `a` the URL, `b` the method, `c` the headers ([name, value]
 *  pairs) and `d` the body. */
export function outboxRecord(v, id, seq, lane, kind, a, b, c, d, dedupeKey, createdAt, expiresAt, attempts, notBefore, state, failedReason, lastError) {
  const r = kind === "event" ? { v, id, seq, lane, kind, event: a, payload: b } : { v, id, seq, lane, kind, url: a, method: b, headers: c };
  if (d !== undefined) r[kind === "event" ? "bin" : "body"] = d;
  r.createdAt = createdAt;
  r.expiresAt = expiresAt;
  r.attempts = attempts;
  r.notBefore = notBefore;
  r.state = state;
  // Absent ones are left out: every field stored is copied on each put and read back on load.
  if (dedupeKey !== undefined) r.dedupeKey = dedupeKey;
  if (failedReason !== undefined) r.failedReason = failedReason;
  if (lastError !== undefined) r.lastError = lastError;
  return r;
}
