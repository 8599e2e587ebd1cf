// An app's own event schemas (`connect({ schemas, catalog, validate })`): JSON Schemas compiled
// into the Rust validator, and Standard Schema validators (the real zod and valibot from npm,
// bundled for the browser with esbuild), against the real socket.io test server in Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { build } from "esbuild";
import { control, root, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio, page;
const warnings = [];

before(async () => {
  ({ sio, site, browser } = await startFixtures());
  const out = await build({
    stdin: {
      contents: 'export { z } from "zod"; export * as v from "valibot";',
      resolveDir: join(root, "tests"),
      loader: "js",
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
  await page.route("**/validators.js", (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: out.outputFiles[0].text }));
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.wiresync = mod;
    window.validators = await import("/validators.js");
    window.sioUrl = sioUrl;
    /** Connects with `extra` options; `got` collects handler payloads, `errors` the errors. */
    window.open = async (extra, { listen = [], onError = true } = {}) => {
      const client = mod.connect({ url: sioUrl, auth: { token: "good" }, outbox: false, ...extra });
      const t = { client, got: [], errors: [] };
      for (const event of listen) client.on(event, (p) => t.got.push([event, p]));
      if (onError) client.onError((e) => t.errors.push({ code: e.code, event: e.event, message: e.message }));
      await waitFor(() => client.state.status === "open");
      return t;
    };
  }, sio.url);
});

after(() => stopFixtures({ sio, site, browser }));

const emit = (room, event, data) =>
  control(sio.url, `emit?room=${room}&event=${event}&data=${encodeURIComponent(JSON.stringify(data))}`);
const join_ = (name, room) => page.evaluate(([n, r]) => window[n].client.subscribe(r.split(":")[0], { [r.split(":")[0] + "Id"]: r.split(":")[1] }).ready, [name, room]);

/** The order event as the issue's app sends it: no `message`, no `timestamp`. */
const shortStatus = { orderId: "s1", status: "placed" };
const orderSchema = {
  type: "object",
  properties: { orderId: { type: "string" }, status: { enum: ["placed", "delivered"] } },
  required: ["orderId", "status"],
};

test("an app's order:status_update without message/timestamp: dropped by the catalog (one console warning), received with its schema or catalog: false", async () => {
  await page.evaluate(async (schema) => {
    window.plain = await open({}, { listen: ["order:status_update"], onError: false });
    window.declared = await open({ schemas: { listen: { "order:status_update": schema } } }, { listen: ["order:status_update"] });
    window.nocatalog = await open({ catalog: false }, { listen: ["order:status_update"] });
  }, orderSchema);
  for (const name of ["plain", "declared", "nocatalog"]) await join_(name, "order:s1");
  warnings.length = 0;
  await emit("order:s1", "order:status_update", shortStatus);
  await emit("order:s1", "order:status_update", shortStatus);
  await emit("order:s1", "order:status_update", { orderId: "s1", status: "lost" });
  await until("both clients got the events", () =>
    page.evaluate(() => declared.got.length === 2 && nocatalog.got.length === 3));
  const r = await page.evaluate(() => ({
    plain: plain.got.length,
    declared: declared.got,
    declaredErrors: declared.errors,
    nocatalog: nocatalog.got.length,
  }));
  assert.equal(r.plain, 0, "the catalog's schema wants message and timestamp: dropped");
  assert.deepEqual(r.declared, [["order:status_update", shortStatus], ["order:status_update", shortStatus]]);
  assert.deepEqual(r.declaredErrors, [{
    code: "PAYLOAD_INVALID",
    event: "order:status_update",
    message: 'field `status`: "lost" is not one of "placed", "delivered"',
  }]);
  assert.equal(r.nocatalog, 3, "catalog: false checks nothing undeclared");
  const told = warnings.filter((w) => w.includes("order:status_update"));
  assert.equal(told.length, 1, `one warning for three drops of the client without onError: ${JSON.stringify(warnings)}`);
  assert.match(told[0], /field `message` is missing/);
  assert.match(told[0], /connect\(\{ schemas \}\)/);
  assert.match(told[0], /catalog: false/);
  await page.evaluate(() => [plain, declared, nocatalog].forEach((t) => t.client.dispose()));
});

test("a schema that is not valid is an INVALID_ARGUMENT at connect, naming the event and the path", async () => {
  const r = await page.evaluate(() => {
    const tryConnect = (schemas) => {
      try {
        wiresync.connect({ url: "http://127.0.0.1:1", schemas }).dispose();
        return "connected";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    };
    return [
      tryConnect({ listen: { "a:b": { type: "object", properties: { n: { type: "strin" } } } } }),
      tryConnect({ emit: { "a:b": { requried: ["x"] } } }),
      tryConnect({ listne: {} }),
      tryConnect({ listen: { "a:b": 3 } }),
    ];
  });
  assert.deepEqual(r, [
    'INVALID_ARGUMENT: option `schemas.listen["a:b"]`: properties.n.type: unknown type "strin" (did you mean "string"?)',
    'INVALID_ARGUMENT: option `schemas.emit["a:b"]`: unknown keyword `requried` (did you mean `required`?)',
    "INVALID_ARGUMENT: unknown option `schemas.listne` (did you mean `schemas.listen`?)",
    'INVALID_ARGUMENT: option `schemas.listen["a:b"]` must be a JSON Schema object, a boolean or a Standard Schema',
  ]);
});

test("outgoing payloads are checked against the app's schemas: emit throws, emitWithAck and the outbox reject, nothing is sent", async () => {
  await control(sio.url, "reset");
  const r = await page.evaluate(async () => {
    const schema = { type: "object", properties: { text: { type: "string", minLength: 1 }, n: { type: "integer", minimum: 0 } }, required: ["text"], additionalProperties: false };
    const client = wiresync.connect({ url: window.sioUrl, auth: { token: "good" }, schemas: { emit: { "note:add": schema, echo: schema } }, outbox: { name: "schemas-test" } });
    const out = {};
    try { client.emit("note:add", { text: "" }); } catch (e) { out.emit = `${e.code}: ${e.message}`; }
    out.ack = await client.emitWithAck("echo", { text: "x", n: 1.5 }).catch((e) => `${e.code}: ${e.message}`);
    out.enqueue = await client.outbox.enqueue("note:add", { text: "x", extra: 1 }).catch((e) => `${e.code}: ${e.message}`);
    out.pending = client.outbox.status().pending;
    client.dispose();
    return out;
  });
  assert.deepEqual(r, {
    emit: "PAYLOAD_INVALID: field `text`: shorter than 1 characters",
    ack: "PAYLOAD_INVALID: field `n`: 1.5 is not an integer ≥ 0",
    enqueue: "PAYLOAD_INVALID: field `extra` is not allowed",
    pending: 0,
  });
  const stats = await control(sio.url, "stats");
  assert.equal(stats.received.filter((m) => m.event === "note:add").length, 0);
});

test("zod and valibot validators: handlers get their output, refusals come back as PAYLOAD_INVALID with the field path, emits are checked", async () => {
  await page.evaluate(async () => {
    const { z, v } = validators;
    const zStatus = z.object({ orderId: z.string(), status: z.enum(["placed", "delivered"]) }).transform((o) => ({ ...o, upper: o.status.toUpperCase() }));
    const vStatus = v.object({ orderId: v.string(), status: v.picklist(["placed", "delivered"]), items: v.optional(v.array(v.object({ qty: v.number() }))) });
    window.zc = await open({ schemas: { listen: { "order:status_update": zStatus }, emit: { "chat:send_message": z.object({ chatId: z.string(), message: z.string().min(1) }) } } }, { listen: ["order:status_update"] });
    window.vc = await open({ schemas: { listen: { "order:status_update": vStatus } } }, { listen: ["order:status_update"] });
    window.vc.client.on("order:status_update", (p) => window.vc.got.push(["second handler", p])); // one validation for both
  });
  await join_("zc", "order:s2");
  await join_("vc", "order:s2");
  await emit("order:s2", "order:status_update", { orderId: "s2", status: "placed" });
  await emit("order:s2", "order:status_update", { orderId: "s2", status: "placed", items: [{ qty: "2" }] });
  await until("both validators ran", () =>
    page.evaluate(() => zc.got.length === 2 && vc.got.length === 2 && vc.errors.length === 1));
  const r = await page.evaluate(async () => {
    const out = { zgot: zc.got, zerrors: zc.errors, vgot: vc.got, verrors: vc.errors };
    try { zc.client.emit("chat:send_message", { chatId: "c1", message: "" }); } catch (e) { out.emit = `${e.code} (${e.event}): ${e.message}`; }
    out.ack = await zc.client.emitWithAck("chat:send_message", { chatId: 1, message: "hi" }).catch((e) => `${e.code}: ${e.message}`);
    [zc, vc].forEach((t) => t.client.dispose());
    return out;
  });
  const upper = { orderId: "s2", status: "placed", upper: "PLACED" };
  assert.deepEqual(r.zgot, [["order:status_update", upper], ["order:status_update", { ...upper }]], "zod's transform output reaches the handler (unknown keys stripped)");
  assert.deepEqual(r.zerrors, []);
  assert.deepEqual(r.vgot, [
    ["order:status_update", { orderId: "s2", status: "placed" }],
    ["second handler", { orderId: "s2", status: "placed" }],
  ]);
  assert.equal(r.verrors.length, 1, "refused once, for both handlers");
  assert.equal(r.verrors[0].code, "PAYLOAD_INVALID");
  assert.equal(r.verrors[0].event, "order:status_update");
  assert.match(r.verrors[0].message, /^field `items\[0\]\.qty`: /);
  assert.match(r.emit, /^PAYLOAD_INVALID \(chat:send_message\): field `message`: /);
  assert.match(r.ack, /^PAYLOAD_INVALID: field `chatId`: /);
});

test("a Standard Schema that is a function (as arktype's are) is accepted; once() stays armed through a refused payload", async () => {
  await page.evaluate(async () => {
    // A callable validator with `~standard`, shaped as arktype 2 makes them.
    const check = (v) => (typeof v?.orderId === "string" ? { value: v } : { issues: [{ message: "orderId must be a string", path: ["orderId"] }] });
    const callable = Object.assign((v) => v, { "~standard": { version: 1, vendor: "callable", validate: check } });
    window.fc = await open({ schemas: { listen: { "order:status_update": callable } } });
    window.fc.once = [];
    fc.client.once("order:status_update", (p) => fc.once.push(p));
  });
  await join_("fc", "order:s4");
  await emit("order:s4", "order:status_update", { orderId: 4 });
  await emit("order:s4", "order:status_update", { orderId: "s4", n: 1 });
  await emit("order:s4", "order:status_update", { orderId: "s4", n: 2 });
  await until("the valid one delivered", () => page.evaluate(() => fc.once.length === 1 && fc.errors.length === 1));
  await new Promise((r) => setTimeout(r, 200));
  const r = await page.evaluate(() => {
    const out = { once: fc.once, errors: fc.errors.map((e) => e.message) };
    fc.client.dispose();
    return out;
  });
  assert.deepEqual(r.once, [{ orderId: "s4", n: 1 }], "once: the first accepted payload, once");
  assert.deepEqual(r.errors, ["field `orderId`: orderId must be a string"]);
});

test("validate: false checks nothing, Standard Schemas included", async () => {
  await page.evaluate(async () => {
    const { z } = validators;
    window.off_ = await open({ validate: false, schemas: { listen: { "order:status_update": z.object({ never: z.string() }) } } }, { listen: ["order:status_update"] });
  });
  await join_("off_", "order:s3");
  await emit("order:s3", "order:status_update", { orderId: "s3" });
  await until("delivered unchecked", () => page.evaluate(() => off_.got.length === 1));
  const r = await page.evaluate(() => {
    const out = { got: off_.got, errors: off_.errors };
    off_.client.emit("chat:send_message", { anything: true });
    off_.client.dispose();
    return out;
  });
  assert.deepEqual(r.got, [["order:status_update", { orderId: "s3" }]]);
  assert.deepEqual(r.errors, []);
});
