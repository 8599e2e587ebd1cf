// On a server (Next.js prerendering, Node): every entry of the built package imports without
// side effects, init() with no input rejects at once with NOT_IN_BROWSER (no fetch), and
// <RealtimeProvider create> renders its fallback without calling create. Run in a child Node
// process with the package installed as an app has it (node_modules/wiresync).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { root } from "./harness.mjs";

let dir;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wiresync-server-"));
  await mkdir(join(dir, "node_modules"));
  await symlink(join(root, "pkg"), join(dir, "node_modules", "wiresync"));
  for (const dep of ["react", "react-dom", "scheduler"]) {
    await symlink(join(root, "tests", "node_modules", dep), join(dir, "node_modules", dep));
  }
  await writeFile(join(dir, "package.json"), '{ "type": "module" }');
});

after(() => dir && rm(dir, { recursive: true, force: true }));

const probe = `
const calls = [];
for (const name of ["fetch", "setTimeout", "setInterval", "queueMicrotask", "addEventListener"]) {
  const original = globalThis[name];
  globalThis[name] = (...args) => {
    calls.push(name);
    return original?.(...args);
  };
}
globalThis.WebSocket = class { constructor() { calls.push("WebSocket"); } };
const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
const entries = ["wiresync", "wiresync/events", "wiresync/metro", "wiresync/react", "wiresync/tanstack"];
const mods = {};
for (const e of entries) mods[e] = await import(e);
const newGlobals = Object.getOwnPropertyNames(globalThis).filter((g) => !globalsBefore.has(g));
const importCalls = calls.splice(0);

let early;
try {
  mods.wiresync.connect({ url: "http://127.0.0.1:1" });
} catch (e) {
  early = { code: e.code, name: e.name };
}
const inits = {};
for (const e of ["wiresync", "wiresync/events", "wiresync/metro"]) {
  inits[e] = await mods[e].default().then(() => "resolved", (err) => ({ name: err.name, code: err.code, message: err.message, isError: err instanceof Error }));
}
const initCalls = calls.splice(0);

// With the wasm's bytes given, init() loads (no fetch); later calls with no input share it.
const { readFile } = await import("node:fs/promises");
const bytes = await readFile(new URL(import.meta.resolve("wiresync/wiresync_bg.wasm")));
const withBytes = await mods.wiresync.default(bytes).then(() => "loaded", (e) => String(e));
const again = await mods.wiresync.default().then(() => "loaded", (e) => e.code);


const { createElement } = await import("react");
const { renderToString } = await import("react-dom/server");
let created = 0;
const html = renderToString(createElement(mods["wiresync/react"].RealtimeProvider,
  { create: () => { created++; throw new Error("never on the server"); }, fallback: "connecting…" },
  createElement("p", null, "app")));
console.log(JSON.stringify({ newGlobals, importCalls, early, inits, initCalls, html, created, withBytes, again }));
`;

test("on a server: imports have no side effects, init() rejects with NOT_IN_BROWSER without a fetch, the provider renders its fallback", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--preserve-symlinks", "--input-type=module", "-e", probe], {
    cwd: dir,
    timeout: 60_000,
  });
  const r = JSON.parse(stdout.trim().split("\n").at(-1));
  assert.deepEqual(r.newGlobals, [], "no globals added by importing");
  assert.deepEqual(r.importCalls, [], "no fetch, timer, socket or listener while importing");
  assert.deepEqual(r.early, { code: "NOT_INITIALIZED", name: "WiresyncError" }, "connect() before init() says so");
  for (const [entry, got] of Object.entries(r.inits)) {
    assert.equal(got.code, "NOT_IN_BROWSER", `${entry}: ${JSON.stringify(got)}`);
    assert.equal(got.name, "WiresyncError");
    assert.equal(got.isError, true);
    assert.match(got.message, /RealtimeProvider create/);
  }
  assert.deepEqual(r.initCalls, [], "init() fetched nothing and armed no timer");
  assert.equal(r.html, "connecting…");
  assert.equal(r.created, 0, "create is not called on the server");
  assert.equal(r.withBytes, "loaded", "init(bytes) loads outside a browser");
  assert.equal(r.again, "loaded", "a later init() shares that load");
});
