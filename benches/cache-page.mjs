// The query cache bench page (cache.html), driven by benches/cache.mjs through its URL:
// /?run=<id>&args=<JSON> runs the whole bench in this one page and POSTs { result } or
// { error } to /result/<id>; progress lines go to POST /progress/<id> between measurements
// (never while a clock runs). Nothing is driven over the DevTools protocol meanwhile.
//
// args: { sizes: [N, ...], budgetMs, rounds, minSamples, targetMs, warmMs, fresh, maxPrepMs,
//         fillLimitMs }
//
// For each N, both caches get the same queries (built before the clock starts):
//   ["orders", String(i)] for i < N, ["feed", i] for i < N/5, and ["orders", "123", "items"],
// each with a small object as data. Then, side by side (the two clients' samples taken in
// alternating chunks, so drift on the machine hits both alike):
//   a   invalidateQueries({ queryKey: ["orders", "123"], refetchType: "none" })   2 matches
//   b   invalidateQueries({ queryKey: ["feed"], refetchType: "none" })            N/5 matches
//   c   setQueryData(["orders", "42"], {...}) on the existing key, a new object each call
//   b'  the same as b, but before each timed call the N/5 feed queries get fresh data (not
//       timed), so no match is already invalidated (query-core skips those); skipped when
//       (c) says the re-setting would take longer than maxPrepMs
// Invalidations are awaited one by one, for both. A fill that takes (or is projected to take)
// longer than fillLimitMs (0: no limit) stops, and nothing is timed at that N.

import init, { connect } from "/pkg/index.js";
import { QueryClient } from "/vendor/query-core.js";

const now = () => performance.now();
const query = new URLSearchParams(location.search);
const RUN = query.get("run");

function progress(text) {
  if (!RUN) return console.log(text);
  fetch(`/progress/${encodeURIComponent(RUN)}`, { method: "POST", body: text }).catch(() => {});
}

/** Full GC when Chromium runs with --js-flags=--expose-gc (cache.mjs does), else a short pause. */
async function settle() {
  if (typeof window.gc === "function") window.gc();
  await new Promise((r) => setTimeout(r, 20));
}

function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The smallest step performance.now() takes here, µs (5 when cross-origin isolated). */
function timerResolutionUs() {
  let min = Infinity;
  let last = now();
  const end = last + 30;
  while (last < end) {
    const t = now();
    if (t !== last) {
      min = Math.min(min, t - last);
      last = t;
    }
  }
  return min * 1000;
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** The keys and data both caches are filled with. */
function dataset(n) {
  const keys = [];
  const data = [];
  for (let i = 0; i < n; i++) {
    keys.push(["orders", String(i)]);
    data.push({ id: String(i), status: "open", total: (i % 997) * 1.25, lines: 1 + (i % 5) });
  }
  const feed = Math.floor(n / 5);
  for (let i = 0; i < feed; i++) {
    keys.push(["feed", i]);
    data.push({ postId: i, userName: `user-${i % 101}`, likes: i % 13 });
  }
  keys.push(["orders", "123", "items"]);
  data.push([{ sku: "A-1", qty: 2 }]);
  return { keys, data, feed, total: keys.length };
}

/** Data objects for the setQueryData rows: the same shape, a different `rev` in each. */
const SET_POOL = Array.from({ length: 1024 }, (_, rev) => ({
  id: "42",
  status: rev % 2 ? "paid" : "open",
  total: 123.45,
  currency: "EUR",
  items: [
    { sku: "A-1", qty: 2 },
    { sku: "B-7", qty: 1 },
  ],
  rev,
}));

const FILTER_A = () => ({ queryKey: ["orders", "123"], refetchType: "none" });
const FILTER_B = () => ({ queryKey: ["feed"], refetchType: "none" });

// ---------------------------------------------------------------------------------------------
// The two caches behind the same few operations
// ---------------------------------------------------------------------------------------------

function makeWiresync() {
  const c = connect({ url: "http://127.0.0.1:1", outbox: false, reconnect: { maxAttempts: 0 } });
  const cache = c.cache;
  return {
    name: "wiresync",
    set: (k, d) => cache.setQueryData(k, d),
    get: (k) => cache.getQueryData(k),
    isInvalidated: (k) => cache.getQueryState(k)?.isInvalidated,
    invA: () => cache.invalidateQueries({ queryKey: ["orders", "123"], refetchType: "none" }),
    invB: () => cache.invalidateQueries({ queryKey: ["feed"], refetchType: "none" }),
    set42: (d) => cache.setQueryData(["orders", "42"], d),
    /** Matches of a filter, from the invalidation's own count (wiresync resolves with it). */
    countOf: async (filters) => cache.invalidateQueries(filters),
    dispose() {
      const removed = cache.removeQueries({});
      c.close();
      return removed;
    },
    state: () => c.state,
  };
}

function makeQueryCore() {
  const qc = new QueryClient();
  const qcache = qc.getQueryCache();
  return {
    name: "query-core",
    set: (k, d) => qc.setQueryData(k, d),
    get: (k) => qc.getQueryData(k),
    isInvalidated: (k) => qc.getQueryState(k)?.isInvalidated,
    invA: () => qc.invalidateQueries({ queryKey: ["orders", "123"], refetchType: "none" }),
    invB: () => qc.invalidateQueries({ queryKey: ["feed"], refetchType: "none" }),
    set42: (d) => qc.setQueryData(["orders", "42"], d),
    countOf: async (filters) => {
      const n = qcache.findAll(filters).length;
      await qc.invalidateQueries(filters);
      return n;
    },
    total: () => qcache.getAll().length,
    dispose() {
      const n = qcache.getAll().length;
      qc.clear();
      return n;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

/** k awaited calls of `op()`, ms. */
async function awaitedBatch(op, k) {
  const t0 = now();
  for (let j = 0; j < k; j++) await op();
  return now() - t0;
}

/** k calls of `op(data)` with a new data object each (the next of SET_POOL after `cursor.at`), ms. */
function setBatch(op, k, cursor) {
  const pool = SET_POOL;
  let at = cursor.at;
  const t0 = now();
  for (let j = 0; j < k; j++) {
    op(pool[at]);
    at = (at + 1) & 1023;
  }
  const dt = now() - t0;
  cursor.at = at;
  return dt;
}

/**
 * Times `entries` ({ who, batch(k) → ms, k?, prep?() }) side by side: warms up (single calls
 * for warmMs, at least 3), calibrates a batch size k per entry so that one batch takes
 * ≥ targetMs (k = 1 when one call already does; fixed when `k` is given), then takes samples (µs per call = batch ms × 1000 / k) in `rounds`
 * chunks per entry, alternating which entry goes first, until each chunk's share of
 * `budgetMs` is spent (and at least `minSamples` per entry in all). `prep`, when given, runs
 * untimed before every batch.
 */
async function sideBySide(entries, { budgetMs, rounds, minSamples, targetMs, warmMs }) {
  for (const e of entries) {
    e.samples = [];
    // Warm-up first (single calls), so that a cold first call does not set the batch size.
    const warmEnd = now() + warmMs;
    let warm = 0;
    do {
      if (e.prep) await e.prep();
      await e.batch(1);
      warm++;
    } while (now() < warmEnd || warm < 3);
    if (!e.k) {
      let k = 1;
      for (;;) {
        // The faster of two batches, so that a GC pause does not shrink k.
        const dt = Math.min(await e.batch(k), await e.batch(k));
        if (dt >= targetMs || k >= 1 << 22) break;
        k = dt <= 0 ? k * 8 : Math.min(k * 8, Math.max(k + 1, Math.ceil((k * targetMs * 1.25) / dt)));
      }
      e.k = k;
    }
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...entries].reverse() : entries;
    for (const e of order) {
      await settle();
      const end = now() + budgetMs / rounds;
      const want = Math.ceil((minSamples * (r + 1)) / rounds);
      do {
        if (e.prep) await e.prep();
        const dt = await e.batch(e.k);
        e.samples.push((dt * 1000) / e.k);
      } while (now() < end || e.samples.length < want);
    }
  }
  const out = {};
  for (const e of entries) {
    out[e.who] = {
      us: quantile(e.samples, 0.5),
      p25: quantile(e.samples, 0.25),
      p75: quantile(e.samples, 0.75),
      min: Math.min(...e.samples),
      samples: e.samples.length,
      k: e.k,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/**
 * Projected time of a whole fill of `total` calls from the chunk times so far (chunks of `step`
 * calls), with a per-call cost a + b·i fitted to the first and the last chunk (b ≥ 0): exact
 * for a constant and for a linearly growing per-call cost (a scan of the cache per call).
 */
function projectFillMs(chunks, step, total) {
  const k = chunks.length;
  const b = Math.max(0, (chunks[k - 1] - chunks[0]) / (step * step * (k - 1)));
  const a = Math.max(0, chunks[0] / step - (b * step) / 2);
  return a * total + (b * total * total) / 2;
}

/**
 * setQueryData for every query of `ds`, ms. With `limitMs`, stops as soon as the fill took
 * longer, or (after 2 of 10 chunks) is projected to: { ms, done, aborted, projectedMs }.
 */
async function fill(lib, ds, log, limitMs) {
  await settle();
  const { keys, data } = ds;
  const total = keys.length;
  const step = Math.ceil(total / 10);
  const chunks = [];
  const t0 = now();
  let tChunk = t0;
  for (let i = 0; i < total; i++) {
    lib.set(keys[i], data[i]);
    if (i % step === step - 1 && i + 1 < total) {
      const t = now();
      chunks.push(t - tChunk);
      tChunk = t;
      const elapsed = t - t0;
      const projectedMs = chunks.length >= 2 ? projectFillMs(chunks, step, total) : elapsed;
      // A slow fill says how far it got (a fire-and-forget fetch, only after 2 s of filling).
      if (elapsed > 2000) {
        log(`  ${lib.name} fill: ${i + 1} of ${total} after ${(elapsed / 1000).toFixed(1)} s, projected ${(projectedMs / 1000).toFixed(0)} s`);
      }
      if (limitMs && (elapsed > limitMs || projectedMs > limitMs)) {
        return { ms: elapsed, done: i + 1, aborted: true, projectedMs, chunks };
      }
    }
  }
  return { ms: now() - t0, done: total, aborted: false };
}

async function oneSize(n, opts, log) {
  const ds = dataset(n);
  const ws = makeWiresync();
  const qc = makeQueryCore();
  const libs = [ws, qc];
  const result = { n, total: ds.total, feed: ds.feed, fillMs: {}, ops: {} };

  for (const lib of libs) {
    const f = await fill(lib, ds, log, opts.fillLimitMs);
    result.fillMs[lib.name] = f.ms;
    if (f.aborted) {
      result.fillAborted = { who: lib.name, done: f.done, ms: f.ms, projectedMs: f.projectedMs, chunks: f.chunks };
      log(
        `N=${n}: ${lib.name} fill stopped at ${f.done} of ${ds.total} queries after ${(f.ms / 1000).toFixed(1)} s ` +
          `(projected ${(f.projectedMs / 1000).toFixed(0)} s > fill limit ${opts.fillLimitMs / 1000} s); nothing timed at this N`,
      );
    } else {
      log(`N=${n}: ${lib.name} filled ${ds.total} queries in ${f.ms.toFixed(1)} ms`);
    }
    result.filled = { ...result.filled, [lib.name]: f.done };
  }
  if (result.fillAborted) {
    ws.dispose();
    qc.dispose();
    await settle();
    return result;
  }

  // Both hold the same queries, and the filters match the same ones in both.
  check(qc.total() === ds.total, `query-core holds ${qc.total()} queries, expected ${ds.total}`);
  for (const lib of libs) {
    for (const k of [ds.keys[0], ds.keys[n - 1], ds.keys[ds.total - 2], ds.keys[ds.total - 1]]) {
      check(JSON.stringify(lib.get(k)) === JSON.stringify(ds.data[ds.keys.indexOf(k)]), `${lib.name} data of ${JSON.stringify(k)}`);
    }
    const a = await lib.countOf(FILTER_A());
    const b = await lib.countOf(FILTER_B());
    check(a === 2, `${lib.name}: ["orders", "123"] matched ${a}, expected 2`);
    check(b === ds.feed, `${lib.name}: ["feed"] matched ${b}, expected ${ds.feed}`);
    check(lib.isInvalidated(["orders", "123", "items"]) === true, `${lib.name}: ["orders", "123", "items"] invalidated`);
    check(lib.isInvalidated(["orders", "124"]) === false, `${lib.name}: ["orders", "124"] not invalidated`);
    check(lib.isInvalidated(["feed", ds.feed - 1]) === true, `${lib.name}: ["feed", ${ds.feed - 1}] invalidated`);
  }

  const m = (entries, what) => {
    log(`N=${n}: timing ${what}`);
    return sideBySide(entries, opts);
  };
  result.ops.a = await m(
    libs.map((l) => ({ who: l.name, batch: (k) => awaitedBatch(l.invA, k) })),
    '(a) invalidate ["orders", "123"]',
  );
  result.ops.b = await m(
    libs.map((l) => ({ who: l.name, batch: (k) => awaitedBatch(l.invB, k) })),
    '(b) invalidate ["feed"]',
  );
  const cursors = new Map(libs.map((l) => [l, { at: 0 }]));
  result.ops.c = await m(
    libs.map((l) => ({ who: l.name, batch: (k) => setBatch(l.set42, k, cursors.get(l)) })),
    '(c) setQueryData(["orders", "42"])',
  );
  for (const l of libs) {
    const last = SET_POOL[(cursors.get(l).at + 1023) & 1023];
    check(JSON.stringify(l.get(["orders", "42"])) === JSON.stringify(last), `${l.name}: ["orders", "42"] holds the last data set`);
  }

  // (b') re-sets the N/5 feed queries before every sample: skipped when (c) says that would
  // take longer than maxPrepMs for a client over warm-up and the minimum of samples.
  const prepEstimateMs = Object.fromEntries(libs.map((l) => [l.name, (result.ops.c[l.name].us * ds.feed) / 1000]));
  const slowest = Math.max(...Object.values(prepEstimateMs));
  if (opts.fresh && slowest * (opts.minSamples + 3) > opts.maxPrepMs) {
    result.skipped = {
      bFresh:
        `fresh data for ${ds.feed} queries before each sample would take ~${(slowest / 1000).toFixed(1)} s ` +
        `(${libs.map((l) => `${l.name} ${(prepEstimateMs[l.name] / 1000).toFixed(2)} s`).join(", ")}, from (c)), ` +
        `over --max-prep ${opts.maxPrepMs / 1000} s for ${opts.minSamples + 3} samples`,
    };
    log(`N=${n}: skipping (b'): ${result.skipped.bFresh}`);
  } else if (opts.fresh) {
    // Fresh feed data before each timed call: every match is valid again when it is invalidated.
    const freshFeed = (l) => {
      let rev = 0;
      return () => {
        rev++;
        for (let i = 0; i < ds.feed; i++) l.set(["feed", i], { postId: i, userName: `user-${i % 101}`, likes: rev });
      };
    };
    result.ops.bFresh = await m(
      libs.map((l) => ({ who: l.name, k: 1, prep: freshFeed(l), batch: (k) => awaitedBatch(l.invB, k) })),
      "(b') invalidate [\"feed\"], fresh matches",
    );
    for (const l of libs) check(l.isInvalidated(["feed", 0]) === true, `${l.name}: ["feed", 0] invalidated after (b')`);
  }
  result.wiresyncState = ws.state().status;
  const removed = ws.dispose();
  const cleared = qc.dispose();
  check(removed === ds.total, `wiresync removeQueries({}) removed ${removed}, expected ${ds.total}`);
  check(cleared === ds.total, `query-core held ${cleared} at the end, expected ${ds.total}`);
  await settle();
  return result;
}

async function bench(args) {
  const opts = {
    sizes: args.sizes ?? [1000, 10000, 100000],
    budgetMs: args.budgetMs ?? 1200,
    rounds: args.rounds ?? 4,
    minSamples: args.minSamples ?? 7,
    targetMs: args.targetMs ?? 1,
    warmMs: args.warmMs ?? 60,
    fresh: args.fresh ?? true,
    maxPrepMs: args.maxPrepMs ?? 20000,
    fillLimitMs: args.fillLimitMs ?? 60000,
  };
  const t0 = now();
  await init();
  const initMs = now() - t0;
  const env = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: self.crossOriginIsolated,
    resolutionUs: timerResolutionUs(),
    exposeGc: typeof window.gc === "function",
    initMs,
  };
  progress(
    `page ready: wasm init ${initMs.toFixed(1)} ms, crossOriginIsolated ${env.crossOriginIsolated}, ` +
      `performance.now() step ${env.resolutionUs.toFixed(1)} µs, gc() ${env.exposeGc}`,
  );
  const sizes = [];
  for (const n of opts.sizes) {
    check(n >= 125 && n % 5 === 0, `N must be a multiple of 5 and ≥ 125 (["orders", "124"] must exist), got ${n}`);
    sizes.push(await oneSize(n, opts, progress));
  }
  return { env, opts, sizes };
}

window.bench = bench;
window.benchReady = true;

if (RUN) {
  const post = (body) => fetch(`/result/${encodeURIComponent(RUN)}`, { method: "POST", body: JSON.stringify(body) });
  (async () => {
    try {
      await post({ result: await bench(JSON.parse(query.get("args") ?? "{}")) });
    } catch (e) {
      await post({ error: String(e?.stack ?? e) });
    }
  })();
}
