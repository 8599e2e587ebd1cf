#!/usr/bin/env node
// wiresync query cache benchmark, side by side with @tanstack/query-core (see README.md,
// "Query cache"): with N = 1,000 / 10,000 / 100,000 orders queries (+ N/5 feed queries) in both
// caches, the median µs per call of
//   (a)  invalidateQueries({ queryKey: ["orders", "123"], refetchType: "none" })   2 matches
//   (b)  invalidateQueries({ queryKey: ["feed"], refetchType: "none" })            N/5 matches
//   (b') the same as (b) with fresh (not yet invalidated) matches before every call
//   (c)  setQueryData(["orders", "42"], {...}) on the existing key
// and the fill time, all in ONE headless Chromium page (cache.html + cache-page.mjs).
//
//   node benches/cache.mjs [--sizes 1000,10000,100000] [--budget MS] [--rounds R]
//                          [--min-samples S] [--no-fresh] [--max-prep S] [--fill-limit S]
//                          [--timeout S]
//
// Environment: CACHE_SIZES, CACHE_BUDGET_MS, BENCH_TIMEOUT (seconds), CHROMIUM (default
// /usr/bin/chromium). Flags win over the environment. Progress goes to stderr, the result
// table to stdout. Exit code 0 on success, 1 on failure.

import fs from "node:fs";
import path from "node:path";
import {
  cli,
  BENCH_DIR,
  PKG,
  TESTS,
  WIRESYNC_FILES,
  packageFile,
  cleanup,
  fixed,
  installExitHandlers,
  int,
  launchChromium,
  requireTests,
  runPage,
  sleep,
  startStaticServer,
  withTimeout,
} from "./lib.mjs";

const log = (...a) => console.error("[cache]", ...a);
const esbuild = requireTests("esbuild");
const QC_VERSION = requireTests("@tanstack/query-core/package.json").version;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function usage(exitCode) {
  const text = `usage: node benches/cache.mjs [options]

  --sizes A,B,C      orders queries per run, each a multiple of 5, ≥ 125 (default
                     1000,10000,100000; env CACHE_SIZES); N/5 feed queries and one
                     ["orders", "123", "items"] come on top
  --budget MS        sampling time per operation, client and size (default 1200;
                     env CACHE_BUDGET_MS); calibration and warm-up come on top
  --rounds R         chunks the budget is taken in, alternating the clients (default 4)
  --min-samples S    samples per operation and client at least, even over budget (default 7)
  --no-fresh         skip row (b'), the invalidation of fresh matches
  --max-prep S       skip (b') at an N where re-setting the N/5 feed queries for every
                     sample would take longer than S seconds in all, estimated from (c)
                     (default 20)
  --fill-limit S     stop a fill that takes, or is projected to take, longer than S
                     seconds; nothing is timed at that N (default 60; 0: no limit)
  --timeout S        bound on the whole page run, seconds (default 600; env BENCH_TIMEOUT)
  --help`;
  (exitCode ? console.error : console.log)(text);
  process.exit(exitCode);
}

const { parseArgs, positiveInt } = cli(usage);

function parseOptions(argv) {
  const env = process.env;
  const o = {
    sizes: env.CACHE_SIZES ?? "1000,10000,100000",
    budget: env.CACHE_BUDGET_MS ?? "1200",
    rounds: "4",
    minSamples: "7",
    fresh: true,
    maxPrep: "20",
    fillLimit: "60",
    timeout: env.BENCH_TIMEOUT ?? "600",
  };
  parseArgs(argv, o, {
    values: { "--sizes": "sizes", "--budget": "budget", "--rounds": "rounds", "--min-samples": "minSamples", "--max-prep": "maxPrep", "--fill-limit": "fillLimit", "--timeout": "timeout" },
    flags: { "--no-fresh": ["fresh", false] },
  });
  const sizes = o.sizes.split(",").map((s) => positiveInt("--sizes / CACHE_SIZES", s.trim().replaceAll("_", "")));
  for (const n of sizes) {
    if (n < 125 || n % 5) {
      console.error(`--sizes: each N must be a multiple of 5 and at least 125, got ${n}`);
      usage(1);
    }
  }
  return {
    sizes,
    budgetMs: positiveInt("--budget / CACHE_BUDGET_MS", o.budget),
    rounds: positiveInt("--rounds", o.rounds),
    minSamples: positiveInt("--min-samples", o.minSamples),
    fresh: o.fresh,
    maxPrepMs: positiveInt("--max-prep", o.maxPrep) * 1000,
    fillLimitMs: o.fillLimit === "0" ? 0 : positiveInt("--fill-limit", o.fillLimit) * 1000,
    timeoutMs: positiveInt("--timeout / BENCH_TIMEOUT", o.timeout) * 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// Page assets
// ---------------------------------------------------------------------------------------------

/**
 * pkg/ read once into memory, so that a build running meanwhile (scripts/build.sh deletes and
 * rewrites pkg/) cannot hand the page half a package: two reads 300 ms apart must agree.
 */
async function snapshotPkg(timeoutMs = 60000) {
  const read = () => {
    const files = {};
    for (const f of WIRESYNC_FILES) files[f] = fs.readFileSync(path.join(PKG, f));
    return files;
  };
  const end = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < end) {
    try {
      const a = read();
      await sleep(300);
      const b = read();
      if (WIRESYNC_FILES.every((f) => a[f].equals(b[f]))) {
        if (!a["client.js"].toString().includes("class Cache")) {
          throw new Error("pkg/client.js has no Cache class: rebuild with ./scripts/build.sh");
        }
        return { files: a, mtime: fs.statSync(path.join(PKG, "wiresync_bg.wasm")).mtime };
      }
      lastError = new Error("pkg/ changed while it was read (a build running?)");
    } catch (e) {
      if (/no Cache class/.test(e.message)) throw e;
      lastError = e;
    }
    log(`pkg/ not readable yet (${lastError.message.split("\n")[0]}); retrying`);
    await sleep(2000);
  }
  throw new Error(`pkg/ is missing or keeps changing: build it first with ./scripts/build.sh (${lastError?.message})`);
}

/** query-core bundled for the browser, as an app's production build ships it. */
async function queryCoreBundle() {
  const out = await esbuild.build({
    stdin: { contents: 'export { QueryClient } from "@tanstack/query-core";', resolveDir: TESTS, sourcefile: "cache-bench-entry.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    define: { "process.env.NODE_ENV": '"production"' },
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

function resolver(pkgFiles, vendor) {
  return (urlPath) => {
    if (urlPath === "/" || urlPath === "/cache.html") return path.join(BENCH_DIR, "cache.html");
    if (urlPath === "/cache-page.mjs") return path.join(BENCH_DIR, "cache-page.mjs");
    if (urlPath === "/vendor/query-core.js") return { body: vendor, type: "text/javascript; charset=utf-8" };
    const m = packageFile(urlPath);
    if (m?.dir === "pkg" && pkgFiles[m.file]) {
      return { body: pkgFiles[m.file], type: m.file.endsWith(".wasm") ? "application/wasm" : "text/javascript; charset=utf-8" };
    }
    return null;
  };
}

/** POST /progress/<id>: the page's progress lines, logged as they come. */
async function progressRoute(req, res, urlPath, headers) {
  if (req.method !== "POST" || !urlPath.startsWith("/progress/")) return false;
  let body = "";
  req.setEncoding("utf8");
  for await (const d of req) body += d;
  log(body.slice(0, 2000));
  res.writeHead(204, headers).end();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/** µs or ms with about four significant digits. */
function num(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 10000) return int(v);
  if (v >= 100) return fixed(v, 1);
  if (v >= 1) return fixed(v, 2);
  return fixed(v, 3);
}

function ratio(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 100) return `${int(v)}×`;
  if (v >= 10) return `${fixed(v, 1)}×`;
  return `${fixed(v, 2)}×`;
}

const ROWS = [
  { op: "a", label: (s) => `(a) invalidate ["orders","123"] (2 matches)` },
  { op: "b", label: (s) => `(b) invalidate ["feed"] (${int(s.feed)} matches)` },
  { op: "bFresh", label: (s) => `(b') same, matches fresh each call` },
  { op: "c", label: () => `(c) setQueryData(["orders","42"]) existing` },
];

function report({ opts, res, browserVersion, wsVersion, pkgMtime, seconds }) {
  const { env, sizes } = res;
  const L = 46;
  const C = 15;
  console.log(
    `query cache bench, headless Chromium ${browserVersion}, one page ` +
      `(cross-origin isolated ${env.crossOriginIsolated}, performance.now() step ${fixed(env.resolutionUs, 1)} µs, ` +
      `gc between chunks ${env.exposeGc})`,
  );
  console.log(
    `wiresync ${wsVersion} (pkg/ built ${pkgMtime.toISOString().slice(0, 19)}Z, wasm init ${fixed(env.initMs, 1)} ms) ` +
      `vs @tanstack/query-core ${QC_VERSION} (new QueryClient(), esbuild bundle, production)`,
  );
  console.log(
    `queries for N: ["orders", String(i)] for i < N, ["feed", i] for i < N/5, ["orders","123","items"] ` +
      `= N + N/5 + 1 in each cache, same keys and data`,
  );
  console.log();
  console.log(`  ${"".padEnd(L)}${"wiresync".padStart(C)}${"query-core".padStart(C)}${"query-core/wiresync".padStart(22)}`);
  for (const s of sizes) {
    console.log(`N = ${int(s.n)} (${int(s.total)} queries)`);
    const fw = s.fillMs.wiresync;
    const fq = s.fillMs["query-core"];
    const fillCell = (who, ms) => (s.fillAborted?.who === who ? `stopped ${num(ms)}` : num(ms));
    console.log(
      `  ${`fill: setQueryData × ${int(s.total)}, ms in all`.padEnd(L)}${fillCell("wiresync", fw).padStart(C)}` +
        `${fillCell("query-core", fq).padStart(C)}${(s.fillAborted ? "-" : ratio(fq / fw)).padStart(22)}`,
    );
    if (s.fillAborted) {
      const f = s.fillAborted;
      console.log(
        `  ${f.who} fill stopped at ${int(f.done)} of ${int(s.total)} queries after ${fixed(f.ms / 1000, 1)} s: ` +
          `projected ${int(f.projectedMs / 1000)} s in all, over the ${opts.fillLimitMs / 1000} s fill limit ` +
          `(--fill-limit); nothing timed at this N`,
      );
      console.log(`  ${f.who} fill, ms per tenth of the queries: ${f.chunks.map((c) => int(c)).join(", ")}`);
      continue;
    }
    for (const row of ROWS) {
      const cell = s.ops[row.op];
      if (!cell) {
        if (s.skipped?.[row.op]) console.log(`  ${`${row.label(s)}: skipped`.padEnd(L)}  ${s.skipped[row.op]}`);
        continue;
      }
      const w = cell.wiresync.us;
      const q = cell["query-core"].us;
      console.log(`  ${`${row.label(s)}, µs`.padEnd(L)}${num(w).padStart(C)}${num(q).padStart(C)}${ratio(q / w).padStart(22)}`);
    }
  }
  const measured = sizes.filter((s) => s.ops.a && s.ops.c);
  const big = measured.find((s) => s.n === 100000) ?? measured[measured.length - 1];
  console.log();
  if (!measured.some((s) => s.n === 100000)) console.log(`goals: N = 100,000 not measured (see above)`);
  if (big) {
    const ra = big.ops.a["query-core"].us / big.ops.a.wiresync.us;
    const rc = big.ops.c["query-core"].us / big.ops.c.wiresync.us;
    console.log(`goals at N = ${int(big.n)}${big.n === 100000 ? "" : " (the goals are set at N = 100,000)"}:`);
    console.log(`  (a) two-match invalidation ≥ 100× faster than query-core: ${ratio(ra)}, ${ra >= 100 ? "met" : "NOT met"}`);
    console.log(`  (c) setQueryData no slower than query-core (ratio ≥ 1):     ${ratio(rc)}, ${rc >= 1 ? "met" : "NOT met"}`);
  }
  console.log();
  console.log(`spread: µs per call p25–p75 [samples × calls per sample]`);
  for (const s of sizes) {
    for (const row of ROWS) {
      const cell = s.ops[row.op];
      if (!cell) continue;
      const d = (c) => `${num(c.p25)}–${num(c.p75)} [${c.samples}×${c.k}]`;
      console.log(`  N=${String(s.n).padEnd(7)}${row.op.padEnd(7)} wiresync ${d(cell.wiresync).padEnd(28)} query-core ${d(cell["query-core"])}`);
    }
  }
  console.log();
  console.log(
    [
      `Median µs per call. A sample times a batch of calls (sized so a batch takes ≥ 1 ms; 1 call when one`,
      `call already does) and divides; invalidations are awaited one by one, the same for both. Samples are`,
      `taken in ${opts.rounds} chunks per client, alternating which client goes first, ${opts.budgetMs} ms per operation,`,
      `client and N (at least ${opts.minSamples} samples), after warm-up and calibration. (a) and (b) repeat the call on`,
      `already-invalidated queries (query-core then skips each match's dispatch; wiresync redoes it);`,
      `(b') gives the N/5 feed queries new data (not timed) before each single timed call (its values are`,
      `multiples of the performance.now() step). (c) sets a new ~150-byte object each call (query-core:`,
      `structural sharing against the old data; wiresync: JSON).`,
      `Match counts, invalidated flags and data read back are checked in both caches.`,
    ].join("\n"),
  );
  console.log();
  console.log(`total bench time ${fixed(seconds, 1)} s`);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  installExitHandlers(log);
  const started = Date.now();
  const pkg = await snapshotPkg();
  const wsVersion = JSON.parse(fs.readFileSync(path.join(PKG, "package.json"), "utf8")).version;
  log(`bundling @tanstack/query-core ${QC_VERSION}`);
  const vendor = await queryCoreBundle();
  const site = await startStaticServer(resolver(pkg.files, vendor), { route: progressRoute });
  // --expose-gc: the page runs a full GC before each chunk of samples (never inside one).
  const browser = await launchChromium(["--js-flags=--expose-gc"]);
  const browserVersion = browser.version();
  log(`chromium ${browserVersion}, page on ${site.base}, sizes ${opts.sizes.join(", ")}`);

  const id = `cache-${process.pid.toString(36)}${Date.now().toString(36)}`;
  const args = {
    sizes: opts.sizes,
    budgetMs: opts.budgetMs,
    rounds: opts.rounds,
    minSamples: opts.minSamples,
    fresh: opts.fresh,
    maxPrepMs: opts.maxPrepMs,
    fillLimitMs: opts.fillLimitMs,
  };
  const url = `${site.base}/?${new URLSearchParams({ run: id, args: JSON.stringify(args) })}`;
  const res = await runPage(browser, site, { id, url, timeoutMs: opts.timeoutMs, context: "incognito", what: "cache bench page" });

  await cleanup(log);
  report({ opts, res, browserVersion, wsVersion, pkgMtime: pkg.mtime, seconds: (Date.now() - started) / 1000 });
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(`[cache] FAILED: ${e?.stack ?? e}`);
    await withTimeout(cleanup(log), 20000, "cleanup").catch(() => {});
    process.exit(1);
  },
);
