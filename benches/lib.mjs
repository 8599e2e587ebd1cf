// Shared helpers for the bench runners (run.mjs, outbox.mjs) that drive headless Chromium outside
// Playwright's page API (see README.md, "How the pages are driven"): a cleanup registry, the
// socket.io test server as a child process, a static server that also takes the pages' results,
// Chromium, and pages created over a browser-level CDP session.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");
export const TESTS = path.join(ROOT, "tests");
export const PKG = path.join(ROOT, "pkg");
export const HOST = "127.0.0.1";
const SERVER = path.join(TESTS, "servers", "socketio-server.mjs");
/** socket.io-client's browser build, served to the pages as /sio/. */
export const SIO_DIST = path.join(TESTS, "node_modules", "socket.io-client", "dist");
/** What an app ships from pkg/ (the .d.ts files are for the compiler only). */
/** The files of pkg/ that the default entry loads: the wasm, the glue, the entry, the API, and
 *  the glue's own JS snippets (pkg/snippets/, from src/platform/glue.js). */
export const WIRESYNC_FILES = ["wiresync_bg.wasm", "wiresync.js", "index.js", "client.js", "events-client.js", "layers.js", ...snippets()];

/** The pkg/ file (a path relative to pkg/) or socket.io-client dist/ file a URL path names, as
 *  `{ dir: "pkg" | "sio", file }`; null for anything else (no dot segments, no escapes). */
export function packageFile(urlPath) {
  const m = /^\/(pkg|sio)\/((?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*)$/.exec(urlPath);
  return m ? { dir: m[1], file: m[2] } : null;
}

function snippets(dir = "snippets") {
  const full = path.join(PKG, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((d) => {
    const rel = path.posix.join(dir, d.name);
    return d.isDirectory() ? snippets(rel) : [rel];
  });
}

/** `require` for the packages in tests/node_modules (playwright-core, esbuild, ...). */
export const requireTests = createRequire(path.join(TESTS, "package.json"));

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Rejects after `ms` with `what` in the message. */
/**
 * Command-line parsing shared by the bench runners: `--name value` and `--name=value` options,
 * boolean flags, `-h`/`--help`. `usage(code)` prints the runner's usage and exits.
 *   const { parseArgs, positiveInt } = cli(usage);
 *   parseArgs(argv, opts, { values: { "--n": "n" }, flags: { "--no-warmup": ["warmup", false] } });
 */
export function cli(usage) {
  function parseArgs(argv, opts, { values = {}, flags = {} }) {
    for (let i = 0; i < argv.length; i++) {
      let arg = argv[i];
      let value;
      const eq = arg.indexOf("=");
      if (arg.startsWith("--") && eq > 0) {
        value = arg.slice(eq + 1);
        arg = arg.slice(0, eq);
      }
      if (arg === "-h" || arg === "--help") {
        usage(0);
      } else if (Object.hasOwn(values, arg)) {
        if (value === undefined) {
          if (i + 1 >= argv.length) {
            console.error(`${arg} needs a value`);
            usage(1);
          }
          value = argv[++i];
        }
        opts[values[arg]] = value;
      } else if (Object.hasOwn(flags, arg)) {
        const [key, v] = flags[arg];
        opts[key] = v;
      } else {
        console.error(`unknown argument: ${arg}`);
        usage(1);
      }
    }
    return opts;
  }
  function positiveInt(name, raw, { allowZero = false } = {}) {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
      console.error(`${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${JSON.stringify(raw)}`);
      usage(1);
    }
    return v;
  }
  return { parseArgs, positiveInt };
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const int = (v) => Math.round(v).toLocaleString("en-US");
export const fixed = (v, d = 2) => v.toFixed(d);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started is registered and undone on exit, error or signal.
// `log` (default console.error) reports failed steps; the first cleanup() call's log is used.
// ---------------------------------------------------------------------------------------------

const cleanups = [];
let cleaning = null;

/** Registers `fn` to run (last registered first) on cleanup(). */
export function onCleanup(fn) {
  cleanups.push(fn);
}

export function cleanup(log = console.error) {
  if (!cleaning) {
    cleaning = (async () => {
      for (const fn of cleanups.reverse()) {
        try {
          await withTimeout(Promise.resolve().then(fn), 5000, "cleanup step");
        } catch (e) {
          log(`cleanup: ${e.message}`);
        }
      }
    })();
  }
  return cleaning;
}

/** Signals and a closed stdout (`| head`) run the cleanups before exiting. */
export function installExitHandlers(log = console.error) {
  process.stdout.on("error", (e) => {
    if (e.code === "EPIPE") cleanup(log).finally(() => process.exit(0));
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`);
      cleanup(log).finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// socket.io test server (child process)
// ---------------------------------------------------------------------------------------------

/** Starts tests/servers/socketio-server.mjs on a free port: { port, url, child, stderr(), exited() }. */
export async function startSocketIoServer(timeoutMs) {
  const child = spawn(process.execPath, [SERVER], {
    cwd: TESTS,
    env: { ...process.env, SIO_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exited = false;
  const exitPromise = new Promise((resolve) =>
    child.once("exit", (code, sig) => {
      exited = true;
      resolve({ code, sig });
    }),
  );
  // Last resort when this process dies without running the cleanups (e.g. EPIPE on stdout).
  process.once("exit", () => {
    if (!exited) child.kill("SIGKILL");
  });
  onCleanup(async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 2500);
    await exitPromise;
    clearTimeout(killer);
  });

  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-20000);
  });

  const port = await withTimeout(
    new Promise((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d) => {
        out += d;
        const m = /socketio-server listening on ([\d.]+):(\d+)/.exec(out);
        if (m) resolve(Number(m[2]));
      });
      exitPromise.then(({ code, sig }) =>
        reject(new Error(`socketio-server exited (code ${code}, signal ${sig}) before listening:\n${stderr}`)),
      );
    }),
    Math.min(timeoutMs, 30000),
    "socketio-server to listen",
  );
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout.resume();
  return { port, url: `http://${HOST}:${port}`, child, stderr: () => stderr, exited: () => exited };
}

/** GET a control endpoint of the test server, JSON answer. */
export async function control(serverUrl, pathAndQuery, timeoutMs = 30000) {
  const res = await withTimeout(fetch(`${serverUrl}/control/${pathAndQuery}`), timeoutMs, `control/${pathAndQuery}`);
  if (!res.ok) throw new Error(`control/${pathAndQuery}: HTTP ${res.status}`);
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Static server: files, in-memory assets, and POST /result/<id> from the pages
// ---------------------------------------------------------------------------------------------

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".json": "application/json",
};

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => {
      body += d;
      if (body.length > limit) reject(new Error("result body too large"));
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/**
 * Serves on 127.0.0.1 (free port), with COOP/COEP so that performance.now() has fine
 * resolution. `resolve(urlPath)` maps a path to a file name, or to `{ body, type }` for an
 * in-memory asset, or null (404). Pages report with `POST /result/<id>` (JSON, at most
 * `resultLimit` characters); `expect(id)` returns the promise of that report. `route(req, res,
 * urlPath, headers)`, if given, sees every other request first and resolves to true when it
 * answered it. Resolves to { base, expect, forget }.
 */
export async function startStaticServer(resolve, { resultLimit = 16 << 20, route } = {}) {
  const pending = new Map();
  const server = http.createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", `http://${HOST}`).pathname);
    const headers = {
      "Cache-Control": "no-store",
      // Cross-origin isolation: performance.now() gets 5 µs instead of 100 µs resolution.
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
    };
    let m;
    if (req.method === "POST" && (m = /^\/result\/([\w-]+)$/.exec(urlPath))) {
      let parsed;
      try {
        parsed = JSON.parse(await readBody(req, resultLimit));
      } catch (e) {
        parsed = { error: `bad result body: ${e.message}` };
      }
      pending.get(m[1])?.(parsed);
      res.writeHead(204, headers).end();
      return;
    }
    if (route && (await route(req, res, urlPath, headers))) return;
    const target = req.method === "GET" ? resolve(urlPath) : null;
    if (!target) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const send = (data, type) => {
      res.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": data.length });
      res.end(data);
    };
    if (typeof target === "object") {
      send(Buffer.from(target.body), target.type);
      return;
    }
    fs.readFile(target, (err, data) => {
      if (err) {
        res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found");
        return;
      }
      send(data, TYPES[path.extname(target)] ?? "application/octet-stream");
    });
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, HOST, ok);
  });
  onCleanup(
    () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  );
  return {
    base: `http://${HOST}:${server.address().port}`,
    expect: (id) => new Promise((ok) => pending.set(id, ok)),
    forget: (id) => pending.delete(id),
  };
}

// ---------------------------------------------------------------------------------------------
// Chromium and pages
// ---------------------------------------------------------------------------------------------

/** Launches headless Chromium with playwright-core (CHROMIUM, default /usr/bin/chromium). */
export async function launchChromium(extraArgs = []) {
  const { chromium } = requireTests("playwright-core");
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 60000 });
  onCleanup(() => browser.close());
  return browser;
}

/**
 * Opens `url` in a page Playwright does not drive (created over a browser-level CDP session, so
 * nothing instruments it) and resolves with what the page POSTs to /result/<id>. The page is
 * closed afterwards.
 *
 *   context "default":   the browser's default profile (on disk, in Playwright's temporary
 *                        user-data-dir); storage persists across pages of the same origin.
 *   context "incognito": a fresh Target.createBrowserContext (off the record: IndexedDB lives
 *                        in memory), disposed afterwards.
 */
export async function runPage(browser, site, { id, url, timeoutMs, context = "default", what = url }) {
  const cdp = await browser.newBrowserCDPSession();
  let browserContextId;
  let targetId;
  try {
    const result = site.expect(id);
    if (context === "incognito") ({ browserContextId } = await cdp.send("Target.createBrowserContext"));
    ({ targetId } = await cdp.send("Target.createTarget", browserContextId ? { url, browserContextId } : { url }));
    const reply = await withTimeout(result, timeoutMs, what);
    if (reply?.error) throw new Error(`${what} failed in the page: ${reply.error}`);
    return reply.result;
  } finally {
    site.forget(id);
    if (targetId && !browserContextId) {
      await withTimeout(cdp.send("Target.closeTarget", { targetId }), 10000, "close page").catch(() => {});
    }
    if (browserContextId) {
      await withTimeout(cdp.send("Target.disposeBrowserContext", { browserContextId }), 10000, "dispose context").catch(
        () => {},
      );
    }
    await cdp.detach().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Size: what an app ships (run.mjs, size.mjs)
// ---------------------------------------------------------------------------------------------

/** Raw, gzip -9 and brotli (quality 11) byte counts of `buf`. */
export function compressed(buf) {
  return {
    raw: buf.length,
    gzip: zlib.gzipSync(buf, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(buf, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
      },
    }).length,
  };
}

/** Sum of sizes (files served and compressed one by one). */
export function sum(list) {
  return list.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
  });
}

/** esbuild's minified ESM browser bundle of `contents` (resolved from `resolveDir`), as an
 *  app's bundler would make it (ANCHORS.md's method). A `.wasm` behind
 *  `new URL(..., import.meta.url)` stays an asset, counted separately. */
export async function esbuildBundle(contents, resolveDir, external = []) {
  const out = await requireTests("esbuild").build({
    stdin: { contents, resolveDir, sourcefile: "bench-entry.js", loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
    external,
  });
  if (out.outputFiles.length !== 1) throw new Error(`esbuild: expected 1 output, got ${out.outputFiles.length}`);
  return Buffer.from(out.outputFiles[0].contents);
}

/** The package's entries whose size is measured: the JS module and the wasm it loads. */
export const ENTRIES = {
  default: { js: "index.js", wasm: "wiresync_bg.wasm" },
  events: { js: "events.js", wasm: "wiresync_events_bg.wasm" },
  shared: { js: "shared.js", wasm: "wiresync_shared_bg.wasm" },
};

/** What an app ships with an entry (`import init, { connect } from "wiresync"`, or
 *  "wiresync/events"): the wasm as served, plus the JS entry bundled and minified by esbuild
 *  (size.mjs and the size budget test, tests/js/size.test.mjs). Sizes in bytes:
 *  `{ wasm, js, total }`. */
export async function shippedSize(entry = "default", pkgDir = PKG) {
  const wasm = compressed(fs.readFileSync(path.join(pkgDir, ENTRIES[entry].wasm)));
  const js = compressed(await entryBundle(entry, pkgDir));
  return { wasm, js, total: sum([wasm, js]) };
}

/** An entry's JS as an app's bundler ships it: one esbuild-minified module (the wasm stays an
 *  asset next to it). */
export function entryBundle(entry = "default", pkgDir = PKG) {
  return esbuildBundle(`export { default, connect } from "./${ENTRIES[entry].js}";`, pkgDir);
}

/** Exits the runner with a clear message when pkg/ is not built. */
export function requirePkg() {
  for (const f of WIRESYNC_FILES) {
    if (!fs.existsSync(path.join(PKG, f))) throw new Error(`pkg/${f} is missing: build the package first with ./scripts/build.sh`);
  }
}

/**
 * The gate, GET /go/<id>: a page asks for it before starting and is held until the runner
 * releases it (after the CPU times are read). Unknown ids are answered at once. `route` goes to
 * startStaticServer's `route`; `wait(id)` gives `{ arrived, release, close }` for one page.
 */
export function createGate() {
  const pending = new Map();
  return {
    async route(req, res, urlPath, headers) {
      const m = req.method === "GET" && /^\/go\/([\w-]+)$/.exec(urlPath);
      if (!m) return false;
      const go = pending.get(m[1]);
      if (go) {
        go.arrived();
        await go.released;
      }
      res.writeHead(204, headers).end();
      return true;
    },
    wait(id) {
      let release;
      const go = { released: new Promise((r) => (release = r)) };
      const arrived = new Promise((r) => (go.arrived = r));
      pending.set(id, go);
      return { arrived, release, close: () => pending.delete(id) };
    },
  };
}

/** Bounds the whole run: past `maxSeconds` everything is cleaned up and the process fails. */
export function boundRun(maxSeconds, log) {
  const watchdog = setTimeout(() => {
    log(`FAILED: the run took longer than --max-seconds ${maxSeconds}`);
    cleanup(log).finally(() => process.exit(1));
  }, maxSeconds * 1000);
  watchdog.unref();
}

/** The package directory a runner measures: `flag` (e.g. `--pkg DIR`), else the environment's
 *  WIRESYNC_PKG, else pkg/ (PKG). A copy of pkg/ (`cp -r pkg /tmp/pkg-x`) keeps a bench's input
 *  stable while pkg/ is rebuilt. Throws when the default entry's files are not there. */
export function packageDir(flag) {
  const dir = path.resolve(flag || process.env.WIRESYNC_PKG || PKG);
  for (const f of ["index.js", "wiresync.js", "wiresync_bg.wasm"]) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`${path.join(dir, f)} is missing: build the package (./scripts/build.sh) or name a built one with --pkg DIR / WIRESYNC_PKG`);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): CPU time of the server and of Chromium's processes over a run
// ---------------------------------------------------------------------------------------------

const CLK_TCK = 100; // USER_HZ: 100 on every Linux Node supports

/** The kind of process: server, or Chromium's browser / network / renderer / gpu / other. */
function processKind(cmdline) {
  if (cmdline.includes("--type=renderer")) return "renderer";
  if (cmdline.includes("NetworkService")) return "network";
  if (cmdline.includes("--type=gpu-process")) return "gpu";
  if (cmdline.includes("--type=")) return "chromium-other";
  if (cmdline.includes("chromium")) return "browser";
  return null;
}

/**
 * pid -> { kind, ticks } for the server child and the Chromium processes this process started
 * (descendants of this process only: other Chromium instances on the machine are left out).
 */
export function cpuSnapshot(serverPid) {
  let pids;
  try {
    pids = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return null; // not Linux
  }
  const procs = new Map();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const mine = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const snap = new Map();
  for (const [pid, { ticks }] of procs) {
    if (pid === process.pid || !mine(pid)) continue;
    let kind;
    if (pid === serverPid) {
      kind = "server";
    } else {
      try {
        kind = processKind(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
      } catch {
        continue;
      }
    }
    if (kind) snap.set(pid, { kind, ticks });
  }
  return snap;
}

/** CPU ms per process kind between two snapshots (processes that exited meanwhile are lost). */
export function cpuDelta(before, after) {
  if (!before || !after) return null;
  const ms = {};
  for (const [pid, { kind, ticks }] of after) {
    const t0 = before.get(pid)?.ticks ?? 0;
    ms[kind] = (ms[kind] ?? 0) + ((ticks - t0) * 1000) / CLK_TCK;
  }
  return ms;
}
