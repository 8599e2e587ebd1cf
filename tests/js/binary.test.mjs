// Binary payloads (Socket.IO BINARY_EVENT / BINARY_ACK), both ways, against the real socket.io
// test server in Chromium: Buffers the server emits reach handlers as ArrayBuffers with the
// same bytes; ArrayBuffers, typed arrays and Blobs nested anywhere in an emit reach the server
// intact; binary acks both ways; malformed binary packets are typed errors and the
// connection stays up.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { control, startFixtures, stopFixtures, until, withWaitFor } from "./harness.mjs";

let browser, site, sio, page;

before(async () => {
  ({ sio, site, browser } = await startFixtures());
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(page);
  await page.goto(site.url + "/");
  await page.evaluate(async (sioUrl) => {
    const mod = await import("/index.js");
    await mod.default();
    window.bytes = (x) => Array.from(x instanceof ArrayBuffer ? new Uint8Array(x) : x);
    window.client = mod.connect({ url: sioUrl, auth: { token: "good" }, outbox: { name: `binary-${Date.now()}` } });
    window.errors = [];
    client.onError((e) => errors.push({ code: e.code, event: e.event, message: e.message }));
    await waitFor(() => client.state.status === "open");
  }, sio.url);
});

after(() => stopFixtures({ sio, site, browser }));

test("the server's Buffers, nested in objects and arrays, reach the handler as ArrayBuffers with the same bytes", async () => {
  await page.evaluate(() => {
    window.files = [];
    client.on("file:nested", (p, meta) => files.push({ p, args: meta.args }));
  });
  await control(sio.url, "binary?event=file:nested&shape=nested");
  await until("the binary event", () => page.evaluate(() => files.length === 1));
  const r = await page.evaluate(() => {
    const { p, args } = files[0];
    return {
      id: p.id,
      types: [p.image, p.parts[0], p.parts[1].deep].map((x) => x instanceof ArrayBuffer),
      bytes: [bytes(p.image), bytes(p.parts[0]), bytes(p.parts[1].deep)],
      second: args[1],
      argc: args.length,
    };
  });
  assert.deepEqual(r, { id: "f1", types: [true, true, true], bytes: [[1, 2, 3], [4, 5], [6]], second: "second", argc: 2 });
});

test("emit with an ArrayBuffer, a Uint8Array, a DataView and a Blob nested anywhere: the server gets the same bytes", async () => {
  await control(sio.url, "reset");
  await page.evaluate(() => {
    const buf = new Uint8Array([10, 11, 12]).buffer;
    client.emit("upload:file", {
      name: "a.png",
      data: buf,
      parts: [new Uint8Array([1, 2]), { view: new DataView(new Uint8Array([7, 8, 9]).buffer, 1, 2) }],
      blob: new Blob([new Uint8Array([42, 43])]),
      when: new Date(0),
    }, new Uint16Array([258]));
  });
  const got = await until("the server received the upload", async () =>
    (await control(sio.url, "stats")).received.find((m) => m.event === "upload:file"));
  const [payload, second] = got.args;
  assert.equal(payload.name, "a.png");
  assert.deepEqual(payload.data, { type: "Buffer", data: [10, 11, 12] });
  assert.deepEqual(payload.parts[0], { type: "Buffer", data: [1, 2] });
  assert.deepEqual(payload.parts[1].view, { type: "Buffer", data: [8, 9] });
  assert.deepEqual(payload.blob, { type: "Buffer", data: [42, 43] });
  assert.equal(payload.when, "1970-01-01T00:00:00.000Z");
  assert.deepEqual(second, { type: "Buffer", data: [2, 1] }, "a Uint16Array's bytes, little-endian");
});

test("emitWithAck with binary: the server's binary ack resolves with ArrayBuffers; the client answers the server's ack request with binary", async () => {
  const r = await page.evaluate(async () => {
    const [echoed] = await Promise.all([client.emitWithAck("echo", { file: new Uint8Array([5, 6, 7]), note: "hi" })]);
    client.on("server:file-question", (q, meta) => meta.ack({ answer: new Uint8Array([9, 8]), to: q.q }));
    return { note: echoed.note, isBuffer: echoed.file instanceof ArrayBuffer, bytes: bytes(echoed.file) };
  });
  assert.deepEqual(r, { note: "hi", isBuffer: true, bytes: [5, 6, 7] });
  const asked = await control(sio.url, "ask?event=server:file-question");
  assert.deepEqual(asked.answers, [{ answer: { type: "Buffer", data: [9, 8] }, to: "eta?" }]);
});

test("malformed binary packets are DECODE_ERRORs, the connection stays up, later events arrive", async () => {
  await page.evaluate(() => {
    errors.length = 0;
    window.after_ = [];
    client.on("x:bin", () => after_.push("x:bin handler ran"));
    client.on("x:after", (p) => after_.push(p));
  });
  const raw = (q) => control(sio.url, `raw?${q}`);
  // (The server recovers sessions: the client strips a last string argument as the offset.)
  // An attachment no packet announced.
  await raw("binary=1");
  // Two attachments announced, one came, then another packet.
  await raw(`frame=${encodeURIComponent('452-["x:bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')}`);
  await raw("binary=1");
  await raw(`frame=${encodeURIComponent('42["x:after","one","o1"]')}`);
  // A placeholder past the attachments.
  await raw(`frame=${encodeURIComponent('451-["x:bin",{"_placeholder":true,"num":3}]')}`);
  await raw("binary=1");
  await raw(`frame=${encodeURIComponent('42["x:after","two","o2"]')}`);
  await until("both later events", () => page.evaluate(() => after_.length === 2));
  const r = await page.evaluate(() => ({ errors, after: after_, status: client.state.status }));
  assert.deepEqual(r.after, ["one", "two"], "no malformed event reached its handler");
  assert.equal(r.status, "open");
  assert.deepEqual(r.errors.map((e) => e.code), ["DECODE_ERROR", "DECODE_ERROR", "DECODE_ERROR"]);
  assert.match(r.errors[0].message, /binary frame of 3 bytes that no packet announced/);
  assert.match(r.errors[1].message, /announced 2 attachments and 1 came/);
  assert.equal(r.errors[1].event, "x:bin");
  assert.match(r.errors[2].message, /placeholder points past/);
});

test("a binary part over the frame limit is FRAME_TOO_LARGE, not sent; a cyclic payload is PAYLOAD_INVALID at once", async () => {
  const r = await page.evaluate(async () => {
    const big = new Uint8Array(1_100_000); // the server's maxPayload is 1,000,000 bytes
    const out = {};
    try {
      client.emit("upload:big", { big });
    } catch (e) {
      out.emit = `${e.code}: ${e.message}`;
    }
    out.ack = await client.emitWithAck("echo", { big }).catch((e) => e.code);
    const cyclic = { bytes: new Uint8Array([1]) };
    cyclic.self = cyclic;
    try {
      client.emit("upload:cyclic", cyclic);
    } catch (e) {
      out.cyclic = e.code;
    }
    out.status = client.state.status;
    return out;
  });
  assert.deepEqual(r, {
    emit: "FRAME_TOO_LARGE: 1100000 bytes is over the 1000000-byte limit",
    ack: "FRAME_TOO_LARGE",
    cyclic: "PAYLOAD_INVALID",
    status: "open",
  });
});

test("the outbox stores binary payloads durably (IndexedDB) and replays them after a reload", async () => {
  const name = `binary-outbox-${Date.now()}`;
  const p = await browser.newPage();
  p.on("pageerror", (e) => console.error("page error:", e));
  await withWaitFor(p);
  await p.goto(site.url + "/");
  // Offline (nothing listens on port 9): the entry is stored with its parts.
  const stored = await p.evaluate(async (name) => {
    const mod = await import("/index.js");
    await mod.default();
    const c = mod.connect({ url: "http://127.0.0.1:9", outbox: { name } });
    const image = new Uint8Array([137, 80, 78, 71]);
    const { id } = await c.outbox.enqueue("chat:attachment", { chatId: "c1", image, thumb: new Blob([new Uint8Array([1, 2])]) });
    const listed = c.outbox.list()[0].payload;
    return { id, image: listed.image instanceof Uint8Array, thumb: listed.thumb instanceof Blob };
  }, name);
  assert.deepEqual({ image: stored.image, thumb: stored.thumb }, { image: true, thumb: true }, "list() shows the parts");
  await p.reload();
  const after = await p.evaluate(async ({ name, sioUrl }) => {
    const mod = await import("/index.js");
    await mod.default();
    // Still offline: what storage gave back, before anything is sent.
    const offline = mod.connect({ url: "http://127.0.0.1:9", outbox: { name } });
    await waitFor(() => offline.outbox.list().length === 1);
    const listed = offline.outbox.list().map((e) => ({ id: e.id, image: Array.from(e.payload.image ?? []) }));
    offline.dispose();
    // Online: delivered.
    window.online = mod.connect({ url: sioUrl, auth: { token: "good" }, outbox: { name } });
    return listed;
  }, { name, sioUrl: sio.url });
  assert.deepEqual(after, [{ id: stored.id, image: [137, 80, 78, 71] }], "read back from IndexedDB with its bytes");
  const applied = await until("delivered after the reload", async () =>
    (await control(sio.url, "outbox/stats")).applied.find((a) => a.id === stored.id), 10_000);
  await p.evaluate(() => online.dispose());
  assert.equal(applied.event, "chat:attachment");
  assert.deepEqual(applied.payload.image, { type: "Buffer", data: [137, 80, 78, 71] });
  assert.deepEqual(applied.payload.thumb, { type: "Buffer", data: [1, 2] });
  assert.equal(applied.payload.chatId, "c1");
  await p.close();
});
