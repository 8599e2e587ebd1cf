// Type tests: ok.ts must compile (its @ts-expect-error lines must each be errors) and
// must-fail.ts must fail with exactly the two expected errors, schemas-must-fail.ts with its one.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(here, "..", "node_modules", ".bin", "tsc");
const options = ["--strict", "--noEmit", "--target", "ES2022", "--module", "ESNext", "--moduleResolution", "Bundler", "--lib", "ES2022,DOM", "--jsx", "react-jsx"];
const run = (file) => {
  try {
    return { ok: true, out: execFileSync(tsc, [...options, join(here, file)], { encoding: "utf8" }) };
  } catch (e) {
    return { ok: false, out: String(e.stdout) + String(e.stderr) };
  }
};

let failed = 0;
const ok = run("ok.ts");
if (ok.ok) console.log("ok - ok.ts compiles and every @ts-expect-error is an error");
else { failed++; console.log("not ok - ok.ts\n" + ok.out); }

const bad = run("must-fail.ts");
const wrongName = /must-fail\.ts\(8,\d+\): error TS2345/.test(bad.out);
const wrongPayload = /must-fail\.ts\(9,\d+\): error TS2322/.test(bad.out);
if (!bad.ok && wrongName && wrongPayload) console.log("ok - must-fail.ts fails on the wrong event name and the wrong payload");
else { failed++; console.log("not ok - must-fail.ts should fail with TS2345 (line 8) and TS2322 (line 9)\n" + bad.out); }

const badSchema = run("schemas-must-fail.ts");
if (!badSchema.ok && /schemas-must-fail\.ts\(8,\d+\): error TS2322/.test(badSchema.out)) {
  console.log("ok - schemas-must-fail.ts fails: a payload type inferred from a JSON Schema is enforced");
} else {
  failed++;
  console.log("not ok - schemas-must-fail.ts should fail with TS2322 (line 8)\n" + badSchema.out);
}

let total = 3;
for (const [file, what] of [
  ["tanstack-ok.ts", "bindQueryClient takes the real @tanstack/query-core QueryClient"],
  ["readme-ok.ts", "the README's TypeScript snippets compile"],
  ["readme-react.tsx", "the README's React quick start compiles as a .tsx file (Vite, Next.js)"],
  ["readme-next.tsx", "the README's Next.js client component compiles"],
  ["readme-js.tsx", "the README's other snippets compile as TypeScript under --strict"],
  ["react-ok.ts", "wiresync/react hooks are typed (event payloads, outbox may be undefined, query data from queryFn)"],
  ["schemas-ok.ts", "payload types inferred from connect({ schemas }): JSON Schema literals and zod, both directions, with and without the catalog"],
  ["events-ok.ts", "wiresync/events is typed like the full client, without the outbox, the cache or their options"],
]) {
  total++;
  const r = run(file);
  if (r.ok) console.log(`ok - ${file}: ${what}; every @ts-expect-error is an error`);
  else { failed++; console.log(`not ok - ${file}\n` + r.out); }
}

console.log(`${total - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
