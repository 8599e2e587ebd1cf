// Small DOM helpers and the two generic panels of the demo: the outbox and the cache inspector.
// Each panel takes a wiresync client and the element it renders into.

export const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);

export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** "14:03:07" for an ISO string or epoch ms (now without an argument). */
export const clock = (t) => {
  const d = t === undefined ? new Date() : new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
};

/** "0.4 s" / "12 s" / "3 min" since epoch ms `t`. */
export const age = (t) => {
  const s = Math.max(0, (Date.now() - t) / 1000);
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
};

// ---------------------------------------------------------------------------------------------
// Outbox: counts, progress while draining, the entries with Retry for failed ones
// ---------------------------------------------------------------------------------------------

const STATE_LABEL = { pending: "pending", inflight: "in flight", failed: "failed" };

/**
 * Renders `client.outbox` into `root`. `describe(entry)` gives the text shown for an entry.
 * Progress: a drain starts when entries are waiting and ends when none is; meanwhile
 * "delivering k of n" counts the acks (`onDelivered`) against what was queued.
 */
export function outboxPanel(client, root, describe) {
  const outbox = client.outbox;
  let drain = { total: 0, delivered: 0, failed: 0 };
  let last = null; // the last finished drain, for "3 delivered"

  outbox.onDelivered(() => {
    drain.delivered++;
    render();
  });
  outbox.onFailed(() => {
    drain.failed++;
    render();
  });
  outbox.onChange(render);
  client.onState(render);

  function render() {
    const s = outbox.status();
    const open = s.pending + s.inFlight;
    if (open === 0 && drain.total > 0) {
      last = drain;
      drain = { total: 0, delivered: 0, failed: 0 };
    } else if (open > 0) {
      drain.total = Math.max(drain.total, drain.delivered + drain.failed + open);
    }

    $("outbox-pending", root).textContent = s.pending;
    $("outbox-inflight", root).textContent = s.inFlight;
    $("outbox-failed", root).textContent = s.failed;
    $("outbox-persistence", root).textContent = s.persistence === "indexeddb" ? "IndexedDB" : s.persistence;
    root.dataset.open = open;

    let text;
    let done = 0;
    if (open > 0 && s.processing) {
      text = `Delivering ${Math.min(drain.delivered + 1, drain.total)} of ${drain.total}…`;
      done = drain.delivered / drain.total;
    } else if (open > 0) {
      text = client.state.status === "open"
        ? `${open} waiting to be sent again (retry backoff).`
        : `${open} waiting for the connection; sent in order once it is back.`;
      done = drain.delivered / drain.total;
    } else if (last) {
      text = `Delivered ${last.delivered} of ${last.total}${last.failed ? `, ${last.failed} failed` : ""}. Nothing left to send.`;
      done = last.total ? 1 : 0;
    } else {
      text = "Nothing to send.";
    }
    if (s.lastError && open > 0) text += ` Last error: ${s.lastError}`;
    $("outbox-progress", root).textContent = text;
    $("outbox-progress-bar", root).style.setProperty("--done", `${Math.round(done * 100)}%`);
    $("outbox-progress-bar", root).dataset.active = String(open > 0);

    const entries = outbox.list();
    const list = $("outbox-list", root);
    list.replaceChildren(...entries.map((e) => entryRow(e)));
    if (entries.length === 0) list.append(el("li", { className: "muted small" }, "empty"));
  }

  function entryRow(e) {
    const why = e.failedReason ?? e.lastError;
    const row = el("li", { className: `entry ${e.state}` },
      el("span", { className: `state state-${e.state}`, textContent: STATE_LABEL[e.state] ?? e.state }),
      el("span", { className: "what", textContent: describe(e) }),
      el("span", { className: "muted small", textContent: `${e.attempts} attempt${e.attempts === 1 ? "" : "s"}` }));
    row.dataset.id = e.id;
    if (why) row.append(el("span", { className: "why", textContent: why }));
    if (e.state === "failed") {
      const retry = el("button", { type: "button", className: "small-button", textContent: "Retry" });
      retry.dataset.testid = "outbox-retry";
      retry.addEventListener("click", () => outbox.retry(e.id));
      const drop = el("button", { type: "button", className: "small-button", textContent: "Discard" });
      drop.addEventListener("click", () => outbox.remove(e.id));
      row.append(el("span", { className: "actions" }, retry, drop));
    }
    return row;
  }

  render();
  return render;
}

// ---------------------------------------------------------------------------------------------
// Cache inspector: every cached key with its state, and what last touched it
// ---------------------------------------------------------------------------------------------

/**
 * Lists `client.cache.findAll({})` in `root`'s tbody. `watch({})` reports every key that an
 * invalidation or a patch touches; the query's state at that moment tells which it was (an
 * invalidated query is marked `isInvalidated` and, when observed, is already refetching).
 * Returns `refresh()`, to call when an observer saw a change (a fetch finished, say).
 */
export function cacheInspector(client, root) {
  /** queryHash -> { patched, invalidated, last: "patched" | "invalidated", at } */
  const touches = new Map();
  let scheduled = false;

  client.cache.watch({}, (keys) => {
    for (const key of keys) {
      const state = client.cache.getQueryState(key);
      const kind = state?.isInvalidated ? "invalidated" : "patched";
      const hash = hashKey(key);
      const t = touches.get(hash) ?? { patched: 0, invalidated: 0 };
      t[kind]++;
      t.last = kind;
      t.at = Date.now();
      touches.set(hash, t);
    }
    refresh();
  });

  function refresh() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  }

  function render() {
    scheduled = false;
    const rows = client.cache.findAll({})
      .sort((a, b) => a.queryHash.localeCompare(b.queryHash))
      .map((q) => row(q, touches.get(q.queryHash)));
    root.tBodies[0].replaceChildren(...rows);
  }

  function row(q, t) {
    const s = q.state;
    const flags = el("td", { className: "flags" },
      flag(s.isStale ? "stale" : "fresh", s.isStale ? "stale" : "fresh"),
      s.isFetching ? flag("fetching", "fetching") : "",
      s.isInvalidated ? flag("invalidated", "invalidated") : "");
    const layers = new Set(client.pendingMutations(q.queryKey).map((l) => l.id)).size;
    if (layers) flags.append(flag("layered", `${layers} optimistic`));
    const tr = el("tr", {},
      el("td", {}, el("code", { textContent: JSON.stringify(q.queryKey) })),
      el("td", {}, el("span", { className: `qstatus qstatus-${s.status}`, textContent: s.status })),
      flags,
      el("td", { className: "num-left", textContent: s.dataUpdatedAt ? age(s.dataUpdatedAt) : "–" }),
      el("td", {}, t ? el("span", { className: `touch touch-${t.last}`, textContent: `${t.last} ${age(t.at)} ago` }) : el("span", { className: "muted", textContent: "fetched only" })),
      el("td", { className: "num", textContent: String(t?.patched ?? 0) }),
      el("td", { className: "num", textContent: String(t?.invalidated ?? 0) }));
    tr.dataset.key = q.queryHash;
    tr.dataset.last = t?.last ?? "";
    return tr;
  }

  const flag = (kind, text) => el("span", { className: `flag flag-${kind}`, textContent: text });

  setInterval(refresh, 500); // ages, and fetches that end between two events
  render();
  return refresh;
}

/** TanStack's `hashKey` (JSON with sorted object keys): the `queryHash` of `findAll`. */
function hashKey(key) {
  return JSON.stringify(key, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v);
}
