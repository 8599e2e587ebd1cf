// Run after `npm install` regenerates package-lock.json here (node fix-lock.mjs).
//
// noxcturnal (a native transform used by @expo/metro-config) has one optional package per
// platform, and the registry this repository installs from only serves the linux-x64 ones. npm
// then leaves the others out of the lock file, and `npm ci` refuses it ("Missing:
// @noxcturnal/noxcturnal-darwin-arm64@ from lock file"). This adds the entries npm writes when
// it can see them: optional, with os/cpu/libc, so `npm ci` skips them on linux-x64 without
// fetching anything. (With the full npm registry `npm install` writes them itself.)
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("./package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const parent = lock.packages["node_modules/noxcturnal"];
if (!parent) throw new Error("noxcturnal is not in the lock file");
let added = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [, os, cpu, abi] = /-(darwin|linux|win32)-(x64|arm64)(?:-(gnu|musl|msvc))?$/.exec(name) ?? [];
  if (!os) throw new Error(`unknown platform package ${name}`);
  lock.packages[key] = {
    version,
    cpu: [cpu],
    ...(abi === "gnu" ? { libc: ["glibc"] } : abi === "musl" ? { libc: ["musl"] } : {}),
    license: "MIT",
    optional: true,
    os: [os],
    engines: { node: ">=18" },
  };
  added++;
}
const [root, ...rest] = Object.entries(lock.packages);
lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => a.localeCompare(b, "en"))]);
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`added ${added} platform entries`);
