// The size budget (as size-limit does for npm libraries): what an app ships with each entry
// ("wiresync", "wiresync/events" and "wiresync/shared"), gzip -9 (the wasm + the JS entry bundled and minified by
// esbuild), must stay within size-budget.json. Sizes are deterministic for a given build, so this is no timing assertion.
// Reads pkg/ as scripts/build.sh built it (the test command builds it first).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, shippedSize } from "../../benches/lib.mjs";

const budgets = JSON.parse(fs.readFileSync(path.join(ROOT, "size-budget.json"), "utf8"));

for (const [entry, key] of [["default", "defaultEntryGzipBytes"], ["events", "eventsEntryGzipBytes"], ["shared", "sharedEntryGzipBytes"]]) {
  test(`what an app ships with the ${entry} entry (gzip) stays within size-budget.json's ${key}`, async () => {
    const budget = budgets[key];
    assert.ok(Number.isInteger(budget) && budget > 0, `size-budget.json: ${key} must be a positive integer`);
    const { wasm, js, total } = await shippedSize(entry);
    const detail = `wasm ${wasm.gzip} B + JS ${js.gzip} B = ${total.gzip} B gzip, budget ${budget} B`;
    console.log(`# size (${entry}): ${detail}`);
    assert.ok(total.gzip <= budget, `over the size budget: ${detail} (see benches/README.md, "Size")`);
  });
}
