// Shortens the names the wasm and its wasm-bindgen glue share (scripts/build.sh runs it after
// `wasm-opt --minify-imports-and-exports-and-modules`). wasm-bindgen names imports like
// `__wbg_send_cd51063ca1be4d0f` and closure shims by their full Rust types (300 characters and
// more); both files carry every name, and the hashes do not compress. wasm-opt renames them in
// the wasm and prints the mapping; this applies the same mapping to the glue:
//   - imports: wasm-opt moves every import into one module with short field names, so the glue's
//     import object becomes that one module, its keys renamed, with the snippet modules'
//     functions (src/platform/glue.js) added under their new names;
//   - exports: every `wasm.<old>` becomes `wasm.<new>`.
// Then it checks the result against the wasm itself and fails loudly on any name left over.
//
//   node scripts/minify-names.mjs <mapping.json> <module.wasm> <glue.js>
import fs from "node:fs";

const [mapFile, wasmFile, glueFile] = process.argv.slice(2);
if (!glueFile) {
  console.error("usage: node scripts/minify-names.mjs <mapping.json> <module.wasm> <glue.js>");
  process.exit(2);
}
const fail = (why) => {
  console.error(`minify-names: ${why}`);
  process.exit(1);
};
const map = JSON.parse(fs.readFileSync(mapFile, "utf8"));
const mod = new WebAssembly.Module(fs.readFileSync(wasmFile));
const imports = WebAssembly.Module.imports(mod);
const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
const modules = [...new Set(imports.map((i) => i.module))];
if (modules.length !== 1) fail(`expected the wasm's imports in one module, found ${modules.join(", ")}`);
const [target] = modules;
const ident = /^[A-Za-z_$][\w$]*$/;

let js = fs.readFileSync(glueFile, "utf8");
const word = (name) => new RegExp(`(?<![\\w$])${name.replace(/\$/g, "\\$")}(?![\\w$])`, "g");

// The glue's import object: `return { __proto__: null, "<module>": importN, ... };`
const ret = /return \{\s*__proto__: null,((?:\s*"[^"]+": import\d+,)+)\s*\};/.exec(js);
if (!ret) fail("the glue's import object was not found (did wasm-bindgen's glue change?)");
const moduleVars = Object.fromEntries([...ret[1].matchAll(/"([^"]+)": (import\d+)/g)].map((m) => [m[1], m[2]]));
// wasm-bindgen's own imports come from "./<name>_bg.js"; the others are snippet modules.
const mainModule = Object.keys(moduleVars).find((m) => /^\.\/[\w-]+_bg\.js$/.test(m));
if (!mainModule) fail("the glue has no ./<name>_bg.js imports");
const main = moduleVars[mainModule];

const added = [];
for (const [module, from, to] of map.imports) {
  if (!ident.test(from) || !ident.test(to)) fail(`unexpected import name ${from} -> ${to}`);
  if (module === mainModule) {
    const before = js;
    js = js.replace(word(from), to);
    if (js === before) fail(`import ${from} not found in the glue`);
  } else {
    if (!moduleVars[module]) fail(`no import object for module ${module}`);
    added.push(`${main}[${JSON.stringify(to)}] = ${moduleVars[module]}.${from};`);
  }
}
js = js.replace(ret[0], `${added.join("\n    ")}\n    return { __proto__: null, ${JSON.stringify(target)}: ${main} };`);

const renamed = new Map(map.exports.map(([from, to]) => [from, to]));
js = js.replace(/(?<![\w$])wasm\.([A-Za-z_$][\w$]*)/g, (all, name) => {
  const to = renamed.get(name);
  if (to === undefined && !exports.has(name)) fail(`the glue uses wasm.${name}, which the wasm does not export`);
  return to === undefined ? all : `wasm.${to}`;
});

// Every import the wasm asks for must be defined in the glue's import object.
for (const { name } of imports) {
  if (!new RegExp(`(?<![\\w$])${name.replace(/\$/g, "\\$")}: function|\\[${JSON.stringify(name).replace(/\$/g, "\\$")}\\] = `).test(js)) {
    fail(`the wasm imports ${name}, which the glue does not define`);
  }
}
fs.writeFileSync(glueFile, js);
console.log(`[build] names: ${map.imports.length} imports and ${map.exports.length} exports shortened`);
