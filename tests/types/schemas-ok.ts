// connect({ schemas }): the payload types come from the schemas themselves, JSON Schema
// literals and Standard Schema validators (zod) alike; no separate Listen/Emit maps.
import { connect, type FromJsonSchema } from "../../pkg/index.js";
import { z } from "zod";

const client = connect({
  url: "http://127.0.0.1:3000",
  catalog: false,
  schemas: {
    listen: {
      "order:status_update": {
        type: "object",
        properties: {
          orderId: { type: "string" },
          status: { enum: ["placed", "delivered"] },
          eta: { type: ["number", "null"] },
          lines: { type: "array", items: { type: "object", properties: { sku: { type: "string" } }, required: ["sku"] } },
        },
        required: ["orderId", "status"],
      },
      "chat:message": z.object({ id: z.string(), text: z.string() }),
      "anything:goes": true,
    },
    emit: {
      "note:add": { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"], additionalProperties: false },
      "chat:send": z.object({ text: z.string() }).transform((o) => o.text.length),
    },
  },
});

client.on("order:status_update", (p) => {
  const id: string = p.orderId;
  const status: "placed" | "delivered" = p.status;
  const eta: number | null | undefined = p.eta;
  const sku: string | undefined = p.lines?.[0]?.sku;
  // @ts-expect-error: not in the schema
  p.message;
  // @ts-expect-error: optional, so maybe undefined
  const sure: number | null = p.eta;
  void [id, status, eta, sku, sure];
});
client.on("chat:message", (m) => {
  const text: string = m.text;
  void text;
});
client.on("anything:goes", (x) => {
  // @ts-expect-error: `true` accepts anything, typed unknown
  x.foo;
});
client.emit("note:add", { text: "x" });
// @ts-expect-error: text must be a string
client.emit("note:add", { text: 1 });
client.emit("chat:send", { text: "input type, not the transform's output" });
// @ts-expect-error: catalog: false, and not declared
client.on("feed:new_post", () => {});
client.outbox.enqueue("note:add", { text: "queued" });

// With the catalog on (the default), undeclared catalog events keep the catalog's types.
const withCatalog = connect({
  url: "http://127.0.0.1:3000",
  schemas: { listen: { "order:status_update": { type: "object", properties: { orderId: { type: "string" } }, required: ["orderId"] } } },
});
withCatalog.on("feed:new_post", (post) => {
  const author: string = post.userId;
  void author;
});
// Emits are not declared there: the catalog's and any other name, as without schemas.
withCatalog.emit("cart:add_line", { sku: "A1" });
withCatalog.on("order:status_update", (p) => {
  const id: string = p.orderId;
  // @ts-expect-error: the app's schema replaced the catalog's, which had `message`
  p.message;
  void id;
});

// `type: ["null"]` is null only.
const onlyNull = { type: ["null"] } as const;
const n: FromJsonSchema<typeof onlyNull> = null;
// @ts-expect-error: not null
const notNull: FromJsonSchema<typeof onlyNull> = 1;
void [n, notNull];

// The helper type on its own.
const point = { type: "object", properties: { x: { type: "number" }, y: { type: "number" } }, required: ["x"] } as const;
const p: FromJsonSchema<typeof point> = { x: 1 };
// @ts-expect-error: x is required
const q: FromJsonSchema<typeof point> = { y: 1 };
void [p, q];
